"""The rules of a program whose packet is generated (辽宁, 全国标杆, 广州, 广东服务明星), from its own file only.

Which forms a category's packet must hold, and the article that asks for each, are the program's
`packet:` (pipeline.definitions.program_forms); required fields and formats are its forms'; the
self-evaluation checklist is read row by row; the criteria a record's own values can decide (满意度指数
80 以上, 信用等级 AA …) are checked with the criterion's article; the attachments its articles name are
its `attachments:`. Nothing of the seed's Heilongjiang packet (封面, 推荐意见表 …) is asked for.
"""

from __future__ import annotations

from pipeline.checking.rules.fields import format_problem, required_ids
from pipeline.checking.rules.messages import is_empty, is_filled, issue, shown, title, where
from pipeline.definitions.programs import Program, program_of
from pipeline.definitions.program_forms import entry

#: The article of a form's fields when its packet entry names none.
DEFAULT_ARTICLE = "申报须知"


def program_and_category(record: dict, campaign) -> tuple[Program, str | None]:
    """Given a record and the campaign, return the program and the record's category id (None when unknown)."""
    program = program_of(campaign)
    cat = record.get("category")
    return program, cat if cat in program.categories else None


def article_of(program: Program, form_id: str) -> str:
    """Given a program and a form id, return the article its packet entry names."""
    return entry(program, form_id).get("article") or DEFAULT_ARTICLE


def declared_tier(program: Program, record: dict, cat: str) -> str:
    """Given a program, a record and its category, return the tier applied for (申报等级), else the first tier."""
    tiers = [t.id for t in program.category(cat).tiers]
    chosen = ((record.get("forms") or {}).get("application") or {}).get("tier")
    return chosen if isinstance(chosen, str) and chosen in tiers else tiers[0]


def needed_criteria(program: Program, record: dict, cat: str) -> list:
    """Given a program, a record and its category, return the criteria of the tier applied for and those below it."""
    return program.criteria_for(cat, declared_tier(program, record, cat))


def missing_forms(record: dict, campaign) -> list[dict]:
    """Given a record, return a `missing_form` error for each form its category's packet requires and it lacks."""
    program, cat = program_and_category(record, campaign)
    forms = record.get("forms") or {}
    if cat is None:
        names = "、".join(c.name for c in program.categories.values())
        return [issue("error", "missing_form", f"未找到{program.name}的申报表（{names}之一），无法确定申报类别；请补交",
                      article_of(program, "application"), form="application")]
    return [issue("error", "missing_form", f"缺少{title(form, campaign)}，请补交", article_of(program, form.id),
                  form=form.id)
            for form in program.category_forms(cat) if form.required and form.id not in forms]


def held_forms(record: dict, campaign) -> list[tuple]:
    """Given a record, return (program, form id, form, values) for each form of its program it holds."""
    program, cat = program_and_category(record, campaign)
    if cat is None:
        return []
    known = program.forms
    held = ((form_id, known.get(f"{form_id}.{cat}") or known.get(form_id), found)
            for form_id, found in (record.get("forms") or {}).items())
    return [(program, form_id, form, found) for form_id, form, found in held if form is not None]


def checked_forms(record: dict, campaign) -> list[tuple]:
    """Given a record, return (form, values) for each table form of its program it holds (not lists, reports)."""
    return [(form, found) for _, _, form, found in held_forms(record, campaign)
            if isinstance(found, dict) and form.get("kind") in ("application", "table", "checklist")]


def row_fields(form) -> set[str]:
    """Given a checklist, return the ids of its row fields (自评 and 证明材料), which the checklist rule checks."""
    rows = form.get("criteria") or {}
    return set(rows) | {r["evidence"] for r in rows.values()}


def missing_fields(record: dict, campaign) -> list[dict]:
    """Given a record, return a `missing_field` error for each required field left empty without a reason."""
    program = program_of(campaign)
    out = []
    for form, found in checked_forms(record, campaign):
        skip = row_fields(form)
        for fid in required_ids(form, found):
            if fid not in skip and is_empty(found.get(fid)):
                out.append(issue("error", "missing_field",
                                 f"{where(form, fid, campaign)}未填写；须如实填写，确实不适用的请注明原因（如“无”“不适用”）",
                                 article_of(program, form.id), form=form.id, field=fid))
    return out


def invalid_formats(record: dict, campaign) -> list[dict]:
    """Given a record, return an `invalid_format` error for each phone, e-mail, postcode, date or number malformed."""
    program = program_of(campaign)
    out = []
    for form, found in checked_forms(record, campaign):
        for fld in form.fields.values():
            needs = format_problem(fld, found.get(fld.id))
            if needs and fld.id not in row_fields(form):
                out.append(issue("error", "invalid_format",
                                 f"{where(form, fld.id, campaign)}填写为“{shown(found.get(fld.id))}”，不是{needs}；请核对后重新填写",
                                 article_of(program, form.id), form=form.id, field=fld.id))
    return out


