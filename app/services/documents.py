"""The official documents: a unit's annual report, the city's consolidated report and the period reviews as DOCX
in the format of Decree 30/2020/NĐ-CP, and their tables as XLSX annexes.

Every figure comes from the records: the indicator engine (`engine.compute`), the activity statistics
(`statistics.compute`), the report obligations (`obligations.completeness`, the Action Month board) and the
report itself (its narrative, its figures and its activity summary frozen at submission). Nothing is typed in.
"""

import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, select

from app.api.errors import NotFound
from app.config import get_settings
from app.models import (
    AnnualReport,
    Campaign,
    CampaignKind,
    CodeItem,
    Indicator,
    Measure,
    Plan,
    PlanPhase,
    ReportKind,
    Unit,
)
from app.services import calendar, engine, obligations, statistics
from app.services import reports as report_service
from app.services.docx_format import Letterhead, OfficialDocument, Recipients, Signature, format_number
from app.services.engine import IndicatorValue
from app.services.targets import ACHIEVED, AT_RISK, OFF_TRACK, ON_TRACK

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PROGRAM = "Chương trình Truyền thông về bình đẳng giới"
BLANK_NUMBER = "……"
KIND_ORDER = ("department", "mass_org", "ward", "commune", "health", "school", "enterprise", "media", "other",
              "city", "province")
KIND_VI = {
    "province": "Tỉnh", "city": "Thành phố", "department": "Phòng, ban, cơ quan chuyên môn",
    "mass_org": "Mặt trận, đoàn thể", "ward": "Phường", "commune": "Xã", "media": "Cơ quan truyền thông",
    "school": "Trường học", "health": "Cơ sở y tế", "enterprise": "Doanh nghiệp", "other": "Khác",
}
REPORT_STATUS_VI = {
    None: "Chưa gửi", "draft": "Đang soạn (chưa gửi)", "submitted": "Đã gửi", "returned": "Trả lại để hoàn thiện",
    "resubmitted": "Đã gửi lại", "accepted": "Đã tiếp nhận",
}
MEDIA_STATUS_VI = {"none": "Chưa áp dụng", "pilot": "Áp dụng thí điểm", "official": "Áp dụng chính thức"}
QUALIFIER_VI = {"pilot": "thí điểm", "official": "chính thức"}
MET, NOT_MET, WATCHING = "Đạt", "Không đạt", "Đang theo dõi"
UNSPECIFIED = "Chưa xác định nguồn"


# --- the file handed out ---------------------------------------------------------------------------------------

@dataclass
class FileOut:
    """A generated file: its bytes, its (Vietnamese) file name and its media type."""

    content: bytes
    filename: str
    media_type: str

    @property
    def ascii_filename(self) -> str:
        """The name without diacritics, for clients that ignore `filename*`."""
        return ascii_name(self.filename)

    def content_disposition(self) -> str:
        """`attachment` with an ASCII `filename` and the UTF-8 `filename*` (RFC 6266 / RFC 5987)."""
        return f'attachment; filename="{self.ascii_filename}"; filename*=UTF-8\'\'{quote(self.filename, safe="")}'


def ascii_name(name: str) -> str:
    """`Báo cáo BĐG 2024.docx` → `Bao-cao-BDG-2024.docx`."""
    text = name.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    stem, dot, ext = text.rpartition(".")
    stem = re.sub(r"[^A-Za-z0-9_.]+", "-", stem if dot else text).strip("-") or "document"
    return f"{stem}.{ext}" if dot else stem


# --- small helpers -----------------------------------------------------------------------------------------------

def fmt(value: object) -> str:
    """A number in the Vietnamese format (`1.234`, `95,5`); None as an en dash."""
    return format_number(value)


def day_text(on: date | datetime | None) -> str:
    """dd/mm/yyyy (a moment is shown as its local date)."""
    if on is None:
        return ""
    if isinstance(on, datetime):
        on = calendar.local_today(on)
    return f"{on.day:02d}/{on.month:02d}/{on.year}"


def _local_naive(moment: datetime | None) -> datetime | None:
    """A moment as local wall-clock time without zone (spreadsheets have no time zones)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(calendar.local_zone()).replace(tzinfo=None)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _share(numerator: int, denominator: int) -> float | None:
    return round(100 * numerator / denominator, 1) if denominator else None


def code_labels(session: Session, list_name: str) -> dict[str, str]:
    """A code list's Vietnamese labels, in the list's order."""
    rows = session.exec(select(CodeItem.code, CodeItem.label_vi).where(CodeItem.list_name == list_name)
                        .order_by(CodeItem.sort_order, CodeItem.code))
    return dict(rows.all())


def _kind_key(kind: str, name: str) -> tuple:
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), name)


# --- who issues, and how it is numbered and signed ------------------------------------------------------------------

_ADMINISTRATIVE = ("province", "city", "ward", "commune")


def issuing_body(unit: Unit) -> str:
    """The body that issues the unit's documents: the People's Committee of a ward or commune, else the unit."""
    if unit.kind.value in ("ward", "commune"):
        return f"UBND {unit.name_vi}"
    return unit.name_vi


def parent_body(session: Session, unit: Unit) -> str:
    """The line above the issuing body: the unit's parent (its People's Committee when it is an area)."""
    overrides = get_settings().document_parent_bodies
    if unit.code in overrides:
        return overrides[unit.code]
    parent = session.get(Unit, unit.parent_id) if unit.parent_id else None
    if parent is None:
        return ""
    return f"UBND {parent.name_vi}" if parent.kind.value in _ADMINISTRATIVE else parent.name_vi


def abbreviation(unit: Unit) -> str:
    """The unit's abbreviation in document numbers (`BC-LĐTBXH`)."""
    known = get_settings().document_abbreviations
    if unit.code in known:
        return known[unit.code]
    if unit.kind.value in ("ward", "commune"):
        return "UBND"
    words = [w for w in re.split(r"[\s,\-–]+", unit.name_vi) if w and w[0].isalpha()]
    skip = {"và", "của", "thành", "phố"}
    return "".join(w[0].upper() for w in words if w.lower() not in skip) or "BC"


def signature_lines(unit: Unit) -> list[str]:
    """The capacity lines of the unit's signature block (settings first, then by kind and name)."""
    configured = get_settings().document_signatures
    if unit.code in configured:
        return configured[unit.code]
    kind, name = unit.kind.value, unit.name_vi.lower()
    if kind in ("ward", "commune"):
        return ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    if kind == "mass_org":
        head = "BÍ THƯ" if name.startswith("đoàn thanh niên") else "CHỦ TỊCH"
        return ["TM. BAN THƯỜNG VỤ", head]
    for prefix, title in (("văn phòng", "CHÁNH VĂN PHÒNG"), ("phòng", "TRƯỞNG PHÒNG"), ("trung tâm", "GIÁM ĐỐC"),
                          ("trường", "HIỆU TRƯỞNG")):
        if name.startswith(prefix):
            return [title]
    return ["THỦ TRƯỞNG ĐƠN VỊ"]


def _lead_letterhead(on: date) -> Letterhead:
    s = get_settings()
    return Letterhead(parent_body=s.document_lead_parent_body, body=s.document_lead_body,
                      number=f"Số: {BLANK_NUMBER}/BC-{s.document_lead_abbreviation}", place=s.document_place, on=on)


def _lead_signature(doc: OfficialDocument) -> None:
    s = get_settings()
    doc.signature(Recipients(list(s.document_city_recipients)),
                  Signature(list(s.document_lead_signature), s.document_lead_signer_name))


