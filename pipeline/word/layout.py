"""Word templates built from a form's `layout` (forms/README.md): one .docx per form, docxtpl tags inside.

The builder writes plain WordprocessingML so every run carries its East-Asian font, side labels
are real vertical merges and the last cell of a row stretches to the table's width. Staff may
edit the generated files in Word; `manyi templates check` tells them when an edit broke a tag.

A table is planned first (`plan_table`: layout rows → grid slots with spans and merges), then
each slot becomes cell XML; a plan is pure data, so the grid logic is testable on its own.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm

from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path
from pipeline.definitions.forms import Form, load_forms
from pipeline.word import TEMPLATES_DIR

#: Every setting of the printed page, in one place.
DEFAULTS = {
    "page_width": 21.0, "page_height": 29.7,  # A4 portrait, cm
    "margin_top": 2.0, "margin_bottom": 1.8, "margin_left": 1.9, "margin_right": 1.9,
    "body_font": "宋体", "title_font": "黑体",
    # Chinese sizes: titles 小二 (18), subtitles 四号 (14), running text 小四 (12), tables and notes 五号 (10.5).
    "title_size": 18, "subtitle_size": 14, "para_size": 12, "cell_size": 10.5, "note_size": 10.5,
    "cell_line": 14,  # points, exact: the CJK faces' own line height is half as tall again as their size
    "row_height": 0.75,  # cm, minimum height of a bordered row: room to write by hand
    "border_size": 4,
    "line_pad": 4,  # characters of room right of a right-aligned `line` (承诺企业（盖章）：…), for the seal
    "vertical_max": 10,  # characters of a side label printed one per line; longer ones go two per line  # eighths of a point
    "cm": 567,  # twips per cm
}
#: The text above the report outline in 企业实施用户满意工程情况表 (seed, 附件1); {max_chars} from report.yaml.
BOX_TYPES = ("choice", "multi", "yesno")
#: The paragraph after a table: tiny, so a table that fills its page does not push an empty page.
AFTER_PT = 2
AFTER_TABLE = (f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="{AFTER_PT * 20}" w:lineRule="exact"/>'
               '<w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>')
#: The same paragraph starting a new page: between the pages of a list table (two tables never touch).
PAGE_AFTER_TABLE = AFTER_TABLE.replace("<w:pPr>", "<w:pPr><w:pageBreakBefore/>", 1)


#: The languages of every run, as Chinese Word writes them: Chinese (PRC) for East-Asian text (its glyph
#: forms: declared Japanese, LibreOffice prints the Japanese ones), English for digits and Latin letters
#: (declared Chinese, LibreOffice breaks a line inside a number: 20 / 17年).
LANGS = {"val": "en-US", "eastAsia": "zh-CN"}
LANG = f'<w:lang w:val="{LANGS["val"]}" w:eastAsia="{LANGS["eastAsia"]}"/>'


# --- runs and paragraphs -------------------------------------------------------------------------


def run_xml(text: str, font: str | None = None, size: float | None = None, bold: bool = False) -> str:
    """Given text and its font, return one w:r with East-Asian and Latin fonts set; '\\n' becomes a line break."""
    font = font or DEFAULTS["body_font"]
    half_points = round((size or DEFAULTS["cell_size"]) * 2)
    # Digits and Latin in the Chinese face, as Word prints 宋体 text.
    props = (f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}" w:hint="eastAsia"/>'
             + ("<w:b/><w:bCs/>" if bold else "")
             + f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>{LANG}')
    pieces = '<w:br/>'.join(f'<w:t xml:space="preserve">{escape(part)}</w:t>' for part in text.split("\n"))
    return f"<w:r><w:rPr>{props}</w:rPr>{pieces}</w:r>"


def para_xml(runs: str = "", align: str | None = None, before: float = 0, after: float = 0,
             indent_chars: int = 0, line: int | None = None, keep_next: bool = False,
             size: float | None = None, right_chars: float = 0) -> str:
    """Given runs XML and paragraph settings (spacing in points, indents in characters of `size`), return one w:p.

    Indents are written in twips as well as in characters: LibreOffice reads only the twips.
    """
    props = "<w:keepNext/>" if keep_next else ""
    line_attr = f' w:line="{line}" w:lineRule="auto"' if line else ""
    props += f'<w:spacing w:before="{round(before * 20)}" w:after="{round(after * 20)}"{line_attr}/>'
    char = (size or DEFAULTS["cell_size"]) * 20
    if indent_chars or right_chars:
        ind = f' w:firstLine="{round(indent_chars * char)}" w:firstLineChars="{round(indent_chars * 100)}"' if indent_chars else ""
        ind += f' w:right="{round(right_chars * char)}" w:rightChars="{round(right_chars * 100)}"' if right_chars else ""
        props += f"<w:ind{ind}/>"
    if align:
        props += f'<w:jc w:val="{align}"/>'
    return f"<w:p><w:pPr>{props}</w:pPr>{runs}</w:p>"


def text_paras(text: str, size: float | None = None, align: str | None = None, **kw) -> list[str]:
    """Given text with '\\n' between paragraphs, return one w:p per line."""
    return [para_xml(run_xml(line, size=size) if line else "", align=align, **kw) for line in str(text).split("\n")]


# --- field values as template tags ---------------------------------------------------------------


def option_tags(field) -> list[str]:
    """Given a choice/multi/yesno field, return '{{ box(…) }}option' per option, in form order."""
    tags = []
    for key, text in field.options.items():
        arg = {"yes": "true", "no": "false"}[key] if field.type == "yesno" else repr(str(key))
        tags.append(f"{{{{ box(v, '{field.id}', {arg}) }}}}{text}")
    return tags


def value_tag(field, form: Form, blank: str | None = None) -> str:
    """Given a field (and what to print when it is empty), return the tag that prints its value.

    A variable, numbered lines or check boxes; `blank` (年　　月　　日) stands in for an empty value.
    """
    if field.type in BOX_TYPES:
        return "  ".join(option_tags(field))
    if field.type == "list":
        return f"{{{{ numbered(v.{field.id}, {int(form.get('lines_per_category') or 1)}) }}}}"
    if blank:
        return f"{{% if v.{field.id} %}}{{{{ v.{field.id} }}}}{{% else %}}{blank}{{% endif %}}"
    return f"{{{{ v.{field.id} }}}}"


def printed_labels(form: Form) -> list[str]:
    """Given a form, return what its printed form must show: detect titles, field labels (options for bare fields)."""
    cells = [cell for cell in _layout_cells(form.layout) if isinstance(cell, dict) and cell.get("field")]
    bare = {cell["field"] for cell in cells if cell.get("bare")}
    # A vertical label in two columns prints its characters in another order (获优地质区工…).
    vertical = {cell["field"]: int(cell.get("columns", 1)) for cell in cells if cell.get("vertical")}
    lines = {item["line"] for item in form.layout if isinstance(item, dict) and item.get("line")}
    labels = list(form.detect)
    for field in form.fields.values():
        if field.slot and field.id not in lines:
            continue  # a date in another field's 年 月 日 slot: its label is not printed
        if field.id in bare:
            labels.extend(field.options.values())
        elif field.id in vertical:
            labels.append("".join(vertical_lines(field.label, vertical[field.id])))
        else:
            labels.append(field.label)
    return labels


def _layout_cells(layout: list):
    for item in layout:
        if isinstance(item, dict) and "table" in item:
            for row in item["table"].get("rows") or []:
                yield from row


# --- measuring printed text ------------------------------------------------------------------------

PT_CM = 2.54 / 72
#: Widths in em of what a cell prints (an upper bound for Noto Serif CJK SC, so what fits here fits there).
EM = {"wide": 1.0, "latin": 0.6, "space": 0.3}
#: Cell padding (w:tblCellMar, 57 twips a side) plus a safety margin, in cm.
CELL_PAD = 0.2 + 0.2
#: A run of more characters than this with no break in it is a phrase (企业用户满意工程推进情况统计),
#: not a word: it may wrap anywhere, and asks its column only for this many characters.
MAX_WORD = 10
#: Sample values a column must hold on one line: a phone with its area code, a date written out.
ONE_LINE = {"phone": "0451-87979096", "date": "2017年12月31日"}


def text_width(text: str, size: float) -> float:
    """Given one line of text and its size in points, return its printed width in cm (an upper bound)."""
    ems = 0.0
    for ch in text:
        if ch.isspace():
            ems += EM["space"]
        elif ord(ch) < 0x2E80 and not "\uff00" <= ch <= "\uffef":
            ems += EM["latin"]
        else:
            ems += EM["wide"]
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
    room = width - CELL_PAD
    lines: list[str] = []
    for sep, word in label_pieces(label):
        if lines and sep != "\n" and text_width(lines[-1] + sep + word, size) <= room:
            lines[-1] += sep + word
        else:
            lines.append(word)
    return "\n".join(lines)


def min_widths(plan: list[list[Slot]], form: Form, cols: int, size: float) -> list[float]:
    """Given a planned table, return each column's least width (cm): its labels' longest word, its one-line values.

    A slot spanning several columns spreads what it lacks over them.
    """
    need = [2 * CELL_PAD] * cols
    wants = []
    for row in plan:
        for slot in row:
            text = _slot_text(slot, form)
            if text is None:
                continue
            if slot.vertical:
                cell = slot.cell if isinstance(slot.cell, dict) else {}
                widest = max(len(line) for line in vertical_lines(text, int(cell.get("columns", 1))))
                wants.append((slot, widest * size * PT_CM * 1.1 + CELL_PAD))
            elif slot.kind == "value":
                field = form.fields.get(slot.field)
                sample = ONE_LINE.get(field.format or field.type) if field else None
                if sample:
                    wants.append((slot, text_width(sample, size) + CELL_PAD))
            else:
                words = [w if len(w.replace(" ", "")) <= MAX_WORD else w.replace(" ", "")[:MAX_WORD]
                         for w in label_words(text)]
                wants.append((slot, max(text_width(w, size) for w in words) + CELL_PAD))
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


# --- table planning ------------------------------------------------------------------------------


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


# --- cells and tables ----------------------------------------------------------------------------


def _twips(cm: float) -> int:
    return round(cm * DEFAULTS["cm"])


def slot_paras(slot: Slot, form: Form, forms: dict, width: float = 0.0) -> list[str]:
    """Given a placed slot (and its cell's width in cm), return the paragraphs of its cell.

    A label wider than its cell is broken between words (wrap_label), never inside one.
    """
    cell = slot.cell if isinstance(slot.cell, dict) else {}
    field = form.fields.get(slot.field) if slot.field else None
    if slot.field and field is None:
        raise UserError(f"表单 {form.key} 的布局引用了未定义的字段 {slot.field}")
    if slot.kind == "empty":
        return [para_xml()]
    if slot.kind == "side" or (slot.kind == "label" and not field):
        text = cell.get("label") if cell else slot.cell
        return vertical_paras(text, int(cell.get("columns", 1))) if slot.vertical else label_paras(text, width)
    if slot.kind == "label":
        if slot.vertical:
            return vertical_paras(field.label, int(cell.get("columns", 1)))
        return label_paras(field.label, width)
    if slot.kind == "value":
        return value_paras(field, form, cell)
    if slot.kind == "inline":
        return inline_paras(field, form, cell)
    if slot.kind == "text":
        return text_paras(cell.get("text", "") if cell else slot.cell)
    if slot.kind == "outline":
        return outline_paras(forms[cell["outline"]])
    raise AssertionError(slot.kind)


def label_paras(text: str, width: float) -> list[str]:
    """Given a label and its cell's width (cm; 0 when unknown), return one centred paragraph, broken between words."""
    if width:
        text = wrap_label(str(text), width, DEFAULTS["cell_size"])
    return [para_xml(run_xml(str(text)), align="center")]


#: Brackets as printed in a vertical label: the vertical forms, so （甲方） reads top to bottom.
VERTICAL_FORMS = str.maketrans({"（": "︵", "）": "︶", "(": "︵", ")": "︶", "、": "︑", "，": "︐"})


def vertical_lines(text: str, columns: int = 1) -> list[str]:
    """Given a side label, return its printed lines, top to bottom.

    One character per line; a long label, or one asked for in two columns, two per line read
    column by column, as the seed prints 获优/地质/区工/、程/行情/业况 for 获地区、行业优质工程情况.
    Brackets turn to their vertical forms (︵甲方︶) in a one-column label.
    """
    chars = [c for c in str(text) if not c.isspace()]
    if columns < 2 and len(chars) <= DEFAULTS["vertical_max"]:
        return [c.translate(VERTICAL_FORMS) for c in chars]
    rows = -(-len(chars) // 2)
    return [chars[i] + (chars[i + rows] if i + rows < len(chars) else "") for i in range(rows)]


def vertical_paras(text: str, columns: int = 1) -> list[str]:
    """Given a side label (and its columns), return one centred paragraph printing it top to bottom."""
    return [para_xml(run_xml("\n".join(vertical_lines(text, columns))), align="center")]


def value_paras(field, form: Form, cell: dict) -> list[str]:
    """Given a field, return its value cell: one tag, or its check boxes (one per line when stacked)."""
    if field.type in BOX_TYPES and cell.get("stacked"):
        return [para_xml(run_xml(tag)) for tag in option_tags(field)]
    return [para_xml(run_xml(value_tag(field, form, cell.get("blank"))))]


def inline_paras(field, form: Form, cell: dict) -> list[str]:
    """Given an inline field, return 'label：value' (or bare check boxes), its hint and its footer lines."""
    if cell.get("bare"):
        return [para_xml(run_xml(value_tag(field, form), size=float(cell.get("size") or DEFAULTS["para_size"])),
                         align="center")]
    if field.type in BOX_TYPES and cell.get("stacked"):
        paras = [para_xml(run_xml(f"{field.label}："))] + value_paras(field, form, cell)
    else:
        paras = [para_xml(run_xml(f"{field.label}：{value_tag(field, form)}"))]
    if cell.get("hint"):
        paras += text_paras(cell["hint"])
    footer = str(cell.get("footer") or "").split("\n") if cell.get("footer") else []
    if footer:
        used = 0.6 * (len(paras) + len(footer)) + 0.4
        gap = max(0.0, float(cell.get("height", 0)) - used) * 28.35  # cm → points
        # Trailing spaces vanish at a right margin: the room right of 年 月 日 is an indent.
        paras += [para_xml(run_xml(line.rstrip()), align="right", before=gap if i == 0 else 0, right_chars=2)
                  for i, line in enumerate(footer)]
    return paras


def outline_lines(report: Form) -> list[str]:
    """Given the report form, return the printed outline: '1、企业概貌（300字）；' … '4、主要成果与展望（400字）。'."""
    outline = report.get("outline") or []
    tops = [item for item in outline if "." not in str(item["num"])]
    lines = []
    for item in outline:
        num, title = str(item["num"]), item["title"]
        if "." in num:
            note = f"（{item['note']}）" if item.get("note") else ""
            lines.append(f"   {num}{title}{note}")
            continue
        low, high = (item.get("guide") or [0, 0])
        words = f"（{high}字）" if not low else f"（{low}-{high}字）"
        end = "。" if item is tops[-1] else ("" if low else "；")
        lines.append(f"{num}、{title}{words if high else ''}{end}")
    return lines


def outline_paras(report: Form) -> list[str]:
    """Given the report form, return the 情况介绍 paragraphs and its outline."""
    intro = report.get("intro") or ()
    max_chars = report.get("max_chars")
    lines = [line.format(max_chars=max_chars) for line in intro] + outline_lines(report)
    return [para_xml(run_xml(line), line=300) for line in lines]


_NO_LINE = re.compile(r'<w:spacing ((?:(?!w:line)[^>])*)/>')


def cell_xml(slot: Slot, widths: list[float], paras: list[str], borders: bool, valign: str) -> str:
    """Given a placed slot, the grid widths and its paragraphs, return one w:tc.

    Paragraphs without a line spacing of their own get an exact one, so rows are as tall as their text.
    """
    width = sum(widths[slot.col: slot.col + slot.span])
    line = f'w:line="{round(DEFAULTS["cell_line"] * 20)}" w:lineRule="exact"'
    paras = [_NO_LINE.sub(lambda m: f"<w:spacing {m.group(1).strip()} {line}/>", para) for para in paras]
    props = f'<w:tcW w:w="{_twips(width)}" w:type="dxa"/>'
    if slot.span > 1:
        props += f'<w:gridSpan w:val="{slot.span}"/>'
    if slot.vmerge == "restart":
        props += '<w:vMerge w:val="restart"/>'
    elif slot.vmerge == "continue":
        props += "<w:vMerge/>"
    if not borders and slot.kind == "value":
        props += f'<w:tcBorders><w:bottom w:val="single" w:sz="{DEFAULTS["border_size"]}" w:space="0" w:color="auto"/></w:tcBorders>'
    props += f'<w:vAlign w:val="{valign}"/>'
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{''.join(paras) or para_xml()}</w:tc>"


def row_xml(cells: str, height: float | None, header: bool = False) -> str:
    """Given cells XML and a minimum height (cm), return one w:tr that never splits across pages."""
    props = "<w:cantSplit/>"
    if height:
        props += f'<w:trHeight w:val="{_twips(height)}" w:hRule="atLeast"/>'
    if header:
        props += "<w:tblHeader/>"
    return f"<w:tr><w:trPr>{props}</w:trPr>{cells}</w:tr>"


def table_props(widths: list[float], borders: bool) -> str:
    """Given column widths and whether to draw borders, return w:tblPr and w:tblGrid."""
    size = DEFAULTS["border_size"]
    edges = ("top", "left", "bottom", "right", "insideH", "insideV")
    if borders:
        lines = "".join(f'<w:{e} w:val="single" w:sz="{size}" w:space="0" w:color="auto"/>' for e in edges)
    else:
        lines = "".join(f'<w:{e} w:val="nil"/>' for e in edges)
    pr = (f'<w:tblPr><w:tblW w:w="{_twips(sum(widths))}" w:type="dxa"/><w:jc w:val="center"/>'
          f'<w:tblBorders>{lines}</w:tblBorders><w:tblLayout w:type="fixed"/>'
          '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
          '<w:tblLook w:val="0000"/></w:tblPr>')
    grid = "".join(f'<w:gridCol w:w="{_twips(w)}"/>' for w in widths)
    return f"{pr}<w:tblGrid>{grid}</w:tblGrid>"


def table_widths(table: dict, form: Form | None = None, plan: list[list[Slot]] | None = None) -> list[float]:
    """Given a layout table (and its form and plan), return its column widths in cm, filling the printed width.

    With the plan, widths follow the content: a label column is as wide as its longest word, so
    labels never break inside one; the value columns share the rest in the layout's proportions.
    """
    cols = int(table["cols"])
    printed = DEFAULTS["page_width"] - DEFAULTS["margin_left"] - DEFAULTS["margin_right"]
    widths = [float(w) for w in table.get("widths") or []]
    if len(widths) != cols:
        widths = [1.0] * cols
    if form is None or plan is None:
        return [round(w * printed / sum(widths), 2) for w in widths]
    need = min_widths(plan, form, cols, float(table.get("size") or DEFAULTS["cell_size"]))
    return fitted_widths(widths, need, label_columns(plan), printed)


def table_xml(table: dict, form: Form, forms: dict) -> str:
    """Given a layout table (not a list table: list_table_xml), return the w:tbl of its planned grid."""
    borders = table.get("borders", True)
    plan = plan_table(table)
    widths = table_widths(table, form, plan) if borders else table_widths(table)
    rows = []
    for slots in plan:
        heights = [float(s.cell.get("height")) for s in slots if isinstance(s.cell, dict) and s.cell.get("height")]
        tall = bool(heights)
        cells = "".join(
            cell_xml(s, widths, slot_paras(s, form, forms, sum(widths[s.col: s.col + s.span])), borders,
                     "top" if tall and s.kind in ("inline", "text", "outline") else "center")
            for s in slots)
        plain = float(table.get("row_height") or (DEFAULTS["row_height"] if borders else 1.0))
        rows.append(row_xml(cells, max(heights) if heights else plain))
    return sized(f"<w:tbl>{table_props(widths, borders)}{''.join(rows)}</w:tbl>", table.get("size"))


def sized(xml: str, size: float | None) -> str:
    """Given a table's XML and its own text size (points; None for the default 五号), return it in that size.

    A dense form (the enterprise 申请表's 47 fields on one page) sets its table in 小五 (9 pt).
    """
    if not size:
        return xml
    default, half = round(DEFAULTS["cell_size"] * 2), round(float(size) * 2)
    line = round(DEFAULTS["cell_line"] * 20)
    xml = xml.replace(f'<w:sz w:val="{default}"/><w:szCs w:val="{default}"/>', f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>')
    return xml.replace(f'w:line="{line}" w:lineRule="exact"',
                       f'w:line="{round(line * float(size) / DEFAULTS["cell_size"])}" w:lineRule="exact"')


def header_plan(table: dict) -> list[list[Slot]]:
    """Given a list table, return its header row and its body row as a plan: a label and a value per column."""
    return [[Slot("label", f"={fid}", fid, col=i) for i, fid in enumerate(table["header"])],
            [Slot("value", f"={fid}", fid, col=i) for i, fid in enumerate(table["header"])]]


def list_table_xml(table: dict, form: Form, widths: list[float]) -> list[str]:
    """Given a list table (`header:` field ids), return its pages: a table of the rows that fit each page.

    `row_pages` splits the rows at render time (as many as fit, measured like the labels). Every
    page's table starts with the header row; a page after the first starts on a new page with the
    form's title and （续） above it, both header rows too, so a row added in Word that pushes a
    table onto another page brings them along.
    """
    ids = table["header"]
    missing = [fid for fid in ids if fid not in form.fields]
    if missing:
        raise UserError(f"表单 {form.key} 的表头引用了未定义的字段：{'、'.join(missing)}")

    def one_row(texts: list[str], **kw) -> str:
        slots = [Slot("label", col=i) for i in range(len(texts))]
        cells = "".join(cell_xml(s, widths, label_paras(t, widths[s.col] if "{{" not in t else 0), True, "center")
                        for s, t in zip(slots, texts))
        return row_xml(cells, DEFAULTS["row_height"], **kw)

    def tag_row(tag: str) -> str:
        cell = cell_xml(Slot("text", span=len(ids)), widths, [para_xml(run_xml(tag))], True, "center")
        return row_xml(cell, None)

    title = list_title(form, table)
    labels = [form.fields[fid].label for fid in ids]
    rows = [one_row(labels, header=True), tag_row("{%tr for r in page %}"),
            one_row([f"{{{{ r.{fid} }}}}" for fid in ids]), tag_row("{%tr endfor %}")]
    if title:  # its bottom edge is the table's top line
        banner = banner_row(title_para(f"{title}（续）"), widths, header=True, edges=("top", "left", "right"))
        rows[:0] = [tag_row("{%tr if not loop.first %}"), banner, tag_row("{%tr endif %}")]
    room, tail = page_room(form, table, widths, labels)
    pages = (f"{{%p for page in row_pages(rows, {list(ids)!r}, {widths!r}, {room}, {tail}, "
             f"{float(table.get('size') or DEFAULTS['cell_size'])}) %}}")
    return [para_xml(run_xml(pages)), para_xml(run_xml("{%p if not loop.first %}")), PAGE_AFTER_TABLE,
            para_xml(run_xml("{%p endif %}")), f"<w:tbl>{table_props(widths, True)}{''.join(rows)}</w:tbl>",
            para_xml(run_xml("{%p endfor %}"))]


def list_title(form: Form, table: dict) -> str | None:
    """Given a form and one of its list tables, return the title printed above it (the last before it), or None."""
    title = None
    for item in form.layout:
        if isinstance(item, dict) and item.get("table") is table:
            return title
        if isinstance(item, dict) and "title" in item:
            title = str(item["title"])
    return None


def title_para(text: str, size: float | None = None, before: float = 0, after: float = 10) -> str:
    """Given a title's text (and its size and spacing in points), return its centred paragraph (黑体, bold)."""
    return para_xml(run_xml(text, DEFAULTS["title_font"], size or DEFAULTS["title_size"], bold=True),
                    align="center", before=before, after=after, keep_next=True)


def banner_row(paragraph: str, widths: list[float], header: bool = False,
               edges: tuple[str, ...] = ("top", "left", "bottom", "right")) -> str:
    """Given a paragraph, the grid widths and the edges to leave undrawn, return a row of one cell across the table.

    A title inside a table (a continuation's, repeated on each page) keeps its own spacing: cell_xml's
    exact line would cut a 小二 title.
    """
    nil = "".join(f'<w:{e} w:val="nil"/>' for e in edges)
    cell = (f'<w:tc><w:tcPr><w:tcW w:w="{_twips(sum(widths))}" w:type="dxa"/><w:gridSpan w:val="{len(widths)}"/>'
            f'<w:tcBorders>{nil}</w:tcBorders></w:tcPr>{paragraph}</w:tc>')
    return row_xml(cell, None, header=header)


# --- the pages of a list table -------------------------------------------------------------------

#: A paragraph's line in the CJK faces, in em of its size (Noto CJK: ascent 1.16 + descent 0.288).
LINE_EM = 1.45
#: What one drawn border adds to a row (points), and the room left unused on each page for what the
#: estimate misses (cm): a row too many would push the table onto a page of its own.
BORDER_PT, PAGE_SLACK = 0.5, 0.6
_TOKEN = re.compile(r"[!-~]+|.")  # a run of Latin letters, digits and signs is one word (Writer breaks it whole)


def text_lines(text: str, width: float, size: float) -> int:
    """Given a cell's text, its width (cm) and size, return the lines it prints in (an upper bound)."""
    room = width - CELL_PAD
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
    line = DEFAULTS["cell_line"] * size / DEFAULTS["cell_size"]  # exact, as cell_xml sets it
    return max(DEFAULTS["row_height"], lines * line * PT_CM) + BORDER_PT * PT_CM


def row_pages(rows, ids: list[str], widths: list[float], room: float, tail: float,
              size: float = DEFAULTS["cell_size"]) -> list[list]:
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
        return text_lines(plain, width - indent * size * PT_CM + CELL_PAD, size)  # no cell padding outside tables

    if "title" in item:
        size = float(item.get("size", DEFAULTS["title_size"]))
        points = lines(item["title"], size) * size * LINE_EM + float(item.get("before", 0)) + float(item.get("after", 10))
    elif "subtitle" in item:
        points = DEFAULTS["subtitle_size"] * LINE_EM + 18
    elif "para" in item:
        size = DEFAULTS["para_size"]
        points = lines(item["para"], size, 2) * size * LINE_EM * 1.5
    elif "notes" in item:
        size = DEFAULTS["note_size"]
        points = 6 + sum(lines(note, size, 2 if i else 0) for i, note in enumerate(item["notes"])) * size * LINE_EM * 1.25
    elif "sign" in item or "line" in item:
        points = DEFAULTS["para_size"] * LINE_EM + float(item.get("before", 30 if "sign" in item else 0)) + 6
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
    size = float(table.get("size") or DEFAULTS["cell_size"])
    header = lines_height(max(wrap_label(label, w, size).count("\n") + 1 for label, w in zip(labels, widths)), size)
    body = DEFAULTS["page_height"] - DEFAULTS["margin_top"] - DEFAULTS["margin_bottom"]
    room = body - max(above, continued) - header - PAGE_SLACK
    tail = AFTER_PT * PT_CM + sum(item_height(item, printed) for item in form.layout[at + 1:])
    return round(room, 2), round(tail, 2)


# --- items and documents -------------------------------------------------------------------------


def item_xml(item, form: Form, forms: dict) -> list[str]:
    """Given one layout item, return its body elements (paragraphs or a table) as XML strings."""
    if item == "pagebreak":
        return [para_xml(run_xml("").replace("<w:t", '<w:br w:type="page"/><w:t', 1))]
    if not isinstance(item, dict):
        raise UserError(f"表单 {form.key} 的布局项无法识别：{item}")
    if "title" in item:
        return [title_para(str(item["title"]), float(item.get("size", DEFAULTS["title_size"])),
                           float(item.get("before", 0)), float(item.get("after", 10)))]
    if "subtitle" in item:
        return [para_xml(run_xml(str(item["subtitle"]), DEFAULTS["title_font"], DEFAULTS["subtitle_size"], bold=True),
                         before=12, after=6, keep_next=True)]
    if "para" in item:
        return [para_xml(run_xml(str(item["para"]), size=DEFAULTS["para_size"]), indent_chars=2, line=360,
                         size=DEFAULTS["para_size"])]
    if "sign" in item:  # a signature line: right-aligned, room above it for the seal and right of it
        return [para_xml(run_xml(str(item["sign"]).strip(), size=DEFAULTS["para_size"]), size=DEFAULTS["para_size"],
                         align="right", before=float(item.get("before", 30)), after=6, right_chars=DEFAULTS["line_pad"])]
    if "line" in item:
        field = form.fields[item["line"]]
        printed = item.get("printed") or field.label
        align = {"right": "right", "center": "center"}.get(item.get("align"))
        # A right-aligned line keeps room on its right for the seal and the handwritten value.
        # (an indent: spaces at the end of a right-aligned line vanish)
        pad = DEFAULTS["line_pad"] if align == "right" else 0
        tag = value_tag(field, form, item.get("blank"))
        return [para_xml(run_xml(f"{printed}：{tag}", size=DEFAULTS["para_size"]), size=DEFAULTS["para_size"],
                         align=align, before=float(item.get("before", 0)), after=6, right_chars=pad)]
    if "notes" in item:
        return [para_xml(run_xml(str(note), size=DEFAULTS["note_size"]), line=300, size=DEFAULTS["note_size"],
                         indent_chars=0 if i == 0 else 2, before=6 if i == 0 else 0)
                for i, note in enumerate(item["notes"])]
    if "table" in item and item["table"].get("header"):
        table = item["table"]
        return [*list_table_xml(table, form, table_widths(table, form, header_plan(table))), AFTER_TABLE]
    if "table" in item:
        # A paragraph after each table keeps two tables from fusing and gives Word a place for the cursor.
        return [table_xml(item["table"], form, forms), AFTER_TABLE]
    raise UserError(f"表单 {form.key} 的布局项无法识别：{', '.join(item)}")


def body_xml(form: Form, forms: dict | None = None) -> list[str]:
    """Given a form, return its body elements as XML strings, in layout order."""
    forms = forms or load_forms()
    elements = []
    for item in form.layout:
        elements += item_xml(item, form, forms)
    return elements


def new_document() -> docx.document.Document:
    """Return an empty A4 portrait document whose Normal style and defaults are 宋体 with w:eastAsia set."""
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(DEFAULTS["page_width"]), Cm(DEFAULTS["page_height"])
    section.top_margin, section.bottom_margin = Cm(DEFAULTS["margin_top"]), Cm(DEFAULTS["margin_bottom"])
    section.left_margin, section.right_margin = Cm(DEFAULTS["margin_left"]), Cm(DEFAULTS["margin_right"])
    font = DEFAULTS["body_font"]
    styles = document.styles.element
    for rpr in [styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")),
                document.styles["Normal"].element.get_or_add_rPr()]:
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.insert(0, fonts)
        for attr in list(fonts.attrib):
            del fonts.attrib[attr]  # theme fonts would win over the named ones
        for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
            fonts.set(qn(f"w:{attr}"), font)
        fonts.set(qn("w:hint"), "eastAsia")
    declare_chinese(document)
    page_numbers(section)
    return document


def page_numbers(section) -> None:
    """Given a section, print 第 X 页 共 Y 页 centred in its footer, except on its first page (a packet's cover).

    A one-page form shows none; a packet (the forms joined behind the cover) numbers every page after it.
    """
    section.different_first_page_header_footer = True
    footer = section.footer
    footer.is_linked_to_previous = False
    size = DEFAULTS["note_size"]

    def field(code: str) -> str:
        return f'<w:fldSimple w:instr=" {code} ">{run_xml("1", size=size)}</w:fldSimple>'

    runs = run_xml("第 ", size=size) + field("PAGE") + run_xml(" 页 共 ", size=size) + field("NUMPAGES") + run_xml(" 页", size=size)
    paragraph = footer.paragraphs[0]._p
    paragraph.addprevious(parse_xml(para_xml(runs, align="center").replace(">", f" {nsdecls('w')}>", 1)))
    paragraph.getparent().remove(paragraph)
    # The bottom margin holds the footer: it starts 1 cm above the page's edge.
    section.footer_distance = Cm(1.0)


def declare_chinese(document) -> None:
    """Given a python-docx document, declare its languages (LANGS: zh-CN for Chinese) on its docDefaults, its styles
    and its theme font language."""
    styles = document.styles.element
    for rpr in [styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")),
                *(style.find(qn("w:rPr")) for style in styles.iterchildren(qn("w:style")))]:
        if rpr is None:
            continue
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = rpr.makeelement(qn("w:lang"), {})
            rpr.append(lang)
        for attr, value in LANGS.items():
            lang.set(qn(f"w:{attr}"), value)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        for attr, value in LANGS.items():
            theme_lang.set(qn(f"w:{attr}"), value)


def build_template(form: Form, out: Path, forms: dict | None = None) -> Path:
    """Given a form and an output path, write the form's Word template there and return the path."""
    document = new_document()
    body = document.element.body
    sect = body.find(qn("w:sectPr"))
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)
    for xml in body_xml(form, forms):
        sect.addprevious(parse_xml(xml.replace(">", f" {nsdecls('w')}>", 1)))
    buffer = io.BytesIO()
    document.save(buffer)
    with atomic_path(Path(out), guard=False) as tmp:  # templates/ is the project's own
        write_stable_zip(buffer.getvalue(), tmp)
    return Path(out)


def write_stable_zip(data: bytes, target: Path) -> None:
    """Given a .docx's bytes, write it with fixed member dates, so rebuilding an unchanged form changes no byte."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2017, 1, 1, 0, 0, 0)), src.read(info),
                         compress_type=zipfile.ZIP_DEFLATED)


def template_forms(forms: dict | None = None) -> list[Form]:
    """Return the forms that have a printed layout (so a template), in file order."""
    return [form for form in (forms or load_forms()).values() if form.layout]


def template_path(form: Form | str, directory: Path = TEMPLATES_DIR) -> Path:
    """Given a form (or form key), return the path of its template: templates/<form key>.docx."""
    key = form if isinstance(form, str) else form.key
    return Path(directory) / f"{key}.docx"


def build_all(directory: Path = TEMPLATES_DIR) -> list[Path]:
    """Given the templates folder, (re)write every form's template there and return their paths."""
    forms = load_forms()
    return [build_template(form, template_path(form, directory), forms) for form in template_forms(forms)]
