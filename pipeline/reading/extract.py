"""Cell grids → form values, by the labels of `forms/` only (never by row or column positions).

A chain of small steps: `split_forms` cuts a Document into the forms it holds (a title, or
a table's first cell, that contains a form's `detect` key starts it); `Index` reads one form's
blocks once into text units keyed by folded label; `extract_form` looks each field up by its
keys, side-label group and occurrence, and takes the neighbouring (or inline) text to
`pipeline.reading.values`. The report and the respondent register have their own small readers.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from dataclasses import field as dc_field

from pipeline.common import text as _text
from pipeline.common.text import body_chars, clean, is_blank
from pipeline.definitions.forms import Form, load_forms
from pipeline.reading.grid import Block, Document
from pipeline.reading.values import value as normalise

#: `text.fold` remembered: the same labels and cell texts are folded again and again.
fold = functools.lru_cache(maxsize=1 << 15)(_text.fold)

#: Characters a title may carry besides its detect key (实施全省用户满意工程先进单位…, 2017年…).
TITLE_SLACK = 40
#: Header cells that must match for a table to be the respondent register.
MIN_HEADER_MATCHES = 3
_PAREN_TAIL = re.compile(r"\([^()]*\)$")
_COLON = re.compile(r"[:：]")
_NUMBERED = re.compile(r"^(\d+[,.、]|注)")


@dataclass
class Found:
    """One form found in a document: the form and the blocks from its title to the next form."""

    form: Form
    blocks: list[Block]
    source: str


# --- what is derived from a form once per process -------------------------------------------------


def per_object(fn):
    """Given a function of one object (a Form, the forms dict, a Field), return it remembered per object.

    Forms are unhashable frozen dataclasses loaded once per process; the object is kept beside
    its result so a reused id() can never return another object's result.
    """
    memo: dict[int, tuple] = {}

    @functools.wraps(fn)
    def wrapper(obj):
        hit = memo.get(id(obj))
        if hit is None or hit[0] is not obj:
            hit = memo[id(obj)] = (obj, fn(obj))
        return hit[1]

    return wrapper


@per_object
def field_keys(f) -> tuple[str, ...]:
    """Given a Field, return its folded label and aliases (Field.keys, computed once)."""
    return f.keys


@per_object
def _form_plan(form: Form) -> dict:
    """Given a form, return what extraction derives from it: label keys, side labels, printed texts, ranks."""
    return {
        "field_keys": sorted({k for f in form.fields.values() for k in field_keys(f)}, key=len, reverse=True),
        "groups": {fold(f.group) for f in form.fields.values() if f.group},
        "printed": printed_texts(form),
        "ranks": global_occurrences(form),
        "header": {key: f.id for f in form.fields.values() for key in field_keys(f)},
    }


def prepare(forms: dict[str, Form]) -> None:
    """Given the loaded forms, derive everything extraction needs from them now (before workers fork)."""
    _detectors(forms)
    for form in forms.values():
        _form_plan(form)


# --- detection -----------------------------------------------------------------------------------


def detectors(forms: dict[str, Form]) -> list[tuple[str, Form]]:
    """Given the forms, return (folded detect key, form), longest key first."""
    keys = [(fold(key), form) for form in forms.values() for key in form.detect]
    return sorted(keys, key=lambda kf: -len(kf[0]))


@per_object
def _detectors(forms: dict[str, Form]) -> tuple[list[tuple[str, Form]], list[Form]]:
    return detectors(forms), [f for f in forms.values() if f.get("rows")]


def block_head(block: Block) -> str:
    """Given a block, return the text that may title a form: the paragraph, or the table's first cell."""
    if block.kind == "paragraph":
        return block.text
    for row in block.rows:
        for cell in row:
            return cell.text
    return ""


def titled_form(head: str, keys: list[tuple[str, Form]]) -> Form | None:
    """Given a block's head text, return the form it is the title of, or None.

    A title is short (its key plus a little); the outline printed inside 情况表
    ('关于*****公司…的报告') is an instruction, not a report.
    """
    text = fold(head)
    if not text or "*" in text or _NUMBERED.match(text) or "。" in head:
        return None  # numbered lines and sentences are instructions (填报说明), not titles
    for key, form in keys:
        if key in text and len(text) <= len(key) + TITLE_SLACK:
            return form
    return None