def _plan(session: Session) -> Plan:
    plan = session.exec(select(Plan).order_by(Plan.id)).first()
    if plan is None:
        raise NotFound("No plan is loaded.")
    return plan


def _plan_reference(plan: Plan) -> str:
    """`Kế hoạch số …/KH-UBND ngày 01/03/2022 của Ủy ban nhân dân thành phố Bắc Kạn`."""
    number = f" số {plan.number}" if plan.number else ""
    issued = f" ngày {day_text(plan.issued_on)}" if plan.issued_on else ""
    return f"Kế hoạch{number}{issued} của {plan.issuer_vi} về thực hiện {PROGRAM} đến năm {plan.end_year}"


# --- indicator values as text -------------------------------------------------------------------------------------

def verdict(value: IndicatorValue) -> str:
    """Đạt / Không đạt / Đang theo dõi, from the engine's status against the year's target."""
    if value.status in (ACHIEVED, ON_TRACK):
        return MET
    if value.status in (AT_RISK, OFF_TRACK):
        # Measured against a later milestone (the year has no target of its own): not a failure yet.
        return WATCHING if value.target_year not in (None, value.year) else NOT_MET
    return WATCHING


def target_text(value: IndicatorValue, indicator: Indicator) -> str:
    """The year's target: `100%`, `70% thí điểm (≥ 7/9)`, `Tăng 15–20%`, with the milestone year when it is later."""
    if value.target is None:
        return fmt(None)
    unit = indicator.unit_of_measure or ""
    if indicator.measure == Measure.change and value.year == indicator.baseline_year:
        return "Năm gốc (khảo sát)"
    core = fmt(value.target)
    if value.target_max is not None and value.target_max != value.target:
        core = f"{core}–{fmt(value.target_max)}"
    text = f"Tăng {core}{unit}" if indicator.measure == Measure.change else f"{core}{unit}"
    if value.target_qualifier:
        text += f" {QUALIFIER_VI.get(value.target_qualifier, value.target_qualifier)}"
    if value.target_count is not None and value.denominator and value.target_count < value.denominator:
        text += f" (≥ {fmt(value.target_count)}/{fmt(value.denominator)})"
    if value.target_year not in (None, value.year):
        text += f"; mục tiêu năm {value.target_year}"
    return text


def result_text(value: IndicatorValue, indicator: Indicator) -> str:
    """The value with its numerator and denominator: `95,5% (21/22)`; `Chưa có số liệu` without one."""
    if value.value is None:
        return "Chưa có số liệu"
    sign = "+" if indicator.measure == Measure.change and value.value > 0 else ""
    text = f"{sign}{fmt(value.value)}{indicator.unit_of_measure or ''}"
    if value.numerator is not None and value.denominator is not None:
        text += f" ({fmt(value.numerator)}/{fmt(value.denominator)})"
    return text


def indicator_label(indicator: Indicator) -> str:
    """`Chỉ tiêu 1`."""
    return f"Chỉ tiêu {indicator.sort_order or indicator.code}"


def assessment_sentence(value: IndicatorValue, indicator: Indicator) -> str:
    """`Chỉ tiêu 1 năm 2024 đạt 95,5% (21/22) so với kế hoạch 100%: không đạt.`"""
    label = indicator_label(indicator)
    if value.value is None:
        return f"{label} năm {value.year}: chưa có số liệu để đánh giá."
    if value.target is None:
        return f"{label} năm {value.year} đạt {result_text(value, indicator)}; chưa có kế hoạch để so sánh."
    return (f"{label} năm {value.year} đạt {result_text(value, indicator)} so với kế hoạch "
            f"{target_text(value, indicator)}: {_lower_first(verdict(value))}.")


def _indicators(session: Session, plan: Plan) -> list[Indicator]:
    return list(session.exec(select(Indicator).where(Indicator.plan_id == plan.id)
                             .order_by(Indicator.sort_order, Indicator.code)))


# --- a unit's annual report -------------------------------------------------------------------------------------------

def _report_summary_line(report: AnnualReport) -> str:
    start, end = report.period_start.year, report.period_end.year
    if report.kind == ReportKind.midterm:
        return f"Sơ kết giai đoạn {start} - {end} thực hiện {PROGRAM}"
    if report.kind == ReportKind.final:
        return f"Tổng kết giai đoạn {start} - {end} thực hiện {PROGRAM}"
    return f"Kết quả thực hiện {PROGRAM} năm {report.year}"


def _people(row: dict) -> str:
    text = f"{fmt(row.get('activities', 0))} hoạt động"
    if row.get("total"):
        text += (f", {fmt(row['total'])} lượt người tham dự (nam: {fmt(row.get('male', 0))}, "
                 f"nữ: {fmt(row.get('female', 0))})")
    return text


