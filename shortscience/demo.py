"""Loads the demo data set on first start, through the same use cases the API calls (never
by writing a service's database). Only ever on with SHORTSCIENCE_DEMO_DATA=true, which
`make run` sets and the production stack does not, so demo text never reaches a real
social account."""

from __future__ import annotations

import json
from importlib import resources

from backbone.contracts.papers import IdentifiersIn, PaperCreate
from backbone.contracts.summaries import CommentCreate, SummaryCreate
from backbone.errors import Conflict
from backbone.logs import get_logger
from gateway.api.deps import GatewayState
from gateway.identity.service import SignupIn, identity_of

DEMO_PASSWORD = "shortscience-demo"


def demo_data() -> dict:
    return json.loads(resources.files("shortscience").joinpath("demo_data.json").read_text("utf-8"))


async def load_demo_data(gw: GatewayState) -> bool:
    """Returns False (and does nothing) when the demo users already exist."""
    logger = get_logger("demo")
    data = demo_data()
    if await gw.identity.store.user_by_username(data["users"][0]["username"]) is not None:
        return False
    users = {}
    for u in data["users"]:
        user = await gw.identity.signup(SignupIn(username=u["username"], email=u["email"], password=DEMO_PASSWORD,
                                                 display_name=u.get("display_name")))
        users[u["username"]] = identity_of(user)
    papers = {}
    for p in data["papers"]:
        create = PaperCreate(
            title=p["title"], authors=p["authors"], venue=p.get("venue"), year=p.get("year"),
            abstract=p.get("abstract", ""), keywords=p.get("keywords", []), urls=p.get("urls", []),
            identifiers=IdentifiersIn(**p.get("identifiers", {})),
        )
        try:
            papers[p["key"]] = await gw.papers.register(create, next(iter(users.values())))
        except Conflict as exc:
            papers[p["key"]] = await gw.papers.get(exc.extra["existing_id"])
    summaries = {}
    for s in data["summaries"]:
        paper = papers[s["paper"]]
        created = await gw.summaries.publish(
            paper.snapshot(),
            SummaryCreate(body=s["body"], visibility=s.get("visibility", "public"), anonymous=s.get("anonymous", False)),
            users[s["author"]],
        )
        summaries[(s["paper"], s["author"])] = created.id
    for v in data.get("votes", []):
        await gw.summaries.vote(summaries[tuple(v["summary_of"])], v["value"], users[v["voter"]])
    for c in data.get("comments", []):
        await gw.summaries.comment(summaries[tuple(c["summary_of"])], CommentCreate(body=c["body"]),
                                   users[c["author"]])
    logger.info("demo_data_loaded", users=len(users), papers=len(papers), summaries=len(summaries))
    return True
