"""summary.xlsx for staff: 汇总, 问题清单, 被访者 and one sheet per category's 申请表.

Every heading comes from `pipeline.definitions.forms` (labels as printed), every cell goes through
`pipeline.common.xlsx`, so a company named '=HYPERLINK(…)' stays text. The sheets follow the program:
one per category (its 申请表 or 申报表's fields, then each row's 自评), 被访者 where its packet has one.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipeline.common.xlsx import Sheet, add_sheet, new_workbook, save
from pipeline.definitions.forms import load_forms
from pipeline.definitions.programs import Program, program_of
from pipeline.definitions.vocabulary import Severity, Status, label_of

OVERVIEW = ["来源", "企业名称", "类别", "推进单位", "状态", f"{Severity.ERROR.label}数", f"{Severity.WARNING.label}数",
            "满意度得分", "有效问卷数量", "被访者人数", "收件日期", "收件箱", "解析时间"]
ISSUES = ["来源", "企业名称", "级别", "表单", "栏目", "说明", "依据"]


def form_of(record: dict, form_id: str | None, campaign):
    """Given a record, a form id from an issue and the campaign, return the Form (the record's own variant), or None."""
    return program_of(campaign).form_of(record, form_id)


def issue_place(record: dict, issue: dict, campaign) -> tuple[str, str]:
    """Given a record and one of its issues, return (form title as printed, field label as printed)."""
    form = form_of(record, issue.get("form"), campaign)
    if form is None:
        return issue.get("form") or "", issue.get("field") or ""
    field = form.fields.get(issue.get("field") or "")
    return form.printed_title(campaign), (field.plain_label if field else issue.get("field") or "")


def score_of(record: dict):
    """Given a record, return the satisfaction score: the 推荐意见表's (a program's 申报表's), else the 测评报告's."""
    forms = record.get("forms") or {}
    score = (forms.get("recommendation") or {}).get("satisfaction_score")
    if score is None and isinstance(forms.get("application"), dict):
        score = forms["application"].get("satisfaction_index")
    if score is None:
        score = next((a.get("score") for a in record.get("attachments", []) if a.get("score") is not None), None)
    return score


def received_date(record: dict, origin=None) -> date | None:
    """Given a record (and the [inbox, run, received] it came from), return the day it was received: the
    workspace's (its version's received_on), else the run's --received day, else the day of the run that read it."""
    origin = list(origin or ())
    for text in (record.get("received_on"), origin[2] if len(origin) > 2 else None, origin[1] if len(origin) > 1 else None):
        try:
            return date.fromisoformat(str(text)[:10])
        except ValueError:  # none given there (or not a day)
            continue
    return None


def overview_row(record: dict, names: dict, origin=None, unit: str | None = None) -> list:
    """Given a record, the category names of its program (the [inbox, run, received] it came from, its 推进单位),
    return its 汇总 row."""
    issues = record.get("issues", [])
    forms = record.get("forms") or {}
    return [
        record.get("source"), record.get("company_name"), names.get(record.get("category"), "未确定"), unit,
        label_of(Status, record.get("status")),
        sum(i.get("severity") == Severity.ERROR for i in issues), sum(i.get("severity") == Severity.WARNING for i in issues),
        score_of(record), (forms.get("recommendation") or {}).get("valid_questionnaires"),
        len(forms.get("respondents") or []), received_date(record, origin), *(list(origin or ())[:2] + [None, None])[:2],
    ]


def issue_rows(records: list[dict], campaign):
    """Given the records, yield one 问题清单 row per issue."""
    for record in records:
        for issue in record.get("issues", []):
            form, label = issue_place(record, issue, campaign)
            yield [record.get("source"), record.get("company_name"), label_of(Severity, issue.get("severity"), ""),
                   form, label, issue.get("message"), issue.get("article")]


def respondent_header() -> list[str]:
    """Return the 被访者 sheet's header: the submission, then every field of the register."""
    return ["来源", "企业名称"] + [f.plain_label for f in load_forms()["respondents"].fields.values()]


def respondent_rows(record: dict) -> list[list]:
    """Given a record, return its 被访者 rows (each respondent with its submission)."""
    fields = list(load_forms()["respondents"].fields)
    source, company = record.get("source"), record.get("company_name")
    return [[source, company, *map(row.get, fields)] for row in ((record.get("forms") or {}).get("respondents") or [])]


def field_headings(form) -> list[str]:
    """Given a 申请表, return one column heading per field: its label, numbered when it repeats."""
    seen: dict[str, int] = {}
    out = []
    for f in form.fields.values():
        label = f.plain_label
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}（{seen[label]}）")
    return out


