"""Login (OAuth2 password form) with opaque, expiring, revocable bearer tokens, and the caller's identity."""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import select

from app.api.common import check_if_match, set_etag
from app.api.deps import CurrentPrincipal, Principal
from app.api.errors import Invalid, TooManyRequests, Unauthorized, field_error
from app.config import get_settings
from app.db import SessionDep
from app.models import ApiToken, AuditEntry, TokenKind, Unit, User
from app.models.user import MAX_PASSWORD, MeUpdate, PasswordChange
from app.security import hash_password, new_token, verify_password
from app.services import audit
from app.services import users as user_service

router = APIRouter(tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class MePublic(BaseModel):
    id: int
    username: str
    full_name: str
    email: str | None
    role: str
    unit_code: str | None
    locale: str
    scopes: list[str]
    token_kind: str | None
    write_unit_code: str | None
    version: int


@lru_cache
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so that the answer takes as long."""
    return hash_password("no such user: a password nobody has")


@router.post("/auth/token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> TokenResponse:
    """Exchange a username and password for a bearer token (attempts are throttled per username)."""
    settings = get_settings()
    since = datetime.now(UTC) - timedelta(minutes=settings.login_lockout_minutes)
    failures = session.exec(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "login_failed", AuditEntry.resource_id == form.username[:80],
        AuditEntry.at >= since)).one()
    if failures >= settings.login_max_failures:
        raise TooManyRequests("Too many failed logins for this user. Try again later.",
                              headers={"Retry-After": str(settings.login_lockout_minutes * 60)})
    user = session.exec(select(User).where(User.username == form.username)).first()
    # Whether the user is unknown, inactive or the password wrong, the answer and its cost are the same.
    password = form.password if len(form.password) <= MAX_PASSWORD else ""
    matches = verify_password(user.password_hash if user else _dummy_hash(), password) and bool(password)
    if user is None or not user.is_active or not matches:
        # Kept although the request fails: committed here, before the error rolls the session back.
        session.add(AuditEntry(action="login_failed", resource_type="user", resource_id=form.username[:80]))
        session.commit()
        raise Unauthorized("Wrong username or password.", headers={"WWW-Authenticate": "Bearer"})
    token, token_hash = new_token()
    expires = datetime.now(UTC) + timedelta(minutes=get_settings().login_token_minutes)
    row = ApiToken(user_id=user.id, kind=TokenKind.login, name="login", token_hash=token_hash,
                   prefix=token[:10], scopes="read write", expires_at=expires)
    session.add(row)
    session.flush()
    audit.record(session, Principal(user=user, token=row), "login", row, after=audit.snapshot(row),
                 resource_type="api_token")
    return TokenResponse(access_token=token, expires_at=expires)


@router.post("/auth/logout", status_code=204)
def logout(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """Revoke the token this request was made with (any token, even one that only reads)."""
    if principal.token is not None:
        user_service.revoke_token(session, principal, principal.token, action="logout")
    return Response(status_code=204)


def _me(session, principal: Principal) -> MePublic:
    user = principal.user
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    write_unit = session.get(Unit, principal.write_unit_id) if principal.write_unit_id else None
    return MePublic(
        id=user.id, username=user.username, full_name=user.full_name, email=user.email, role=user.role,
        unit_code=unit.code if unit else None, locale=user.locale, scopes=sorted(principal.scopes),
        token_kind=principal.token.kind if principal.token else None,
        write_unit_code=write_unit.code if write_unit else None, version=user.version,
    )


@router.get("/me")
def me(principal: CurrentPrincipal, session: SessionDep, response: Response) -> MePublic:
    """The caller: user, role, unit and the token's scopes."""
    set_etag(response, principal.user)
    return _me(session, principal)


@router.patch("/me")
def update_me(data: MeUpdate, request: Request, response: Response, principal: CurrentPrincipal,
              session: SessionDep) -> MePublic:
    """Change your own name, e-mail or language (honours If-Match)."""
    user_service.require_write_scope(principal)
    check_if_match(request, principal.user)
    user_service.update_self(session, principal, data)
    set_etag(response, principal.user)
    return _me(session, principal)


@router.post("/me/password", status_code=204)
def change_my_password(data: PasswordChange, principal: CurrentPrincipal, session: SessionDep) -> Response:
    """Change your own password (give the current one); your other login sessions end."""
    user_service.require_write_scope(principal)
    user = principal.user
    if not verify_password(user.password_hash, data.current_password):
        raise Invalid("The current password is wrong.",
                      errors=[field_error(["body", "current_password"], "The current password is wrong.")])
    user_service.set_password(session, principal, user, data.new_password, keep_token_id=principal.token_id,
                              loc=["body", "new_password"])
    return Response(status_code=204)
