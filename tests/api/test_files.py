"""Evidence files on activities, campaign plans and reports: types, limits, rights, storage by SHA-256."""

import hashlib
import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from docx import Document
from openpyxl import Workbook
from sqlmodel import select

from app.config import get_settings
from app.models import (
    Activity,
    AnnualReport,
    Attachment,
    AuditEntry,
    Campaign,
    CampaignPlan,
    ReportKind,
    ReportStatus,
    TokenKind,
)
from tests.factories import login_headers, make_token, make_user, unit

API = "/api/v1"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20) + b"\xff\xd9"


def docx_bytes() -> bytes:
    doc = Document()
    doc.add_paragraph("Biên bản hội nghị tuyên truyền Luật Bình đẳng giới")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "Số người tham dự"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def odt_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content/>")
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return out.getvalue()


def activity(session, code="p-song-cau") -> Activity:
    row = Activity(unit_id=unit(session, code).id, held_on=date(2026, 11, 20), title="Hội nghị tuyên truyền",
                   kind="talk", channel="direct", task_group="1", participants_male=20, participants_female=35)
    session.add(row)
    session.commit()
    return row


def annual_report(session, code="p-song-cau", status=ReportStatus.draft) -> AnnualReport:
    row = AnnualReport(unit_id=unit(session, code).id, year=2026, kind=ReportKind.annual,
                       period_start=date(2026, 1, 1), period_end=date(2026, 12, 31), cutoff_on=date(2026, 11, 30),
                       due_at=datetime(2026, 12, 9, 17, tzinfo=UTC), status=status)
    session.add(row)
    session.commit()
    return row


def upload(client, path, headers, name, content, content_type="application/octet-stream"):
    return client.post(path, files={"file": (name, content, content_type)}, headers=headers)


