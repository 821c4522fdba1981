"""PDF → Document with pdfplumber, in a forked child bounded in time and memory.

Per page, in top-to-bottom order: ruled tables (`page.find_tables()`) become table Blocks,
the text outside them becomes one paragraph Block per line. Table finding costs most of the
time, so each page's text is read first, and only a ruled page that names a form (or goes on
from one) is searched for tables: a 测评报告 or a licence is read as text alone. When pdfminer cannot read a file that pdfium can (a bad colour space …), its text
comes from pdfium. Merged cells are rebuilt from
cell rectangles: a cell spans every column and row boundary its rectangle covers, so a
packet exported to PDF by LibreOffice reads back with the grid of its .docx.
"""

from __future__ import annotations

import bisect
import functools
import re
from pathlib import Path

from pipeline.common.safety import LIMITS
from pipeline.common.text import fold
from pipeline.definitions.forms import load_forms
from pipeline.definitions.programs import all_programs
from pipeline.reading.grid import Block, Cell, Document
from pipeline.reading.readers import DAMAGED, Unreadable, normalise_ticks, read_bounded

#: Coordinates closer than this (points) are the same ruling line.
SNAP = 2.0


def read_pdf(path: Path, source: str, limits: dict = LIMITS) -> Document:
    """Given a PDF file, return its Document, parsed in a child process under the time/memory bounds; its pages
    without a text layer (a scan, or a stamped page scanned into a packet exported from Word) read by OCR."""
    pages = read_bounded(pdf_pages, (str(path), limits["pdf_pages"]), "PDF ",
                         seconds=limits["pdf_seconds"], memory=limits["pdf_memory"])
    scanned = [n for n, (blocks, pictured) in enumerate(pages) if pictured and not has_text(blocks)]
    if not any(has_text(blocks) for blocks, _ in pages):  # no text layer at all: a scan, read by OCR
        from pipeline.reading.readers.ocr import read_scanned_pdf

        return read_scanned_pdf(path, source, limits=limits)
    if scanned:
        from pipeline.reading.readers.ocr import read_pdf_pages

        return read_pdf_pages(path, source, [blocks for blocks, _ in pages], scanned, limits)
    return Document(source=source, blocks=[b for blocks, _ in pages for b in blocks], kind="pdf")


def has_text(blocks: list[Block]) -> bool:
    """Given a page's blocks, return whether any holds text (the page has a text layer)."""
    return any(b.text.strip() or b.rows for b in blocks)


def pdf_blocks(path: str, max_pages: int) -> list[Block]:
    """Given a PDF path, return its blocks, every page's in order (the text layer only)."""
    return [b for blocks, _ in pdf_pages(path, max_pages) for b in blocks]


def pdf_pages(path: str, max_pages: int) -> list[tuple[list[Block], bool]]:
    """Given a PDF path, return per page (its blocks, whether it shows a picture); meant to run inside
    `run_bounded`. A page with a picture and no text is a scan, for OCR."""
    import pdfplumber

    try:
        with pdfplumber.open(path) as pdf:
            if len(pdf.pages) > max_pages:
                raise Unreadable(f"PDF 页数过多（{len(pdf.pages)} 页，最多 {max_pages} 页），请只发送申报表格部分")
            out: list[tuple[list[Block], bool]] = []
            previous = False  # whether the page before was searched for tables: a form may go on over pages
            for page in pdf.pages:
                ruled = bool(page.lines or page.rects)
                # the characters alone, without laying out lines: cheap, and enough to spot a form's words
                previous = ruled and (previous or holds_form("".join(ch["text"] for ch in page.chars)))
                out.append((page_blocks(page) if previous else page_lines(page), bool(page.images)))
                page.flush_cache()
            return out
    except Unreadable:
        raise
    except Exception:  # noqa: BLE001 - pdfminer gave up: a second reader may still get the text
        return pdfium_pages(path, max_pages)


def page_lines(page) -> list[Block]:
    """Given a pdfplumber page, return its text lines as paragraph Blocks (no table finding)."""
    blocks = []
    for line in page.extract_text_lines(return_chars=False):
        text = normalise_ticks(line["text"]).strip()
        if text:
            blocks.append(Block("paragraph", text=text))
    return blocks


def holds_form(text: str) -> bool:
    """Given a page's text, return whether it may hold a form: a form's title, or three of one form's
    field labels. Loose on purpose: a page wrongly searched for tables costs time, not values."""
    titles, labels = form_words()
    text = _loose(fold(text))
    return any(title in text for title in titles) or any(sum(lb in text for lb in form) >= 3 for form in labels)


