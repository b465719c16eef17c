"""Safety of the website: headers, cookies, escaping of everything users write, anonymous
authors, error pages without internals, everything served locally."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree

from tests.helpers import eventually
from tests.web.conftest import WebClient
from tests.web.test_pages import jsonld_of

SCRIPT = "<script>alert('x')</script>"


class Elements(HTMLParser):
    """Every element of a page with its attributes, as a browser's parser sees them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_no_active_content(page: str) -> None:
    """The only scripts are the site's own file and the JSON-LD data block; no element has
    an event handler; no link or image points at a javascript: URL."""
    for tag, attrs in Elements(page).elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), (tag, attrs)
        if tag == "script":
            assert attrs.get("type") == "application/ld+json" or (attrs.get("src") or "").startswith("/static/"), attrs


async def test_pages_carry_a_strict_content_security_policy_and_the_usual_headers(platform, web):
    reader = await web()
    for path in ("/", "/login", "/nope", "/feeds/summaries.atom", "/static/site.css"):
        r = await reader.get(path)
        csp = r.headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert script_src == "'self'" and "unsafe-inline" not in script_src and "unsafe-eval" not in csp
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in r.headers  # plain http here
    page = (await reader.get("/")).text
    assert "<script>" not in page
    assert_no_active_content(page)
    for ref in re.findall(r'(?:src|href)="([^"]+)"', page):
        if ref.startswith("http"):
            assert ref.startswith(platform.settings.public_url), ref  # nothing from another host
    assert re.search(r'<script src="/static/site\.js\?v=\w+" defer></script>', page)
    api = await reader.get("/api/v1/summaries")
    assert "content-security-policy" not in api.headers  # the API is left as it was


async def test_session_and_csrf_cookies_are_secure_over_https(platform_with):
    plat = await platform_with(public_url="https://shortscience.example")
    browser = WebClient(plat.url)
    try:
        r = await browser.get("/login")
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("ss_csrf=") and "Secure" in cookie and "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        r = await browser.get("/login", headers={"x-forwarded-proto": "https"})
        assert r.headers["content-security-policy"]
    finally:
        await browser.aclose()


async def test_script_in_a_title_author_or_summary_is_text_everywhere(platform, web):
    ada = await platform.user()
    paper = await platform.paper(ada, title=f"Title {SCRIPT} </script>", authors=[f"Eve {SCRIPT}"],
                                 venue="Script Conf", abstract=f"Abstract {SCRIPT}", keywords=[SCRIPT])
    s = await platform.summary(ada, paper["id"], body=f"Body {SCRIPT} and <img src=x onerror=alert(1)> "
                                                      "[link](javascript:alert(1)) $x$")
    await platform.client.post(f"/api/v1/summaries/{s['id']}/comments", json={"body": f"Comment {SCRIPT}"},
                               headers=ada["headers"])

    async def indexed():
        r = await platform.client.get("/api/v1/search", params={"q": "body"})
        return r.json()["total"] == 1

    await eventually(indexed)
    reader = await web()
    for path in ("/", f"/papers/{paper['id']}", f"/summaries/{s['id']}", "/search?q=body", "/venues/script-conf",
                 f"/users/{ada['username']}"):
        text = await reader.page(path)
        assert_no_active_content(text)
        assert "&lt;script&gt;alert(" in text, path
    page = await reader.page(f"/papers/{paper['id']}")
    raw_jsonld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    assert "</script" not in raw_jsonld and "<script" not in raw_jsonld
    assert jsonld_of(page)["name"] == f"Title {SCRIPT} </script>"  # the same text, safely encoded
    feed = await reader.get("/feeds/summaries.atom")
    root = ElementTree.fromstring(feed.content)
    content = root.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content").text
    assert "<script>" not in content and "&lt;script&gt;" in content  # escaped inside the HTML payload


async def test_anonymous_summaries_show_no_author_anywhere(platform, web):
    ada = await platform.user("secretauthor")
    paper = await platform.paper(ada, title="Anonymously Summarised", venue="NeurIPS")
    s = await platform.summary(ada, paper["id"], body="Hidden hand wrote this.", anonymous=True)

    async def indexed():
        r = await platform.client.get("/api/v1/search", params={"q": "hidden hand"})
        return r.json()["total"] == 1

    await eventually(indexed)
    for browser in (await web(), await web(signed_up=True)):
        for path in ("/", f"/papers/{paper['id']}", f"/summaries/{s['id']}", "/search?q=hidden+hand",
                     "/venues/neurips", "/feeds/summaries.atom", "/feeds/venues/neurips.atom", "/sitemap.xml",
                     f"/summaries/{s['id']}/revisions"):
            r = await browser.get(path)
            assert r.status_code == 200, path
            assert "secretauthor" not in r.text, path
        assert "Hidden hand" not in (await browser.page("/users/secretauthor"))
    page = await (await web()).page(f"/papers/{paper['id']}")
    assert "anonymous" in page and "author" not in json.dumps(jsonld_of(page)["review"])
    own = await web()
    await own.log_in("secretauthor", "correct horse 1")
    mine = await own.page(f"/papers/{paper['id']}")
    assert "shown to you only" in mine  # the author is told who else can see it: nobody


async def test_private_summaries_stay_off_public_pages_and_feeds(platform, web):
    ada = await platform.user()
    paper = await platform.paper(ada, title="Privately Noted")
    s = await platform.summary(ada, paper["id"], body="My private note.", visibility="private")
    reader = await web()
    for path in ("/", f"/papers/{paper['id']}", "/feeds/summaries.atom", "/sitemap.xml"):
        assert "My private note." not in (await reader.get(path)).text
    assert (await reader.get(f"/summaries/{s['id']}")).status_code == 404
    owner = await web()
    await owner.log_in(ada["username"], "correct horse 1")
    page = await owner.page(f"/papers/{paper['id']}")
    assert "My private note." in page and '<span class="badge private">private</span>' in page


async def test_error_pages_are_html_for_pages_and_problems_for_the_api(platform, web, monkeypatch):
    reader = await web()
    r = await reader.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "Not found" in r.text
    r = await reader.get("/papers/unknown-paper")
    assert r.status_code == 404 and "no paper" in r.text.lower()
    r = await reader.get("/?page=zero")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    r = await reader.http.put("/")
    assert r.status_code == 405 and r.headers["content-type"].startswith("text/html")
    r = await reader.get("/api/v1/no/such")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"

    async def broken(*args, **kwargs):
        raise RuntimeError("internal detail: /var/lib/secret.db is locked")

    monkeypatch.setattr(platform.app.state.gateway.summaries, "list", broken)
    unchecked = await web(check=False)  # this one answers 500 on purpose
    r = await unchecked.get("/")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in r.text and "secret.db" not in r.text and "Traceback" not in r.text
    assert "RuntimeError" not in r.text


async def test_static_files_are_served_locally_with_cache_headers(platform, web):
    reader = await web()
    page = await reader.page("/")
    css = re.search(r'href="(/static/site\.css\?v=\w+)"', page).group(1)
    r = await reader.get(css)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"] and ":focus-visible" in r.text
    js = await reader.get(re.search(r'src="(/static/site\.js\?v=\w+)"', page).group(1))
    assert js.status_code == 200 and "X-CSRF-Token" in js.text
    assert (await reader.get("/static/../gateway/config.py")).status_code == 404
    assert (await reader.get("/favicon.ico")).headers["location"] == "/static/favicon.svg"
