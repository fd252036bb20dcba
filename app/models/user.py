"""Users, their roles, and the tokens they and their systems use."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, Versioned, str_enum_column, utcnow


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    officer = "officer"
    viewer = "viewer"


class UserBase(SQLModel):
    username: str = Field(max_length=80, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254)
    role: Role = str_enum_column(Role)
    is_active: bool = True
    # Preferred interface language.
    locale: str = Field(default="vi", max_length=5)


class User(UserBase, Versioned, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # An officer writes for this unit only.
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    password_hash: str = Field(max_length=200)


class TokenKind(StrEnum):
    login = "login"
    api = "api"


class ApiToken(SQLModel, table=True):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: TokenKind = str_enum_column(TokenKind)
    name: str = Field(default="", max_length=120)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    # First characters of the token, to recognise it in lists.
    prefix: str = Field(max_length=16)
    # Space-separated scopes: "read", "write".
    scopes: str = Field(default="read", max_length=100)
    # A token that writes is bound to one unit (None: the user's own rights).
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- API schemas -------------------------------------------------------------------------------------------------

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Locale = Literal["vi", "en"]
Scope = Literal["read", "write"]
MIN_PASSWORD = 10
MAX_PASSWORD = 200


class UserCreate(SQLModel):
    """A new user; officers must name their unit."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=80, schema_extra={"pattern": USERNAME_PATTERN})
    password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)
    full_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, schema_extra={"pattern": EMAIL_PATTERN})
    role: Role
    # Our unit code; required for officers.
    unit: str | None = Field(default=None, max_length=60)
    is_active: bool = True
    locale: Locale = "vi"


class UserUpdate(SQLModel):
    """A partial change of a user; only the fields sent change (`unit: null` removes the unit)."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    unit: str | None = Field(default=None, max_length=60)
    full_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, schema_extra={"pattern": EMAIL_PATTERN})
    is_active: bool | None = None
    locale: Locale | None = None


class MeUpdate(SQLModel):
    """What a user may change about themselves."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, schema_extra={"pattern": EMAIL_PATTERN})
    locale: Locale | None = None


class PasswordSet(SQLModel):
    """A new password, set by an administrator."""

    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)


class PasswordChange(SQLModel):
    """A user's own password change: the current password, then the new one."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)


class UserPublic(SQLModel):
    """A user as the API shows it (never the password hash)."""

    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    unit_code: str | None
    is_active: bool
    locale: str
    version: int
    created_at: datetime
    updated_at: datetime


class TokenCreate(SQLModel):
    """A new API token: its name, scopes, lifetime and, for a token that writes, the unit it is bound to."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    scopes: list[Scope] = Field(default=["read"], min_length=1, max_length=2)
    # Either an instant (a time without zone is local time) or a number of days; 90 days when neither is sent.
    expires_at: datetime | None = None
    expires_in_days: int | None = Field(default=None, ge=1, le=366)
    # Our unit code the token may write for.
    unit: str | None = Field(default=None, max_length=60)


class TokenPublic(SQLModel):
    """A token's metadata (the value is never shown again, the hash never)."""

    id: int
    kind: TokenKind
    name: str
    prefix: str
    scopes: list[str]
    unit_code: str | None
    user_id: int
    username: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    # active | expired | revoked
    status: str


class TokenCreated(TokenPublic):
    """A new token with its value, shown this once (null on an Idempotency-Key replay)."""

    token: str | None
