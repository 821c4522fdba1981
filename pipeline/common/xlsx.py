"""Workbooks for staff: values that can never become formulas, and a readable house style.

Sheets are written as SpreadsheetML straight into the zip, row by row. summary.xlsx of a
1000-submission campaign holds about a million cells; openpyxl, even write-only, spends 14 s on
them (11 µs a cell, building a Cell and an lxml element each), this writer about 1.5 s. Every
text is an inline string, so nothing typed (=, +, -, @ …) ever becomes a formula. Workbooks
are still read with openpyxl.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path

from pipeline.common.files import atomic_path
from pipeline.common.text import xml_safe_text, xml_safe_texts

#: Rows measured to fit column widths.
WIDTH_SAMPLE_ROWS = 500
#: Cell styles (index into styles.xml's cellXfs) by name; `fills` of add_sheet names them.
STYLES = {"plain": 0, "header": 1, "complete": 2, "incomplete": 3, "error": 3, "warning": 4, "quoted": 5,
          "date": 6, "datetime": 7}
#: Dates and times are stored as Excel serial numbers counted from this day (the 1900 system, past 1900-03-01).
_EPOCH = datetime(1899, 12, 30)
#: A text starting with one of these would become a formula if staff typed it into a cell again.
FORMULA_START = frozenset("=+-@\t\r")
#: Rows handed to the zip at a time: large enough that the zip's own overhead vanishes.
_CHUNK_ROWS = 2000
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
      'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")

_STYLES_XML = _HEAD + (
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font>'
    '<font><b/><sz val="11"/><name val="宋体"/><family val="3"/><charset val="134"/></font></fonts>'
    '<fills count="6"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    + "".join(f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/><bgColor indexed="64"/></patternFill></fill>'
              for rgb in ("DDEBF7", "C6EFCE", "FFC7CE", "FFEB9C"))
    + '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    # the plain cell wraps, so a value's line break ("\n": docs/RECORD.md) shows as one
    '<cellXfs count="8"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>'
    + "".join(f'<xf numFmtId="0" fontId="1" fillId="{fill}" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
              for fill in (3, 4, 5))
    # "quoted": text format and the quote prefix (Excel's leading '), so an edit keeps it text
    + '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" quotePrefix="1"/>'
    # "date" and "datetime": a real date (sortable, filterable), shown the way Chinese staff write it
    + '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    + '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    + '</cellXfs><cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def column_letter(number: int) -> str:
    """Given a column number from 1, return its letters (1 → 'A', 28 → 'AB'); openpyxl costs 0.2 s to import."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_value(value):
    """Given any value, return what may be written to a cell: never a formula, no illegal characters.

    Lists are joined with '、', periods written 'start 至 end'. Text that starts like a formula
    (= + - @ tab CR) is kept as typed: every text is written as a string, never a formula, and
    such a text also gets the "quoted" style (cell_xml).
    """
    if type(value) is str:  # nearly every cell: skip the checks below
        return xml_safe_text(value)
    if value is None or isinstance(value, (bool, int, float, date)):
        return value
    if isinstance(value, (list, tuple)):
        value = "、".join(str(cell_value(v) or "") for v in value)
    elif isinstance(value, dict):
        value = " 至 ".join(str(v) for v in value.values())
    return xml_safe_text(str(value))


def local(value: datetime) -> datetime:
    """Given a datetime, return it as the association's wall clock shows it (China Standard Time), naive:
    the database keeps UTC; staff read Beijing time."""
    if value.tzinfo is None:
        return value
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)


def date_serial(value: date) -> float | int:
    """Given a date or a datetime, return its Excel serial number (days since 1899-12-30, time as a fraction)."""
    if isinstance(value, datetime):
        delta = local(value) - _EPOCH
        return round(delta.days + delta.seconds / 86400, 8)
    return (value - _EPOCH.date()).days


_WIDE = re.compile("[\u2e81-\U0010ffff]")  # CJK and beyond: two columns wide


