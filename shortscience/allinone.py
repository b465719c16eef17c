"""Everything in one process on the embedded default: the gateway calls each service's
application layer directly, and all services share one event-log connection (so an
append wakes the consumers at once)."""

from __future__ import annotations

from fastapi import FastAPI

from backbone.runtime import make_event_log
from backbone.settings import CommonSettings
from gateway.bootstrap import create_gateway_app
from gateway.config import GatewaySettings
from services.papers.bootstrap import bootstrap as papers_bootstrap
from services.papers.config import PapersSettings
from services.search.bootstrap import bootstrap as search_bootstrap
from services.search.config import SearchSettings
from services.social.bootstrap import bootstrap as social_bootstrap
from services.social.config import SocialSettings
from services.summaries.bootstrap import bootstrap as summaries_bootstrap
from services.summaries.config import SummariesSettings


def common_values(settings: CommonSettings) -> dict:
    return settings.model_dump(include=set(CommonSettings.model_fields))


def create_allinone_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    shared = common_values(settings)
    event_log = make_event_log(settings)
    papers = papers_bootstrap(PapersSettings(**shared), event_log=event_log)
    summaries = summaries_bootstrap(SummariesSettings(**shared), event_log=event_log)
    search = search_bootstrap(SearchSettings(**shared), event_log=event_log)
    social = social_bootstrap(SocialSettings(**shared, public_url=settings.public_url), event_log=event_log)

    hooks = []
    if settings.demo_data:
        from shortscience.demo import load_demo_data

        async def demo(app: FastAPI) -> None:
            await load_demo_data(app.state.gateway)

        hooks.append(demo)

    return create_gateway_app(
        settings,
        papers=papers.api,
        summaries=summaries.api,
        search=search.api,
        social=social.api,
        event_log=event_log,
        runtimes=[papers, summaries, search, social],
        on_started=hooks,
    )