def header_fields(cells: list, form: Form) -> dict[int, str]:
    """Given a row of cells and a list form, return column → field id for the cells that are its labels."""
    by_key = _form_plan(form)["header"]
    found = {}
    for cell in cells:
        fid = by_key.get(fold(cell.text))
        if fid and fid not in found.values():
            found[cell.col] = fid
    return found


def header_row(block: Block, form: Form) -> int | None:
    """Given a table and a list form, return the index of its header row (≥3 labels), or None."""
    if block.kind != "table":
        return None
    for i, row in enumerate(block.rows[:5]):
        if len(header_fields(row, form)) >= MIN_HEADER_MATCHES:
            return i
    return None


def split_forms(doc: Document, forms: dict[str, Form] | None = None) -> list[Found]:
    """Given a Document, return the forms it holds, each with its blocks, in document order.

    A table whose header is the respondent register's starts that form even without a title
    (an .xlsx of respondents).
    """
    forms = forms or load_forms()
    keys, listing = _detectors(forms)
    found: list[Found] = []
    for block in doc.blocks:
        form = titled_form(block_head(block), keys)
        if form is None and block.kind == "table":
            form = next((f for f in listing if header_row(block, f) is not None), None)
        if form is not None and not (found and found[-1].form is form):
            found.append(Found(form, [], doc.source))
        if found:
            found[-1].blocks.append(block)
    return found


# --- the index of one form's text ----------------------------------------------------------------


@dataclass
class Unit:
    """A table cell or a paragraph of one form, with what it may label."""

    text: str
    table: int = -1  # -1 for a paragraph
    row: int = 0
    rowspan: int = 1
    right: "Unit | None" = None
    group: str | None = None
    #: Folded keys with the text after the label in the same unit ('' when the value is beside it).
    keys: list[tuple[str, str | None]] = dc_field(default_factory=list)


def label_keys(text: str) -> list[tuple[str, str | None]]:
    """Given a cell or paragraph, return the (folded label, inline text) pairs it may be.

    '企业名称' → the label, value beside it; '企业名称（公章）：XX公司' → '企业名称(公章)' and
    '企业名称', each with 'XX公司' inline.
    """
    out: list[tuple[str, str | None]] = []
    whole = fold(text)
    if whole and len(whole) <= 60:
        out.append((whole, None))
        bare = _PAREN_TAIL.sub("", whole)
        if bare and bare != whole:
            out.append((bare, None))
    match = _COLON.search(text)
    if match:
        label, rest = fold(text[: match.start()]), text[match.end():]
        if label and len(label) <= 40 and clean(rest):
            out.append((label, rest))
            bare = _PAREN_TAIL.sub("", label)
            if bare and bare != label:
                out.append((bare, rest))
    return out


def spaced_prefix(text: str, keys: list[str]) -> tuple[str, str] | None:
    """Given a paragraph like '企业名称    XX公司（加盖公章）' and keys longest first, return (label key, rest)."""
    folded = fold(text[:80])
    for key in keys:
        if key and folded.startswith(key) and len(folded) > len(key):
            # Walk the original text until the folded label is consumed.
            for end in range(len(key), len(text) + 1):
                if fold(text[:end]) == key:
                    rest = text[end:]
                    if rest[:1].isspace():
                        return key, rest
                    break
    return None


