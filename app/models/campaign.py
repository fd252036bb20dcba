"""Campaigns (đợt truyền thông): the Action Month and commemoration days, and units' plans for them."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import ConfigDict, StringConstraints
from sqlmodel import Field, SQLModel

from app.models.base import Versioned, str_enum_column


class CampaignKind(StrEnum):
    action_month = "action_month"
    womens_day = "womens_day"  # 8/3
    family_day = "family_day"  # 28/6
    vietnamese_womens_day = "vietnamese_womens_day"  # 20/10
    other = "other"


class CampaignBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    kind: CampaignKind = str_enum_column(CampaignKind, index=True)
    year: int = Field(index=True)
    name_vi: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    theme_vi: str | None = Field(default=None, max_length=500)
    starts_on: date
    ends_on: date


class Campaign(CampaignBase, Versioned, table=True):
    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="window"),)

    id: int | None = Field(default=None, primary_key=True)


class CampaignPublic(CampaignBase):
    id: int
    version: int
    # One of the campaigns created for every year automatically (the Action Month, 8/3, 28/6, 20/10).
    recurring: bool = False


class CampaignPlanBase(SQLModel):
    document_number: str = Field(max_length=60)
    document_date: date
    title: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=4000)


class CampaignPlan(CampaignPlanBase, Versioned, table=True):
    """A unit's plan in response to a campaign (kế hoạch hưởng ứng)."""

    __tablename__ = "campaign_plan"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "unit_id", name="uq_campaign_plan_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CampaignCreate(SQLModel):
    """An extra campaign (a province-wide event, a local campaign); the yearly ones are created automatically."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40,
                                           pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")] | None = None
    kind: CampaignKind = CampaignKind.other
    year: int | None = Field(default=None, ge=2000, le=2100)
    name_vi: Annotated[Text, StringConstraints(max_length=300)]
    name_en: str = Field(default="", max_length=300)
    theme_vi: str | None = Field(default=None, max_length=500)
    starts_on: date
    ends_on: date


class CampaignUpdate(SQLModel):
    """Changes to a campaign: names, theme, window (code, kind and year are fixed)."""

    model_config = ConfigDict(extra="forbid")

    name_vi: Annotated[Text, StringConstraints(max_length=300)] | None = None
    name_en: str | None = Field(default=None, max_length=300)
    theme_vi: str | None = Field(default=None, max_length=500)
    starts_on: date | None = None
    ends_on: date | None = None


class CampaignPlanCreate(SQLModel):
    """A unit's plan in response to a campaign: the document's number and date."""

    model_config = ConfigDict(extra="forbid")

    unit: str = Field(max_length=60)
    document_number: Annotated[Text, StringConstraints(max_length=60)]
    document_date: date
    title: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=4000)


class CampaignPlanUpdate(SQLModel):
    """Changes to a unit's campaign plan."""

    model_config = ConfigDict(extra="forbid")

    document_number: Annotated[Text, StringConstraints(max_length=60)] | None = None
    document_date: date | None = None
    title: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=4000)


class CampaignPlanPublic(CampaignPlanBase):
    id: int
    campaign_id: int
    campaign_code: str
    unit_code: str
    unit_name_vi: str
    created_at: datetime
    updated_at: datetime
    version: int