def _loose(text: str) -> str:
    return re.sub(r"[()（）\[\]【】]", "", text)


@functools.lru_cache(maxsize=1)
def form_words() -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Return the forms' titles (detect keys) and, per form, its field labels, folded and without brackets:
    the seed's forms and every program's, since a PDF is read before anyone knows whose packet it is."""
    forms = [*load_forms().values(), *(form for program in all_programs() for form in program.forms.values())]
    titles = tuple(_loose(fold(key)) for form in forms for key in form.detect)
    labels = tuple(tuple({_loose(fold(f.plain_label)) for f in form.fields.values()} - {""}) for form in forms)
    return titles, labels


def pdfium_pages(path: str, max_pages: int) -> list[tuple[list[Block], bool]]:
    """Given a PDF pdfminer could not read, return per page (its text lines as read by pdfium, whether it may
    show a picture) (Unreadable if pdfium cannot read it either)."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c

    try:
        pdf = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError:
        raise Unreadable(f"PDF 文件无法读取：{DAMAGED}") from None
    try:
        if len(pdf) > max_pages:
            raise Unreadable(f"PDF 页数过多（{len(pdf)} 页，最多 {max_pages} 页），请只发送申报表格部分")
        out = []
        for page in pdf:
            text = page.get_textpage().get_text_range()
            pictured = any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2))
            out.append(([Block("paragraph", text=line) for line in
                         (normalise_ticks(raw).strip() for raw in text.splitlines()) if line], pictured))
        return out
    finally:
        pdf.close()


def struck_chars(page) -> set[tuple]:
    """Given a pdfplumber page, return (x0, top, text) of each character a horizontal line strikes through:
    text shown as deleted (a tracked deletion a PDF was exported with) is not what the applicant wrote."""
    strokes = [(ln["x0"], ln["x1"], ln["top"]) for ln in page.lines if abs(ln["top"] - ln["bottom"]) < 0.5]
    strokes += [(r["x0"], r["x1"], (r["top"] + r["bottom"]) / 2) for r in page.rects if r["bottom"] - r["top"] < 1]
    if not strokes:
        return set()
    out = set()
    for ch in page.chars:
        height, middle = ch["bottom"] - ch["top"], (ch["x0"] + ch["x1"]) / 2
        # through the glyph's body: below its top fifth, above its bottom tenth (an underline lies below it)
        if any(x0 <= middle <= x1 and ch["top"] + 0.2 * height <= y <= ch["bottom"] - 0.1 * height
               for x0, x1, y in strokes if x1 - x0 < 0.8 * page.width):
            out.add((ch["x0"], ch["top"], ch["text"]))
    return out


def page_blocks(page) -> list[Block]:
    """Given a pdfplumber page, return its tables and the text lines outside them, top to bottom (struck-through
    characters left out)."""
    struck = struck_chars(page)
    if struck:
        page = page.filter(lambda obj: obj.get("object_type") != "char"
                           or (obj["x0"], obj["top"], obj["text"]) not in struck)
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
    and the line right below it are one paragraph wrapped (a value written on a line of its own,
    企业名称（公章）：…, that runs on to the next line), joined as a wrap joins: nothing next to Chinese."""
    if not lines:
        return []
    left, right = min(line["x0"] for line in lines), max(line["x1"] for line in lines)
    out: list[tuple[float, str]] = []
    previous = None
    for line in lines:
        text = line["text"].strip()
        if previous is not None and wraps(previous, line, left, right, table_tops):
            glue = "" if _CJK.match(out[-1][1][-1]) or _CJK.match(text[0]) else " "
            out[-1] = (out[-1][0], out[-1][1] + glue + text)
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


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


def cell_text(chars: list[dict], bbox: tuple) -> str:
    """Given a page's characters and a cell's rectangle, return the cell's text: the PDF's own spaces kept,
    no space made up from a gap between characters (the room a layout engine leaves between Chinese and
    Latin or digits is no typed space), a line the cell wrapped joined to the next, a paragraph break '\n'."""
    x0, top, x1, bottom = bbox
    inside = [c for c in chars if x0 <= (c["x0"] + c["x1"]) / 2 <= x1 and top <= (c["top"] + c["bottom"]) / 2 <= bottom]
    lines = text_lines(inside)
    if not lines:
        return ""
    printed = [line for line in lines if line[0]["text"].strip()] or lines
    left = min(line[0]["x0"] for line in printed)
    right = x1 - max(0.0, left - x0)  # the cell's text area: as much room on the right as on the left
    out = line_text(lines[0])
    for before, after in zip(lines, lines[1:]):
        out += line_glue(before, after, right) + line_text(after)
    return out


def text_lines(chars: list[dict]) -> list[list[dict]]:
    """Given a cell's characters, return its lines top to bottom, each left to right."""
    lines: list[list[dict]] = []
    for ch in sorted(chars, key=lambda c: (round(c["bottom"], 1), c["x0"])):
        size = ch["bottom"] - ch["top"]
        if lines and abs(lines[-1][-1]["bottom"] - ch["bottom"]) <= size * 0.3:
            lines[-1].append(ch)
        else:
            lines.append([ch])
    return [sorted(line, key=lambda c: c["x0"]) for line in lines]


