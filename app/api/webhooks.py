"""Webhooks: other systems register a URL to be told when reports are submitted, returned or accepted."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, select

from app.api.common import (
    IdempotencyDep,
    Page,
    bump,
    check_if_match,
    etag_of,
    paginate,
    set_etag,
)
from app.api.deps import CurrentPrincipal, PageDep, Principal
from app.api.errors import Conflict, Forbidden, NotFound
from app.db import SessionDep
from app.models import Webhook, WebhookDelivery
from app.models.base import utcnow
from app.models.notify import WebhookCreate, WebhookCreated, WebhookDeliveryPublic, WebhookPublic, WebhookUpdate
from app.services import audit
from app.services import webhooks as service

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


def _staff_reader(principal: CurrentPrincipal) -> Principal:
    if not principal.is_staff():
        raise Forbidden("Only coordinators and administrators may see webhooks.")
    return principal


StaffReader = Annotated[Principal, Depends(_staff_reader)]


def _public(hook: Webhook) -> WebhookPublic:
    return WebhookPublic(**hook.model_dump(exclude={"events", "secret"}), events=hook.events.split())


def _get(session: Session, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"No webhook {webhook_id}.")
    return hook


@router.get("")
def list_webhooks(
    session: SessionDep, _: StaffReader, page: PageDep,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) webhooks")] = None,
) -> Page[WebhookPublic]:
    """Registered webhooks (never their secrets)."""
    stmt = select(Webhook)
    if active is not None:
        stmt = stmt.where(Webhook.active.is_(active))
    rows, total = paginate(session, stmt.order_by(Webhook.id), page)
    return Page(items=[_public(h) for h in rows], total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, response_model=WebhookCreated)
def create_webhook(
    body: WebhookCreate, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
):
    """Register a webhook; the answer shows its signing secret, the only time it is shown."""
    principal.require_staff_write()
    if (replayed := idem.replay(session, principal)):
        return replayed
    hook = Webhook(url=body.url, events=" ".join(body.events), secret=body.secret or service.new_secret(),
                   active=body.active, created_by_id=principal.user_id)
    session.add(hook)
    session.flush()
    audit.record(session, principal, "create", hook, after=audit.snapshot(hook))
    out = WebhookCreated(**_public(hook).model_dump(), secret=hook.secret).model_dump(mode="json")
    return idem.created(session, principal, out, location=f"/api/v1/webhooks/{hook.id}", etag=etag_of(hook))


@router.get("/{webhook_id}")
def get_webhook(webhook_id: int, session: SessionDep, _: StaffReader, response: Response) -> WebhookPublic:
    """One webhook (never its secret)."""
    hook = _get(session, webhook_id)
    set_etag(response, hook)
    return _public(hook)


@router.patch("/{webhook_id}")
def update_webhook(webhook_id: int, body: WebhookUpdate, request: Request, session: SessionDep,
                   principal: CurrentPrincipal, response: Response) -> WebhookPublic:
    """Change the URL, events, secret or active flag (send If-Match)."""
    principal.require_staff_write()
    hook = _get(session, webhook_id)
    check_if_match(request, hook)
    before = audit.snapshot(hook)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is not None:  # an explicit null changes nothing
            setattr(hook, name, " ".join(value) if name == "events" else value)
    bump(hook)
    session.add(hook)
    session.flush()
    audit.record(session, principal, "update", hook, before=before, after=audit.snapshot(hook))
    set_etag(response, hook)
    return _public(hook)


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Remove a webhook and its delivery log (send If-Match)."""
    principal.require_staff_write()
    hook = _get(session, webhook_id)
    check_if_match(request, hook)
    before = audit.snapshot(hook)
    audit.record(session, principal, "delete", hook, before=before)
    for delivery in session.exec(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)):
        session.delete(delivery)
    session.delete(hook)
    session.flush()
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: int, session: SessionDep, _: StaffReader, page: PageDep,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    event: Annotated[str | None, Query(max_length=60)] = None,
) -> Page[WebhookDeliveryPublic]:
    """The delivery log of a webhook, newest first: event, attempts, status, last answer or error, times."""
    _get(session, webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event:
        stmt = stmt.where(WebhookDelivery.event == event)
    rows, total = paginate(session, stmt.order_by(WebhookDelivery.id.desc()), page)
    return Page(items=[WebhookDeliveryPublic.model_validate(d, from_attributes=True) for d in rows],
                total=total, limit=page.limit, offset=page.offset)


@router.post("/{webhook_id}/test", status_code=202)
def test_webhook(webhook_id: int, session: SessionDep, principal: CurrentPrincipal) -> WebhookDeliveryPublic:
    """Queue a `ping` delivery to the webhook (sent by the next delivery pass)."""
    principal.require_staff_write()
    hook = _get(session, webhook_id)
    if not hook.active:
        raise Conflict("The webhook is inactive; activate it before testing it.")
    delivery = service.enqueue_ping(session, hook)
    audit.record(session, principal, "test", hook, after={"delivery_id": delivery.id, "event": delivery.event})
    return WebhookDeliveryPublic.model_validate(delivery, from_attributes=True)


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202)
def redeliver(webhook_id: int, delivery_id: int, session: SessionDep,
              principal: CurrentPrincipal) -> WebhookDeliveryPublic:
    """Queue a new delivery with the same event and payload (after a failure, or a receiver that lost it)."""
    principal.require_staff_write()
    hook = _get(session, webhook_id)
    original = session.get(WebhookDelivery, delivery_id)
    if original is None or original.webhook_id != hook.id:
        raise NotFound(f"No delivery {delivery_id} of webhook {webhook_id}.")
    if not hook.active:
        raise Conflict("The webhook is inactive; activate it before redelivering.")
    delivery = WebhookDelivery(webhook_id=hook.id, event=original.event, payload=original.payload,
                               next_attempt_at=utcnow())
    session.add(delivery)
    session.flush()
    audit.record(session, principal, "redeliver", hook,
                 after={"delivery_id": delivery.id, "of_delivery_id": original.id, "event": delivery.event})
    return WebhookDeliveryPublic.model_validate(delivery, from_attributes=True)
