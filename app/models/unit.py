"""Units (đơn vị) and their succession over time (the 2025 reform)."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, Versioned, str_enum_column


class UnitKind(StrEnum):
    province = "province"
    city = "city"
    department = "department"
    mass_org = "mass_org"
    ward = "ward"
    commune = "commune"
    media = "media"
    school = "school"
    health = "health"
    enterprise = "enterprise"
    other = "other"


class SuccessionKind(StrEnum):
    merge = "merge"
    split = "split"
    rename = "rename"
    dissolve = "dissolve"
    transfer = "transfer"


class UnitBase(SQLModel):
    # Our code: unique for ever, used in URLs.
    code: str = Field(max_length=60, unique=True, index=True)
    # Official administrative code: unique only among units valid on a date.
    official_code: str | None = Field(default=None, max_length=20, index=True)
    name_vi: str = Field(max_length=300)
    name_en: str = Field(default="", max_length=300)
    kind: UnitKind = str_enum_column(UnitKind, index=True)
    valid_from: date = Field(default=date(2022, 1, 1))
    # Last day the unit existed; None while it exists.
    valid_to: date | None = None


class Unit(UnitBase, Versioned, table=True):
    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    # A media outlet is run (and reported for) by another unit.
    operator_id: int | None = Field(default=None, foreign_key="unit.id", index=True)


class SuccessionEvent(Versioned, table=True):
    __tablename__ = "succession_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: SuccessionKind = str_enum_column(SuccessionKind)
    effective_on: date
    legal_basis: str = Field(max_length=500)
    note: str | None = Field(default=None, max_length=2000)
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SuccessionLink(SQLModel, table=True):
    """One unit taking part in an event, as predecessor or successor."""

    __tablename__ = "succession_link"
    __table_args__ = (sa.UniqueConstraint("event_id", "unit_id", "role", name="uq_succession_link"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="succession_event.id", index=True, ondelete="CASCADE")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    role: str = Field(max_length=12)  # "predecessor" | "successor"


class UnitPublic(UnitBase):
    id: int
    parent_code: str | None = None
    operator_code: str | None = None
    successor_codes: list[str] = []
    version: int
