"""A steady stream of writes through the gateway's public API, with the model of what every
acknowledged write must have left behind, and the checks that compare the platform with it.

A write whose answer is lost (the service died, the gateway answered 5xx, the connection
broke) has an unknown outcome, so the writer repeats it until it gets a definite answer:
every write here is safe to repeat (a second create answers 409 with `existing_id`, a vote
is a PUT, a revision sets the same body, a second delete answers 404). Only then does it
count as acknowledged and enter the model.

Every summary body carries tokens no other text has: `<run>s<n>` for the summary and
`<run>s<n>r<k>` for its k-th body, so one search finds exactly one document, and finding an
old body's token after a newer one was seen would mean a version went backwards.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

UNCERTAIN = {500, 502, 503, 504}
PASSWORD = "fault stream password 1"


@dataclass
class SummaryModel:
    id: str
    n: int
    author: str
    paper_id: str
    rev: int = 1
    public: bool = True
    deleted: bool = False
    votes: dict[str, int] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def score(self) -> int:
        return sum(self.votes.values())

    @property
    def searchable(self) -> bool:
        return self.public and not self.deleted


@dataclass
class Counts:
    acknowledged: Counter = field(default_factory=Counter)
    repeated: int = 0  # attempts whose outcome was unknown and were made again
    unexpected: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return sum(self.acknowledged.values())


class Stream:
    def __init__(self, client: httpx.AsyncClient, *, seed: int, users: int = 6) -> None:
        self.client = client
        self.rng = random.Random(seed)
        self.run = "fz" + uuid.uuid4().hex[:6]
        self.user_count = users
        self.users: dict[str, dict] = {}  # username -> {"id", "headers"}
        self.papers: dict[str, str] = {}  # paper id -> title
        self.summaries: dict[str, SummaryModel] = {}
        self.taken: set[tuple[str, str]] = set()  # (username, paper id)
        self.counts = Counts()
        self._n = 0
        self._papers_made = 0
        self.observed_rev: dict[str, int] = {}
        self.regressions: list[str] = []
        self.samples = 0

    def token(self, n: int, rev: int | None = None) -> str:
        return f"{self.run}s{n}" if rev is None else f"{self.run}s{n}r{rev}"

    def body(self, n: int, rev: int) -> str:
        return (f"Revision {rev} of a summary under faults: {self.token(n)} {self.token(n, rev)}. "
                f"It argues that *nothing* is lost and $x^{rev}$ holds.")

    # -- one write, repeated until its outcome is known -------------------------------------

    async def _write(self, kind: str, method: str, url: str, *, user: str | None = None, json=None,
                     done: set[int]) -> httpx.Response:
        headers = self.users[user]["headers"] if user else {}
        uncertain = False
        for _ in range(400):
            try:
                r = await self.client.request(method, url, json=json, headers=headers)
            except httpx.HTTPError:
                r = None
            if r is not None and r.status_code == 429:
                await asyncio.sleep(float(r.headers.get("retry-after", "0.2")))
                continue
            if r is None or r.status_code in UNCERTAIN:
                uncertain = True
                self.counts.repeated += 1
                await asyncio.sleep(0.2)
                continue
            if r.status_code in done or (uncertain and r.status_code in {404, 409}):
                self.counts.acknowledged[kind] += 1
                return r
            self.counts.unexpected.append(f"{kind} {method} {url}: {r.status_code} {r.text[:200]}")
            return r
        raise AssertionError(f"{kind} {method} {url}: no definite answer after many attempts")

    # -- the operations ---------------------------------------------------------------------

    async def setup(self) -> None:
        for i in range(self.user_count):
            name = f"{self.run}u{i}"
            r = await self.client.post("/api/v1/auth/signup", json={
                "username": name, "email": f"{name}@example.org", "password": PASSWORD})
            assert r.status_code == 201, r.text
            r = await self.client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self.users[name] = {"headers": {"Authorization": f"Bearer {r.json()['access_token']}"}}
        for _ in range(3):
            await self.new_paper()

    async def new_paper(self) -> None:
        self._papers_made += 1
        n = self._papers_made
        title = f"Fault tolerance study {self.run} {n}"
        body = {"title": title, "authors": ["Ada Lovelace"], "venue": "ICLR", "year": 2020,
                "identifiers": {"arxiv": f"2001.{n:05d}"}}
        user = self.rng.choice(list(self.users))
        r = await self._write("paper", "POST", "/api/v1/papers", user=user, json=body, done={201})
        if r.status_code == 201:
            self.papers[r.json()["id"]] = title
        elif r.status_code == 409 and r.json().get("existing_id"):
            self.papers[r.json()["existing_id"]] = title  # the first attempt went through

    async def new_summary(self, *, public: bool | None = None) -> SummaryModel | None:
        free = [(u, p) for u in self.users for p in self.papers if (u, p) not in self.taken]
        if not free:
            await self.new_paper()
            return None
        user, paper_id = self.rng.choice(free)
        self.taken.add((user, paper_id))
        self._n += 1
        n = self._n
        public = self.rng.random() < 0.8 if public is None else public
        body = {"body": self.body(n, 1), "visibility": "public" if public else "private"}
        r = await self._write("summary", "POST", f"/api/v1/papers/{paper_id}/summaries", user=user, json=body,
                              done={201})
        if r.status_code == 201:
            sid = r.json()["id"]
        elif r.status_code == 409 and r.json().get("existing_id"):
            sid = r.json()["existing_id"]  # the first attempt went through; its answer was lost
        else:
            return None
        self.summaries[sid] = model = SummaryModel(sid, n, user, paper_id, public=public)
        return model

    def _live(self) -> list[SummaryModel]:
        return [s for s in self.summaries.values() if not s.deleted]

    async def revise(self) -> None:
        live = self._live()
        if not live:
            return
        s = self.rng.choice(live)
        async with s.lock:
            if s.deleted:
                return
            change: dict = {"body": self.body(s.n, s.rev + 1)}
            flip = self.rng.random() < 0.2
            if flip:
                change["visibility"] = "private" if s.public else "public"
            r = await self._write("revision", "PATCH", f"/api/v1/summaries/{s.id}", user=s.author, json=change,
                                  done={200})
            if r.status_code == 200:
                s.rev += 1
                if flip:
                    s.public = not s.public

    async def vote(self) -> None:
        live = [s for s in self._live() if s.public]
        if not live:
            return
        s = self.rng.choice(live)
        voter = self.rng.choice([u for u in self.users if u != s.author])
        value = self.rng.choice((1, 1, -1, 0))
        async with s.lock:
            if s.deleted or not s.public:  # a revision may have made it private since it was picked
                return
            r = await self._write("vote", "PUT", f"/api/v1/summaries/{s.id}/vote", user=voter,
                                  json={"value": value}, done={200})
            if r.status_code == 200:
                s.votes[voter] = value

    async def delete(self) -> None:
        live = self._live()
        if len(live) < 5:
            return
        s = self.rng.choice(live)
        async with s.lock:
            if s.deleted:
                return
            r = await self._write("delete", "DELETE", f"/api/v1/summaries/{s.id}", user=s.author, done={204})
            if r.status_code in {204, 404}:
                s.deleted = True

    async def step(self) -> None:
        x = self.rng.random()
        if x < 0.05:
            await self.new_paper()
        elif x < 0.40:
            await self.new_summary()
        elif x < 0.65:
            await self.revise()
        elif x < 0.92:
            await self.vote()
        else:
            await self.delete()

    async def run_writes(self, count: int, *, until: asyncio.Event, workers: int = 3) -> None:
        """At least `count` steps, and on until `until` is set (the faults are over)."""
        left = [count]

        async def worker() -> None:
            while left[0] > 0 or not until.is_set():
                left[0] -= 1
                await self.step()

        await asyncio.gather(*(worker() for _ in range(workers)))

    # -- watching the index while it is written ---------------------------------------------

    async def search_ids(self, q: str) -> list[str]:
        for _ in range(100):
            try:
                r = await self.client.get("/api/v1/search", params={"q": q, "size": 50})
            except httpx.HTTPError:
                r = None
            if r is not None and r.status_code == 200:
                return [h["summary_id"] for h in r.json()["hits"]]
            await asyncio.sleep(0.2)  # the search service is being restarted
        raise AssertionError(f"search for {q!r} kept failing")

    async def sample_versions(self, stop: asyncio.Event) -> None:
        """Look a random body token of a random summary up; once the index served body k of a
        summary, it must never serve an older body of it again."""
        while not stop.is_set():
            if self.summaries:
                s = self.rng.choice(list(self.summaries.values()))
                k = self.rng.randint(max(1, s.rev - 2), s.rev)
                if s.id in await self.search_ids(self.token(s.n, k)):
                    self.samples += 1
                    seen = self.observed_rev.get(s.id, 0)
                    if k < seen:
                        self.regressions.append(f"{s.id}: body {k} served after body {seen}")
                    self.observed_rev[s.id] = max(seen, k)
            await asyncio.sleep(0.02)


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def store_differences(stream: Stream) -> list[str]:
    """Every acknowledged write, read back from its owner through the API."""
    c, problems = stream.client, []
    for paper_id, title in stream.papers.items():
        r = await c.get(f"/api/v1/papers/{paper_id}")
        if r.status_code != 200 or r.json()["title"] != title:
            problems.append(f"paper {paper_id}: {r.status_code} {r.text[:120]}")
    for s in stream.summaries.values():
        r = await c.get(f"/api/v1/summaries/{s.id}", headers=stream.users[s.author]["headers"])
        if s.deleted:
            if r.status_code != 404:
                problems.append(f"summary {s.id} was deleted but answers {r.status_code}")
            continue
        if r.status_code != 200:
            problems.append(f"summary {s.id}: {r.status_code} {r.text[:120]}")
            continue
        got = r.json()
        want = {"body": stream.body(s.n, s.rev), "visibility": "public" if s.public else "private",
                "score": s.score}
        have = {k: got[k] for k in want}
        if have != want:
            problems.append(f"summary {s.id}: store has {have}, acknowledged {want}")
    return problems


async def index_differences(stream: Stream) -> list[str]:
    """The index against the store's public state, document by document, and no extra one."""
    problems = []
    for s in stream.summaries.values():
        current = await stream.search_ids(stream.token(s.n, s.rev))
        if s.searchable and current != [s.id]:
            problems.append(f"public summary {s.id} (body {s.rev}): search found {current}")
        if not s.searchable and current:
            problems.append(f"{'deleted' if s.deleted else 'private'} summary {s.id} is in the index")
        if s.rev > 1 and await stream.search_ids(stream.token(s.n, s.rev - 1)):
            problems.append(f"summary {s.id}: the index still has body {s.rev - 1}, the store has body {s.rev}")
    for s in stream.summaries.values():  # the score, carried by VoteCast
        if s.searchable:
            r = await stream.client.get("/api/v1/search", params={"q": stream.token(s.n)})
            hits = r.json()["hits"]
            if len(hits) != 1 or hits[0]["score"] != s.score:
                problems.append(f"summary {s.id}: index score {[h['score'] for h in hits]}, store {s.score}")
    r = await stream.client.get("/api/v1/search", params={"q": stream.run + "*", "size": 1})
    public = sum(s.searchable for s in stream.summaries.values())
    if r.status_code == 200 and r.json()["total"] != public:
        problems.append(f"the index holds {r.json()['total']} documents of this run, the store {public} public")
    return problems


async def social_differences(stream: Stream, admin: dict[str, str], channels: tuple[str, ...]) -> list[str]:
    """Exactly one post per (public summary, channel); never two for any summary."""
    posts, page = [], 1
    while True:
        r = await stream.client.get("/api/v1/social/posts", params={"page": page, "size": 100}, headers=admin)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        posts += items
        if len(items) < 100:
            break
        page += 1
    per = Counter((p["summary_id"], p["channel"]) for p in posts)
    problems = [f"{n} posts for {key}" for key, n in per.items() if n > 1]
    for s in stream.summaries.values():
        if s.searchable:
            problems += [f"no {ch} post for public summary {s.id}" for ch in channels if per[(s.id, ch)] != 1]
    return problems
