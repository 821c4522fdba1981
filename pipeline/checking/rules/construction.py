"""Rule 9: the conditions of 管理办法第七条 a construction project must meet, from its 申请表.

Every number (scale, years in use, occupancy) is the campaign's `construction` settings.
"""

from __future__ import annotations

from datetime import date

from pipeline.checking.rules.messages import (
    application_key,
    is_filled,
    is_number,
    issue,
    label,
    setting,
    shown,
    values,
    where,
)
from pipeline.checking.rules.survey import as_date

KEY = "application.construction"
FORM = "application"
#: The project type 第七条第4款 sets an occupancy condition for (an option key of project_type).
RESIDENTIAL = "住宅工程"


def _app(record: dict) -> dict | None:
    return values(record, FORM) if application_key(record) == KEY else None


def years_after(day: date, years: int | float) -> date:
    """Given a date and a number of years, return the date that many years later (29 Feb → 28 Feb)."""
    whole = int(years)
    try:
        later = day.replace(year=day.year + whole)
    except ValueError:
        later = day.replace(year=day.year + whole, day=28)
    return date.fromordinal(later.toordinal() + round((years - whole) * 365.25))


def small_project(record: dict, campaign) -> list[dict]:
    """Given a record, return `below_threshold` when both floor area and budget are under the campaign's minimum."""
    app = _app(record)
    area_min, value_min = setting(campaign, "construction.min_floor_area"), setting(campaign, "construction.min_value")
    if app is None or area_min is None or value_min is None:
        return []
    area, budget = app.get("floor_area"), app.get("budget")
    if not (is_number(area) and is_number(budget)) or area >= area_min or budget >= value_min:
        return []
    return [issue("error", "below_threshold",
                  f"{where(KEY, 'floor_area', campaign)}为{shown(area)}，{label(KEY, 'budget')}为{shown(budget)}；"
                  f"须建筑面积{shown(area_min)}万平方米以上或建筑施工安装量在{shown(value_min)}万元以上",
                  "管理办法第七条第2款", form=FORM, field="floor_area")]


def recent_completion(record: dict, campaign) -> list[dict]:
    """Given a record, return `below_threshold` when the project was completed too short a time before the deadline."""
    app = _app(record)
    years = setting(campaign, "construction.min_years_in_use")
    as_of = as_date(setting(campaign, "deadline")) or as_date(setting(campaign, "announcement_date"))
    done = as_date(app.get("completion_date")) if app else None
    if not done or years is None or not as_of or years_after(done, years) <= as_of:
        return []
    return [issue("error", "below_threshold",
                  f"{where(KEY, 'completion_date', campaign)}为{done.isoformat()}，到{as_of.isoformat()}不满{shown(years)}年；"
                  f"工程须竣工后经{shown(years)}年以上使用、检验", "管理办法第七条第3款", form=FORM, field="completion_date")]


def owner_evaluation(record: dict, campaign) -> list[dict]:
    """Given a record, return `missing_field` when the owner's evaluation says there is none (无, 未…)."""
    app = _app(record)
    value = app.get("owner_evaluation") if app else None
    if value is None or is_filled(value):
        return []  # an empty cell is rule 3's
    return [issue("error", "missing_field",
                  f"{where(KEY, 'owner_evaluation', campaign)}填写为“{shown(value)}”；建设单位（用户）须出具满意度评价意见",
                  "管理办法第七条第5款", form=FORM, field="owner_evaluation")]


def residential(record: dict, campaign) -> list[dict]:
    """Given a record, return an `occupancy_check` warning for a residential project (occupancy must be shown)."""
    app = _app(record)
    kind = app.get("project_type") if app else None
    kinds = kind if isinstance(kind, list) else [kind]
    minimum = setting(campaign, "construction.min_occupancy")
    if RESIDENTIAL not in kinds or minimum is None:
        return []
    return [issue("warning", "occupancy_check",
                  f"{where(KEY, 'project_type', campaign)}为{RESIDENTIAL}；须达到基本入住条件且入住率在{shown(minimum)}%以上，"
                  f"请核对是否附有入住率证明", "管理办法第七条第4款", form=FORM, field="project_type")]


def no_award(record: dict, campaign) -> list[dict]:
    """Given a record, return an `award_check` warning when no quality-project award is stated."""
    app = _app(record)
    if app is None or is_filled(app.get("awards")):
        return []
    return [issue("warning", "award_check",
                  f"{where(KEY, 'awards', campaign)}填写为“{shown(app.get('awards'))}”；"
                  f"工程须获得国家、省、市、地区或行业命名的优质工程，请核对", "管理办法第七条第1款",
                  form=FORM, field="awards")]
