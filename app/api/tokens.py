"""API tokens for systems and scripts: named, scoped, expiring, unit-bound when they write, shown once."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import and_, or_
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, created, paginate
from app.api.deps import CurrentPrincipal, PageDep, Principal
from app.api.errors import Forbidden, NotFound
from app.db import SessionDep
from app.models import ApiToken, Role, TokenKind
from app.models.base import utcnow
from app.models.user import TokenCreate, TokenCreated, TokenPublic
from app.services import users as user_service

router = APIRouter(prefix="/tokens", tags=["tokens"])



def _visible_token(session, principal: Principal, token_id: int) -> ApiToken:
    """The token, if it is the caller's own or the caller is an administrator; 404 otherwise."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != principal.user_id and principal.role != Role.admin):
        raise NotFound(f"No token {token_id}.")
    return token


@router.get("")
def list_tokens(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep,
    kind: Annotated[TokenKind, Query(description="api (default) or login (sessions)")] = TokenKind.api,
    user: Annotated[str | None, Query(max_length=80, description="Username (administrators: anyone's)")] = None,
    active: Annotated[bool | None, Query(description="Only live (true) or revoked/expired (false) tokens")] = None,
) -> Page[TokenPublic]:
    """The caller's tokens (administrators: everyone's), newest first; never the value or its hash."""
    stmt = select(ApiToken).where(ApiToken.kind == kind)
    if principal.role == Role.admin:
        if user:
            stmt = stmt.where(ApiToken.user_id == user_service.get_by_username(session, user).id)
    else:
        if user and user != principal.user.username:
            raise Forbidden("You may list only your own tokens.")
        stmt = stmt.where(ApiToken.user_id == principal.user_id)
    if active is not None:
        now = utcnow()
        live = and_(ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))
        stmt = stmt.where(live if active else ~live)
    rows, total = paginate(session, stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()), page)
    return Page(items=user_service.tokens_to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.get("/{token_id}")
def get_token(token_id: int, session: SessionDep, principal: CurrentPrincipal) -> TokenPublic:
    """One token's metadata (its owner or an administrator)."""
    return user_service.tokens_to_public(session, [_visible_token(session, principal, token_id)])[0]


@router.post("", status_code=201, response_model=TokenCreated)
def create_token(data: TokenCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
                 idem: IdempotencyDep) -> Response:
    """Create an API token for the caller; the `token` value is in this answer only."""
    user_service.require_write_scope(principal)
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    token, value = user_service.create_token(session, principal, data)
    meta = user_service.tokens_to_public(session, [token])[0].model_dump(mode="json")
    headers = {"Location": f"{request.url.path}/{token.id}"}
    # The value is never stored, not even for a replay: a retry gets the metadata with `token: null`.
    idem.store(session, principal, 201, {**meta, "token": None}, headers)
    return created({**meta, "token": value}, headers={**headers, "Cache-Control": "no-store"})


@router.delete("/{token_id}", status_code=204)
def revoke_token(token_id: int, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Revoke a token (its owner or an administrator); revoking a revoked token changes nothing."""
    user_service.require_write_scope(principal)
    token = _visible_token(session, principal, token_id)
    user_service.revoke_token(session, principal, token)
    return Response(status_code=204)
