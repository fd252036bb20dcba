"""Bulk import of activities from CSV (UTF-8) or XLSX: every row checked, then all rows written or none."""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import insert
from sqlmodel import Session

from app.api.deps import Principal
from app.api.errors import AppError, Invalid, field_error
from app.models import Activity, ActivityProduct, ActivityTargetGroup, AuditEntry
from app.models.activity import ActivityCreate
from app.models.base import utcnow
from app.services.activities import CODE_FIELDS, SCALAR_FIELDS, Lookups, check, require_writer

# The columns of an import file, in the template's order.
COLUMNS = (
    "unit", "held_on", "ends_on", "title", "kind", "channel", "task_group", "campaign", "participants_male",
    "participants_female", "participants_total", "target_groups", "products", "broadcasts", "cost_vnd",
    "funding_source", "location", "description",
)
REQUIRED_COLUMNS = ("unit", "held_on", "title", "kind", "channel", "task_group")
EXAMPLE_ROW = {
    "unit": "p-song-cau", "held_on": "20/11/2025", "ends_on": "", "title": "Tuyên truyền Luật Bình đẳng giới "
    "tại tổ dân phố 3", "kind": "direct", "channel": "direct", "task_group": "1", "campaign": "action-month-2025",
    "participants_male": "25", "participants_female": "40", "participants_total": "65",
    "target_groups": "public;elderly", "products": "leaflet:200;poster:5", "broadcasts": "0",
    "cost_vnd": "1500000", "funding_source": "state_budget", "location": "Nhà văn hóa tổ 3",
    "description": "Phát tờ rơi và nói chuyện chuyên đề về phòng, chống bạo lực gia đình",
}
# A file's size is bounded by settings.max_upload_bytes; rows are bounded too, so that errors stay readable.
MAX_ROWS = 100_000
# At most this many errors are returned (their total is always given).
MAX_ERRORS = 1000
_INT_COLUMNS = ("participants_male", "participants_female", "participants_total", "broadcasts", "cost_vnd")
# Digits grouped by thousands ("1.500.000", "1,500,000", "1 500 000"), as people type amounts in Vietnam.
_GROUPED = re.compile(r"^\d{1,3}([., \u00a0])\d{3}(\1\d{3})*$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
# Input field (or the first part of a path) → the column that holds it.
_FIELD_COLUMN = {"campaign_id": "campaign"}


class ContentTooLarge(AppError):
    status, slug = 413, "content-too-large"


class UnsupportedFile(AppError):
    status, slug = 415, "unsupported-media-type"


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class Outcome:
    """What an import found and did."""

    rows: int = 0
    valid_rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)

    def body(self, dry_run: bool) -> dict[str, Any]:
        """The JSON answer (the first MAX_ERRORS errors, and their total)."""
        return {
            "dry_run": dry_run, "rows": self.rows, "valid_rows": self.valid_rows, "created": self.created,
            "error_count": len(self.errors),
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors[:MAX_ERRORS]],
        }


# --- reading the file ----------------------------------------------------------------------------------------------

def _file_error(message: str) -> Invalid:
    return Invalid(message, errors=[field_error(["body", "file"], message)])


def read_rows(content: bytes) -> list[list[Any]]:
    """The file's rows (header first) as lists of cell values; XLSX is recognised by its signature, else UTF-8 CSV."""
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content)
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile("Old Excel files (.xls) are not read: save the sheet as .xlsx or as CSV (UTF-8).")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedFile("The file is neither XLSX nor CSV in UTF-8: save it as CSV UTF-8 or as .xlsx.") from exc
    first_line = text.split("\n", 1)[0]
    # Excel saves CSV with ";" in locales whose decimal separator is a comma.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnsupportedFile("The file looks like XLSX but cannot be read as a workbook.") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for row in sheet.iter_rows(min_row=1, values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _header(cells: list[Any]) -> tuple[list[str], list[RowError]]:
    names = [_text(c).lower() for c in cells]
    while names and not names[-1]:
        names.pop()
    errors = []
    for i, name in enumerate(names):
        if not name:
            errors.append(RowError(1, f"column {i + 1}", "A column without a name in the header."))
        elif name not in COLUMNS:
            errors.append(RowError(1, name, f"Unknown column {name!r}; the columns are: {', '.join(COLUMNS)}."))
        elif names.index(name) != i:
            errors.append(RowError(1, name, f"The column {name!r} appears twice."))
    for name in REQUIRED_COLUMNS:
        if name not in names:
            errors.append(RowError(1, name, f"The required column {name!r} is missing."))
    return names, errors


