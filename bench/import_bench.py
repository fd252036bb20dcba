"""Time a bulk import of activities through the API, in-process, against a fresh SQLite database.

    .venv/bin/python bench/import_bench.py              # 10,000 rows, CSV
    .venv/bin/python bench/import_bench.py --rows 20000 --xlsx

Builds the file, migrates and seeds a new database in a temporary directory, creates a coordinator with a token,
checks the file (dry run), imports it, and prints the time and rows per second of each step.
"""

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

UNITS = ["p-song-cau", "x-duong-quang", "p-duc-xuan", "hoi-lhpn", "doan-tn", "loa-p-song-cau", "tt-vhttt"]
HEADER = ["unit", "held_on", "ends_on", "title", "kind", "channel", "task_group", "campaign", "participants_male",
          "participants_female", "target_groups", "products", "broadcasts", "cost_vnd", "funding_source", "location",
          "description"]


def build_rows(n: int) -> list[list]:
    """`n` valid activities spread over units, days of 2024–2025, kinds and task groups."""
    rows = []
    for i in range(n):
        day = date(2024, 1, 1) + timedelta(days=i % 700)
        month = f"action-month-{day.year}" if (day.month, day.day) >= (11, 15) and (day.month, day.day) <= (12, 15) \
            else ""
        rows.append([
            UNITS[i % len(UNITS)], day.strftime("%d/%m/%Y"), "", f"Truyền thông về bình đẳng giới số {i + 1}",
            ("direct", "training", "talk", "broadcast")[i % 4], ("direct", "loudspeaker", "social_media")[i % 3],
            str(i % 7 + 1), month, i % 40, i * 7 % 55, "public;elderly" if i % 3 else "youth",
            "leaflet:200;poster:5" if i % 2 else "", i % 3, 500000 if i % 5 == 0 else 0,
            "state_budget" if i % 5 == 0 else "", "Nhà văn hóa tổ dân phố", "",
        ])
    return rows


def to_csv(rows: list[list]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--xlsx", action="store_true", help="send an XLSX workbook instead of CSV")
    parser.add_argument("--keep", action="store_true", help="keep the database file afterwards")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bdg-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["DATABASE_URL"] = url
    os.environ["MAX_UPLOAD_BYTES"] = str(200 * 1024 * 1024)
    os.environ.setdefault("WEBHOOK_WORKER", "false")

    from fastapi.testclient import TestClient
    from sqlmodel import Session, func, select

    from app import db
    from app.cli import migrate
    from app.config import get_settings
    from app.main import create_app
    from app.models import Activity, AuditEntry, Role, TokenKind, User
    from app.models.user import ApiToken
    from app.security import hash_password, new_token
    from app.services.seed import load_all

    get_settings.cache_clear()
    migrate(url)
    engine = db.make_engine(url)
    db.set_engine(engine)
    with Session(engine) as session:
        load_all(session)
        user = User(username="bench", full_name="Benchmark", role=Role.coordinator,
                    password_hash=hash_password("bench-password"))
        session.add(user)
        session.flush()
        token, token_hash = new_token()
        session.add(ApiToken(user_id=user.id, kind=TokenKind.api, name="bench", token_hash=token_hash,
                             prefix=token[:10], scopes="read write"))
        session.commit()

    started = time.perf_counter()
    rows = build_rows(args.rows)
    content, name = (to_xlsx(rows), "bench.xlsx") if args.xlsx else (to_csv(rows), "bench.csv")
    print(f"file: {name}, {args.rows} rows, {len(content) / 1024:.0f} KiB, built in "
          f"{time.perf_counter() - started:.2f} s")

    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app()) as client:
        for dry_run in (True, False):
            started = time.perf_counter()
            r = client.post("/api/v1/activities/import", params={"dry_run": dry_run},
                            files={"file": (name, content)}, headers=headers)
            elapsed = time.perf_counter() - started
            body = r.json()
            if r.status_code not in (200, 201):
                print(f"HTTP {r.status_code}: {body.get('detail')} {body.get('errors', [])[:5]}")
                return 1
            step = "dry run (check only)" if dry_run else "import"
            print(f"{step:22} HTTP {r.status_code}: {body['valid_rows']} valid, {body['created']} created in "
                  f"{elapsed:.2f} s = {args.rows / elapsed:,.0f} rows/s")

    with Session(engine) as session:
        activities = session.exec(select(func.count()).select_from(Activity)).one()
        audits = session.exec(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "import")).one()
    engine.dispose()
    print(f"database: {activities} activities, {audits} import audit entries"
          + (f" ({tmp / 'bench.db'})" if args.keep else ""))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if activities == args.rows == audits else 1


if __name__ == "__main__":
    raise SystemExit(main())