def line_text(line: list[dict]) -> str:
    """Given a line's characters, return its text; a wide gap between two Latin characters with no space
    character in it (a PDF that positions words instead of writing spaces) reads as a space."""
    out = []
    line = [ch for ch, after in zip(line, [*line[1:], None]) if not _no_room(ch, after)]
    for before, ch in zip([None, *line], line):
        if (before is not None and not _CJK.match(before["text"]) and not _CJK.match(ch["text"])
                and before["text"].strip() and ch["text"].strip()
                and ch["x0"] - before["x1"] > 0.45 * (ch["bottom"] - ch["top"])):
            out.append(" ")
        out.append(ch["text"])
    return "".join(out).strip()


def _no_room(ch: dict, after: dict | None) -> bool:
    """Given a character and the one after it on its line, return whether it is a space that takes no room: the
    next glyph starts inside it, or at its very place (a second space there). Writer puts such spaces between
    the runs of tracked insertions; a typed space moves the next glyph past it."""
    if after is None or ch["text"] != " ":
        return False
    width = ch["x1"] - ch["x0"]
    return after["x0"] < ch["x1"] - 0.1 * width


def line_glue(line: list[dict], following: list[dict], right: float) -> str:
    """Given a cell's line, the next one and the right edge of the cell's text, return what joins them:
    '\n' when the line ended before the edge (a paragraph ends there), '' when the cell wrapped it next to a
    Chinese character or inside a word, ' ' when it wrapped at a space."""
    shown = [c for c in line if c["text"].strip()]
    nxt = [c for c in following if c["text"].strip()]
    if not shown or not nxt:
        return "\n"
    last, first = shown[-1], nxt[0]
    room = right - last["x1"]
    size = last["bottom"] - last["top"]
    if room >= first_word(nxt) + 0.4 * size:
        return "\n"  # the next word would have fitted: the line ended there
    if line[-1]["text"].isspace():
        return " "  # the PDF's own space at the end of the wrapped line: typed
    if _CJK.match(last["text"]) or _CJK.match(first["text"]):
        return ""  # Chinese takes no space at a wrap
    if last["text"] in _BREAK_AFTER:
        return ""  # Writer breaks after a hyphen or slash (0451-⏎87654321): nothing was typed there
    return " " if room >= (first["x1"] - first["x0"]) + 0.2 * size else ""  # wrapped at a space, or inside a word


#: Characters after which a line may break with no space typed: hyphens, dashes and the slash.
_BREAK_AFTER = frozenset("-‐‑–—/")
#: Characters a line may not end with (an opening bracket goes down with what follows it) and may not start with.
_NO_END = frozenset("（《“‘【「『〔(")
_NO_START = frozenset("，。、；：！？）》”’】」』〕,.;:!?)%％")


def first_word(chars: list[dict]) -> float:
    """Given a line's shown characters, return the width of what had to start it: a Latin word, or one
    Chinese character with the brackets before it and the punctuation after it (no line may start with ，)."""
    first = chars[0]
    end = first["x1"]
    latin = not _CJK.match(first["text"])
    for before, ch in zip(chars, chars[1:]):
        if ch["x0"] - before["x1"] > 0.1 * (ch["bottom"] - ch["top"]):
            break  # a gap: the word ended
        if latin and _CJK.match(ch["text"]) and ch["text"] not in _NO_START:
            break
        if not latin and before["text"] not in _NO_END and ch["text"] not in _NO_START:
            if before["text"] not in _NO_START or _CJK.match(ch["text"]):
                break
            latin = True  # '报，2016': Writer keeps digits right after the punctuation with it
        end = ch["x1"]
    return end - first["x0"]


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
    chars = table.page.chars
    rects: list[tuple[tuple, str]] = []
    for row in table.rows:
        for bbox in row.cells:
            if bbox is not None:
                rects.append((bbox, normalise_ticks(cell_text(chars, bbox))))
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
