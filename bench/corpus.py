"""A deterministic synthetic corpus with realistic word frequencies, for search benchmarks.

How the text is drawn, and why:

- Running text is about 45% function words ("the of and a in to is for that with ..."), as
  in real English prose; titles are terser (about 15%). Function words follow their own
  Zipf law (1/(rank+1)), so "the" is about 5% of all tokens, as in real text. They make
  documents as long, and position lists as big, as real summaries.
- Content words follow a Zipf-Mandelbrot law, 1/(rank+6)^1.07, over a few hundred real
  research words and many made-up ones (so rare terms exist). The offset keeps the top
  content word near 1% of all tokens, as "learning" is in machine-learning abstracts, instead
  of the 7% a pure Zipf law would give it; it still occurs in most summaries, and the
  ten most frequent content words each occur in more than half of them.
- Queries are what users type, not what documents say: their words are content words
  drawn with a much flatter law, 1/rank^0.5 over the 3,000 most frequent content words
  (function words are not queried alone). Very common words such as "learning" are still
  asked for (about 1% of query words); one query word in five occurs in more than 10%
  of the summaries, one in sixteen in more than half of them. A phrase query is two adjacent title words, preferring
  content words ("residual learning", not "of the").
- Suggestions are prefixes (2-5 characters) of a word of a real title, any word.

The same seed gives the same corpus on every machine.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from backbone.events import PaperRegistered, PaperSnapshot, SummaryPublished, SummaryState

COMMON = (
    "learning network neural model deep training data method results image language attention graph "
    "representation optimization gradient loss performance task convolutional generative adversarial "
    "reinforcement policy reward transformer embedding semantic segmentation detection classification "
    "regression bayesian inference variational latent diffusion sampling noise robust adversarial "
    "transfer domain adaptation supervised unsupervised contrastive self pretraining finetuning benchmark "
    "dataset evaluation accuracy baseline architecture layer residual normalization dropout regularization "
    "stochastic convergence theory bound analysis kernel sparse efficient scalable distributed parallel "
    "memory recurrent sequence translation speech audio video vision text retrieval recommendation causal "
    "fairness privacy federated explanation interpretability uncertainty calibration ensemble pruning "
    "quantization distillation compression search evolutionary meta few shot zero continual lifelong "
    "multimodal cross lingual question answering reasoning knowledge planning control robotics simulation"
).split()
# In order of their frequency in academic English.
FUNCTION = (
    "the of and a in to is for that with on as by we this are be from an it at which their can its these "
    "than more has but not our or also such both each between using while into when only how where however "
    "was were been have they them other all most some two one new show based used well through over under "
    "without within across many different then thus since because whether there here so if do does may "
    "might would should could will any same first second further very much less given often"
).split()
FUNCTION_SHARE = 0.45  # of the words of running text
TITLE_FUNCTION_SHARE = 0.15
CONTENT_OFFSET, CONTENT_EXPONENT = 6, 1.07  # Zipf-Mandelbrot over content words
QUERY_VOCABULARY, QUERY_EXPONENT = 3_000, 0.5  # what users ask for: flatter, content words only
QUERY_KINDS = ("word", "two words", "phrase", "prefix", "word, venue and years", "word -word, newest or score")
VENUES = ("NeurIPS", "ICML", "ICLR", "CVPR", "ICCV", "ECCV", "ACL", "EMNLP", "NAACL", "AAAI", "IJCAI", "KDD",
          "SIGIR", "WWW", "JMLR", "TPAMI", "Nature", "Science", "UAI", "AISTATS")
FIRST = ("Ada", "Alan", "Grace", "Kaiming", "Yann", "Yoshua", "Fei", "Andrew", "Ilya", "Oriol", "Jia", "Wei",
         "Maria", "Chen", "Sara", "Ivan", "Olga", "Raj", "Aisha", "Tomas")
LAST = ("Lovelace", "Turing", "Hopper", "He", "LeCun", "Bengio", "Li", "Ng", "Sutskever", "Vinyals", "Deng",
        "Zhang", "Garcia", "Wang", "Smith", "Petrov", "Ivanova", "Patel", "Khan", "Mikolov")
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "qu", "ba", "de", "fi", "go", "hu", "ja")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class _Law:
    """Draws from `words` with the given weights."""

    def __init__(self, words: list[str], weights: list[float]) -> None:
        self.words = words
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> str:
        return self.words[bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1])]


class Corpus:
    def __init__(self, seed: int = 7, vocabulary: int = 20_000) -> None:
        self.random = random.Random(seed)
        made_up = ("".join(p) for n in (2, 3, 4) for p in itertools.product(SYLLABLES, repeat=n))
        self.words = list(dict.fromkeys(COMMON)) + list(itertools.islice(made_up, max(vocabulary - len(COMMON), 0)))
        self._content = _Law(self.words, [1.0 / (rank + CONTENT_OFFSET) ** CONTENT_EXPONENT
                                          for rank in range(1, len(self.words) + 1)])
        self._function = _Law(list(FUNCTION), [1.0 / (rank + 1) for rank in range(1, len(FUNCTION) + 1)])
        asked = self.words[:QUERY_VOCABULARY]
        self._asked = _Law(asked, [1.0 / rank ** QUERY_EXPONENT for rank in range(1, len(asked) + 1)])

    def word(self, function_share: float = FUNCTION_SHARE) -> str:
        """A word of running text."""
        if self.random.random() < function_share:
            return self._function.draw(self.random)
        return self._content.draw(self.random)

    def query_word(self) -> str:
        """A word a user searches for."""
        return self._asked.draw(self.random)

    def text(self, n: int, function_share: float = FUNCTION_SHARE) -> str:
        return " ".join(self.word(function_share) for _ in range(n))

    def title(self) -> str:
        return self.text(self.random.randint(4, 10), TITLE_FUNCTION_SHARE).capitalize()

    def papers(self, count: int) -> list[PaperSnapshot]:
        papers = []
        for i in range(count):
            venue = self.random.choice(VENUES)
            papers.append(PaperSnapshot(
                paper_id=f"p{i:07d}", title=self.title(),
                authors=[f"{self.random.choice(FIRST)} {self.random.choice(LAST)}"
                         for _ in range(self.random.randint(1, 5))],
                venue=venue, venue_key=venue.lower(), year=self.random.randint(2000, 2025),
                abstract=self.text(self.random.randint(30, 60)) + ".",
                keywords=[self.word(0.0) for _ in range(3)],
            ))
        return papers

    def summaries(self, papers: list[PaperSnapshot], count: int) -> Iterator[SummaryState]:
        for i in range(count):
            paper = papers[i % len(papers)] if i < len(papers) else self.random.choice(papers)
            created = EPOCH + timedelta(seconds=i * 37)
            sentences = [self.text(self.random.randint(8, 20)).capitalize() + "." for _ in range(
                self.random.randint(5, 14))]
            anonymous = self.random.random() < 0.1
            yield SummaryState(
                summary_id=f"s{i:07d}", paper=paper, author_id=None if anonymous else f"u{i % 5000}",
                author_username=None if anonymous else f"user{i % 5000}", body=" ".join(sentences),
                visibility="public", anonymous=anonymous, hidden=False, deleted=False,
                score=int(self.random.paretovariate(1.5)) - 1, revision=1, created_at=created, updated_at=created,
            )

    def events(self, n_papers: int, n_summaries: int):
        papers = self.papers(n_papers)
        for p in papers:
            yield PaperRegistered(paper=p).envelope(aggregate_id=p.paper_id, aggregate_version=1, producer="bench")
        for s in self.summaries(papers, n_summaries):
            yield SummaryPublished(summary=s).envelope(aggregate_id=s.summary_id, aggregate_version=1,
                                                       producer="bench")

    def _title_phrase(self, title: str) -> str:
        words = title.lower().split()
        pairs = list(zip(words, words[1:])) or [(words[0],)]
        function = set(FUNCTION)
        for most_function_words in (0, 1, 2):
            chosen = [p for p in pairs if sum(w in function for w in p) <= most_function_words]
            if chosen:
                return '"' + " ".join(self.random.choice(chosen)) + '"'
        raise AssertionError("unreachable")

    def queries(self, n: int, papers: list[PaperSnapshot]) -> list[dict]:
        """A fixed mix of QUERY_KINDS, in turn."""
        out = []
        for i in range(n):
            kind = i % len(QUERY_KINDS)
            if kind == 0:
                params = {"q": self.query_word()}
            elif kind == 1:
                params = {"q": f"{self.query_word()} {self.query_word()}"}
            elif kind == 2:
                params = {"q": self._title_phrase(self.random.choice(papers).title)}
            elif kind == 3:
                params = {"q": self.query_word()[:4] + "*"}
            elif kind == 4:
                params = {"q": self.query_word(), "venue": self.random.choice(VENUES).lower(), "year_from": 2010}
            else:
                params = {"q": f"{self.query_word()} -{self.query_word()}",
                          "sort": self.random.choice(["newest", "score"])}
            out.append(params)
        return out

    def prefixes(self, n: int, papers: list[PaperSnapshot]) -> list[str]:
        out = []
        for _ in range(n):
            word = self.random.choice(self.random.choice(papers).title.split())
            out.append(word[: self.random.randint(2, max(2, min(5, len(word))))])
        return out
