"""Table planning: a form's layout table as a grid of slots with spans and merges, before any XML.

A table is planned first (`plan_table`: layout rows → grid slots with spans and merges); `word.measure`
sizes its columns from the plan and `word.build` turns each slot into cell XML. A plan is pure data,
so the grid logic is testable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.common.errors import UserError
from pipeline.definitions.forms import Form


@dataclass
class Slot:
    """One cell of the grid: what it holds, where it starts, how many columns it spans, its merge."""

    kind: str  # side, label, value, inline, text, outline, empty
    cell: object = None
    field: str | None = None
    vertical: bool = False
    col: int = 0
    span: int = 1
    vmerge: str | None = None  # restart / continue
    rowspan: int = 1


def row_slots(row: list) -> list[Slot]:
    """Given a layout row, return its slots before placement ("=field" gives a label and a value slot)."""
    slots = []
    for cell in row:
        if isinstance(cell, str):
            if cell.startswith("="):
                slots += [Slot("label", cell, cell[1:]), Slot("value", cell, cell[1:])]
            else:
                slots.append(Slot("text" if "{{" in cell else "label", cell) if cell else Slot("empty", cell))
            continue
        span, rowspan = int(cell.get("colspan", 1)), int(cell.get("rowspan", 1))
        if "label" in cell:
            slots.append(Slot("side", cell, vertical=bool(cell.get("vertical")), span=span, rowspan=rowspan))
        elif "field" in cell and cell.get("inline"):
            slots.append(Slot("inline", cell, cell["field"], span=span, rowspan=rowspan))
        elif "field" in cell:
            slots += [Slot("label", cell, cell["field"], vertical=bool(cell.get("vertical")), rowspan=rowspan),
                      Slot("value", cell, cell["field"], span=span, rowspan=rowspan)]
        elif "value" in cell:
            slots.append(Slot("value", cell, cell["value"], span=span, rowspan=rowspan))
        elif "text" in cell:
            slots.append(Slot("text", cell, span=span, rowspan=rowspan))
        elif "outline" in cell:
            slots.append(Slot("outline", cell, span=span))
        else:
            raise UserError(f"表单布局中的单元格无法识别：{cell}")
    return slots


def plan_table(table: dict) -> list[list[Slot]]:
    """Given a layout table, return its rows of placed slots: spans, vertical merges, stretched last cells.

    A table whose first column holds side labels (工业企业填写 …) lets a row outside them start with
    a cell two columns wide, so its first label is not squeezed into the side labels' narrow column.
    """
    cols = int(table["cols"])
    rows = table.get("rows") or []
    side_column = any(row and isinstance(row[0], dict) and "label" in row[0] and row[0].get("rowspan", 1) > 1
                      for row in rows)
    merges: list[list[int]] = []  # [col, span, rows left]
    planned = []
    for number, row in enumerate(rows, 1):
        slots = row_slots(row)
        covered = {m[0]: m[1] for m in merges}
        if side_column and 0 not in covered and slots and slots[0].kind != "side":
            if sum(s.span for s in slots) + sum(covered.values()) < cols:
                slots[0].span += 1
        placed, col = [], 0
        for slot in slots:
            while col in covered:
                placed.append(Slot("empty", col=col, span=covered[col], vmerge="continue"))
                col += covered.pop(col)
            slot.col = col
            if slot.rowspan > 1:
                slot.vmerge = "restart"
            placed.append(slot)
            col += slot.span
        for start in sorted(covered):
            placed.append(Slot("empty", col=start, span=covered[start], vmerge="continue"))
            col = max(col, start + covered[start])
        if col > cols:
            raise UserError(f"表单布局第 {number} 行需要 {col} 列，但表格只有 {cols} 列")
        last = next((s for s in reversed(placed) if s.vmerge != "continue"), None)
        if last is not None and col < cols and placed[-1] is last:
            last.span += cols - col
        merges = [[m[0], m[1], m[2] - 1] for m in merges if m[2] > 1]
        merges += [[s.col, s.span, s.rowspan - 1] for s in placed if s.vmerge == "restart"]
        planned.append(placed)
    return planned


def header_plan(table: dict) -> list[list[Slot]]:
    """Given a list table, return its header row and its body row as a plan: a label and a value per column."""
    return [[Slot("label", f"={fid}", fid, col=i) for i, fid in enumerate(table["header"])],
            [Slot("value", f"={fid}", fid, col=i) for i, fid in enumerate(table["header"])]]


def list_title(form: Form, table: dict) -> str | None:
    """Given a form and one of its list tables, return the title printed above it (the last before it), or None."""
    title = None
    for item in form.layout:
        if isinstance(item, dict) and item.get("table") is table:
            return title
        if isinstance(item, dict) and "title" in item:
            title = str(item["title"])
    return None
