"""A corpus of hostile input: script in every text field, oversized and deeply nested JSON,
invalid UTF-8, query-language syntax, path traversal, header injection through redirects,
10 MB bodies and slow clients. Each gets a clear 4xx or is neutralised: never a 5xx, never a
traceback (every response passes `guard`)."""

from __future__ import annotations

import asyncio
import html
import re
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import httpx
import pytest

from tests.api.support import PROBLEM_JSON, assert_problem, guard
from tests.helpers import eventually
from tests.web.conftest import WebClient
from tests.web.test_safety import Elements, assert_no_active_content

ATOM = "{http://www.w3.org/2005/Atom}"

# Each payload tries another way out of the text it is put in: an element, an attribute,
# a URL, a comment, CDATA, a template, a closing tag of the page's own structure.
XSS = [
    "<script>alert('xss1')</script>",
    '"><img src=x onerror=alert("xss2")>',
    "'><svg/onload=alert('xss3')>",
    "</title></textarea></script><script>alert('xss4')</script>",
    "]]><script>alert('xss5')</script><!--",
    "{{7*7}}{% raw %}${7*7}<iframe src=javascript:alert('xss6')>",
]
BODY_XSS = ("[click](javascript:alert('xss7')) <a href=\"javascript:alert('xss8')\">a</a> "
            "<style>@import 'http://evil.example/x.css';</style> <object data=x></object>")


@pytest.fixture
async def client(platform):
    guard(platform.client)
    return platform.client


def no_raw_payload(text: str, where: str) -> None:
    for payload in XSS:
        assert payload not in text, f"{payload!r} reached {where} unescaped"
    assert "xss" not in "".join(re.findall(r"<(?:script|iframe|svg|img|object|style)\b[^>]*>", text)), where


async def test_script_in_every_text_field_is_inert_on_pages_feeds_snippets_and_social_texts(platform, client):
    author = await platform.user()
    moderator = await platform.user(roles={"moderator"})
    summaries = []
    for n, payload in enumerate(XSS):
        paper = await platform.paper(author, title=f"Paper {n} {payload}", authors=[f"Eve {payload}"],
                                     venue=f"Conf {payload}"[:200], abstract=f"Abstract {payload}",
                                     keywords=[f"kw {payload}"[:100]])
        s = await platform.summary(author, paper["id"], body=f"Summary {n} {payload}\n\n{BODY_XSS}")
        r = await client.post(f"/api/v1/summaries/{s['id']}/comments", json={"body": f"Comment {payload}"},
                              headers=author["headers"])
        assert r.status_code == 201, r.text
        summaries.append((paper, s))
    r = await client.post("/api/v1/me/tokens", json={"name": XSS[1][:50]}, headers=author["headers"])
    assert r.status_code in (201, 422), r.text

    async def indexed():
        r = await client.get("/api/v1/search", params={"q": "summary", "size": 50})
        return r.json() if r.json()["total"] == len(XSS) else None

    found = await eventually(indexed)
    for hit in found["hits"]:  # snippets: the text escaped, only the engine's <mark>
        tags = {tag for tag, _ in Elements(hit["snippet"]).elements}
        assert tags <= {"mark"}, hit["snippet"]
    for q in XSS:  # a query with markup: escaped wherever it is echoed
        r = await client.get("/api/v1/search", params={"q": q})
        assert r.status_code in (200, 422) and r.headers["content-type"].startswith(("application/json",
                                                                                      PROBLEM_JSON))

    reader = WebClient(platform.url)
    mod_web = WebClient(platform.url)
    try:
        await mod_web.log_in(moderator["username"])
        paths = ["/", "/venues", "/summaries", f"/users/{author['username']}", "/moderation"]
        for paper, s in summaries:
            paths += [f"/papers/{paper['id']}", f"/summaries/{s['id']}", f"/summaries/{s['id']}/revisions",
                      f"/search?q={quote(paper['title'])}"]
        venues = (await client.get("/api/v1/venues")).json()
        paths += [f"/venues/{v['key']}" for v in venues]
        for path in paths:
            who = mod_web if path == "/moderation" else reader
            r = await who.get(path)
            assert r.status_code in (200, 404), (path, r.status_code)
            assert_no_active_content(r.text)
            no_raw_payload(r.text, path)

        for path in ["/feeds/summaries.atom", *(f"/feeds/venues/{v['key']}.atom" for v in venues)]:
            r = await reader.get(path)
            assert r.status_code == 200, path
            root = ElementTree.fromstring(r.content)  # well-formed whatever the titles held
            for entry in root.iter(f"{ATOM}entry"):
                title = entry.find(f"{ATOM}title")  # plain text, shown as written by feed readers
                assert title.get("type", "text") == "text", title.attrib
                content = entry.find(f"{ATOM}content")
                if content is not None and content.text:
                    assert_no_active_content(content.text)
                    no_raw_payload(content.text, f"{path} content")
    finally:
        await reader.aclose()
        await mod_web.aclose()

    async def posted():
        r = await client.get("/api/v1/social/posts", params={"size": 100}, headers=moderator["headers"])
        items = r.json()["items"]
        return items if len(items) >= len(XSS) else None

    for post in await eventually(posted):  # plain text for X and Facebook: the body's markup is gone
        for markup in ("xss7", "xss8", "<a href", "<style>", "<object"):  # (titles are text as written)
            assert markup not in post["text"], post["text"]


