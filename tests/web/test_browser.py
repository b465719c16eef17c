"""The website in a real browser: Debian's Chromium driven by Playwright for Python.

Skipped, with the reason, where Chromium or Playwright is missing (`deploy/browser/install.sh`
installs Chromium; Playwright's own browser download is not used). Screenshots of the main
pages go to artifacts/screenshots/ for a person to look at."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import eventually

playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip install -e '.[dev]')")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: run deploy/browser/install.sh as root")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
PASSWORD = "correct horse 1"
MATHML = "http://www.w3.org/1998/Math/MathML"


@pytest.fixture
async def chromium():
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


class Tab:
    """One browser context (its own cookies) with one page, recording what must not happen:
    console errors (a CSP violation among them) and dialogs (an injected alert())."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

        async def dismiss(dialog):
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)

    async def goto(self, path: str):
        response = await self.page.goto(self.base + path)
        return response

    async def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    async def sign_up(self, name: str) -> None:
        await self.goto("/signup")
        await self.page.get_by_label("Username").fill(name)
        await self.page.get_by_label("Email").fill(f"{name}@example.org")
        await self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        await self.page.get_by_label("Password, again").fill(PASSWORD)
        await self.page.get_by_role("button", name="Create the account").click()
        await self.page.wait_for_url(re.compile(r"/\?done=welcome$"))

    def assert_clean(self, *expected_failures: str) -> None:
        """No dialog, no script error or CSP violation, no failed request but those expected."""
        assert not self.dialogs, self.dialogs
        assert not [e for e in self.errors if not e.startswith("Failed to load resource")], self.errors
        assert not [f for f in self.failed if not any(x in f for x in expected_failures)], self.failed


async def new_tab(chromium, platform, **options) -> Tab:
    context = await chromium.new_context(**options)
    return Tab(await context.new_page(), platform.url)


async def test_sign_up_register_write_latex_vote_comment_edit(chromium, platform):
    author = await new_tab(chromium, platform, viewport={"width": 1280, "height": 900})
    page = author.page
    await author.sign_up("alice")
    assert await page.get_by_role("link", name="alice").is_visible()
    await author.page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("link", name="Sign in").first.click()
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_text("You are signed in.").wait_for()

    await page.get_by_role("link", name="Add a paper").click()
    await page.get_by_label("arXiv id").fill("1706.03762")
    await page.get_by_label("Title").fill("Attention Is All You Need")
    await page.get_by_label("Authors").fill("Ashish Vaswani\nNoam Shazeer")
    await page.get_by_label("Venue").fill("NeurIPS")
    await page.get_by_label("Year").fill("2017")
    await page.get_by_label("Abstract").fill("The dominant sequence transduction models are recurrent.")
    await page.get_by_role("button", name="Add the paper").click()
    await page.get_by_text("The paper is registered.").wait_for()
    paper_url = page.url.split("?")[0]
    await page.get_by_text("Abstract", exact=True).click()  # the toggle opens
    assert await page.get_by_text("The dominant sequence transduction").is_visible()
    assert await page.get_by_role("link", name="arXiv: 1706.03762").get_attribute("href") == \
        "https://arxiv.org/abs/1706.03762"

    await page.get_by_role("link", name="Write a summary").click()
    await page.get_by_label("Your summary").fill("Attention: $\\mathrm{softmax}(QK^T/\\sqrt{d_k})V$ replaces "
                                                 "recurrence.\n\n$$\\sum_i \\alpha_i = 1$$")
    preview_math = page.locator("#preview math")
    await preview_math.first.wait_for()  # the live preview, rendered by the server
    await author.shot("editor")
    await page.get_by_role("button", name="Publish").click()
    await page.get_by_text("Your summary is published.").wait_for()
    math = page.locator(".summary-body math").first
    assert await math.evaluate("m => m.namespaceURI") == MATHML
    box = await math.bounding_box()
    assert box and box["height"] > 5 and box["width"] > 20  # laid out as math, not left as source
    assert "$" not in await page.locator(".summary-body").first.inner_text()
    await author.shot("paper")

    reader = await new_tab(chromium, platform, viewport={"width": 1280, "height": 900})
    await reader.sign_up("bob")
    await reader.goto(paper_url.removeprefix(platform.url))
    up = reader.page.get_by_role("button", name="Upvote")
    await up.focus()
    await reader.page.keyboard.press("Enter")  # keyboard-usable; JavaScript saves the reload
    await reader.page.get_by_role("button", name="Upvote (undo)").wait_for()
    assert await reader.page.locator("output.score").first.inner_text() == "1"
    outline = await reader.page.get_by_role("button", name="Upvote (undo)").evaluate(
        "b => getComputedStyle(b).outlineStyle")
    assert outline != "none"  # focus is visible
    await reader.page.reload()
    assert await reader.page.locator("output.score").first.inner_text() == "1"

    await reader.page.get_by_label("Add a comment").fill("Which *heads* matter?")
    await reader.page.get_by_role("button", name="Post comment").click()
    await reader.page.get_by_text("Your comment is posted.").wait_for()
    assert await reader.page.locator(".comment-body em").inner_text() == "heads"

    await author.goto(paper_url.removeprefix(platform.url))
    await page.get_by_role("link", name="Edit", exact=True).click()
    await page.get_by_label("Your summary").fill("Attention: $\\mathrm{softmax}(QK^T/\\sqrt{d_k})V$ replaces "
                                                 "recurrence and convolution.")
    await page.get_by_role("button", name="Save changes").click()
    await page.get_by_text("Your summary is saved.").wait_for()
    assert "and convolution" in await page.locator(".summary-body").first.inner_text()
    await page.get_by_role("link", name="revised 1×").click()
    added = " ".join(await page.locator(".diff ins").all_inner_texts())
    removed = " ".join(await page.locator(".diff del").all_inner_texts())
    assert "convolution" in added and "\\sum_i" in removed
    await author.shot("revisions")
    author.assert_clean()
    reader.assert_clean()


