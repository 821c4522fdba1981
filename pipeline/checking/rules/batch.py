"""Cross-submission rules: one application per enterprise (通知第三条), and lateness (填报说明第9条)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from pipeline.checking.rules.messages import issue, listed, setting
from pipeline.checking.rules.names import company_key, form_names
from pipeline.checking.rules.survey import as_date


def company_of(record: dict) -> str | None:
    """Given a record, return its company name: the record's, else the first form's that gives one."""
    name = record.get("company_name")
    if isinstance(name, str) and company_key(name):
        return name
    found = form_names(record)
    return found[0][1] if found else None


def duplicates(records: list[dict], article: str, per_category: bool) -> dict[str, list[dict]]:
    """Given all records, the article and whether one may apply once per category, return submission id →
    `duplicate_application` for enterprises that applied twice or more (in the same category when per_category).
    """
    by_company = defaultdict(list)
    for record in records:
        key = company_key(company_of(record))
        if key:
            by_company[(key, record.get("category")) if per_category else key].append(record)
    out = {}
    for group in by_company.values():
        if len(group) < 2:
            continue
        sources = listed([r.get("source") or r.get("submission_id") for r in group])
        for record in group:
            text = ("同一类别" if per_category else "") + f"共有{len(group)}份申报（{sources}）"
            rule = "请确认保留哪一份" if per_category else "每个企业只能申报一项，请确认保留哪一项"
            out[record["submission_id"]] = [issue(
                "error", "duplicate_application", f"“{company_of(record)}”在本批材料中{text}；{rule}",
                article, field="company_name")]
    return out


def late(records: list[dict], campaign, received: date | None, article: str,
         answered: dict[str, tuple[date, str]] | None = None) -> dict[str, list[dict]]:
    """Given all records and the date they were received, return `late_submission` for each when after the deadline.

    A record that answers a 补正通知 (`answered`: submission id → the notice's reply-by day and number) is judged
    against that notice's deadline instead of the campaign's: a correction sent in time is not late."""
    campaign_deadline = as_date(setting(campaign, "deadline"))
    out = {}
    for r in records:
        notice = (answered or {}).get(r["submission_id"])
        if notice and campaign_deadline and notice[0] <= campaign_deadline:
            notice = None  # a notice asking for a reply before the campaign's deadline does not shorten it
        deadline = notice[0] if notice else campaign_deadline
        if not received or not deadline or received <= deadline:
            continue
        what = f"补正通知 {notice[1]} 的补正截止日期" if notice else "提交截止时间"
        out[r["submission_id"]] = [issue("error", "late_submission",
                                         f"材料于{received.isoformat()}收到，晚于{what}{deadline.isoformat()}", article)]
    return out
