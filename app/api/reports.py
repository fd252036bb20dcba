"""Annual reports and period reviews: the content, the workflow and the year's completeness."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from app.api.common import Idempotency, IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.db import SessionDep
from app.models import ReportKind, ReportStatus
from app.models.report import (
    Completeness,
    ReopenRequest,
    ReportListItem,
    ReportPublic,
    ReportWrite,
    ReturnRequest,
    TransitionPublic,
)
from app.services import obligations
from app.services import reports as report_service
from app.services import units as unit_service

router = APIRouter(prefix="/reports", tags=["reports"])

Year = Annotated[int, Path(ge=2000, le=2100, description="The year reported on")]
KindQuery = Annotated[ReportKind, Query(description="annual (default), midterm (2022–2025) or final (2022–2030)")]
UnitFilter = Annotated[str | None, Query(max_length=60, description="Code of a unit: it and its whole subtree")]


@router.get("")
def list_reports(
    session: SessionDep, _: CurrentPrincipal, page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Annotated[list[ReportStatus] | None, Query(description="One or more statuses")] = None,
    unit: UnitFilter = None,
    kind: Annotated[ReportKind | None, Query()] = None,
) -> Page[ReportListItem]:
    """Reports, newest year first, then by unit code."""
    within = unit_service.subtree_ids(session, unit_by_code(session, unit).id) if unit else None
    rows, total = paginate(session, report_service.list_statement(year, status, kind, within), page)
    return Page(items=[report_service.to_list_item(r, u) for r, u in rows], total=total,
                limit=page.limit, offset=page.offset)


@router.get("/{year}/completeness")
def get_completeness(
    year: Year, session: SessionDep, _: CurrentPrincipal, unit: UnitFilter = None,
    kind: KindQuery = ReportKind.annual,
) -> Completeness:
    """Who owes a report for the year, who submitted, on time or late, and who is missing."""
    within = unit_service.subtree_ids(session, unit_by_code(session, unit).id) if unit else None
    return Completeness.model_validate(obligations.completeness(session, year, kind, within))


@router.get("/{year}/units/{unit}")
def get_report(
    year: Year, unit: str, session: SessionDep, principal: CurrentPrincipal, response: Response,
    kind: KindQuery = ReportKind.annual,
) -> ReportPublic:
    """A unit's report for the year (404 when it has none yet)."""
    owner = unit_by_code(session, unit)
    report = report_service.get_or_404(session, owner, year, kind)
    set_etag(response, report)
    return report_service.to_public(session, principal, report, owner)


@router.put("/{year}/units/{unit}", responses={201: {"description": "The draft was created"}})
def put_report(
    year: Year, unit: str, body: ReportWrite, request: Request, session: SessionDep, principal: CurrentPrincipal,
    response: Response, kind: KindQuery = ReportKind.annual,
) -> ReportPublic:
    """Create the draft or replace the content of a draft or returned report (If-Match when it exists)."""
    owner = unit_by_code(session, unit)
    principal.require_write_unit(owner.id)
    report = report_service.get(session, owner, year, kind, for_update=True)
    check_if_match(request, report)  # None: the PUT creates the draft
    created = report is None
    report = report_service.save(session, principal, owner, year, kind, body, report)
    set_etag(response, report)
    if created:
        response.status_code = 201
        response.headers["Location"] = report_service.report_path(report, owner)
    return report_service.to_public(session, principal, report, owner)


def _act(action: str, year: int, unit: str, kind: ReportKind, request: Request, session, principal,
         idem: Idempotency, comment: str | None = None):
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    owner = unit_by_code(session, unit)
    report = report_service.get_or_404(session, owner, year, kind, for_update=True)
    report_service.authorize(principal, report, action)
    check_if_match(request, report)
    report = report_service.transition(session, principal, report, owner, action, comment)
    body = jsonable_encoder(report_service.to_public(session, principal, report, owner))
    headers = {"ETag": etag_of(report)}
    idem.store(session, principal, 200, body, headers)
    return JSONResponse(body, headers=headers)


@router.post("/{year}/units/{unit}/submit", response_model=ReportPublic)
def submit_report(year: Year, unit: str, request: Request, session: SessionDep, principal: CurrentPrincipal,
                  idem: IdempotencyDep, kind: KindQuery = ReportKind.annual):
    """Submit a draft (→ submitted) or a returned report (→ resubmitted); freezes the activity summary."""
    return _act("submit", year, unit, kind, request, session, principal, idem)


@router.post("/{year}/units/{unit}/accept", response_model=ReportPublic)
def accept_report(year: Year, unit: str, request: Request, session: SessionDep, principal: CurrentPrincipal,
                  idem: IdempotencyDep, kind: KindQuery = ReportKind.annual):
    """Accept a submitted report, which locks it (coordinators)."""
    return _act("accept", year, unit, kind, request, session, principal, idem)


@router.post("/{year}/units/{unit}/return", response_model=ReportPublic)
def return_report(year: Year, unit: str, body: ReturnRequest, request: Request, session: SessionDep,
                  principal: CurrentPrincipal, idem: IdempotencyDep, kind: KindQuery = ReportKind.annual):
    """Return a submitted report to its unit with a comment (coordinators)."""
    return _act("return", year, unit, kind, request, session, principal, idem, body.comment)


@router.post("/{year}/units/{unit}/reopen", response_model=ReportPublic)
def reopen_report(year: Year, unit: str, body: ReopenRequest, request: Request, session: SessionDep,
                  principal: CurrentPrincipal, idem: IdempotencyDep, kind: KindQuery = ReportKind.annual):
    """Reopen an accepted report for amendment (→ returned), with the reason (coordinators)."""
    return _act("reopen", year, unit, kind, request, session, principal, idem, body.reason)


@router.get("/{year}/units/{unit}/history")
def report_history(year: Year, unit: str, session: SessionDep, _: CurrentPrincipal,
                   kind: KindQuery = ReportKind.annual) -> list[TransitionPublic]:
    """The report's workflow steps, oldest first."""
    owner = unit_by_code(session, unit)
    return report_service.history(session, report_service.get_or_404(session, owner, year, kind))