def blobs() -> list[Path]:
    root = Path(get_settings().upload_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


class TestUploadAndDownload:
    @pytest.mark.parametrize(("name", "make", "content_type"), [
        ("Biên bản hội nghị.pdf", lambda: PDF, "application/pdf"),
        ("ảnh-1.JPG", lambda: JPEG, "image/jpeg"),
        ("ảnh 2.png", lambda: PNG, "image/png"),
        ("Báo cáo.docx", docx_bytes, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("Danh sách.xlsx", xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("Kế hoạch.odt", odt_bytes, "application/vnd.oasis.opendocument.text"),
        ("ghi chú.txt", lambda: "Bình đẳng giới — ghi chú\n".encode(), "text/plain; charset=utf-8"),
    ])
    def test_each_accepted_type_round_trips(self, client, session, name, make, content_type):
        content = make()
        record = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        r = upload(client, f"{API}/activities/{record.id}/files", h, name, content)
        assert r.status_code == 201, r.text
        body = r.json()
        sha = hashlib.sha256(content).hexdigest()
        assert (body["filename"], body["size"], body["sha256"], body["content_type"]) == (
            name, len(content), sha, content_type)
        assert body["owner_type"] == "activity" and body["owner_id"] == record.id
        assert r.headers["location"] == body["download_url"] == f"/api/v1/files/{body['id']}"

        viewer = login_headers(session, "viewer")
        d = client.get(f"{API}/files/{body['id']}", headers=viewer)
        assert d.status_code == 200 and d.content == content
        assert d.headers["content-type"] == content_type
        assert d.headers["content-disposition"].startswith("attachment;")
        assert f"filename*=utf-8''{quote(name)}" in d.headers["content-disposition"]
        assert d.headers["etag"] == f'"{sha}"'
        assert client.get(f"{API}/files/{body['id']}", headers={**viewer, "If-None-Match": f'"{sha}"'}
                          ).status_code == 304
        stored = Path(get_settings().upload_dir) / sha[:2] / sha[2:4] / sha
        assert stored.read_bytes() == content
        row = session.get(Attachment, body["id"])
        assert row.sha256 == sha and row.uploaded_by_id is not None

    def test_lists_and_audit(self, client, session):
        record = activity(session)
        other = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        ids = [upload(client, f"{API}/activities/{record.id}/files", h, f"{n}.pdf", PDF + bytes([n])).json()["id"]
               for n in range(3)]
        upload(client, f"{API}/activities/{other.id}/files", h, "x.pdf", PDF)
        listed = client.get(f"{API}/activities/{record.id}/files", headers=login_headers(session, "viewer")).json()
        assert listed["total"] == 3 and [f["id"] for f in listed["items"]] == ids
        assert "storage_key" not in listed["items"][0]
        entries = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "attachment",
                                                        AuditEntry.action == "upload")).all()
        assert len(entries) == 4 and {e.unit_id for e in entries} == {unit(session, "p-song-cau").id}
        assert client.get(f"{API}/activities/{record.id}/files").status_code == 401
        assert client.get(f"{API}/activities/999999/files", headers=h).status_code == 404

    def test_same_content_is_stored_once_and_idempotency_key_replays(self, client, session):
        record = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        path = f"{API}/activities/{record.id}/files"
        a = upload(client, path, h, "a.pdf", PDF).json()
        b = upload(client, path, h, "b.pdf", PDF).json()
        assert a["id"] != b["id"] and a["sha256"] == b["sha256"]
        assert len(blobs()) == 1
        keyed = {**h, "Idempotency-Key": "up-1"}
        first = upload(client, path, keyed, "c.txt", b"mot")
        again = upload(client, path, keyed, "c.txt", b"mot")
        assert first.status_code == again.status_code == 201 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert upload(client, path, keyed, "c.txt", b"hai").status_code == 422  # the key names another request
        assert client.get(path, headers=h).json()["total"] == 3


class TestLimits:
    def test_size_limit_is_413(self, client, session, monkeypatch):
        monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
        get_settings.cache_clear()
        record = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        path = f"{API}/activities/{record.id}/files"
        assert upload(client, path, h, "ok.txt", b"a" * 1000).status_code == 201
        r = upload(client, path, h, "big.txt", b"a" * 1001)
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["max_bytes"] == 1000
        assert client.get(path, headers=h).json()["total"] == 1
        assert len(blobs()) == 1  # the refused upload left nothing behind

    @pytest.mark.parametrize(("name", "content", "status"), [
        ("virus.exe", b"MZ\x90\x00", 415),
        ("no-extension", PDF, 415),
        ("fake.pdf", PNG, 415),  # the extension lies
        ("fake.png", JPEG, 415),
        ("fake.docx", xlsx_bytes(), 415),  # a spreadsheet is not a document
        ("broken.docx", b"PK\x03\x04 not really a zip", 415),
        ("fake.odt", docx_bytes(), 415),
        ("latin1.txt", "Bình đẳng".encode("utf-16"), 415),
        ("binary.txt", b"abc\x00def", 415),
        ("page.html", b"<html></html>", 415),
        ("empty.pdf", b"", 422),
    ])
    def test_refused_types(self, client, session, name, content, status):
        record = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        r = upload(client, f"{API}/activities/{record.id}/files", h, name, content, "application/pdf")
        assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
        assert session.exec(select(Attachment)).all() == []
        assert blobs() == []

    def test_allowed_types_are_a_setting(self, client, session, monkeypatch):
        monkeypatch.setenv("UPLOAD_EXTENSIONS", '[".pdf"]')
        get_settings.cache_clear()
        record = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        r = upload(client, f"{API}/activities/{record.id}/files", h, "a.png", PNG)
        assert r.status_code == 415 and r.json()["accepted"] == [".pdf"]

    def test_path_in_the_name_is_dropped(self, client, session):
        record = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        r = upload(client, f"{API}/activities/{record.id}/files", h, "..\\..\\etc/passwd.txt", b"x")
        assert r.status_code == 201 and r.json()["filename"] == "passwd.txt"


class TestRights:
    def test_only_writers_of_the_unit_upload_and_delete(self, client, session):
        record = activity(session, "p-song-cau")
        path = f"{API}/activities/{record.id}/files"
        for role, code in (("officer", "x-duong-quang"), ("viewer", None)):
            assert upload(client, path, login_headers(session, role, code), "a.pdf", PDF).status_code == 403
        user = make_user(session, role="coordinator")
        bound = {"Authorization": f"Bearer {make_token(session, user, unit_code='x-duong-quang')}"}
        read_only = {"Authorization": f"Bearer {make_token(session, user, scopes='read')}"}
        assert upload(client, path, bound, "a.pdf", PDF).status_code == 403
        assert upload(client, path, read_only, "a.pdf", PDF).status_code == 403
        assert upload(client, path, {}, "a.pdf", PDF).status_code == 401
        assert blobs() == []

        coordinator = {"Authorization": f"Bearer {make_token(session, user, kind=TokenKind.login)}"}
        file_id = upload(client, path, coordinator, "a.pdf", PDF).json()["id"]
        assert client.delete(f"{API}/files/{file_id}",
                             headers=login_headers(session, "officer", "x-duong-quang")).status_code == 403
        assert client.delete(f"{API}/files/{file_id}", headers=login_headers(session, "viewer")).status_code == 403
        owner = login_headers(session, "officer", "p-song-cau")
        assert client.delete(f"{API}/files/{file_id}", headers={**owner, "If-Match": '"other"'}).status_code == 412
        assert client.delete(f"{API}/files/{file_id}", headers=owner).status_code == 204
        assert client.get(f"{API}/files/{file_id}", headers=owner).status_code == 404
        assert client.delete(f"{API}/files/{file_id}", headers=owner).status_code == 404

    def test_delete_keeps_bytes_another_file_shares(self, client, session):
        record = activity(session)
        h = login_headers(session, "officer", "p-song-cau")
        path = f"{API}/activities/{record.id}/files"
        a = upload(client, path, h, "a.pdf", PDF).json()
        b = upload(client, path, h, "b.pdf", PDF).json()
        assert client.delete(f"{API}/files/{a['id']}", headers={**h, "If-Match": f'"{a["sha256"]}"'}
                             ).status_code == 204
        assert client.get(f"{API}/files/{b['id']}", headers=h).content == PDF
        assert client.delete(f"{API}/files/{b['id']}", headers=h).status_code == 204
        assert blobs() == []
        entries = session.exec(select(AuditEntry.action).where(AuditEntry.resource_type == "attachment")
                               .order_by(AuditEntry.id)).all()
        assert entries == ["upload", "upload", "delete", "delete"]


class TestCampaignPlanFiles:
    def test_upload_to_a_plan(self, client, session):
        campaign = session.exec(select(Campaign).where(Campaign.code == "action-month-2026")).one()
        plan = CampaignPlan(campaign_id=campaign.id, unit_id=unit(session, "x-duong-quang").id,
                            document_number="12/KH-UBND", document_date=date(2026, 11, 3))
        session.add(plan)
        session.commit()
        h = login_headers(session, "officer", "x-duong-quang")
        path = f"{API}/campaigns/{campaign.id}/plans/x-duong-quang/files"
        r = upload(client, path, h, "Kế hoạch 12.pdf", PDF)
        assert r.status_code == 201 and r.json()["owner_type"] == "campaign_plan" and r.json()["owner_id"] == plan.id
        assert client.get(path, headers=login_headers(session, "viewer")).json()["total"] == 1
        assert upload(client, path, login_headers(session, "officer", "p-song-cau"), "a.pdf", PDF).status_code == 403
        no_plan = f"{API}/campaigns/{campaign.id}/plans/p-song-cau/files"
        assert upload(client, no_plan, login_headers(session, "officer", "p-song-cau"), "a.pdf", PDF
                      ).status_code == 404
        assert client.get(f"{API}/campaigns/{campaign.id}/plans/no-such-unit/files", headers=h).status_code == 404


class TestReportFiles:
    def test_upload_to_a_report_until_it_is_accepted(self, client, session):
        report = annual_report(session, "p-song-cau")
        h = login_headers(session, "officer", "p-song-cau")
        path = f"{API}/reports/2026/units/p-song-cau/files"
        r = upload(client, path, h, "Phụ lục.xlsx", xlsx_bytes())
        assert r.status_code == 201 and r.json()["owner_type"] == "report" and r.json()["owner_id"] == report.id
        assert upload(client, path, login_headers(session, "officer", "x-duong-quang"), "a.pdf", PDF
                      ).status_code == 403
        assert upload(client, f"{API}/reports/2025/units/p-song-cau/files", h, "a.pdf", PDF).status_code == 404

        report.status = ReportStatus.accepted
        session.add(report)
        session.commit()
        locked = upload(client, path, h, "late.pdf", PDF)
        assert locked.status_code == 409 and locked.headers["content-type"] == "application/problem+json"
        coordinator = login_headers(session, "coordinator")
        assert upload(client, path, coordinator, "late.pdf", PDF).status_code == 409
        assert client.delete(f"{API}/files/{r.json()['id']}", headers=coordinator).status_code == 409
        listed = client.get(path, headers=h).json()
        assert listed["total"] == 1 and listed["items"][0]["filename"] == "Phụ lục.xlsx"


class TestOwnerDeleted:
    def test_deleting_an_activity_deletes_its_files_and_their_bytes(self, client, session):
        headers = login_headers(session, "officer", "p-song-cau")
        act = activity(session)
        r = upload(client, f"{API}/activities/{act.id}/files", headers, "bien-ban.pdf", PDF, "application/pdf")
        assert r.status_code == 201, r.text
        stored = Path(get_settings().upload_dir) / session.exec(select(Attachment)).one().storage_key
        assert stored.exists()
        assert client.delete(f"{API}/activities/{act.id}", headers=headers).status_code == 204
        session.rollback()  # end the test's read transaction: see the committed deletion
        assert session.exec(select(Attachment)).all() == []
        assert not stored.exists()
        actions = {(e.resource_type, e.action) for e in session.exec(select(AuditEntry))}
        assert {("attachment", "delete"), ("activity", "delete")} <= actions
