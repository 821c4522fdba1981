"""Rule 1: the forms and attachments a submission of its category must hold.

Which forms are required is the forms' own `required` and `categories` (pipeline.definitions.forms);
which attachments are expected comes from the seed's 填报说明, listed once here.
"""

from __future__ import annotations

from pipeline.checking.rules.messages import category, issue, present, title
from pipeline.definitions.forms import categories, load_forms, packet_spec, required_forms

#: 填报说明第1条 lists the packet; the forms it does not name have their own article.
FORM_ARTICLES = {"implementation_status": "通知第四条", "site_inspection": "填报说明第8条"}
DEFAULT_FORM_ARTICLE = "填报说明第1条"

#: (kind, categories or None for all, what staff look for, article) — 填报说明第4条、第6条, 通知第二条.
EXPECTED_ATTACHMENTS = (
    ("business_license", None, "营业执照复印件", "填报说明第4条"),
    ("survey_report", None, "第三方用户满意度测评报告", "填报说明第6条"),
    ("trademark", ("product",), "工商注册商标批准文件复印件", "填报说明第4条"),
)


def in_packet_order(forms: list) -> list:
    """Given forms, return them in the packet's order (packet.yaml), the others (the report) last."""
    order = list(packet_spec()["order"])
    return sorted(forms, key=lambda f: order.index(f.id) if f.id in order else len(order))


def expected_forms(cat: str | None) -> list:
    """Given a category id (or None), return the required forms; without a category, those all share."""
    if cat:
        return in_packet_order(required_forms(cat))
    common = None
    for cid in categories():
        keys = {f.key for f in required_forms(cid) if f.id != "application"}
        common = keys if common is None else common & keys
    forms = load_forms()
    return in_packet_order([forms[k] for k in forms if k in (common or set())])


def missing_forms(record: dict, campaign) -> list[dict]:
    """Given a record and the campaign, return a `missing_form` error for each required form absent.

    None for a submission whose forms came as scans only: its one `scanned_forms` error says so.
    """
    if any(i.get("code") == "scanned_forms" for i in record.get("issues") or []):
        return []
    cat = category(record)
    out = []
    for form in expected_forms(cat):
        if not present(record, form.id):
            out.append(issue("error", "missing_form", f"缺少{title(form, campaign)}，请补交",
                             FORM_ARTICLES.get(form.id, DEFAULT_FORM_ARTICLE), form=form.id))
    if not cat and not present(record, "application"):
        names = "、".join(categories().values())
        out.append(issue("error", "missing_form", f"缺少申请表（{names}之一），请补交",
                         DEFAULT_FORM_ARTICLE, form="application"))
    return out


def missing_attachments(record: dict, campaign) -> list[dict]:
    """Given a record, return an `attachment_check` warning for each expected attachment not recognised.

    A submission of which no form could be read is left to its `unreadable_file` / `missing_form` errors.
    """
    if not record.get("forms"):
        return []
    cat = category(record)
    kinds = {a.get("kind") for a in record.get("attachments") or [] if isinstance(a, dict)}
    out = []
    for kind, cats, what, article in EXPECTED_ATTACHMENTS:
        if (cats is None or cat in cats) and kind not in kinds:
            out.append(issue("warning", "attachment_check",
                             f"未识别出{what}；可能未提交，或文件名、内容无法辨认，请人工核对", article))
    return out
