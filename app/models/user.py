"""Users, their roles, and the tokens they and their systems use."""

from datetime import datetime
from enum import StrEnum

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
