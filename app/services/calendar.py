"""The campaign calendar and local dates (Asia/Ho_Chi_Minh)."""

import json
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from app.config import get_settings

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"


def local_zone() -> ZoneInfo:
    """The zone of all calendar dates and deadlines."""
    return ZoneInfo(get_settings().timezone)


def local_today(now: datetime | None = None) -> date:
    """Today's date in the local zone."""
    return (now or datetime.now(UTC)).astimezone(local_zone()).date()


def local_midnight(day: date) -> datetime:
    """The first instant of a local calendar day, as a UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


@lru_cache
def campaign_rules() -> dict:
    """The recurring campaigns (kind, window, names) from the seed file."""
    return json.loads((SEED_DIR / "campaigns.json").read_text(encoding="utf-8"))


def campaigns_for_year(year: int) -> list[dict]:
    """The recurring campaigns of a year, as rows ready to insert (code, kind, window, names, theme)."""
    rules = campaign_rules()
    rows = []
    for rule in rules["kinds"]:
        start_m, start_d = (int(x) for x in rule["start"].split("-"))
        end_m, end_d = (int(x) for x in rule["end"].split("-"))
        rows.append(
            {
                "code": f"{rule['kind'].replace('_', '-')}-{year}",
                "kind": rule["kind"],
                "year": year,
                "name_vi": f"{rule['name_vi']} năm {year}",
                "name_en": f"{rule['name_en']} {year}",
                "theme_vi": rules.get("themes", {}).get(f"{rule['kind']}:{year}"),
                "starts_on": date(year, start_m, start_d),
                "ends_on": date(year, end_m, end_d),
            }
        )
    return rows


def now() -> datetime:
    """The current time (UTC); the one clock of deadlines and workflow stamps, so that tests can set it."""
    return datetime.now(UTC)
