"""Where a value read from a scan came from: page, box, confidence, and the seals a form asks for.

A form found in a Document read by OCR (readers/ocr.py) gets an entry in the record's `origins`:
`source: scan`, the file, its pages, the least confidence of its cells and, per field whose value is
found in a cell, that cell's page, box (pixels) and confidence. A value read with little confidence is
kept as read, with a `scan_uncertain` warning asking staff to compare it with the image; a scanned
form that asks for a seal (推荐意见表, 承诺书, 申请表's 公章 …) without a red seal near its seal label gets
`seal_missing`.
"""

from __future__ import annotations

import re

from pipeline.common.text import fold
from pipeline.reading.issues import make_issue

#: A value read with less confidence than this raises `scan_uncertain` (kept as read, never guessed).
LOW_CONFIDENCE = 0.80
UNCERTAIN = "scan_uncertain"
SEAL_MISSING = "seal_missing"


def read_parts(blocks) -> list:
    """Given blocks, return the cells and paragraphs read from an image (those carrying a page)."""
    out = []
    for block in blocks:
        for part in (block.cells() if block.kind == "table" else [block]):
            if part.page is not None:
                out.append(part)
    return out


def needles(value) -> list[str]:
    """Given a field's value, return the texts it may have been read as, folded."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return []
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).split("\n")[0]
    out = [text]
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # a date, as printed on a form
        y, m, d = text.split("-")
        out.append(f"{y}年{int(m)}月{int(d)}日")
    return [fold(t) for t in out if t.strip()]


def where_read(value, parts: list):
    """Given a value and the parts read from an image, return the first part whose text holds it, or None."""
    for needle in needles(value):
        for part in parts:
            if needle and needle in fold(part.text):
                return part
    return None


def form_origin(found, values, file: str, seals: dict) -> tuple[dict, list[dict]]:
    """Given a form found in a scanned Document, its values, the file's name and the seals per page, return
    (its origin entry, its issues)."""
    form = found.form
    parts = read_parts(found.blocks)
    pages = sorted({p.page for p in parts})
    scores = [p.confidence for p in parts if p.confidence is not None]
    origin: dict = {"source": "scan", "file": file, "pages": pages,
                    "confidence": round(min(scores), 3) if scores else None, "fields": {}}
    issues: list[dict] = []
    for fid, value in (values.items() if isinstance(values, dict) else ()):
        part = where_read(value, parts)
        if part is None:
            continue
        score = round(part.confidence, 3) if part.confidence is not None else None
        origin["fields"][fid] = {"page": part.page, "box": list(part.box), "confidence": score}
        if score is not None and score < LOW_CONFIDENCE:
            label = form.fields[fid].plain_label if fid in form.fields else fid
            issues.append(make_issue(
                "warning", UNCERTAIN,
                f"“{file}”第 {part.page} 页“{label}”从扫描件识别为“{value}”，识别把握不大，请对照原件核对",
                form=form.id, field=fid))
    slot = form.seal_label()
    if slot:  # the form asks for a seal (its description prints a 公章/盖章 slot): was one pressed?
        marks = [seals[p] for p in pages if p in seals]
        origin["seal"] = "present" if any(marks) else "absent" if marks else "unreadable"
        if origin["seal"] == "absent":
            issues.append(make_issue(
                "warning", SEAL_MISSING,
                f"扫描件“{file}”中的{re.sub(r'{{.*?}}', '', form.title)}在“{slot}”处未见红色印章，"
                "请核对是否已加盖公章", form=form.id))
    return origin, issues
