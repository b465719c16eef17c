import pickle
import re
from urllib.parse import quote

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from services.papers.domain.identifiers import (
    DBLP_KEY_KINDS,
    MAX_INPUT_LENGTH,
    OLD_ARXIV_ARCHIVES,
    ArxivId,
    InvalidIdentifier,
    normalize_dblp,
    normalize_doi,
    normalize_title,
    parse_arxiv,
    venue_key,
)

# --- InvalidIdentifier -------------------------------------------------------


def test_invalid_identifier_carries_field_and_message():
    error = InvalidIdentifier("identifiers.doi", "not a DOI")

    assert isinstance(error, ValueError)
    assert (error.field, error.message) == ("identifiers.doi", "not a DOI")
    assert str(error) == "identifiers.doi: not a DOI"


def test_invalid_identifier_survives_pickling():
    error = pickle.loads(pickle.dumps(InvalidIdentifier("venue", "blank")))

    assert (error.field, error.message) == ("venue", "blank")


# --- empty and over-long input, for every function ---------------------------

FUNCTIONS_AND_FIELDS = [
    pytest.param(normalize_doi, "identifiers.doi", id="doi"),
    pytest.param(parse_arxiv, "identifiers.arxiv", id="arxiv"),
    pytest.param(normalize_dblp, "identifiers.dblp", id="dblp"),
    pytest.param(venue_key, "venue", id="venue"),
    pytest.param(normalize_title, "title", id="title"),
]


@pytest.mark.parametrize("function, field", FUNCTIONS_AND_FIELDS)
@pytest.mark.parametrize("raw", ["", " ", "\t\n  "], ids=["empty", "space", "whitespace"])
def test_blank_input_is_rejected(function, field, raw):
    with pytest.raises(InvalidIdentifier) as caught:
        function(raw)

    assert caught.value.field == field
    assert "empty" in caught.value.message


@pytest.mark.parametrize("function, field", FUNCTIONS_AND_FIELDS)
def test_over_long_input_is_rejected(function, field):
    with pytest.raises(InvalidIdentifier) as caught:
        function("a" * (MAX_INPUT_LENGTH + 1))

    assert caught.value.field == field
    assert "too long" in caught.value.message


def test_input_of_exactly_the_maximum_length_is_accepted():
    doi = "10.1109/" + "a" * (MAX_INPUT_LENGTH - len("10.1109/"))

    assert normalize_doi(doi) == doi
    assert normalize_title("b" * MAX_INPUT_LENGTH) == "b" * MAX_INPUT_LENGTH


# --- DOI ---------------------------------------------------------------------

VALID_DOIS = [
    ("10.1109/CVPR.2016.90", "10.1109/cvpr.2016.90"),
    ("10.1109/CVPR.2016.90".upper(), "10.1109/cvpr.2016.90"),
    ("  10.1109/CVPR.2016.90\n", "10.1109/cvpr.2016.90"),
    ("doi:10.1109/CVPR.2016.90", "10.1109/cvpr.2016.90"),
    ("DOI: 10.1109/CVPR.2016.90", "10.1109/cvpr.2016.90"),
    ("https://doi.org/10.1109/CVPR.2016.90", "10.1109/cvpr.2016.90"),
    ("HTTPS://DOI.ORG/10.1109/CVPR.2016.90", "10.1109/cvpr.2016.90"),
    ("http://dx.doi.org/10.1109/CVPR.2016.90", "10.1109/cvpr.2016.90"),
    ("https://dx.doi.org/10.1109/CVPR.2016.90", "10.1109/cvpr.2016.90"),
    ("10.1038/nature14539", "10.1038/nature14539"),
    ("10.12345678/x", "10.12345678/x"),
    ("10.123456789/x", "10.123456789/x"),
    ("10.1000.10/ABC", "10.1000.10/abc"),
    ("10.1000.10.2/abc", "10.1000.10.2/abc"),
    ("10.1145/3442188.3445922", "10.1145/3442188.3445922"),
    ("10.1007/978-3-319-46493-0_38", "10.1007/978-3-319-46493-0_38"),
    # URL forms are percent-decoded; bare DOIs are taken literally.
    (
        "https://doi.org/10.1002/(SICI)1097-4571(199806)49:8%3C693::AID-ASI4%3E3.0.CO;2-0",
        "10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-0",
    ),
    ("https://doi.org/10.1000/a%2Fb", "10.1000/a/b"),
    ("10.1000/a%2Fb", "10.1000/a%2fb"),
]


