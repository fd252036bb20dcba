"""Webhooks: events queued as deliveries in the writer's transaction, sent afterwards."""

from typing import Any

from sqlmodel import Session, select

from app.models import Webhook, WebhookDelivery
from app.models.base import utcnow

EVENTS = ("report.submitted", "report.returned", "report.accepted")


def enqueue(session: Session, event: str, payload: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue `event` for every active webhook subscribed to it (committed with the change that caused it)."""
    deliveries = []
    for hook in session.exec(select(Webhook).where(Webhook.active.is_(True))):
        if event in hook.events.split():
            delivery = WebhookDelivery(webhook_id=hook.id, event=event, payload=payload, next_attempt_at=utcnow())
            session.add(delivery)
            deliveries.append(delivery)
    session.flush()
    return deliveries
