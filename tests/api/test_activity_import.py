"""Bulk import of activities: every row checked, all rows written or none, per-row errors, CSV and XLSX."""

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlmodel import select

from app.config import get_settings
from app.models import Activity, ActivityProduct, ActivityTargetGroup, AuditEntry, Campaign
from tests.factories import login_headers, make_token, make_user, unit

URL = "/api/v1/activities/import"
HEADER = ["unit", "held_on", "ends_on", "title", "kind", "channel", "task_group", "campaign", "participants_male",
          "participants_female", "target_groups", "products", "broadcasts", "cost_vnd", "funding_source", "location",
          "description"]
UNITS = ["p-song-cau", "x-duong-quang", "hoi-lhpn", "loa-p-song-cau"]


def rows(n: int) -> list[dict]:
    """`n` valid rows: four units, dates through 2025 in both accepted formats, some in the 2025 Action Month."""
    out = []
    for i in range(n):
        day = date(2025, 1, 1) + timedelta(days=i % 330)
        in_month = date(2025, 11, 15) <= day <= date(2025, 12, 15)
        out.append({
            "unit": UNITS[i % 4],
            "held_on": day.strftime("%d/%m/%Y") if i % 2 else day.isoformat(),
            "ends_on": "",
            "title": f"Truyền thông về bình đẳng giới số {i + 1}",
            "kind": "direct" if i % 3 else "training",
            "channel": "direct",
            "task_group": str(i % 7 + 1),
            "campaign": "action-month-2025" if in_month else "",
            "participants_male": str(i % 50),
            "participants_female": str(i * 7 % 60),
            "target_groups": "public;elderly" if i % 5 == 0 else "youth",
            "products": "leaflet:200;poster:5" if i % 4 == 0 else "",
            "broadcasts": "0",
            "cost_vnd": "1.500.000" if i % 10 == 0 else "0",
            "funding_source": "state_budget" if i % 10 == 0 else "",
            "location": "Nhà văn hóa tổ 3",
            "description": "",
        })
    return out


def to_csv(data: list[dict], header=HEADER, *, bom: bool = False, delimiter: str = ",") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(data)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def post(client, headers, content: bytes, name: str = "hoat-dong.csv", **params):
    return client.post(URL, params=params, files={"file": (name, content, "text/csv")}, headers=headers)


def counts(session) -> tuple[int, int, int, int]:
    session.expire_all()
    found = tuple(session.exec(select(func.count()).select_from(model)).one()
                  for model in (Activity, ActivityTargetGroup, ActivityProduct, AuditEntry))
    session.commit()
    return found  # type: ignore[return-value]


@pytest.fixture
def staff(session):
    return login_headers(session, "coordinator")


