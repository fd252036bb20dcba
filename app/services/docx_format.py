"""Administrative documents in the format of Decree 30/2020/NĐ-CP, written with python-docx.

A4 portrait; margins 20/20/30/15 mm (top/bottom/left/right); Times New Roman; page numbers centred in the top
margin, none on page 1; the two-column header block (issuing body | national motto), the place and date line, the
title, "Kính gửi", the body, the signature block and "Nơi nhận".
"""

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

FONT = "Times New Roman"
MOTTO_TOP = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
_ALIGN = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
          "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}


@dataclass
class Letterhead:
    """Who issues the document, its number and where and when it is signed."""

    parent_body: str  # e.g. "UBND THÀNH PHỐ BẮC KẠN" (upper-cased when rendered; "" leaves the line out)
    body: str  # e.g. "PHÒNG LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI"
    number: str  # e.g. "Số: 125/BC-LĐTBXH" (the "Số:" is added when missing)
    place: str  # e.g. "TP. Bắc Kạn"
    on: date


@dataclass
class Signature:
    """The signature block: capacity lines (TM., KT., the title) and the signer's name."""

    lines: list[str]
    name: str = ""


@dataclass
class Recipients:
    """The "Nơi nhận" list, bottom left."""

    items: list[str] = field(default_factory=list)


def date_line(place: str, on: date) -> str:
    """`TP. Bắc Kạn, ngày 05 tháng 12 năm 2024`: leading zeros on day and month, as the decree asks."""
    return f"{place}, ngày {on.day:02d} tháng {on.month:02d} năm {on.year}"


def _fonts_of(rpr) -> None:
    """Times New Roman for every script of a run-properties element (theme fonts removed)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _set_font(run, size: float, *, bold: bool = False, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    _fonts_of(run._element.get_or_add_rPr())


# The paragraph properties that follow w:pBdr in the schema.
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
               "w:rPr", "w:sectPr", "w:pPrChange")


def _rule_under(container, width_cm: float, container_width_cm: float) -> None:
    """A short centred horizontal rule: a tiny empty paragraph whose bottom border is narrowed by indents."""
    paragraph = container.add_paragraph()
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(3)
    indent = max((container_width_cm - width_cm) / 2, 0)
    fmt.left_indent = fmt.right_indent = Cm(indent)
    _set_font(paragraph.add_run(""), 2)
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    # pBdr goes before the spacing, indents and alignment already set (schema order).
    ppr.insert_element_before(border, *_AFTER_PBDR)


def _widths(table, widths_cm: list[float]) -> None:
    """Column widths that both Word and LibreOffice honour (grid columns and every cell)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _row_flag(row, tag: str) -> None:
    """A row property without a value: `w:tblHeader` (repeat on each page), `w:cantSplit` (keep on one page)."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement(tag))


_TBL_PR_ORDER = ("tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
                 "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook",
                 "tblCaption", "tblDescription")


def _put_tbl_pr(table, element) -> None:
    """Add a table property in its schema position (Word refuses out-of-order properties)."""
    tbl_pr = table._tbl.tblPr
    name = element.tag.split("}")[1]
    old = tbl_pr.find(qn(f"w:{name}"))
    if old is not None:
        tbl_pr.remove(old)
    later = set(_TBL_PR_ORDER[_TBL_PR_ORDER.index(name) + 1:])
    for index, child in enumerate(tbl_pr):
        if child.tag.split("}")[1] in later:
            tbl_pr.insert(index, element)
            return
    tbl_pr.append(element)


def _no_cell_padding(table) -> None:
    """No left/right cell margins, so that a header line uses its column's full width."""
    margins = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), "0")
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    _put_tbl_pr(table, margins)


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    _put_tbl_pr(table, borders)


def _page_number_field(paragraph) -> None:
    run = paragraph.add_run()
    _set_font(run, 13)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