def _width(value) -> int:
    """Given a cell value, return its display width (CJK characters count double)."""
    text = str(value)[:60]
    return len(text) + len(_WIDE.findall(text))


def _text(value: str) -> str:
    """Given cell text, return it escaped for XML (carriage returns kept as references)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\r", "&#13;") if "\r" in value else value


def cell_xml(ref: str, value, style: int = 0) -> str:
    """Given a cell reference ('B7'), a cell value and a style index, return its <c> element ('' when empty)."""
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    if isinstance(value, date):
        kind = "datetime" if isinstance(value, datetime) else "date"
        return f'<c r="{ref}" s="{STYLES[kind]}"><v>{date_serial(value)!r}</v></c>'
    text = str(value)
    if not style and text[:1] in FORMULA_START:
        s = f' s="{STYLES["quoted"]}"'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_text(text)}</t></is></c>'


_TEXT_KINDS = {str, type(None)}
_COUNT_KINDS = {int, type(None)}


def rows_xml(rows: list[list], first: int, letters: list[str], styles: dict | None = None) -> str:
    """Given rows of cell values, the first row's number, column letters and {column index: {value: style}},
    return their <row> elements.

    Built a column at a time: a column of texts (nearly all of them) is made XML-safe and escaped
    in one pass over its joined text and laid out by one comprehension; cell by cell, that was
    most of the time of a million-cell sheet. Other columns go cell by cell.
    """
    numbers = [str(n) for n in range(first, first + len(rows))]
    columns = [column_cells(values, letters[i], numbers, (styles or {}).get(i))
               for i, values in enumerate(itertools.zip_longest(*rows))]
    return "".join(f'<row r="{n}">{"".join(cells)}</row>' for n, cells in zip(numbers, zip(*columns)))


def column_cells(values: tuple, letter: str, numbers: list[str], style_of: dict | None) -> list[str]:
    """Given one column's values in a run of rows, its letter, the row numbers and {value: style},
    return each row's <c> element ('' for an empty cell)."""
    kinds = set(map(type, values))
    if style_of is None and kinds <= _TEXT_KINDS:
        texts = [v for v in values if v]
        escaped = iter(_text("\0".join(xml_safe_texts(texts))).split("\0") if texts else ())
        quoted = f' s="{STYLES["quoted"]}"'
        return [(f'<c r="{letter}{n}"{quoted if v[0] in FORMULA_START else ""} t="inlineStr"><is>'
                 f'<t xml:space="preserve">{next(escaped)}</t></is></c>'
                 if v != v.strip() or v[0] in FORMULA_START
                 else f'<c r="{letter}{n}" t="inlineStr"><is><t>{next(escaped)}</t></is></c>')
                if v else "" for n, v in zip(numbers, values)]
    if style_of is None and kinds <= _COUNT_KINDS:  # counts, 序号
        return [f'<c r="{letter}{n}"><v>{v}</v></c>' if v is not None else "" for n, v in zip(numbers, values)]
    cells = []
    for n, value in zip(numbers, values):
        value = cell_value(value)
        cells.append(cell_xml(letter + n, value, style_of.get(value, 0) if style_of else 0))
    return cells


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


