"""Identity: users, their passwords, and the tokens they and their systems use; every change audited."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from app.api.common import bump
from app.api.deps import Principal
from app.api.errors import Conflict, Forbidden, Invalid, NotFound, field_error, refuse_nulls
from app.models import ApiToken, Role, TokenKind, Unit, User
from app.models.base import utcnow
from app.models.user import MeUpdate, TokenCreate, TokenPublic, UserCreate, UserPublic, UserUpdate
from app.security import hash_password, new_token
from app.services import audit
from app.services.calendar import local_today, local_zone

DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


# --- permissions ---------------------------------------------------------------------------------------------------

def require_user_admin(principal: Principal) -> None:
    """Raise 403 unless the caller may manage users: an administrator writing, not through a unit-bound token."""
    principal.require_admin()
    if principal.write_unit_id is not None:
        raise Forbidden("A token bound to a unit may not manage users.")


def require_write_scope(principal: Principal) -> None:
    """Raise 403 unless the caller's token carries the write scope (any role may change its own account)."""
    if "write" not in principal.scopes:
        raise Forbidden("This token has no write scope.")


# --- look-ups ------------------------------------------------------------------------------------------------------

def get(session: Session, user_id: int) -> User:
    """The user `user_id`, or 404."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def get_by_username(session: Session, username: str) -> User:
    """The user named `username`, or 404."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


def open_unit(session: Session, code: str, loc: list[str | int]) -> Unit:
    """The unit `code`, which must exist and not be closed (422 naming `loc` otherwise)."""
    unit = session.exec(select(Unit).where(Unit.code == code)).first()
    if unit is None:
        raise Invalid(f"No unit with code {code!r}.", errors=[field_error(loc, f"No unit with code {code!r}.")])
    if unit.valid_to is not None and unit.valid_to < local_today():
        message = f"The unit {code!r} closed on {unit.valid_to.isoformat()}."
        raise Invalid(message, errors=[field_error(loc, message)])
    return unit


def _unit_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.exec(select(Unit.id, Unit.code).where(Unit.id.in_(wanted))).all())


def to_public(session: Session, users: list[User]) -> list[UserPublic]:
    """Users as the API shows them, with their unit codes (one query for the list)."""
    codes = _unit_codes(session, (u.unit_id for u in users))
    return [
        UserPublic(id=u.id, username=u.username, full_name=u.full_name, email=u.email, role=u.role,
                   unit_code=codes.get(u.unit_id), is_active=u.is_active, locale=u.locale, version=u.version,
                   created_at=u.created_at, updated_at=u.updated_at)
        for u in users
    ]


# --- users ---------------------------------------------------------------------------------------------------------

def _check_password(password: str, username: str, loc: list[str | int]) -> None:
    if password.strip().lower() == username.lower():
        raise Invalid("The password may not be the username.",
                      errors=[field_error(loc, "The password may not be the username.")])


def _ensure_admin_remains(session: Session, user: User, role: Role, is_active: bool) -> None:
    """Refuse to demote or deactivate the last active administrator (nobody could manage users any more)."""
    if user.role != Role.admin or not user.is_active or (role == Role.admin and is_active):
        return
    # FOR UPDATE: two administrators demoting each other at once cannot both succeed (PostgreSQL).
    admins = session.exec(
        select(User.id).where(User.role == Role.admin, User.is_active.is_(True)).with_for_update()
    ).all()
    if not [i for i in admins if i != user.id]:
        raise Conflict("The last active administrator cannot be demoted or deactivated.")


def create(session: Session, principal: Principal, data: UserCreate) -> User:
    """Create a user (username unique regardless of case; officers need a unit)."""
    taken = session.exec(select(User.id).where(func.lower(User.username) == data.username.lower())).first()
    if taken is not None:
        message = f"The username {data.username!r} is taken."
        raise Conflict(message, errors=[field_error(["body", "username"], message)])
    _check_password(data.password, data.username, ["body", "password"])
    unit = open_unit(session, data.unit, ["body", "unit"]) if data.unit else None
    if data.role == Role.officer and unit is None:
        raise Invalid("An officer must belong to a unit.",
                      errors=[field_error(["body", "unit"], "An officer must belong to a unit.")])
    user = User(username=data.username, full_name=data.full_name.strip(), email=data.email, role=data.role,
                unit_id=unit.id if unit else None, is_active=data.is_active, locale=data.locale,
                password_hash=hash_password(data.password))
    session.add(user)
    session.flush()
    audit.record(session, principal, "create", user, after=audit.snapshot(user), resource_type="user")
    return user


