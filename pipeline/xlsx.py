"""Workbooks for staff: values that can never become formulas, and a readable house style."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.files import atomic_path

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
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
    return _ILLEGAL.sub("", str(value))


def write_row(sheet, values) -> list:
    """Given a sheet and values, append them as one row; text cells are typed as strings, never formulas."""
    values = [cell_value(v) for v in values]
    sheet.append(values)
    for cell, value in zip(sheet[sheet.max_row], values):
        if isinstance(value, str):
            cell.data_type = "s"
    return values


def add_sheet(workbook: Workbook, title: str, header: list[str], rows, widths: dict | None = None):
    """Given a workbook, a header and rows, add a sheet with a frozen bold header, filters and fitted widths."""
    sheet = workbook.create_sheet(title=title[:31])
    write_row(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    longest = [len(str(h)) * 2 for h in header]
    for row in rows:
        values = write_row(sheet, row)
        for i, value in enumerate(values):
            if value is not None:
                width = sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value)[:60])
                longest[i] = max(longest[i], width)
    for i, width in enumerate(longest, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), (widths or {}).get(i, 60))
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(sheet.max_row, 1)}"
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