async def test_search_and_click_a_facet(chromium, platform):
    ada = await platform.user()
    for n, venue in enumerate(["ICLR", "ICLR", "CVPR"]):
        paper = await platform.paper(ada, title=f"Sparse attention {n}", venue=venue, year=2020 + n)
        await platform.summary(ada, paper["id"], body=f"Sparse attention saves memory, take {n}.")

    async def indexed():
        r = await platform.client.get("/api/v1/search", params={"q": "sparse"})
        return r.json()["total"] == 3

    await eventually(indexed)
    tab = await new_tab(chromium, platform, viewport={"width": 1280, "height": 900})
    await tab.goto("/")
    await tab.page.get_by_role("searchbox", name="Search summaries").fill("sparse memory")
    await tab.page.get_by_role("button", name="Search", exact=True).first.click()
    await tab.page.get_by_role("heading", name="3 results").wait_for()
    assert await tab.page.locator(".snippet mark").count() >= 2
    await tab.shot("search")
    await tab.page.locator(".facets").get_by_role("link", name=re.compile(r"^ICLR")).click()
    await tab.page.get_by_role("heading", name="2 results").wait_for()
    assert "venue=iclr" in tab.page.url
    await tab.page.get_by_role("link", name=re.compile("Remove the venue filter")).click()
    await tab.page.get_by_role("heading", name="3 results").wait_for()
    tab.assert_clean()