def update(session: Session, principal: Principal, user: User, data: UserUpdate) -> User:
    """Apply the fields sent; revoke the tokens that the new role or unit no longer allows."""
    refuse_nulls(data, "role", "full_name", "is_active", "locale")
    sent = data.model_fields_set
    changes: dict = {}
    if "role" in sent:
        changes["role"] = data.role
    if "unit" in sent:
        current = session.get(Unit, user.unit_id) if user.unit_id else None
        if data.unit is None:
            changes["unit_id"] = None
        elif current is None or current.code != data.unit:
            changes["unit_id"] = open_unit(session, data.unit, ["body", "unit"]).id
    if "full_name" in sent:
        changes["full_name"] = data.full_name.strip()
    for name in ("email", "is_active", "locale"):
        if name in sent:
            changes[name] = getattr(data, name)
    changes = {k: v for k, v in changes.items() if getattr(user, k) != v}
    if not changes:
        return user
    role = Role(changes.get("role", user.role))
    unit_id = changes.get("unit_id", user.unit_id)
    is_active = changes.get("is_active", user.is_active)
    if role == Role.officer and unit_id is None:
        raise Invalid("An officer must belong to a unit.",
                      errors=[field_error(["body", "unit"], "An officer must belong to a unit.")])
    _ensure_admin_remains(session, user, role, is_active)
    before = audit.snapshot(user)
    for name, value in changes.items():
        setattr(user, name, value)
    bump(user)
    session.add(user)
    session.flush()
    action = "deactivate" if changes.get("is_active") is False else "update"
    audit.record(session, principal, action, user, before=before, after=audit.snapshot(user), resource_type="user")
    if not is_active:
        revoke_user_tokens(session, principal, user)
    elif "role" in changes or "unit_id" in changes:
        revoke_user_tokens(session, principal, user, unless=lambda t: token_fits(t, role, unit_id))
    return user


def update_self(session: Session, principal: Principal, data: MeUpdate) -> User:
    """Change the caller's own name, e-mail or language."""
    user = principal.user
    refuse_nulls(data, "full_name", "locale")
    sent = data.model_fields_set
    changes = {name: getattr(data, name) for name in sent}
    if "full_name" in changes:
        changes["full_name"] = changes["full_name"].strip()
    changes = {k: v for k, v in changes.items() if getattr(user, k) != v}
    if not changes:
        return user
    before = audit.snapshot(user)
    for name, value in changes.items():
        setattr(user, name, value)
    bump(user)
    session.add(user)
    session.flush()
    audit.record(session, principal, "update", user, before=before, after=audit.snapshot(user), resource_type="user")
    return user


def set_password(session: Session, principal: Principal, user: User, password: str, *,
                 keep_token_id: int | None = None, loc: list[str | int] | None = None) -> None:
    """Set a new password and end the user's login sessions (except `keep_token_id`); API tokens stay."""
    _check_password(password, user.username, loc or ["body", "password"])
    before = audit.snapshot(user)
    user.password_hash = hash_password(password)
    bump(user)
    session.add(user)
    session.flush()
    audit.record(session, principal, "password", user, before=before, after=audit.snapshot(user),
                 resource_type="user")
    revoke_user_tokens(session, principal, user, kind=TokenKind.login,
                       unless=lambda t: t.id == keep_token_id)


def deactivate(session: Session, principal: Principal, user: User) -> bool:
    """Deactivate a user and revoke all their tokens; False when already inactive."""
    if not user.is_active:
        return False
    update(session, principal, user, UserUpdate(is_active=False))
    return True


# --- tokens --------------------------------------------------------------------------------------------------------

def token_status(token: ApiToken, now: datetime | None = None) -> str:
    """active, expired or revoked."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def token_fits(token: ApiToken, role: Role, unit_id: int | None) -> bool:
    """Whether a user with `role` and `unit_id` could hold `token` (checked after a change of role or unit)."""
    if token.kind == TokenKind.login:
        return True  # a login token has the user's rights, whatever they are now
    scopes = set(token.scopes.split())
    if role == Role.viewer:
        return "write" not in scopes
    if role == Role.officer:
        return token.unit_id is None or token.unit_id == unit_id
    return True


def revoke_token(session: Session, principal: Principal, token: ApiToken, action: str = "revoke") -> bool:
    """Revoke one token (audited); False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    before = audit.snapshot(token)
    token.revoked_at = utcnow()
    session.add(token)
    session.flush()
    audit.record(session, principal, action, token, before=before, after=audit.snapshot(token),
                 resource_type="api_token")
    return True