@pytest.mark.parametrize("raw, expected", VALID_DOIS, ids=[raw for raw, _ in VALID_DOIS])
def test_normalize_doi_accepts(raw, expected):
    assert normalize_doi(raw) == expected


INVALID_DOIS = [
    "garbage",
    "10.1109",
    "10.1109/",
    "10.123/abc",
    "10.1234567890/abc",
    "11.1109/abc",
    "10.abcd/abc",
    "10.1109./abc",
    "10.1109/CVPR 2016",
    "10.1109/cvpr\x00",
    "doi:",
    "https://doi.org/",
    "https://doi.org/10.1109/a%20b",
    "https://example.org/10.1109/CVPR.2016.90",
    "ftp://doi.org/10.1109/CVPR.2016.90",
    "urn:doi:10.1109/CVPR.2016.90",
    "1512.03385",
]


@pytest.mark.parametrize("raw", INVALID_DOIS)
def test_normalize_doi_rejects(raw):
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_doi(raw)

    assert caught.value.field == "identifiers.doi"
    assert "DOI" in caught.value.message


# --- arXiv -------------------------------------------------------------------

VALID_ARXIV = [
    ("1512.03385v2", "1512.03385", 2),
    ("1512.03385", "1512.03385", None),
    ("arXiv:1512.03385", "1512.03385", None),
    ("ARXIV:1512.03385v2", "1512.03385", 2),
    ("arxiv: 1512.03385", "1512.03385", None),
    (" 1512.03385V2 ", "1512.03385", 2),
    ("https://arxiv.org/abs/1706.03762v7", "1706.03762", 7),
    ("http://arxiv.org/abs/1706.03762", "1706.03762", None),
    ("https://www.arxiv.org/abs/1706.03762", "1706.03762", None),
    ("https://arxiv.org/pdf/1706.03762v7", "1706.03762", 7),
    ("https://arxiv.org/pdf/1706.03762v7.pdf", "1706.03762", 7),
    ("export.arxiv.org/abs/1706.03762", "1706.03762", None),
    ("http://export.arxiv.org/abs/1706.03762v1", "1706.03762", 1),
    ("0704.0001", "0704.0001", None),
    ("1412.9999v3", "1412.9999", 3),
    ("1501.00001", "1501.00001", None),
    ("2401.12345v10", "2401.12345", 10),
    ("1512.03385v02", "1512.03385", 2),
    ("hep-th/9901001", "hep-th/9901001", None),
    ("hep-th/9108001", "hep-th/9108001", None),
    ("math/0703999v4", "math/0703999", 4),
    ("math.GT/0309136v1", "math.GT/0309136", 1),
    ("MATH.GT/0309136", "math.GT/0309136", None),
    ("cs/0112017", "cs/0112017", None),
    ("CS/0112017v1", "cs/0112017", 1),
    ("cond-mat.mes-hall/0101001", "cond-mat.mes-hall/0101001", None),
    ("arXiv:hep-th/9901001v2", "hep-th/9901001", 2),
    ("https://arxiv.org/abs/math.GT/0309136", "math.GT/0309136", None),
    ("https://arxiv.org/pdf/hep-th/9901001v1.pdf", "hep-th/9901001", 1),
]


@pytest.mark.parametrize(
    "raw, base, version", VALID_ARXIV, ids=[raw for raw, _, _ in VALID_ARXIV]
)
def test_parse_arxiv_accepts(raw, base, version):
    assert parse_arxiv(raw) == ArxivId(base=base, version=version)


INVALID_ARXIV = [
    ("garbage", "not an arXiv identifier"),
    ("1513.03385", "month 13"),
    ("1500.03385", "month 00"),
    ("0701.0001", "predates"),
    ("1512.0338", "4-digit"),
    ("1412.12345", "5-digit"),
    ("1512.3385", "4-digit"),
    ("1512.338", "not an arXiv identifier"),
    ("1512.033850", "not an arXiv identifier"),
    ("1512.03385v", "not an arXiv identifier"),
    ("1512.03385v0", "v0"),
    ("1512.03385.pdf", "not an arXiv identifier"),
    ("1512-03385", "not an arXiv identifier"),
    ("foo/9901001", "unknown arXiv archive"),
    ("stat/0601001", "unknown arXiv archive"),
    ("hep-th/990100", "not an arXiv identifier"),
    ("hep-th/99010011", "not an arXiv identifier"),
    ("hep-th/9913001", "month 13"),
    ("hep-th/9001001", "outside"),
    ("hep-th/0704001", "outside"),
    ("hep-th/", "not an arXiv identifier"),
    ("arXiv:", "not an arXiv identifier"),
    ("https://arxiv.org/abs/", "not an arXiv identifier"),
    ("https://example.org/abs/1512.03385", "not an arXiv identifier"),
    ("10.1109/CVPR.2016.90", "not an arXiv identifier"),
]


