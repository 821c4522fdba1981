"""Rule 11: the recommending unit's 推荐意见表 — compliance ticked, opinion given, category agreeing.

Empty fields are rule 3's (the form's `required_fields`); here what was filled but does not do.
"""

from __future__ import annotations

from pipeline.checking.rules.messages import category, is_empty, is_filled, issue, shown, values, where
from pipeline.definitions.forms import categories, category_id

FORM = "recommendation"


def not_compliant(record: dict, campaign) -> list[dict]:
    """Given a record, return `below_threshold` when 不符合 is ticked for 是否符合相关规范."""
    if values(record, FORM).get("compliant") is not False:
        return []
    return [issue("error", "below_threshold",
                  f"{where(FORM, 'compliant', campaign)}勾选了不符合；企业须符合相关法律、法规、国家标准、行业标准的要求",
                  "推荐意见表注2", form=FORM, field="compliant")]


def empty_opinion(record: dict, campaign) -> list[dict]:
    """Given a record, return `missing_field` when the 推荐意见 only says there is none (无, /)."""
    opinion = values(record, FORM).get("opinion")
    if is_empty(opinion) or is_filled(opinion):
        return []
    return [issue("error", "missing_field",
                  f"{where(FORM, 'opinion', campaign)}填写为“{shown(opinion)}”；推荐意见须包括企业在行业中的重要性、"
                  f"用户评价、满意度测评及推荐意见等", "推荐意见表注4", form=FORM, field="opinion")]


def other_category(record: dict, campaign) -> list[dict]:
    """Given a record, return an `inconsistent` warning when the 推荐类别 names another category."""
    written, cat = values(record, FORM).get("category"), category(record)
    named = category_id(written) if isinstance(written, str) else None
    if not named or not cat or named == cat:
        return []
    return [issue("warning", "inconsistent",
                  f"{where(FORM, 'category', campaign)}为“{written}”，而申报类别是{categories()[cat]}；请核对",
                  "填报说明第8条", form=FORM, field="category")]
