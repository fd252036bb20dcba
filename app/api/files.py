"""Evidence files on activities, campaign plans and annual reports: upload, list, download, delete."""

import hashlib
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, File, Path, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlmodel import Session, select

from app.api.common import Idempotency, Page, check_if_match_tag, if_none_match, paginate
from app.api.deps import CurrentPrincipal, PageDep, Principal, unit_by_code
from app.api.errors import Conflict, NotFound
from app.db import SessionDep
from app.models import Activity, AnnualReport, Attachment, Campaign, CampaignPlan, ReportKind, ReportStatus
from app.models.notify import AttachmentPublic
from app.services import audit
from app.services import files as store

router = APIRouter(prefix="", tags=["files"])

UploadField = Annotated[UploadFile, File(description="The file (PDF, JPEG, PNG, DOCX, XLSX, ODT or plain text)")]
Year = Annotated[int, Path(ge=2000, le=2100)]


def _public(a: Attachment) -> AttachmentPublic:
    return AttachmentPublic(**a.model_dump(exclude={"storage_key"}), download_url=f"/api/v1/files/{a.id}")


def _activity(session: Session, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise NotFound(f"No activity {activity_id}.")
    return activity


def _campaign_plan(session: Session, campaign_id: int, unit_code: str) -> CampaignPlan:
    if session.get(Campaign, campaign_id) is None:
        raise NotFound(f"No campaign {campaign_id}.")
    unit = unit_by_code(session, unit_code)
    plan = session.exec(select(CampaignPlan).where(CampaignPlan.campaign_id == campaign_id,
                                                   CampaignPlan.unit_id == unit.id)).first()
    if plan is None:
        raise NotFound(f"Unit {unit_code!r} has no plan for campaign {campaign_id}; record the plan first.")
    return plan


def _report(session: Session, year: int, unit_code: str) -> AnnualReport:
    unit = unit_by_code(session, unit_code)
    report = session.exec(select(AnnualReport).where(AnnualReport.unit_id == unit.id, AnnualReport.year == year,
                                                     AnnualReport.kind == ReportKind.annual)).first()
    if report is None:
        raise NotFound(f"Unit {unit_code!r} has no annual report for {year}; create the report first.")
    return report


def _owner(session: Session, attachment: Attachment) -> Activity | CampaignPlan | AnnualReport | None:
    model = {"activity": Activity, "campaign_plan": CampaignPlan, "report": AnnualReport}[attachment.owner_type]
    return session.get(model, attachment.owner_id)


def _check_not_locked(owner) -> None:
    if isinstance(owner, AnnualReport) and owner.status == ReportStatus.accepted:
        raise Conflict("The report has been accepted and is locked; a coordinator must reopen it first.")


def _upload(request: Request, session: Session, principal: Principal, owner_type: str, owner,
            file: UploadFile) -> Response:
    principal.require_write_unit(owner.unit_id)
    _check_not_locked(owner)
    # Stored before the replay check: the key is fingerprinted by the content, and storing is idempotent.
    stored = store.store(file.file, file.filename)
    idem = Idempotency(request, b"")
    idem.request_hash = hashlib.sha256(f"{stored.sha256}:{stored.filename}".encode()).hexdigest()
    if (replayed := idem.replay(session, principal)):
        return replayed
    attachment = Attachment(owner_type=owner_type, owner_id=owner.id, filename=stored.filename,
                            content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                            storage_key=stored.storage_key, uploaded_by_id=principal.user_id)
    session.add(attachment)
    session.flush()
    audit.record(session, principal, "upload", attachment, after=audit.snapshot(attachment), unit_id=owner.unit_id)
    body = _public(attachment).model_dump(mode="json")
    return idem.created(session, principal, body, location=body["download_url"], etag=_etag(attachment))


def _list(session: Session, owner_type: str, owner_id: int, page) -> Page[AttachmentPublic]:
    rows, total = paginate(session, store.list_for(session, owner_type, owner_id), page)
    return Page(items=[_public(a) for a in rows], total=total, limit=page.limit, offset=page.offset)


def _etag(attachment: Attachment) -> str:
    # Files never change: the content hash is a strong validator.
    return f'"{attachment.sha256}"'


@router.post("/activities/{activity_id}/files", status_code=201, response_model=AttachmentPublic)
def upload_activity_file(activity_id: int, file: UploadField, request: Request, session: SessionDep,
                         principal: CurrentPrincipal):
    """Attach an evidence file to an activity (multipart field `file`)."""
    return _upload(request, session, principal, "activity", _activity(session, activity_id), file)


@router.get("/activities/{activity_id}/files")
def list_activity_files(activity_id: int, session: SessionDep, _: CurrentPrincipal,
                        page: PageDep) -> Page[AttachmentPublic]:
    """The evidence files of an activity."""
    return _list(session, "activity", _activity(session, activity_id).id, page)


@router.post("/campaigns/{campaign_id}/plans/{unit_code}/files", status_code=201, response_model=AttachmentPublic)
def upload_plan_file(campaign_id: int, unit_code: str, file: UploadField, request: Request, session: SessionDep,
                     principal: CurrentPrincipal):
    """Attach a file (the signed plan, usually) to a unit's campaign plan (multipart field `file`)."""
    return _upload(request, session, principal, "campaign_plan", _campaign_plan(session, campaign_id, unit_code),
                   file)


@router.get("/campaigns/{campaign_id}/plans/{unit_code}/files")
def list_plan_files(campaign_id: int, unit_code: str, session: SessionDep, _: CurrentPrincipal,
                    page: PageDep) -> Page[AttachmentPublic]:
    """The files of a unit's campaign plan."""
    return _list(session, "campaign_plan", _campaign_plan(session, campaign_id, unit_code).id, page)


@router.post("/reports/{year}/units/{unit_code}/files", status_code=201, response_model=AttachmentPublic)
def upload_report_file(year: Year, unit_code: str, file: UploadField, request: Request, session: SessionDep,
                       principal: CurrentPrincipal):
    """Attach an evidence file to a unit's annual report (not once it is accepted; multipart field `file`)."""
    return _upload(request, session, principal, "report", _report(session, year, unit_code), file)


@router.get("/reports/{year}/units/{unit_code}/files")
def list_report_files(year: Year, unit_code: str, session: SessionDep, _: CurrentPrincipal,
                      page: PageDep) -> Page[AttachmentPublic]:
    """The evidence files of a unit's annual report."""
    return _list(session, "report", _report(session, year, unit_code).id, page)


def _attachment(session: Session, file_id: int) -> Attachment:
    attachment = session.get(Attachment, file_id)
    if attachment is None:
        raise NotFound(f"No file {file_id}.")
    return attachment


@router.get("/files/{file_id}", response_class=FileResponse,
            responses={200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}}})
