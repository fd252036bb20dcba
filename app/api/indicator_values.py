"""Indicator values: the plan's five indicators as a tidy table (JSON, CSV, XLSX, SDMX-CSV), with data ETags."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel
from sqlmodel import Session, select

from app.api.common import if_none_match
from app.api.deps import PublicReader
from app.api.errors import AppError, Invalid, field_error
from app.db import SessionDep
from app.models import Indicator, Unit, UnitKind
from app.services import engine
from app.services.calendar import local_today
from app.services.indicators import get_by_code

router = APIRouter(prefix="", tags=["indicator values"])

JSON = "application/json"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SDMX = "application/vnd.sdmx.data+csv"
Format = Literal["json", "csv", "xlsx", "sdmx"]
FORMAT_TYPES = {"json": JSON, "csv": f"{CSV}; charset=utf-8", "xlsx": XLSX,
                "sdmx": f"{SDMX}; version=2.0.0; charset=utf-8"}
# The tidy table's columns in CSV and XLSX (the unit lists and survey groups are in JSON only).
COLUMNS = ("indicator", "year", "unit", "numerator", "denominator", "value", "target", "target_max", "target_count",
           "target_qualifier", "target_year", "status", "change_relative", "change_points")
SDMX_COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", "INDICATOR", "TIME_PERIOD", "REF_AREA", "OBS_VALUE",
                "NUMERATOR", "DENOMINATOR", "TARGET", "OBS_STATUS", "TARGET_STATUS")
SDMX_DATAFLOW = "BDG2030:DF_INDICATOR_VALUES(1.0)"
MAX_YEARS = 50


class NotAcceptable(AppError):
    status, slug = 406, "not-acceptable"


class IndicatorValues(BaseModel):
    """All rows of the table (not paginated: a table is pulled whole)."""

    items: list[engine.IndicatorValue]
    total: int


# --- shared by the statistics routes --------------------------------------------------------------------------


def negotiate(request: Request, fmt: str | None, allowed: Sequence[str] = ("json", "csv", "xlsx", "sdmx")) -> str:
    """The representation asked for: `format=` wins, then the best match of `Accept` (JSON when anything goes)."""
    if fmt:
        if fmt not in allowed:
            raise Invalid("This format is not available here.",
                          errors=[field_error(["query", "format"], f"Use one of: {', '.join(allowed)}.")])
        return fmt
    header = request.headers.get("accept", "").strip()
    if not header:
        return "json"
    best: tuple[float, int, int] | None = None
    chosen = "json"
    for position, entry in enumerate(header.split(",")):
        media, *params = [p.strip() for p in entry.split(";")]
        options = {k.strip().lower(): v.strip().strip('"') for k, _, v in (p.partition("=") for p in params)}
        try:
            q = float(options.get("q", "1"))
        except ValueError:
            q = 0.0
        media = media.lower()
        if media == SDMX:
            name = "sdmx" if options.get("version", "2.0.0").startswith("2") else None
        else:
            name = {JSON: "json", CSV: "csv", XLSX: "xlsx", "application/*": "json", "*/*": "json",
                    "application/problem+json": "json"}.get(media)
        if name is None or name not in allowed or q <= 0:
            continue
        # Higher q wins; at equal q an exact type beats a wildcard, then the first listed.
        rank = (q, 0 if "*" in media else 1, -position)
        if best is None or rank > best:
            best, chosen = rank, name
    if best is None:
        raise NotAcceptable(f"Cannot answer {header!r}; ask for one of: {', '.join(FORMAT_TYPES[a] for a in allowed)}.")
    return chosen


def cache_headers(tag: str, last: datetime | None) -> dict[str, str]:
    """ETag, Last-Modified and the caching rules of a computed table."""
    headers = {"ETag": tag, "Cache-Control": "private, no-cache", "Vary": "Accept, Authorization"}
    if last is not None:
        headers["Last-Modified"] = format_datetime(last, usegmt=True)
    return headers


def _cell(value: Any) -> Any:
    return "" if value is None else value


def to_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """A CSV table (RFC 4180, UTF-8, a header row); empty cells for missing values."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue().encode("utf-8")


