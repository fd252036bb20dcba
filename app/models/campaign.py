"""Campaigns (đợt truyền thông): the Action Month and commemoration days, and units' plans for them."""

from datetime import date
from enum import StrEnum

import sqlalchemy as sa
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
