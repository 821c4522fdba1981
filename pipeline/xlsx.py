"""Workbooks for staff: values that can never become formulas, and a readable house style."""

from __future__ import annotations

import itertools
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.files import atomic_path
from pipeline.text import xml_safe_text

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Rows measured to fit column widths.
WIDTH_SAMPLE_ROWS = 500
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
STATUS_FILLS = {
    "complete": PatternFill("solid", fgColor="C6EFCE"),
    "incomplete": PatternFill("solid", fgColor="FFC7CE"),
    "error": PatternFill("solid", fgColor="FFC7CE"),
    "warning": PatternFill("solid", fgColor="FFEB9C"),
}


def cell_value(value):
    """Given any value, return what may be written to a cell: never a formula, no illegal characters.

    Lists are joined with '、', periods written 'start 至 end'. Text that starts like a formula
    (= + - @ tab CR) is kept as typed: `add_sheet` stores it as a string cell, never a formula.
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        value = "、".join(str(cell_value(v) or "") for v in value)
    elif isinstance(value, dict):
        value = " 至 ".join(str(v) for v in value.values())
    return xml_safe_text(str(value))


def _cell(sheet, value, fill=None):
    """Given a write-only sheet and a cell value, return what to append: the value, or a typed cell.

    Text that starts like a formula (= + - @ tab CR) becomes a string cell, never a formula.
    """
    if fill is None and not (isinstance(value, str) and value.startswith(_FORMULA_START)):
        return value
    cell = WriteOnlyCell(sheet, value)
    if isinstance(value, str):
        cell.data_type = "s"
    if fill is not None:
        cell.fill, cell.font = fill, Font(bold=True)
    return cell


def _width(value) -> int:
    """Given a cell value, return its display width (CJK characters count double)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value)[:60])


def add_sheet(workbook: Workbook, title: str, header: list[str], rows, widths: dict | None = None,
              fills: dict | None = None):
    """Given a workbook, a header and rows, add a sheet with a frozen bold header, filters and fitted widths.

    Rows may be any iterable: they stream to disk (write-only workbook), so memory stays flat
    however many there are. Widths are fitted to the first rows; `fills` maps a column number to
    {value: PatternFill} (status colours).
    """
    sheet = workbook.create_sheet(title=title[:31])
    rows = iter(rows)
    sample = [[cell_value(v) for v in row] for row in itertools.islice(rows, WIDTH_SAMPLE_ROWS)]
    longest = [_width(h) for h in header]
    for values in sample:
        for i, value in enumerate(values):
            if i >= len(longest):
                longest.append(0)
            if value is not None:
                longest[i] = max(longest[i], _width(value))
    for i, width in enumerate(longest, start=1):  # a write-only sheet takes widths before its first row
        sheet.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), (widths or {}).get(i, 60))
    sheet.freeze_panes = "A2"
    heading = []
    for value in (cell_value(h) for h in header):
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        heading.append(cell)
    sheet.append(heading)
    fills = fills or {}
    last = 1
    for last, values in enumerate(itertools.chain(sample, ([cell_value(v) for v in r] for r in rows)), start=2):
        sheet.append([_cell(sheet, v, fills.get(i, {}).get(v)) for i, v in enumerate(values, start=1)])
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last}"
    return sheet


def new_workbook() -> Workbook:
    """Return an empty write-only workbook: sheets are added with `add_sheet` and stream to disk."""
    return Workbook(write_only=True)


def save(workbook: Workbook, path: Path) -> None:
    """Given a workbook, save it atomically."""
    try:
        with atomic_path(Path(path)) as tmp:
            workbook.save(tmp)
    finally:  # a write-only sheet left open when saving fails would leak its temporary file
        for sheet in workbook.worksheets:
            if not sheet.closed:
                sheet.close()


def read_first_sheet(path: Path, what: str) -> list[tuple]:
    """Given a workbook staff prepared (名单, 获奖名单, 事实表) and what it is, return its first sheet's rows.

    Missing files and files that are not .xlsx workbooks become a Chinese UserError naming `what`.
    """
    from openpyxl import load_workbook

    from pipeline.errors import UserError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到{what}：{path}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UserError(f"{what} {path.name} 无法打开（应为 .xlsx 工作簿）：{exc}") from exc
    try:
        return list(book.worksheets[0].iter_rows(values_only=True)) if book.worksheets else []
    finally:
        book.close()
