"""Excel .xlsx → Document: per sheet, a paragraph with the sheet title, then its table.

openpyxl in normal mode (read-only mode cannot resolve merged ranges), with the bounds
checked before loading: declared part sizes (zipfile never inflates past them) and, per
sheet, the number of cells in the used range. openpyxl parses through defusedxml when it is
installed, which this project requires, so entity tricks in sheet XML are refused.
"""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile
from pathlib import Path

import openpyxl  # here, not in the child: every bounded child forked per workbook inherits it (0.2 s each)
from openpyxl.xml import DEFUSEDXML

from pipeline.common.safety import LIMITS, check_declared
from pipeline.common.sniff import BROKEN
from pipeline.reading.grid import Block, Cell, Document
from pipeline.reading.readers import DAMAGED, Rejected, Unreadable, normalise_ticks, read_bounded


def read_xlsx(path: Path, source: str, limits: dict = LIMITS) -> Document:
    """Given an .xlsx file, return one title paragraph and one table Block per non-empty sheet.

    openpyxl builds every cell in memory, so a workbook runs in a child bounded in time and
    memory, unless its parts are small enough to hold no more than a few thousand cells (a
    respondent list): starting a child then costs more than the reading.
    """
    size = declared_size(Path(path))
    blocks = read_bounded(xlsx_blocks, (Path(path), limits), "Excel 文件",
                          seconds=limits["xlsx_seconds"], memory=limits["xlsx_memory"],
                          inline=size is not None and size <= limits["xlsx_inline"])
    return Document(source=source, blocks=blocks, kind="xlsx")


def declared_size(path: Path) -> int | None:
    """Given an .xlsx, return the size its parts declare once inflated, or None when it is no readable zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            return sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None


def xlsx_blocks(path: Path, limits: dict = LIMITS) -> list[Block]:
    """Given an .xlsx path, return its blocks; meant to run inside `run_bounded`."""
    if not DEFUSEDXML:  # never parse strangers' XML with entity expansion on
        raise Unreadable("缺少 defusedxml，无法安全读取 Excel 文件")
    try:
        with zipfile.ZipFile(path) as zf:
            bomb = check_declared(zf.infolist(), limits)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Unreadable(BROKEN) from exc
    if bomb:
        raise Unreadable(bomb)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about every unsupported extension
            book = openpyxl.load_workbook(path, data_only=True, keep_links=False, keep_vba=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything from KeyError to EntitiesForbidden
        if _entities(exc):  # an entity declaration: an attack, not a quirk another program would forgive
            raise Unreadable("Excel 文件无法读取：XML 中含有实体声明（可能是恶意文件）") from exc
        # Other programs open many files openpyxl refuses (a SharedStrings.xml part, an empty s="").
        raise Rejected(f"Excel 文件无法读取：{DAMAGED}") from exc
    blocks: list[Block] = []
    try:
        for sheet in book.worksheets:
            rows = sheet_rows(sheet, limits)
            if rows is None:
                continue
            blocks.append(Block("paragraph", text=sheet.title))
            blocks.append(Block("table", rows=rows))
    finally:
        book.close()
    return blocks


def _entities(exc: BaseException | None) -> bool:
    """Given openpyxl's exception, return whether defusedxml refused an entity somewhere in its chain."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__module__.startswith("defusedxml"):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def sheet_rows(sheet, limits: dict = LIMITS) -> list[list[Cell]] | None:
    """Given a worksheet, return its used range as rows of Cells (merged ranges as one Cell), or None if empty.

    Only stored cells are visited (never the sheet's declared dimension, which a hostile file
    can set to a million rows); trailing empty rows and columns are trimmed.
    """
    values: dict[tuple[int, int], str] = {}
    for (r, c), cell in sheet._cells.items():  # sparse store: only cells present in the XML
        text = cell_text(cell)
        if text:
            values[(r, c)] = text
    if not values:
        return None
    top, left = 1, 1  # leading empty rows/columns stay, so positions match the sheet's
    ranges = [(g.min_row, g.min_col, g.max_row, g.max_col) for g in sheet.merged_cells.ranges]
    # A merged cell that holds a value belongs to the used range with its whole extent.
    bottom = max([r for r, _ in values] + [r1 for r0, c0, r1, _ in ranges if (r0, c0) in values])
    right = max([c for _, c in values] + [c1 for r0, c0, _, c1 in ranges if (r0, c0) in values])
    if (bottom - top + 1) * (right - left + 1) > limits["xlsx_cells"]:
        raise Unreadable(f"表格过大（工作表“{sheet.title}”超过 {limits['xlsx_cells']} 个单元格）")
    merges = {}
    covered = set()
    for r0, c0, r1, c1 in ranges:
        if r0 > bottom or c0 > right:
            continue
        r1, c1 = min(r1, bottom), min(c1, right)
        merges[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0))
    rows = []
    for r in range(top, bottom + 1):
        row = []
        for c in range(left, right + 1):
            if (r, c) in covered:
                continue
            rowspan, colspan = merges.get((r, c), (1, 1))
            row.append(Cell(values.get((r, c), ""), r - top, c - left, rowspan, colspan))
        rows.append(row)
    return rows


def cell_text(cell) -> str:
    """Given an openpyxl cell, return its value as the text a person sees ('12', '2017-05-09', '95.5%')."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, (int, float)):
        fmt = cell.number_format or ""
        if "%" in fmt:
            return number_text(value * 100) + "%"
        return number_text(value)
    return normalise_ticks(str(value)).strip()


def number_text(value: float | int) -> str:
    """Given a number, return it without float noise: 12.0 → '12', 0.1+0.2 → '0.3'."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    return str(value)
