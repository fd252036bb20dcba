"""Users: administrators manage them; coordinators and administrators read them; everyone reads themselves."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import or_
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.api.errors import Forbidden
from app.db import SessionDep
from app.models import Role, User
from app.models.user import PasswordSet, UserCreate, UserPublic, UserUpdate
from app.services import users as user_service

router = APIRouter(prefix="/users", tags=["users"])



@router.get("")
def list_users(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep,
    role: Annotated[list[Role] | None, Query(description="One or more roles")] = None,
    unit: Annotated[str | None, Query(max_length=60, description="Our unit code")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or deactivated (false) users")] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the username, name or e-mail")] = None,
) -> Page[UserPublic]:
    """Users (coordinators and administrators), ordered by username."""
    if not principal.is_staff():
        raise Forbidden("Only coordinators and administrators may list users; see yourself at /me.")
    stmt = select(User)
    if role:
        stmt = stmt.where(User.role.in_([r.value for r in role]))
    if unit:
        stmt = stmt.where(User.unit_id == unit_by_code(session, unit).id)
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(pattern), User.full_name.ilike(pattern), User.email.ilike(pattern)))
    rows, total = paginate(session, stmt.order_by(User.username, User.id), page)
    return Page(items=user_service.to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.get("/{user_id}")
def get_user(user_id: int, session: SessionDep, principal: CurrentPrincipal, response: Response) -> UserPublic:
    """One user (coordinators and administrators; anyone may read themselves)."""
    if not principal.is_staff() and user_id != principal.user_id:
        raise Forbidden("You may read only your own account.")
    user = user_service.get(session, user_id)
    set_etag(response, user)
    return user_service.to_public(session, [user])[0]


@router.post("", status_code=201, response_model=UserPublic)
def create_user(data: UserCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
                idem: IdempotencyDep) -> Response:
    """Create a user (administrators); officers must name their unit."""
    user_service.require_user_admin(principal)
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    user = user_service.create(session, principal, data)
    body = user_service.to_public(session, [user])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{user.id}", etag=etag_of(user))


@router.patch("/{user_id}")
def update_user(user_id: int, data: UserUpdate, request: Request, response: Response, session: SessionDep,
                principal: CurrentPrincipal) -> UserPublic:
    """Change a user's role, unit, name, e-mail, language or activity (administrators; honours If-Match)."""
    user_service.require_user_admin(principal)
    user = user_service.get(session, user_id)
    check_if_match(request, user)
    user_service.update(session, principal, user, data)
    set_etag(response, user)
    return user_service.to_public(session, [user])[0]


@router.post("/{user_id}/password", status_code=204)
def set_user_password(user_id: int, data: PasswordSet, request: Request, session: SessionDep,
                      principal: CurrentPrincipal) -> Response:
    """Set a user's password (administrators); ends the user's login sessions."""
    user_service.require_user_admin(principal)
    user = user_service.get(session, user_id)
    check_if_match(request, user)
    user_service.set_password(session, principal, user, data.password,
                              keep_token_id=principal.token_id if user.id == principal.user_id else None)
    return Response(status_code=204, headers={"ETag": etag_of(user)})


@router.delete("/{user_id}", status_code=204)
def deactivate_user(user_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Deactivate a user and revoke all their tokens (administrators; nothing is deleted)."""
    user_service.require_user_admin(principal)
    user = user_service.get(session, user_id)
    check_if_match(request, user)
    user_service.deactivate(session, principal, user)
    return Response(status_code=204, headers={"ETag": etag_of(user)})