class Index:
    """One form's blocks read once: its units in reading order and an index by folded label."""

    def __init__(self, form: Form, blocks: list[Block]):
        self.form = form
        self.units: list[Unit] = []
        self.by_key: dict[str, list[int]] = {}
        self.groups_found: set[str] = set()
        plan = _form_plan(form)
        field_keys, groups = plan["field_keys"], plan["groups"]
        for t, block in enumerate(blocks):
            if block.kind == "paragraph":
                self._add(Unit(block.text), field_keys)
            else:
                self._add_table(t, block, groups, field_keys)

    def _add(self, unit: Unit, field_keys: list[str]) -> None:
        unit.keys = label_keys(unit.text)
        if unit.table < 0 and not any(k in field_keys for k, _ in unit.keys):
            spaced = spaced_prefix(unit.text, field_keys)
            if spaced:
                unit.keys.append(spaced)
        n = len(self.units)
        self.units.append(unit)
        for key, _ in unit.keys:
            bucket = self.by_key.setdefault(key, [])
            if not bucket or bucket[-1] != n:
                bucket.append(n)

    def _add_table(self, t: int, block: Block, groups: set[str], field_keys: list[str]) -> None:
        scopes = side_scopes(block, groups)
        self.groups_found.update(g for g, _, _ in scopes)
        for row in block.rows:
            previous = None
            for cell in row:
                group = next((g for g, lo, hi in scopes if lo <= cell.row < hi), None)
                unit = Unit(cell.text, t, cell.row, cell.rowspan, group=group)
                if previous is not None:
                    previous.right = unit
                previous = unit
                self._add(unit, field_keys)

    def candidates(self, keys: tuple[str, ...]) -> list[Unit]:
        """Given folded keys, return the units labelled by any of them, in reading order."""
        hits = sorted({i for k in keys for i in self.by_key.get(k, ())})
        return [self.units[i] for i in hits]


def side_scopes(block: Block, groups: set[str]) -> list[tuple[str, int, int]]:
    """Given a table and the side labels a form uses, return (group, first row, end row) for each found.

    A side label spans its rowspan; one that lost its merge (PDF) runs to the next side label.
    """
    starts = [(fold(c.text), c.row, c.rowspan) for row in block.rows for c in row if fold(c.text) in groups]
    scopes = []
    for i, (group, row, span) in enumerate(starts):
        end = row + span if span > 1 else (starts[i + 1][1] if i + 1 < len(starts) else len(block.rows) + row)
        scopes.append((group, row, end))
    return scopes


# --- fields --------------------------------------------------------------------------------------


def printed_texts(form: Form) -> set[str]:
    """Given a form, return the folded texts its layout prints (labels, notes, hints, footers, 公章 marks)."""
    out: set[str] = {k for f in form.fields.values() for k in f.keys}
    out.update(fold(f.group) for f in form.fields.values() if f.group)

    def add(text) -> None:
        for line in str(text).split("\n"):
            if fold(line):
                out.add(fold(line))

    for item in form.layout:
        if not isinstance(item, dict) or "table" not in item:
            continue
        for row in item["table"].get("rows", []):
            for cell in row:
                if isinstance(cell, str) and not cell.startswith("="):
                    add(cell)
                elif isinstance(cell, dict):
                    for key in ("label", "text", "hint", "footer"):
                        if cell.get(key):
                            add(cell[key])
    return out


def layout_cell(form: Form, field_id: str) -> dict:
    """Given a form and a field id, return the layout cell dict that holds it ({} when none)."""
    for item in form.layout:
        if isinstance(item, dict) and "table" in item:
            for row in item["table"].get("rows", []):
                for cell in row:
                    if isinstance(cell, dict) and field_id in (cell.get("field"), cell.get("value")):
                        return cell
    return {}


def _strip_printed(raw: str | None, printed: set[str]) -> str | None:
    """Given a value's text, return it without what the form itself prints (hints, footers, 公章 marks).

    A line that is only printed text (or a bare 年 月 日) goes; printed text inside a line is cut out.
    """
    if raw is None:
        return None
    lines = []
    for line in raw.split("\n"):
        key = fold(line)
        if not key or key in printed:
            continue
        for text in printed:
            if len(text) >= 3 and text in key:
                key = key.replace(text, "")
                line = _cut_folded(line, text)
        if not re.sub(r"[年月日]", "", key):
            continue
        lines.append(line)
    return "\n".join(lines) if lines else None


def _cut_folded(line: str, folded: str) -> str:
    """Given a line and a folded piece of it, return the line with that piece (as written) removed."""
    for start in range(len(line)):
        if not fold(line[start]) or not folded.startswith(fold(line[start])):
            continue
        for end in range(start + 1, len(line) + 1):
            piece = fold(line[start:end])
            if piece == folded:
                return line[:start] + line[end:]
            if not folded.startswith(piece):
                break
    return line