# --- reading cells --------------------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _date(value: Any) -> date | None:
    """A cell as a date (an XLSX date, dd/mm/yyyy or yyyy-mm-dd); None when empty; ValueError when unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        if m := _DMY.match(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
            return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a day of the calendar.") from None
    raise ValueError(f"{text!r} is not a date: write dd/mm/yyyy or yyyy-mm-dd.")


def _int(value: Any) -> int | None:
    """A cell as a whole number (thousands may be grouped); None when empty; ValueError when not a whole number."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError(f"{value} is not a whole number.")
    text = _text(value)
    if not text:
        return None
    if _GROUPED.match(text):
        text = re.sub(r"[., \u00a0]", "", text)
    if not re.match(r"^-?\d+$", text):
        raise ValueError(f"{text!r} is not a whole number.")
    return int(text)


def _codes(value: Any) -> list[str]:
    return [part.strip() for part in _text(value).split(";") if part.strip()]


def _products(value: Any) -> list[dict[str, Any]]:
    products = []
    for part in _codes(value):
        code, sep, quantity = part.partition(":")
        if not sep or not code.strip():
            raise ValueError(f"{part!r}: write each product as code:quantity, separated by ';' (leaflet:200;poster:5).")
        try:
            number = _int(quantity)
        except ValueError as exc:
            raise ValueError(f"{part!r}: the quantity {quantity.strip()!r} is not a whole number.") from exc
        if number is None:
            raise ValueError(f"{part!r}: the quantity is missing (write code:quantity).")
        products.append({"code": code.strip(), "quantity": number})
    return products


# --- checking rows --------------------------------------------------------------------------------------------------

def _column_of(path: str | int) -> str:
    first = str(path).split(".")[0]
    return _FIELD_COLUMN.get(first, first)


@dataclass
class _Row:
    number: int
    unit_id: int
    values: dict[str, Any]


def _check_row(number: int, cells: dict[str, Any], lookups: Lookups, principal: Principal,
               errors: list[RowError]) -> _Row | None:
    """The row's activity when it is valid; otherwise its problems are added to `errors`."""
    found: list[RowError] = []
    data: dict[str, Any] = {}
    for name in COLUMNS:
        value = cells.get(name)
        if name in REQUIRED_COLUMNS and not _text(value):
            found.append(RowError(number, name, "This column needs a value."))
            continue
        try:
            if name in ("held_on", "ends_on"):
                data[name] = _date(value)
            elif name in _INT_COLUMNS:
                data[name] = _int(value)
            elif name == "target_groups":
                data[name] = [{"code": code} for code in _codes(value)]
            elif name == "products":
                data[name] = _products(value)
            else:
                data[name] = _text(value)
        except ValueError as exc:
            found.append(RowError(number, name, str(exc)))
    if found:
        errors.extend(found)
        return None

    campaign_code = data.pop("campaign")
    payload = {k: v for k, v in data.items() if v not in (None, "") or k in ("unit", "held_on", "title")}
    if campaign_code:
        campaign = lookups.campaign_by_code(campaign_code)
        if campaign is None:
            found.append(RowError(number, "campaign", f"No campaign with code {campaign_code!r}."))
        else:
            payload["campaign_id"] = campaign.id
    try:
        model = ActivityCreate.model_validate(payload)
    except ValidationError as exc:
        for e in exc.errors():
            loc = e["loc"]
            column = _column_of(loc[0]) if loc else "row"
            message = e["msg"] if column not in ("target_groups", "products") else f"{e['msg']} ({_where(loc)})"
            found.append(RowError(number, column, message))
        errors.extend(found)
        return None

    unit = lookups.unit(model.unit)
    if unit is None:
        found.append(RowError(number, "unit", f"No unit with code {model.unit!r}."))
    elif not principal.can_write_unit(unit.id):
        found.append(RowError(number, "unit", f"You may not record activities of the unit {unit.code}."))
    if found or unit is None:
        errors.extend(found)
        return None

    values = model.model_dump(exclude={"unit"})
    for path, message in check(values, unit, lookups, new_codes={*CODE_FIELDS, "target_groups", "products"}):
        found.append(RowError(number, _column_of(path), message))
    if found:
        errors.extend(found)
        return None
    return _Row(number, unit.id, values)


