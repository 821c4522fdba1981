"""Attachments (证实性材料): what a file that holds no form is, and the facts of a 测评报告.

A file is classified by its name, then by its text; the third-party survey report is read for
its satisfaction score, valid sample size and survey period, which the rules compare with
the 推荐意见表.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.common.text import fold, to_number, to_period

#: Attachment kind (contract) → words that name it in a file's name, checked in this order (荣誉证书 is an award).
KINDS = (
    ("survey_report", ("测评报告", "满意度调查报告", "满意度测评", "调查报告", "测评结果")),
    ("business_license", ("营业执照", "统一社会信用代码")),
    ("trademark", ("商标注册", "商标", "注册商标")),
    ("award", ("获奖", "荣誉", "奖状", "奖牌", "优质工程", "表彰")),
    ("certificate", ("认证证书", "体系认证", "管理体系", "证书")),
)
#: Words that say what a document IS when its heading prints them. Words any form also prints as a
#: label (统一社会信用代码, 用户满意度测评结果, 所获荣誉, 质量管理体系认证情况) say nothing of what the file is:
#: an application form asks for them too.
TITLE_KINDS = (
    ("survey_report", ("测评报告", "满意度调查报告", "调查报告")),
    ("business_license", ("营业执照",)),
    ("trademark", ("商标注册证", "注册商标证")),
    ("award", ("荣誉证书", "获奖证书", "奖状", "表彰决定", "优质工程")),
    ("certificate", ("认证证书", "体系认证证书")),
)
#: How much of a file's text is its heading: the first lines, where a title, a licence's or a certificate's name is.
HEAD_LINES = 6
HEAD_CHARS = 300

_SCORE = re.compile(r"(?:满意度(?:得分|指数|评分|分值|测评结果|综合得分)?|CSI)\s*(?:为|是|:|：|达到|达)?\s*(\d{2,3}(?:\.\d{1,2})?)\s*分?")
_SAMPLE = re.compile(r"(?:有效样本量|有效样本数|有效样本|有效问卷(?:数量|数)?|样本量|样本数)\s*(?:为|是|:|：|共|达)?\s*(\d{1,6})")
_PERIOD = re.compile(r"(?:调查时间|调查期间|调查周期|调查日期|调查时段|访问时间)\s*(?:为|是|:|：)?\s*(.{6,60})")


def classify(name: str, text: str = "") -> str:
    """Given a file's name and text, return its attachment kind (contract values), 'other' when unknown.

    The name is read for any word of KINDS; the text only for what its heading says the document is.
    """
    folded_name = fold(name)
    for kind, words in KINDS:
        if any(fold(w) in folded_name for w in words):
            return kind
    lines = [line for line in (text or "").splitlines() if line.strip()]
    head = fold("".join(lines[:HEAD_LINES])[:HEAD_CHARS])
    for kind, words in TITLE_KINDS:
        if any(fold(w) in head for w in words):
            return kind
    return "other"


def survey_facts(text: str) -> dict:
    """Given a survey report's text, return {score, sample_size, survey_period} (None where not stated)."""
    flat = unicodedata.normalize("NFKC", text or "").replace("\n", " ")
    score = None
    for match in _SCORE.finditer(flat):
        number = to_number(match[1])
        if isinstance(number, (int, float)) and 0 < number <= 100:
            score = number
            break
    sample = _SAMPLE.search(flat)
    period = None
    for match in _PERIOD.finditer(flat):
        found = to_period(match[1])
        if isinstance(found, dict):
            period = found
            break
    return {
        "score": score,
        "sample_size": int(sample[1]) if sample else None,
        "survey_period": period,
    }


def attachment(name: str, text: str = "") -> dict:
    """Given a file's name and text, return its record entry: file, kind (and a survey report's facts)."""
    kind = classify(name, text)
    entry = {"file": name, "kind": kind}
    if kind == "survey_report":
        entry.update(survey_facts(text))
    return entry
