"""Operational statistics of the activities, per year and by unit, kind, task group, channel, campaign …"""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from app.api.common import if_none_match
from app.api.deps import CurrentPrincipal
from app.api.errors import Invalid, field_error
from app.api.indicator_values import (
    BoundariesQuery,
    KindQuery,
    UnitQuery,
    YearQuery,
    cache_headers,
    check_unit,
    negotiate,
    parse_years,
    render,
)
from app.db import SessionDep
from app.services import engine
from app.services import statistics as statistics_service

router = APIRouter(prefix="/statistics", tags=["statistics"])

Dimension = Literal["year", "unit", "kind", "task_group", "channel", "campaign", "funding_source", "target_group",
                    "product"]


class Statistics(BaseModel):
    """Rows with the year, the `by` dimensions and the measures."""

    by: list[str]
    items: list[dict[str, Any]]
    total: int


@router.get("", response_model=Statistics, responses={200: {"content": {"text/csv": {}}}, 304: {}})
def get_statistics(
    request: Request, session: SessionDep, _: CurrentPrincipal,
    year: YearQuery = None, unit: UnitQuery = None, kind: KindQuery = None,
    by: Annotated[list[Dimension] | None, Query(
        description="Dimensions besides the year (repeat for a cross table); default: the year only")] = None,
    boundaries: BoundariesQuery = "as_reported",
    fmt: Annotated[Literal["json", "csv", "xlsx"] | None, Query(alias="format")] = None,
) -> Response:
    """Activities, participants by sex (share of women), broadcasts, products and cost, per year and `by`."""
    chosen = negotiate(request, fmt, allowed=("json", "csv", "xlsx"))
    years = parse_years(year)
    check_unit(session, unit)
    dims = ["year"] + [d for d in dict.fromkeys(by or []) if d != "year"]
    if "target_group" in dims and "product" in dims:
        raise Invalid("These dimensions cannot be combined.", errors=[field_error(
            ["query", "by"], "Ask for target_group or product, not both.")])
    kinds = [k.value for k in kind] if kind else None
    tag, last = engine.etag(session, "statistics", chosen, years, unit, kinds, dims, boundaries)
    headers = cache_headers(tag, last)
    if if_none_match(request, tag):
        return Response(status_code=304, headers=headers)
    rows = statistics_service.compute(session, years=years, by=dims, unit_code=unit, kinds=kinds,
                                      boundaries=boundaries)
    body = json.dumps({"by": dims, "items": rows, "total": len(rows)}, ensure_ascii=False)
    columns = [*dims, *statistics_service.MEASURES]
    return render(chosen, json_body=body, columns=columns, rows=rows, name="statistics", headers=headers)
