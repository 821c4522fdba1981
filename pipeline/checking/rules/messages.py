"""What every rule needs to speak: the issue dict, a form's printed title, a field's printed label,
a value as staff read it, a campaign setting, and a record's form values.

Messages are plain Chinese built from the forms' own titles and labels (never written in code),
and end with the seed article they come from: `…；须填写具体型号、规格（填报说明第2条）。`
"""

from __future__ import annotations

from pipeline.common.text import is_blank, is_explained_empty, listed  # noqa: F401 (rules speak through this module)
from pipeline.definitions.forms import Form, load_forms


def issue(severity: str, code: str, message: str, article: str, form: str | None = None,
          field: str | None = None) -> dict:
    """Given an issue's parts, return the issue dict; the message gets its article appended."""
    text = message.rstrip("。；;，, ")
    return {"severity": severity, "code": code, "form": form, "field": field,
            "message": f"{text}（{article}）。", "article": article}


def form_by_key(key: str) -> Form | None:
    """Given 'cover' or 'application.product', return that Form (None when unknown)."""
    return load_forms().get(key)


def title(form: Form | str, campaign) -> str:
    """Given a Form (or its key), return its printed title in book-title marks: 《…申请表》."""
    found = form_by_key(form) if isinstance(form, str) else form
    return f"《{found.printed_title(campaign)}》" if found else f"《{form}》"


def label(form: Form | str, field_id: str) -> str:
    """Given a Form (or its key) and a field id, return the field's label as printed, in quotes."""
    found = form_by_key(form) if isinstance(form, str) else form
    field = found.fields.get(field_id) if found else None
    return f"“{field.plain_label if field else field_id}”"


def where(form: Form | str, field_id: str, campaign) -> str:
    """Given a form and a field, return 《title》“label”, how messages name a field."""
    return title(form, campaign) + label(form, field_id)


def shown(value) -> str:
    """Given a record value, return it as staff would write it (lists joined, periods with 至)."""
    if value is None:
        return "空白"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict) and {"start", "end"} <= set(value):
        return f"{value['start']}至{value['end']}"
    if isinstance(value, (list, tuple)):
        return "、".join(shown(v) for v in value)
    return str(value)


def is_empty(value) -> bool:
    """Given a record value, return whether nothing was filled in (None, blank text, empty list)."""
    if value is None:
        return True
    if isinstance(value, str):
        return is_blank(value)
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return False


def is_filled(value) -> bool:
    """Given a record value, return whether it holds real content (not empty, not 无/不适用/…)."""
    return not is_empty(value) and not (isinstance(value, str) and is_explained_empty(value))


def is_number(value) -> bool:
    """Given a record value, return whether it is a number (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def setting(campaign, path: str):
    """Given a campaign and a dotted key ('construction.min_floor_area'), return its value or None."""
    value = campaign
    for part in path.split("."):
        value = getattr(value, part, None)  # a campaign and its sections read as attributes (Namespace)
    return value


def values(record: dict, form_id: str) -> dict:
    """Given a record and a form id, return that form's values ({} when absent or not a table form)."""
    found = (record.get("forms") or {}).get(form_id)
    return found if isinstance(found, dict) else {}


def present(record: dict, form_id: str) -> bool:
    """Given a record and a form id, return whether the submission holds that form."""
    return form_id in (record.get("forms") or {})


def category(record: dict) -> str | None:
    """Given a record, return its category id when it is one of the four, else None."""
    cat = record.get("category")
    return cat if isinstance(cat, str) and f"application.{cat}" in load_forms() else None


def application_variants(record: dict) -> list[str]:
    """Given a record, return the categories of the 申请表 found (from `forms_found`), in order."""
    return [k.removeprefix("application.") for k in record.get("forms_found") or [] if str(k).startswith("application.")]


def application_key(record: dict) -> str | None:
    """Given a record, return the key of the 申请表 its `application` values belong to, or None.

    The record keeps the variant of its category when found, else the first found (record.py).
    """
    if not present(record, "application"):
        return None
    cat, found = category(record), application_variants(record)
    if cat and (not found or cat in found):
        return f"application.{cat}"
    return f"application.{found[0]}" if found else None
