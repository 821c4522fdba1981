"""Rule 12: the company name is the same on every form; and the key batch rules compare names by."""

from __future__ import annotations

import re

from pipeline.checking.rules.messages import application_key, is_filled, issue, label, title, values
from pipeline.common.text import fold

#: The forms whose 企业名称 must agree, in the order messages list them.
NAME_FORMS = ("cover", "application", "implementation_status", "commitment", "recommendation", "site_inspection")
#: Seal notes written into the name cell: （公章）, (盖章), 加盖公章.
SEAL_NOTE = re.compile(r"[（(][^（）()]*章[^（）()]*[）)]|加盖公章|盖章|公章")


def company_key(name) -> str | None:
    """Given a company name as written, return it folded without seal notes (None when empty)."""
    if not isinstance(name, str):
        return None
    key = fold(SEAL_NOTE.sub("", name))
    return key or None


def form_names(record: dict) -> list[tuple[str, str]]:
    """Given a record, return (form key, company name) for each name form that gives a name."""
    out = []
    for form_id in NAME_FORMS:
        name = values(record, form_id).get("company_name")
        if is_filled(name):
            out.append((application_key(record) if form_id == "application" else form_id, name))
    return out


def differing_names(record: dict, campaign) -> list[dict]:
    """Given a record, return an `inconsistent` warning when the forms give different company names."""
    named = [(key, name) for key, name in form_names(record) if key]
    if len({company_key(n) for _, n in named}) <= 1:
        return []
    listing = "；".join(f"{title(key, campaign)}{label(key, 'company_name')}为“{name}”" for key, name in named)
    return [issue("warning", "inconsistent", f"各表企业名称不一致：{listing}；请核对并统一", "填报说明第2条",
                  field="company_name")]
