"""MathML that Chromium lays out: a summary with a fraction, a sum and a matrix, rendered by
the server, shown in the real browser (screenshot in artifacts/screenshots/math.png)."""

from __future__ import annotations

import pytest

from tests.web.test_browser import CHROMIUM, MATHML, SCREENSHOTS, chromium, new_tab  # noqa: F401 (fixture)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: run deploy/browser/install.sh as root")

BODY = (
    "A fraction and a sum:\n\n$$\\frac{a+b}{2} = \\sum_{i=1}^{n} \\frac{x_i}{n}$$\n\n"
    "and a matrix, inline too: $A = \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}$.\n\n"
    "$$\\begin{bmatrix} \\cos\\theta & -\\sin\\theta \\\\ \\sin\\theta & \\cos\\theta \\end{bmatrix}$$\n"
)


async def test_fractions_sums_and_matrices_are_laid_out_as_mathml(chromium, platform):  # noqa: F811
    ada = await platform.user()
    paper = await platform.paper(ada, title="Notation")
    summary = await platform.summary(ada, paper["id"], body=BODY)
    tab = await new_tab(chromium, platform, viewport={"width": 1000, "height": 800})
    await tab.goto(f"/summaries/{summary['id']}")
    body = tab.page.locator(".summary-body").first
    await body.locator("math").first.wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await body.screenshot(path=str(SCREENSHOTS / "math.png"))

    assert await body.locator("math").count() == 3
    for selector, least in (("mfrac", 2), ("munderover", 1), ("mtable", 2)):
        elements = body.locator(selector)
        assert await elements.count() >= least, selector
        for n in range(await elements.count()):
            element = elements.nth(n)
            assert await element.evaluate("e => e.namespaceURI") == MATHML
            box = await element.bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, (selector, n, box)
    # A fraction is laid out as numerator over denominator: taller than one line of text.
    fraction = await body.locator("mfrac").first.bounding_box()
    assert fraction["height"] > 20
    assert "\\frac" not in await body.inner_text()
    tab.assert_clean()
