"""Settings, read from the environment (and `.env`) once per process."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = f"sqlite:///{ROOT / 'var' / 'bdg.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_SQLITE
    # None: the web frontend calls the API in-process; otherwise the API's base URL (…/api).
    api_base_url: str | None = None
    secret_key: str = "change-me"

    # First administrator, created on first run.
    bdg_admin_username: str = "admin"
    bdg_admin_password: str | None = None

    # Timezone of all calendar dates and deadlines.
    timezone: str = "Asia/Ho_Chi_Minh"
    # Lifetime of a login token (minutes).
    login_token_minutes: int = 8 * 60
    # Anonymous callers may read aggregated indicator values when true.
    public_indicator_values: bool = False
    # Writes without If-Match are refused (428) when true; otherwise If-Match is checked when sent.
    require_if_match: bool = False

    # Unit kinds owing an annual report, and in scope of IND-01/IND-02 (DOMAIN.md).
    reporting_kinds: list[str] = ["department", "mass_org", "ward", "commune"]
    ind_unit_kinds: list[str] = ["department", "mass_org", "ward", "commune", "enterprise"]
    # Annual report due date: the report is on time strictly before this day (local time).
    report_due_month: int = 12
    report_due_day: int = 10
    # "any": a unit counts in a year's denominator if active at any time in it; "end": on 31/12.
    active_in_year: Literal["any", "end"] = "any"
    # IND-03 compares this form of change with its target.
    ind03_change: Literal["relative", "points"] = "relative"
    # Rounding of a share-of-units target into a count of units (IND-04: 90% of 9).
    target_count_rounding: Literal["ceil", "round", "floor"] = "ceil"
    # Status thresholds: value ≥ target → achieved/on_track; ≥ target − at_risk_margin → at_risk.
    at_risk_margin: float = 10.0

    max_upload_bytes: int = 10 * 1024 * 1024
    upload_dir: Path = ROOT / "var" / "files"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "bdg2030@localhost"

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        # Plain postgres URLs use psycopg 3.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _no_placeholder_secret(self) -> "Settings":
        if self.environment == "production" and self.secret_key == "change-me":
            raise ValueError("SECRET_KEY must be set in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process's settings (cached; tests clear the cache to change them)."""
    return Settings()
