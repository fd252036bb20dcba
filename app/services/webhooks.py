"""Webhooks: events queued as deliveries in the writer's transaction, sent afterwards by any worker.

Deliveries live in the database, so a delivery survives a restart and any app process (or the
`deliver-webhooks` command) may send it; a worker claims a delivery with a conditional UPDATE before sending,
so two workers never send the same attempt.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import threading
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.config import get_settings
from app.models import Webhook, WebhookDelivery
from app.models.base import utcnow
from app.models.notify import WEBHOOK_EVENTS

log = logging.getLogger(__name__)

EVENTS = WEBHOOK_EVENTS
PING = "ping"
USER_AGENT = "BDG2030-Webhooks/1.0"
# Keys of the delivered body that the service sets; a payload key of the same name is replaced.
RESERVED_KEYS = ("id", "event", "created_at")


def enqueue(session: Session, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue `event` for every active webhook subscribed to it (committed with the change that caused it).

    The body sent is the payload plus `id` (the delivery), `event` and `created_at`: payloads should name their
    record's id otherwise (e.g. `report_id`).
    """
    deliveries = []
    for hook in session.exec(select(Webhook).where(Webhook.active.is_(True))):
        if event in hook.events.split():
            delivery = WebhookDelivery(webhook_id=hook.id, event=event, payload=payload, next_attempt_at=utcnow())
            session.add(delivery)
            deliveries.append(delivery)
    session.flush()
    return deliveries


def enqueue_ping(session: Session, hook: Webhook) -> WebhookDelivery:
    """Queue a `ping` to one webhook (its test action), whatever events it subscribes to."""
    delivery = WebhookDelivery(webhook_id=hook.id, event=PING, next_attempt_at=utcnow(),
                               payload={"webhook_id": hook.id, "message": "Webhook BĐG 2030 hoạt động."})
    session.add(delivery)
    session.flush()
    return delivery


def new_secret() -> str:
    """A random signing secret."""
    return "whsec_" + secrets.token_urlsafe(32)


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON body sent for a delivery (UTF-8, compact): the payload plus id, event and created_at."""
    data = dict(delivery.payload or {})
    data.update(id=delivery.id, event=delivery.event, created_at=delivery.created_at.isoformat())
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of "{timestamp}.{body}" keyed with the secret."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failed ones: base × 2^(attempts-1), capped."""
    settings = get_settings()
    seconds = settings.webhook_backoff_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.webhook_backoff_max_seconds))


def claim(engine: Engine, delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for this worker (pushes its next attempt past a lease); False if another took it."""
    lease = now + timedelta(seconds=get_settings().webhook_lease_seconds)
    with Session(engine) as session:
        result = session.exec(  # type: ignore[call-overload]
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
                   WebhookDelivery.next_attempt_at <= now)
            .values(next_attempt_at=lease)
        )
        session.commit()
        return result.rowcount == 1


@dataclass
class Outcome:
    """What one attempt did."""

    delivery_id: int
    webhook_id: int
    event: str
    status: str  # delivered | pending (will retry) | failed (gave up)
    attempts: int
    status_code: int | None
    error: str | None


def _send(client: httpx.Client, hook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str | None]:
    """POST one delivery; the status code, and an error text unless the receiver answered 2xx."""
    body = body_of(delivery)
    # The real clock, not the scheduling `now`: receivers compare it with theirs to refuse replays.
    timestamp = str(int(utcnow().timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-BDG-Event": delivery.event,
        "X-BDG-Delivery": str(delivery.id),
        "X-BDG-Timestamp": timestamp,
        "X-BDG-Signature": signature(hook.secret, timestamp, body),
    }
    try:
        response = client.post(hook.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:300]}"[:1000]


def deliver_due(engine: Engine, now: datetime | None = None, *, limit: int | None = None,
                stop: threading.Event | None = None) -> list[Outcome]:
    """Send every pending delivery of an active webhook whose next attempt is due at `now`; the outcomes."""
    settings = get_settings()
    now = now or utcnow()
    with Session(engine) as session:
        ids = list(session.exec(
            select(WebhookDelivery.id)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
                   Webhook.active.is_(True))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit or settings.webhook_batch_size)
        ))
    outcomes: list[Outcome] = []
    if not ids:
        return outcomes
    with httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:
        for delivery_id in ids:
            if stop is not None and stop.is_set():
                break
            if not claim(engine, delivery_id, now):
                continue
            # Read, send, then write in separate short transactions: no lock is held during the HTTP call.
            with Session(engine, expire_on_commit=False) as session:
                delivery = session.get(WebhookDelivery, delivery_id)
                hook = session.get(Webhook, delivery.webhook_id) if delivery else None
            if delivery is None or hook is None:
                continue
            code, error = _send(client, hook, delivery)
            attempts = delivery.attempts + 1
            values: dict[str, Any] = {"attempts": attempts, "last_status_code": code, "last_error": error}
            if error is None:
                values.update(status="delivered", delivered_at=utcnow(), next_attempt_at=None)
            elif attempts >= settings.webhook_max_attempts:
                values.update(status="failed", next_attempt_at=None)
            else:
                values.update(next_attempt_at=now + backoff(attempts))
            # One UPDATE, no read first: the lease makes this worker the only writer of the row, and a write-only
            # transaction never trips over SQLite's stale-snapshot rule when other workers write meanwhile.
            with Session(engine) as session:
                session.exec(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)  # type: ignore[call-overload]
                             .values(**values))
                session.commit()
            status = values.get("status", "pending")
            outcomes.append(Outcome(delivery_id, hook.id, delivery.event, status, attempts, code, error))
            if error:
                log.info("webhook %s delivery %s attempt %s: %s", hook.id, delivery_id, attempts, error)
    return outcomes


async def _worker_loop(engine_getter, interval: float, stopping: asyncio.Event, stop: threading.Event) -> None:
    # Wait first: a process that starts and stops quickly (tests, CLI) sends nothing from here.
    while not stopping.is_set():
        try:
            await asyncio.wait_for(stopping.wait(), timeout=interval)
            return
        except TimeoutError:
            pass
        try:
            await asyncio.to_thread(deliver_due, engine_getter(), stop=stop)
        except Exception:
            log.exception("webhook delivery pass failed")


@asynccontextmanager
async def background_worker(engine_getter=None):
    """Run deliveries every `webhook_worker_interval_seconds` while the app runs (when `webhook_worker` is on)."""
    settings = get_settings()
    if not settings.webhook_worker:
        yield None
        return
    if engine_getter is None:
        from app.db import get_engine

        engine_getter = get_engine
    stopping, stop = asyncio.Event(), threading.Event()
    task = asyncio.create_task(
        _worker_loop(engine_getter, settings.webhook_worker_interval_seconds, stopping, stop),
        name="webhook-worker")
    try:
        yield task
    finally:
        # Let a pass in progress finish its current delivery, then stop; nothing is left running.
        stopping.set()
        stop.set()
        await task