def raw_text(index: Index, f, printed: set[str], global_occurrence: int) -> str | None:
    """Given a form's index and a field, return the raw text of its value, or None when not found.

    The field's group scopes the search when that side label is in the grid; otherwise the
    n-th match over the whole form is taken (n counted over every field with that label).
    """
    units = index.candidates(field_keys(f))
    if f.group and fold(f.group) in index.groups_found:
        units, n = [u for u in units if u.group == fold(f.group)], f.occurrence
    elif f.group:
        n = global_occurrence
    else:
        outside = [u for u in units if u.group is None]
        units, n = (outside, f.occurrence) if len(outside) > f.occurrence else (units, global_occurrence)
    if len(units) <= n:
        return None
    unit = units[n]
    keyset = set(field_keys(f))
    inline = next((rest for k, rest in unit.keys if k in keyset and rest is not None), None)
    if inline is not None:
        return _strip_printed(inline, printed)
    neighbour = unit.right
    if neighbour is None or fold(neighbour.text) in printed:
        return None
    return _strip_printed(neighbour.text, printed)


def bare_choice(index: Index, f) -> str | None:
    """Given a check-box field printed without a label (the cover's categories), return the unit text holding its options."""
    from pipeline.reading.values import option_spans

    for unit in index.units:
        if len(option_spans(fold(unit.text), f.options)) >= 2:
            return unit.text
    return None


def global_occurrences(form: Form) -> dict[str, int]:
    """Given a form, return field id → its rank among the form's fields with the same folded label."""
    seen: dict[str, int] = {}
    out = {}
    for f in form.fields.values():
        key = fold(f.label)
        out[f.id] = seen.get(key, 0)
        seen[key] = out[f.id] + 1
    return out


def extract_form(found: Found) -> dict | list:
    """Given a found form, return its values: {field id: value}, or the rows of a list form."""
    form = found.form
    if form.get("rows"):
        return extract_rows(found)
    if form.id == "report":
        return extract_report(found)
    index = Index(form, found.blocks)
    plan = _form_plan(form)
    printed, ranks = plan["printed"], plan["ranks"]
    rows_of = form.get("criteria") if form.get("kind") == "checklist" else None
    values = {}
    for f in form.fields.values():
        if rows_of and (f.id in rows_of or any(f.id == r["evidence"] for r in rows_of.values())):
            continue  # a row of the 自评表: read by its own reader below
        raw = raw_text(index, f, printed, ranks[f.id])
        if raw is None and f.type in ("choice", "multi", "yesno"):
            raw = bare_choice(index, f)
        values[f.id] = normalise(f, raw)
    if rows_of:
        from pipeline.reading.checklist import extract_checklist

        return extract_checklist(found, values)
    return values


# --- the respondent register ---------------------------------------------------------------------


def extract_rows(found: Found) -> list[dict]:
    """Given a found list form, return one dict per filled row under its header (blank rows dropped).

    A table without its own header right after one that had it (a page break in a PDF, a
    second sheet) continues with the same columns; its first row, when it holds only a few
    cells and no first column, is the rest of a row the page break cut, and is joined to it.
    """
    form = found.form
    columns: dict[int, str] | None = None
    raw_rows: list[dict[str, str]] = []
    for block in found.blocks:
        if block.kind != "table":
            continue
        at = header_row(block, form)
        continued = at is None
        if at is not None:
            columns = header_fields(block.rows[at], form)
            body = block.rows[at + 1:]
        elif columns is not None and block.rows and len(block.rows[0]) >= len(columns):
            body = block.rows
        else:
            continue
        first_col = min(columns)
        for n, cells in enumerate(body):
            by_col = {c.col: c.text for c in cells}  # a row's cells start at distinct columns
            texts = {fid: by_col.get(col, "") for col, fid in columns.items()}
            filled = [fid for fid, t in texts.items() if not is_blank(t)]
            if not filled:
                continue
            if (continued and n == 0 and raw_rows and not clean(texts[columns[first_col]])
                    and len(filled) * 2 < len(columns)):
                for fid in filled:
                    raw_rows[-1][fid] = raw_rows[-1].get(fid, "") + "\n" + texts[fid]
                continue
            raw_rows.append(texts)
    return normalised_rows(form, raw_rows)


_UNSEEN = object()


