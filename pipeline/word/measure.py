"""Measuring printed text: widths, label wrapping, column widths, line counts and row heights.

Every figure comes from the style table (`word.styles`) that the builders write, so a label measured
to fit its column is printed in the face, size and cell margins it was measured in. Widths are upper
bounds: what fits here fits in print.
"""

from __future__ import annotations

import re

from pipeline.definitions.forms import Form
from pipeline.word.plan import Slot
from pipeline.word.styles import PT_CM, STYLE

#: A run of more characters than this with no break in it is a phrase (企业用户满意工程推进情况统计),
#: not a word: it may wrap anywhere, and asks its column only for this many characters.
MAX_WORD = 10
#: Sample values a column must hold on one line: a phone with its area code, a date written out.
ONE_LINE = {"phone": "0451-87979096", "date": "2017年12月31日"}
#: Brackets as printed in a vertical label: the vertical forms, so （甲方） reads top to bottom.
VERTICAL_FORMS = str.maketrans({"（": "︵", "）": "︶", "(": "︵", ")": "︶", "、": "︑", "，": "︐"})
#: Field types printed as check boxes, and the box as printed (word.render.PRINTED_BOX) that each option follows.
BOX_TYPES = ("choice", "multi", "yesno")
BOX = "□"
_TOKEN = re.compile(r"[!-~]+|.")  # a run of Latin letters, digits and signs is one word (Writer breaks it whole)


# --- text and labels -----------------------------------------------------------------------------


def text_width(text: str, size: float) -> float:
    """Given one line of text and its size in points, return its printed width in cm (an upper bound)."""
    ems = 0.0
    for ch in text:
        if ch.isspace():
            ems += STYLE.em_space
        # ①, □, ■, ★ …: the Chinese faces print these symbols a full em wide, like a character.
        elif ord(ch) < 0x2E80 and not "\uff00" <= ch <= "\uffef" and not "\u2460" <= ch <= "\u27bf":
            ems += STYLE.em_latin
        else:
            ems += STYLE.em_wide
    return ems * size * PT_CM


def label_pieces(label: str) -> list[tuple[str, str]]:
    """Given a printed label, return its words as (what stands before it on a shared line, word).

    A line may break only between words: at a line break, after 、，；, before （, and at a space
    between two runs of two or more characters (全员劳产率 元／人); spaces that letter-space a
    label (通  信  地  址, 年 产 量) join, so those never break.
    """
    pieces: list[tuple[str, str]] = []
    for number, line in enumerate(str(label).split("\n")):
        runs = re.split(r"(\s+)", line.strip())  # text, space, text, …
        sep = "\n" if number else ""
        word = ""
        for i, run in enumerate(runs):
            if i % 2:  # a space: a break only between two longer runs
                if len(runs[i - 1]) >= 2 and i + 1 < len(runs) and len(runs[i + 1]) >= 2:
                    pieces.append((sep, word))
                    sep, word = run, ""
                else:
                    word += run
                continue
            for part in re.split(r"(?<=[、，；])|(?=[（(])", run):
                if not part:
                    continue
                if word and (part.startswith(("（", "(")) or word.endswith(("、", "，", "；"))):
                    pieces.append((sep, word))
                    sep, word = "", part
                else:
                    word += part
        if word:
            pieces.append((sep, word))
    return pieces


def label_words(label: str) -> list[str]:
    """Given a printed label, return its words: the pieces no line may break inside."""
    return [word for _, word in label_pieces(label)]


def wrap_label(label: str, width: float, size: float) -> str:
    """Given a label, its cell's width (cm) and size, return it with line breaks between words so each line fits."""
    room = width - STYLE.cell_pad
    lines: list[str] = []
    for sep, word in label_pieces(label):
        if lines and sep != "\n" and text_width(lines[-1] + sep + word, size) <= room:
            lines[-1] += sep + word
        else:
            lines.append(word)
    return "\n".join(lines)


