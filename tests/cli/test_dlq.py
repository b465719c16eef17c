"""`shortscience dlq list|replay` bring dead-lettered events back through their handler."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from backbone.eventlog.sqlite import SqliteEventLog
from backbone.events import PaperRegistered, PaperSnapshot
from shortscience.cli import app


def _dead_letter_a_paper_event(data_dir) -> str:
    async def go() -> str:
        log = SqliteEventLog(data_dir / "events.db")
        await log.start()
        snap = PaperSnapshot(paper_id="p1", title="T", authors=["A"], venue=None, venue_key=None, year=None)
        env = PaperRegistered(paper=snap).envelope(aggregate_id="p1", aggregate_version=1, producer="test")
        await log.publish([env])
        consumer = log.consumer("summaries", ["papers"])
        [record] = await consumer.poll(10, 1.0)
        await log.dead_letter("summaries", record, "RuntimeError('boom')", 5)
        await consumer.close()
        await log.close()
        return env.event_id

    return asyncio.run(go())


def test_list_and_replay_dead_letters(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTSCIENCE_DATA_DIR", str(tmp_path))
    event_id = _dead_letter_a_paper_event(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(app, ["dlq", "list"])
    assert listed.exit_code == 0 and event_id in listed.output and "1 dead letter(s)" in listed.output
    replayed = runner.invoke(app, ["dlq", "replay", "--group", "summaries"])
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1, still failing 0" in replayed.output
    assert "0 dead letter(s)" in runner.invoke(app, ["dlq", "list"]).output


def test_an_unknown_group_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTSCIENCE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["dlq", "replay", "--group", "nope"])
    assert result.exit_code == 2 and "unknown consumer group" in result.output