# -- JSON: oversized, deep, strange numbers ---------------------------------------------

DEEP = 50_000
HOSTILE_JSON = [
    pytest.param(b"[" * DEEP + b"]" * DEEP, id="deep-arrays"),
    pytest.param(b'{"a":' * DEEP + b"1" + b"}" * DEEP, id="deep-objects"),
    pytest.param(b'{"title": "T", "authors": ' + b"[" * DEEP + b"]" * DEEP + b"}", id="deep-field"),
    pytest.param(b'{"title": "T", "authors": ["A"], "year": ' + b"9" * 5000 + b"}", id="5000-digit-number"),
    pytest.param(b'{"title": "T", "authors": ["A"], "year": 1e400}', id="overflowing-float"),
    pytest.param(b'{"title": "T", "authors": ["A"], "year": NaN}', id="nan"),
    pytest.param(b'{"title": "T", "authors": ["A"], "year": -Infinity}', id="infinity"),
    pytest.param(b'{"title": "T", "authors": [' + b'"a",' * 60_000 + b'"a"]}', id="60000-authors"),
    pytest.param(b'{"title": "' + b"x" * 250_000 + b'", "authors": ["A"]}', id="250k-title"),
    pytest.param(b'{"title": "T", "title": "U", "authors": ["A"], "authors": 5}', id="duplicate-keys"),
    pytest.param(b'{"title": "\\ud800", "authors": ["A"]}', id="lone-surrogate"),
    pytest.param(b'{"title": "T\\u0000", "authors": ["A\\u0000"]}', id="nul-characters"),
    pytest.param(b'\xef\xbb\xbf{"title": "T", "authors": ["A"]}', id="bom"),
]


@pytest.mark.parametrize("body", HOSTILE_JSON)
async def test_hostile_json_is_a_clear_4xx_or_accepted_cleanly(platform, client, body):
    ada = await platform.user()
    for path in ("/api/v1/papers", "/api/v1/auth/login", "/api/v1/auth/signup"):
        r = await client.post(path, content=body, headers={**ada["headers"], "content-type": "application/json"})
        assert r.status_code < 500
        if r.status_code >= 400:
            assert_problem(r, r.status_code)
        else:
            assert r.status_code == 201 and path == "/api/v1/papers", (path, r.text[:300])
    feed = await client.get("/feeds/summaries.atom")
    ElementTree.fromstring(feed.content)  # whatever was stored, the feed stays well-formed XML


# -- invalid UTF-8 ------------------------------------------------------------------------

