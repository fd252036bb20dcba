"""Code lists (task groups, target groups, activity kinds, channels, products, funding sources)."""

from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class CodeListName(StrEnum):
    task_group = "task_group"
    target_group = "target_group"
    activity_kind = "activity_kind"
    channel = "channel"
    product = "product"
    funding_source = "funding_source"


class CodeItemBase(SQLModel):
    list_name: str = Field(max_length=32, index=True)
    code: str = Field(max_length=40)
    label_vi: str = Field(max_length=300)
    label_en: str = Field(max_length=300)
    sort_order: int = 0
    active: bool = True


class CodeItem(CodeItemBase, table=True):
    __tablename__ = "code_item"
    __table_args__ = (sa.UniqueConstraint("list_name", "code", name="uq_code_item_list_code"),)

    id: int | None = Field(default=None, primary_key=True)


class CodeItemPublic(SQLModel):
    code: str
    label_vi: str
    label_en: str
    sort_order: int
    active: bool