def download_file(file_id: int, request: Request, session: SessionDep, _: CurrentPrincipal) -> Response:
    """Download a file (its own content type, `Content-Disposition: attachment` with its name)."""
    attachment = _attachment(session, file_id)
    etag = _etag(attachment)
    if if_none_match(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    path = store.path_of(attachment)
    if not path.is_file():
        raise NotFound(f"The content of file {file_id} is missing from the store.")
    return FileResponse(path, media_type=attachment.content_type, filename=attachment.filename,
                        headers={"ETag": etag, "X-Content-Type-Options": "nosniff",
                                 "Cache-Control": "private, max-age=0, must-revalidate"})


@router.delete("/files/{file_id}", status_code=204)
def delete_file(file_id: int, request: Request, session: SessionDep, principal: CurrentPrincipal,
                background: BackgroundTasks) -> Response:
    """Delete a file (same rights as changing the record it is attached to; If-Match: its ETag)."""
    attachment = _attachment(session, file_id)
    owner = _owner(session, attachment)
    unit_id = owner.unit_id if owner is not None else None
    if owner is not None:
        principal.require_write_unit(unit_id)
        _check_not_locked(owner)
    else:
        principal.require_staff_write()
    check_if_match_tag(request, _etag(attachment), stale="The file is not the one you named.")
    audit.record(session, principal, "delete", attachment, before=audit.snapshot(attachment), unit_id=unit_id)
    session.delete(attachment)
    session.flush()
    # The bytes go after the commit (the session commits before the response, background tasks run after it).
    background.add_task(store.remove_blob, attachment.storage_key)
    return Response(status_code=204)
