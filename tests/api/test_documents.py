"""Official documents (DOCX, Decree 30/2020/NĐ-CP) and XLSX annexes, on a small world built in the test.

The documents are opened with python-docx / openpyxl; the figures they carry are compared with the indicator-values
API and with figures worked out here from the world's definition.
"""

import io
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from sqlmodel import select

from app.config import get_settings
from app.models import (
    Activity,
    ActivityTargetGroup,
    AnnualReport,
    Campaign,
    CampaignPlan,
    ReportMediaStatus,
    Role,
    TokenKind,
    Unit,
    User,
)
from app.services import reports as report_service
from tests.factories import make_token

API = "/api/v1"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = 2024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "Times New Roman"
TASK_GROUP_1 = ("Tăng cường cung cấp thông tin, tuyên truyền, phổ biến pháp luật, chính sách và kết quả thực hiện "
                "công tác bình đẳng giới")


# --- the world ---------------------------------------------------------------------------------------------------

@dataclass
class A:
    unit: str
    held_on: date
    kind: str
    task_group: str
    male: int = 0
    female: int = 0
    broadcasts: int = 0
    cost: int = 0
    funding: str | None = None
    channel: str = "direct"
    groups: list[tuple[str, int, int]] = field(default_factory=list)


ACTIVITIES = [
    A("hoi-lhpn", date(2024, 3, 8), "talk", "1", 10, 30, cost=2_000_000, funding="state_budget",
      groups=[("public", 10, 30)]),
    A("p-song-cau", date(2024, 5, 10), "training", "4", 12, 18, cost=5_000_000, funding="international",
      groups=[("officials", 5, 8), ("youth", 7, 10)]),
    A("p-song-cau", date(2024, 11, 20), "conference", "1", 25, 35, cost=1_500_000, funding="state_budget"),
    # Held after the report's cut-off (09/12): not in its frozen summary, but in the city's statistics.
    A("p-song-cau", date(2024, 12, 12), "talk", "1", 4, 6),
    A("loa-p-song-cau", date(2024, 11, 25), "broadcast", "5", broadcasts=10, channel="loudspeaker"),
    A("p-duc-xuan", date(2024, 11, 20), "cultural_event", "4", 30, 40, cost=3_000_000, funding="social_mobilisation"),
    A("phong-ldtbxh", date(2024, 2, 1), "conference", "1", 20, 20, cost=4_000_000, funding="state_budget"),
    A("hoi-lhpn", date(2023, 3, 8), "talk", "1", 3, 9),
]
PLANS = ["p-duc-xuan", "hoi-lhpn", "p-song-cau"]  # Action Month 2024 plans


@dataclass
class R:
    unit: str
    status: str
    submitted: datetime | None
    adopted: int | None = None
    clean: int | None = None
    media: dict[str, str] = field(default_factory=dict)


REPORTS = [
    R("p-song-cau", "submitted", datetime(2024, 12, 5, 10, 0, tzinfo=HCM), 6, 5, {"loa-p-song-cau": "pilot"}),
    R("p-duc-xuan", "accepted", datetime(2024, 12, 11, 9, 0, tzinfo=HCM), 4, 4, {"loa-p-duc-xuan": "official"}),
    R("tt-vhttt", "submitted", datetime(2024, 12, 9, 23, 59, tzinfo=HCM), media={"dai-tt-th": "official"}),
    R("x-duong-quang", "draft", None, 10, 0),
]
NARRATIVE = {
    "leadership": "UBND phường ban hành Kế hoạch số 15/KH-UBND triển khai Chương trình.",
    "results_by_task_group": {"1": "Phối hợp tổ chức hội nghị tuyên truyền Luật Bình đẳng giới."},
    "results_vs_targets": "Các chỉ tiêu của phường cơ bản đạt kế hoạch.",
    "funding": "Kinh phí được bố trí từ ngân sách phường.",
    "assessment": "Công tác truyền thông được triển khai đồng bộ.",
    "next_year_tasks": "Tiếp tục tổ chức Tháng hành động năm 2025.",
    "proposals": "Đề nghị bổ sung tài liệu truyền thông bằng tiếng dân tộc.",
}


def _ids(session) -> dict[str, int]:
    return {code: uid for uid, code in session.exec(select(Unit.id, Unit.code))}


