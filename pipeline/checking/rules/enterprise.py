"""Rule 10: the conditions of 管理办法第五条 an enterprise must meet, from its 申请表."""

from __future__ import annotations

import re

from pipeline.checking.rules.messages import application_key, is_empty, is_number, issue, label, shown, values, where
from pipeline.common.text import fold

KEY = "application.enterprise"
FORM = "application"
INCIDENT_ARTICLE = "管理办法第五条第4款"
#: Words of an answer that says 'no major incident' (无, 近三年没有, 否, 未发生…, 无重大安全、质量事故).
NO_INCIDENT = re.compile(r"无|没有|未发生|未出现|不存在|从未|^否")
#: A pass rate of all samples: 国家抽检 must have found nothing wrong (第五条第4款: 抽查中合格).
FULL_PASS = 100


def _app(record: dict) -> dict | None:
    return values(record, FORM) if application_key(record) == KEY else None


def says_none(answer) -> bool:
    """Given the 重大安全、质量事故 answer, return whether it says there was none."""
    if answer is False:
        return True
    return isinstance(answer, str) and bool(NO_INCIDENT.search(fold(answer)))


def major_incidents(record: dict, campaign) -> list[dict]:
    """Given a record, return `below_threshold` when the enterprise reports a major safety or quality incident."""
    app = _app(record)
    answer = app.get("major_incidents") if app else None
    if is_empty(answer) or says_none(answer):
        return []
    return [issue("error", "below_threshold",
                  f"{where(KEY, 'major_incidents', campaign)}填写为“{shown(answer)}”；企业须近年无重大安全、质量事故",
                  INCIDENT_ARTICLE, form=FORM, field="major_incidents")]


def pass_rate(record: dict, campaign) -> list[dict]:
    """Given a record, return a `below_threshold` warning when the national inspection pass rate is under 100 %."""
    app = _app(record)
    rate = app.get("inspection_pass_rate") if app else None
    if not is_number(rate) or rate >= FULL_PASS:
        return []
    return [issue("warning", "below_threshold",
                  f"{where(KEY, 'inspection_pass_rate', campaign)}为{shown(rate)}%；产品须在国家各级质量监督抽查中合格，请核对",
                  INCIDENT_ARTICLE, form=FORM, field="inspection_pass_rate")]


def fixed_assets(record: dict, campaign) -> list[dict]:
    """Given a record, return `inconsistent` when the fixed assets' net value exceeds their original value."""
    app = _app(record)
    if app is None:
        return []
    original, net = app.get("fixed_assets_original"), app.get("fixed_assets_net")
    if not (is_number(original) and is_number(net)) or net <= original:
        return []
    return [issue("error", "inconsistent",
                  f"{where(KEY, 'fixed_assets_net', campaign)}为{shown(net)}，大于{label(KEY, 'fixed_assets_original')}"
                  f"{shown(original)}；净值不应超过原值，请核对", "填报说明第2条", form=FORM, field="fixed_assets_net")]
