"""Rules 3 and 4: every required field filled (or its emptiness explained), every value in its format.

Required fields and formats are the forms' own (`Field.required`, `Field.format`, `Field.type`);
the enterprise 申请表's trade parts are its `parts` setting. 填报说明第2条: 不填之项要说明原因.
"""

from __future__ import annotations

from pipeline.checking.rules.messages import application_key, is_empty, is_filled, issue, shown, title, where
from pipeline.common.text import is_approximate, is_email, is_explained_empty, is_phone, is_postcode, number_unit
from pipeline.definitions.forms import Form, load_forms
from pipeline.reading.values import asks_year_month

#: The article behind each form's fields; the applicant's forms fall back to 填报说明第2条.
FORM_ARTICLES = {"recommendation": "填报说明第8条", "site_inspection": "填报说明第8条",
                 "implementation_status": "填报说明第3条", "commitment": "填报说明第5条"}
DEFAULT_ARTICLE = "填报说明第2条"
#: Fields whose own article says more than the form's.
FIELD_ARTICLES = {
    ("recommendation", "valid_questionnaires"): "被访者信息登记表注3",
    ("recommendation", "survey_period"): "推荐意见表注3",
    ("recommendation", "compliant"): "推荐意见表注2",
    ("recommendation", "opinion"): "推荐意见表注4",
    ("application", "owner_evaluation"): "管理办法第七条第5款",
}
#: Checked by their own rule (rule 2: the cover's category).
OWNED_ELSEWHERE = {("cover", "category")}

#: format → (check, what a valid value is).
FORMATS = {
    "phone": (lambda v: is_phone(str(v)), "有效的手机或固定电话号码"),
    "postcode": (is_postcode, "6位数字的邮政编码"),
    "email": (lambda v: is_email(str(v)), "有效的电子邮箱地址"),
}
#: type → what the value should have become when it was written readably.
TYPE_NEEDS = {"number": "数字", "date": "日期（如2017年5月9日）", "period": "起止日期（如2016年12月1日至2017年3月31日）"}


def article(form_id: str, field_id: str) -> str:
    """Given a form id and a field id, return the seed article that requires the field."""
    return FIELD_ARTICLES.get((form_id, field_id)) or FORM_ARTICLES.get(form_id, DEFAULT_ARTICLE)


def checked_forms(record: dict) -> list[tuple[Form, dict]]:
    """Given a record, return (form, values) for each table form it holds that the rules check."""
    forms = load_forms()
    out = []
    for form_id, found in (record.get("forms") or {}).items():
        if not isinstance(found, dict):
            continue  # the respondent register is a list, checked by its own rule
        key = application_key(record) if form_id == "application" else form_id
        form = forms.get(key or "")
        if form and not form.standalone:
            out.append((form, found))
    return out


def parts(form: Form) -> dict[str, list[str]]:
    """Given a form, return part (side label) → its field ids, for the parts of its `parts` setting."""
    names = ["".join(str(p).split()) for p in form.get("parts") or []]
    return {name: [f.id for f in form.fields.values() if f.group == name] for name in names}


def required_ids(form: Form, found: dict) -> list[str]:
    """Given a form and its values, return the fields that must be filled.

    Of the trade parts only those the applicant used (any field really filled) are required.
    """
    grouped = parts(form)
    in_parts = {fid for ids in grouped.values() for fid in ids}
    used = {fid for ids in grouped.values() if any(is_filled(found.get(i)) for i in ids) for fid in ids}
    return [f.id for f in form.fields.values()
            if f.required and (form.id, f.id) not in OWNED_ELSEWHERE and (f.id not in in_parts or f.id in used)]


def missing_fields(record: dict, campaign) -> list[dict]:
    """Given a record, return a `missing_field` error for each required field left empty without a reason."""
    out = []
    for form, found in checked_forms(record):
        for fid in required_ids(form, found):
            if is_empty(found.get(fid)):
                out.append(issue("error", "missing_field",
                                 f"{where(form, fid, campaign)}未填写；须如实填写，确实不适用的请注明原因（如“无”“不适用”）",
                                 article(form.id, fid), form=form.id, field=fid))
        grouped = parts(form)
        if grouped and not any(is_filled(found.get(i)) for ids in grouped.values() for i in ids):
            names = "、".join(f"“{p}”" for p in grouped)
            out.append(issue("error", "missing_field",
                             f"{title(form, campaign)}中{names}各栏都未填写；须填写与本企业相符的一栏",
                             DEFAULT_ARTICLE, form=form.id))
    return out


def format_problem(field, value) -> str | None:
    """Given a field and its filled value, return what it should be when the value is malformed, else None."""
    if is_empty(value) or (isinstance(value, str) and is_explained_empty(value)):
        return None
    if field.format in FORMATS:
        check, needs = FORMATS[field.format]
        return None if check(value) else needs
    if field.type == "number" and isinstance(value, str):
        if is_approximate(value, field.unit):
            return f"确切的{TYPE_NEEDS['number']}（“约”是估计的数，请填写确切数值）"
        unit = number_unit(value, field.unit)
        if unit and field.unit:
            return f"以“{field.unit}”为单位的数字（单位“{unit}”无法换算为“{field.unit}”）"
        if unit:
            return f"{TYPE_NEEDS['number']}（单位“{unit}”无法换算）"
        return TYPE_NEEDS["number"]
    if field.type == "date" and isinstance(value, str) and not _iso(value):
        if asks_year_month(field.label) and _iso_month(value):
            return None  # 出生年月 asks for a year and month: 'YYYY-MM' is what it asks
        return TYPE_NEEDS["date"]
    if field.type == "period" and not isinstance(value, dict):
        return TYPE_NEEDS["period"]
    if field.type == "period" and value.get("start") and value.get("end") and value["end"] < value["start"]:
        return f"{TYPE_NEEDS['period']}（结束日期早于开始日期）"
    return None


def _iso_month(value: str) -> bool:
    return len(value) == 7 and value[4] == "-" and value.replace("-", "").isdigit() and 1 <= int(value[5:]) <= 12


def _iso(value: str) -> bool:
    return len(value) == 10 and value[4] == "-" and value[7] == "-" and value.replace("-", "").isdigit()


def invalid_formats(record: dict, campaign) -> list[dict]:
    """Given a record, return an `invalid_format` error for each phone, postcode, e-mail, date or number malformed."""
    out = []
    for form, found in checked_forms(record):
        for field in form.fields.values():
            needs = format_problem(field, found.get(field.id))
            if needs:
                out.append(issue("error", "invalid_format",
                                 f"{where(form, field.id, campaign)}填写为“{shown(found.get(field.id))}”，"
                                 f"不是{needs}；请核对后重新填写", article(form.id, field.id),
                                 form=form.id, field=field.id))
    return out