def normalised_rows(form: Form, raw_rows: list[dict[str, str]]) -> list[dict]:
    """Given a list form and its rows of raw texts by field id, return the rows with normalised values.

    A register repeats its dates and survey methods row after row: each field remembers the
    values it has made (lists and dicts excepted, handed out fresh each time).
    """
    fields = [(fid, f, {}) for fid, f in form.fields.items()]
    out = []
    for raw in raw_rows:
        row = {}
        for fid, f, made in fields:
            if fid not in raw:
                continue
            text = raw[fid]
            value = made.get(text, _UNSEEN)
            if value is _UNSEEN:
                value = normalise(f, text)
                if value is None or isinstance(value, (str, int, float)):
                    made[text] = value
            row[fid] = value
        out.append(row)
    return out


# --- the report ----------------------------------------------------------------------------------

_CN_NUM = {c: i for i, c in enumerate("一二三四五六七八九十", 1)}
_ARABIC = re.compile(r"^(\d{1,2})(?:[.．](\d{1,2}))?(?=[、.．,，\s(（\u4e00-\u9fff]|$)")
_CN_TOP = re.compile(r"^([一二三四五六七八九十]{1,2})[、.．]")
_CN_SUB = re.compile(r"^[（(]([一二三四五六七八九十]{1,2})[)）]")


def _cn(numeral: str) -> int:
    if len(numeral) == 2:  # 十一 … (only 十 + n are needed)
        return 10 + _CN_NUM.get(numeral[1], 0)
    return _CN_NUM.get(numeral, 0)


def heading_number(line: str, top: str | None) -> str | None:
    """Given a report line and the current top-level section, return the outline number it opens, or None.

    '1、企业概貌' → '1'; '3.10持续改进' → '3.10'; '一、…' → '1'; '（二）…' under 三 → '3.2'.
    """
    text = line.strip()
    match = _ARABIC.match(text)
    if match:
        return f"{int(match[1])}.{int(match[2])}" if match[2] else str(int(match[1]))
    match = _CN_TOP.match(text)
    if match:
        return str(_cn(match[1]))
    match = _CN_SUB.match(text)
    if match and top:
        return f"{top}.{_cn(match[1])}"
    return None


def outline_sections(lines: list[str], outline: list[dict]) -> list[str]:
    """Given the report's lines and the outline, return the outline numbers found as headings, in outline order.

    A numbered line counts as a heading when it is short or starts like the outline's title,
    so a numbered list inside a section is not taken for one.
    """
    titles = {str(item["num"]): fold(item["title"]) for item in outline}
    found: set[str] = set()
    top = None
    for line in lines:
        num = heading_number(line, top)
        if num is None or num not in titles:
            continue
        rest = fold(re.sub(r"^[\s\d.．、（）()一二三四五六七八九十]+", "", line))
        if len(fold(line)) <= 30 or rest.startswith(titles[num][:2]):
            found.add(num)
            if "." not in num:
                top = num
    return [str(item["num"]) for item in outline if str(item["num"]) in found]


def extract_report(found: Found) -> dict:
    """Given the found report, return its title, body length and the outline sections present and missing."""
    form = found.form
    lines: list[str] = []
    for block in found.blocks:
        if block.kind == "paragraph":
            lines.extend(block.text.split("\n"))
        else:
            lines.extend(line for cell in block.cells() for line in cell.text.split("\n"))
    title = clean(lines[0]) if lines else None
    body = lines[1:]
    if form.get("kind") == "report":  # a program's report: its printed guidance is not the applicant's text
        guidance = {fold(item["para"]) for item in form.layout if isinstance(item, dict) and "para" in item}
        body = [line for line in body if fold(line) not in guidance]
    outline = form.get("outline") or []
    present = outline_sections(body, outline)
    return {
        "title": title,
        "chars": body_chars("".join(body)),
        "sections_present": present,
        "sections_missing": [str(i["num"]) for i in outline if str(i["num"]) not in present],
    }


# --- a whole document ----------------------------------------------------------------------------


def extract_document(doc: Document, forms: dict[str, Form] | None = None) -> list[tuple[Form, dict | list]]:
    """Given a Document, return (form, values) for each form it holds, in document order."""
    return [(found.form, extract_form(found)) for found in split_forms(doc, forms)]
