from __future__ import annotations

from backbone.settings import CommonSettings


class SummariesSettings(CommonSettings):
    summaries_host: str = "127.0.0.1"
    summaries_port: int = 8002
