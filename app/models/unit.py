"""Units (đơn vị) and their succession over time (the 2025 reform)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, StringConstraints
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
    predecessor_codes: list[str] = []
    version: int


# Our codes: lower-case ASCII words joined by hyphens ("p-song-cau"); they appear in URLs.
UnitCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=60,
                                            pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
OfficialCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20,
                                                pattern=r"^[0-9A-Za-z.\-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class UnitCreate(SQLModel):
    """A new unit. It exists from `valid_from`; `valid_to` (its last day) stays empty while it exists."""

    model_config = ConfigDict(extra="forbid")

    code: UnitCode
    official_code: OfficialCode | None = None
    name_vi: Name
    name_en: str = Field(default="", max_length=300)
    kind: UnitKind
    parent_code: UnitCode | None = None
    operator_code: UnitCode | None = None
    valid_from: date
    valid_to: date | None = None


class SuccessorUnitCreate(UnitCreate):
    """A unit created by a succession event; it exists from the event's date unless told otherwise."""

    valid_from: date | None = None  # type: ignore[assignment]


class UnitUpdate(SQLModel):
    """Changes to a unit. Close a unit by setting `valid_to`; a real rename or merger is a succession event."""

    model_config = ConfigDict(extra="forbid")

    official_code: OfficialCode | None = None
    name_vi: Name | None = None
    name_en: str | None = Field(default=None, max_length=300)
    kind: UnitKind | None = None
    parent_code: UnitCode | None = None
    operator_code: UnitCode | None = None
    valid_from: date | None = None
    valid_to: date | None = None


class SuccessionEventCreate(SQLModel):
    """A merger, split, rename, dissolution or transfer of functions, with its date and legal basis."""

    model_config = ConfigDict(extra="forbid")

    kind: SuccessionKind
    effective_on: date
    legal_basis: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    note: str | None = Field(default=None, max_length=2000)
    predecessors: list[UnitCode] = Field(default_factory=list, max_length=50)
    # Codes of existing units that succeed …
    successors: list[UnitCode] = Field(default_factory=list, max_length=50)
    # … and units the event creates (they join the successors).
    new_units: list[SuccessorUnitCreate] = Field(default_factory=list, max_length=50)


class SuccessionEventUpdate(SQLModel):
    """Corrections to an event's legal basis or note (dates and units are fixed: delete and record it again)."""

    model_config = ConfigDict(extra="forbid")

    legal_basis: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = None
    note: str | None = Field(default=None, max_length=2000)


class SuccessionEventPublic(SQLModel):
    id: int
    kind: SuccessionKind
    effective_on: date
    legal_basis: str
    note: str | None
    recorded_at: datetime | None
    predecessors: list[str]
    successors: list[str]
    version: int


class LineageUnit(SQLModel):
    """A unit in a lineage, with how many events away it is."""

    code: str
    official_code: str | None
    name_vi: str
    kind: UnitKind
    valid_from: date
    valid_to: date | None
    generation: int


class UnitLineage(SQLModel):
    """Where a unit came from and what it became, through every succession event both ways."""

    code: str
    predecessors: list[LineageUnit]
    successors: list[LineageUnit]
    events: list[SuccessionEventPublic]
