"""Word templates built from a form's `layout` (forms/README.md): one .docx per form, docxtpl tags inside.

Each layout item becomes body XML (`word.xml`): titles, paragraphs, signature lines, notes and
tables. A table is planned (`word.plan`), its columns sized to what it prints (`word.measure`), and
each slot becomes a cell; a list table repeats its header on every page and splits its rows over
pages at render time (`word.paginate`). Side labels are real vertical merges and the last cell of a
row stretches to the table's width. Staff may edit the generated files in Word; `manyi templates
check` tells them when an edit broke a tag.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from pipeline.common import resources
from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path
from pipeline.definitions.forms import Form, load_forms
from pipeline.word import TEMPLATES_DIR
from pipeline.word.document import new_document, replace_body, write_stable_zip
from pipeline.word.measure import BOX_TYPES, option_lines, table_widths, vertical_lines, wrap_label
from pipeline.word.paginate import page_room
from pipeline.word.plan import Slot, header_plan, list_title, plan_table
from pipeline.word.styles import AUTO_LINE, STYLE
from pipeline.word.xml import (AFTER_TABLE, PAGE_AFTER_TABLE, banner_row, cell_xml, para_xml, row_xml, run_xml, sized,
                               table_props, text_paras, title_para)

#: The blank 年 月 日 of a signature or seal line.
_DATE_BLANK = re.compile(r"年[\s　]+月[\s　]+日")
#: What stands between two options on a line.
OPTION_GAP = "  "


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
        return OPTION_GAP.join(option_tags(field))
    if field.type == "list":
        return f"{{{{ numbered(v.{field.id}, {int(form.get('lines_per_category') or 1)}) }}}}"
    if blank:
        return f"{{% if v.{field.id} %}}{{{{ v.{field.id} }}}}{{% else %}}{blank}{{% endif %}}"
    return f"{{{{ v.{field.id} }}}}"


def printed_labels(form: Form) -> list[str]:
    """Given a form, return what its printed form must show: detect titles, field labels (options for bare fields)."""
    cells = [cell for cell in _layout_cells(form.layout) if isinstance(cell, dict) and cell.get("field")]
    bare = {cell["field"] for cell in cells if cell.get("bare")}
    # A vertical label prints a character or two a line: its lines, joined, are what the text shows.
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


# --- cells ---------------------------------------------------------------------------------------


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
        return value_paras(field, form, cell, width)
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
        text = wrap_label(str(text), width, STYLE.cell_size)
    return [para_xml(run_xml(str(text)), align="center")]


def vertical_paras(text: str, columns: int = 1) -> list[str]:
    """Given a side label (and its columns), return one centred paragraph printing it top to bottom."""
    return [para_xml(run_xml("\n".join(vertical_lines(text, columns))), align="center")]


def value_paras(field, form: Form, cell: dict, width: float = 0.0) -> list[str]:
    """Given a field (and its cell's width in cm), return its value cell: one tag, or its check boxes.

    Boxes go one per line when stacked, else as many to a line as the cell holds (option_lines): a
    Chinese line breaks between any two characters, so □不符合 at a line's end would print 不符 / 合.
    """
    if field.type in BOX_TYPES and cell.get("stacked"):
        return [para_xml(run_xml(tag)) for tag in option_tags(field)]
    if field.type in BOX_TYPES and width:
        tags = dict(zip(field.options.values(), option_tags(field)))
        return [para_xml(run_xml(OPTION_GAP.join(tags[o] for o in line)))
                for line in option_lines(list(field.options.values()), width, STYLE.cell_size)]
    return [para_xml(run_xml(value_tag(field, form, cell.get("blank"))))]


def inline_paras(field, form: Form, cell: dict) -> list[str]:
    """Given an inline field, return 'label：value' (or bare check boxes), its hint and its footer lines."""
    if cell.get("bare"):
        return [para_xml(run_xml(value_tag(field, form), size=float(cell.get("size") or STYLE.para_size)),
                         align="center")]
    if field.type in BOX_TYPES and cell.get("stacked"):
        paras = [para_xml(run_xml(f"{field.label}："))] + value_paras(field, form, cell)
    else:
        paras = [para_xml(run_xml(f"{field.label}：{value_tag(field, form)}"))]
    if cell.get("hint"):
        paras += text_paras(cell["hint"])
    footer = str(cell.get("footer") or "").split("\n") if cell.get("footer") else []
    if cell.get("date"):  # the date written in the footer's 年 月 日: a prefilled one prints there
        footer = [_DATE_BLANK.sub(lambda m: f"{{% if v.{cell['date']} %}}{{{{ v.{cell['date']} }}}}{{% else %}}"
                                            f"{m.group(0)}{{% endif %}}", line, count=1) for line in footer]
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
    return [para_xml(run_xml(line), line=round(STYLE.outline_line * AUTO_LINE)) for line in lines]


# --- tables --------------------------------------------------------------------------------------


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
        plain = float(table.get("row_height") or (STYLE.row_height if borders else 1.0))
        rows.append(row_xml(cells, max(heights) if heights else plain))
    return sized(f"<w:tbl>{table_props(widths, borders)}{''.join(rows)}</w:tbl>", table.get("size"))


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
        return row_xml(cells, STYLE.row_height, **kw)

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
             f"{float(table.get('size') or STYLE.cell_size)}) %}}")
    return [para_xml(run_xml(pages)), para_xml(run_xml("{%p if not loop.first %}")), PAGE_AFTER_TABLE,
            para_xml(run_xml("{%p endif %}")), f"<w:tbl>{table_props(widths, True)}{''.join(rows)}</w:tbl>",
            para_xml(run_xml("{%p endfor %}"))]


# --- items and documents -------------------------------------------------------------------------


def item_xml(item, form: Form, forms: dict) -> list[str]:
    """Given one layout item, return its body elements (paragraphs or a table) as XML strings."""
    if item == "pagebreak":
        return [para_xml(run_xml("").replace("<w:t", '<w:br w:type="page"/><w:t', 1))]
    if not isinstance(item, dict):
        raise UserError(f"表单 {form.key} 的布局项无法识别：{item}")
    if "title" in item:
        return [title_para(str(item["title"]), float(item.get("size", STYLE.title_size)),
                           float(item.get("before", 0)), float(item.get("after", STYLE.title_after)))]
    if "subtitle" in item:
        return [para_xml(run_xml(str(item["subtitle"]), STYLE.title_font, STYLE.subtitle_size, bold=True),
                         before=STYLE.subtitle_before, after=STYLE.subtitle_after, keep_next=True)]
    size = STYLE.para_size
    if "para" in item:
        return [para_xml(run_xml(str(item["para"]), size=size), indent_chars=STYLE.para_indent,
                         line=round(STYLE.para_line * AUTO_LINE), size=size)]
    if "sign" in item:  # a signature line: right-aligned, room above it for the seal and right of it
        return [para_xml(run_xml(str(item["sign"]).strip(), size=size), size=size, align="right",
                         before=float(item.get("before", STYLE.sign_before)), after=STYLE.line_after,
                         right_chars=STYLE.line_pad)]
    if "line" in item:
        field = form.fields[item["line"]]
        printed = item.get("printed") or field.label
        align = {"right": "right", "center": "center"}.get(item.get("align"))
        # A right-aligned line keeps room on its right for the seal and the handwritten value.
        # (an indent: spaces at the end of a right-aligned line vanish)
        pad = STYLE.line_pad if align == "right" else 0
        tag = value_tag(field, form, item.get("blank"))
        return [para_xml(run_xml(f"{printed}：{tag}", size=size), size=size, align=align,
                         before=float(item.get("before", 0)), after=STYLE.line_after, right_chars=pad)]
    if "notes" in item:
        size = STYLE.note_size
        return [para_xml(run_xml(str(note), size=size), line=round(STYLE.note_line * AUTO_LINE), size=size,
                         indent_chars=0 if i == 0 else STYLE.note_indent, before=STYLE.note_before if i == 0 else 0)
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


def build_template(form: Form, out: Path, forms: dict | None = None) -> Path:
    """Given a form and an output path, write the form's Word template there and return the path."""
    document = new_document()
    replace_body(document, body_xml(form, forms))
    buffer = io.BytesIO()
    document.save(buffer)
    with atomic_path(Path(out), guard=False) as tmp:  # templates/ is the project's own
        write_stable_zip(buffer.getvalue(), tmp)
    return Path(out)


def template_forms(forms: dict | None = None) -> list[Form]:
    """Return the forms that have a printed layout (so a template), in file order."""
    return [form for form in (forms or load_forms()).values() if form.layout]


def template_path(form: Form | str, directory: Path = TEMPLATES_DIR) -> Path:
    """Given a form (or form key), return the path of its template: <directory>/<form key>.docx; in the packaged
    templates folder, a staff folder's template of the same name comes first (`common.resources.use_forms`)."""
    key = form if isinstance(form, str) else form.key
    if Path(directory) == TEMPLATES_DIR:
        return resources.layered("templates", f"{key}.docx")
    return Path(directory) / f"{key}.docx"


def build_all(directory: Path = TEMPLATES_DIR) -> list[Path]:
    """Given the templates folder, (re)write every form's template there and return their paths."""
    forms = load_forms()
    # Written where asked, never into a staff folder that template_path would layer over the package.
    return [build_template(form, Path(directory) / f"{form.key}.docx", forms) for form in template_forms(forms)]
