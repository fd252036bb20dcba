"""Official documents (DOCX, Decree 30/2020/NĐ-CP) and their tables (XLSX): a unit's annual report, the city's
consolidated report and the period reviews."""

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.api.deps import CurrentPrincipal, unit_by_code
from app.db import SessionDep
from app.models import ReportKind
from app.services import documents
from app.services.documents import DOCX, XLSX, FileOut

router = APIRouter(prefix="/reports", tags=["documents"])

Year = Annotated[int, Path(ge=2000, le=2100, description="The year reported on")]
UnitScope = Annotated[str | None, Query(max_length=60,
                                        description="Code of a unit: only it and its subtree (default: the city)")]
ReviewKind = Annotated[Literal["midterm", "final"], Path(
    description="midterm: the first phase (2022–2025); final: the whole plan (2022–2030)")]
DOCX_RESPONSE = {200: {"content": {DOCX: {}}, "description": "The document (Word, A4)"}}
XLSX_RESPONSE = {200: {"content": {XLSX: {}}, "description": "The tables, one sheet each"}}


def _send(file: FileOut) -> Response:
    return Response(file.content, media_type=file.media_type, headers={
        "Content-Disposition": file.content_disposition(), "Cache-Control": "private, no-cache"})


def _check_scope(session, unit: str | None) -> None:
    if unit:
        unit_by_code(session, unit)


@router.get("/{year}/units/{unit}/report.docx", response_class=Response, responses=DOCX_RESPONSE)
def unit_report_document(
    year: Year, unit: str, session: SessionDep, _: CurrentPrincipal,
    kind: Annotated[ReportKind, Query(description="annual (default), midterm or final")] = ReportKind.annual,
) -> Response:
    """A unit's report as its official DOCX (404 when the unit has no report for the year)."""
    return _send(documents.unit_report_docx(session, unit_by_code(session, unit), year, kind))


@router.get("/{year}/city-report.docx", response_class=Response, responses=DOCX_RESPONSE)
def city_report_document(year: Year, session: SessionDep, _: CurrentPrincipal, unit: UnitScope = None) -> Response:
    """The city's consolidated annual report by the lead office, with its annexes, as a DOCX."""
    _check_scope(session, unit)
    return _send(documents.city_report_docx(session, year, unit))


@router.get("/{year}/city-report.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def city_report_workbook(year: Year, session: SessionDep, _: CurrentPrincipal, unit: UnitScope = None) -> Response:
    """The tables of the city's annual report as an XLSX workbook."""
    _check_scope(session, unit)
    return _send(documents.city_report_xlsx(session, year, unit))


@router.get("/review/{kind}.docx", response_class=Response, responses=DOCX_RESPONSE)
def review_document(kind: ReviewKind, session: SessionDep, _: CurrentPrincipal, unit: UnitScope = None) -> Response:
    """The mid-term (2022–2025) or final (2022–2030) review, year by year, as a DOCX."""
    _check_scope(session, unit)
    return _send(documents.review_docx(session, ReportKind(kind), unit))


@router.get("/review/{kind}.xlsx", response_class=Response, responses=XLSX_RESPONSE)
def review_workbook(kind: ReviewKind, session: SessionDep, _: CurrentPrincipal, unit: UnitScope = None) -> Response:
    """The tables of a period review as an XLSX workbook."""
    _check_scope(session, unit)
    return _send(documents.review_xlsx(session, ReportKind(kind), unit))
