from __future__ import annotations

from typing import Literal

from backbone.settings import CommonSettings


class SearchSettings(CommonSettings):
    search: Literal["fts5", "elasticsearch", "opensearch"] = "fts5"
    search_host: str = "127.0.0.1"
    search_port: int = 8003