def revoke_user_tokens(session: Session, principal: Principal, user: User, *, kind: TokenKind | None = None,
                       unless: Callable[[ApiToken], bool] | None = None) -> int:
    """Revoke the user's live tokens (of `kind`, except those `unless` keeps); returns how many."""
    now = utcnow()
    stmt = select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
    )
    if kind is not None:
        stmt = stmt.where(ApiToken.kind == kind)
    count = 0
    for token in session.exec(stmt.order_by(ApiToken.id)).all():
        if unless is None or not unless(token):
            count += revoke_token(session, principal, token)
    return count


def tokens_to_public(session: Session, tokens: list[ApiToken]) -> list[TokenPublic]:
    """Tokens' metadata with owners' usernames and unit codes (never the hash)."""
    codes = _unit_codes(session, (t.unit_id for t in tokens))
    user_ids = {t.user_id for t in tokens}
    names = dict(session.exec(select(User.id, User.username).where(User.id.in_(user_ids))).all()) if user_ids else {}
    now = utcnow()
    return [
        TokenPublic(id=t.id, kind=t.kind, name=t.name, prefix=t.prefix, scopes=sorted(t.scopes.split()),
                    unit_code=codes.get(t.unit_id), user_id=t.user_id, username=names.get(t.user_id, ""),
                    created_at=t.created_at, expires_at=t.expires_at, last_used_at=t.last_used_at,
                    revoked_at=t.revoked_at, status=token_status(t, now))
        for t in tokens
    ]


def _expiry(data: TokenCreate, now: datetime) -> datetime:
    if data.expires_at is not None and data.expires_in_days is not None:
        message = "Send either expires_at or expires_in_days, not both."
        raise Invalid(message, errors=[field_error(["body", "expires_in_days"], message)])
    if data.expires_at is None:
        return now + timedelta(days=data.expires_in_days or DEFAULT_TOKEN_DAYS)
    at = data.expires_at if data.expires_at.tzinfo else data.expires_at.replace(tzinfo=local_zone())
    at = at.astimezone(UTC)
    if at <= now:
        raise Invalid("The expiry lies in the past.",
                      errors=[field_error(["body", "expires_at"], "The expiry must lie in the future.")])
    if at > now + timedelta(days=MAX_TOKEN_DAYS):
        message = f"A token lives at most {MAX_TOKEN_DAYS} days."
        raise Invalid(message, errors=[field_error(["body", "expires_at"], message)])
    return at


def create_token(session: Session, principal: Principal, data: TokenCreate) -> tuple[ApiToken, str]:
    """Create an API token for the caller; returns it and its value (to be shown once)."""
    require_write_scope(principal)
    user = principal.user
    scopes = set(data.scopes)
    if "write" in scopes and user.role == Role.viewer:
        raise Forbidden("A viewer may only create tokens that read.")
    if not scopes <= principal.scopes:
        raise Forbidden("A token cannot create a token with scopes it does not hold itself.")
    name = data.name.strip()
    if not name:
        raise Invalid("The name is empty.", errors=[field_error(["body", "name"], "Give the token a name.")])
    now = utcnow()
    expires_at = _expiry(data, now)
    requested = open_unit(session, data.unit, ["body", "unit"]) if data.unit else None
    bound = principal.write_unit_id
    if user.role == Role.officer or bound is not None:
        # Officers' tokens, and tokens made through a unit-bound token, keep that unit.
        if requested is not None and requested.id != bound:
            raise Forbidden("A token you create is bound to your own unit; it may not name another.")
        if "write" in scopes and bound is None:
            raise Forbidden("Your account has no unit to write for.")
        unit_id = bound if (user.role == Role.officer or "write" in scopes) else None
    else:
        if requested is not None and "write" not in scopes:
            message = "Only a token with the write scope is bound to a unit."
            raise Invalid(message, errors=[field_error(["body", "unit"], message)])
        unit_id = requested.id if requested else None
    value, value_hash = new_token()
    token = ApiToken(user_id=user.id, kind=TokenKind.api, name=name, token_hash=value_hash, prefix=value[:10],
                     scopes=" ".join(sorted(scopes)), unit_id=unit_id, created_at=now, expires_at=expires_at)
    session.add(token)
    session.flush()
    audit.record(session, principal, "create", token, after=audit.snapshot(token), resource_type="api_token")
    return token, value