@pytest.mark.parametrize("raw, reason", INVALID_ARXIV, ids=[raw for raw, _ in INVALID_ARXIV])
def test_parse_arxiv_rejects(raw, reason):
    with pytest.raises(InvalidIdentifier) as caught:
        parse_arxiv(raw)

    assert caught.value.field == "identifiers.arxiv"
    assert reason in caught.value.message


@pytest.mark.parametrize(
    "arxiv_id, text",
    [
        (ArxivId("1512.03385", 2), "1512.03385v2"),
        (ArxivId("1512.03385", None), "1512.03385"),
        (ArxivId("math.GT/0309136", 1), "math.GT/0309136v1"),
    ],
)
def test_arxiv_id_str_appends_the_version(arxiv_id, text):
    assert str(arxiv_id) == text


# --- DBLP --------------------------------------------------------------------

VALID_DBLP = [
    ("journals/corr/HeZRS15", "journals/corr/HeZRS15"),
    ("conf/iclr/RendaFC20", "conf/iclr/RendaFC20"),
    ("conf/cvpr/HeZRS16", "conf/cvpr/HeZRS16"),
    ("phd/dnb/Smith20", "phd/dnb/Smith20"),
    ("books/sp/Knuth97", "books/sp/Knuth97"),
    ("journals/jmlr/SrivastavaHKSS14", "journals/jmlr/SrivastavaHKSS14"),
    ("journals/corr/abs-1512-03385", "journals/corr/abs-1512-03385"),
    ("conf/nips/VaswaniSPUJGKP17", "conf/nips/VaswaniSPUJGKP17"),
    ("homepages/46/5782", "homepages/46/5782"),
    ("homepages/m/AndrewMcCallum", "homepages/m/AndrewMcCallum"),
    ("conf/sigmod/O'Neil97", "conf/sigmod/O'Neil97"),
    ("series/lncs/Smith_2020", "series/lncs/Smith_2020"),
    ("www/org/w3/TR/xhtml1", "www/org/w3/TR/xhtml1"),
    ("  conf/cvpr/HeZRS16\n", "conf/cvpr/HeZRS16"),
    ("dblp:conf/cvpr/HeZRS16", "conf/cvpr/HeZRS16"),
    ("DBLP:conf/cvpr/HeZRS16", "conf/cvpr/HeZRS16"),
    ("https://dblp.org/rec/conf/cvpr/HeZRS16", "conf/cvpr/HeZRS16"),
    ("https://dblp.org/rec/conf/cvpr/HeZRS16.html", "conf/cvpr/HeZRS16"),
    ("https://dblp.org/rec/conf/cvpr/HeZRS16.bib", "conf/cvpr/HeZRS16"),
    ("https://dblp.org/rec/conf/cvpr/HeZRS16.html?view=bibtex", "conf/cvpr/HeZRS16"),
    ("http://dblp.uni-trier.de/rec/conf/cvpr/HeZRS16.xml", "conf/cvpr/HeZRS16"),
    ("https://dblp.org/rec/conf/sigmod/O%27Neil97", "conf/sigmod/O'Neil97"),
    ("conf/cvpr/HeZRS16.html", "conf/cvpr/HeZRS16"),
]


@pytest.mark.parametrize("raw, expected", VALID_DBLP, ids=[raw for raw, _ in VALID_DBLP])
def test_normalize_dblp_accepts(raw, expected):
    assert normalize_dblp(raw) == expected


INVALID_DBLP = [
    ("garbage", "not a DBLP key"),
    ("HeZRS16", "not a DBLP key"),
    ("conf/cvpr", "not a DBLP key"),
    ("conf//HeZRS16", "not a DBLP key"),
    ("conf/cvpr/HeZRS16/", "not a DBLP key"),
    ("/conf/cvpr/HeZRS16", "not a DBLP key"),
    ("conf/cvpr/He ZRS16", "not a DBLP key"),
    ("conf/cvpr/He%ZRS16", "not a DBLP key"),
    ("conf/cvpr/..", "not a DBLP key"),
    ("conf/cvpr/Héléne20", "not a DBLP key"),
    ("https://dblp.org/rec/", "not a DBLP key"),
    ("https://dblp.org/rec/conf/cvpr", "not a DBLP key"),
    ("foo/cvpr/HeZRS16", "start with one of"),
    ("Conf/cvpr/HeZRS16", "start with one of"),
    ("https://example.org/rec/conf/cvpr/HeZRS16", "not a DBLP key"),
]