def build_world(session) -> None:
    """Activities, Action Month plans and reports of 2024 on the seeded city."""
    ids = _ids(session)
    for n, a in enumerate(ACTIVITIES):
        row = Activity(unit_id=ids[a.unit], held_on=a.held_on, title=f"Hoạt động {n}", kind=a.kind,
                       channel=a.channel, task_group=a.task_group, participants_male=a.male,
                       participants_female=a.female, broadcasts=a.broadcasts, cost_vnd=a.cost,
                       funding_source=a.funding)
        session.add(row)
        session.flush()
        for code, m, f in a.groups:
            session.add(ActivityTargetGroup(activity_id=row.id, code=code, participants_male=m, participants_female=f))
    campaign = session.exec(select(Campaign).where(Campaign.code == f"action-month-{YEAR}")).one()
    for code in PLANS:
        session.add(CampaignPlan(campaign_id=campaign.id, unit_id=ids[code], document_number="20/KH-UBND",
                                 document_date=date(2024, 11, 1)))
    session.flush()
    due = datetime(2024, 12, 10, tzinfo=HCM).astimezone(UTC)
    for r in REPORTS:
        report = AnnualReport(unit_id=ids[r.unit], year=YEAR, kind="annual", status=r.status,
                              period_start=date(YEAR, 1, 1), period_end=date(YEAR, 12, 31),
                              cutoff_on=date(YEAR, 12, 9), due_at=due, conventions_adopted=r.adopted,
                              conventions_without_discrimination=r.clean, **NARRATIVE)
        if r.submitted:
            at = r.submitted.astimezone(UTC)
            report.first_submitted_at = report.submitted_at = at
            report.on_time = at < due
            unit = session.get(Unit, ids[r.unit])
            report.activity_summary = report_service.activity_summary(session, unit, report.period_start,
                                                                      report.cutoff_on)
        session.add(report)
        session.flush()
        for outlet, status in r.media.items():
            session.add(ReportMediaStatus(report_id=report.id, outlet_id=ids[outlet], status=status))
    session.commit()


@pytest.fixture
def world(session):
    build_world(session)
    return session


def headers_of(session, role: str, unit_code: str | None = None) -> dict[str, str]:
    """Login headers of a fresh user (no password: these tests log in by token)."""
    unit_id = _ids(session)[unit_code] if unit_code else None
    user = User(username=f"doc-{role}-{unit_code or 'all'}", full_name="Cán bộ", role=Role(role),
                password_hash="!", unit_id=unit_id)
    session.add(user)
    session.commit()
    return {"Authorization": f"Bearer {make_token(session, user, kind=TokenKind.login)}"}


@pytest.fixture
def viewer(session) -> dict[str, str]:
    return headers_of(session, "viewer")


# --- reading the documents -------------------------------------------------------------------------------------------

def vn(value) -> str:
    """The Vietnamese number format, written out independently: 1.234 and 95,5."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        whole, _, frac = f"{value:.1f}".partition(".")
        return f"{int(whole):,}".replace(",", ".") + ("" if frac == "0" else f",{frac}")
    return f"{int(value):,}".replace(",", ".")


def cells(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def find_table(doc, first_headers: list[str]):
    for table in doc.tables:
        if [c.text for c in table.rows[0].cells][:len(first_headers)] == first_headers:
            return table
    raise AssertionError(f"no table with headers {first_headers}")


def texts(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def open_docx(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == DOCX_TYPE
    return Document(io.BytesIO(response.content))


def header_block(doc) -> tuple[list[str], list[str]]:
    left, right = doc.tables[0].rows[0].cells
    return ([p.text for p in left.paragraphs if p.text], [p.text for p in right.paragraphs if p.text])


def assert_decree_30_layout(doc) -> None:
    """A4 portrait, margins 20/20/30/15 mm, Times New Roman everywhere, page numbers from page 2."""
    section = doc.sections[0]
    for length, mm in ((section.page_width, 210), (section.page_height, 297), (section.top_margin, 20),
                       (section.bottom_margin, 20), (section.left_margin, 30), (section.right_margin, 15)):
        assert abs(length.mm - mm) < 0.1, (length.mm, mm)
    assert doc.styles["Normal"].font.name == FONT
    runs = [r for p in doc.paragraphs for r in p.runs]
    runs += [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert runs and all(r.font.name == FONT for r in runs if r.text.strip())
    assert all(r._element.rPr.rFonts.get(qn("w:hAnsi")) == FONT for r in runs if r.text.strip())
    # Different first page: the page number field is in the default header only; page 1's header is empty.
    assert section.different_first_page_header_footer
    assert "PAGE" in "".join(t.text for t in section.header._element.iter(qn("w:instrText")))
    assert not list(section.first_page_header._element.iter(qn("w:instrText")))
    assert all(not p.text.strip() for p in section.first_page_header.paragraphs)


def signature_block(doc) -> tuple[list[str], list[str]]:
    """The "Nơi nhận" list and the signature's capacity lines (the borderless table after the body)."""
    table = next(t for t in doc.tables if t.rows[0].cells[0].text.startswith("Nơi nhận:"))
    left, right = table.rows[0].cells
    return [p.text for p in left.paragraphs if p.text], [p.text for p in right.paragraphs if p.text]