async def test_anonymous_summary_shows_no_author_on_any_page_or_in_the_feed(chromium, platform):
    writer = await platform.user("incognito")
    paper = await platform.paper(writer, title="Quiet Paper", venue="ICML", year=2019)
    s = await platform.summary(writer, paper["id"], body="Said without a name.", anonymous=True)

    async def indexed():
        r = await platform.client.get("/api/v1/search", params={"q": "without name"})
        return r.json()["total"] == 1

    await eventually(indexed)
    tab = await new_tab(chromium, platform)
    await tab.sign_up("onlooker")
    for path in ("/", f"/papers/{paper['id']}", f"/summaries/{s['id']}", "/search?q=without+name", "/venues/icml"):
        await tab.goto(path)
        text = await tab.page.locator("body").inner_text()
        assert "Quiet Paper" in text and ("anonymous" in text or path.startswith("/search")), path
        assert "incognito" not in text and "incognito" not in await tab.page.content(), path
    await tab.goto("/users/incognito")  # the author's own page does not list it
    assert "Said without a name." not in await tab.page.locator("main").inner_text()
    response = await tab.goto("/feeds/summaries.atom")
    feed = (await response.body()).decode()
    assert "Said without a name." in feed and "incognito" not in feed
    tab.assert_clean()


async def test_a_script_in_a_summary_or_a_title_does_nothing(chromium, platform):
    ada = await platform.user()
    paper = await platform.paper(ada, title='Evil <script>window.pwned = "title"; alert(1)</script> title',
                                 authors=['<img src=x onerror="window.pwned=\'author\'">'])
    await platform.summary(ada, paper["id"],
                           body='Text <script>window.pwned = "body"; alert(2)</script> '
                                '<img src=x onerror="window.pwned=\'img\'"> [click](javascript:alert(3))')
    tab = await new_tab(chromium, platform)
    for path in ("/", f"/papers/{paper['id']}"):
        await tab.goto(path)
        await tab.page.wait_for_load_state("load")
        assert await tab.page.evaluate("() => window.pwned === undefined")
        assert await tab.page.locator("body script:not([src])").count() == 0
        text = await tab.page.locator("main").inner_text()
        assert "<script>" in text  # shown as the text it is
    links = tab.page.get_by_role("link", name="click")
    assert await links.count() == 0 or not (await links.first.get_attribute("href") or "").startswith("javascript")
    assert tab.dialogs == []
    tab.assert_clean()


async def test_forms_without_a_csrf_token_are_refused(chromium, platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="Comment on me.")
    tab = await new_tab(chromium, platform)
    await tab.sign_up("forger")
    await tab.goto(f"/papers/{paper['id']}")
    await tab.page.evaluate("() => document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())")
    await tab.page.get_by_label("Add a comment").fill("Forged?")
    await tab.page.get_by_role("button", name="Post comment").click()
    await tab.page.get_by_role("heading", name="Forbidden").wait_for()
    assert "did not come from this site" in await tab.page.locator("main").inner_text()
    r = await platform.client.get(f"/api/v1/summaries/{s['id']}/comments")
    assert r.json() == []


async def test_main_pages_on_a_phone_and_a_desktop(chromium, platform):
    ada, bob = await platform.user("ada"), await platform.user("bob")
    paper = await platform.paper(ada, title="Deep Residual Learning for Image Recognition", venue="CVPR", year=2016,
                                 abstract="Residual learning eases training.",
                                 identifiers={"arxiv": "1512.03385", "doi": "10.1109/CVPR.2016.90"})
    s = await platform.summary(ada, paper["id"], body="**Key idea.** Fit a residual: $$y = \\mathcal{F}(x) + x$$")
    await platform.client.put(f"/api/v1/summaries/{s['id']}/vote", json={"value": 1}, headers=bob["headers"])
    await platform.client.post(f"/api/v1/summaries/{s['id']}/comments", json={"body": "Clear."},
                               headers=bob["headers"])
    for name, viewport in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        tab = await new_tab(chromium, platform, viewport=viewport)
        await tab.sign_up(f"viewer-{name}")
        for label, path in (("home", "/"), ("paper", f"/papers/{paper['id']}"), ("venues", "/venues"),
                            ("venue", "/venues/cvpr"), ("user", "/users/ada"), ("settings", "/settings"),
                            ("login", "/login")):
            if label == "login":
                await tab.page.get_by_role("button", name="Sign out").click()
            await tab.goto(path)
            overflow = await tab.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{label} scrolls sideways on {name}"
            await tab.shot(f"{label}-{name}")
        tab.assert_clean()
