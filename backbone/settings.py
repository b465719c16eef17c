"""Settings every service shares; each service subclasses `CommonSettings` with its own.

All variables carry the `SHORTSCIENCE_` prefix. Backend selectors default to the embedded
engines so one machine runs everything with no servers. Nothing here is read at import
time: a service builds its settings object in `bootstrap`, so tests can pass their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_INTERNAL_SECRET = "dev-internal-secret-change-me"
MIN_PRODUCTION_SECRET_CHARS = 32


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHORTSCIENCE_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    events: Literal["sqlite", "kafka"] = "sqlite"
    store: Literal["sqlite", "mongo"] = "sqlite"
    search: Literal["fts5", "elasticsearch", "opensearch"] = "fts5"
    # Engine addresses of the distributed backends (also read without the prefix, as the
    # engines' own tools and `make engines` spell them).
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("SHORTSCIENCE_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    kafka_partitions: int = Field(default=6, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=7)
    # Prepended to every topic and consumer-group name: several installations (or test runs)
    # can share one Kafka cluster.
    kafka_prefix: str = Field(default="shortscience.", pattern=r"^[A-Za-z0-9._-]*$")
    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017/?directConnection=true",
        validation_alias=AliasChoices("SHORTSCIENCE_MONGODB_URL", "MONGODB_URL"),
    )
    # Each service's database is named `<mongodb_prefix><service>`.
    mongodb_prefix: str = Field(default="shortscience_", pattern=r"^[A-Za-z0-9_-]*$")
    elasticsearch_url: str = Field(
        default="http://127.0.0.1:9200",
        validation_alias=AliasChoices("SHORTSCIENCE_ELASTICSEARCH_URL", "ELASTICSEARCH_URL"),
    )
    opensearch_url: str = Field(
        default="http://127.0.0.1:9200",
        validation_alias=AliasChoices("SHORTSCIENCE_OPENSEARCH_URL", "OPENSEARCH_URL"),
    )
    # The search index (alias) name on Elasticsearch/OpenSearch.
    search_index_name: str = Field(default="shortscience-summaries", pattern=r"^[a-z0-9._-]+$")
    # How long a service waits before trying an unreachable engine again (doubling up to the max).
    engine_retry_base: float = Field(default=0.5, gt=0, le=60)
    engine_retry_max: float = Field(default=15.0, gt=0, le=600)
    internal_secret: str = DEV_INTERNAL_SECRET
    log_level: str = "INFO"
    log_json: bool = True
    # How often a consumer or relay looks for new work when nothing woke it up (seconds).
    poll_interval: float = Field(default=0.05, gt=0, le=10)
    consumer_max_attempts: int = Field(default=5, ge=1, le=100)
    consumer_retry_base: float = Field(default=0.2, gt=0, le=60)

    @model_validator(mode="after")
    def _refuse_dev_secret_in_production(self) -> "CommonSettings":
        # An empty secret would let through any request carrying an empty header.
        if not self.internal_secret:
            raise ValueError("SHORTSCIENCE_INTERNAL_SECRET must not be empty")
        if self.environment == "production":
            if self.internal_secret == DEV_INTERNAL_SECRET:
                raise ValueError("SHORTSCIENCE_INTERNAL_SECRET must be set in production")
            if len(self.internal_secret) < MIN_PRODUCTION_SECRET_CHARS:
                raise ValueError(f"SHORTSCIENCE_INTERNAL_SECRET must have at least {MIN_PRODUCTION_SECRET_CHARS} "
                                 "characters in production (e.g. `openssl rand -hex 32`)")
        return self

    @property
    def event_log_path(self) -> Path:
        return self.data_dir / "events.db"

    def db_path(self, service: str) -> Path:
        return self.data_dir / f"{service}.db"

    def mongo_database(self, service: str) -> str:
        return f"{self.mongodb_prefix}{service}"

    @property
    def search_engine_url(self) -> str:
        return self.opensearch_url if self.search == "opensearch" else self.elasticsearch_url