def filename_of(response) -> tuple[str, str]:
    """The ASCII `filename` and the decoded UTF-8 `filename*` of Content-Disposition."""
    value = response.headers["content-disposition"]
    assert value.startswith("attachment;")
    plain = re.search(r'filename="([^"]+)"', value).group(1)
    utf8 = unquote(re.search(r"filename\*=UTF-8''(\S+)", value).group(1))
    assert plain.isascii()
    return plain, utf8


def engine_values(client, headers, years: str) -> list[dict]:
    r = client.get(f"{API}/indicator-values", params={"year": years}, headers=headers)
    assert r.status_code == 200
    return r.json()["items"]


def result_cell(row: dict) -> str:
    """What the targets' table must show for an engine row: value% (numerator/denominator)."""
    if row["value"] is None:
        return "Chưa có số liệu"
    sign = "+" if row["indicator"] == "IND-03" and row["value"] > 0 else ""
    text = f"{sign}{vn(row['value'])}%"
    if row["numerator"] is not None and row["denominator"] is not None:
        text += f" ({vn(row['numerator'])}/{vn(row['denominator'])})"
    return text


def verdict_of(row: dict) -> str:
    if row["status"] in ("achieved", "on_track"):
        return "Đạt"
    if row["status"] in ("at_risk", "off_track"):
        return "Đang theo dõi" if row["target_year"] not in (None, row["year"]) else "Không đạt"
    return "Đang theo dõi"


# --- a unit's annual report ----------------------------------------------------------------------------------------

