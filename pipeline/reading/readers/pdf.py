"""PDF → Document with pdfplumber, in a forked child bounded in time and memory.

Per page, in top-to-bottom order: ruled tables (`page.find_tables()`) become table Blocks,
the text outside them becomes one paragraph Block per line. Merged cells are rebuilt from
cell rectangles: a cell spans every column and row boundary its rectangle covers, so a
packet exported to PDF by LibreOffice reads back with the grid of its .docx.
"""

from __future__ import annotations

import bisect
from pathlib import Path

from pipeline.common.safety import LIMITS
from pipeline.reading.grid import Block, Cell, Document
from pipeline.reading.readers import Unreadable, normalise_ticks, read_bounded

#: Coordinates closer than this (points) are the same ruling line.
SNAP = 2.0


def read_pdf(path: Path, source: str, limits: dict = LIMITS) -> Document:
    """Given a PDF file, return its Document, parsed in a child process under the time/memory bounds."""
    blocks = read_bounded(pdf_blocks, (str(path), limits["pdf_pages"]), "PDF ",
                          seconds=limits["pdf_seconds"], memory=limits["pdf_memory"])
    return Document(source=source, blocks=blocks, kind="pdf")


def pdf_blocks(path: str, max_pages: int) -> list[Block]:
    """Given a PDF path, return its blocks; meant to run inside `run_bounded`."""
    import pdfplumber

    blocks: list[Block] = []
    with pdfplumber.open(path) as pdf:
        if len(pdf.pages) > max_pages:
            raise Unreadable(f"PDF 页数过多（{len(pdf.pages)} 页，最多 {max_pages} 页）")
        for page in pdf.pages:
            blocks.extend(page_blocks(page))
            page.flush_cache()
    return blocks


def page_blocks(page) -> list[Block]:
    """Given a pdfplumber page, return its tables and the text lines outside them, top to bottom."""
    tables = page.find_tables()
    placed: list[tuple[float, int, Block]] = []
    for n, table in enumerate(tables):
        rows = table_cells(table)
        if rows:
            placed.append((table.bbox[1], n, Block("table", rows=rows)))
    boxes = [t.bbox for t in tables]

    def outside(obj) -> bool:
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

    rest = page.filter(outside) if boxes else page
    lines = [line for line in rest.extract_text_lines(return_chars=False) if line["text"].strip()]
    for top, text in paragraphs(lines, [t.bbox[1] for t in tables]):
        placed.append((top, len(tables), Block("paragraph", text=normalise_ticks(text))))
    placed.sort(key=lambda item: (item[0], item[1]))
    return [block for _, _, block in placed]


def paragraphs(lines: list[dict], table_tops: list[float]) -> list[tuple[float, str]]:
    """Given a page's text lines outside its tables (top to bottom) and where its tables start, return
    (top, text) per paragraph: a line that fills the text column from its left edge to its right one
    and the line right below it are one paragraph wrapped, joined by '\n' (a value written on a line
    of its own, 企业名称（公章）：…, that runs on to the next line)."""
    if not lines:
        return []
    left, right = min(line["x0"] for line in lines), max(line["x1"] for line in lines)
    out: list[tuple[float, str]] = []
    previous = None
    for line in lines:
        text = line["text"].strip()
        if previous is not None and wraps(previous, line, left, right, table_tops):
            out[-1] = (out[-1][0], out[-1][1] + "\n" + text)
        else:
            out.append((line["top"], text))
        previous = line
    return out


def wraps(line: dict, following: dict, left: float, right: float, table_tops: list[float]) -> bool:
    """Given a line, the next one and the text column's edges, return whether the next line continues it."""
    em = (line["x1"] - line["x0"]) / max(1, len(line["text"].strip()))  # about one character's width
    height = line["bottom"] - line["top"]
    full = line["x0"] <= left + 3 * em and line["x1"] >= right - 1.5 * em
    close = 0 <= following["top"] - line["bottom"] <= height
    return (full and close and following["x0"] <= line["x0"] + em
            and not any(line["bottom"] <= top <= following["top"] for top in table_tops))


def _snap(values: list[float]) -> list[float]:
    """Given coordinates, return the sorted distinct lines, values within SNAP merged."""
    lines: list[float] = []
    for v in sorted(values):
        if not lines or v - lines[-1] > SNAP:
            lines.append(v)
    return lines


def _index(lines: list[float], v: float) -> int:
    i = bisect.bisect_left(lines, v - SNAP)
    return min(i, len(lines) - 1)


def table_cells(table) -> list[list[Cell]]:
    """Given a pdfplumber Table, return rows of Cells with spans from the cell rectangles."""
    texts = table.extract()
    rects: list[tuple[tuple, str]] = []
    for row, row_texts in zip(table.rows, texts):
        for bbox, text in zip(row.cells, row_texts):
            if bbox is not None:
                rects.append((bbox, normalise_ticks(text or "")))
    if not rects:
        return []
    xs = _snap([b[0] for b, _ in rects] + [b[2] for b, _ in rects])
    ys = _snap([b[1] for b, _ in rects] + [b[3] for b, _ in rects])
    rows: list[list[Cell]] = [[] for _ in range(max(1, len(ys) - 1))]
    for (x0, top, x1, bottom), text in rects:
        c0, c1 = _index(xs, x0), _index(xs, x1)
        r0, r1 = _index(ys, top), _index(ys, bottom)
        if r0 >= len(rows):
            continue
        rows[r0].append(Cell(text, r0, c0, max(1, r1 - r0), max(1, c1 - c0)))
    for row in rows:
        row.sort(key=lambda cell: cell.col)
    return rows
