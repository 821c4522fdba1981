"""The validation rules of the seed (通知, 填报说明, the forms' notes, 管理办法), as small functions.

`check_record` runs every per-submission rule in `RULES` order; `check_batch` the rules that
compare submissions (the contract's verdict is `definitions.vocabulary.status_of`). Each rule: given the record and the
campaign, return its issues. Thresholds and dates are the campaign's, required fields and formats
the forms'; nothing is written twice.
"""

from __future__ import annotations

from datetime import date

from pipeline.checking.rules import (
    batch,
    category,
    construction,
    enterprise,
    fields,
    names,
    packet,
    program,
    recommendation,
    report,
    respondents,
    subject,
    survey,
)
from pipeline.checking.rules.messages import issue
from pipeline.common.errors import UserError
from pipeline.definitions.programs import program_of

#: Every per-submission rule by the name a program file's `rules:` lists it by ('packet.missing_forms' …).
REGISTRY = {f"{rule.__module__.rpartition('.')[2]}.{rule.__name__}": rule for rule in (
    packet.missing_forms, packet.missing_attachments, category.cover_category, fields.missing_fields,
    fields.invalid_formats, subject.series_product, subject.service_name, survey.low_score, survey.early_survey,
    survey.report_disagrees, respondents.respondent_count, respondents.duplicates, respondents.bad_contacts,
    respondents.dates_outside, report.too_long, report.missing_sections, report.section_lengths,
    construction.small_project, construction.recent_completion, construction.owner_evaluation,
    construction.residential, construction.no_award, enterprise.major_incidents, enterprise.pass_rate,
    enterprise.fixed_assets, recommendation.not_compliant, recommendation.empty_opinion,
    recommendation.other_category, names.differing_names, *program.RULES)}
#: The rules of a program file without `rules:`: those that read the program's own packet entries and criteria.
DEFAULT_RULES = tuple(name for name, rule in REGISTRY.items() if rule in program.RULES)
#: The articles of the batch rules when the program file names none.
DEFAULT_DEADLINE_ARTICLE = "活动通知规定的截止日期"


def rules_for(campaign) -> tuple:
    """Given a campaign, return its program's per-submission rules, in the order its file lists them."""
    names = program_of(campaign).get("rules") or DEFAULT_RULES
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise UserError(f"项目文件的 rules 中有未知的检查：{'、'.join(unknown)}（可用：{'、'.join(REGISTRY)}）")
    return tuple(REGISTRY[n] for n in names)


def check_record(record: dict, campaign) -> list[dict]:
    """Given one parsed record and the campaign, return the issues of every per-submission rule of its program.

    A rule that fails on an unexpected value becomes one warning asking for a manual check,
    so the other rules (and the record) survive.
    """
    out = []
    for rule in rules_for(campaign):
        try:
            out.extend(rule(record, campaign))
        except Exception:  # noqa: BLE001 - odd input must not cost the record its other checks
            # Staff read the message, so it names no code; `rule` tells support which check it was.
            failed = issue("warning", "rule_failed", "有一项自动检查未能完成（所填内容无法自动判断），"
                           "请人工核对本申报的各表内容", "人工核对")
            out.append({**failed, "rule": f"{rule.__module__.rpartition('.')[2]}.{rule.__name__}"})
    return out


def duplicate_issues(records: list[dict], campaign) -> dict[str, list[dict]]:
    """Given records and the campaign, return submission id → duplicate issues by its program's rule.

    One application per enterprise (黑龙江 通知第三条), or per enterprise and category (辽宁 …: the 申报表's article).
    """
    chosen = program_of(campaign)
    applications = chosen.get("applications") or {"per": "category", "article": program.article_of(chosen, "application")}
    return batch.duplicates(records, applications["article"], per_category=applications["per"] == "category")


def late_issues(records: list[dict], campaign, received: date | None,
                answered: dict | None = None) -> dict[str, list[dict]]:
    """Given records, the campaign, the date they were received (and, for corrected versions, the 补正通知 each
    answers: submission id → (its deadline, its number)), return submission id → lateness issues."""
    article = program_of(campaign).get("deadline_article") or DEFAULT_DEADLINE_ARTICLE
    return batch.late(records, campaign, received, article, answered)


def check_batch(records: list[dict], campaign, received: date | None = None) -> dict[str, list[dict]]:
    """Given all records of a run, the campaign and the date received, return submission id → cross-submission issues."""
    out: dict[str, list[dict]] = {}
    for found in (duplicate_issues(records, campaign), late_issues(records, campaign, received)):
        for sid, issues in found.items():
            out.setdefault(sid, []).extend(issues)
    return out
