"""Pagination: a list table's rows over pages, and the room a page leaves for them.

A list form (被访者信息登记表) prints as many rows as fit each page. The template knows the room
(`page_room`, measured at build time from what stands above and below the table) and `row_pages`
splits the rows at render time, each row measured as `word.measure` measures text. The spacing of
every item outside a table is the style table's (`word.styles`), the same `word.build` writes.
"""

from __future__ import annotations

import re

from pipeline.definitions.forms import Form
from pipeline.word.measure import lines_height, row_height, text_lines, wrap_label
from pipeline.word.plan import list_title
from pipeline.word.styles import PT_CM, STYLE

#: The room left unused on each page for what the estimate misses (cm): a row too many would push the
#: table onto a page of its own.
PAGE_SLACK = 0.6


def row_pages(rows, ids: list[str], widths: list[float], room: float, tail: float,
              size: float = STYLE.cell_size) -> list[list]:
    """Given a list form's rows, its columns, the room for rows on a page and what follows the last (cm),
    return the rows page by page: as many as fit each page, at least one page.

    The notes under the table go with the last rows: when they do not fit under them, the last row
    starts a page of its own with them.
    """
    pages: list[list] = [[]]
    used = 0.0
    for row in rows or ():
        height = row_height(row, ids, widths, size)
        if pages[-1] and used + height > room:
            pages.append([])
            used = 0.0
        pages[-1].append(row)
        used += height
    if len(pages[-1]) > 1 and used + tail > room:
        pages.append([pages[-1].pop()])
    return pages


def item_height(item, width: float) -> float:
    """Given a layout item outside a table and the printed width (cm), return its printed height (cm)."""
    if not isinstance(item, dict):
        return 0.0

    def lines(text: str, size: float, indent: float = 0) -> int:
        plain = re.sub(r"\{\{.*?\}\}", "0000", str(text))  # a tag prints a figure or a name
        return text_lines(plain, width - indent * size * PT_CM + STYLE.cell_pad, size)  # no cell padding outside tables

    line_em = STYLE.line_em
    if "title" in item:
        size = float(item.get("size", STYLE.title_size))
        points = (lines(item["title"], size) * size * line_em + float(item.get("before", 0))
                  + float(item.get("after", STYLE.title_after)))
    elif "subtitle" in item:
        points = STYLE.subtitle_size * line_em + (STYLE.subtitle_before + STYLE.subtitle_after)
    elif "para" in item:
        size = STYLE.para_size
        points = lines(item["para"], size, STYLE.para_indent) * size * line_em * STYLE.para_line
    elif "notes" in item:
        size = STYLE.note_size
        points = STYLE.note_before + sum(lines(note, size, STYLE.note_indent if i else 0)
                                         for i, note in enumerate(item["notes"])) * size * line_em * STYLE.note_line
    elif "sign" in item or "line" in item:
        points = (STYLE.para_size * line_em + float(item.get("before", STYLE.sign_before if "sign" in item else 0))
                  + STYLE.line_after)
    else:
        points = 0.0
    return points * PT_CM


def page_room(form: Form, table: dict, widths: list[float], labels: list[str]) -> tuple[float, float]:
    """Given a form, its list table, the column widths and header labels, return (room for rows on each page,
    height of what follows the table), in cm.

    A page holds what stands above the table on the first page (the title, a line) or the title with
    （续） on the others, then the header row, then rows.
    """
    printed = sum(widths)
    at = next(i for i, item in enumerate(form.layout) if isinstance(item, dict) and item.get("table") is table)
    above = sum(item_height(item, printed) for item in form.layout[:at])
    title = list_title(form, table)
    continued = item_height({"title": f"{title}（续）"}, printed) if title else 0.0
    size = float(table.get("size") or STYLE.cell_size)
    header = lines_height(max(wrap_label(label, w, size).count("\n") + 1 for label, w in zip(labels, widths)), size)
    room = STYLE.printed_height - max(above, continued) - header - PAGE_SLACK
    tail = STYLE.after_table * PT_CM + sum(item_height(item, printed) for item in form.layout[at + 1:])
    return round(room, 2), round(tail, 2)