def unit_report_docx(session: Session, unit: Unit, year: int, kind: ReportKind = ReportKind.annual) -> FileOut:
    """A unit's annual report (or its review) as a DOCX in the format of Decree 30/2020/NĐ-CP."""
    report = report_service.get_or_404(session, unit, year, kind)
    settings = get_settings()
    summary = report.activity_summary
    frozen = summary is not None
    if not frozen:
        # A draft: the summary as it would be frozen on submission now (read only).
        summary = report_service.activity_summary(session, unit, report.period_start, report.cutoff_on)
    signed_on = calendar.local_today(report.submitted_at) if report.submitted_at else calendar.local_today()
    abbrev = abbreviation(unit)
    letterhead = Letterhead(parent_body=parent_body(session, unit), body=issuing_body(unit),
                            number=f"Số: {BLANK_NUMBER}/BC-{abbrev}", place=settings.document_place, on=signed_on)
    title = _report_summary_line(report)
    doc = OfficialDocument(letterhead, "Báo cáo", title, to=[settings.document_report_to])
    task_groups = code_labels(session, "task_group")
    period = "năm" if kind == ReportKind.annual else "giai đoạn"

    doc.paragraph(
        f"{unit.name_vi} báo cáo {_lower_first(title)} (kỳ báo cáo từ ngày {day_text(report.period_start)} "
        f"đến ngày {day_text(report.period_end)}; số liệu tính đến ngày {day_text(report.cutoff_on)}) như sau:")
    if not frozen:
        doc.note("Báo cáo chưa gửi: số liệu hoạt động được tổng hợp tại thời điểm in và sẽ được chốt khi gửi.")

    doc.part("I. Công tác lãnh đạo, chỉ đạo")
    _narrative(doc, report.leadership)

    doc.part("II. Kết quả thực hiện các nhiệm vụ")
    people = summary.get("participants", {})
    doc.paragraph(
        f"Trong kỳ báo cáo, {_lower_first(unit.name_vi)} đã tổ chức {fmt(summary.get('activities', 0))} hoạt động "
        f"truyền thông về bình đẳng giới với {fmt(people.get('total', 0))} lượt người tham dự "
        f"(nam: {fmt(people.get('male', 0))}, nữ: {fmt(people.get('female', 0))}); "
        f"{fmt(summary.get('broadcasts', 0))} tin, bài, lượt phát sóng, đăng tải.")
    by_group = summary.get("by_task_group", {})
    narrative = report.results_by_task_group or {}
    for code, label in task_groups.items():
        doc.subheading(f"{code}. {label}")
        row = by_group.get(code)
        if row and row.get("activities"):
            doc.paragraph(f"Đã tổ chức {_people(row)}.")
        text = str(narrative.get(code) or "").strip()
        if text:
            doc.paragraph(text)
        elif not (row and row.get("activities")):
            doc.paragraph("Không có hoạt động trong kỳ báo cáo.", italic=True)

    doc.part("III. Kết quả thực hiện các chỉ tiêu")
    _narrative(doc, report.results_vs_targets, placeholder=False)
    adopted, clean = report.conventions_adopted, report.conventions_without_discrimination
    if adopted is not None and clean is not None:
        share = f" (đạt {fmt(_share(clean, adopted))}%)" if adopted else ""
        doc.paragraph(f"Số hương ước, quy ước của cộng đồng được thông qua: {fmt(adopted)}; trong đó không có nội "
                      f"dung phân biệt đối xử về giới: {fmt(clean)}{share}.")
    statuses = report_service.media_statuses(session, report)
    if statuses:
        doc.paragraph("Tình hình áp dụng Bộ chỉ số về giới trong truyền thông của các cơ quan truyền thông do đơn vị "
                      "quản lý:")
        doc.table(["STT", "Cơ quan truyền thông", "Tình hình áp dụng"],
                  [[i, m.outlet_name, MEDIA_STATUS_VI[m.status.value]] for i, m in enumerate(statuses, 1)],
                  [1.2, 9.8, 5.5], align=["center", "left", "left"])
    if not (report.results_vs_targets.strip() or statuses or adopted is not None):
        doc.placeholder()

    doc.part("IV. Kinh phí thực hiện")
    _narrative(doc, report.funding, placeholder=False)
    sources = code_labels(session, "funding_source")
    by_source = summary.get("cost_by_funding_source", {})
    rows = [[i, label, int(by_source.get(code, 0))] for i, (code, label) in enumerate(sources.items(), 1)]
    extra = sum(v for k, v in by_source.items() if k not in sources)
    if extra:
        rows.append([len(rows) + 1, UNSPECIFIED, int(extra)])
    rows.append(["", "Tổng cộng", int(summary.get("cost_vnd", 0))])
    doc.table(["STT", "Nguồn kinh phí", "Số tiền (đồng)"], rows, [1.2, 10.3, 5.0],
              align=["center", "left", "right"], bold_rows={len(rows) - 1})

    doc.part("V. Đánh giá chung")
    _narrative(doc, report.assessment)
    following = f"năm {year + 1}" if kind == ReportKind.annual else "giai đoạn tiếp theo"
    doc.part(f"VI. Phương hướng, nhiệm vụ {following}")
    _narrative(doc, report.next_year_tasks)
    doc.part("VII. Đề xuất, kiến nghị")
    _narrative(doc, report.proposals)
    doc.paragraph(f"Trên đây là báo cáo {_lower_first(title)} của {unit.name_vi}./.")
    doc.signature(Recipients(list(settings.document_unit_recipients)), Signature(signature_lines(unit)))

    doc.annex("Phụ lục", f"Tổng hợp hoạt động truyền thông về bình đẳng giới {period} {_years_label(report)}")
    doc.note(f"(Kèm theo Báo cáo số {BLANK_NUMBER}/BC-{abbrev} ngày {day_text(signed_on)} của {unit.name_vi}; "
             f"số liệu từ ngày {day_text(report.period_start)} đến ngày {day_text(report.cutoff_on)})", align="center")
    _summary_tables(doc, session, summary, task_groups)
    name = f"Báo cáo {_file_kind(kind)} {_years_label(report)} - {unit.name_vi}.docx"
    return FileOut(doc.to_bytes(), name, DOCX)


def _years_label(report: AnnualReport) -> str:
    if report.kind == ReportKind.annual:
        return str(report.year)
    return f"{report.period_start.year} - {report.period_end.year}"


def _file_kind(kind: ReportKind) -> str:
    return {"annual": "BĐG năm", "midterm": "sơ kết BĐG", "final": "tổng kết BĐG"}[kind.value]


def _narrative(doc: OfficialDocument, text: str | None, *, placeholder: bool = True) -> None:
    if text and text.strip():
        doc.paragraph(text)
    elif placeholder:
        doc.placeholder()


def _summary_tables(doc: OfficialDocument, session: Session, summary: dict, task_groups: dict[str, str]) -> None:
    """The frozen activity summary as tables: by kind, by task group (participants), by target group, products."""
    kinds = code_labels(session, "activity_kind")
    by_kind = summary.get("by_kind", {})
    doc.subheading("1. Hoạt động truyền thông theo hình thức")
    ordered = sorted(by_kind.items(), key=lambda kv: _order(kinds, kv[0]))
    rows: list[list[object]] = [[i, kinds.get(code, code), int(n)] for i, (code, n) in enumerate(ordered, 1)]
    rows.append(["", "Tổng cộng", int(summary.get("activities", 0))])
    doc.table(["STT", "Hình thức hoạt động", "Số hoạt động"], rows, [1.2, 11.3, 4.0],
              align=["center", "left", "right"], bold_rows={len(rows) - 1})

    doc.subheading("2. Hoạt động và người tham dự theo nhóm nhiệm vụ")
    by_group = summary.get("by_task_group", {})
    rows = []
    for code, label in task_groups.items():
        r = by_group.get(code, {})
        rows.append([code, label, int(r.get("activities", 0)), int(r.get("male", 0)), int(r.get("female", 0)),
                     int(r.get("total", 0))])
    people = summary.get("participants", {})
    rows.append(["", "Tổng cộng", int(summary.get("activities", 0)), int(people.get("male", 0)),
                 int(people.get("female", 0)), int(people.get("total", 0))])
    doc.table(["STT", "Nhóm nhiệm vụ", "Số hoạt động", "Nam", "Nữ", "Tổng số"], rows,
              [1.2, 7.3, 2.0, 2.0, 2.0, 2.0], align=["center", "left", "right", "right", "right", "right"],
              bold_rows={len(rows) - 1})

    groups = code_labels(session, "target_group")
    by_target = summary.get("by_target_group", {})
    if by_target:
        doc.subheading("3. Người tham dự theo nhóm đối tượng")
        rows = [[i, groups.get(code, code), int(r.get("activities", 0)), int(r.get("male", 0)),
                 int(r.get("female", 0)), int(r.get("total", 0))]
                for i, (code, r) in enumerate(sorted(by_target.items(), key=lambda kv: _order(groups, kv[0])), 1)]
        doc.table(["STT", "Nhóm đối tượng", "Số hoạt động", "Nam", "Nữ", "Tổng số"], rows,
                  [1.2, 7.3, 2.0, 2.0, 2.0, 2.0], align=["center", "left", "right", "right", "right", "right"])
        doc.note("Một hoạt động có thể hướng tới nhiều nhóm đối tượng.")
    products = summary.get("products", {})
    if products:
        labels = code_labels(session, "product")
        doc.subheading(f"{4 if by_target else 3}. Sản phẩm truyền thông")
        rows = [[i, labels.get(code, code), int(q)]
                for i, (code, q) in enumerate(sorted(products.items(), key=lambda kv: _order(labels, kv[0])), 1)]
        doc.table(["STT", "Sản phẩm", "Số lượng"], rows, [1.2, 11.3, 4.0], align=["center", "left", "right"])


def _order(labels: dict[str, str], code: str) -> tuple:
    keys = list(labels)
    return (keys.index(code) if code in keys else len(keys), code)


# --- the city's report: figures ---------------------------------------------------------------------------------

