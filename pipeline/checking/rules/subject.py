"""Rule 5: the thing honoured is one specific product model, or one specific service.

填报说明第2条: 产品必须填写型号、规格，填写系列产品无效; 服务应填写企业专项服务名称（不是企业的服务机构）.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.checking.rules.messages import application_key, issue, values, where
from pipeline.common.text import fold

ARTICLE = "填报说明第2条"
#: Words that make a product a series (填报说明第2条: 填写系列产品无效). 等 counts only as 'and so on'.
SERIES = re.compile(r"全系列|系列|等(?=$|[,，、;；.。)）\s]|\d*[种款类个型])")
#: A model code: starts with a Latin letter and holds a digit (BCD-215, KFR-35GW); specs (220V, 50Hz) start with digits.
MODEL_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.·/]*\d[A-Za-z0-9\-_.·/]*")
#: What separates several models written in one cell, and the ranges (XR-100至XR-500).
MODEL_SEPARATORS = re.compile(r"[、,，;；]|\s+和\s*|\s*及\s+|(?<=\w)\s*(?:至|~|～)\s*(?=[A-Za-z])")
#: Name endings of an organisation rather than a service (…中心、…部、…公司).
ORGANISATION_ENDINGS = ("中心", "部", "公司", "站", "所", "店", "处", "厅", "局", "院", "集团", "网点")


def several_models(text: str) -> list[str]:
    """Given a 型号及规格 cell, return the model codes when it lists more than one, else []."""
    norm = unicodedata.normalize("NFKC", text)
    codes = [p.strip() for p in MODEL_SEPARATORS.split(norm) if MODEL_CODE.match(p.strip())]
    return codes if len(codes) > 1 else []


def series_reason(text) -> str | None:
    """Given a product name or model, return why it names a series ('系列', 'several models'), or None."""
    if not isinstance(text, str):
        return None
    found = SERIES.search(text)
    if found:
        return f"含“{found[0]}”，属于系列产品"
    codes = several_models(text)
    if codes:
        return f"列出了{len(codes)}个型号，属于系列产品"
    return None


def series_product(record: dict, campaign) -> list[dict]:
    """Given a product record, return a `series_product` error for a model or name that names a series."""
    key = application_key(record)
    if key != "application.product":
        return []
    found = values(record, "application")
    out = []
    for fid in ("product_model", "product_name"):
        reason = series_reason(found.get(fid))
        if reason:
            out.append(issue("error", "series_product",
                             f"{where(key, fid, campaign)}填写为“{found[fid]}”，{reason}；须填写具体型号、规格",
                             ARTICLE, form="application", field=fid))
    return out


def organisation_like(name, others: list) -> bool:
    """Given a service name and the names of the organisation, return whether it names an organisation."""
    if not isinstance(name, str):
        return False
    key = fold(name)
    return key.endswith(ORGANISATION_ENDINGS) or any(isinstance(o, str) and fold(o) == key for o in others)


def service_name(record: dict, campaign) -> list[dict]:
    """Given a service record, return a `service_name_unclear` warning when the service names an organisation."""
    key = application_key(record)
    if key != "application.service":
        return []
    found = values(record, "application")
    name = found.get("service_name")
    if not organisation_like(name, [found.get("service_org"), found.get("company_name")]):
        return []
    return [issue("warning", "service_name_unclear",
                  f"{where(key, 'service_name', campaign)}填写为“{name}”，像是服务机构名称；"
                  f"须填写企业提供的专项服务名称（不是企业的服务机构），请核对", ARTICLE,
                  form="application", field="service_name")]