class TestImport:
    def test_a_good_file_of_1000_rows_creates_1000_activities(self, client, session, staff):
        data = rows(1000)
        before = counts(session)
        r = post(client, staff, to_csv(data, bom=True))
        assert r.status_code == 201, r.text[:2000]
        assert r.json() == {"dry_run": False, "rows": 1000, "valid_rows": 1000, "created": 1000, "error_count": 0,
                            "errors": []}
        groups = sum(len(d["target_groups"].split(";")) for d in data)
        products = sum(2 for d in data if d["products"])
        assert counts(session) == (before[0] + 1000, before[1] + groups, before[2] + products, before[3] + 1000)
        male = session.exec(select(func.sum(Activity.participants_male))).one()
        assert male == sum(int(d["participants_male"]) for d in data)
        cost = session.exec(select(func.sum(Activity.cost_vnd))).one()
        assert cost == 1_500_000 * sum(1 for d in data if d["cost_vnd"] != "0")
        in_month = session.exec(select(func.count()).select_from(Activity).join(Campaign)
                                .where(Campaign.code == "action-month-2025")).one()
        assert in_month == sum(1 for d in data if d["campaign"])
        # One "import" audit entry per activity, with the nested lists in `after`.
        first = session.exec(select(Activity).where(Activity.title == data[0]["title"])).one()
        entry = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "activity",
                                                      AuditEntry.resource_id == str(first.id))).one()
        assert entry.action == "import" and entry.before is None and entry.user_id is not None
        assert entry.after["held_on"] == "2025-01-01" and entry.after["unit_id"] == unit(session, "p-song-cau").id
        assert [g["code"] for g in entry.after["target_groups"]] == ["public", "elderly"]
        assert entry.after["products"] == [{"code": "leaflet", "quantity": 200}, {"code": "poster", "quantity": 5}]
        # The imported records read back through the API like any other, and are audited in the same form.
        got = client.get(f"/api/v1/activities/{first.id}", headers=staff).json()
        assert got["participants_total"] == 0 and got["unit_code"] == "p-song-cau"
        single = client.post("/api/v1/activities", headers=staff, json={
            "unit": "p-song-cau", "held_on": "2025-01-01", "title": data[0]["title"], "kind": "training",
            "channel": "direct", "task_group": "1", "target_groups": [{"code": "public"}, {"code": "elderly"}],
            "products": [{"code": "leaflet", "quantity": 200}, {"code": "poster", "quantity": 5}],
            "location": "Nhà văn hóa tổ 3", "cost_vnd": 1_500_000, "funding_source": "state_budget"}).json()
        session.commit()  # a fresh read after the API's write
        created = session.exec(select(AuditEntry).where(AuditEntry.resource_id == str(single["id"]))).one().after
        varying = {"id", "created_at", "updated_at", "created_by_id"}
        assert {k: v for k, v in created.items() if k not in varying} == {
            k: v for k, v in entry.after.items() if k not in varying}
        assert entry.after["created_at"] == got["created_at"].replace("+00:00", "Z")

    def test_one_bad_row_among_1000_writes_nothing_and_names_the_row_and_field(self, client, session, staff):
        data = rows(1000)
        data[636]["participants_female"] = "-4"
        before = counts(session)
        r = post(client, staff, to_csv(data))
        assert r.status_code == 422
        problem = r.json()
        # Row 1 is the header: data row 637 is file row 638.
        assert problem["errors"] == [{"row": 638, "field": "participants_female",
                                      "message": problem["errors"][0]["message"]}]
        assert problem["rows"] == 1000 and problem["valid_rows"] == 999 and problem["error_count"] == 1
        assert counts(session) == before

    @pytest.mark.parametrize(("change", "field"), [
        ({"participants_male": "abc"}, "participants_male"),
        ({"held_on": "31/02/2025"}, "held_on"),
        ({"held_on": "2025/11/20"}, "held_on"),
        ({"held_on": ""}, "held_on"),
        ({"title": ""}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"unit": "khong-co"}, "unit"),
        ({"kind": "party"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"task_group": "9"}, "task_group"),
        ({"target_groups": "public;martians"}, "target_groups"),
        ({"target_groups": "public;public"}, "target_groups"),
        ({"products": "leaflet"}, "products"),
        ({"products": "t-shirt:3"}, "products"),
        ({"products": "leaflet:-3"}, "products"),
        ({"campaign": "action-month-1999"}, "campaign"),
        ({"campaign": "womens-day-2025"}, "held_on"),  # 8/3 only; the row is dated otherwise
        ({"cost_vnd": "500000", "funding_source": ""}, "funding_source"),
        ({"funding_source": "lottery", "cost_vnd": "1"}, "funding_source"),
        ({"ends_on": "01/01/2024"}, "ends_on"),
        ({"held_on": "2099-01-01"}, "held_on"),
    ])
    def test_each_rule_is_checked_per_row(self, client, session, staff, change, field):
        data = rows(3)
        data[1].update(change)
        before = counts(session)
        r = post(client, staff, to_csv(data))
        assert r.status_code == 422, r.text
        assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(3, field)}
        assert counts(session) == before

    def test_an_officer_imports_only_its_own_units_rows(self, client, session):
        officer = login_headers(session, "officer", "p-song-cau")
        own = {"p-song-cau", "loa-p-song-cau"}  # the ward and the loudspeaker system it runs
        data = [r for r in rows(8) if r["unit"] in own]
        assert post(client, officer, to_csv(data)).status_code == 201
        data = rows(8)
        r = post(client, officer, to_csv(data))
        assert r.status_code == 422
        expected = {(i + 2, "unit") for i, d in enumerate(data) if d["unit"] not in own}
        assert {(e["row"], e["field"]) for e in r.json()["errors"]} == expected

    def test_viewers_and_read_only_tokens_may_not_import(self, client, session):
        reader = {"Authorization": "Bearer " + make_token(session, make_user(session, "admin"), scopes="read")}
        for headers in (login_headers(session, "viewer"), reader):
            assert post(client, headers, to_csv(rows(2))).status_code == 403
        assert post(client, {}, to_csv(rows(2))).status_code == 401

    def test_dry_run_writes_nothing(self, client, session, staff):
        before = counts(session)
        r = post(client, staff, to_csv(rows(20)), dry_run="true")
        assert r.status_code == 200
        assert r.json() == {"dry_run": True, "rows": 20, "valid_rows": 20, "created": 0, "error_count": 0,
                            "errors": []}
        data = rows(20)
        data[4]["kind"] = "party"
        r = post(client, staff, to_csv(data), dry_run="true")
        assert r.status_code == 200
        body = r.json()
        assert (body["valid_rows"], body["created"]) == (19, 0)
        assert [(e["row"], e["field"]) for e in body["errors"]] == [(6, "kind")]
        assert counts(session) == before

    def test_xlsx(self, client, session, staff):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["Unit", "held_on", "title", "kind", "channel", "task_group", "participants_male",
                      "participants_female", "products", "cost_vnd", "funding_source"])
        sheet.append(["p-song-cau", date(2025, 11, 20), "Hội nghị tuyên truyền", "conference", "direct", 1, 12, 30,
                      "leaflet:100", 2_000_000, "state_budget"])
        sheet.append([])  # a blank line is skipped, but counts in the row numbers
        sheet.append(["x-duong-quang", "21/11/2025", "Sinh hoạt câu lạc bộ", "club", "direct", 4, 3.0, 9, None, 0])
        out = io.BytesIO()
        workbook.save(out)
        before = counts(session)
        r = post(client, staff, out.getvalue(), name="hoat-dong.xlsx")
        assert r.status_code == 201, r.text
        assert r.json()["created"] == 2
        assert counts(session)[0] == before[0] + 2
        club = session.exec(select(Activity).where(Activity.title == "Sinh hoạt câu lạc bộ")).one()
        assert (club.held_on, club.participants_male, club.participants_female) == (date(2025, 11, 21), 3, 9)
        session.commit()
        # Errors give the sheet's own row numbers.
        sheet.cell(row=4, column=7, value=2.5)
        out = io.BytesIO()
        workbook.save(out)
        r = post(client, staff, out.getvalue(), name="hoat-dong.xlsx")
        assert r.status_code == 422
        assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(4, "participants_male")]

    def test_semicolon_separated_csv_and_bom(self, client, session, staff):
        r = post(client, staff, to_csv(rows(4), delimiter=";", bom=True))
        assert r.status_code == 201 and r.json()["created"] == 4

    def test_bad_headers_and_files(self, client, session, staff):
        without_kind = [{k: v for k, v in d.items() if k != "kind"} for d in rows(2)]
        r = post(client, staff, to_csv(without_kind, header=[h for h in HEADER if h != "kind"]))
        assert r.status_code == 422 and [(e["row"], e["field"]) for e in r.json()["errors"]] == [(1, "kind")]
        r = post(client, staff, b"unit,held_on,title,kind,channel,task_group,colour\r\n")
        assert r.status_code == 422 and [(e["row"], e["field"]) for e in r.json()["errors"]] == [(1, "colour")]
        r = post(client, staff, b"unit,held_on,title,kind,channel,task_group\r\n")
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "row"
        assert post(client, staff, b"").status_code == 422
        assert post(client, staff, "đơn vị".encode("utf-16")).status_code == 415
        assert post(client, staff, b"PK\x03\x04broken", name="x.xlsx").status_code == 415
        assert client.post(URL, headers=staff).status_code == 422  # no file

    def test_a_file_over_the_size_limit_is_413(self, client, session, staff, monkeypatch):
        content = to_csv(rows(50))
        monkeypatch.setenv("MAX_UPLOAD_BYTES", str(len(content) - 1))
        get_settings.cache_clear()
        before = counts(session)
        r = post(client, staff, content)
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        assert counts(session) == before

    def test_a_retried_import_with_one_key_imports_once(self, client, session, staff):
        content = to_csv(rows(10))
        headers = {**staff, "Idempotency-Key": "import-2025-11"}
        before = counts(session)
        r1 = post(client, headers, content)
        r2 = post(client, headers, content)
        assert (r1.status_code, r2.status_code) == (201, 201) and r1.json() == r2.json()
        assert r2.headers.get("idempotent-replayed") == "true"
        assert counts(session)[0] == before[0] + 10
        assert post(client, headers, to_csv(rows(11))).status_code == 422


