"""Command line: `python -m app.cli migrate|seed|ensure-admin|create-user|remind|deliver-webhooks`."""

import argparse
import sys
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from app.config import ROOT, get_settings
from app.db import get_engine


def migrate(url: str | None = None) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    url = url or get_settings().database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "heads")


def seed() -> dict[str, int]:
    """Load the reference data that is missing."""
    from app.services.seed import load_all

    with Session(get_engine()) as session:
        added = load_all(session)
        session.commit()
    return added


def ensure_admin() -> str | None:
    """Create the first administrator when there is none; returns the generated password, if any."""
    from app.models import Role, User
    from app.security import hash_password, random_password

    settings = get_settings()
    with Session(get_engine()) as session:
        if session.exec(select(User).where(User.role == Role.admin)).first() is not None:
            return None
        password = settings.bdg_admin_password or random_password()
        session.add(User(username=settings.bdg_admin_username, full_name="Quản trị hệ thống", role=Role.admin,
                         password_hash=hash_password(password)))
        session.commit()
    return None if settings.bdg_admin_password else password


def create_user(username: str, password: str, role: str, unit_code: str | None, full_name: str) -> None:
    """Create a user (for scripted set-up), with the same rules as `POST /api/v1/users`."""
    from pydantic import ValidationError

    from app.api.errors import AppError
    from app.models.user import UserCreate
    from app.services import users as user_service

    try:
        data = UserCreate(username=username, password=password, role=role, unit=unit_code, full_name=full_name)
        with Session(get_engine()) as session:
            user_service.create(session, None, data)
            session.commit()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"user not created: {problems}") from None
    except AppError as exc:
        details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors or []) or exc.detail
        raise SystemExit(f"user not created: {details}") from None
    print(f"user {username} created ({role})")


def remind(day: date | None = None, dry_run: bool = False) -> int:
    """Send the reminders due on `day` (default today, local) and print each; 1 if any could not be sent."""
    from app.services import reminders

    outcome = reminders.run(get_engine(), day, dry_run=dry_run)
    print(f"reminders for {outcome.today.isoformat()}{' (dry run)' if dry_run else ''}:")
    for result in outcome.results:
        print("  " + result.line())
    summary = ", ".join(f"{s} {outcome.count(s)}" for s in
                        ("sent", "would-send", "already-sent", "no-recipients", "error") if outcome.count(s))
    print(f"  {summary or 'nothing due'}")
    return 1 if outcome.count("error") else 0


def deliver_webhooks(every: float | None = None) -> int:
    """Send the due webhook deliveries once (cron), or every `every` seconds until interrupted."""
    import time

    from app.services.webhooks import deliver_due

    while True:
        outcomes = deliver_due(get_engine())
        for o in outcomes:
            print(f"delivery {o.delivery_id} webhook {o.webhook_id} {o.event}: {o.status} "
                  f"(attempt {o.attempts}, HTTP {o.status_code or '-'}){' ' + o.error if o.error else ''}")
        if every is None:
            print(f"{len(outcomes)} deliveries attempted")
            return 0
        try:
            time.sleep(every)
        except KeyboardInterrupt:
            return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bdg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the migrations")
    sub.add_parser("seed", help="load the plan's reference data where missing")
    sub.add_parser("ensure-admin", help="create the first administrator if there is none")
    p = sub.add_parser("create-user", help="create a user")
    p.add_argument("username")
    p.add_argument("--password", required=True)
    p.add_argument("--role", required=True, choices=["admin", "coordinator", "officer", "viewer"])
    p.add_argument("--unit", default=None, help="unit code (officers)")
    p.add_argument("--full-name", default="")
    p = sub.add_parser("remind", help="e-mail the reminders due today (reports not submitted, Action Month plans)")
    p.add_argument("--date", type=date.fromisoformat, default=None, help="act as on this local date (YYYY-MM-DD)")
    p.add_argument("--dry-run", action="store_true", help="show what would be sent; send and log nothing")
    p = sub.add_parser("deliver-webhooks", help="send the webhook deliveries that are due")
    p.add_argument("--every", type=float, default=None, metavar="SECONDS",
                   help="keep running, one pass every SECONDS (a standalone worker)")
    args = parser.parse_args(argv)

    if args.command == "migrate":
        migrate()
    elif args.command == "seed":
        added = seed()
        print("reference data: " + ", ".join(f"{k} +{v}" for k, v in added.items()))
    elif args.command == "ensure-admin":
        password = ensure_admin()
        if password:
            print("=" * 60)
            print(f"First administrator created: {get_settings().bdg_admin_username}")
            print(f"Password (shown once, change it): {password}")
            print("=" * 60)
    elif args.command == "create-user":
        create_user(args.username, args.password, args.role, args.unit, args.full_name)
    elif args.command == "remind":
        return remind(args.date, args.dry_run)
    elif args.command == "deliver-webhooks":
        return deliver_webhooks(args.every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
