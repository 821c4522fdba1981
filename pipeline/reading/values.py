"""A field's raw cell text → the value the contract fixes for its type.

`value(field, raw)` is the one entry point: text is cleaned, numbers/dates/periods go through
`pipeline.common.text`, and check boxes are read by `ticked_options` from the marks next to each
option's printed text.
"""

from __future__ import annotations

import re

from pipeline.common.text import BOX, TICK, TICKED, UNTICKED, clean, clean_lines, fold, to_date, to_number, to_period

MARKS = frozenset({TICK, BOX}) | TICKED | UNTICKED
#: Printed numbering before an option ('1.公共建筑', folded '12、其它' → '12,其它') and the note after it ('（请附复印件）').
_NUMBERING = re.compile(r"^\d+[.,、]")
_NOTE = re.compile(r"\(.*\)$")


def option_core(printed: str) -> str:
    """Given an option as printed ('1.公共建筑', '有（请附复印件）'), return its folded core ('公共建筑', '有')."""
    core = fold(printed)
    core = _NUMBERING.sub("", core)
    return _NOTE.sub("", core) or fold(printed)


def option_spans(text: str, options: dict) -> dict[str, tuple[int, int]]:
    """Given folded text and options (key → printed), return key → (start, end) of its core in the text.

    Longer cores are placed first so '符合' is not found inside '不符合'.
    """
    cores = sorted(((option_core(p), k) for k, p in options.items()), key=lambda x: -len(x[0]))
    taken: list[tuple[int, int]] = []
    spans = {}
    for core, key in cores:
        start = text.find(core)
        while start >= 0 and any(a < start + len(core) and start < b for a, b in taken):
            start = text.find(core, start + 1)
        if start >= 0:
            spans[key] = (start, start + len(core))
            taken.append(spans[key])
    return spans


def _mark_before(text: str, start: int) -> str | None:
    i = start - 1
    while i >= 0 and (text[i].isdigit() or text[i] in ".,、)("):
        i -= 1
    return text[i] if i >= 0 and text[i] in MARKS else None


def _mark_after(text: str, end: int) -> str | None:
    return text[end] if end < len(text) and text[end] in MARKS else None


def ticked_options(raw: str | None, options: dict) -> list[str] | None:
    """Given a cell's text and a field's options, return the ticked option keys in form order.

    A mark belongs to the option it precedes ('☑用户回访'); when the first option has its mark
    after it instead ('企业类□ 产品类√'), marks are read after. Text with options but no marks at all, where
    only one option is left, means the applicant deleted the others: that one is chosen.
    None when no option text is found.
    """
    text = fold(raw or "")
    spans = option_spans(text, options)
    if not spans:
        return None
    before = {k: _mark_before(text, s) for k, (s, _) in spans.items()}
    after = {k: _mark_after(text, e) for k, (_, e) in spans.items()}
    first = min(spans, key=lambda k: spans[k][0])
    if before[first] is None and after[first] is not None:
        marks = after
    else:
        marks = {k: before[k] or (after[k] if after[k] in TICKED | {TICK} else None) for k in spans}
    if not any(c in MARKS for c in text):
        return list(spans) if len(spans) == 1 else None
    return [k for k in options if k in spans and (marks[k] == TICK or marks[k] in TICKED)]


def choice_value(field, raw: str | None):
    """Given a choice/multi/yesno field and its cell text, return the contract value (key, list, bool or None)."""
    keys = ticked_options(raw, field.options)
    if field.type == "multi":
        return keys or None
    if not keys:
        return None
    if field.type == "yesno":
        return {"yes": True, "no": False}.get(keys[0]) if len(keys) == 1 else None
    return keys[0] if len(keys) == 1 else keys


#: An item's printed numbering ('1.', '2、', '3）'); a year ('2016年') or a decimal ('3.5万') is no numbering.
_LIST_NUMBER = re.compile(r"^\d{1,3}\s*(?:[、)）]|[.．](?!\d))\s*")
_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")


def join_lines(raw: str | None) -> str | None:
    """Given text wrapped over lines (a PDF cell, a narrow Word cell), return it on one line.

    A break next to a Chinese character, inside a number or after a hyphen joins without a space
    ('有\n限公司' → '有限公司', '0451-\n87654321' → '0451-87654321'); others become one space.
    """
    if raw is None or "\n" not in raw:
        return raw
    lines = [line.strip() for line in raw.split("\n") if line.strip()]
    out = lines[0] if lines else ""
    for line in lines[1:]:
        a, b = out[-1], line[0]
        glue = "" if (_CJK.match(a) or _CJK.match(b) or (a.isdigit() and b.isdigit()) or a in "-/@.") else " "
        out += glue + line
    return out


_YEAR_MONTH = re.compile(r"^(\d{4})\s*(?:年|[./\-])\s*(\d{1,2})\s*月?$")


def asks_year_month(label: str) -> bool:
    """Given a field's printed label, return whether it asks for a year and month only (出生年月, 参加工作年月)."""
    key = fold(label)
    return "年月" in key and "日" not in key


def to_year_month(raw: str | None) -> str | None:
    """Given a month as written ('1983年7月', '1983.7', '1983-07', '1983/7'), return 'YYYY-MM', else None."""
    import unicodedata

    text = unicodedata.normalize("NFKC", clean(raw) or "").strip()
    match = _YEAR_MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12:
        return None
    return f"{match[1]}-{int(match[2]):02d}"


def value(field, raw: str | None):
    """Given a field and the raw text found for it, return the normalised value (None when empty)."""
    if field.type in ("choice", "multi", "yesno"):
        return choice_value(field, raw)
    if field.type in ("number", "date", "period"):
        raw = join_lines(raw)  # one number or date, whatever broke it over lines
    if field.type == "number":
        return to_number(raw, field.unit)
    if field.type == "date":
        # a field that asks for the year and month (出生年月) takes a month: docs/RECORD.md
        month = to_year_month(raw) if asks_year_month(field.label) else None
        return month or to_date(raw)
    if field.type == "period":
        return to_period(raw)
    if field.type == "list":
        items = [clean(line) for line in (raw or "").splitlines()]
        items = [_LIST_NUMBER.sub("", i) for i in items if i]
        return [i for i in items if i] or None
    return clean_lines(raw)  # a break between paragraphs (or a soft break) is kept: docs/RECORD.md