class TestUnitReport:
    URL = f"{API}/reports/{YEAR}/units/p-song-cau/report.docx"

    def test_header_block_date_and_layout(self, client, world, viewer):
        r = client.get(self.URL, headers=viewer)
        doc = open_docx(r)
        left, right = header_block(doc)
        assert left == ["UBND THÀNH PHỐ BẮC KẠN", "UBND PHƯỜNG SÔNG CẦU", "Số: ……/BC-UBND"]
        assert right[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
        # Signed on the (local) day of submission, with leading zeros.
        assert right[2] == "TP. Bắc Kạn, ngày 05 tháng 12 năm 2024"
        issuer = doc.tables[0].rows[0].cells[0].paragraphs
        assert issuer[1].runs[0].bold and not issuer[0].runs[0].bold
        motto = doc.tables[0].rows[0].cells[1].paragraphs
        assert motto[0].runs[0].bold and motto[0].runs[0].font.size.pt == 12
        assert [r.italic for p in motto if p.text.startswith("TP.") for r in p.runs] == [True]
        assert_decree_30_layout(doc)

        body = texts(doc)
        assert "BÁO CÁO" in body
        assert f"Kết quả thực hiện Chương trình Truyền thông về bình đẳng giới năm {YEAR}" in body
        assert ("Kính gửi: Ủy ban nhân dân thành phố Bắc Kạn (qua Phòng Lao động - Thương binh và Xã hội)"
                in body)
        parts = [t for t in body if re.match(r"^(I|II|III|IV|V|VI|VII)\. ", t)]
        assert parts == ["I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", "II. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ",
                         "III. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "IV. KINH PHÍ THỰC HIỆN", "V. ĐÁNH GIÁ CHUNG",
                         f"VI. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM {YEAR + 1}", "VII. ĐỀ XUẤT, KIẾN NGHỊ"]
        for text in NARRATIVE.values():
            if isinstance(text, str):
                assert text in body
        assert f"1. {TASK_GROUP_1}" in body
        assert NARRATIVE["results_by_task_group"]["1"] in body
        assert len([t for t in body if re.match(r"^[1-7]\. ", t)]) >= 7
        assert ("Số hương ước, quy ước của cộng đồng được thông qua: 6; trong đó không có nội dung phân biệt đối xử "
                "về giới: 5 (đạt 83,3%).") in body

    def test_figures_come_from_the_frozen_summary(self, client, world, viewer):
        doc = open_docx(client.get(self.URL, headers=viewer))
        # The ward's activities and its loudspeakers', held up to the cut-off of 09/12.
        mine = [a for a in ACTIVITIES if a.unit in ("p-song-cau", "loa-p-song-cau")
                and date(YEAR, 1, 1) <= a.held_on <= date(YEAR, 12, 9)]
        male, female = sum(a.male for a in mine), sum(a.female for a in mine)
        by_group = find_table(doc, ["STT", "Nhóm nhiệm vụ", "Số hoạt động", "Nam", "Nữ", "Tổng số"])
        rows = cells(by_group)
        assert rows[-1] == ["", "Tổng cộng", vn(len(mine)), vn(male), vn(female), vn(male + female)]
        for code in "1234567":
            group = [a for a in mine if a.task_group == code]
            row = next(r for r in rows if r[0] == code)
            assert row[2:] == [vn(len(group)), vn(sum(a.male for a in group)), vn(sum(a.female for a in group)),
                               vn(sum(a.male + a.female for a in group))]
        by_kind = cells(find_table(doc, ["STT", "Hình thức hoạt động", "Số hoạt động"]))
        assert {r[1]: r[2] for r in by_kind[1:]} == {"Tập huấn, bồi dưỡng": "1", "Hội nghị": "1",
                                                 "Phát thanh, tin bài": "1", "Tổng cộng": "3"}
        media = cells(find_table(doc, ["STT", "Cơ quan truyền thông", "Tình hình áp dụng"]))
        assert media[1:] == [["1", "Hệ thống loa truyền thanh phường Sông Cầu", "Áp dụng thí điểm"]]
        funding = {r[1]: r[2] for r in cells(find_table(doc, ["STT", "Nguồn kinh phí", "Số tiền (đồng)"]))}
        assert funding["Ngân sách nhà nước theo phân cấp"] == "1.500.000"
        assert funding["Nguồn tài trợ, viện trợ quốc tế"] == "5.000.000"
        assert funding["Tổng cộng"] == "6.500.000"
        recipients, signature = signature_block(doc)
        assert recipients == ["Nơi nhận:", "- Như trên;", "- Lưu: VT."]
        assert signature == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
        assert not any(t.startswith("Báo cáo chưa gửi") for t in texts(doc))

    def test_draft_is_printed_with_live_figures_and_today(self, client, world, viewer):
        doc = open_docx(client.get(f"{API}/reports/{YEAR}/units/x-duong-quang/report.docx", headers=viewer))
        left, right = header_block(doc)
        assert left[1] == "UBND XÃ DƯƠNG QUANG"
        today = datetime.now(HCM).date()
        assert right[2] == f"TP. Bắc Kạn, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}"
        assert any(t.startswith("Báo cáo chưa gửi") for t in texts(doc))

    def test_an_office_signs_as_its_head(self, client, world, viewer):
        doc = open_docx(client.get(f"{API}/reports/{YEAR}/units/tt-vhttt/report.docx", headers=viewer))
        left, _ = header_block(doc)
        assert left == ["UBND THÀNH PHỐ BẮC KẠN", "TRUNG TÂM VĂN HÓA, THỂ THAO VÀ TRUYỀN THÔNG", "Số: ……/BC-TTVHTTTT"]
        assert signature_block(doc)[1] == ["GIÁM ĐỐC"]

    def test_a_units_midterm_review(self, client, world, viewer):
        ward = world.exec(select(Unit).where(Unit.code == "p-duc-xuan")).one()
        world.add(AnnualReport(unit_id=ward.id, year=2025, kind="midterm", period_start=date(2022, 1, 1),
                               period_end=date(2025, 12, 31), cutoff_on=date(2025, 12, 9),
                               due_at=datetime(2025, 12, 9, 17, tzinfo=UTC), assessment="Đạt yêu cầu."))
        world.commit()
        url = f"{API}/reports/2025/units/p-duc-xuan/report.docx"
        assert client.get(url, headers=viewer).status_code == 404  # the annual report of 2025 does not exist
        r = client.get(url, params={"kind": "midterm"}, headers=viewer)
        doc = open_docx(r)
        body = texts(doc)
        assert "Sơ kết giai đoạn 2022 - 2025 thực hiện Chương trình Truyền thông về bình đẳng giới" in body
        assert "VI. PHƯƠNG HƯỚNG, NHIỆM VỤ GIAI ĐOẠN TIẾP THEO" in body and "Đạt yêu cầu." in body
        # A draft review counts the activities of the whole period: Đức Xuân's one, of 2024.
        rows = cells(find_table(doc, ["STT", "Hình thức hoạt động", "Số hoạt động"]))
        assert rows[1:] == [["1", "Hoạt động văn hóa, văn nghệ", "1"], ["", "Tổng cộng", "1"]]
        assert filename_of(r)[1] == "Báo cáo sơ kết BĐG 2022 - 2025 - Phường Đức Xuân.docx"

    def test_file_name_and_headers(self, client, world, viewer):
        r = client.get(self.URL, headers=viewer)
        plain, utf8 = filename_of(r)
        assert utf8 == f"Báo cáo BĐG năm {YEAR} - Phường Sông Cầu.docx"
        assert plain == f"Bao-cao-BDG-nam-{YEAR}-Phuong-Song-Cau.docx"

    def test_no_report_is_404_and_anonymous_is_401(self, client, world, viewer):
        r = client.get(f"{API}/reports/{YEAR}/units/p-huyen-tung/report.docx", headers=viewer)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        assert client.get(f"{API}/reports/{YEAR}/units/nowhere/report.docx", headers=viewer).status_code == 404
        assert client.get(self.URL).status_code == 401


# --- the city's report -----------------------------------------------------------------------------------------

def obliged_codes(session) -> set[str]:
    """Active departments, mass organisations, wards and communes in 2024 (the seeded city: all under it)."""
    rows = session.exec(select(Unit.code, Unit.kind, Unit.valid_from, Unit.valid_to)).all()
    return {code for code, kind, start, end in rows
            if str(kind) in ("department", "mass_org", "ward", "commune") and start <= date(YEAR, 12, 31)
            and (end is None or end >= date(YEAR, 1, 1))}


class TestCityReport:
    URL = f"{API}/reports/{YEAR}/city-report.docx"

    def test_header_layout_and_the_targets_table_carry_the_engine_figures(self, client, world, viewer):
        doc = open_docx(client.get(self.URL, headers=viewer))
        left, right = header_block(doc)
        assert left[:2] == ["UBND THÀNH PHỐ BẮC KẠN", "PHÒNG LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI"]
        assert left[2] == "Số: ……/BC-LĐTBXH"
        assert right[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
        assert re.fullmatch(r"TP\. Bắc Kạn, ngày \d{2} tháng \d{2} năm \d{4}", right[2])
        assert_decree_30_layout(doc)
        assert "Kính gửi: Ủy ban nhân dân thành phố Bắc Kạn" in texts(doc)

        values = engine_values(client, viewer, str(YEAR))
        table = cells(find_table(doc, ["STT", "Chỉ tiêu", f"Kế hoạch năm {YEAR}", "Kết quả", "Đánh giá"]))
        assert len(table) == 1 + len(values) == 6
        by_code = {v["indicator"]: v for v in values}
        indicators = client.get(f"{API}/indicators", headers=viewer).json()["items"]
        for row, ind in zip(table[1:], sorted(indicators, key=lambda i: i["sort_order"]), strict=True):
            v = by_code[ind["code"]]
            assert row[1] == ind["name_vi"]
            assert row[3] == result_cell(v)
            assert row[4] == verdict_of(v)
        # The world's IND-01 worked out by hand: units with a law/policy session in 2024 among the eligible ones.
        ind01 = by_code["IND-01"]
        law = {a.unit for a in ACTIVITIES if a.held_on.year == YEAR and (a.task_group == "1" or a.kind in (
            "conference", "training", "talk", "themed_talk", "direct", "community_meeting"))}
        eligible = obliged_codes(world)
        assert ind01["numerator"] == len(law & eligible) == 3 and ind01["denominator"] == len(eligible)
        assert table[1][2] == "100%" and table[1][3] == f"{vn(ind01['value'])}% (3/{len(eligible)})"
        # IND-05: the conventions of the counted (not draft) reports: 5 + 4 of 6 + 4.
        ind05 = by_code["IND-05"]
        assert (ind05["numerator"], ind05["denominator"]) == (9, 10) and table[5][3] == "90% (9/10)"

    def test_completeness_task_groups_target_groups_funding_and_annexes(self, client, world, viewer):
        doc = open_docx(client.get(self.URL, headers=viewer))
        obliged = obliged_codes(world)
        submitted = {r.unit for r in REPORTS if r.submitted}
        on_time = {r.unit for r in REPORTS if r.submitted and r.submitted < datetime(2024, 12, 10, tzinfo=HCM)}
        assert on_time == {"p-song-cau", "tt-vhttt"}  # 09/12 23:59 local is on time; 11/12 is late
        summary = {r[0]: r[1:] for r in cells(find_table(doc, ["Nội dung", "Số đơn vị", "Tỷ lệ (%)"]))}
        assert summary["Đơn vị phải báo cáo"][0] == vn(len(obliged))
        assert summary["Đã gửi báo cáo"] == [vn(len(submitted)), vn(round(100 * len(submitted) / len(obliged), 1))]
        assert summary["Gửi đúng hạn"][0] == "2" and summary["Gửi muộn"][0] == "1"
        assert summary["Chưa gửi"][0] == vn(len(obliged) - len(submitted))
        body = texts(doc)
        missing_line = next(t for t in body if t.startswith("Các đơn vị chưa gửi báo cáo: "))
        assert "Xã Dương Quang" in missing_line and "Phường Sông Cầu" not in missing_line
        assert next(t for t in body if t.startswith("Các đơn vị gửi báo cáo muộn: ")).startswith(
            "Các đơn vị gửi báo cáo muộn: Phường Đức Xuân (2 ngày)")  # 10/12 is the first day late

        year = [a for a in ACTIVITIES if a.held_on.year == YEAR]
        tasks = cells(find_table(doc, ["STT", "Nhóm nhiệm vụ", "Số hoạt động", "Nam", "Nữ", "Tổng số"]))
        assert len(tasks) == 1 + 7 + 1
        assert tasks[-1] == ["", "Tổng cộng", vn(len(year)), vn(sum(a.male for a in year)),
                             vn(sum(a.female for a in year)), vn(sum(a.male + a.female for a in year))]
        row4 = next(r for r in tasks if r[0] == "4")
        assert row4[2:] == ["2", "42", "58", "100"]
        groups = {r[1]: r[2:] for r in cells(find_table(doc, ["STT", "Nhóm đối tượng"]))[1:]}
        assert groups == {"Cán bộ, công chức, viên chức": ["1", "5", "8", "13"], "Người dân": ["1", "10", "30", "40"],
                          "Thanh niên": ["1", "7", "10", "17"]}
        funding = {r[1]: r[2:] for r in cells(find_table(doc, ["STT", "Nguồn kinh phí", "Số hoạt động"]))}
        assert funding["Ngân sách nhà nước theo phân cấp"] == ["3", "7.500.000"]
        assert funding["Huy động xã hội, cộng đồng"] == ["1", "3.000.000"]
        assert funding["Chưa xác định nguồn"] == ["2", "0"]
        assert funding["Nguồn tài trợ, viện trợ quốc tế"] == ["1", "5.000.000"]
        assert funding["Tổng cộng"] == ["7", "15.500.000"]
        month = next(t for t in body if t.startswith("Tháng hành động (từ ngày 15/11/2024 đến ngày 15/12/2024)"))
        # Plans: Đức Xuân, Hội LHPN, Sông Cầu; of those with activities in the window: Đức Xuân and Sông Cầu.
        assert f"3/{len(obliged)} đơn vị ban hành kế hoạch" in month and "2 đơn vị có kế hoạch và tổ chức" in month

        annex1 = cells(find_table(doc, ["STT", "Đơn vị", "Số hoạt động", "Tin, bài"]))
        per_unit = {r[1]: r[2:] for r in annex1}
        assert per_unit["Phường Sông Cầu"] == ["3", "0", "41", "59", "100"]
        assert per_unit["Hệ thống loa truyền thanh phường Sông Cầu"] == ["1", "10", "0", "0", "0"]
        assert per_unit["Phòng Tài chính - Kế hoạch"] == ["0", "0", "0", "0", "0"]
        assert per_unit["Tổng cộng"][0] == vn(len(year))
        annex2 = cells(find_table(doc, ["STT", "Đơn vị", "Tình trạng", "Ngày gửi", "Đúng hạn / muộn"]))
        assert len(annex2) == 1 + len(obliged)
        status = {r[1]: r[2:] for r in annex2}
        assert status["Phường Sông Cầu"] == ["Đã gửi", "05/12/2024", "Đúng hạn"]
        assert status["Phường Đức Xuân"] == ["Đã tiếp nhận", "11/12/2024", "Muộn 2 ngày"]
        assert status["Trung tâm Văn hóa, Thể thao và Truyền thông"] == ["Đã gửi", "09/12/2024", "Đúng hạn"]
        assert status["Xã Dương Quang"][0] == "Đang soạn (chưa gửi)"
        assert status["Hội Nông dân thành phố"][:2] == ["Chưa gửi", ""]

    def test_settings_choose_place_signer_and_number(self, client, world, viewer, monkeypatch):
        monkeypatch.setenv("DOCUMENT_PLACE", "Bắc Kạn")
        monkeypatch.setenv("DOCUMENT_LEAD_SIGNATURE", '["KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG"]')
        monkeypatch.setenv("DOCUMENT_LEAD_SIGNER_NAME", "Nguyễn Thị Hoa")
        monkeypatch.setenv("DOCUMENT_LEAD_ABBREVIATION", "LĐTBXH-BĐG")
        get_settings.cache_clear()
        doc = open_docx(client.get(self.URL, headers=viewer))
        left, right = header_block(doc)
        assert left[2] == "Số: ……/BC-LĐTBXH-BĐG" and right[2].startswith("Bắc Kạn, ngày ")
        recipients, signature = signature_block(doc)
        assert signature == ["KT. TRƯỞNG PHÒNG", "PHÓ TRƯỞNG PHÒNG", "Nguyễn Thị Hoa"]
        assert recipients[0] == "Nơi nhận:" and recipients[-1] == "- Lưu: VT, LĐTBXH."

    def test_scoped_to_a_unit(self, client, world, viewer):
        doc = open_docx(client.get(self.URL, params={"unit": "p-song-cau"}, headers=viewer))
        assert "Kết quả thực hiện Chương trình Truyền thông về bình đẳng giới năm 2024 trên địa bàn phường Sông Cầu" \
            in texts(doc)
        annex2 = cells(find_table(doc, ["STT", "Đơn vị", "Tình trạng", "Ngày gửi", "Đúng hạn / muộn"]))
        assert [r[1] for r in annex2[1:]] == ["Phường Sông Cầu"]
        values = client.get(f"{API}/indicator-values", params={"year": YEAR, "unit": "p-song-cau"},
                            headers=viewer).json()["items"]
        table = cells(find_table(doc, ["STT", "Chỉ tiêu", f"Kế hoạch năm {YEAR}", "Kết quả", "Đánh giá"]))
        assert [r[3] for r in table[1:]] == [result_cell(v) for v in values]
        assert client.get(self.URL, params={"unit": "nowhere"}, headers=viewer).status_code == 404

    def test_xlsx_annexes(self, client, world, viewer):
        r = client.get(f"{API}/reports/{YEAR}/city-report.xlsx", headers=viewer)
        assert r.status_code == 200 and r.headers["content-type"] == XLSX_TYPE
        assert filename_of(r)[1] == f"Phụ lục báo cáo BĐG năm {YEAR}.xlsx"
        book = load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["Tổng hợp", "Chỉ tiêu", "Tình hình báo cáo", "Theo đơn vị", "Theo nhóm nhiệm vụ",
                                   "Theo nhóm đối tượng", "Kinh phí"]
        targets = list(book["Chỉ tiêu"].values)
        head = targets[0]
        assert head[:3] == ("Mã chỉ tiêu", "Chỉ tiêu", "Năm")
        col = {name: head.index(name) for name in ("Tử số", "Mẫu số", "Kết quả (%)", "Kế hoạch (%)")}
        for v, row in zip(engine_values(client, viewer, str(YEAR)), targets[1:], strict=True):
            assert row[0] == v["indicator"] and row[2] == YEAR
            assert (row[col["Tử số"]], row[col["Mẫu số"]], row[col["Kết quả (%)"]], row[col["Kế hoạch (%)"]]) == (
                v["numerator"], v["denominator"], v["value"], v["target"])
        obliged = obliged_codes(world)
        status = list(book["Tình hình báo cáo"].values)
        assert {row[0] for row in status[1:]} == obliged
        song_cau = next(row for row in status if row[0] == "p-song-cau")
        assert song_cau[5] == datetime(2024, 12, 5, 10, 0) and song_cau[6] == "Có"
        tasks = {row[0]: row for row in list(book["Theo nhóm nhiệm vụ"].values)[1:]}
        assert [tasks["4"][i] for i in (2, 3, 4, 5)] == [2, 42, 58, 100]
        assert isinstance(tasks["1"][2], int)
        funding = {row[0]: row[3] for row in list(book["Kinh phí"].values)[1:]}
        assert funding["state_budget"] == 7_500_000 and funding["international"] == 5_000_000
        summary = {row[0]: row[1] for row in book["Tổng hợp"].values}
        assert summary["Đơn vị phải báo cáo"] == len(obliged) and summary["Đã gửi báo cáo"] == 3
        assert summary["Kinh phí (đồng)"] == 15_500_000


# --- period reviews --------------------------------------------------------------------------------------------------

class TestReviews:
    def test_midterm_review_year_by_year(self, client, world, viewer):
        r = client.get(f"{API}/reports/review/midterm.docx", headers=viewer)
        doc = open_docx(r)
        assert filename_of(r)[1] == "Sơ kết BĐG 2022-2025.docx"
        assert_decree_30_layout(doc)
        body = texts(doc)
        assert ("Sơ kết giai đoạn 2022 - 2025 thực hiện Chương trình Truyền thông về bình đẳng giới đến năm 2030 "
                "trên địa bàn thành phố Bắc Kạn") in body
        values = engine_values(client, viewer, "2022-2025")
        tables = [t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["Năm", "Kế hoạch", "Kết quả",
                                                                                 "Đánh giá"]]
        assert len(tables) == 5
        for table, code in zip(tables, ["IND-01", "IND-02", "IND-03", "IND-04", "IND-05"], strict=True):
            mine = [v for v in values if v["indicator"] == code]
            assert [[row[0], row[2], row[3]] for row in cells(table)[1:]] == [
                [str(v["year"]), result_cell(v), verdict_of(v)] for v in mine]
        per_year = cells(find_table(doc, ["Năm", "Số hoạt động", "Nam", "Nữ"]))
        assert [r[:2] for r in per_year[1:5]] == [["2022", "0"], ["2023", "1"], ["2024", "7"], ["2025", "0"]]
        month = cells(find_table(doc, ["Năm", "Số đơn vị", "Có kế hoạch"]))
        assert month[3][2] == "3" and month[1][2] == "0"
        # The assessment quotes each indicator's latest year with a value.
        ind01 = [v for v in values if v["indicator"] == "IND-01" and v["value"] is not None][-1]
        assert (f"Chỉ tiêu 1 năm {ind01['year']} đạt {result_cell(ind01)} so với kế hoạch 100%: "
                f"{verdict_of(ind01).lower()}.") in body, [t for t in body if t.startswith("Chỉ tiêu")]
        assert "2. Tồn tại, hạn chế và nguyên nhân" in body and "3. Bài học kinh nghiệm" in body
        assert "V. PHƯƠNG HƯỚNG, NHIỆM VỤ GIAI ĐOẠN 2026 - 2030" in body

    def test_final_review_workbook(self, client, world, viewer):
        r = client.get(f"{API}/reports/review/final.xlsx", headers=viewer)
        assert r.status_code == 200 and r.headers["content-type"] == XLSX_TYPE
        book = load_workbook(io.BytesIO(r.content))
        rows = list(book["Hoạt động theo năm"].values)
        assert [row[0] for row in rows[1:]] == list(range(2022, 2031))
        assert rows[3][1:5] == (len([a for a in ACTIVITIES if a.held_on.year == YEAR]), 101, 149, 250)
        assert len(list(book["Chỉ tiêu theo năm"].values)) == 1 + 5 * 9
        funding = list(book["Kinh phí"].values)
        assert funding[0][-1] == "Tổng cộng (đồng)" and funding[3][-1] == 15_500_000

    def test_unknown_kind(self, client, world, viewer):
        r = client.get(f"{API}/reports/review/annual.docx", headers=viewer)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["path", "kind"]


# --- LibreOffice -----------------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_converts_to_pdf_with_libreoffice(client, world, viewer, tmp_path):
    """The unit's report converts to PDF (≥ 1 page); page 1 is rendered to PNG where pdftoppm exists."""
    source = tmp_path / "report.docx"
    source.write_bytes(client.get(TestUnitReport.URL, headers=viewer).content)
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages >= 2  # the report and its annex
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(tmp_path / "report.pdf"),
                        str(tmp_path / "page")], check=True, capture_output=True, timeout=60)
        png = next(Path(tmp_path).glob("page*.png")).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5000
