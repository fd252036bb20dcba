"""Settings, read from the environment (and `.env`) once per process."""

from datetime import date
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
    # Failed logins for one username within the window that lock further attempts (429) until it passes.
    login_max_failures: int = 10
    login_lockout_minutes: int = 15
    # Anonymous callers may read aggregated indicator values when true.
    public_indicator_values: bool = False
    # Writes without If-Match are refused (428) when true; otherwise If-Match is checked when sent.
    require_if_match: bool = False
    # How long a creating POST's Idempotency-Key is remembered (hours).
    idempotency_hours: int = 24

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
    # IND-01: an activity is a communication/dissemination session on law and policy when its task group is one
    # of these OR its kind is one of these.
    ind01_task_groups: list[str] = ["1"]
    ind01_activity_kinds: list[str] = ["conference", "training", "talk", "themed_talk", "direct", "community_meeting"]
    # Unit kinds counted by IND-04 (media outlets) and IND-05 (units adopting community conventions).
    ind04_unit_kinds: list[str] = ["media"]
    ind05_unit_kinds: list[str] = ["ward", "commune"]

    max_upload_bytes: int = 10 * 1024 * 1024
    upload_dir: Path = ROOT / "var" / "files"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "bdg2030@localhost"
    # Upgrade the SMTP connection with STARTTLS (port 587 servers); seconds before an SMTP call gives up.
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 30.0

    # E-mail reminders (`python -m app.cli remind`, daily from cron): days before / after the report's due date,
    # and days before the Action Month starts (15/11) for units without a campaign plan.
    reminder_days_before: list[int] = [7, 1]
    reminder_days_after: list[int] = [1, 7]
    plan_reminder_days_before: list[int] = [7, 1]
    # A reminder missed on its day (cron did not run) is still sent this many days later, unless a later one is due.
    reminder_catch_up_days: int = 3
    # Address of the web app, quoted in reminder e-mails (None: no link).
    reminder_site_url: str | None = None

    # Webhook delivery: HTTP timeout, retry backoff (base × 2^(attempt-1), capped), attempts before giving up.
    webhook_timeout_seconds: float = 10.0
    webhook_backoff_seconds: int = 30
    webhook_backoff_max_seconds: int = 6 * 3600
    webhook_max_attempts: int = 8
    # A worker claims a delivery for this long; another worker may take it over afterwards (a crash mid-send).
    webhook_lease_seconds: int = 120
    # Run the delivery loop inside each app process (every N seconds); off: run `app.cli deliver-webhooks` instead.
    webhook_worker: bool = True
    webhook_worker_interval_seconds: float = 15.0
    webhook_batch_size: int = 100

    # Evidence files: the extensions accepted (each also checked against its file signature).
    upload_extensions: list[str] = [".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".odt", ".txt"]

    # Per-year due date of the annual report (ISO date, local): on time strictly before that day. Years not listed
    # use report_due_month/report_due_day. Env: REPORT_DUE_OVERRIDES='{"2025": "2025-12-15"}'.
    report_due_overrides: dict[int, date] = {}

    # Official documents (Decree 30/2020/NĐ-CP; docs/documents.md). The place in the date line.
    document_place: str = "TP. Bắc Kạn"
    # Who a unit's annual report is addressed to ("Kính gửi").
    document_report_to: str = "Ủy ban nhân dân thành phố Bắc Kạn (qua Phòng Lao động - Thương binh và Xã hội)"
    # The lead office compiles the city's report and the period reviews: the issuing-body lines of its letterhead,
    # the abbreviation in its numbers, the addressee, the signature block and the "Nơi nhận" list.
    document_lead_parent_body: str = "UBND thành phố Bắc Kạn"
    document_lead_body: str = "Phòng Lao động - Thương binh và Xã hội"
    document_lead_abbreviation: str = "LĐTBXH"
    document_city_report_to: str = "Ủy ban nhân dân thành phố Bắc Kạn"
    document_lead_signature: list[str] = ["TRƯỞNG PHÒNG"]
    document_lead_signer_name: str = ""
    document_city_recipients: list[str] = ["Như trên;", "Chủ tịch, các Phó Chủ tịch UBND thành phố;",
                                           "Sở Lao động - Thương binh và Xã hội tỉnh;", "Lưu: VT, LĐTBXH."]
    document_unit_recipients: list[str] = ["Như trên;", "Lưu: VT."]
    # Abbreviations of units in document numbers (`Số: …/BC-LĐTBXH`), by unit code. Wards and communes not listed
    # use "UBND"; other units the initials of their name.
    document_abbreviations: dict[str, str] = {
        "phong-ldtbxh": "LĐTBXH", "phong-tckh": "TCKH", "phong-vhtt": "VHTT", "tt-vhttt": "TTVHTTTT",
        "phong-gddt": "GDĐT", "tt-yte": "TTYT", "vp-hdnd-ubnd": "VP", "mttq": "MTTQ", "hoi-lhpn": "HLHPN",
        "doan-tn": "ĐTN", "hoi-nong-dan": "HND", "hoi-ccb": "HCCB", "ldld": "LĐLĐ",
    }
    # The parent-body line of a unit's letterhead, by unit code ("" leaves it out); units not listed show their
    # parent ("UBND THÀNH PHỐ BẮC KẠN" under the city).
    document_parent_bodies: dict[str, str] = {}
    # The capacity lines of a unit's signature block, by unit code; units not listed get those of their kind.
    document_signatures: dict[str, list[str]] = {}

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