def category_sheet(records: list[dict], program: Program, category: str) -> tuple[str, list[str], list[list]]:
    """Given the records, the program and a category, return its sheet's name, header and rows: the fields of its
    申请表 (申报表), then each row's 自评 when its packet has a 自评表."""
    known = program.forms
    application, checklist = known[f"application.{category}"], known.get(f"checklist.{category}")
    rows_of = (checklist.get("criteria") if checklist else None) or {}
    header = ["来源"] + field_headings(application) + [f"自评（{r['article']}）" for r in rows_of.values()]
    rows = []
    for r in records:
        if r.get("category") != category:
            continue
        forms = r.get("forms") or {}
        own = forms.get("application") if isinstance(forms.get("application"), dict) else {}
        marks = forms.get("checklist") if isinstance(forms.get("checklist"), dict) else {}
        rows.append([r.get("source")] + [own.get(fid) for fid in application.fields] + [marks.get(s) for s in rows_of])
    # The sheet is named as the form calls itself: 企业类申请表 (黑龙江), 服务明星申报表 (广东) …
    return f"{program.category(category).name}{application.title[-3:]}", header, rows


class Summary:
    """summary.xlsx, written in two steps so its longest sheet can be laid out while records still come in.

    `add` each record in source order as soon as it is parsed: its 被访者 rows go to the file at
    once (the batch rules never change them). `finish` with all the records writes the other sheets,
    which the batch rules may still change, and saves. `discard` drops an unfinished workbook.
    """

    #: Tabs in the order staff read them.
    PLACES = {"汇总": 0, "问题清单": 1, "被访者": 2}

    def __init__(self, path: Path, campaign, origins: dict | None = None):
        self.path, self.campaign = Path(path), campaign
        self.program = program_of(campaign)
        self.origins = origins or {}  # submission id → [inbox, run] (pipeline.common.outputs.origins)
        self.book = new_workbook()
        # A 被访者 sheet where the program's packet has a 被访者信息登记表 (黑龙江).
        self.respondents = (Sheet(self.book, "被访者", respondent_header(), place=self.PLACES["被访者"])
                            if "respondents" in self.program.forms else None)

    def add(self, record: dict) -> None:
        """Given the next record in source order, write its 被访者 rows."""
        if self.respondents is not None:
            self.respondents.add(respondent_rows(record))

    def finish(self, records: list[dict]) -> Path:
        """Given all the records (sorted by source, batch rules applied), write the other sheets, save, return the path."""
        book = self.book
        if self.respondents is not None:
            self.respondents.close()
        status_fills = {s.label: s.value for s in Status}  # 材料齐全 green, 需补正 red (xlsx.STYLES)
        names = self.program.category_names()
        add_sheet(book, "汇总", OVERVIEW, (overview_row(r, names, self.origins.get(r.get("submission_id")),
                                                      self.program.promoting_unit(r)) for r in records),
                  fills={OVERVIEW.index("状态") + 1: status_fills}, place=self.PLACES["汇总"])
        add_sheet(book, "问题清单", ISSUES, issue_rows(records, self.campaign),
                  fills={ISSUES.index("级别") + 1: {s.label: s.value for s in Severity}},
                  place=self.PLACES["问题清单"])
        for place, category in enumerate(names, start=len(self.PLACES)):
            add_sheet(book, *category_sheet(records, self.program, category), place=place)
        save(book, self.path)
        return self.path

    def discard(self) -> None:
        """Drop the workbook if it was not saved (a run that failed or was interrupted); a no-op after `finish`."""
        self.book.close()


def write_summary(records: list[dict], path: Path, campaign) -> Path:
    """Given the records (sorted by source), a path and the campaign, write summary.xlsx and return its path."""
    summary = Summary(path, campaign)
    try:
        for record in records:
            summary.add(record)
        return summary.finish(records)
    finally:
        summary.discard()