def option_lines(options: list[str], width: float, size: float, gap: str = "  ") -> list[list[str]]:
    """Given check-box options, their cell's width (cm) and size, return them in lines: as many to a line as fit
    (each printed □ + option, `gap` between two), an option never split over two lines."""
    room = width - STYLE.cell_pad
    lines: list[list[str]] = []
    for option in map(str, options):
        line = lines[-1] if lines else None
        if line and text_width(gap.join(BOX + o for o in (*line, option)), size) <= room:
            line.append(option)
        else:
            lines.append([option])
    return lines


def vertical_lines(text: str, columns: int = 1) -> list[str]:
    """Given a side label, return its printed lines, top to bottom.

    One character per line; a long label, or one asked for in two columns, two per line in reading
    order (获地/区、/行业/优质/工程/情况), so the label reads right line by line and in the PDF's text.
    The seed's 获优/地质/区工… (read column by column) came out as 获优地质区工、程行情业况 when read
    across, as every reader of the text (and many people) reads it; it is not copied.
    Brackets turn to their vertical forms (︵甲方︶) in a one-column label.
    """
    chars = [c for c in str(text) if not c.isspace()]
    if columns < 2 and len(chars) <= STYLE.vertical_max:
        return [c.translate(VERTICAL_FORMS) for c in chars]
    return ["".join(chars[i:i + 2]) for i in range(0, len(chars), 2)]


# --- column widths -------------------------------------------------------------------------------


def min_widths(plan: list[list[Slot]], form: Form, cols: int, size: float) -> list[float]:
    """Given a planned table, return each column's least width (cm): its labels' longest word, its one-line values.

    A slot spanning several columns spreads what it lacks over them.
    """
    need = [2 * STYLE.cell_pad] * cols
    wants = []
    for row in plan:
        for slot in row:
            text = _slot_text(slot, form)
            if text is None:
                continue
            if slot.vertical:
                cell = slot.cell if isinstance(slot.cell, dict) else {}
                widest = max(len(line) for line in vertical_lines(text, int(cell.get("columns", 1))))
                wants.append((slot, widest * size * PT_CM * 1.1 + STYLE.cell_pad))
            elif slot.kind == "value":
                field = form.fields.get(slot.field)
                sample = ONE_LINE.get(field.format or field.type) if field else None
                if sample:
                    wants.append((slot, text_width(sample, size) + STYLE.cell_pad))
                elif field is not None and field.type in BOX_TYPES and field.options:
                    # Each option whole on a line: □不符合, never □不符 / 合.
                    widest = max(text_width(BOX + str(o), size) for o in field.options.values())
                    wants.append((slot, widest + STYLE.cell_pad))
            else:
                words = [w if len(w.replace(" ", "")) <= MAX_WORD else w.replace(" ", "")[:MAX_WORD]
                         for w in label_words(text)]
                wants.append((slot, max(text_width(w, size) for w in words) + STYLE.cell_pad))
    for slot, width in sorted(wants, key=lambda sw: sw[0].span):
        have = sum(need[slot.col: slot.col + slot.span])
        if width > have:
            for col in range(slot.col, slot.col + slot.span):
                need[col] += (width - have) / slot.span
    return need


def _slot_text(slot: Slot, form: Form) -> str | None:
    """Given a slot, return the label it prints (None for values without a one-line rule and for free text)."""
    cell = slot.cell if isinstance(slot.cell, dict) else {}
    if slot.kind == "value":
        return ""
    if slot.kind == "side" or (slot.kind == "label" and not slot.field):
        return str(cell.get("label") if cell else slot.cell)
    if slot.kind == "label":
        field = form.fields.get(slot.field)
        return field.label if field else None
    return None


