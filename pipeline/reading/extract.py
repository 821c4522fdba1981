"""Cell grids → form values, by the labels of `forms/` only (never by row or column positions).

A chain of small steps: `split_forms` cuts a Document into the forms it holds (a title, or
a table's first cell, that contains a form's `detect` key starts it); `Index` reads one form's
blocks once into text units keyed by folded label; `extract_form` looks each field up by its
keys, side-label group and occurrence, and takes the neighbouring (or inline) text to
`pipeline.reading.values`, with the form's printed text taken out only where it stands as printed
(`strip_printed`), a date written in a printed 年 月 日 slot moved to its own field (`split_slot_date`)
and figures typed into a printed sentence's blanks read (`blank_values`). The report and the
respondent register have their own small readers.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dc_field

from pipeline.common import text as _text
from pipeline.common.text import body_chars, clean, is_blank, to_date
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
    printed = printed_texts(form)
    return {
        "field_keys": sorted({k for f in form.fields.values() for k in field_keys(f)}, key=len, reverse=True),
        "groups": {fold(f.group) for f in form.fields.values() if f.group},
        "printed": printed,
        "cells": {f.id: cell_plan(form, f.id, printed) for f in form.fields.values()},
        "ranks": global_occurrences(form),
        "header": {key: f.id for f in form.fields.values() for key in field_keys(f)},
        "slots": {f.slot: f for f in form.fields.values() if f.slot},
        "blanks": sentence_blanks(form),
        "footers": {f.id: footer_lines(form, f.id) for f in form.fields.values()},
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
    blocks = doc.blocks
    for n, block in enumerate(blocks):
        form = titled_form(block_head(block), keys)
        if form is None and block.kind == "table":
            form = next((f for f in listing if header_row(block, f) is not None), None)
        if form is None and n + 1 < len(blocks):
            form = wrapped_title(block, blocks[n + 1], keys)
        if form is not None and not (found and found[-1].form is form):
            found.append(Found(form, [], doc.source))
            lead = found[-2].blocks[-1] if len(found) > 1 and found[-2].blocks else None
            if lead is not None and title_lead(lead, block, form, keys):
                found[-1].blocks.append(found[-2].blocks.pop())
        if found:
            found[-1].blocks.append(block)
    return found


def wrapped_title(block: Block, following: Block, keys: list[tuple[str, Form]]) -> Form | None:
    """Given a paragraph and the next block, return the form whose detect key the two paragraphs share
    across their break (a title wrapped over two paragraphs), or None."""
    if block.kind != "paragraph" or following.kind != "paragraph" or "\n" in block.text:
        return None
    if len(block.text) + len(following.text) > len(keys[0][0]) + 2 * TITLE_SLACK if keys else True:
        return None  # too long for a title, however spaced: spares folding every pair of paragraphs
    form = titled_form(block.text + following.text, keys)
    if form is None or titled_form(following.text, keys) is not None:
        return None
    return form


def title_lead(lead: Block, block: Block, form: Form, keys: list[tuple[str, Form]]) -> bool:
    """Given the paragraph before a form's title, return whether it is the title's first part.

    A form whose title begins with its own words (the report: 关于XX公司 / 实施用户满意工程情况的报告,
    `title_starts` in its YAML) takes the paragraph before its title when that starts so.
    """
    starts = form.get("title_starts")
    if not starts or lead.kind != "paragraph" or block.kind != "paragraph":
        return False
    text = clean(lead.text) or ""
    return (text.startswith(starts) and not _COLON.search(text) and "\n" not in text
            and titled_form(text + block.text, keys) is form)


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
        #: The side label the last table ended under: a page break cuts a side label, the part on the
        #: next page prints blank and the rows there still belong to it.
        self._open_group: str | None = None
        plan = _form_plan(form)
        self.printed = plan["printed"]
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
        first = block.rows[0][0] if block.rows and block.rows[0] else None
        if self._open_group and first is not None and first.col == 0 and is_blank(first.text):
            start = min((lo for _, lo, _ in scopes), default=len(block.rows) + first.row)
            scopes.insert(0, (self._open_group, first.row, start))
        last_row = block.rows[-1][0].row if block.rows and block.rows[-1] else -1
        self._open_group = next((g for g, lo, hi in scopes if lo <= last_row < hi), None)
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

    def next_unit(self, unit: Unit) -> Unit | None:
        """Given a unit of this index, return the one after it in reading order, or None."""
        for n, other in enumerate(self.units):
            if other is unit:
                return self.units[n + 1] if n + 1 < len(self.units) else None
        return None

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
    lines = {item["line"] for item in form.layout if isinstance(item, dict) and item.get("line")}
    # A date in another field's 年 月 日 slot has no printed label (unless it has its own line).
    out: set[str] = {k for f in form.fields.values() if not f.slot or f.id in lines for k in f.keys}
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


def footer_lines(form: Form, field_id: str) -> tuple[str, ...]:
    """Given a form and a field id, return the folded lines printed under its value (hint, seal lines, 年 月 日)."""
    cell = layout_cell(form, field_id)
    lines = [*str(cell.get("hint") or "").split("\n"), *str(cell.get("footer") or "").split("\n")]
    return tuple(fold(line) for line in lines if fold(line))


def cell_plan(form: Form, field_id: str, printed: set[str]) -> dict:
    """Given a form, a field id and the form's printed texts, return what may stand printed in the field's value:
    its cell's hint and footer lines (whole, and line by line), the form's seal marks in brackets."""
    cell = layout_cell(form, field_id)
    own = {fold(line) for key in ("hint", "footer") for line in str(cell.get(key) or "").split("\n") if fold(line)}
    own.update(fold(cell[key]) for key in ("hint", "footer") if cell.get(key))
    own.update(seal_part(line) for line in list(own))  # a seal line whose slot holds a date: the seal alone
    marks = sorted({t for t in printed if t.startswith("(") and t.endswith(")")}, key=lambda t: (-len(t), t))
    texts = own | set(marks)
    return {"printed": texts, "marks": marks, "longest": max(map(len, texts), default=0),
            "starts": printed_starts(texts)}


def strip_printed(raw: str | None, plan: dict, lead: tuple[str, ...] = ()) -> str | None:
    """Given a value's text, return it without what the form prints around it, the applicant's words untouched.

    `plan` is the field's `cell_plan`. Printed text goes only where it stands as printed: a whole line
    (or lines: a hint that a PDF wrapped) of its cell's hint or footer or a seal mark, a bare 年 月 日,
    the field's own label before a colon at the very start (`lead`), a seal mark in brackets at the
    very end ('XX公司（加盖公章）'). Any other label, even on a line of its own (a PDF wraps a value
    anywhere), and the same words inside a sentence stay.
    """
    if raw is None:
        return None
    printed = plan["printed"]
    lines = raw.split("\n")
    folded = [fold(line) for line in lines]
    kept: list[str] = []
    i = 0
    while i < len(lines):
        key = folded[i]
        if not key or key in printed or not key.strip("年月日") or made_of_printed(key, plan["starts"]):
            i += 1
            continue
        span = printed_span(folded, i, printed, plan["longest"])
        if span:
            i += span
            continue
        kept.append(lines[i])
        i += 1
    if not kept:
        return None
    kept[0] = cut_lead(kept[0], lead)
    kept[-1] = cut_mark(kept[-1], plan["marks"])
    text = "\n".join(kept)
    return None if is_blank(text) else text


def printed_starts(printed: set[str]) -> dict[str, list[str]]:
    """Given the folded printed texts, return first character → those of three or more characters starting with it."""
    starts: dict[str, list[str]] = {}
    for text in printed:
        if len(text) >= 3:
            starts.setdefault(text[0], []).append(text)
    return starts


def made_of_printed(key: str, starts: dict[str, list[str]]) -> bool:
    """Given a folded line, return whether it is printed texts side by side and nothing else.

    The seed prints '（此栏企业不填，由评定机构填写）      年  月  日' on one line: hint and date slot.
    Only pieces of three or more characters count, besides the 年 月 日 of a slot.
    """
    todo, seen = [0], {0}
    while todo:  # positions reachable by printed pieces; most lines stop at their first character
        start = todo.pop()
        if start == len(key):
            return True
        nexts = [start + 1] if key[start] in "年月日" else []
        nexts += [start + len(text) for text in starts.get(key[start], ()) if key.startswith(text, start)]
        for end in nexts:
            if end not in seen:
                seen.add(end)
                todo.append(end)
    return False


def printed_span(folded: list[str], start: int, printed: set[str], longest: int) -> int:
    """Given folded lines and a start, return how many lines from there make one printed text together (0 if none)."""
    joined = folded[start]
    for end in range(start + 1, len(folded)):
        joined += folded[end]
        if len(joined) > longest:
            break
        if joined in printed:
            return end - start + 1
    return 0


def cut_lead(line: str, keys: tuple[str, ...]) -> str:
    """Given a value's first line and its field's folded label keys, return it without 'label：' at its start."""
    key = fold(line[:80])
    for label in keys:
        if key.startswith(label + ":") and len(key) > len(label) + 1:
            end = _folded_end(line, label + ":")
            if end:
                return line[end:]
    return line


def cut_mark(line: str, marks: list[str]) -> str:
    """Given a value's last line and the form's bracketed seal marks (longest first), return it without one at its very end."""
    key = fold(line)
    for mark in marks:
        if key.endswith(mark) and len(key) > len(mark):
            for start in range(len(line) - 1, -1, -1):
                if fold(line[start:]) == mark:
                    return line[:start].rstrip()
    return line


def _folded_end(line: str, folded: str) -> int:
    """Given a line and a folded prefix of it, return where that prefix ends in the line (0 when it does not)."""
    for end in range(len(folded), len(line) + 1):
        if fold(line[:end]) == folded:
            return end
    return 0


#: A line holding a date only (digits or Chinese numerals, 年 月 日 or separators), as typed in a 年 月 日 slot.
_DATE_ONLY = re.compile(r"^[\d\s年月日./\-〇零○一二三四五六七八九十]+$")
_DATE_LABEL = re.compile(r"^\s*日\s*期\s*[:：]?\s*")


def date_only(text: str) -> str | None:
    """Given a line, return it when it holds only a date (a '日期：' before it allowed), else None."""
    text = _DATE_LABEL.sub("", unicodedata.normalize("NFKC", text)).strip()
    if text and _DATE_ONLY.match(text) and re.search(r"\d|[〇零○]", text):
        iso = to_date(text)
        return text if iso and iso != text else None
    return None


def trailing_date(line: str) -> tuple[str, str] | None:
    """Given a line, return (the text before, the date) when it ends with a date after white space, else None."""
    for match in re.finditer(r"\s+", line):
        found = date_only(line[match.end():])
        if found:
            return line[: match.start()], found
    return None


def seal_part(line: str) -> str:
    """Given a folded printed line, return it without the 年 月 日 slot at its end ('…(公章)年月日' → '…(公章)')."""
    return line[:-3] if line.endswith("年月日") and line[:-3] else line


def split_slot_date(raw: str, footer: tuple[str, ...], same_line: bool = False) -> tuple[str | None, str | None]:
    """Given a value's text and the folded lines printed under it, return (its text, the date written in its slot).

    The slot is what follows the last printed seal line ('地区、行业质协（公章） 2017年5月18日', or the lines
    below it); without one, a last line that is only a date. With `same_line` (a date written on the
    value's own line, 承诺企业（盖章）：XX公司 2017年5月18日) a date after white space at its end counts too.
    """
    lines = raw.split("\n")
    seals = [seal_part(line) for line in footer if line.strip("年月日")]
    for i in range(len(lines) - 1, -1, -1):
        key = fold(lines[i])
        seal = next((s for s in seals if key.startswith(s)), None)
        if seal is None:
            continue
        end = _folded_end(lines[i], seal)
        slot = " ".join(x.strip() for x in [lines[i][end:], *lines[i + 1:]] if x.strip())
        found = date_only(slot) if slot else None
        if found:
            return "\n".join([*lines[:i], lines[i][:end]]), found  # the seal line stays, as printed
        break
    last = max((i for i, line in enumerate(lines) if line.strip()), default=None)
    if last is None:
        return raw, None
    found = date_only(lines[last])
    if found:
        return "\n".join(lines[:last]) or None, found
    if same_line:
        tail = trailing_date(lines[last])
        if tail:
            return "\n".join([*lines[:last], tail[0]]) or None, tail[1]
    return raw, None


def locate(index: Index, f, global_occurrence: int) -> tuple[Unit, str] | None:
    """Given a form's index and a field, return the unit that labels it and the raw text of its value, or None.

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
        return unit, inline
    neighbour = unit.right
    if neighbour is None or fold(neighbour.text) in index.printed:
        return None
    return unit, neighbour.text


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
    rows_of = form.get("criteria") if form.get("kind") == "checklist" else None
    values, slot_dates = {}, {}
    for f in form.fields.values():
        if rows_of and (f.id in rows_of or any(f.id == r["evidence"] for r in rows_of.values())):
            continue  # a row of the 自评表: read by its own reader below
        located = locate(index, f, plan["ranks"][f.id])
        raw = located[1] if located else None
        dated = plan["slots"].get(f.id)
        if dated is not None and located is not None:
            raw, slot_dates[dated.id] = slot_date(index, located, plan["footers"][f.id])
        raw = strip_printed(raw, plan["cells"][f.id], field_keys(f))
        if raw is None and f.type in ("choice", "multi", "yesno"):
            raw = bare_choice(index, f)
        values[f.id] = normalise(f, raw)
    for fid, written in slot_dates.items():
        if values.get(fid) is None and written:
            values[fid] = normalise(form.fields[fid], written)
    for fid, written in blank_values(index, plan["blanks"]).items():
        if values.get(fid) is None:
            values[fid] = normalise(form.fields[fid], written)
    if rows_of:
        from pipeline.reading.checklist import extract_checklist

        return extract_checklist(found, values)
    return values


#: A value in a printed sentence, with or without a filter or default ({{ v.promoted_count or '　' }}).
_PLACEHOLDER = re.compile(r"\{\{\s*([cv])\.(\w+)\b[^}]*\}\}")


def sentence_blanks(form: Form) -> list[tuple[re.Pattern, list[str]]]:
    """Given a form, return for each printed sentence with field blanks in it (共推动（{{ v.promoted_count }}）家…)
    a pattern over its folded text and the field ids of its blanks, in order.

    Campaign values in the sentence ({{ c.year }}) match anything; each blank takes what is typed between
    the printed words around it.
    """
    out = []
    for item in form.layout:
        rows = (item.get("table") or {}).get("rows", []) if isinstance(item, dict) else []
        for cell in (c for row in rows for c in row):
            text = cell.get("text") if isinstance(cell, dict) else None
            if not text or "{{ v." not in str(text):
                continue
            pattern, ids, at = "", [], 0
            for match in _PLACEHOLDER.finditer(str(text)):
                pattern += re.escape(fold(str(text)[at:match.start()]))
                pattern += "(.*?)" if match[1] == "v" else ".*?"
                if match[1] == "v":
                    ids.append(match[2])
                at = match.end()
            pattern += re.escape(fold(str(text)[at:]))
            out.append((re.compile(pattern), ids))
    return out


def blank_values(index: Index, blanks: list[tuple[re.Pattern, list[str]]]) -> dict[str, str]:
    """Given a form's index and its sentence blanks, return field id → the text typed into its blank."""
    found: dict[str, str] = {}
    for pattern, ids in blanks:
        for unit in index.units:
            match = pattern.search(fold(unit.text))
            if match:
                found.update({fid: match[n] for n, fid in enumerate(ids, 1) if match[n]})
                break
    return found


def slot_date(index: Index, located: tuple[Unit, str], footer: tuple[str, ...]) -> tuple[str | None, str | None]:
    """Given a located value and the lines printed under it, return (its text, the date written in its slot).

    A value written on a line of its own (承诺企业（盖章）：…) may have its date on that line or alone on the
    next paragraph.
    """
    unit, raw = located
    on_line = unit.table < 0
    text, written = split_slot_date(raw, footer, same_line=on_line)
    if written is None and on_line:
        after = index.next_unit(unit)
        if after is not None and after.table < 0:
            written = date_only(after.text)
    return text, written


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
                    raw_rows[-1][fid] = page_cut_joined(raw_rows[-1].get(fid, ""), texts[fid])
                continue
            raw_rows.append(texts)
    return normalised_rows(form, raw_rows)


_UNSEEN = object()


def page_cut_joined(before: str, after: str) -> str:
    """Given a cell's text above a page break and the rest below it, return the cell's text: a number or code
    the break cut (13900000 | 048) joined as written, anything else on a line of its own."""
    if before and after and before[-1].isascii() and before[-1].isalnum() and after[0].isascii() and after[0].isalnum():
        return before + after
    return f"{before}\n{after}" if before else after


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


def report_title(lines: list[str], form: Form) -> tuple[str | None, list[str]]:
    """Given the report's lines and its form, return its title (wrapped lines joined) and the body lines after it.

    A title broken after the company name ('关于XX公司' / '实施用户满意工程情况的报告') is read whole.
    """
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None, []
    keys = [fold(k) for k in form.detect]
    for end in range(first + 1, min(first + 3, len(lines)) + 1):
        joined = "".join(line.strip() for line in lines[first:end])
        if any(k in fold(joined) for k in keys):
            return clean(joined), lines[end:]
    return clean(lines[first]), lines[first + 1:]


def extract_report(found: Found) -> dict:
    """Given the found report, return its title, body length and the outline sections present and missing."""
    form = found.form
    lines: list[str] = []
    for block in found.blocks:
        if block.kind == "paragraph":
            lines.extend(block.text.split("\n"))
        else:
            lines.extend(line for cell in block.cells() for line in cell.text.split("\n"))
    title, body = report_title(lines, form)
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
