"""Login (OAuth2 password form) with opaque, expiring, revocable bearer tokens, and the caller's identity."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlmodel import select

from app.api.deps import CurrentPrincipal
from app.api.errors import Unauthorized
from app.config import get_settings
from app.db import SessionDep
from app.models import ApiToken, TokenKind, Unit, User
from app.security import new_token, verify_password

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


@router.post("/auth/token")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> TokenResponse:
    """Exchange a username and password for a bearer token."""
    user = session.exec(select(User).where(User.username == form.username)).first()
    if user is None or not user.is_active or not verify_password(user.password_hash, form.password):
        raise Unauthorized("Wrong username or password.", headers={"WWW-Authenticate": "Bearer"})
    token, token_hash = new_token()
    expires = datetime.now(UTC) + timedelta(minutes=get_settings().login_token_minutes)
    session.add(ApiToken(user_id=user.id, kind=TokenKind.login, name="login", token_hash=token_hash,
                         prefix=token[:10], scopes="read write", expires_at=expires))
    return TokenResponse(access_token=token, expires_at=expires)


@router.post("/auth/logout", status_code=204)
def logout(principal: CurrentPrincipal, session: SessionDep) -> Response:
    """Revoke the token this request was made with."""
    token = principal.token
    if token is not None and token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        session.add(token)
    return Response(status_code=204)


@router.get("/me")
def me(principal: CurrentPrincipal, session: SessionDep) -> MePublic:
    """The caller: user, role, unit and the token's scopes."""
    user = principal.user
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    write_unit = session.get(Unit, principal.write_unit_id) if principal.write_unit_id else None
    return MePublic(
        id=user.id, username=user.username, full_name=user.full_name, email=user.email, role=user.role,
        unit_code=unit.code if unit else None, locale=user.locale, scopes=sorted(principal.scopes),
        token_kind=principal.token.kind if principal.token else None,
        write_unit_code=write_unit.code if write_unit else None,
    )
