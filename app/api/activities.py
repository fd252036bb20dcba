"""Communication activities (hoạt động truyền thông): records, filters, and bulk import from CSV or XLSX."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import exists
from sqlmodel import select

from app.api.common import Idempotency, IdempotencyDep, Page, check_if_match, etag_of, paginate, set_etag
from app.api.deps import CurrentPrincipal, PageDep, unit_by_code
from app.api.errors import Invalid, field_error
from app.config import get_settings
from app.db import SessionDep
from app.models import Activity, ActivityTargetGroup, CodeItem
from app.models.activity import ActivityCreate, ActivityPublic, ActivityUpdate, ImportResult
from app.services import activities as activity_service
from app.services import files as file_service
from app.services import imports as import_service
from app.services import units as unit_service

router = APIRouter(prefix="/activities", tags=["activities"])
CodesQuery = Annotated[list[str] | None, Query(description="One or more codes (any of them)")]


@router.get("")
def list_activities(
    session: SessionDep,
    _: CurrentPrincipal,
    page: PageDep,
    unit: Annotated[str | None, Query(max_length=60, description="Our unit code")] = None,
    include_subunits: Annotated[bool, Query(description="With `unit`: the unit and every unit below it")] = False,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Year of the first day")] = None,
    date_from: Annotated[date | None, Query(description="First day on or after this date")] = None,
    date_to: Annotated[date | None, Query(description="First day on or before this date")] = None,
    campaign: Annotated[int | None, Query(description="Campaign id")] = None,
    task_group: CodesQuery = None,
    kind: CodesQuery = None,
    channel: CodesQuery = None,
    target_group: CodesQuery = None,
    funding_source: CodesQuery = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the title")] = None,
) -> Page[ActivityPublic]:
    """Activities, filtered; newest first (first day descending, then id descending)."""
    if date_from and date_to and date_from > date_to:
        raise Invalid("date_from is after date_to.",
                      errors=[field_error(["query", "date_to"], "date_to must not be before date_from.")])
    stmt = select(Activity)
    if unit:
        root = unit_by_code(session, unit)
        if include_subunits:
            stmt = stmt.where(Activity.unit_id.in_(unit_service.subtree_ids(session, root.id)))
        else:
            stmt = stmt.where(Activity.unit_id == root.id)
    if year is not None:
        stmt = stmt.where(Activity.held_on >= date(year, 1, 1), Activity.held_on <= date(year, 12, 31))
    if date_from:
        stmt = stmt.where(Activity.held_on >= date_from)
    if date_to:
        stmt = stmt.where(Activity.held_on <= date_to)
    if campaign is not None:
        stmt = stmt.where(Activity.campaign_id == campaign)
    for column, codes in ((Activity.task_group, task_group), (Activity.kind, kind), (Activity.channel, channel),
                          (Activity.funding_source, funding_source)):
        if codes:
            stmt = stmt.where(column.in_(codes))
    if target_group:
        stmt = stmt.where(exists().where(ActivityTargetGroup.activity_id == Activity.id,
                                         ActivityTargetGroup.code.in_(target_group)))
    if q:
        stmt = stmt.where(Activity.title.ilike(f"%{q}%"))
    rows, total = paginate(session, stmt.order_by(Activity.held_on.desc(), Activity.id.desc()), page)
    return Page(items=activity_service.to_public(session, rows), total=total, limit=page.limit, offset=page.offset)


@router.post("", status_code=201, response_model=ActivityPublic)
def create_activity(data: ActivityCreate, request: Request, session: SessionDep, principal: CurrentPrincipal,
                    idem: IdempotencyDep) -> Response:
    """Record an activity that took place (officers: their own unit; honours Idempotency-Key)."""
    activity_service.require_writer(principal)
    if (replayed := idem.replay(session, principal)) is not None:
        return replayed
    activity = activity_service.create(session, principal, data)
    body = activity_service.to_public(session, [activity])[0].model_dump(mode="json")
    return idem.created(session, principal, body, location=f"{request.url.path}/{activity.id}", etag=etag_of(activity))


@router.get("/import/template.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "The header and an example line"}})
def import_template_csv(_: CurrentPrincipal) -> Response:
    """The import file's header row with an example line, as CSV (UTF-8)."""
    return Response(import_service.template_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="activities-template.csv"'})


@router.get("/import/template.xlsx", response_class=Response, responses={200: {"content": {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}, "description": "The template"}})
def import_template_xlsx(session: SessionDep, _: CurrentPrincipal) -> Response:
    """The import file's header row with an example line, as XLSX, with a sheet listing the codes."""
    items = session.exec(select(CodeItem.list_name, CodeItem.code, CodeItem.label_vi, CodeItem.label_en)
                         .where(CodeItem.active.is_(True)).order_by(CodeItem.list_name, CodeItem.sort_order)).all()
    return Response(import_service.template_xlsx([tuple(i) for i in items]),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="activities-template.xlsx"'})


@router.post("/import", status_code=201, response_model=ImportResult,
             responses={200: {"model": ImportResult, "description": "Dry run: the rows checked, nothing written"}})
def import_activities(
    file: Annotated[UploadFile, File(description="CSV (UTF-8, with or without BOM) or XLSX, one activity a row")],
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    dry_run: Annotated[bool, Query(description="Check every row and write nothing")] = False,
) -> Response:
    """Import activities: every row is checked; all rows are written, or none (422 listing each row's problems)."""
    activity_service.require_writer(principal)
    limit = get_settings().max_upload_bytes
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise import_service.ContentTooLarge(f"The file is larger than {limit} bytes; split it.", limit=limit)
    # The multipart boundary changes between retries: the key is bound to the file, not to the raw body.
    idem = Idempotency(request, content)
    if not dry_run and (replayed := idem.replay(session, principal)) is not None:
        return replayed
    outcome = import_service.run(session, principal, content, dry_run=dry_run)
    body = outcome.body(dry_run)
    if dry_run:
        return JSONResponse(body, status_code=200)
    if outcome.errors:
        raise Invalid(f"{len(outcome.errors)} problem(s) in the file; nothing was imported.",
                      title="The file has invalid rows", errors=body["errors"], rows=outcome.rows,
                      valid_rows=outcome.valid_rows, error_count=len(outcome.errors))
    idem.store(session, principal, 201, body)
    return JSONResponse(body, status_code=201)


@router.get("/{activity_id}")
def get_activity(activity_id: int, session: SessionDep, _: CurrentPrincipal, response: Response) -> ActivityPublic:
    """One activity, with its ETag."""
    activity = activity_service.get(session, activity_id)
    set_etag(response, activity)
    return activity_service.to_public(session, [activity])[0]


@router.patch("/{activity_id}")
def update_activity(activity_id: int, data: ActivityUpdate, request: Request, response: Response,
                    session: SessionDep, principal: CurrentPrincipal) -> ActivityPublic:
    """Change an activity (honours If-Match); `target_groups` and `products`, when sent, replace the lists."""
    activity = activity_service.get(session, activity_id, for_update=True)
    activity_service.require_writer(principal)
    principal.require_write_unit(activity.unit_id)
    check_if_match(request, activity)
    activity_service.update(session, principal, activity, data)
    set_etag(response, activity)
    return activity_service.to_public(session, [activity])[0]


@router.delete("/{activity_id}", status_code=204)
def delete_activity(activity_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal,
                    background: BackgroundTasks) -> Response:
    """Delete an activity and its evidence files (honours If-Match)."""
    activity = activity_service.get(session, activity_id, for_update=True)
    activity_service.require_writer(principal)
    principal.require_write_unit(activity.unit_id)
    check_if_match(request, activity)
    for key in activity_service.delete(session, principal, activity):
        # The bytes go after the commit (the session commits before the response, background tasks run after it).
        background.add_task(file_service.remove_blob, key)
    return Response(status_code=204)