def fitted_widths(base: list[float], need: list[float], label_cols: set[int], total: float) -> list[float]:
    """Given the layout's widths, each column's least width, the label columns and the printed width, return widths.

    Label columns keep the layout's width, widened to what their labels need; the value columns
    share the rest in the layout's proportions, each at least its own need (a phone on one line).
    When that does not fit, label columns give back what they hold beyond their need first.
    """
    base = [w * total / sum(base) for w in base]
    values = [i for i in range(len(base)) if i not in label_cols] or list(range(len(base)))
    widths = {i: max(need[i], base[i]) for i in range(len(base)) if i not in values}
    short = sum(need[i] for i in values) - (total - sum(widths.values()))
    surplus = sum(widths[i] - need[i] for i in widths)
    if short > 0 and surplus > 0:
        cut = min(1.0, short / surplus)
        widths = {i: w - (w - need[i]) * cut for i, w in widths.items()}
    for _ in range(len(base)):
        spare = total - sum(widths.values())
        weight = sum(base[i] for i in values) or 1.0
        share = {i: spare * base[i] / weight for i in values}
        narrow = [i for i in values if share[i] < need[i]]
        if not narrow or len(narrow) == len(values):
            widths.update(share if not narrow else {i: need[i] for i in values})
            break
        widths.update({i: need[i] for i in narrow})
        values = [i for i in values if i not in narrow]
    ordered = [widths[i] for i in range(len(base))]
    scale = total / sum(ordered)
    return [round(w * scale, 2) for w in ordered]


def label_columns(plan: list[list[Slot]]) -> set[int]:
    """Given a planned table, return the columns whose own cells (one column wide) are only labels."""
    labels, others = set(), set()
    for row in plan:
        for slot in row:
            if slot.kind in ("label", "side"):
                if slot.span == 1:  # a label across columns (outside the side labels) decides nothing
                    labels.add(slot.col)
            elif slot.kind != "empty" and slot.span == 1:
                others.add(slot.col)
    return labels - others


def table_widths(table: dict, form: Form | None = None, plan: list[list[Slot]] | None = None) -> list[float]:
    """Given a layout table (and its form and plan), return its column widths in cm, filling the printed width.

    With the plan, widths follow the content: a label column is as wide as its longest word, so
    labels never break inside one; the value columns share the rest in the layout's proportions.
    """
    cols = int(table["cols"])
    printed = STYLE.printed_width
    widths = [float(w) for w in table.get("widths") or []]
    if len(widths) != cols:
        widths = [1.0] * cols
    if form is None or plan is None:
        return [round(w * printed / sum(widths), 2) for w in widths]
    need = min_widths(plan, form, cols, float(table.get("size") or STYLE.cell_size))
    return fitted_widths(widths, need, label_columns(plan), printed)


# --- lines and rows ------------------------------------------------------------------------------


def text_lines(text: str, width: float, size: float) -> int:
    """Given a cell's text, its width (cm) and size, return the lines it prints in (an upper bound)."""
    room = width - STYLE.cell_pad
    count = 0
    for line in str(text).split("\n"):
        count, used = count + 1, 0.0
        for token in _TOKEN.findall(line):
            w = text_width(token, size)
            if used + w <= room:
                used += w
                continue
            if used:
                count, used = count + 1, 0.0
            while w > room:  # a word longer than the cell breaks inside
                count, w = count + 1, w - room
            used = w
    return count


def cell_text(value) -> str:
    """Given a row's value, return the text its cell prints."""
    return "" if value is None else str(value)


def row_height(row: dict, ids: list[str], widths: list[float], size: float) -> float:
    """Given a list row, its columns' field ids and widths (cm) and its size, return its printed height (cm)."""
    return lines_height(max((text_lines(cell_text((row or {}).get(fid)), w, size) for fid, w in zip(ids, widths)),
                            default=1), size)


def lines_height(lines: int, size: float) -> float:
    """Given the lines of a bordered row's tallest cell and its size, return the row's printed height (cm)."""
    line = STYLE.cell_line * size / STYLE.cell_size  # exact, as xml.cell_xml sets it
    return max(STYLE.row_height, lines * line * PT_CM) + STYLE.border_pt * PT_CM
