"""Shared column types and mixins for the tables."""

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def bump(obj) -> None:
    """Mark a versioned record as changed: next version, new change time."""
    obj.version += 1
    obj.updated_at = utcnow()


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Timestamped(SQLModel):
    """Creation and last-change times."""

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Versioned(Timestamped):
    """A mutable resource: its version is the ETag, and writes check it (If-Match).

    The version is also the mapper's version counter, set by `bump`: every UPDATE and DELETE carries
    `WHERE version = <the version read>`, so of two concurrent writers from the same version the second fails
    (StaleDataError, answered 412) even when both passed the If-Match check.
    """

    version: int = Field(default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version, "version_id_generator": False}


class StrEnumType(TypeDecorator):
    """A StrEnum stored as VARCHAR (portable, no native enum to migrate) and read back as the enum."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int | None = None):
        self.enum = enum
        super().__init__(length or max(len(m.value) for m in enum) + 8)

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


def str_enum_column(enum: type[StrEnum], **kwargs):
    """A column holding a StrEnum's value."""
    return Field(sa_type=StrEnumType(enum), **kwargs)