@pytest.mark.parametrize("raw, reason", INVALID_DBLP, ids=[raw for raw, _ in INVALID_DBLP])
def test_normalize_dblp_rejects(raw, reason):
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_dblp(raw)

    assert caught.value.field == "identifiers.dblp"
    assert reason in caught.value.message


# --- venues ------------------------------------------------------------------

VENUES = [
    ("CVPR", "cvpr"),
    ("cvpr", "cvpr"),
    ("CVPR 2016", "cvpr"),
    ("2016 CVPR", "cvpr"),
    ("CVPR'16", "cvpr"),
    ("CVPR \u201916", "cvpr"),
    ("NeurIPS", "neurips"),
    ("NeurIPS 2019", "neurips"),
    ("International Conference on Learning Representations (ICLR)", "iclr"),
    ("International Conference on Learning Representations (ICLR 2018)", "iclr"),
    ("Advances in Neural Information Processing Systems 32 (NeurIPS 2019)", "neurips"),
    ("Journal of Machine Learning Research (JMLR)", "jmlr"),
    ("Conférence en Recherche d'Information (CORIA)", "coria"),
    ("Conference on Robot Learning (CoRL)", "corl"),
    ("ICLR (2018)", "iclr"),
    ("Interspeech (Online)", "interspeech-online"),
    ("Proceedings of the 29th AAAI Conference", "aaai-conference"),
    ("Proc. of the 1st Workshop on X", "workshop-on-x"),
    ("In: NeurIPS", "neurips"),
    ("EMNLP-IJCNLP 2019", "emnlp-ijcnlp"),
    ("  Computer Vision -- ECCV 2016  ", "computer-vision-eccv"),
    ("Économie & Société", "economie-societe"),
    ("The Web Conference", "web-conference"),
]


@pytest.mark.parametrize("name, expected", VENUES, ids=[name for name, _ in VENUES])
def test_venue_key(name, expected):
    assert venue_key(name) == expected


@pytest.mark.parametrize(
    "name", ["2016", "(2016)", "'16", "!!!", "---", "Proceedings of the", "29th 2016"]
)
def test_venue_key_rejects_names_without_a_name(name):
    with pytest.raises(InvalidIdentifier) as caught:
        venue_key(name)

    assert caught.value.field == "venue"


# --- titles ------------------------------------------------------------------

TITLES = [
    ("Attention Is All You Need", "attention is all you need"),
    ("  Deep   Residual\tLearning for Image Recognition. ", "deep residual learning for image recognition"),
    ("Self-Attention with Relative Position", "self attention with relative position"),
    ("Don't Stop Pretraining", "dont stop pretraining"),
    ("Don\u2019t Stop Pretraining", "dont stop pretraining"),
    ("Über Ångström-Skalen", "uber angstrom skalen"),
    ("STRASSE vs. Straße", "strasse vs strasse"),
    ("\ufb01ne-tuning", "fine tuning"),
    ("\U0001d400ttention", "attention"),
    ("ResNet-50: 3\u00d7 Faster?!", "resnet 50 3 faster"),
    ("BERT: Pre-training of Deep Bidirectional Transformers", "bert pre training of deep bidirectional transformers"),
]


@pytest.mark.parametrize("title, expected", TITLES, ids=[title for title, _ in TITLES])
def test_normalize_title(title, expected):
    assert normalize_title(title) == expected


def test_titles_that_differ_only_in_form_share_a_key():
    variants = [
        "Deep Residual Learning for Image Recognition",
        "deep residual learning for image recognition.",
        "DEEP RESIDUAL LEARNING  FOR IMAGE RECOGNITION",
        "Deep Residual Learning for Image Recognition\u00a0",
    ]

    assert len({normalize_title(v) for v in variants}) == 1


@pytest.mark.parametrize("title", ["?!", "--- ...", "\u2019"])
def test_normalize_title_rejects_titles_without_words(title):
    with pytest.raises(InvalidIdentifier) as caught:
        normalize_title(title)

    assert caught.value.field == "title"


# --- properties: canonical forms are fixed points ---------------------------


def _digits(min_size, max_size):
    return st.text(alphabet="0123456789", min_size=min_size, max_size=max_size)