class TestTemplates:
    def test_csv_template_imports_as_it_is(self, client, session, staff):
        r = client.get(f"{URL}/template.csv", headers=staff)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith("\ufeff".encode())
        lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert len(lines) == 2 and {"unit", "held_on", "title", "products", "target_groups"} <= set(lines[0])
        # The example is a valid row.
        check = post(client, staff, r.content, dry_run="true").json()
        assert (check["rows"], check["valid_rows"], check["errors"]) == (1, 1, [])

    def test_xlsx_template(self, client, session, staff):
        r = client.get(f"{URL}/template.xlsx", headers=staff)
        assert r.status_code == 200
        workbook = load_workbook(io.BytesIO(r.content))
        sheet = workbook.worksheets[0]
        assert sheet.cell(row=1, column=1).value == "unit" and sheet.max_row == 2
        codes = {(row[0], row[1]) for row in workbook.worksheets[1].iter_rows(min_row=2, values_only=True)}
        assert ("channel", "loudspeaker") in codes and ("funding_source", "state_budget") in codes
        check = post(client, staff, r.content, name="t.xlsx", dry_run="true").json()
        assert (check["rows"], check["valid_rows"], check["errors"]) == (1, 1, [])

    def test_templates_need_a_login(self, client):
        assert client.get(f"{URL}/template.csv").status_code == 401
