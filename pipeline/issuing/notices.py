"""补正通知: for each submission with errors, a letter listing every error and warning, and a mail-merge list.

The messages are the records' own (they already name the form and the label as printed); this
module adds what is needed to put each right, the deadline, and the association's contacts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline.common import office
from pipeline.common.errors import UserError
from pipeline.common.files import safe_filename, unique_names
from pipeline.common.records import company_name, form_value
from pipeline.common.xlsx import add_sheet, new_workbook, save
from pipeline.definitions.campaign import Campaign, issue_date, zh_date
from pipeline.definitions.forms import load_forms
from pipeline.definitions.programs import program_of
from pipeline.definitions.vocabulary import IssueCode, Severity, for_applicant, member_of
from pipeline.word.house_templates import template
from pipeline.word.render import compiled

#: Campaign settings this module reads, and their defaults.
DEFAULTS = {"correction_days": 10}
SUFFIX = "_补正通知"
#: The two letters the notice template prints: put errors right by a deadline, or not eligible at all.
TITLES = {"correction": "补 正 通 知", "ineligible": "不符合申报条件告知书"}
SUFFIXES = {"correction": SUFFIX, "ineligible": "_不符合申报条件告知书"}
#: Issue codes that mean the application fails a condition of the program, not a correctable slip.
INELIGIBLE_CODES = frozenset({IssueCode.BELOW_THRESHOLD})
LIST_NAME = "notices.xlsx"
LIST_HEADER = ("文号", "企业名称", "推进单位", "联系人", "电话", "邮箱", "通信地址", "邮编", "补正期限",
               f"{Severity.ERROR.label}数", f"{Severity.WARNING.label}数", "文件")
PDF_TIMEOUT_S = 600

FORMAT_NEEDED = {
    "phone": "填写有效的电话号码（区号-号码或 11 位手机号）",
    "postcode": "填写 6 位数字的邮政编码",
    "email": "填写有效的电子邮箱地址",
}
TYPE_NEEDED = {"date": "按“{example}”的写法填写日期", "number": "填写数字", "period": "写明起止日期"}
OTHERWISE = "按申报通知的要求更正"


@dataclass
class Result:
    """What a notices run wrote."""

    files: list[Path] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    mail_list: Path | None = None
    without_errors: int = 0
    problems: list[str] = field(default_factory=list)


def deadline_for(campaign: Campaign, today: date | None = None, deadline: date | None = None) -> date:
    """Given a campaign (and optionally a fixed deadline), return the date corrections are due."""
    if deadline:
        return deadline
    days = int(campaign.data.get("correction_days", DEFAULTS["correction_days"]))
    return (today or date.today()) + timedelta(days=days)


def reply_by(campaign: Campaign, notice: dict) -> date:
    """Given a notice sent (a workspace row: its date, and the reply-by day it printed when recorded), return the
    day its correction is due: the printed day, else the campaign's correction period from its date."""
    if notice.get("deadline"):
        return date.fromisoformat(notice["deadline"])
    return deadline_for(campaign, date.fromisoformat(notice["date"]))


def find_field(record: dict, form_id: str | None, field_id: str | None, campaign: Campaign):
    """Given a record, an issue's form and field ids and the campaign (its program's forms), return the Field."""
    form = program_of(campaign).form_of(record, form_id) if field_id else None
    return form.fields.get(field_id) if form else None


def needed(issue: dict, record: dict, campaign: Campaign) -> str:
    """Given an issue, its record and the campaign, return in Chinese what the applicant must do: the issue's own
    `needed`, else its code's remedy (IssueCode.remedy) with the campaign's facts filled in, else OTHERWISE."""
    if issue.get("needed"):
        return str(issue["needed"])
    code = issue.get("code")
    fld = find_field(record, issue.get("form"), issue.get("field"), campaign)
    if code == IssueCode.INVALID_FORMAT and fld is not None:
        if fld.format in FORMAT_NEEDED:
            return FORMAT_NEEDED[fld.format]
        if fld.type in TYPE_NEEDED:
            return TYPE_NEEDED[fld.type].replace("{example}", zh_date(campaign.deadline))
    form = program_of(campaign).forms.get(issue.get("form") or "")
    max_chars = form.get("max_chars") if form else None
    values = {
        "survey_start_min": zh_date(campaign.survey_start_min), "deadline": zh_date(campaign.deadline),
        "association": campaign.association["name"], "max_chars": f"（{max_chars} 字）" if max_chars else "",
    }
    remedy = getattr(member_of(IssueCode, code), "remedy", None) or OTHERWISE
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), ""), remedy)