INVALID_UTF8 = [b"\xff\xfe\xfd", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"]


@pytest.mark.parametrize("raw", INVALID_UTF8, ids=lambda b: b.hex())
async def test_invalid_utf8_anywhere_is_refused_cleanly(platform, client, raw):
    ada = await platform.user()
    json_body = b'{"title": "' + raw + b'", "authors": ["A"]}'
    r = await client.post("/api/v1/papers", content=json_body,
                          headers={**ada["headers"], "content-type": "application/json"})
    assert_problem(r, r.status_code)
    assert r.status_code in (400, 422)

    escaped = "".join(f"%{b:02X}" for b in raw)
    for path in (f"/api/v1/search?q={escaped}", f"/api/v1/papers/{escaped}", f"/api/v1/summaries/{escaped}",
                 f"/api/v1/papers/lookup?doi={escaped}", f"/search?q={escaped}", f"/papers/{escaped}",
                 f"/users/{escaped}", f"/login?next=/{escaped}"):
        r = await client.get(path)
        assert r.status_code in (200, 400, 404, 422), (path, r.status_code)
        if path.startswith("/api/") and r.status_code >= 400:
            assert_problem(r, r.status_code)

    web = WebClient(platform.url)
    try:
        token = await web.csrf("/login")
        form = b"username=" + raw + b"&password=" + raw + b"&csrf_token=" + token.encode()
        r = await web.http.post("/login", content=form,
                                headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code in (200, 400, 401, 422), r.status_code
        assert "Traceback" not in r.text
    finally:
        await web.aclose()


# -- query languages and ids ---------------------------------------------------------------

QUERY_SYNTAX = [
    "' OR 1=1 --", "'; DROP TABLE papers; --", '" OR ""="', "1) UNION SELECT * FROM users --",
    '"unbalanced', "NEAR(a b", "a NOT", "AND OR NOT", "*", "**", "a*b*", "-", "--", "^", "title:x",
    "{!lucene}*:*", "*:*", "a~2 b^3", "/.*/", "[a TO z]", "(((", ")))", "\\", "a\\\"b", "\x00",
    "+-&&||!(){}[]^\"~*?:\\/", '{"$ne": null}', "$where", "🙂" * 30, "x" * 100,
]


async def test_query_language_syntax_in_searches_and_ids_is_just_text(platform, client):
    ada = await platform.user()
    paper = await platform.paper(ada, title="Residual Networks")
    await platform.summary(ada, paper["id"], body="Residual connections help.")
    for q in QUERY_SYNTAX:
        for path, params in (("/api/v1/search", {"q": q}), ("/api/v1/search", {"q": q, "author": q[:64]}),
                             ("/api/v1/search", {"q": q, "venue": q[:200]}),
                             ("/api/v1/search/suggest", {"q": q[:100]}), ("/api/v1/papers", {"venue": q}),
                             ("/api/v1/summaries", {"venue": q}), ("/api/v1/papers/lookup", {"doi": q}),
                             ("/api/v1/papers/lookup", {"arxiv": q}), ("/api/v1/papers/lookup", {"dblp": q}),
                             ("/search", {"q": q})):
            r = await client.get(path, params=params)
            assert r.status_code in (200, 404, 422), (path, q, r.status_code, r.text[:300])
        for path in ("/api/v1/papers/{}", "/api/v1/summaries/{}", "/api/v1/summaries/{}/comments",
                     "/api/v1/venues/{}/years", "/papers/{}", "/summaries/{}", "/venues/{}", "/users/{}"):
            r = await client.get(path.format(quote(q, safe="")))
            assert r.status_code in (200, 404, 422) or (r.status_code in (307, 308) and r.headers[
                "location"].startswith(platform.url + "/")), (path, q, r.status_code)
    # the data is untouched
    assert (await client.get(f"/api/v1/papers/{paper['id']}")).status_code == 200
    assert (await client.get("/api/v1/papers")).json()["total"] == 1


TRAVERSALS = [
    "../../../../etc/passwd", "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fpyproject.toml",
    "....//....//etc/passwd", "..\\..\\pyproject.toml", "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/etc/passwd", "..%00/pyproject.toml", "data/gateway.db",
]


@pytest.mark.parametrize("where", ["/api/v1/papers/{}", "/api/v1/summaries/{}/revisions", "/api/v1/me/tokens/{}",
                                   "/static/{}", "/feeds/venues/{}.atom", "/sitemaps/papers-{}.xml", "/venues/{}",
                                   "/api/v1/social/preview/{}"])
async def test_path_traversal_in_ids_reaches_no_file(platform, client, where):
    ada = await platform.user()
    for traversal in TRAVERSALS:
        r = await client.request("DELETE" if "tokens" in where else "GET", where.format(traversal),
                                 headers=ada["headers"])
        assert r.status_code in (400, 401, 403, 404, 405, 422), (where, traversal, r.status_code)
        assert "root:" not in r.text and "[build-system]" not in r.text and "SQLite format" not in r.text


# -- header injection through redirects ----------------------------------------------------

NEXT_TARGETS = [
    "/%0d%0aSet-Cookie:%20injected=1", "/%0D%0ALocation:%20https://evil.example", "/\r\nX-Injected: 1",
    "//evil.example/", "/\\evil.example", "https://evil.example/", "/%09/evil.example", "/\t/evil.example",
    "javascript:alert(1)", "/%2F%2Fevil.example", "\\\\evil.example", " //evil.example", "/.//evil.example",
]


def assert_safe_location(response: httpx.Response) -> None:
    assert response.status_code in (302, 303, 307), response.status_code
    location = response.headers["location"]
    assert "\r" not in location and "\n" not in location and "\t" not in location, location
    assert "injected" not in {k.lower() for k in response.headers} and "x-injected" not in response.headers
    assert "injected=1" not in response.headers.get("set-cookie", "")
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//"), \
        location


async def test_redirect_targets_cannot_inject_headers_or_leave_the_site(platform):
    web = WebClient(platform.url)
    try:
        name = await web.sign_up()
        await web.post("/logout", {}, from_page="/")
        for target in NEXT_TARGETS:
            r = await web.post("/login", {"username": name, "password": "correct horse 1", "next": target},
                               from_page="/login")
            assert_safe_location(r)
            r = await web.get("/login?next=" + quote(target, safe="%/:"))  # signed in: straight back
            assert_safe_location(r)
            await web.post("/logout", {}, from_page="/")
    finally:
        await web.aclose()


# -- big bodies and slow clients ---------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


async def test_ten_megabyte_bodies_get_413_with_or_without_a_length(platform, client):
    ada = await platform.user()
    big = b'{"title": "' + b"x" * TEN_MB + b'"}'

    async def chunks():
        for i in range(0, len(big), 1 << 20):
            yield big[i:i + (1 << 20)]

    for path in ("/api/v1/papers", "/api/v1/auth/signup", "/login", "/papers/new"):
        r = await client.post(path, content=big, headers={**ada["headers"], "content-type": "application/json"})
        assert r.status_code == 413, (path, r.status_code)
        if path.startswith("/api/"):
            assert_problem(r, 413, "body")
        r = await client.post(path, content=chunks(), headers={**ada["headers"], "content-type": "application/json"})
        # a web form without a session or a CSRF token is refused before its body is read
        assert r.status_code == 413 or (r.status_code in (303, 403) and not path.startswith("/api/")), \
            (path, r.status_code)
    assert (await client.get("/api/v1/papers")).json()["total"] == 0


async def test_a_client_trickling_its_body_blocks_no_one(platform, client):
    host, port = "127.0.0.1", int(platform.url.rsplit(":", 1)[1])
    slow = []
    try:
        for _ in range(5):  # several clients, each sends headers then a body byte by byte
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                         b"content-length: 100000\r\n\r\n{")
            await writer.drain()
            slow.append((reader, writer))
        # a client stuck in its headers too (slowloris)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /api/v1/papers HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        await writer.drain()
        slow.append((reader, writer))

        for round_ in range(3):
            for _, writer in slow[:-1]:
                writer.write(b" ")
                await writer.drain()
            r = await client.get("/api/v1/papers")
            assert r.status_code == 200 and r.json()["total"] == 0
            user = await platform.user()
            assert (await client.get("/api/v1/me", headers=user["headers"])).status_code == 200
    finally:
        for _, writer in slow:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
