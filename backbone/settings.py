"""Settings every service shares; each service subclasses `CommonSettings` with its own.

All variables carry the `SHORTSCIENCE_` prefix. Backend selectors default to the embedded
engines so one machine runs everything with no servers. Nothing here is read at import
time: a service builds its settings object in `bootstrap`, so tests can pass their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_INTERNAL_SECRET = "dev-internal-secret-change-me"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHORTSCIENCE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    events: Literal["sqlite", "kafka"] = "sqlite"
    store: Literal["sqlite", "mongo"] = "sqlite"
    internal_secret: str = DEV_INTERNAL_SECRET
    log_level: str = "INFO"
    log_json: bool = True
    # How often a consumer or relay looks for new work when nothing woke it up (seconds).
    poll_interval: float = Field(default=0.05, gt=0, le=10)
    consumer_max_attempts: int = Field(default=5, ge=1, le=100)
    consumer_retry_base: float = Field(default=0.2, gt=0, le=60)

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> "CommonSettings":
        if self.environment == "production" and self.internal_secret == DEV_INTERNAL_SECRET:
            raise ValueError("SHORTSCIENCE_INTERNAL_SECRET must be set in production")
        return self

    @property
    def event_log_path(self) -> Path:
        return self.data_dir / "events.db"

    def db_path(self, service: str) -> Path:
        return self.data_dir / f"{service}.db"