class Book:
    """A workbook being written: each sheet streams into a temporary zip; `save` adds the rest."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        # Level 1: a third of the time of the default level for files a few per cent larger.
        self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sheets: list[tuple[int, str, str]] = []  # (place among the tabs, title, filter range), as written
        self.open_part = None  # the part of the sheet being written, if any

    def write_parts(self) -> None:
        """Write the workbook, its styles and the package parts around the sheets, then close the zip."""
        n = len(self.sheets)
        tabs = sorted((place, number, title, ref) for number, (place, title, ref) in enumerate(self.sheets, start=1))
        sheets = "".join(f'<sheet name="{_text(t)}" sheetId="{i}" r:id="rId{i}"/>' for _, i, t, _ in tabs)
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">{_text(_quoted(t))}!{ref}</definedName>'
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{_text(_quoted(t))}!$1:$1</definedName>'
            for i, (_, _, t, ref) in enumerate(tabs) if ref)
        parts = {
            "[Content_Types].xml": _HEAD + (
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/xl/workbook.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                '<Override PartName="/xl/styles.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                          'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                          for i in range(1, n + 1))
                + "</Types>"),
            "_rels/.rels": _HEAD + (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                'officeDocument" Target="xl/workbook.xml"/></Relationships>'),
            "xl/_rels/workbook.xml.rels": _HEAD + (
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                          f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
                + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                  'relationships/styles" Target="styles.xml"/></Relationships>'),
            "xl/workbook.xml": _HEAD + (
                f'<workbook {_NS}><bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
                + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>"),
            "xl/styles.xml": _STYLES_XML,
        }
        for name, xml in parts.items():
            self._zip.writestr(name, xml)
        self._zip.close()

    def close(self) -> None:
        """Release the workbook's file: after `save`, or to drop it unsaved (a sheet may still be open)."""
        if self.open_part is not None:
            self.open_part.close()
        self._zip.close()
        self._file.close()


class Sheet:
    """A sheet being written: rows are added as they come, in any number of calls, then `close`.

    The first WIDTH_SAMPLE_ROWS rows are held back to fit the column widths, which the sheet's
    head must carry; after them every row goes straight into the file. Only one sheet of a book
    can be open at a time. `place` is its tab's position (0 first): a sheet written while others
    are still to come can stand after them.
    """

    def __init__(self, book: Book, title: str, header: list[str], widths: dict | None = None,
                 fills: dict | None = None, place: int | None = None):
        self.book, self.header, self.widths = book, header, widths
        self.title = _BAD_TITLE.sub("_", title).strip("'")[:31] or f"Sheet{len(book.sheets) + 1}"
        self.place = len(book.sheets) if place is None else place
        self.styles = {col - 1: {v: STYLES[name] for v, name in by_value.items()} for col, by_value in (fills or {}).items()}
        self.number = len(book.sheets) + 1
        self.part = book.open_part = book._zip.open(f"xl/worksheets/sheet{self.number}.xml", "w", force_zip64=True)
        self.sample: list[list] | None = []  # None once the head is written
        self.letters: list[str] = []
        self.last = 1  # the last row written

    def add(self, rows) -> None:
        """Given rows (lists of cell values), write them after the rows added before."""
        rows = iter(rows)
        if self.sample is not None:
            self.sample.extend([cell_value(v) for v in row]
                               for row in itertools.islice(rows, WIDTH_SAMPLE_ROWS - len(self.sample)))
            if len(self.sample) < WIDTH_SAMPLE_ROWS:
                return
            self._write_head()
        while chunk := list(itertools.islice(rows, _CHUNK_ROWS)):
            self._write_rows(chunk)

    def _write_head(self) -> None:
        longest = [_width(h) for h in self.header]
        for values in self.sample:
            for i, value in enumerate(values):
                if i >= len(longest):
                    longest.append(0)
                if value is not None:
                    longest[i] = max(longest[i], _width(value))
        self.letters = [column_letter(i) for i in range(1, max(len(longest), 1) + 1)]
        cols = "".join(f'<col min="{i}" max="{i}" width="{min(max(8, w + 2), (self.widths or {}).get(i, 60))}" customWidth="1"/>'
                       for i, w in enumerate(longest, start=1))
        selected = ' tabSelected="1"' if self.place == 0 else ""
        heading = "".join(cell_xml(f"{self.letters[i]}1", cell_value(h), STYLES["header"]) for i, h in enumerate(self.header))
        self.part.write((_HEAD + f'<worksheet {_NS}><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><sheetViews>'
                         f'<sheetView workbookViewId="0"{selected}>'
                         '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                         '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
                         f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}<sheetData>'
                         f'<row r="1">{heading}</row>').encode())
        sample, self.sample = self.sample, None
        for start in range(0, len(sample), _CHUNK_ROWS):
            self._write_rows(sample[start:start + _CHUNK_ROWS])

    def _write_rows(self, rows: list[list]) -> None:
        for values in rows:  # a row longer than the header gets letters as it needs them
            while len(self.letters) < len(values):
                self.letters.append(column_letter(len(self.letters) + 1))
        self.part.write(rows_xml(rows, self.last + 1, self.letters, self.styles).encode())
        self.last += len(rows)

    def close(self) -> str:
        """Finish the sheet (filters, print setup) and return its title."""
        if self.sample is not None:
            self._write_head()
        ref = f"$A$1:${self.letters[len(self.header) - 1]}${self.last}" if self.header else ""
        self.part.write(("</sheetData>" + (f'<autoFilter ref="{ref.replace("$", "")}"/>' if ref else "")
                         + '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
                         '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
                         "</worksheet>").encode())
        self.part.close()
        self.book.open_part = None
        self.book.sheets.append((self.place, self.title, ref))
        return self.title


