from __future__ import annotations

from backbone.settings import CommonSettings


class PapersSettings(CommonSettings):
    papers_host: str = "127.0.0.1"
    papers_port: int = 8001