@dataclass
class CityFigures:
    """Everything the city's annual report shows, for a year and a scope."""

    year: int
    scope_name: str
    scope_kind: str
    plan: Plan
    indicators: list[Indicator]
    values: dict[str, IndicatorValue]
    completeness: dict[str, Any]
    totals: dict[str, Any]
    by_task_group: list[dict[str, Any]]
    by_target_group: list[dict[str, Any]]
    by_funding: list[dict[str, Any]]
    by_unit: list[dict[str, Any]]
    action_month: dict[str, Any] | None = None
    scope_code: str | None = None
    members: set[int] = field(default_factory=set)


_ZERO = {"activities": 0, "participants_male": 0, "participants_female": 0, "participants_total": 0,
         "broadcasts": 0, "cost_vnd": 0, "products": 0, "women_share": None}


def _scope(session: Session, unit_code: str | None) -> tuple[engine.Scope, Unit | None]:
    """The engine's scope (the city by default) and the unit it is rooted at."""
    plan = _plan(session)
    scope = engine.resolve_scope(session, unit_code=unit_code, plan_issuer_id=plan.issuer_unit_id)
    root_id = scope.root_id or plan.issuer_unit_id
    if root_id is None:
        root_id = next((u for u, info in scope.units.items() if info.kind == "city"), None)
    return scope, session.get(Unit, root_id) if root_id else None


def _scope_phrase(root: Unit | None) -> str:
    """`trên địa bàn thành phố Bắc Kạn` for an area, `của Phòng …` for an office."""
    if root is None:
        return ""
    if root.kind.value in _ADMINISTRATIVE:
        return f"trên địa bàn {_lower_first(root.name_vi)}"
    return f"của {root.name_vi}"


def _action_month(session: Session, year: int, members: set[int]) -> dict[str, Any] | None:
    """The Action Month board of the year for the scope, or None when the year has no Action Month."""
    exists = session.exec(select(Campaign.id).where(Campaign.kind == CampaignKind.action_month.value,
                                                    Campaign.year == year)).first()
    if exists is None:
        return None
    return obligations.action_month_board(session, year, within=members)


def city_figures(session: Session, year: int, unit_code: str | None = None) -> CityFigures:
    """The figures of the city's (or a subtree's) annual report for `year`."""
    plan = _plan(session)
    scope, root = _scope(session, unit_code)
    members = scope.members
    indicators = _indicators(session, plan)
    values = {v.indicator: v for v in engine.compute(session, indicators=None, years=[year], unit_code=unit_code)
              if v.unit is None}
    completeness = obligations.completeness(session, year, within=members)

    def stats(by: list[str]) -> list[dict[str, Any]]:
        return statistics.compute(session, years=[year], by=by, unit_code=unit_code)

    totals = next(iter(stats([])), {"year": year, **_ZERO})

    groups = code_labels(session, "task_group")
    found = {r["task_group"]: r for r in stats(["task_group"])}
    by_task_group = [{"code": c, "label": groups.get(c, c), **{**_ZERO, **found.get(c, {})}}
                     for c in [*groups, *sorted(set(found) - set(groups))]]
    targets = code_labels(session, "target_group")
    found = {r["target_group"]: r for r in stats(["target_group"])}
    by_target_group = [{"code": c, "label": targets.get(c, c), **found[c]}
                       for c in sorted(found, key=lambda c: _order(targets, c))]
    sources = code_labels(session, "funding_source")
    found = {r["funding_source"]: r for r in stats(["funding_source"])}
    by_funding = [{"code": c, "label": sources[c], "cost_vnd": int(found.get(c, {}).get("cost_vnd", 0)),
                   "activities": int(found.get(c, {}).get("activities", 0))} for c in sources]
    for c in sorted((c for c in found if c not in sources), key=lambda c: (c is None, str(c))):
        by_funding.append({"code": c, "label": UNSPECIFIED if c is None else c,
                           "cost_vnd": int(found[c]["cost_vnd"]), "activities": int(found[c]["activities"])})

    per_unit = {r["unit"]: r for r in stats(["unit"])}
    codes = set(per_unit) | {r["unit_code"] for r in completeness["units"]}
    units = session.exec(select(Unit).where(Unit.code.in_(sorted(codes)))).all() if codes else []
    by_unit = [{"code": u.code, "name": u.name_vi, "kind": u.kind.value, **{**_ZERO, **per_unit.get(u.code, {})}}
               for u in sorted(units, key=lambda u: _kind_key(u.kind.value, u.name_vi))]

    return CityFigures(
        year=year, scope_name=_scope_phrase(root), scope_kind=root.kind.value if root else "", plan=plan,
        indicators=indicators, values=values, completeness=completeness, totals=totals,
        by_task_group=by_task_group, by_target_group=by_target_group, by_funding=by_funding, by_unit=by_unit,
        action_month=_action_month(session, year, members), scope_code=unit_code, members=members,
    )


# --- the city's report: DOCX --------------------------------------------------------------------------------------

def _completeness_part(doc: OfficialDocument, c: dict[str, Any]) -> None:
    due = day_text(c["due_on"])
    doc.paragraph(
        f"Tổng số đơn vị phải báo cáo: {fmt(c['obliged'])}; đã gửi báo cáo: {fmt(c['submitted'])} "
        f"(đạt {fmt(c['completeness']['value'])}%), trong đó gửi đúng hạn (trước ngày {due}): {fmt(c['on_time'])} "
        f"(đạt {fmt(c['timeliness']['value'])}%), gửi muộn: {fmt(c['late'])}; chưa gửi báo cáo: "
        f"{fmt(c['missing'])} (số liệu tính đến ngày {day_text(c['as_of'])}).")
    doc.table(["Nội dung", "Số đơn vị", "Tỷ lệ (%)"], [
        ["Đơn vị phải báo cáo", c["obliged"], 100.0 if c["obliged"] else None],
        ["Đã gửi báo cáo", c["submitted"], c["completeness"]["value"]],
        ["Gửi đúng hạn", c["on_time"], c["timeliness"]["value"]],
        ["Gửi muộn", c["late"], _share(c["late"], c["obliged"])],
        ["Chưa gửi", c["missing"], _share(c["missing"], c["obliged"])],
    ], [9.5, 3.5, 3.5], align=["left", "right", "right"])
    if c["missing_units"]:
        doc.paragraph("Các đơn vị chưa gửi báo cáo: " + "; ".join(u["name"] for u in c["missing_units"]) + ".")
    if c["late_units"]:
        doc.paragraph("Các đơn vị gửi báo cáo muộn: " + "; ".join(
            f"{u['name']} ({fmt(u['days_late'])} ngày)" if u.get("days_late") else u["name"]
            for u in c["late_units"]) + ".")


def targets_table_rows(figures_values: dict[str, IndicatorValue], indicators: list[Indicator]) -> list[list[object]]:
    """The rows of the five targets' table: STT, chỉ tiêu, kế hoạch, kết quả, đánh giá."""
    rows: list[list[object]] = []
    for i, ind in enumerate(indicators, 1):
        v = figures_values.get(ind.code)
        if v is None:
            continue
        rows.append([i, ind.name_vi, target_text(v, ind), result_text(v, ind), verdict(v)])
    return rows


TARGET_HEADERS = ["STT", "Chỉ tiêu", "Kế hoạch", "Kết quả", "Đánh giá"]
TARGET_WIDTHS = [1.2, 7.1, 3.0, 3.0, 2.2]
TARGET_ALIGN = ["center", "justify", "center", "center", "center"]