def write_cells(sheet, rows) -> None:
    """Given an openpyxl worksheet and rows, append the rows by the rules of every workbook here: every text
    stays text (never a formula; one that starts like a formula gets the text format), dates as dates."""
    from openpyxl.styles import Alignment

    for row in rows:
        row = [cell_value(raw) for raw in row]
        sheet.append([None] * len(row))  # the row's place; each value is set below, by its kind
        n = sheet.max_row
        for col, value in enumerate(row, 1):
            if value is None or value == "":
                continue
            cell = sheet.cell(n, col)
            if isinstance(value, datetime):
                cell.value, cell.number_format = local(value), "yyyy-mm-dd hh:mm"
            elif isinstance(value, date):
                cell.value, cell.number_format = value, "yyyy-mm-dd"
            elif isinstance(value, str):
                # Assigned past `value`'s setter, which would make a text starting with "=" a formula.
                cell._value, cell.data_type = value, "s"
                if value[:1] in FORMULA_START:
                    cell.number_format, cell.quotePrefix = "@", True
            else:
                cell.value = value
            cell.alignment = Alignment(wrap_text=True)


def add_sheet(book: Book, title: str, header: list[str], rows, widths: dict | None = None,
              fills: dict | None = None, place: int | None = None) -> str:
    """Given a workbook, a header and rows, add a sheet with a frozen bold header, filters and fitted widths.

    Rows may be any iterable; they stream into the file, so memory stays flat however many there
    are. Widths are fitted to the first rows; `widths` caps them by column number. `fills` maps a
    column number to {value: a style name of STYLES} (status colours). The sheet prints on A4
    landscape, one page wide, the header repeated on every page. `place` puts its tab elsewhere
    than after those written before (see `Sheet`). Returns the sheet's title.
    """
    sheet = Sheet(book, title, header, widths, fills, place)
    sheet.add(rows)
    return sheet.close()


def new_workbook() -> Book:
    """Return an empty workbook: sheets are added with `add_sheet` and stream to a temporary file."""
    return Book()


def save(book: Book, path: Path) -> None:
    """Given a workbook, save it atomically at `path` (the workbook cannot be added to afterwards)."""
    try:
        book.write_parts()
        book._file.seek(0)
        with atomic_path(Path(path)) as tmp, open(tmp, "wb") as out:
            shutil.copyfileobj(book._file, out, 1 << 20)
    finally:
        book.close()


def read_first_sheet(path: Path, what: str) -> list[tuple]:
    """Given a workbook staff prepared (名单, 获奖名单, 事实表) and what it is, return its first sheet's rows.

    Missing files and files that are not .xlsx workbooks become a Chinese UserError naming `what`.
    """
    from openpyxl import load_workbook

    from pipeline.common.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到{what}：{path}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UserError(f"{what} {path.name} 无法打开（应为 .xlsx 工作簿，文件可能已损坏）；"
                        f"请用 Excel 或 WPS 打开后另存为 .xlsx 再试") from exc
    try:
        return list(book.worksheets[0].iter_rows(values_only=True)) if book.worksheets else []
    finally:
        book.close()
