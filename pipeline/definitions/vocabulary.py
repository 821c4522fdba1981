"""The record's words, typed and written once: an issue's severity and code, a record's status, a staff decision.

Each is an `enum.StrEnum` whose values are the words the JSON records and the workspace database hold
(`"error"`, `"late_submission"`, `"complete"`, `"confirm"`), so a member equals the string read back from a
record, and whose `.label` is the Chinese staff read. Every workbook, notice, page and template takes its
words from here; `docs/RECORD.md` lists the same values (`tests/test_vocabulary.py` checks both ways).

    Severity.ERROR.label                      # 错误
    Severity.ERROR.applicant_label            # 必须修改 (申报自检, read by the applicant)
    label_of(Status, record.get("status"))    # 材料齐全 / 需补正; an unknown word from an old record as it is
    status_of(open_issues)                    # Status.INCOMPLETE when one of the issues that count is an error
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Severity(StrEnum):
    """How much an issue weighs: an error must be put right before the packet is complete, a warning is checked."""

    ERROR = "error", "错误", "必须修改"
    WARNING = "warning", "警告", "请核对"

    def __new__(cls, value: str, label: str, applicant_label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        #: The same severity in the words an applicant reads (申报自检).
        member.applicant_label = applicant_label
        return member


class Status(StrEnum):
    """A record's (or an applicant's) verdict: no error left, or something to correct."""

    COMPLETE = "complete", "材料齐全"
    INCOMPLETE = "incomplete", "需补正"

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Decision(StrEnum):
    """What staff decide in a workspace (the `kind` of a decisions row): on one issue, or a reviewer's opinion."""

    CONFIRM = "confirm", "人工确认", True, "接受此项，按现状处理", "已接受，按现状处理"
    WAIVE = "waive", "同意豁免", True, "豁免此项（须写明理由）", "已豁免"
    OPINION = "opinion", "审定意见", False, "填写审定意见", "已填写审定意见"

    def __new__(cls, value: str, label: str, on_issue: bool, action: str, done: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        #: Whether this decision settles one issue (the issue then no longer counts for the status).
        member.on_issue = on_issue
        #: What the page's button says, in plain words (what staff do by pressing it).
        member.action = action
        #: What the page says of an issue so decided.
        member.done = done
        return member

    @classmethod
    def on_issues(cls) -> tuple[Decision, ...]:
        """Return the decisions that settle an issue (confirm, waive), in order."""
        return tuple(d for d in cls if d.on_issue)


class IssueCode(StrEnum):
    """What an issue is about (its `code`): every code a rule or a reader raises, with its short Chinese name.

    `remedy` is what the 补正通知 asks of the applicant ({…} filled from the campaign and the form by
    `pipeline.issuing.notices`); None where the notice has nothing more specific than its general words.
    `for_applicant` is False for a check only staff can make: it never goes into a letter.
    """

    MISSING_FORM = "missing_form", "缺少表格", "补交此表，按表内要求填写完整并加盖公章"
    MISSING_FIELD = "missing_field", "必填项未填", "填写此项；确实不适用的，请写明原因（如“无”“不适用”）"
    INVALID_FORMAT = "invalid_format", "填写格式不对", "按正确格式重新填写此项"
    NO_CATEGORY = "no_category", "未勾选申报类别", "在封面上勾选一个申报类别"
    MULTIPLE_CATEGORIES = "multiple_categories", "申报类别不唯一", "封面上只勾选一个申报类别，其他类别另行申报"
    BELOW_THRESHOLD = "below_threshold", "未达申报条件", "核实所填数据；未达到申报条件的，本次不能申报"
    SURVEY_TOO_EARLY = "survey_too_early", "满意度调查过早", "提供{survey_start_min}以后组织的用户满意度调查的结果"
    SERIES_PRODUCT = "series_product", "申报系列产品", "产品类只申报一个产品（一个型号规格），不能申报系列产品"
    RESPONDENT_COUNT = "respondent_count", "被访者人数不符", "按被访者信息登记表的要求补足被访者名单"
    RESPONDENT_DUPLICATE = "respondent_duplicate", "被访者重复", "删除或更正重复登记的被访者"
    REPORT_TOO_LONG = "report_too_long", "报告超过字数", "将报告压缩到规定字数以内{max_chars}"
    REPORT_MISSING_SECTION = "report_missing_section", "报告缺少章节", "按报告提纲补写缺少的部分"
    DUPLICATE_APPLICATION = "duplicate_application", "重复申报", "同一企业同一类别只保留一份申报材料"
    LATE_SUBMISSION = "late_submission", "逾期提交", "已过截止日期（{deadline}），请与{association}联系确认能否受理"
    INCONSISTENT = "inconsistent", "前后不一致", "核对各表中的此项，改为一致"
    UNREADABLE_FILE = "unreadable_file", "文件无法读取", "重新提交能够打开的文件（Word、Excel 或 PDF）"
    SCANNED_FORMS = ("scanned_forms", "只有扫描件",
                     "除盖章扫描件外，同时提交申报表格的 Word 电子版（.docx），以便读取所填内容")
    CRITERION_NOT_MET = "criterion_not_met", "自评不符合条件", "对照该项申报条件核实；确不符合的，本次不能申报该等级"
    SCAN_UNCERTAIN = "scan_uncertain", "扫描件识别存疑", None, False  # staff compare the value with the image
    SEAL_MISSING = "seal_missing", "未见公章", "在推荐意见表上加盖推进单位公章后重新扫描提交"
    ATTACHMENT_CHECK = "attachment_check", "附件待核对", None, False
    SERVICE_NAME_UNCLEAR = "service_name_unclear", "服务名称待核对"
    OCCUPANCY_CHECK = "occupancy_check", "入住率待核对"
    AWARD_CHECK = "award_check", "获奖情况待核对"
    REPORT_SECTION_LENGTH = "report_section_length", "报告章节篇幅待核对"
    RULE_FAILED = "rule_failed", "需人工核对", None, False

    def __new__(cls, value: str, label: str, remedy: str | None = None, for_applicant: bool = True):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.remedy = remedy
        #: Whether the applicant can act on it: False for staff's own checks (a licence copy the reader did not
        #: recognise, a rule that could not run), which go to the staff workbook and page, never into a letter.
        member.for_applicant = for_applicant
        return member


#: The vocabularies of the record and the workspace, for whoever needs all of them (tests, the docs check).
VOCABULARIES = (Severity, Status, Decision, IssueCode)


def member_of(kind: type[StrEnum], value):
    """Given a vocabulary (Severity, Status, Decision, IssueCode) and a word read from a record or a row, return
    its member, or None when the vocabulary does not know the word (an old record's, a test's own, None)."""
    try:
        return kind(value)
    except ValueError:
        return None


def label_of(kind: type[StrEnum], value, default: str | None = None) -> str:
    """Given a vocabulary and a word read from a record or a row, return its Chinese label; a word the
    vocabulary does not know gives `default`, or the word itself as text when no default is given ('' for None)."""
    member = member_of(kind, value)
    if member is not None:
        return member.label
    if default is not None:
        return default
    return "" if value is None else str(value)


def labels(kind: type[StrEnum]) -> dict[str, str]:
    """Given a vocabulary, return value → label in the vocabulary's order (a page's select, a workbook's fills)."""
    return {member.value: member.label for member in kind}


def status_of(issues: Iterable[dict]) -> Status:
    """Given the issues that still count (a record's own; in a workspace those no decision settled), return
    Status.INCOMPLETE when one of them is an error, else Status.COMPLETE."""
    return (Status.INCOMPLETE if any(isinstance(i, dict) and i.get("severity") == Severity.ERROR for i in issues)
            else Status.COMPLETE)


def for_applicant(issue: dict) -> bool:
    """Given an issue, return whether the applicant can act on it (a code unknown to the vocabulary counts)."""
    member = member_of(IssueCode, issue.get("code"))
    return member is None or member.for_applicant