def _people_table(doc: OfficialDocument, rows: list[dict[str, Any]], first: str, *, numbered_by_code: bool,
                  total: dict[str, Any] | None) -> None:
    body: list[list[object]] = []
    for i, r in enumerate(rows, 1):
        body.append([r["code"] if numbered_by_code else i, r["label"], r["activities"], r["participants_male"],
                     r["participants_female"], r["participants_total"]])
    bold = set()
    if total is not None:
        body.append(["", "Tổng cộng", total["activities"], total["participants_male"], total["participants_female"],
                     total["participants_total"]])
        bold = {len(body) - 1}
    doc.table(["STT", first, "Số hoạt động", "Nam", "Nữ", "Tổng số"], body, [1.2, 7.3, 2.0, 2.0, 2.0, 2.0],
              align=["center", "left", "right", "right", "right", "right"], bold_rows=bold)


def _funding_rows(by_funding: list[dict[str, Any]]) -> list[list[object]]:
    rows: list[list[object]] = [[i, r["label"], r["activities"], r["cost_vnd"]] for i, r in enumerate(by_funding, 1)]
    rows.append(["", "Tổng cộng", sum(r["activities"] for r in by_funding), sum(r["cost_vnd"] for r in by_funding)])
    return rows


def city_report_docx(session: Session, year: int, unit_code: str | None = None) -> FileOut:
    """The city's consolidated annual report, compiled by the lead office, as a DOCX."""
    f = city_figures(session, year, unit_code)
    settings = get_settings()
    today = calendar.local_today()
    title = f"Kết quả thực hiện {PROGRAM} năm {year} {f.scope_name}".strip()
    doc = OfficialDocument(_lead_letterhead(today), "Báo cáo", title, to=[settings.document_city_report_to])
    doc.paragraph(f"Thực hiện {_plan_reference(f.plan)}; trên cơ sở báo cáo của các cơ quan, đơn vị, địa phương và "
                  f"số liệu cập nhật trên hệ thống theo dõi, {settings.document_lead_body} tổng hợp, báo cáo "
                  f"{_lower_first(title)} như sau:")

    doc.part("I. Tình hình gửi báo cáo của các cơ quan, đơn vị, địa phương")
    _completeness_part(doc, f.completeness)

    doc.part("II. Kết quả thực hiện các nhiệm vụ")
    t = f.totals
    doc.subheading("1. Kết quả chung")
    doc.paragraph(
        f"Trong năm {year}, các cơ quan, đơn vị, địa phương đã tổ chức {fmt(t['activities'])} hoạt động truyền thông "
        f"về bình đẳng giới với {fmt(t['participants_total'])} lượt người tham dự (nam: "
        f"{fmt(t['participants_male'])}, nữ: {fmt(t['participants_female'])}"
        + (f", nữ chiếm {fmt(t['women_share'])}%" if t.get("women_share") is not None else "")
        + f"); {fmt(t['broadcasts'])} tin, bài, lượt phát sóng, đăng tải; {fmt(t['products'])} sản phẩm truyền "
        f"thông; tổng kinh phí {fmt(t['cost_vnd'])} đồng.")
    doc.subheading("2. Kết quả theo nhóm nhiệm vụ")
    _people_table(doc, f.by_task_group, "Nhóm nhiệm vụ", numbered_by_code=True, total=t)
    doc.subheading("3. Người tham dự theo giới tính và nhóm đối tượng")
    if f.by_target_group:
        _people_table(doc, f.by_target_group, "Nhóm đối tượng", numbered_by_code=False, total=None)
        doc.note("Số người tham dự được ghi nhận theo từng nhóm đối tượng; một hoạt động có thể hướng tới nhiều nhóm.")
    else:
        doc.paragraph("Chưa có hoạt động nào ghi nhận người tham dự theo nhóm đối tượng.", italic=True)
    doc.subheading("4. Hưởng ứng Tháng hành động vì bình đẳng giới và phòng ngừa, ứng phó với bạo lực trên cơ sở giới")
    _action_month_paragraphs(doc, f.action_month)

    doc.part("III. Kết quả thực hiện các chỉ tiêu")
    doc.table([*TARGET_HEADERS[:2], f"Kế hoạch năm {year}", *TARGET_HEADERS[3:]],
              targets_table_rows(f.values, f.indicators), TARGET_WIDTHS, align=TARGET_ALIGN)
    doc.note("Kết quả: tỷ lệ (tử số/mẫu số) do hệ thống tính từ số liệu hoạt động và báo cáo đã gửi.")
    for ind in f.indicators:
        if ind.code in f.values:
            doc.paragraph(assessment_sentence(f.values[ind.code], ind))

    doc.part("IV. Kinh phí thực hiện")
    doc.table(["STT", "Nguồn kinh phí", "Số hoạt động", "Kinh phí (đồng)"], _funding_rows(f.by_funding),
              [1.2, 8.8, 2.5, 4.0], align=["center", "left", "right", "right"], bold_rows={len(f.by_funding)})

    doc.part("V. Đánh giá chung")
    doc.subheading("1. Kết quả đạt được")
    met = [indicator_label(i) for i in f.indicators if i.code in f.values and verdict(f.values[i.code]) == MET]
    missed = [indicator_label(i) for i in f.indicators
              if i.code in f.values and verdict(f.values[i.code]) == NOT_MET]
    if met:
        doc.paragraph(f"Các chỉ tiêu đạt kế hoạch năm {year}: {', '.join(met)}.")
    doc.placeholder()
    doc.subheading("2. Tồn tại, hạn chế và nguyên nhân")
    if missed:
        doc.paragraph(f"Các chỉ tiêu chưa đạt kế hoạch năm {year}: {', '.join(missed)}.")
    if f.completeness["missing"] or f.completeness["late"]:
        doc.paragraph(f"Còn {fmt(f.completeness['missing'])} đơn vị chưa gửi báo cáo và "
                      f"{fmt(f.completeness['late'])} đơn vị gửi báo cáo muộn.")
    doc.placeholder()
    doc.part(f"VI. Phương hướng, nhiệm vụ năm {year + 1}")
    doc.placeholder()
    doc.part("VII. Đề xuất, kiến nghị")
    doc.placeholder()
    doc.paragraph(f"Trên đây là báo cáo {_lower_first(title)}./.")
    _lead_signature(doc)

    doc.annex("Phụ lục 1", f"Hoạt động truyền thông và người tham dự theo đơn vị năm {year}")
    doc.table(["STT", "Đơn vị", "Số hoạt động", "Tin, bài", "Nam", "Nữ", "Tổng số"], _unit_rows(f),
              [1.2, 6.1, 2.0, 1.8, 1.8, 1.8, 1.8], size=11,
              align=["center", "left", "right", "right", "right", "right", "right"], bold_rows={len(f.by_unit)})
    due = day_text(f.completeness["due_on"])
    doc.annex("Phụ lục 2", f"Tình hình gửi báo cáo năm {year} (hạn gửi: trước ngày {due})")
    doc.table(["STT", "Đơn vị", "Tình trạng", "Ngày gửi", "Đúng hạn / muộn"], _status_rows(f.completeness),
              [1.2, 6.3, 3.5, 2.5, 3.0], size=11, align=["center", "left", "left", "center", "center"])
    scope = f" - {f.scope_code}" if f.scope_code else ""
    return FileOut(doc.to_bytes(), f"Báo cáo BĐG năm {year} - tổng hợp{scope}.docx", DOCX)


