"""The `shortscience` command: run the platform, run one service, administer."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

app = typer.Typer(help="ShortScience: short summaries of scientific papers.", no_args_is_help=True)
SERVICES = ("gateway", "papers", "summaries", "search", "social")


def _uvicorn(app_factory: str, host: str, port: int, log_level: str) -> None:
    import gc
    import importlib

    import uvicorn

    # Import the app's modules now and move everything alive into the permanent generation:
    # full collections then skip the long-lived objects, which took the renderer's p99 from
    # ~33 ms to ~19 ms (bench.render). Request-time garbage is collected as usual.
    importlib.import_module(app_factory.split(":")[0])
    gc.freeze()
    uvicorn.run(app_factory, factory=True, host=host, port=port, loop="uvloop", http="httptools",
                log_level=log_level.lower(), access_log=False, lifespan="on")


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="bind address (default SHORTSCIENCE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default SHORTSCIENCE_PORT, 8000)")] = None,
    demo: Annotated[bool | None, typer.Option("--demo/--no-demo", help="load the demo data on first start")] = None,
) -> None:
    """Run the whole platform in one process on the embedded default."""
    import os

    from backbone.logs import configure_logging
    from gateway.config import GatewaySettings

    if demo is not None:
        os.environ["SHORTSCIENCE_DEMO_DATA"] = "true" if demo else "false"
    settings = GatewaySettings()
    configure_logging(settings.log_level, settings.log_json)
    typer.echo(f"ShortScience on http://{host or settings.host}:{port or settings.port} (data in {settings.data_dir})")
    _uvicorn("shortscience.allinone:create_allinone_app", host or settings.host, port or settings.port,
             settings.log_level)


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="gateway | papers | summaries | search | social")],
    host: Annotated[str | None, typer.Option(help="default SHORTSCIENCE_<SERVICE>_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default SHORTSCIENCE_<SERVICE>_PORT")] = None,
) -> None:
    """Run one service as its own process (split deployment; the gateway reaches it over HTTP)."""
    from backbone.logs import configure_logging
    from gateway.config import GatewaySettings
    from services.papers.config import PapersSettings
    from services.search.config import SearchSettings
    from services.social.config import SocialSettings
    from services.summaries.config import SummariesSettings

    if service not in SERVICES:
        raise typer.BadParameter(f"one of {', '.join(SERVICES)}", param_hint="service")
    factories = {
        "gateway": ("shortscience.split:create_gateway", GatewaySettings, "host", "port"),
        "papers": ("services.papers.bootstrap:create_http_app", PapersSettings, "papers_host", "papers_port"),
        "summaries": ("services.summaries.bootstrap:create_http_app", SummariesSettings, "summaries_host",
                      "summaries_port"),
        "search": ("services.search.bootstrap:create_http_app", SearchSettings, "search_host", "search_port"),
        "social": ("services.social.bootstrap:create_http_app", SocialSettings, "social_host", "social_port"),
    }
    factory, settings_class, host_field, port_field = factories[service]
    settings = settings_class()
    configure_logging(settings.log_level, settings.log_json)
    _uvicorn(factory, host or getattr(settings, host_field), port or getattr(settings, port_field),
             settings.log_level)


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument()],
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create the first admin (or grant admin to an existing user with --email ignored)."""
    from backbone.errors import DomainError
    from backbone.runtime import make_event_log
    from gateway.bootstrap import build_identity_runtime
    from gateway.config import GatewaySettings
    from gateway.identity.service import SignupIn

    async def go() -> str:
        settings = GatewaySettings()
        runtime = build_identity_runtime(settings, make_event_log(settings), owns_event_log=True)
        await runtime.start(background=False)
        try:
            service = runtime.api
            existing = await service.store.user_by_username(username)
            if existing is None:
                await service.signup(SignupIn(username=username, email=email, password=password),
                                     roles=frozenset({"member", "moderator", "admin"}))
                await runtime.relay.drain()
                return f"created admin {username}"
            await service.grant(username, "admin")
            await service.grant(username, "moderator")
            return f"{username} is now an admin"
        finally:
            await runtime.stop()

    try:
        typer.echo(asyncio.run(go()))
    except DomainError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(2) from None


search_app = typer.Typer(help="Search index operations.", no_args_is_help=True)
app.add_typer(search_app, name="search")


@app.command()
def reindex() -> None:
    """Rebuild the search index from the beginning of the event log and swap it in."""
    from gateway.config import GatewaySettings
    from shortscience.operations import reindex as run_reindex

    applied = asyncio.run(run_reindex(GatewaySettings()))
    typer.echo(f"reindexed: {applied} events applied")


@search_app.command("reindex")
def search_reindex() -> None:
    """Same as `shortscience reindex`."""
    reindex()


@search_app.command("reconcile")
def search_reconcile() -> None:
    """Compare the index with the summaries service's state and repair differences."""
    from gateway.config import GatewaySettings
    from shortscience.operations import reconcile as run_reconcile

    report = asyncio.run(run_reconcile(GatewaySettings()))
    typer.echo(f"checked {report.checked} summaries; fixed {report.fixed}: "
               f"{len(report.added)} added, {len(report.updated)} updated, {len(report.removed)} removed")
    for label, ids in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        for summary_id in ids:
            typer.echo(f"  {label} {summary_id}")


from shortscience import datacli  # noqa: E402  (commands defined there, registered here)

app.add_typer(datacli.import_app, name="import")
app.command("export")(datacli.export)
app.command("restore")(datacli.restore)
app.command("dump")(datacli.dump)


dlq_app = typer.Typer(help="Dead letters: events a consumer group gave up on.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


@dlq_app.command("list")
def dlq_list(group: Annotated[str | None, typer.Option(help="only this consumer group")] = None) -> None:
    """List the dead letters not yet replayed."""
    from gateway.config import GatewaySettings
    from shortscience.operations import dead_letters

    letters = asyncio.run(dead_letters(GatewaySettings(), group))
    for dl in letters:
        env = dl.record.envelope
        typer.echo(f"{dl.id}\t{dl.group}\t{env.type}\t{env.event_id}\tattempts={dl.attempts}\t{dl.error[:120]}")
    typer.echo(f"{len(letters)} dead letter(s)")


@dlq_app.command("replay")
def dlq_replay(group: Annotated[str, typer.Option(help="the consumer group: summaries, search or social")]) -> None:
    """Run a group's dead letters through its handler again; those that pass are marked replayed."""
    from gateway.config import GatewaySettings
    from shortscience.operations import replay_dead_letters

    try:
        replayed, failed = asyncio.run(replay_dead_letters(GatewaySettings(), group))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--group") from None
    typer.echo(f"replayed {replayed}, still failing {failed}")
    if failed:
        raise typer.Exit(1)


def main() -> None:
    from backbone.errors import EngineUnavailable

    try:
        app()
    except EngineUnavailable as exc:  # one clear line, no stack trace
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
