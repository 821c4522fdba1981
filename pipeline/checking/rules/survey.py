"""Rule 6: the third-party satisfaction survey — score, start date, and agreement with its report.

管理办法第五至八条第5款: 用户满意度在{min_satisfaction}分以上; 推荐意见表注3: 数据应以{survey_start_min}后组织的
调查为准; 填报说明第6条: the 测评报告 states the sample and the survey period.
"""

from __future__ import annotations

from datetime import date

from pipeline.checking.rules.messages import category, is_number, issue, setting, shown, values, where

#: The article that sets the satisfaction minimum, per category.
SCORE_ARTICLES = {"enterprise": "管理办法第五条第5款", "product": "管理办法第六条第5款",
                  "construction": "管理办法第七条第5款", "service": "管理办法第八条第5款"}
PERIOD_ARTICLE = "推荐意见表注3"
REPORT_ARTICLE = "填报说明第6条"
#: Two scores closer than this are the same score written with different rounding.
SCORE_TOLERANCE = 0.05
FORM = "recommendation"


def survey_report(record: dict) -> dict:
    """Given a record, return the facts of its first 测评报告 attachment that states any ({} when none)."""
    reports = [a for a in record.get("attachments") or [] if isinstance(a, dict) and a.get("kind") == "survey_report"]
    for report in reports:
        if any(report.get(k) is not None for k in ("score", "sample_size", "survey_period")):
            return report
    return {}


def score_of(record: dict):
    """Given a record, return the satisfaction score: the 推荐意见表's, else the 测评报告's, else None."""
    for raw in (values(record, FORM).get("satisfaction_score"), survey_report(record).get("score")):
        if is_number(raw):
            return raw
    return None


def period_of(record: dict) -> dict | None:
    """Given a record, return the survey period {start, end}: the 推荐意见表's, else the 测评报告's."""
    for raw in (values(record, FORM).get("survey_period"), survey_report(record).get("survey_period")):
        if isinstance(raw, dict) and raw.get("start"):
            return raw
    return None


def as_date(text) -> date | None:
    """Given 'YYYY-MM-DD' (or a date), return the date, else None."""
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text))
    except (TypeError, ValueError):
        return None


def low_score(record: dict, campaign) -> list[dict]:
    """Given a record, return `below_threshold` when its satisfaction score is under the campaign minimum."""
    minimum, score = setting(campaign, "min_satisfaction"), score_of(record)
    if minimum is None or score is None or score >= minimum:
        return []
    article = SCORE_ARTICLES.get(category(record), "管理办法第二条")
    return [issue("error", "below_threshold",
                  f"{where(FORM, 'satisfaction_score', campaign)}为{shown(score)}分，低于要求的{shown(minimum)}分",
                  article, form=FORM, field="satisfaction_score")]


def early_survey(record: dict, campaign) -> list[dict]:
    """Given a record, return `survey_too_early` when the survey started before the campaign's cut-off."""
    cutoff, period = as_date(setting(campaign, "survey_start_min")), period_of(record)
    start = as_date(period["start"]) if period else None
    if not cutoff or not start or start >= cutoff:
        return []
    return [issue("error", "survey_too_early",
                  f"{where(FORM, 'survey_period', campaign)}从{start.isoformat()}开始，早于{cutoff.isoformat()}；"
                  f"数据应以{cutoff.isoformat()}后组织的用户满意度调查为准", PERIOD_ARTICLE,
                  form=FORM, field="survey_period")]


def report_disagrees(record: dict, campaign) -> list[dict]:
    """Given a record, return `inconsistent` warnings where the 推荐意见表 and the 测评报告 differ."""
    form, report = values(record, FORM), survey_report(record)
    pairs = (
        ("satisfaction_score", "score", lambda a, b: is_number(a) and is_number(b) and abs(a - b) > SCORE_TOLERANCE),
        ("valid_questionnaires", "sample_size", lambda a, b: is_number(a) and is_number(b) and a != b),
        ("survey_period", "survey_period", lambda a, b: isinstance(a, dict) and isinstance(b, dict)
         and (a.get("start"), a.get("end")) != (b.get("start"), b.get("end"))),
    )
    out = []
    for fid, key, differs in pairs:
        mine, theirs = form.get(fid), report.get(key)
        if differs(mine, theirs):
            out.append(issue("warning", "inconsistent",
                             f"{where(FORM, fid, campaign)}为“{shown(mine)}”，第三方测评报告中为“{shown(theirs)}”；请核对",
                             REPORT_ARTICLE, form=FORM, field=fid))
    return out