def _unit_rows(f: CityFigures) -> list[list[object]]:
    rows: list[list[object]] = [[i, r["name"], r["activities"], r["broadcasts"], r["participants_male"],
                                 r["participants_female"], r["participants_total"]] for i, r in enumerate(f.by_unit, 1)]
    rows.append(["", "Tổng cộng", *(sum(r[k] for r in f.by_unit) for k in (
        "activities", "broadcasts", "participants_male", "participants_female", "participants_total"))])
    return rows


def _timeliness_text(row: dict[str, Any]) -> str:
    if not row["submitted"]:
        return f"Quá hạn {row['days_late']} ngày" if row.get("days_late") else "Chưa đến hạn"
    return "Đúng hạn" if row["on_time"] else f"Muộn {row['days_late']} ngày"


def _status_rows(c: dict[str, Any]) -> list[list[object]]:
    return [[i, r["unit_name"], REPORT_STATUS_VI.get(r["status"], r["status"]), day_text(r["first_submitted_at"]),
             _timeliness_text(r)] for i, r in enumerate(c["units"], 1)]


def _action_month_paragraphs(doc: OfficialDocument, board: dict[str, Any] | None) -> None:
    if board is None:
        doc.paragraph("Năm báo cáo không có Tháng hành động trong lịch.", italic=True)
        return
    t, camp = board["totals"], board["campaign"]
    theme = f" với chủ đề \u201c{camp['theme_vi']}\u201d" if camp.get("theme_vi") else ""
    doc.paragraph(
        f"Tháng hành động (từ ngày {day_text(camp['starts_on'])} đến ngày {day_text(camp['ends_on'])}){theme}: "
        f"{fmt(t['units_with_plan'])}/{fmt(t['units'])} đơn vị ban hành kế hoạch hưởng ứng; "
        f"{fmt(t['units_with_plan_and_activities'])} đơn vị có kế hoạch và tổ chức hoạt động; "
        f"{fmt(t['activities'])} hoạt động với {fmt(t['participants_total'])} lượt người tham gia "
        f"(nam: {fmt(t['participants_male'])}, nữ: {fmt(t['participants_female'])}).")
    if board["units_without_plan"]:
        doc.paragraph("Các đơn vị chưa có kế hoạch hưởng ứng: "
                      + "; ".join(u["name"] for u in board["units_without_plan"]) + ".")


# --- XLSX ----------------------------------------------------------------------------------------------------------

@dataclass
class Sheet:
    """A worksheet: a title (≤ 31 characters), a header row, rows, and each column's number format."""

    title: str
    headers: list[str]
    rows: list[list[object]]
    formats: list[str | None]
    widths: list[float] | None = None


INT, DEC, MONEY, DATETIME = "#,##0", "0.0", "#,##0", "dd/mm/yyyy hh:mm"


def workbook(sheets: list[Sheet], title: str) -> bytes:
    """An XLSX workbook: bold, wrapped header rows frozen above the data, filters, numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    book.remove(book.active)
    book.properties.title = title
    book.properties.creator = get_settings().document_lead_body
    header_font = Font(name="Times New Roman", bold=True)
    body_font = Font(name="Times New Roman")
    fill = PatternFill("solid", fgColor="D9E1F2")
    for spec in sheets:
        ws = book.create_sheet(spec.title[:31])
        ws.append(spec.headers)
        for cell in ws[1]:
            cell.font, cell.fill = header_font, fill
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for row in spec.rows:
            ws.append(row)
        for row in ws.iter_rows(min_row=2):
            for cell, number_format in zip(row, spec.formats, strict=False):
                cell.font = body_font
                if number_format:
                    cell.number_format = number_format
        widths = spec.widths or [max(12, min(60, len(h) + 4)) for h in spec.headers]
        for i, width in enumerate(widths):
            ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = width
        ws.freeze_panes = "A2"
        if spec.rows:
            ws.auto_filter.ref = ws.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _target_sheet_rows(values: list[IndicatorValue], indicators: dict[str, Indicator]) -> list[list[object]]:
    rows = []
    for v in values:
        ind = indicators[v.indicator]
        rows.append([v.indicator, ind.name_vi, v.year, v.target, v.target_max,
                     QUALIFIER_VI.get(v.target_qualifier or "", v.target_qualifier), v.target_count, v.target_year,
                     v.numerator, v.denominator, v.value, verdict(v), v.status])
    return rows


TARGET_SHEET_HEADERS = ["Mã chỉ tiêu", "Chỉ tiêu", "Năm", "Kế hoạch (%)", "Kế hoạch tối đa (%)", "Mức áp dụng",
                        "Số đơn vị cần đạt", "Năm của mục tiêu", "Tử số", "Mẫu số", "Kết quả (%)", "Đánh giá",
                        "Trạng thái (mã)"]
TARGET_SHEET_FORMATS = [None, None, "0", DEC, DEC, None, INT, "0", "#,##0.##", "#,##0.##", DEC, None, None]
TARGET_SHEET_WIDTHS = [12, 60, 8, 12, 12, 12, 12, 12, 10, 10, 12, 14, 14]
PEOPLE_HEADERS = ["Số hoạt động", "Nam", "Nữ", "Tổng số người tham dự", "Tỷ lệ nữ (%)"]


def _people_cells(r: dict[str, Any]) -> list[object]:
    return [r["activities"], r["participants_male"], r["participants_female"], r["participants_total"],
            r.get("women_share")]


def city_report_xlsx(session: Session, year: int, unit_code: str | None = None) -> FileOut:
    """The tables of the city's annual report as an XLSX workbook (one sheet per table)."""
    f = city_figures(session, year, unit_code)
    inds = {i.code: i for i in f.indicators}
    c = f.completeness
    t = f.totals
    kinds = KIND_VI
    summary = Sheet("Tổng hợp", ["Nội dung", "Giá trị", "Tỷ lệ (%)"], [
        ["Năm báo cáo", year, None],
        ["Đơn vị phải báo cáo", c["obliged"], None],
        ["Đã gửi báo cáo", c["submitted"], c["completeness"]["value"]],
        ["Gửi đúng hạn", c["on_time"], c["timeliness"]["value"]],
        ["Gửi muộn", c["late"], _share(c["late"], c["obliged"])],
        ["Chưa gửi", c["missing"], _share(c["missing"], c["obliged"])],
        ["Số hoạt động truyền thông", t["activities"], None],
        ["Lượt người tham dự - nam", t["participants_male"], None],
        ["Lượt người tham dự - nữ", t["participants_female"], t.get("women_share")],
        ["Lượt người tham dự - tổng số", t["participants_total"], None],
        ["Tin, bài, lượt phát sóng, đăng tải", t["broadcasts"], None],
        ["Sản phẩm truyền thông", t["products"], None],
        ["Kinh phí (đồng)", t["cost_vnd"], None],
    ], [None, INT, DEC], [40, 18, 12])
    targets = Sheet("Chỉ tiêu", TARGET_SHEET_HEADERS,
                    _target_sheet_rows([f.values[i.code] for i in f.indicators if i.code in f.values], inds),
                    TARGET_SHEET_FORMATS, TARGET_SHEET_WIDTHS)
    completeness = Sheet(
        "Tình hình báo cáo",
        ["Mã đơn vị", "Đơn vị", "Loại đơn vị", "Tình trạng", "Đã gửi", "Ngày gửi lần đầu", "Đúng hạn",
         "Số ngày muộn"],
        [[r["unit_code"], r["unit_name"], kinds.get(r["unit_kind"], r["unit_kind"]),
          REPORT_STATUS_VI.get(r["status"], r["status"]), "Có" if r["submitted"] else "Không",
          _local_naive(r["first_submitted_at"]), None if r["on_time"] is None else ("Có" if r["on_time"] else "Không"),
          r["days_late"]] for r in c["units"]],
        [None, None, None, None, None, DATETIME, None, INT], [22, 45, 24, 22, 10, 18, 10, 12])
    by_unit = Sheet(
        "Theo đơn vị",
        ["Mã đơn vị", "Đơn vị", "Loại đơn vị", *PEOPLE_HEADERS, "Tin, bài, lượt phát sóng", "Sản phẩm",
         "Kinh phí (đồng)"],
        [[r["code"], r["name"], kinds.get(r["kind"], r["kind"]), *_people_cells(r), r["broadcasts"], r["products"],
          r["cost_vnd"]] for r in f.by_unit],
        [None, None, None, INT, INT, INT, INT, DEC, INT, INT, MONEY], [22, 45, 24, 12, 10, 10, 14, 10, 14, 10, 16])
    by_task = Sheet(
        "Theo nhóm nhiệm vụ", ["Mã nhóm", "Nhóm nhiệm vụ", *PEOPLE_HEADERS, "Kinh phí (đồng)"],
        [[r["code"], r["label"], *_people_cells(r), r["cost_vnd"]] for r in f.by_task_group],
        [None, None, INT, INT, INT, INT, DEC, MONEY], [10, 60, 12, 10, 10, 14, 10, 16])
    by_target = Sheet(
        "Theo nhóm đối tượng", ["Mã nhóm", "Nhóm đối tượng", *PEOPLE_HEADERS],
        [[r["code"], r["label"], *_people_cells(r)] for r in f.by_target_group],
        [None, None, INT, INT, INT, INT, DEC], [18, 50, 12, 10, 10, 14, 10])
    funding = Sheet(
        "Kinh phí", ["Mã nguồn", "Nguồn kinh phí", "Số hoạt động", "Kinh phí (đồng)"],
        [[r["code"] or "", r["label"], r["activities"], r["cost_vnd"]] for r in f.by_funding],
        [None, None, INT, MONEY], [20, 45, 12, 18])
    content = workbook([summary, targets, completeness, by_unit, by_task, by_target, funding],
                       f"Báo cáo BĐG năm {year}")
    scope = f" - {f.scope_code}" if f.scope_code else ""
    return FileOut(content, f"Phụ lục báo cáo BĐG năm {year}{scope}.xlsx", XLSX)


