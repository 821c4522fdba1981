"""Rule 8: the 实施用户满意工程情况的报告 — its length and the outline printed in the 情况表.

The maximum and the outline (with each section's guide length) are forms/report.yaml's.
"""

from __future__ import annotations

from pipeline.checking.rules.messages import form_by_key, is_number, issue, listed, shown, title, values

FORM = "report"
ARTICLE = "企业实施用户满意工程情况表（报告要求）"
#: A section is 'far' from its guide when outside [min × (1 − FAR), max × (1 + FAR)].
FAR = 0.5


def outline() -> list[dict]:
    """Return the report outline: [{num, title, guide?}, …] from forms/report.yaml."""
    form = form_by_key(FORM)
    return [dict(item) for item in (form.get("outline") if form else None) or []]


def too_long(record: dict, campaign) -> list[dict]:
    """Given a record, return `report_too_long` when the report body exceeds the form's max_chars."""
    form = form_by_key(FORM)
    limit, chars = form.get("max_chars") if form else None, values(record, FORM).get("chars")
    if not is_number(limit) or not is_number(chars) or chars <= limit:
        return []
    return [issue("error", "report_too_long",
                  f"{title(form, campaign)}正文{shown(chars)}字，超过{shown(limit)}字的上限；请精简",
                  ARTICLE, form=FORM, field="chars")]


def missing_sections(record: dict, campaign) -> list[dict]:
    """Given a record, return `report_missing_section` listing the outline sections not found."""
    found = values(record, FORM)
    if not found:
        return []
    sections = outline()
    missing = found.get("sections_missing")
    if missing is None and isinstance(found.get("sections_present"), list):
        present = {str(s) for s in found["sections_present"]}
        missing = [s["num"] for s in sections if str(s["num"]) not in present]
    if not missing:
        return []
    names = {str(s["num"]): f"{s['num']}{s.get('title', '')}" for s in sections}
    return [issue("warning", "report_missing_section",
                  f"{title(FORM, campaign)}未找到以下部分：{listed([names.get(str(m), str(m)) for m in missing])}；"
                  f"请按情况表列出的结构撰写", ARTICLE, form=FORM, field="sections_missing")]


def section_lengths(record: dict, campaign) -> list[dict]:
    """Given a record carrying `section_chars` ({num: chars}), return warnings for sections far from their guide."""
    counts = values(record, FORM).get("section_chars")
    if not isinstance(counts, dict):
        return []
    off = []
    for section in outline():
        guide, chars = section.get("guide"), counts.get(str(section["num"]))
        if not guide or not is_number(chars):
            continue
        low, high = guide
        if chars < low * (1 - FAR) or chars > high * (1 + FAR):
            want = f"{low}-{high}字" if low else f"约{high}字"
            off.append(f"{section['num']}{section.get('title', '')}（{shown(chars)}字，要求{want}）")
    if not off:
        return []
    return [issue("warning", "report_section_length",
                  f"{title(FORM, campaign)}以下部分篇幅与要求相差较大：{listed(off)}；请调整",
                  ARTICLE, form=FORM, field="section_chars")]
