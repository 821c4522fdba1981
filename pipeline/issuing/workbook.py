"""summary.xlsx for staff: 汇总, 问题清单, 被访者 and one sheet per category's 申请表.

Every heading comes from `pipeline.definitions.forms` (labels as printed), every cell goes through
`pipeline.common.xlsx`, so a company named '=HYPERLINK(…)' stays text. A program whose forms are
generated (辽宁 …) gets its own categories' sheets: its 申报表's fields, then each row's 自评.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.common.xlsx import Sheet, add_sheet, new_workbook, save
from pipeline.definitions.campaign import load_campaign
from pipeline.definitions.forms import application_form, categories, load_forms
from pipeline.definitions.programs import Program, program_of
from pipeline.definitions.vocabulary import Severity, Status, label_of

OVERVIEW = ["来源", "企业名称", "类别", "状态", f"{Severity.ERROR.label}数", f"{Severity.WARNING.label}数", "满意度得分",
            "有效问卷数量", "被访者人数", "收件箱", "解析时间"]
ISSUES = ["来源", "企业名称", "级别", "表单", "栏目", "说明", "依据"]


def generated(campaign) -> Program | None:
    """Given a campaign, return its program when that program's forms are generated (not the seed's), else None."""
    program = program_of(campaign) if campaign is not None else None
    return program if program is not None and program.get("forms") == "generated" else None


def form_of(record: dict, form_id: str | None, campaign=None):
    """Given a record and a form id from an issue (and the campaign), return the Form (the record's own variant), or None."""
    if not form_id:
        return None
    program = generated(campaign)
    if program is not None:
        from pipeline.generating.program_forms import form_set

        known = form_set(program)
        return known.get(f"{form_id}.{record.get('category')}") or known.get(form_id)
    forms = load_forms()
    if form_id == "application":
        category = record.get("category")
        return application_form(category) if category in categories() else forms.get("application.enterprise")
    return forms.get(form_id)


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


def category_names(campaign=None) -> dict[str, str]:
    """Given the campaign, return its program's category id → printed name (the seed's four by default)."""
    program = generated(campaign)
    return {c.id: c.name for c in program.categories.values()} if program else categories()


def overview_row(record: dict, names: dict | None = None, origin=None) -> list:
    """Given a record (the category names of its program, and the [inbox, run] it came from), return its 汇总 row."""
    issues = record.get("issues", [])
    forms = record.get("forms") or {}
    return [
        record.get("source"), record.get("company_name"), (names or categories()).get(record.get("category"), "未确定"),
        label_of(Status, record.get("status")),
        sum(i.get("severity") == Severity.ERROR for i in issues), sum(i.get("severity") == Severity.WARNING for i in issues),
        score_of(record), (forms.get("recommendation") or {}).get("valid_questionnaires"),
        len(forms.get("respondents") or []), *(list(origin or ())[:2] + [None, None])[:2],
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


def category_sheet(records: list[dict], category: str) -> tuple[list[str], list[list]]:
    """Given the records and a category id, return that 申请表 sheet's header and rows."""
    form = application_form(category)
    header = ["来源"] + field_headings(form)
    rows = [[r.get("source")] + [((r.get("forms") or {}).get("application") or {}).get(fid) for fid in form.fields]
            for r in records if r.get("category") == category]
    return header, rows


def program_sheet(records: list[dict], program: Program, category: str) -> tuple[list[str], list[list]]:
    """Given the records, a generated program and a category, return its sheet: 申报表 fields, then each 自评."""
    from pipeline.generating.program_forms import form_set

    known = form_set(program)
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
    return header, rows


class Summary:
    """summary.xlsx, written in two steps so its longest sheet can be laid out while records still come in.

    `add` each record in source order as soon as it is parsed: its 被访者 rows go to the file at
    once (the batch rules never change them). `finish` with all the records writes the other sheets,
    which the batch rules may still change, and saves. `discard` drops an unfinished workbook.
    """

    #: Tabs in the order staff read them.
    PLACES = {"汇总": 0, "问题清单": 1, "被访者": 2}

    def __init__(self, path: Path, campaign=None, origins: dict | None = None):
        self.path, self.campaign = Path(path), campaign or load_campaign()
        self.origins = origins or {}  # submission id → [inbox, run] (pipeline.common.outputs.origins)
        self.book = new_workbook()
        self.respondents = Sheet(self.book, "被访者", respondent_header(), place=self.PLACES["被访者"])

    def add(self, record: dict) -> None:
        """Given the next record in source order, write its 被访者 rows."""
        self.respondents.add(respondent_rows(record))

    def finish(self, records: list[dict]) -> Path:
        """Given all the records (sorted by source, batch rules applied), write the other sheets, save, return the path."""
        book = self.book
        self.respondents.close()
        status_fills = {s.label: s.value for s in Status}  # 材料齐全 green, 需补正 red (xlsx.STYLES)
        names = category_names(self.campaign)
        add_sheet(book, "汇总", OVERVIEW, (overview_row(r, names, self.origins.get(r.get("submission_id"))) for r in records),
                  fills={OVERVIEW.index("状态") + 1: status_fills}, place=self.PLACES["汇总"])
        add_sheet(book, "问题清单", ISSUES, issue_rows(records, self.campaign),
                  fills={ISSUES.index("级别") + 1: {s.label: s.value for s in Severity}},
                  place=self.PLACES["问题清单"])
        program = generated(self.campaign)
        for place, (category, name) in enumerate(names.items(), start=len(self.PLACES)):
            if program is not None:
                add_sheet(book, f"{name}申报表", *program_sheet(records, program, category), place=place)
            else:
                add_sheet(book, f"{name}申请表", *category_sheet(records, category), place=place)
        save(book, self.path)
        return self.path

    def discard(self) -> None:
        """Drop the workbook if it was not saved (a run that failed or was interrupted); a no-op after `finish`."""
        self.book.close()


def write_summary(records: list[dict], path: Path, campaign=None) -> Path:
    """Given the records (sorted by source) and a path, write summary.xlsx and return its path."""
    summary = Summary(path, campaign)
    try:
        for record in records:
            summary.add(record)
        return summary.finish(records)
    finally:
        summary.discard()