# --- period reviews ---------------------------------------------------------------------------------------------------

@dataclass
class ReviewFigures:
    """The figures of a period review, year by year."""

    kind: ReportKind
    plan: Plan
    years: list[int]
    scope_name: str
    scope_code: str | None
    indicators: list[Indicator]
    values: dict[str, list[IndicatorValue]]
    per_year: list[dict[str, Any]]
    funding: dict[int, dict[str | None, int]]
    sources: dict[str, str]
    action_month: dict[int, dict[str, Any] | None]
    completeness: dict[int, dict[str, Any]]


def review_years(session: Session, kind: ReportKind) -> tuple[Plan, list[int]]:
    """The years a review covers: the first phase for the mid-term review, the whole plan for the final one."""
    plan = _plan(session)
    if kind == ReportKind.final:
        return plan, list(range(plan.start_year, plan.end_year + 1))
    phases = session.exec(select(PlanPhase).where(PlanPhase.plan_id == plan.id, PlanPhase.end_year < plan.end_year)
                          .order_by(PlanPhase.start_year)).all()
    if not phases:
        raise NotFound(f"The plan {plan.code} has no phase before its end: it has no mid-term review.")
    return plan, list(range(phases[0].start_year, phases[0].end_year + 1))


def review_figures(session: Session, kind: ReportKind, unit_code: str | None = None) -> ReviewFigures:
    """Per year of the review's period: the targets, activities and participants, the Action Month, funding."""
    plan, years = review_years(session, kind)
    scope, root = _scope(session, unit_code)
    indicators = _indicators(session, plan)
    values: dict[str, list[IndicatorValue]] = defaultdict(list)
    for v in engine.compute(session, indicators=None, years=years, unit_code=unit_code):
        if v.unit is None:
            values[v.indicator].append(v)
    found = {r["year"]: r for r in statistics.compute(session, years=years, by=[], unit_code=unit_code)}
    per_year = [{"year": y, **{**_ZERO, **found.get(y, {})}} for y in years]
    funding: dict[int, dict[str | None, int]] = defaultdict(dict)
    for r in statistics.compute(session, years=years, by=["funding_source"], unit_code=unit_code):
        funding[r["year"]][r["funding_source"]] = int(r["cost_vnd"])
    return ReviewFigures(
        kind=kind, plan=plan, years=years, scope_name=_scope_phrase(root), scope_code=unit_code,
        indicators=indicators, values=dict(values), per_year=per_year, funding=dict(funding),
        sources=code_labels(session, "funding_source"),
        action_month={y: _action_month(session, y, scope.members) for y in years},
        completeness={y: obligations.completeness(session, y, within=scope.members) for y in years},
    )


def _review_title(f: ReviewFigures) -> str:
    first, last = f.years[0], f.years[-1]
    verb = "Sơ kết" if f.kind == ReportKind.midterm else "Tổng kết"
    return f"{verb} giai đoạn {first} - {last} thực hiện {PROGRAM} đến năm {f.plan.end_year} {f.scope_name}".strip()


def _funding_columns(f: ReviewFigures) -> list[tuple[str | None, str]]:
    columns: list[tuple[str | None, str]] = list(f.sources.items())
    others = sorted({s for by in f.funding.values() for s in by if s not in f.sources}, key=lambda s: (s is None,
                                                                                                        str(s)))
    return columns + [(s, UNSPECIFIED if s is None else s) for s in others]


def _action_month_row(year: int, board: dict[str, Any] | None) -> list[object]:
    if board is None:
        return [year, None, None, None, None, None]
    t = board["totals"]
    return [year, t["units"], t["units_with_plan"], t["units_with_plan_and_activities"], t["activities"],
            t["participants_total"]]


