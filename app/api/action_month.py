"""The Action Month board: each unit's plan, its activities in the campaign and the people they reached."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from app.api.deps import CurrentPrincipal, unit_by_code
from app.db import SessionDep
from app.services import obligations
from app.services import units as unit_service

router = APIRouter(prefix="/action-month", tags=["action month"])


class PlanFile(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int


class BoardPlan(BaseModel):
    id: int
    document_number: str
    document_date: date
    title: str | None
    files: list[PlanFile]


class BoardRow(BaseModel):
    unit_code: str
    unit_name: str
    unit_kind: str
    plan: BoardPlan | None
    activities: int
    participants_male: int
    participants_female: int
    participants_total: int


class BoardTotals(BaseModel):
    units: int
    units_with_plan: int
    units_without_plan: int
    units_with_activities: int
    units_with_plan_and_activities: int
    activities: int
    participants_male: int
    participants_female: int
    participants_total: int


class BoardCampaign(BaseModel):
    id: int
    code: str
    name_vi: str
    theme_vi: str | None
    starts_on: date
    ends_on: date


class BoardUnit(BaseModel):
    code: str
    name: str
    kind: str


class ActionMonthBoard(BaseModel):
    year: int
    campaign: BoardCampaign
    units: list[BoardRow]
    totals: BoardTotals
    units_without_plan: list[BoardUnit]


@router.get("/{year}")
def get_board(
    year: Annotated[int, Path(ge=2000, le=2100)], session: SessionDep, principal: CurrentPrincipal,
    unit: Annotated[str | None, Query(max_length=60, description="Code of a unit: it and its whole subtree")] = None,
) -> ActionMonthBoard:
    """The year's Action Month (15/11–15/12): per unit its plan or none, activities and participants by sex."""
    within = unit_service.subtree_ids(session, unit_by_code(session, unit).id) if unit else None
    return ActionMonthBoard.model_validate(obligations.action_month_board(session, year, within, principal))
