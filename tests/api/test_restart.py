"""Data and consumer offsets survive a restart of the platform."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import start_platform
from tests.helpers import eventually


@pytest.mark.embedded_only
async def test_data_and_offsets_survive_a_restart(tmp_path):
    server, plat = await start_platform(tmp_path)
    try:
        ada = await plat.user("ada")
        bob = await plat.user("bob")
        paper = await plat.paper(ada, title="Before the Restart")
        summary = await plat.summary(ada, paper["id"])
        await plat.client.put(f"/api/v1/summaries/{summary['id']}/vote", json={"value": 1}, headers=bob["headers"])
    finally:
        await plat.client.aclose()
        await server.__aexit__()

    events = sqlite3.connect(tmp_path / "events.db")
    committed_before = dict(events.execute("SELECT topic, committed FROM group_offsets WHERE grp='summaries'"))
    assert committed_before.get("papers", 0) > 0  # the summaries group had consumed the paper's event

    server, plat = await start_platform(tmp_path)
    try:
        r = await plat.client.get(f"/api/v1/summaries/{summary['id']}")
        assert r.status_code == 200 and r.json()["score"] == 1
        login = await plat.client.post("/api/v1/auth/login", json={"username": "ada", "password": "correct horse 1"})
        assert login.status_code == 200
        mod = await plat.user("mod", roles={"moderator"})
        patched = await plat.client.patch(f"/api/v1/papers/{paper['id']}", json={"title": "After the Restart"},
                                          headers=mod["headers"])
        assert patched.status_code == 200

        async def title_refreshed():
            r = await plat.client.get(f"/api/v1/summaries/{summary['id']}")
            return r.json()["paper"]["title"] == "After the Restart"

        await eventually(title_refreshed)
    finally:
        await plat.client.aclose()
        await server.__aexit__()
    committed_after = dict(events.execute("SELECT topic, committed FROM group_offsets WHERE grp='summaries'"))
    assert committed_after["papers"] > committed_before["papers"]  # resumed, not restarted from zero
    outbox = sqlite3.connect(tmp_path / "summaries.db").execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert outbox == 0  # every event left its outbox