def review_docx(session: Session, kind: ReportKind, unit_code: str | None = None) -> FileOut:
    """The mid-term (2022–2025) or final (2022–2030) review as a DOCX: figures per year, headings for the text."""
    f = review_figures(session, kind, unit_code)
    settings = get_settings()
    title = _review_title(f)
    first, last = f.years[0], f.years[-1]
    doc = OfficialDocument(_lead_letterhead(calendar.local_today()), "Báo cáo", title,
                           to=[settings.document_city_report_to])
    doc.paragraph(f"Thực hiện {_plan_reference(f.plan)}; {settings.document_lead_body} tổng hợp, báo cáo "
                  f"{_lower_first(title)} như sau:")

    doc.part("I. Công tác lãnh đạo, chỉ đạo, tổ chức thực hiện")
    doc.placeholder()

    doc.part("II. Kết quả thực hiện các chỉ tiêu")
    for n, ind in enumerate(f.indicators, 1):
        rows = f.values.get(ind.code, [])
        doc.subheading(f"{n}. {indicator_label(ind)}: {ind.name_vi}")
        doc.table(["Năm", "Kế hoạch", "Kết quả", "Đánh giá"],
                  [[str(v.year), target_text(v, ind), result_text(v, ind), verdict(v)] for v in rows],
                  [2.0, 5.5, 5.5, 3.5], align=["center", "center", "center", "center"])

    doc.part("III. Kết quả thực hiện các nhiệm vụ")
    doc.subheading("1. Hoạt động truyền thông và người tham dự theo năm")
    rows: list[list[object]] = [[str(r["year"]), r["activities"], r["participants_male"], r["participants_female"],
                                 r["participants_total"], r["women_share"]] for r in f.per_year]
    total = {k: sum(r[k] for r in f.per_year) for k in ("activities", "participants_male", "participants_female",
                                                         "participants_total")}
    rows.append(["Cộng", total["activities"], total["participants_male"], total["participants_female"],
                 total["participants_total"], _share(total["participants_female"], total["participants_total"])])
    doc.table(["Năm", "Số hoạt động", "Nam", "Nữ", "Tổng số", "Tỷ lệ nữ (%)"], rows, [2.0, 3.0, 2.8, 2.8, 3.0, 2.9],
              align=["center", "right", "right", "right", "right", "right"], bold_rows={len(rows) - 1})
    doc.subheading("2. Hưởng ứng Tháng hành động vì bình đẳng giới và phòng ngừa, ứng phó với bạo lực trên cơ sở giới")
    doc.table(["Năm", "Số đơn vị", "Có kế hoạch", "Có kế hoạch và hoạt động", "Số hoạt động", "Người tham gia"],
              [[str(row[0]), *row[1:]] for row in (_action_month_row(y, f.action_month[y]) for y in f.years)],
              [2.0, 2.5, 2.5, 3.5, 2.8, 3.2], align=["center", "right", "right", "right", "right", "right"])
    doc.subheading("3. Tình hình gửi báo cáo năm")
    doc.table(["Năm", "Phải báo cáo", "Đã gửi", "Đúng hạn", "Muộn", "Chưa gửi", "Tỷ lệ đã gửi (%)"],
              [[str(y), c["obliged"], c["submitted"], c["on_time"], c["late"], c["missing"],
                c["completeness"]["value"]] for y, c in f.completeness.items()],
              [1.8, 2.5, 2.2, 2.2, 2.0, 2.2, 3.6], align=["center", *["right"] * 6])
    doc.subheading("4. Kinh phí thực hiện theo năm và nguồn (đồng)")
    columns = _funding_columns(f)
    rows = []
    for y in f.years:
        by = f.funding.get(y, {})
        rows.append([str(y), *(by.get(code, 0) for code, _ in columns), sum(by.values())])
    rows.append(["Cộng", *(sum(f.funding.get(y, {}).get(code, 0) for y in f.years) for code, _ in columns),
                 sum(sum(by.values()) for by in f.funding.values())])
    width = 14.5 / (len(columns) + 1)
    doc.table(["Năm", *(label for _, label in columns), "Tổng cộng"], rows, [2.0] + [width] * (len(columns) + 1),
              size=11, align=["center", *["right"] * (len(columns) + 1)], bold_rows={len(rows) - 1})

    doc.part("IV. Đánh giá chung")
    doc.subheading("1. Kết quả đạt được")
    doc.paragraph(f"Giai đoạn {first} - {last}, các cơ quan, đơn vị, địa phương đã tổ chức {fmt(total['activities'])} "
                  f"hoạt động truyền thông về bình đẳng giới với {fmt(total['participants_total'])} lượt người tham dự "
                  f"(nam: {fmt(total['participants_male'])}, nữ: {fmt(total['participants_female'])}).")
    for ind in f.indicators:
        latest = [v for v in f.values.get(ind.code, []) if v.value is not None]
        if latest:
            doc.paragraph(assessment_sentence(latest[-1], ind))
        else:
            doc.paragraph(f"{indicator_label(ind)}: chưa có số liệu trong giai đoạn {first} - {last}.")
    doc.placeholder()
    doc.subheading("2. Tồn tại, hạn chế và nguyên nhân")
    doc.placeholder()
    doc.subheading("3. Bài học kinh nghiệm")
    doc.placeholder()
    following = (f"giai đoạn {last + 1} - {f.plan.end_year}" if kind == ReportKind.midterm and last < f.plan.end_year
                 else "thời gian tới")
    doc.part(f"V. Phương hướng, nhiệm vụ {following}")
    doc.placeholder()
    doc.part("VI. Đề xuất, kiến nghị")
    doc.placeholder()
    doc.paragraph(f"Trên đây là báo cáo {_lower_first(title)}./.")
    _lead_signature(doc)
    verb = "Sơ kết" if kind == ReportKind.midterm else "Tổng kết"
    scope = f" - {unit_code}" if unit_code else ""
    return FileOut(doc.to_bytes(), f"{verb} BĐG {first}-{last}{scope}.docx", DOCX)


def review_xlsx(session: Session, kind: ReportKind, unit_code: str | None = None) -> FileOut:
    """The period review's tables as an XLSX workbook."""
    f = review_figures(session, kind, unit_code)
    inds = {i.code: i for i in f.indicators}
    targets = Sheet("Chỉ tiêu theo năm", TARGET_SHEET_HEADERS,
                    _target_sheet_rows([v for i in f.indicators for v in f.values.get(i.code, [])], inds),
                    TARGET_SHEET_FORMATS, TARGET_SHEET_WIDTHS)
    activities = Sheet("Hoạt động theo năm", ["Năm", *PEOPLE_HEADERS, "Tin, bài, lượt phát sóng", "Sản phẩm",
                                              "Kinh phí (đồng)"],
                       [[r["year"], *_people_cells(r), r["broadcasts"], r["products"], r["cost_vnd"]]
                        for r in f.per_year],
                       ["0", INT, INT, INT, INT, DEC, INT, INT, MONEY], [8, 12, 10, 10, 14, 10, 14, 10, 16])
    month = Sheet("Tháng hành động", ["Năm", "Số đơn vị", "Có kế hoạch", "Có kế hoạch và hoạt động", "Số hoạt động",
                                      "Người tham gia"],
                  [_action_month_row(y, f.action_month[y]) for y in f.years], ["0", INT, INT, INT, INT, INT],
                  [8, 12, 12, 16, 12, 14])
    reports = Sheet("Báo cáo năm", ["Năm", "Phải báo cáo", "Đã gửi", "Đúng hạn", "Muộn", "Chưa gửi",
                                    "Tỷ lệ đã gửi (%)", "Tỷ lệ đúng hạn (%)"],
                    [[y, c["obliged"], c["submitted"], c["on_time"], c["late"], c["missing"],
                      c["completeness"]["value"], c["timeliness"]["value"]] for y, c in f.completeness.items()],
                    ["0", INT, INT, INT, INT, INT, DEC, DEC], [8, 12, 10, 10, 10, 10, 14, 14])
    columns = _funding_columns(f)
    money_rows = [[y, *(f.funding.get(y, {}).get(code, 0) for code, _ in columns), sum(f.funding.get(y, {}).values())]
                  for y in f.years]
    funding = Sheet("Kinh phí", ["Năm", *(label for _, label in columns), "Tổng cộng (đồng)"], money_rows,
                    ["0", *[MONEY] * (len(columns) + 1)], [8, *[20] * (len(columns) + 1)])
    verb = "Sơ kết" if kind == ReportKind.midterm else "Tổng kết"
    content = workbook([targets, activities, month, reports, funding], _review_title(f))
    scope = f" - {unit_code}" if unit_code else ""
    return FileOut(content, f"Phụ lục {verb.lower()} BĐG {f.years[0]}-{f.years[-1]}{scope}.xlsx", XLSX)
