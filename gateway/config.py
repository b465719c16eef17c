from __future__ import annotations

from pydantic import Field

from backbone.settings import CommonSettings


class GatewaySettings(CommonSettings):
    host: str = "127.0.0.1"
    port: int = 8000
    papers_url: str = "http://127.0.0.1:8001"
    summaries_url: str = "http://127.0.0.1:8002"
    search_url: str = "http://127.0.0.1:8003"
    social_url: str = "http://127.0.0.1:8004"
    public_url: str = "http://127.0.0.1:8000"
    demo_data: bool = False

    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    session_days: int = Field(default=30, ge=1, le=365)
    # Rate limits: requests per window, per client address (logins, sign-ups) or per user (writes).
    login_limit: int = Field(default=10, ge=1)
    login_window: float = Field(default=60.0, gt=0)
    signup_limit: int = Field(default=20, ge=1)
    signup_window: float = Field(default=3600.0, gt=0)
    write_limit: int = Field(default=120, ge=1)
    write_window: float = Field(default=60.0, gt=0)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 low-memory profile).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
