"""Benchmark of the indicator engine: ~3,300 units and ~200,000 activities on SQLite.

    .venv/bin/python bench/indicator_bench.py [--units 3300] [--activities 200000] [--url sqlite:///…] [--runs 5]

Builds a fresh database (migrated and seeded) in a temporary directory unless --url is given, fills it with a
random but fixed world (seed 2030), then times GET /api/v1/indicator-values for one year: city-wide, by unit,
a 304 revalidation, and GET /api/v1/statistics by unit, through the real app.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

KINDS = ["conference", "training", "talk", "direct", "community_meeting", "cultural_event", "broadcast",
         "online_post", "publication", "school_activity", "club", "inspection"]
CHANNELS = ["radio_tv", "loudspeaker", "e_portal", "social_media", "print", "direct"]
GROUPS = ["officials", "public", "youth", "men", "elderly", "ethnic_minorities", "children", "disabled"]
PRODUCTS = ["leaflet", "poster", "video_clip", "bulletin"]
FUNDING = ["state_budget", "international", "social_mobilisation", "other", None]
YEARS = range(2022, 2027)


def _chunks(rows: list[dict], size: int = 5000):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def build(url: str, n_units: int, n_activities: int) -> str:
    """Migrate, seed and fill the database; returns a read token."""
    from app.cli import migrate
    from app.db import make_engine
    from app.models import (
        Activity,
        ActivityProduct,
        ActivityTargetGroup,
        AnnualReport,
        ApiToken,
        Campaign,
        CampaignPlan,
        ReportMediaStatus,
        Role,
        TokenKind,
        Unit,
        User,
    )
    from app.security import new_token
    from app.services.seed import load_all

    rnd = random.Random(2030)
    migrate(url)
    eng = make_engine(url)
    now = datetime.now(UTC)
    with Session(eng) as session:
        load_all(session)
        session.commit()
        city = session.exec(select(Unit.id).where(Unit.code == "tp-bac-kan")).one()
        # 33 areas under the city, each with wards/communes, offices and loudspeaker systems.
        areas = []
        for a in range(33):
            area = Unit(code=f"bench-area-{a}", name_vi=f"Khu vực {a}", kind="other", parent_id=city)
            session.add(area)
            areas.append(area)
        session.flush()
        rows = []
        for i in range(n_units):
            kind = "commune" if i % 10 < 7 else ("media" if i % 10 == 7 else rnd.choice(["department", "mass_org"]))
            closed = i % 97 == 0
            rows.append({"code": f"bench-{i}", "name_vi": f"Đơn vị {i}", "name_en": "", "kind": kind,
                         "parent_id": areas[i % 33].id, "valid_from": date(2022, 1, 1),
                         "valid_to": date(2024, 6, 30) if closed else None,
                         "created_at": now, "updated_at": now, "version": 1})
        for chunk in _chunks(rows):
            session.execute(insert(Unit), chunk)
        units = session.exec(select(Unit.id, Unit.kind).where(Unit.code.like("bench-%"))).all()
        unit_ids = [u for u, k in units if str(k) != "other"]
        outlets = [u for u, k in units if str(k) == "media"]
        communes = [u for u, k in units if str(k) == "commune"]
        campaigns = {c.year: c for c in session.exec(select(Campaign).where(Campaign.kind == "action_month"))}

        activities = []
        for _ in range(n_activities):
            year = rnd.choice(YEARS)
            held = date(year, 1, 1) + timedelta(days=rnd.randrange(365))
            camp = campaigns[year].id if held >= date(year, 11, 15) and rnd.random() < 0.5 else None
            activities.append({
                "unit_id": rnd.choice(unit_ids), "held_on": held, "title": "Hoạt động truyền thông",
                "kind": rnd.choice(KINDS), "channel": rnd.choice(CHANNELS), "task_group": str(rnd.randint(1, 7)),
                "campaign_id": camp, "participants_male": rnd.randint(0, 80), "participants_female": rnd.randint(0, 80),
                "broadcasts": rnd.randint(0, 5), "cost_vnd": rnd.randint(0, 20) * 100_000,
                "funding_source": rnd.choice(FUNDING), "created_at": now, "updated_at": now, "version": 1})
        for chunk in _chunks(activities):
            session.execute(insert(Activity), chunk)
        ids = session.exec(select(Activity.id)).all()
        groups, products = [], []
        for aid in ids:
            if rnd.random() < 0.5:
                groups.append({"activity_id": aid, "code": rnd.choice(GROUPS), "participants_male": rnd.randint(0, 40),
                               "participants_female": rnd.randint(0, 40)})
            if rnd.random() < 0.3:
                products.append({"activity_id": aid, "code": rnd.choice(PRODUCTS), "quantity": rnd.randint(1, 500)})
        for chunk in _chunks(groups):
            session.execute(insert(ActivityTargetGroup), chunk)
        for chunk in _chunks(products):
            session.execute(insert(ActivityProduct), chunk)

        plans = [{"campaign_id": campaigns[y].id, "unit_id": u, "document_number": "01/KH",
                  "document_date": date(y, 11, 1), "created_at": now, "updated_at": now, "version": 1}
                 for y in YEARS for u in unit_ids if rnd.random() < 0.6]
        for chunk in _chunks(plans):
            session.execute(insert(CampaignPlan), chunk)
        reports = []
        for y in YEARS:
            for u in communes:
                adopted = rnd.randint(0, 6)
                reports.append({
                    "unit_id": u, "year": y, "kind": "annual",
                    "status": rnd.choice(["draft", "submitted", "accepted", "returned", "resubmitted"]),
                    "period_start": date(y, 1, 1), "period_end": date(y, 12, 31), "cutoff_on": date(y, 12, 5),
                    "due_at": datetime(y, 12, 9, 17, tzinfo=UTC), "conventions_adopted": adopted,
                    "conventions_without_discrimination": rnd.randint(0, adopted), "results_by_task_group": {},
                    "leadership": "", "results_vs_targets": "", "funding": "", "assessment": "",
                    "next_year_tasks": "", "proposals": "", "created_at": now, "updated_at": now, "version": 1})
        for chunk in _chunks(reports):
            session.execute(insert(AnnualReport), chunk)
        report_ids = session.exec(select(AnnualReport.id, AnnualReport.year)).all()
        by_year: dict[int, list[int]] = {}
        for rid, y in report_ids:
            by_year.setdefault(y, []).append(rid)
        statuses = [{"report_id": rnd.choice(by_year[y]), "outlet_id": o,
                     "status": rnd.choice(["none", "pilot", "official"])} for y in YEARS for o in outlets]
        seen = set()
        statuses = [s for s in statuses if (s["report_id"], s["outlet_id"]) not in seen
                    and not seen.add((s["report_id"], s["outlet_id"]))]
        for chunk in _chunks(statuses):
            session.execute(insert(ReportMediaStatus), chunk)

        user = User(username="bench", full_name="Bench", role=Role.viewer, password_hash="x")
        session.add(user)
        session.flush()
        token, token_hash = new_token()
        session.add(ApiToken(user_id=user.id, kind=TokenKind.api, name="bench", token_hash=token_hash,
                             prefix=token[:10], scopes="read"))
        session.commit()
        print(f"world: {len(rows) + 33} units, {len(activities)} activities, {len(groups)} target groups, "
              f"{len(products)} products, {len(plans)} campaign plans, {len(reports)} reports")
    eng.dispose()
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3300)
    parser.add_argument("--activities", type=int, default=200_000)
    parser.add_argument("--url", help="database URL (default: a new SQLite file in a temporary directory)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/bench.db"
        import os

        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("WEBHOOK_WORKER", "false")
        from app.config import get_settings

        get_settings.cache_clear()
        started = time.perf_counter()
        token = build(url, args.units, args.activities)
        print(f"built in {time.perf_counter() - started:.1f} s")

        from fastapi.testclient import TestClient

        from app import db
        from app.main import create_app

        db.set_engine(db.make_engine(url))
        headers = {"Authorization": f"Bearer {token}"}
        cases = [
            ("indicator-values year=2025, city-wide", "/api/v1/indicator-values", {"year": "2025"}),
            ("indicator-values year=2025, by=unit", "/api/v1/indicator-values", {"year": "2025", "by": "unit"}),
            ("indicator-values year=2025, by=unit, CSV", "/api/v1/indicator-values",
             {"year": "2025", "by": "unit", "format": "csv"}),
            ("indicator-values 2022-2026, city-wide", "/api/v1/indicator-values", {"year": "2022-2026"}),
            ("statistics year=2025, by=unit", "/api/v1/statistics", {"year": "2025", "by": "unit"}),
        ]
        with TestClient(create_app()) as client:
            for name, path, params in cases:
                times, size = [], 0
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    r = client.get(path, params=params, headers=headers)
                    times.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                    size = len(r.content)
                etag = r.headers["etag"]
                t0 = time.perf_counter()
                again = client.get(path, params=params, headers={**headers, "If-None-Match": etag})
                revalidate = time.perf_counter() - t0
                assert again.status_code == 304
                print(f"{name:45s} median {statistics.median(times) * 1000:7.0f} ms  "
                      f"min {min(times) * 1000:7.0f} ms  {size / 1024:7.0f} KiB  304 in {revalidate * 1000:4.0f} ms")
        db.set_engine(None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