def to_xlsx(columns: Sequence[str], rows: Iterable[dict[str, Any]], title: str) -> bytes:
    """An XLSX workbook with one sheet: a header row and the rows."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(c) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(fmt: str, *, json_body: str, columns: Sequence[str], rows: list[dict[str, Any]], name: str,
           headers: dict[str, str]) -> Response:
    """The response in the negotiated representation."""
    if fmt == "json":
        return Response(json_body, media_type=JSON, headers=headers)
    if fmt == "xlsx":
        headers = {**headers, "Content-Disposition": f'attachment; filename="{name}.xlsx"'}
        return Response(to_xlsx(columns, rows, name), media_type=XLSX, headers=headers)
    headers = {**headers, "Content-Disposition": f'inline; filename="{name}.csv"'}
    return Response(to_csv(columns, rows), media_type=FORMAT_TYPES[fmt], headers=headers)


def parse_years(values: list[str] | None) -> list[int]:
    """Years from `year=2025`, `year=2022-2030` or `year=2024,2025`; the current local year by default."""
    if not values:
        return [local_today().year]
    years: set[int] = set()
    for raw in values:
        for part in raw.split(","):
            part = part.strip()
            first, sep, last = part.partition("-")
            try:
                low, high = int(first), int(last) if sep else int(first)
            except ValueError:
                raise Invalid("The year is not valid.", errors=[field_error(
                    ["query", "year"], f"{part!r} is not a year (2025) or a range of years (2022-2030).")]) from None
            if low > high:
                raise Invalid("The year is not valid.", errors=[field_error(
                    ["query", "year"], f"{part!r} runs backwards: write the earlier year first ({high}-{low}).")])
            if not (1900 <= low <= high <= 2200) or high - low >= MAX_YEARS:
                raise Invalid("The year is not valid.", errors=[field_error(
                    ["query", "year"], f"{part!r} is outside 1900–2200 or spans more than {MAX_YEARS} years.")])
            years.update(range(low, high + 1))
    if len(years) > MAX_YEARS:
        raise Invalid("Too many years.", errors=[field_error(["query", "year"], f"Ask for {MAX_YEARS} years at most.")])
    return sorted(years)


def check_unit(session: Session, code: str | None) -> None:
    """422 naming `unit` when the code is unknown."""
    if code and session.exec(select(Unit.id).where(Unit.code == code)).first() is None:
        raise Invalid("Unknown unit.", errors=[field_error(["query", "unit"], f"No unit with code {code!r}.")])


# --- indicator values -----------------------------------------------------------------------------------------


def _sdmx_rows(rows: list[engine.IndicatorValue]) -> list[dict[str, Any]]:
    return [{
        "STRUCTURE": "dataflow", "STRUCTURE_ID": SDMX_DATAFLOW, "ACTION": "I", "INDICATOR": r.indicator,
        "TIME_PERIOD": r.year, "REF_AREA": r.unit or "_T", "OBS_VALUE": r.value, "NUMERATOR": r.numerator,
        "DENOMINATOR": r.denominator, "TARGET": r.target, "OBS_STATUS": "A" if r.value is not None else "M",
        "TARGET_STATUS": r.status,
    } for r in rows]


def _values_response(
    request: Request, session: Session, *, codes: list[str] | None, year: list[str] | None, unit: str | None,
    kind: list[UnitKind] | None, by: str, boundaries: str, fmt: str | None, plan: str | None,
) -> Response:
    chosen = negotiate(request, fmt)
    years = parse_years(year)
    check_unit(session, unit)
    kinds = [k.value for k in kind] if kind else None
    tag, last = engine.etag(session, "indicator-values", chosen, codes, years, unit, kinds, by, boundaries, plan)
    headers = cache_headers(tag, last)
    if if_none_match(request, tag):
        return Response(status_code=304, headers=headers)
    rows = engine.compute(session, indicators=codes, years=years, unit_code=unit, by=by, boundaries=boundaries,
                          kinds=kinds, plan_code=plan)
    body = IndicatorValues(items=rows, total=len(rows))
    if chosen == "sdmx":
        return render("sdmx", json_body="", columns=SDMX_COLUMNS, rows=_sdmx_rows(rows), name="indicator-values",
                      headers=headers)
    return render(chosen, json_body=body.model_dump_json() if chosen == "json" else "", columns=COLUMNS,
                  rows=[r.model_dump() for r in rows] if chosen != "json" else [], name="indicator-values",
                  headers=headers)


YearQuery = Annotated[list[str] | None, Query(
    description="Year, repeated or as a range (`2022-2030`); default: the current year (Asia/Ho_Chi_Minh)")]
UnitQuery = Annotated[str | None, Query(max_length=60,
                                        description="Code of a unit: it and its whole subtree (default: the city)")]
KindQuery = Annotated[list[UnitKind] | None, Query(
    description="Only units of these kinds (and what lies below them)")]
ByQuery = Annotated[Literal["year", "unit"], Query(
    description="`year`: one row per indicator and year for the scope; `unit`: also one row per unit")]
BoundariesQuery = Annotated[Literal["as_reported", "current"], Query(
    description="`current` rolls figures of merged units up to their successors")]
FormatQuery = Annotated[Format | None, Query(alias="format", description="Overrides Accept")]
PlanQuery = Annotated[str | None, Query(max_length=40, description="Plan code (default: the first plan)")]
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {}, XLSX: {}, SDMX: {}}, "description": "The table (JSON, CSV, XLSX or SDMX-CSV 2.0)"},
    304: {"description": "Unchanged since the ETag sent in If-None-Match"},
}


@router.get("/indicator-values", response_model=IndicatorValues, responses=RESPONSES)
def list_indicator_values(
    request: Request, session: SessionDep, _: PublicReader,
    indicator: Annotated[list[str] | None, Query(description="Indicator codes (default: all)")] = None,
    year: YearQuery = None, unit: UnitQuery = None, kind: KindQuery = None, by: ByQuery = "year",
    boundaries: BoundariesQuery = "as_reported", fmt: FormatQuery = None, plan: PlanQuery = None,
) -> Response:
    """Indicator values: one row per indicator × year (× unit with by=unit), with numerator, denominator, status."""
    codes = [c.strip() for raw in indicator or [] for c in raw.split(",") if c.strip()] or None
    if codes:
        known = set(session.exec(select(Indicator.code)).all())
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise Invalid("Unknown indicator.", errors=[field_error(
                ["query", "indicator"], f"No indicator with code {unknown[0]!r}.")])
    return _values_response(request, session, codes=codes, year=year, unit=unit, kind=kind, by=by,
                            boundaries=boundaries, fmt=fmt, plan=plan)


@router.get("/indicators/{code}/values", response_model=IndicatorValues, responses=RESPONSES)
def get_indicator_values(
    code: str, request: Request, session: SessionDep, _: PublicReader,
    year: YearQuery = None, unit: UnitQuery = None, kind: KindQuery = None, by: ByQuery = "year",
    boundaries: BoundariesQuery = "as_reported", fmt: FormatQuery = None, plan: PlanQuery = None,
) -> Response:
    """One indicator's values: one row per year (× unit with by=unit)."""
    get_by_code(session, code, plan_code=plan)
    return _values_response(request, session, codes=[code], year=year, unit=unit, kind=kind, by=by,
                            boundaries=boundaries, fmt=fmt, plan=plan)