def association_contact(campaign: Campaign) -> dict:
    """Given a campaign, return the association's contacts as the notice prints them.

    The address is the full one of the seed's call: street, then where in it (省质量协会（省质监局楼内）).
    """
    assoc = campaign.association
    phones = [str(p) for p in (assoc.get("phone"), assoc.get("mobile")) if p]
    address = "　".join(str(part) for part in (assoc.get("address"), assoc.get("location_note")) if part)
    return {
        "name": assoc["name"], "address": address, "postcode": assoc.get("postcode", ""),
        "people": "、".join(map(str, assoc.get("contacts") or [])), "phones": "、".join(dict.fromkeys(phones)),
    }


def applicant_contact(record: dict) -> dict:
    """Given a record, return the applicant's contact person, phone and e-mail (申请表 first, then 合同书)."""
    def first(*pairs):
        return next((v for v in (form_value(record, f, k) for f, k in pairs) if v), None)

    return {
        "person": first(("application", "contact_person"), ("contract", "agent"),
                        ("application", "legal_representative"), ("application", "team_leader"),
                        ("application", "name")),
        "phone": first(("application", "phone"), ("contract", "phone"), ("application", "contact")),
        "email": first(("application", "email"),),
        "address": first(("application", "address"), ("contract", "address")),
        "postcode": first(("application", "postcode"),),
    }


def letter_kind(record: dict) -> str:
    """Given a record with errors, return 'ineligible' when one fails a condition of the program, else 'correction'."""
    codes = {i.get("code") for i in record.get("issues") or [] if isinstance(i, dict) and i.get("severity") == "error"}
    return "ineligible" if codes & INELIGIBLE_CODES else "correction"


def submitted_files(record: dict) -> str:
    """Given a record, return '（file, file）' naming what the applicant sent, or '' when only a folder is known.

    The inbox folder is staff's, not the applicant's: a folder's name is not printed.
    """
    names = []
    source = str(record.get("source") or "")
    if Path(source).suffix and "/" not in source.rstrip("/"):
        names.append(source)
    names += [str(i["file"]) for i in record.get("issues") or [] if isinstance(i, dict) and i.get("file")]
    names = list(dict.fromkeys(names))
    return f"（{'、'.join(names)}）" if names else ""


def notice_reference(campaign: Campaign, number: int) -> str:
    """Given a campaign and the letter's number in this run, return its 文号 (campaign `notices.reference`), or ''."""
    pattern = str((campaign.data.get("notices") or {}).get("reference") or "")
    return pattern.replace("{n}", str(number))


#: Issues about how a field was filled in: on a form another party fills (its `filled_by`: the 推荐单位's
#: 推荐意见表), they are that party's to put right, so staff take them up with it, not the applicant's letter.
FILLING_CODES = frozenset({IssueCode.MISSING_FIELD, IssueCode.INVALID_FORMAT})


def filled_by_others(issue: dict, record: dict, program) -> bool:
    """Given an issue, its record and the program, return whether it is about a field of a form that another
    party than the applicant fills in (the form's `filled_by`, e.g. 推荐单位)."""
    if issue.get("code") not in FILLING_CODES or not issue.get("form"):
        return False
    form = program.form_of(record, issue["form"])
    return bool(form is not None and form.get("filled_by"))


def letter_issues(record: dict, program) -> list[dict]:
    """Given a record and its program, return the issues a letter to its applicant lists: those the applicant
    can act on (IssueCode.for_applicant; not the filling of a form another party fills), and,
    when none of its files could be read at all, only the unreadable files — the forms it "lacks" are in the
    files it must send again, so they are not listed one by one."""
    issues = [i for i in record.get("issues") or [] if isinstance(i, dict) and for_applicant(i)
              and not filled_by_others(i, record, program)]
    unreadable = [i for i in issues if i.get("code") == IssueCode.UNREADABLE_FILE]
    if unreadable and not record.get("forms"):
        return unreadable
    return issues


