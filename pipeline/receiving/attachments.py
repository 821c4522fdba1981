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

#: A score: one to three digits (one or two decimals), not part of a longer number, no count or date after it.
_NUM = r"(?<![\d.])(\d{1,3}(?:\.\d{1,2})?)(?![\d.]|\s*[%％年月日个家份名人项次])"
#: What may stand between a figure's words and the figure: connecting words, not a sentence's end or a list.
_GAP = r"[^\d。；;！!？?，,、\n]{0,14}?"
#: The report's overall figure, from the most telling words to the least: the satisfaction score or index
#: itself (满意度得分, 满意度指数, CSI, a 结构变量 table's 用户满意度 row), a 综合得分 / 总得分, then any 得分为 NN 分
#: or 为 NN 分.
_SCORES = tuple(re.compile(words + _GAP + _NUM) for words in (
    r"(?:满意度|CSI|csi)(?:综合|总体|总)?(?:得分|指数|评分|分值|总分|测评结果|测评得分|水平)?",
    r"(?:综合得分|总得分|总体得分|综合评分|总分|综合指数)",
    r"得分",
)) + (re.compile(r"为\s*" + _NUM + r"\s*分"),)
_SAMPLE = re.compile(r"(?:有效样本量|有效样本数|有效样本|有效问卷(?:数量|数)?|样本量|样本数|样本容量|有效调查问卷)"
                     r"[^\d。；;，,]{0,8}?(?:n\s*=\s*)?(\d{1,6})(?!\d)")
_PERIOD = re.compile(r"(?:调查时间|调查期间|调查周期|调查日期|调查时段|访问时间|测评时间|测评期间|调查于|调研时间)"
                     r"\s*(?:为|是|:|：|自|从)?\s*(.{6,60})")
#: Words that end an organisation's name, and the labels a report gives its agency under.
_ORG_END = r"(?:中心|公司|协会|研究院|研究所|大学|学院|事务所|研究会|委员会)"
_AGENCY = re.compile(r"(?:测评机构|调查机构|评价机构|实施机构|测评单位|调查单位|承担单位|第三方机构|受托单位|受托方|受托机构|编制单位)"
                     r"\s*(?:为|是|:|：)?\s*([^\s:：，,。；;]{2,40}" + _ORG_END + r")")
_AGENCY_LINE = re.compile(r"^([^\s:：，,。；;]{2,40}?" + _ORG_END + r")$")
#: CJK characters (and full-width punctuation): a break or space between two of them is where a line wrapped.
_CJK = r"[\u2e80-\u9fff\uff00-\uffef（）：，。、；]"


def flat_text(text: str) -> str:
    """Given a report's text, return it on one line: a break or space next to Chinese is dropped (a wrap, or the
    gap a layout leaves), any other break is one space."""
    flat = unicodedata.normalize("NFKC", text or "")
    flat = re.sub(r"(?<=" + _CJK + r")[ \t\u3000]*\n\s*|\s*\n[ \t\u3000]*(?=" + _CJK + r")", "", flat)
    flat = re.sub(r"(?<=[\u4e00-\u9fff])[ \t\u3000]+(?=[\u4e00-\u9fff])", "", flat)
    return re.sub(r"\s*\n\s*", " ", flat)


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
    """Given a survey report's text, return {score, sample_size, survey_period, agency} (None where not stated).

    Sentences may wrap anywhere ('用户满意度⏎得分为 86.2 分'); the score is read from the most telling phrasing
    the report uses (see `_SCORES`), as a figure between 0 and 100.
    """
    flat = flat_text(text)
    score = None
    for pattern in _SCORES:
        for match in pattern.finditer(flat):
            number = to_number(match[1])
            if isinstance(number, (int, float)) and 0 < number <= 100:
                score = number
                break
        if score is not None:
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
        "agency": survey_agency(text, flat),
    }


def survey_agency(text: str, flat: str) -> str | None:
    """Given a report's text (and its flat form), return the agency that made it: the one a label names
    (测评机构：…), else a line of the report's head that is an organisation's name alone."""
    lines = [unicodedata.normalize("NFKC", line).strip() for line in (text or "").splitlines() if line.strip()]
    for line in lines:  # a label and its name on one line: the name is the longest that ends like one
        named = _AGENCY.search(re.sub(r"\s+", "", line))
        if named:
            return named[1]
    named = _AGENCY.search(flat)  # the name wrapped onto the next line
    if named:
        return named[1]
    for line in lines[:HEAD_LINES + 4]:
        found = _AGENCY_LINE.match(re.sub(r"\s+", "", line))
        if found and "报告" not in line:
            return found[1]
    return None


def attachment(name: str, text: str = "") -> dict:
    """Given a file's name and text, return its record entry: file, kind (and a survey report's facts)."""
    kind = classify(name, text)
    entry = {"file": name, "kind": kind}
    if kind == "survey_report":
        entry.update(survey_facts(text))
    return entry
