"""Request dependencies: the session, the caller, and what the caller may do."""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Query, Request
from sqlalchemy import or_
from sqlalchemy import update as sa_update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from app.api.errors import Forbidden, NotFound, Unauthorized
from app.config import get_settings
from app.db import SessionDep, get_engine
from app.models import ApiToken, Role, TokenKind, Unit, User
from app.security import hash_token

log = logging.getLogger(__name__)


@dataclass
class Principal:
    """Who is calling: a user, through a login token or an API token with its scopes and unit."""

    user: User
    token: ApiToken | None = None
    scopes: set[str] = field(default_factory=lambda: {"read", "write"})
    # Units run by the caller's bound unit (a ward's loudspeaker system): their records are the ward's to keep.
    operated_unit_ids: frozenset[int] = frozenset()

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def user_id(self) -> int:
        return self.user.id  # type: ignore[return-value]

    @property
    def token_id(self) -> int | None:
        return self.token.id if self.token else None

    @property
    def write_unit_id(self) -> int | None:
        """The one unit this caller may write for, when bound to one (officer, or a unit-bound token)."""
        if self.token is not None and self.token.unit_id is not None:
            return self.token.unit_id
        return self.user.unit_id if self.role == Role.officer else None

    def is_staff(self) -> bool:
        """Admins and coordinators (the lead office)."""
        return self.role in (Role.admin, Role.coordinator)

    def can_write(self) -> bool:
        """Whether this caller may write anything at all."""
        return "write" in self.scopes and self.role != Role.viewer

    def can_write_unit(self, unit_id: int | None) -> bool:
        """Whether this caller may write a record belonging to `unit_id`."""
        if not self.can_write():
            return False
        bound = self.write_unit_id
        if self.role == Role.officer:
            return bound is not None and (unit_id == bound or unit_id in self.operated_unit_ids)
        # Staff: everything, unless the token is bound to a unit.
        return bound is None or unit_id == bound or unit_id in self.operated_unit_ids

    def require_write_unit(self, unit_id: int | None) -> None:
        """Raise 403 unless this caller may write for `unit_id`."""
        if not self.can_write_unit(unit_id):
            raise Forbidden("You may not change records of this unit.")

    def require_staff_write(self) -> None:
        """Raise 403 unless this caller is a coordinator or admin with write scope and no unit binding."""
        if not (self.is_staff() and self.can_write() and self.write_unit_id is None):
            raise Forbidden("Only coordinators and administrators may do this.")

    def require_admin(self) -> None:
        """Raise 403 unless this caller is an administrator with write scope."""
        if not (self.role == Role.admin and self.can_write()):
            raise Forbidden("Only administrators may do this.")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


LAST_USED_EVERY = timedelta(minutes=1)


def resolve_principal(session: Session, token_value: str) -> Principal | None:
    """The principal behind a bearer token, or None if it is unknown, expired, revoked or its user inactive.

    Reads only: the token's `last_used_at` is recorded afterwards (`touch_token`), so that a read request stays a
    read transaction."""
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(token_value))).first()
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    scopes = {"read", "write"} if token.kind == TokenKind.login else set(token.scopes.split())
    principal = Principal(user=user, token=token, scopes=scopes)
    bound = principal.write_unit_id
    if bound is not None:
        principal.operated_unit_ids = frozenset(session.exec(select(Unit.id).where(Unit.operator_id == bound)))
    return principal


def touch_token(token_id: int) -> None:
    """Record a token's use, at most once a minute (run after the response, in its own short transaction)."""
    now = datetime.now(UTC)
    try:
        with Session(get_engine()) as session:
            session.exec(sa_update(ApiToken).where(
                ApiToken.id == token_id,
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY),
            ).values(last_used_at=now))
            session.commit()
    except OperationalError:  # best effort: a busy database must not turn a served request into an error
        log.warning("could not record the use of token %s", token_id)


def get_optional_principal(request: Request, session: SessionDep, background: BackgroundTasks) -> Principal | None:
    """The caller, if a valid bearer token was sent; a token sent but invalid is a 401."""
    value = _bearer(request)
    if value is None:
        return None
    principal = resolve_principal(session, value)
    if principal is None:
        raise Unauthorized("The token is invalid, expired or revoked.", headers={"WWW-Authenticate": "Bearer"})
    last_used = principal.token.last_used_at
    if last_used is None or datetime.now(UTC) - last_used >= LAST_USED_EVERY:
        background.add_task(touch_token, principal.token.id)
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def get_principal(principal: OptionalPrincipal) -> Principal:
    """The caller, who must be authenticated and hold the read scope."""
    if principal is None:
        raise Unauthorized("Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    if "read" not in principal.scopes and "write" not in principal.scopes:
        raise Forbidden("The token has no scope to read.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_public_reader(principal: OptionalPrincipal) -> Principal | None:
    """Aggregated indicator values: anonymous callers too when the setting opens them."""
    if principal is None and not get_settings().public_indicator_values:
        raise Unauthorized("Authentication required.", headers={"WWW-Authenticate": "Bearer"})
    return principal


PublicReader = Annotated[Principal | None, Depends(get_public_reader)]


def unit_by_code(session: Session, code: str) -> Unit:
    """The unit with our code `code`, or 404."""
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise NotFound(f"No unit with code {code!r}.")
    return unit


class PageParams:
    """`limit` and `offset` of a paginated list."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page")] = 50,
        offset: Annotated[int, Query(ge=0, description="Rows to skip")] = 0,
    ):
        self.limit = limit
        self.offset = offset


PageDep = Annotated[PageParams, Depends()]