def notice_context(record: dict, campaign: Campaign, due: date, today: date, number: int = 1,
                   reference: str | None = None) -> dict:
    """Given a record, the campaign, the dates, the letter's number and its 文号 (default the campaign's
    `notices.reference` pattern), return the notice template's context."""
    issues = letter_issues(record, program_of(campaign))
    kind = letter_kind(record)

    def entries(severity, codes=None):
        return [{"message": i.get("message") or i.get("code") or "", "needed": needed(i, record, campaign),
                 "article": i.get("article")} for i in issues
                if i.get("severity") == severity and (codes is None or i.get("code") in codes)]

    ineligible = kind == "ineligible"
    return {
        "c": campaign.context(),
        "company": program_of(campaign).addressee(record) or company_name(record) or f"申报单位（材料：{record.get('source')}）",
        "title": TITLES[kind], "ineligible": ineligible, "reference": reference or notice_reference(campaign, number),
        "source": record.get("source") or record.get("submission_id"), "files": submitted_files(record),
        "deadline": zh_date(due), "today": zh_date(today),
        "errors": entries("error", INELIGIBLE_CODES if ineligible else None),
        "warnings": [] if ineligible else entries("warning"),
        "contact": association_contact(campaign),
    }


def has_errors(record: dict, program) -> bool:
    """Given a record and its program, return whether its applicant's letter lists an error (so a record gets a
    letter exactly when the letter has an item)."""
    return any(isinstance(i, dict) and i.get("severity") == "error" for i in letter_issues(record, program))


def notice_stems(records: list[dict]) -> list[str]:
    """Given records, return distinct file name stems: the company's name, else the source's, and the letter's kind."""
    stems = [safe_filename(company_name(r) or f"{r.get('source') or r.get('submission_id')}")
             + SUFFIXES[letter_kind(r)] for r in records]
    return unique_names(stems)


def make_notices(records: list[dict], out: Path, campaign: Campaign, pdf: bool = False,
                 today: date | None = None, deadline: date | None = None,
                 references: list[str] | None = None) -> Result:
    """Given records, write a notice for each one with errors, the mail-merge list and (optionally) PDFs.

    `today` is the date the notices print and count the deadline from (default: the campaign's notice_date, else today).
    `references` are the letters' 文号 (a workspace's recorded numbers), one per record with errors, in order.
    A deadline before the letter's date is refused (UserError): no letter may ask for a reply in the past.
    """
    today = today or issue_date(campaign, "notices")[0]
    due = deadline_for(campaign, today, deadline)
    if due < today:
        raise UserError(f"补正期限 {zh_date(due)} 早于通知日期 {zh_date(today)}：请给出通知日期之后的期限（--deadline）")
    program = program_of(campaign)
    failing = [r for r in records if has_errors(r, program)]
    result = Result(without_errors=len(records) - len(failing))
    out = Path(out)
    tpl = compiled(template("notice.docx"))
    rows = []
    for number, (record, stem) in enumerate(zip(failing, notice_stems(failing)), 1):
        reference = references[number - 1] if references else None
        ctx = notice_context(record, campaign, due, today, number, reference)
        path = tpl.render(ctx, out / f"{stem}.docx")
        result.files.append(path)
        contact = applicant_contact(record)
        rows.append([ctx["reference"], company_name(record) or "", program.promoting_unit(record) or "",
                     contact["person"], contact["phone"], contact["email"], contact["address"], contact["postcode"],
                     due, len(ctx["errors"]), len(ctx["warnings"]), path.name])
    if failing:
        book = new_workbook()
        add_sheet(book, "补正通知", list(LIST_HEADER), rows)
        result.mail_list = out / LIST_NAME
        save(book, result.mail_list)
    if pdf and result.files:
        for source, converted in office.convert(result.files, "pdf", out, timeout=PDF_TIMEOUT_S).items():
            if isinstance(converted, str):
                result.problems.append(f"{source.name} 未能转为 PDF：{converted}")
            else:
                result.pdfs.append(converted)
    return result
