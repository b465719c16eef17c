"""The social service's settings.

The platform credentials and the pacing limits keep the public names operators know from
the platforms' own docs (`TWITTER_CONSUMER_KEY`, `FACEBOOK_PAGE_TOKEN`,
`SOCIAL_TWITTER_MAX_PER_DAY`, ...); each also reads with the `SHORTSCIENCE_` prefix.
A channel with no credentials runs dry: its posts are composed and stored as `dry_run`.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from backbone.settings import CommonSettings
from services.social.domain.compose import DEFAULT_TEMPLATES, check_template
from services.social.domain.model import CHANNELS

TWITTER_API = "https://api.twitter.com"
FACEBOOK_GRAPH = "https://graph.facebook.com"


def _env(name: str, **kwargs):
    """A field read from `NAME` or `SHORTSCIENCE_NAME` (and by its own name in code)."""
    return Field(validation_alias=AliasChoices(name, f"SHORTSCIENCE_{name}"), **kwargs)


class SocialSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="SHORTSCIENCE_", extra="ignore", populate_by_name=True)

    social_host: str = "127.0.0.1"
    social_port: int = 8004
    # Links in posts point at the summary's page under this address.
    public_url: str = "http://127.0.0.1:8000"

    channels: str = _env("SOCIAL_CHANNELS", default="twitter,facebook")
    twitter_template: str = _env("SOCIAL_TWITTER_TEMPLATE", default=DEFAULT_TEMPLATES["twitter"])
    facebook_template: str = _env("SOCIAL_FACEBOOK_TEMPLATE", default=DEFAULT_TEMPLATES["facebook"])

    # Pacing: at most this many sends in the trailing day (Twitter) or hour (Facebook).
    # 17 a day is X's free-tier cap on POST /2/tweets per user; 0 turns pacing off.
    twitter_max_per_day: int = _env("SOCIAL_TWITTER_MAX_PER_DAY", default=17, ge=0)
    facebook_max_per_hour: int = _env("SOCIAL_FACEBOOK_MAX_PER_HOUR", default=10, ge=0)

    # Transient failures (5xx, network, Graph codes 1/2) are retried with exponential
    # backoff and jitter; after `max_attempts` of them the post is `failed`.
    max_attempts: int = _env("SOCIAL_MAX_ATTEMPTS", default=5, ge=1, le=50)
    retry_base_seconds: float = _env("SOCIAL_RETRY_BASE_SECONDS", default=30.0, gt=0)
    retry_max_seconds: float = _env("SOCIAL_RETRY_MAX_SECONDS", default=3600.0, gt=0)
    # How long to wait when a platform throttles without saying for how long.
    throttle_backoff_seconds: float = _env("SOCIAL_THROTTLE_BACKOFF_SECONDS", default=900.0, gt=0)
    # Posts sent at once per channel (a burst still respects the pacing limit).
    send_concurrency: int = _env("SOCIAL_SEND_CONCURRENCY", default=1, ge=1, le=64)
    # A send not recorded after this long is treated as crashed: sent again, and a
    # duplicate-content answer then counts as success. Must exceed the HTTP timeout.
    send_lease_seconds: float = _env("SOCIAL_SEND_LEASE_SECONDS", default=120.0, gt=0)
    http_timeout: float = _env("SOCIAL_HTTP_TIMEOUT", default=20.0, gt=0)
    # Summaries older than this when their event arrives are not posted: a new consumer
    # group replaying the whole log must not flood the accounts with old summaries.
    max_age_hours: float = _env("SOCIAL_MAX_AGE_HOURS", default=72.0, gt=0)
    # Longest sleep of an idle sender before it looks again (it is woken on new posts).
    idle_seconds: float = _env("SOCIAL_IDLE_SECONDS", default=1.0, gt=0, le=60)

    twitter_api_base_url: str = Field(default=TWITTER_API, validation_alias=AliasChoices(
        "TWITTER_API_BASE_URL", "SHORTSCIENCE_TWITTER_API_BASE_URL"))
    twitter_consumer_key: SecretStr | None = _env("TWITTER_CONSUMER_KEY", default=None)
    twitter_consumer_secret: SecretStr | None = _env("TWITTER_CONSUMER_SECRET", default=None)
    twitter_access_token: SecretStr | None = _env("TWITTER_ACCESS_TOKEN", default=None)
    twitter_access_token_secret: SecretStr | None = _env("TWITTER_ACCESS_TOKEN_SECRET", default=None)

    facebook_graph_base_url: str = _env("FACEBOOK_GRAPH_BASE_URL", default=FACEBOOK_GRAPH)
    facebook_graph_version: str = _env("FACEBOOK_GRAPH_VERSION", default="v26.0", pattern=r"^v\d+\.\d+$")
    facebook_page_id: str | None = _env("FACEBOOK_PAGE_ID", default=None)
    facebook_page_token: SecretStr | None = _env("FACEBOOK_PAGE_TOKEN", default=None)

    @field_validator("channels")
    @classmethod
    def _known_channels(cls, value: str) -> str:
        names = [c.strip() for c in value.split(",") if c.strip()]
        unknown = sorted(set(names) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; known: {', '.join(CHANNELS)}")
        return ",".join(names)

    @field_validator("twitter_template", "facebook_template")
    @classmethod
    def _valid_template(cls, value: str, info) -> str:
        check_template(value, require_link=info.field_name == "twitter_template")
        return value

    @model_validator(mode="after")
    def _credentials_complete(self) -> "SocialSettings":
        """Half-configured credentials are a mistake to report, not a reason to run dry."""
        for channel, fields in (("twitter", self._twitter_fields()), ("facebook", self._facebook_fields())):
            given = [name for name, value in fields.items() if value]
            if given and len(given) != len(fields):
                missing = sorted(set(fields) - set(given))
                raise ValueError(f"{channel} credentials are incomplete: missing {', '.join(missing)}")
        return self

    def _twitter_fields(self) -> dict[str, object]:
        return {"TWITTER_CONSUMER_KEY": self.twitter_consumer_key,
                "TWITTER_CONSUMER_SECRET": self.twitter_consumer_secret,
                "TWITTER_ACCESS_TOKEN": self.twitter_access_token,
                "TWITTER_ACCESS_TOKEN_SECRET": self.twitter_access_token_secret}

    def _facebook_fields(self) -> dict[str, object]:
        return {"FACEBOOK_PAGE_ID": self.facebook_page_id, "FACEBOOK_PAGE_TOKEN": self.facebook_page_token}

    @property
    def enabled_channels(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNELS if c in self.channels.split(","))

    def live(self, channel: str) -> bool:
        """True when the channel has credentials and really posts; False means dry-run."""
        fields = self._twitter_fields() if channel == "twitter" else self._facebook_fields()
        return all(fields.values())

    @property
    def templates(self) -> dict[str, str]:
        return {"twitter": self.twitter_template, "facebook": self.facebook_template}
