"""A filled 申报条件自评表 → its values: each criterion's 自评 (符合/不符合/不适用) and 证明材料.

The checklist (pipeline.definitions.program_forms.checklist_form) is a table with a header row
(序号, 条件, 依据条款, 自评, 证明材料) and a row per criterion. A row is known by its condition's text,
else by its number, never by its place, so a row the applicant deleted or moved is read right; the
columns are the header's. A table after a page break without its own header continues with the
same columns. The applicant's name line above the table is read like any other form's field.
"""

from __future__ import annotations

from pipeline.common.text import clean, fold
from pipeline.reading.values import choice_value


def header_columns(row: list, columns: list[str]) -> dict[str, int] | None:
    """Given a table row and the checklist's printed column heads, return head → column, or None when not the header."""
    found = {}
    for cell in row:
        for head in columns:
            if fold(cell.text) == fold(head) and head not in found:
                found[head] = cell.col
    return found if len(found) >= 3 else None


def row_criterion(texts: dict[str, str], by_text: dict[str, str], by_number: dict[str, str], heads: list[str]):
    """Given a row's texts by column head, return the 自评 field id of its criterion, or None."""
    number_head, condition_head = heads[0], heads[1]
    return by_text.get(fold(texts.get(condition_head, ""))) or by_number.get(fold(texts.get(number_head, "")))


def extract_checklist(found, others) -> dict:
    """Given a found checklist and the values of its fields outside the table (the name line), return all its values."""
    form = found.form
    rows_of = form.get("criteria") or {}
    heads = list(form.get("columns") or ())
    self_head, evidence_head = heads[3], heads[4]
    by_text = {fold(form.fields[sid].label): sid for sid in rows_of}
    by_number = {str(info["row"]): sid for sid, info in rows_of.items()}
    values = dict(others)
    values.update({fid: None for sid, info in rows_of.items() for fid in (sid, info["evidence"])})
    columns = None
    for block in found.blocks:
        if block.kind != "table":
            continue
        body = block.rows
        for i, row in enumerate(block.rows[:3]):
            at = header_columns(row, heads)
            if at:
                columns, body = at, block.rows[i + 1:]
                break
        if columns is None:
            continue
        for row in body:
            by_col = {c.col: c.text for c in row}
            texts = {head: by_col.get(col, "") for head, col in columns.items()}
            sid = row_criterion(texts, by_text, by_number, heads)
            if sid is None:
                continue
            values[sid] = choice_value(form.fields[sid], texts.get(self_head))
            values[rows_of[sid]["evidence"]] = clean(texts.get(evidence_head))
    return values
