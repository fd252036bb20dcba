"""Awareness surveys (khảo sát nhận thức): rounds and their scores per target group; 2025 is IND-03's baseline."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import select

from app.api.common import IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.db import SessionDep
from app.models import SurveyRound
from app.models.survey import SurveyRoundCreate, SurveyRoundPublic, SurveyRoundUpdate
from app.services import surveys as survey_service

router = APIRouter(prefix="/surveys", tags=["surveys"])


@router.get("")
def list_surveys(
    session: SessionDep, _: CurrentPrincipal, page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    baseline: Annotated[bool | None, Query(description="Only baseline rounds (true) or only the others (false)")]
    = None,
    unit: Annotated[str | None, Query(description="Code of the unit surveyed")] = None,
) -> Page[SurveyRoundPublic]:
    """Survey rounds with their results, by year."""
    stmt = select(SurveyRound)
    if year is not None:
        stmt = stmt.where(SurveyRound.year == year)
    if baseline is not None:
        stmt = stmt.where(SurveyRound.is_baseline.is_(baseline))
    if unit:
        stmt = stmt.where(SurveyRound.unit_id == unit_by_code(session, unit).id)
    rows, total = paginate(session, stmt.order_by(SurveyRound.year, SurveyRound.id), page)
    return Page(items=survey_service.to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, responses={201: {"model": SurveyRoundPublic}})
def create_survey(
    data: SurveyRoundCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
    idem: IdempotencyDep,
) -> Response:
    """Record a survey round with its results (coordinators and administrators)."""
    principal.require_staff_write()
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    survey = survey_service.create(session, principal, data)
    body = survey_service.to_public(session, [survey])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{survey.id}", etag=etag_of(survey))


@router.get("/{round_id}")
def get_survey(round_id: int, session: SessionDep, _: CurrentPrincipal, response: Response) -> SurveyRoundPublic:
    """One survey round with its results."""
    survey = survey_service.get(session, round_id)
    set_etag(response, survey)
    return survey_service.to_public(session, [survey])[0]


@router.patch("/{round_id}")
def update_survey(
    round_id: int, data: SurveyRoundUpdate, request: Request, response: Response, session: SessionDep,
    principal: CurrentPrincipal,
) -> SurveyRoundPublic:
    """Change a round (`results` replaces them all); send If-Match (coordinators and administrators)."""
    principal.require_staff_write()
    survey = survey_service.get(session, round_id)
    check_if_match(request, survey)
    survey_service.update(session, principal, survey, data)
    set_etag(response, survey)
    return survey_service.to_public(session, [survey])[0]


@router.delete("/{round_id}", status_code=204)
def delete_survey(round_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete a round and its results (coordinators and administrators)."""
    principal.require_staff_write()
    survey = survey_service.get(session, round_id)
    check_if_match(request, survey)
    survey_service.delete(session, principal, survey)
    return Response(status_code=204)