def _where(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


# --- the import -----------------------------------------------------------------------------------------------------

def run(session: Session, principal: Principal, content: bytes, *, dry_run: bool) -> Outcome:
    """Check every row of the file; unless `dry_run` or a row is wrong, write all its activities (one audit each)."""
    require_writer(principal)
    rows = read_rows(content)
    if not rows or not any(_text(c) for c in rows[0]):
        raise _file_error("The file is empty: the first row must name the columns.")
    if len(rows) > MAX_ROWS + 1:
        raise _file_error(f"The file has more than {MAX_ROWS} rows; split it.")
    names, header_errors = _header(rows[0])
    outcome = Outcome()
    if header_errors:
        outcome.errors = header_errors
        return outcome

    lookups = Lookups(session).preload()
    valid: list[_Row] = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(_text(c) for c in cells):
            continue  # blank lines between blocks of rows
        outcome.rows += 1
        extra = [i for i in range(len(names), len(cells)) if _text(cells[i])]
        if extra:
            outcome.errors.append(RowError(number, f"column {extra[0] + 1}", "A value outside the named columns."))
            continue
        row = _check_row(number, dict(zip(names, cells, strict=False)), lookups, principal, outcome.errors)
        if row is not None:
            valid.append(row)
    outcome.valid_rows = len(valid)
    if outcome.rows == 0 and not outcome.errors:
        outcome.errors.append(RowError(2, "row", "The file has a header but no activity rows."))
    if dry_run or outcome.errors:
        return outcome
    outcome.created = _write(session, principal, valid)
    return outcome


def _json_snapshot(values: dict[str, Any]) -> dict[str, Any]:
    """An activity's columns as `audit.snapshot` gives them (JSON-ready), from the values inserted."""
    out = {}
    for name in Activity.model_fields:
        value = values.get(name)
        out[name] = value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value
    return out


def _write(session: Session, principal: Principal, rows: list[_Row]) -> int:
    """Insert the activities, their target groups and products, and one audit entry each, in bulk statements."""
    now = utcnow()
    now_json = TypeAdapter(datetime).dump_python(now, mode="json")
    table = Activity.__table__
    records = [{"unit_id": row.unit_id, "created_by_id": principal.user_id, "created_at": now, "updated_at": now,
                "version": 1, **{k: row.values[k] for k in SCALAR_FIELDS}} for row in rows]
    # Rows come back in the order sent, so that each id meets its row.
    ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), records).scalars().all()
    groups, products, entries = [], [], []
    for activity_id, record, row in zip(ids, records, rows, strict=True):
        groups += [{"activity_id": activity_id, **g} for g in row.values["target_groups"]]
        products += [{"activity_id": activity_id, **p} for p in row.values["products"]]
        after = {**_json_snapshot({**record, "id": activity_id, "created_at": now_json, "updated_at": now_json}),
                 "target_groups": row.values["target_groups"], "products": row.values["products"]}
        entries.append({"at": now, "user_id": principal.user_id, "token_id": principal.token_id, "action": "import",
                        "resource_type": Activity.__tablename__, "resource_id": str(activity_id),
                        "unit_id": record["unit_id"], "before": None, "after": after, "request_id": None})
    if groups:
        session.execute(insert(ActivityTargetGroup.__table__), groups)
    if products:
        session.execute(insert(ActivityProduct.__table__), products)
    session.execute(insert(AuditEntry.__table__), entries)
    session.flush()
    return len(ids)


# --- the template ---------------------------------------------------------------------------------------------------

def template_csv() -> bytes:
    """The header row and an example line, as CSV in UTF-8 with a BOM (so that Excel reads Vietnamese right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE_ROW[c] for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(code_items: list[tuple[str, str, str, str]]) -> bytes:
    """The header row and an example line as a workbook, with a second sheet listing the codes (list, code, labels)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Hoạt động"
    sheet.append(list(COLUMNS))
    example = [EXAMPLE_ROW[c] for c in COLUMNS]
    for i, name in enumerate(COLUMNS):
        if name in _INT_COLUMNS:
            example[i] = int(example[i])
        elif name == "held_on":
            example[i] = date(2025, 11, 20)
    sheet.append(example)
    sheet.cell(row=2, column=COLUMNS.index("held_on") + 1).number_format = "DD/MM/YYYY"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, name in enumerate(COLUMNS):
        sheet.column_dimensions[cell_letter(i + 1)].width = max(12, len(name) + 2)
    codes = workbook.create_sheet("Danh mục mã")
    codes.append(["list", "code", "label_vi", "label_en"])
    for cell in codes[1]:
        cell.font = Font(bold=True)
    for item in code_items:
        codes.append(list(item))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cell_letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column index."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