@st.composite
def _case_shuffled(draw, text):
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips))


_printable_non_space = st.characters(
    exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn")
)


@st.composite
def dois(draw):
    registrant = draw(_digits(4, 9)) + "".join(
        "." + d for d in draw(st.lists(_digits(1, 4), max_size=2))
    )
    suffix = draw(st.text(alphabet=_printable_non_space, min_size=1, max_size=40))
    return f"10.{registrant}/{suffix}"


DOI_PREFIXES = ["", "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/", "HTTPS://DX.DOI.ORG/"]


@given(doi=dois(), prefix=st.sampled_from(DOI_PREFIXES), data=st.data())
def test_normalize_doi_is_idempotent(doi, prefix, data):
    raw = prefix + data.draw(_case_shuffled(doi))

    once = normalize_doi(raw)

    assert normalize_doi(once) == once


@given(doi=dois())
def test_doi_url_form_decodes_to_the_bare_doi(doi):
    url = "https://doi.org/" + quote(doi, safe="/")
    assume(len(url) <= MAX_INPUT_LENGTH)  # percent-encoding multiplies non-ASCII length

    assert normalize_doi(url) == normalize_doi(doi)


@st.composite
def arxiv_ids(draw):
    version = draw(st.none() | st.integers(min_value=1, max_value=999).map(lambda v: f"v{v}"))
    if draw(st.booleans()):
        year = draw(st.integers(min_value=7, max_value=99))
        month = draw(st.integers(min_value=4 if year == 7 else 1, max_value=12))
        digits = 5 if year >= 15 else 4
        base = f"{year:02d}{month:02d}.{draw(_digits(digits, digits))}"
    else:
        archive = draw(st.sampled_from(sorted(OLD_ARXIV_ARCHIVES)))
        subject = draw(st.sampled_from(["", ".GT", ".AI", ".mes-hall", ".CO"]))
        year = draw(st.sampled_from([*range(92, 100), *range(0, 7)]))
        month = draw(st.integers(min_value=1, max_value=12))
        base = f"{archive}{subject}/{year:02d}{month:02d}{draw(_digits(3, 3))}"
    prefix = draw(
        st.sampled_from(
            ["", "arXiv:", "ARXIV:", "https://arxiv.org/abs/", "http://arxiv.org/abs/",
             "export.arxiv.org/abs/", "https://arxiv.org/pdf/"]
        )
    )
    suffix = ".pdf" if prefix.endswith("/pdf/") and draw(st.booleans()) else ""
    return f"{prefix}{base}{version or ''}{suffix}"


@given(raw=arxiv_ids())
def test_parse_arxiv_is_idempotent(raw):
    once = parse_arxiv(raw)

    assert parse_arxiv(str(once)) == once
    assert str(parse_arxiv(str(once))) == str(once)


_DBLP_SEGMENT_CHARS = "abcXYZ019_'.-"


@st.composite
def dblp_keys(draw):
    segment = st.builds(
        lambda head, tail: head + tail,
        st.sampled_from("abcXYZ019"),
        st.text(alphabet=_DBLP_SEGMENT_CHARS, max_size=12),
    ).filter(lambda s: not re.search(r"\.(html|bib|xml)$", s, re.IGNORECASE))
    kind = draw(st.sampled_from(sorted(DBLP_KEY_KINDS)))
    rest = draw(st.lists(segment, min_size=2, max_size=4))
    prefix = draw(st.sampled_from(["", "dblp:", "DBLP:", "https://dblp.org/rec/"]))
    suffix = draw(st.sampled_from(["", ".html", ".bib"])) if prefix.startswith("https") else ""
    return prefix + "/".join([kind, *rest]) + suffix


@given(raw=dblp_keys())
def test_normalize_dblp_is_idempotent(raw):
    once = normalize_dblp(raw)

    assert normalize_dblp(once) == once


@given(name=st.text(max_size=80))
@example(name="\U0001d400")  # mathematical bold A: NFKD gives 'A', which still needs folding
@example(name="\U0001d413HE")  # folds to the noise word 'the'
def test_venue_key_is_idempotent(name):
    try:
        once = venue_key(name)
    except InvalidIdentifier:
        return

    assert venue_key(once) == once


@given(title=st.text(max_size=120))
@example(title="\U0001d400ttention")
def test_normalize_title_is_idempotent(title):
    try:
        once = normalize_title(title)
    except InvalidIdentifier:
        return

    assert normalize_title(once) == once