class OfficialDocument:
    """Builds one document: letterhead, title, body parts, tables, signature, recipients, annexes."""

    BODY_SIZE = 14
    KEEP_TOGETHER_ROWS = 15

    def __init__(self, letterhead: Letterhead, title: str, summary: str, to: list[str] | None = None):
        self.doc = Document()
        props = self.doc.core_properties
        props.title = f"{title} {summary}".strip()
        props.author = letterhead.body
        props.language = "vi-VN"
        props.created = props.modified = datetime.combine(letterhead.on, time(8), tzinfo=UTC)
        props.revision = 1
        props.last_modified_by = props.comments = props.keywords = props.subject = props.category = ""
        self._setup_page()
        self._styles()
        self._letterhead(letterhead)
        self._title(title, summary)
        if to:
            self._to(to)

    def _setup_page(self) -> None:
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
        section.header_distance = Mm(10)
        section.different_first_page_header_footer = True
        header = section.header.paragraphs[0]
        header.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _page_number_field(header)

    def _styles(self) -> None:
        # The document defaults too, so that every style (headers, tables) falls back on Times New Roman, and
        # Vietnamese as the proofing language.
        defaults = self.doc.styles.element.find(qn("w:docDefaults"))
        rpr_default = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _fonts_of(rpr_default)
        lang = rpr_default.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr_default.append(lang)
        lang.set(qn("w:val"), "vi-VN")
        ppr_default = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
        spacing = ppr_default.find(qn("w:spacing"))
        if spacing is not None:
            ppr_default.remove(spacing)
        for name in ("Normal", "Header", "Footer"):
            style = self.doc.styles[name]
            style.font.name = FONT
            _fonts_of(style.element.get_or_add_rPr())
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(self.BODY_SIZE)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.line_spacing = 1.0

    def _line(self, container, text: str, size: float, *, bold=False, italic=False,
              align=WD_ALIGN_PARAGRAPH.CENTER, space_before: float = 0):
        p = container.add_paragraph() if container is not None else self.doc.add_paragraph()
        p.alignment = align
        p.paragraph_format.space_before = Pt(space_before)
        p.paragraph_format.space_after = Pt(0)
        _set_font(p.add_run(text), size, bold=bold, italic=italic)
        return p

    def _letterhead(self, lh: Letterhead) -> None:
        table = self.doc.add_table(rows=1, cols=2)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _no_borders(table)
        _no_cell_padding(table)
        # The issuing body's column is as wide as "UBND THÀNH PHỐ BẮC KẠN" on one line; the motto's as the motto.
        widths = (7.3, 9.2)
        _widths(table, list(widths))
        left, right = table.rows[0].cells
        left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        if lh.parent_body:
            _set_font(left.paragraphs[0].add_run(lh.parent_body.upper()), 12)
            self._line(left, lh.body.upper(), 13, bold=True)
        else:
            _set_font(left.paragraphs[0].add_run(lh.body.upper()), 13, bold=True)
        _rule_under(left, 2.5, widths[0])
        number = lh.number if lh.number.lower().startswith("số") else f"Số: {lh.number}"
        self._line(left, number, 13, space_before=6)
        right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_font(right.paragraphs[0].add_run(MOTTO_TOP), 12, bold=True)
        self._line(right, MOTTO, 14, bold=True)
        _rule_under(right, 5.8, widths[1])
        self._line(right, date_line(lh.place, lh.on), 14, italic=True, space_before=6)

    def _title(self, title: str, summary: str) -> None:
        self._line(None, title.upper(), 14, bold=True, space_before=18)
        self._line(None, summary, 14, bold=True)
        self._line(None, "", 14)

    def _to(self, to: list[str]) -> None:
        if len(to) == 1:
            self._line(None, f"Kính gửi: {to[0]}", 14, space_before=6)
            return
        self._line(None, "Kính gửi:", 14, space_before=6)
        for item in to:
            self._line(None, f"- {item};", 14)

    def part(self, heading: str) -> None:
        """A part heading: `I. KẾT QUẢ …`, bold upper-case."""
        p = self._line(None, heading.upper(), self.BODY_SIZE, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                       space_before=6)
        p.paragraph_format.first_line_indent = Cm(1.27)
        p.paragraph_format.keep_with_next = True

    def subheading(self, text: str) -> None:
        """A numbered sub-heading (`1. …`), bold."""
        p = self._line(None, text, self.BODY_SIZE, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_before=3)
        p.paragraph_format.first_line_indent = Cm(1.27)
        p.paragraph_format.keep_with_next = True

    def paragraph(self, text: str, *, italic: bool = False) -> None:
        """Body text: justified, first-line indent 1.27 cm; each line of `text` is a paragraph."""
        for line in (text or "").splitlines() or [""]:
            if not line.strip():
                continue
            p = self._line(None, line.strip(), self.BODY_SIZE, italic=italic, align=WD_ALIGN_PARAGRAPH.JUSTIFY,
                           space_before=3)
            p.paragraph_format.first_line_indent = Cm(1.27)
            p.paragraph_format.line_spacing = 1.15

    def table(self, headers: list[str], rows: list[list[object]], widths_cm: list[float] | None = None,
              size: float = 12, *, align: list[str] | None = None, bold_rows: set[int] | None = None) -> None:
        """A bordered table with a bold header row repeated on each page; numbers right-aligned.

        `align` gives each column's alignment ("left", "center", "right"; default: numbers right, text left);
        `bold_rows` the indexes of rows set in bold (a total row).
        """
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        header = table.rows[0]
        _row_flag(header, "w:tblHeader")
        for cell, text in zip(header.cells, headers, strict=True):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _set_font(cell.paragraphs[0].add_run(text), size, bold=True)
        for index, row in enumerate(rows):
            added = table.add_row()
            _row_flag(added, "w:cantSplit")
            bold = bool(bold_rows and index in bold_rows)
            for column, (cell, value) in enumerate(zip(added.cells, row, strict=True)):
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                wanted = align[column] if align else ("right" if numeric else "left")
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                cell.paragraphs[0].alignment = _ALIGN[wanted]
                _set_font(cell.paragraphs[0].add_run(format_number(value)), size, bold=bold)
        if widths_cm:
            _widths(table, widths_cm)
        if len(rows) <= self.KEEP_TOGETHER_ROWS:
            # A short table stays on one page (with the heading kept with it).
            for row in table.rows[:-1]:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        paragraph.paragraph_format.keep_with_next = True
        self._line(None, "", 6)

    def note(self, text: str, *, align: str = "right") -> None:
        """A small italic line under a table or figure (source, unit of measure), or under an annex's title."""
        p = self._line(None, text, 12, italic=True, align=_ALIGN[align])
        p.paragraph_format.space_after = Pt(3)

    def placeholder(self, lines: int = 2) -> None:
        """Dotted lines where the drafting officer writes the narrative text in the word processor."""
        section = self.doc.sections[-1]
        width = section.page_width - section.left_margin - section.right_margin
        for _ in range(lines):
            # A dot-leader tab to the right margin: one full dotted line in every word processor.
            p = self._line(None, "\t", self.BODY_SIZE, align=WD_ALIGN_PARAGRAPH.LEFT, space_before=3)
            p.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)

    def signature(self, recipients: Recipients, signature: Signature) -> None:
        """"Nơi nhận" bottom left, the signature block on the right."""
        table = self.doc.add_table(rows=1, cols=2)
        _no_borders(table)
        _widths(table, [8.0, 8.5])
        left, right = table.rows[0].cells
        p = left.paragraphs[0]
        p.paragraph_format.space_before = Pt(12)
        _set_font(p.add_run("Nơi nhận:"), 12, bold=True, italic=True)
        for item in recipients.items:
            self._line(left, f"- {item}", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
        first = right.paragraphs[0]
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        first.paragraph_format.space_before = Pt(12)
        lines = signature.lines or [""]
        _set_font(first.add_run(lines[0].upper()), 14, bold=True)
        for line in lines[1:]:
            self._line(right, line.upper(), 14, bold=True)
        for _ in range(4):
            self._line(right, "", 14)
        if signature.name:
            self._line(right, signature.name, 14, bold=True)

    def annex(self, title: str, subtitle: str = "") -> None:
        """Start an annex on a new page."""
        self.doc.add_page_break()
        self._line(None, title.upper(), 14, bold=True)
        if subtitle:
            self._line(None, subtitle, 14, italic=True)
        self._line(None, "", 8)

    def to_bytes(self) -> bytes:
        """The document as .docx bytes."""
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


def format_number(value: object) -> str:
    """Vietnamese number format: `.` between thousands, `,` before decimals; None as an en dash."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Đạt" if value else "Không đạt"
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        text = f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        return text.removesuffix(",0")
    return str(value)
