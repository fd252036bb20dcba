"""Shared API pieces: pages, ETags and If-Match, Idempotency-Key."""

import hashlib
import json
from datetime import timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete as sa_delete
from sqlalchemy import func
from sqlmodel import Session, select

from app.api.deps import PageParams, Principal
from app.api.errors import Invalid, PreconditionFailed, PreconditionRequired
from app.config import get_settings
from app.models import IdempotencyRecord
from app.models.base import bump, utcnow  # noqa: F401  (bump: re-exported for the routes)

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total number of rows."""

    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(session: Session, statement, page: PageParams) -> tuple[list, int]:
    """Rows of `statement` (already ordered) for the page, and the total count."""
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    rows = list(session.exec(statement.limit(page.limit).offset(page.offset)))
    return rows, total


def etag_of(obj: Any) -> str:
    """The strong ETag of a versioned record."""
    return f'"{obj.id}.{obj.version}"'


def set_etag(response: Response, obj: Any) -> None:
    """Expose the record's version as its ETag."""
    response.headers["ETag"] = etag_of(obj)


def _tags(header: str) -> set[str]:
    """The entity tags of an If-Match / If-None-Match header, compared weakly (a `W/` prefix is dropped)."""
    return {t.strip().removeprefix("W/") for t in header.split(",")}


def if_none_match(request: Request, tag: str) -> bool:
    """Whether the client's If-None-Match names `tag` or is `*` (then the answer is 304)."""
    header = request.headers.get("if-none-match")
    return bool(header) and bool({"*", tag} & _tags(header))


def check_if_match_tag(request: Request, tag: str | None, *, stale: str | None = None) -> None:
    """Refuse a write whose If-Match does not name `tag` (412), or sends none when one is required (428).

    `tag` None means the record does not exist yet: a write that creates it needs no If-Match, and any sent
    cannot match."""
    header = request.headers.get("if-match")
    if header is None:
        if tag is not None and get_settings().require_if_match:
            raise PreconditionRequired("Send If-Match with the ETag you read.")
        return
    if tag is None:
        raise PreconditionFailed("The record does not exist yet: send no If-Match to create it.")
    if {"*", tag} & _tags(header):
        return
    raise PreconditionFailed(
        stale or "The record has changed since you read it. Reload it and apply your change again.",
        current_etag=tag,
    )


def check_if_match(request: Request, obj: Any) -> None:
    """`check_if_match_tag` for a versioned record, or for one that does not exist yet (None)."""
    check_if_match_tag(request, None if obj is None else etag_of(obj))


class Idempotency:
    """Idempotency-Key handling for a creating POST: replay the first answer, refuse a reused key."""

    def __init__(self, request: Request, body: bytes):
        self.key = request.headers.get("idempotency-key")
        self.method = request.method
        self.path = request.url.path
        self.request_hash = hashlib.sha256(body).hexdigest()

    def replay(self, session: Session, principal: Principal) -> Response | None:
        """The stored answer for this key, or None when the key is new (or absent)."""
        if not self.key:
            return None
        if len(self.key) > 200:
            raise Invalid("Idempotency-Key is too long (200 characters at most).")
        record = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == principal.user_id, IdempotencyRecord.key == self.key
            )
        ).first()
        if record is None or record.created_at < self._expired_before():
            return None
        if record.request_hash != self.request_hash or record.path != self.path:
            raise Invalid("This Idempotency-Key was already used for another request.",
                          title="Idempotency key reused")
        headers = dict(record.response_headers)
        headers["Idempotent-Replayed"] = "true"
        return Response(record.response_body, status_code=record.status_code, headers=headers,
                        media_type="application/json")

    @staticmethod
    def _expired_before():
        return utcnow() - timedelta(hours=get_settings().idempotency_hours)

    def created(self, session: Session, principal: Principal, body: Any, *, location: str,
                etag: str | None = None) -> JSONResponse:
        """Answer 201 Created with Location (and the ETag), remembered for retries with the same key."""
        headers = {"Location": location} | ({"ETag": etag} if etag else {})
        self.store(session, principal, 201, body, headers)
        return created(body, headers=headers)

    def store(self, session: Session, principal: Principal, status_code: int, body: Any,
              headers: dict[str, str] | None = None) -> None:
        """Remember the answer to this request, in the same transaction as the write."""
        if not self.key:
            return
        # Keys are remembered for a while (IDEMPOTENCY_HOURS); the caller's older ones go as new ones come.
        session.exec(sa_delete(IdempotencyRecord).where(IdempotencyRecord.user_id == principal.user_id,
                                                        IdempotencyRecord.created_at < self._expired_before()))
        session.add(IdempotencyRecord(
            user_id=principal.user_id, key=self.key, method=self.method, path=self.path,
            request_hash=self.request_hash, status_code=status_code,
            response_body=json.dumps(body, ensure_ascii=False, default=str), response_headers=headers or {},
        ))
        session.flush()


async def get_idempotency(request: Request) -> Idempotency:
    """Read the key and fingerprint the body (an async dependency, so the body can be awaited)."""
    body = await request.body() if request.headers.get("idempotency-key") else b""
    return Idempotency(request, body)


def created(body: Any, status_code: int = 201, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response for a created record."""
    return JSONResponse(body, status_code=status_code, headers=headers)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