def checklist_rows(record: dict, campaign) -> list[dict]:
    """Given a record, return the issues of its 申报条件自评表: rows not answered, ticked twice, or 不符合.

    A criterion self-evaluated 不符合 for the tier applied for (or one below it) is an error with the
    criterion's own article; 符合 without the evidence named is a warning.
    """
    program, cat = program_and_category(record, campaign)
    found = (record.get("forms") or {}).get("checklist")
    if cat is None or not isinstance(found, dict):
        return []
    form = program.forms.get(f"checklist.{cat}")
    needed = {c.id: c for c in needed_criteria(program, record, cat)}
    rows = [(sid, row, needed[row["criterion"]]) for sid, row in (form.get("criteria") or {}).items()
            if row["criterion"] in needed]
    name = title(form, campaign)
    out = []
    for sid, row, crit in rows:
        answer = found.get(sid)
        here = f"{name}第{row['row']}项“{crit.text}”"
        if is_empty(answer):
            out.append(issue("error", "missing_field", f"{here}的“自评”未勾选；须勾选符合、不符合或不适用之一",
                             article_of(program, "checklist"), form="checklist", field=sid))
        elif isinstance(answer, list):
            out.append(issue("error", "invalid_format", f"{here}的“自评”勾选了{shown(answer)}；只能勾选一项",
                             article_of(program, "checklist"), form="checklist", field=sid))
        elif answer == "不符合":
            out.append(issue("error", "criterion_not_met", f"{here}自评为不符合；不符合申报条件的，不能申报该等级",
                             crit.article, form="checklist", field=sid))
        elif answer == "符合" and not is_filled(found.get(row["evidence"])):
            out.append(issue("warning", "attachment_check", f"{here}自评为符合，但“证明材料”栏未写明所附材料",
                             article_of(program, "checklist"), form="checklist", field=row["evidence"]))
    return out


def criteria_not_met(record: dict, campaign) -> list[dict]:
    """Given a record, return a `below_threshold` error for each criterion its own values show it does not meet.

    Only what the forms carry decides here (满意度指数, 信用等级, 连续获称号年数 …); a criterion whose fact
    no form gives is left to `manyi screen` and the facts table.
    """
    from pipeline.checking.screen import evaluate, record_facts

    program, cat = program_and_category(record, campaign)
    if cat is None:
        return []
    as_of = campaign.deadline  # a date: load_campaign requires it
    sources: dict = {}
    facts = record_facts(record, as_of, sources)
    category = program.category(cat)
    out = []
    for crit in needed_criteria(program, record, cat):
        if crit.manual:
            continue
        result, evidence = evaluate(crit.check, facts, campaign, sources)
        if result is False:
            tier = category.tier(category.tier_of(crit)).name
            out.append(issue("error", "below_threshold",
                             f"{evidence}，不符合{category.name}（{tier}）的申报条件“{crit.text}”",
                             crit.article, form="application"))
    return out


def empty_documents(record: dict, campaign) -> list[dict]:
    """Given a record, return a `missing_field` error for a 自我评价报告 without text or a list without a row."""
    out = []
    for program, form_id, form, found in held_forms(record, campaign):
        if form.get("kind") == "report" and isinstance(found, dict) and not found.get("chars"):
            out.append(issue("error", "missing_field", f"{title(form, campaign)}只有标题，没有正文；须按要求撰写",
                             article_of(program, form_id), form=form_id))
        if form.get("kind") == "rows" and not found:
            out.append(issue("error", "missing_field", f"{title(form, campaign)}未填写任何一行",
                             article_of(program, form_id), form=form_id))
    return out


def missing_attachments(record: dict, campaign) -> list[dict]:
    """Given a record, return an `attachment_check` warning for each attachment its program's articles name, not found."""
    program, cat = program_and_category(record, campaign)
    if cat is None:
        return []
    kinds = {a.get("kind") for a in record.get("attachments") or [] if isinstance(a, dict)}
    return [issue("warning", "attachment_check", f"未识别出{item['what']}；可能未提交，或文件名、内容无法辨认，请人工核对",
                  item.get("article") or DEFAULT_ARTICLE)
            for item in program.get("attachments") or [] if item["kind"] not in kinds]


#: A generated program's per-submission rules, in the order staff read their issues.
RULES = (missing_forms, missing_attachments, missing_fields, invalid_formats, checklist_rows, criteria_not_met,
         empty_documents)
