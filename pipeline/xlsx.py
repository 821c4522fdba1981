"""Workbooks for staff: values that can never become formulas, and a readable house style."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.files import atomic_path
from pipeline.text import xml_safe_text

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
    (= + - @ tab CR) is kept as typed: `write_row` stores every text as a string cell, never a formula.
    """
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        value = "、".join(str(cell_value(v) or "") for v in value)
    elif isinstance(value, dict):
        value = " 至 ".join(str(v) for v in value.values())
    return xml_safe_text(str(value))


def write_row(sheet, row: int, values) -> list:
    """Given a sheet, a row number and values, write them there; text cells are strings, never formulas."""
    values = [cell_value(v) for v in values]
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
    return values


def _width(value) -> int:
    """Given a cell value, return its display width (CJK characters count double)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value)[:60])


def add_sheet(workbook: Workbook, title: str, header: list[str], rows, widths: dict | None = None):
    """Given a workbook, a header and rows, add a sheet with a frozen bold header, filters and fitted widths.

    Rows may be any iterable (a generator streams); the time is linear in the cells written.
    """
    sheet = workbook.create_sheet(title=title[:31])
    write_row(sheet, 1, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    longest = [_width(h) for h in header]
    last = 1
    for last, row in enumerate(rows, start=2):
        values = write_row(sheet, last, row)
        if last > WIDTH_SAMPLE_ROWS:  # widths need only a sample; measuring every cell costs seconds
            continue
        for i, value in enumerate(values):
            if value is not None:
                if i >= len(longest):
                    longest.append(0)
                longest[i] = max(longest[i], _width(value))
    for i, width in enumerate(longest, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), (widths or {}).get(i, 60))
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{last}"
    return sheet


def new_workbook() -> Workbook:
    """Return an empty workbook (its default sheet removed)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def save(workbook: Workbook, path: Path) -> None:
    """Given a workbook, save it atomically."""
    with atomic_path(Path(path)) as tmp:
        workbook.save(tmp)


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
