"""Seeds a running platform through the gateway's public API, as a client would: two users,
twenty papers, a summary with LaTeX on each by the second user, and on the first paper one
more by the first user, so its list holds two."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

PASSWORD = "bench password 1"
PAPERS = 20
BODIES = (
    "**Key idea.** Fit a residual instead of the full mapping:\n\n$$y = \\mathcal{F}(x, \\{W_i\\}) + x$$\n\n"
    "If the identity is near optimal the block only pushes $\\mathcal{F}$ towards zero.",
    "Attention weighs values by $\\mathrm{softmax}(QK^\\top / \\sqrt{d_k})$; the $\\sqrt{d_k}$ keeps the "
    "logits from saturating.\n\n- no recurrence\n- constant path length between positions",
    "The loss is $\\mathcal{L} = -\\sum_i y_i \\log \\hat{y}_i + \\lambda \\lVert w \\rVert_2^2$, "
    "minimised with *Adam* at $\\eta = 10^{-3}$.",
)


@dataclass
class Seeded:
    summary_id: str
    paper_id: str


async def _user(http: aiohttp.ClientSession, base: str, name: str) -> dict[str, str]:
    signup = {"username": name, "email": f"{name}@example.org", "password": PASSWORD}
    async with http.post(f"{base}/api/v1/auth/signup", json=signup) as resp:
        _expect(resp, 201, await resp.text())
    async with http.post(f"{base}/api/v1/auth/login", json={"username": name, "password": PASSWORD}) as resp:
        _expect(resp, 200, await resp.text())
        token = (await resp.json())["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _post(http: aiohttp.ClientSession, url: str, body: dict, headers: dict[str, str]) -> dict:
    async with http.post(url, json=body, headers=headers) as resp:
        _expect(resp, 201, await resp.text())
        return await resp.json()


def _expect(resp: aiohttp.ClientResponse, status: int, text: str) -> None:
    if resp.status != status:
        raise RuntimeError(f"{resp.method} {resp.url} answered {resp.status}, expected {status}: {text[:300]}")


async def seed(base: str) -> Seeded:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        curator = await _user(http, base, "curator")
        writer = await _user(http, base, "writer")
        paper_ids = []
        for n in range(PAPERS):
            paper = {
                "title": f"Benchmark Paper {n}: Deep Residual Attention",
                "authors": ["Kaiming He", "Ashish Vaswani", "Diederik P. Kingma"],
                "venue": ("ICLR", "NeurIPS", "CVPR")[n % 3],
                "year": 2015 + n % 8,
                "abstract": "We study things at scale. " * 8,
                "keywords": ["deep learning", "benchmark"],
                "identifiers": {"arxiv": f"2401.{n + 1:05d}"},
            }
            paper_ids.append((await _post(http, f"{base}/api/v1/papers", paper, curator))["id"])
        summary_ids = []
        for n, paper_id in enumerate(paper_ids):
            body = {"body": BODIES[n % len(BODIES)], "visibility": "public", "anonymous": False}
            summary = await _post(http, f"{base}/api/v1/papers/{paper_id}/summaries", body, writer)
            summary_ids.append(summary["id"])
        await _post(http, f"{base}/api/v1/papers/{paper_ids[0]}/summaries",
                    {"body": BODIES[1], "visibility": "public", "anonymous": False}, curator)
    return Seeded(summary_id=summary_ids[0], paper_id=paper_ids[0])
