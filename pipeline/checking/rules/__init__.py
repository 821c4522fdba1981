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

#: Every per-submission rule, in the order staff read their issues (the issue's rule numbers).
RULES = (
    packet.missing_forms,                # 1
    packet.missing_attachments,
    category.cover_category,             # 2
    fields.missing_fields,               # 3
    fields.invalid_formats,              # 4
    subject.series_product,              # 5
    subject.service_name,
    survey.low_score,                    # 6
    survey.early_survey,
    survey.report_disagrees,
    respondents.respondent_count,        # 7
    respondents.duplicates,
    respondents.bad_contacts,
    respondents.dates_outside,
    report.too_long,                     # 8
    report.missing_sections,
    report.section_lengths,
    construction.small_project,          # 9
    construction.recent_completion,
    construction.owner_evaluation,
    construction.residential,
    construction.no_award,
    enterprise.major_incidents,          # 10
    enterprise.pass_rate,
    enterprise.fixed_assets,
    recommendation.not_compliant,        # 11
    recommendation.empty_opinion,
    recommendation.other_category,
    names.differing_names,               # 12
)


def rules_for(campaign) -> tuple:
    """Given a campaign, return its program's per-submission rules: the seed's for 黑龙江's printed packet,
    the program's own (rules.program) for a generated one."""
    from pipeline.definitions.programs import program_of

    return program.RULES if program_of(campaign).get("forms") == "generated" else RULES


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


def check_batch(records: list[dict], campaign, received: date | None = None) -> dict[str, list[dict]]:
    """Given all records of a run, the campaign and the date received, return submission id → cross-submission issues."""
    out: dict[str, list[dict]] = {}
    found_by = (batch.duplicates(records), batch.late(records, campaign, received))
    if rules_for(campaign) is program.RULES:  # a generated program: its own articles, one per category
        application = program.article_of(program.program_of(campaign), "application")
        found_by = (batch.duplicates(records, application),
                    batch.late(records, campaign, received, "活动通知规定的截止日期"))
    for found in found_by:
        for sid, issues in found.items():
            out.setdefault(sid, []).extend(issues)
    return out
