"""Rule 2: exactly one category ticked on the cover, and the 申请表 of that category.

通知第一条 names the four categories; 通知第三条: 每个企业只能申报一项.
"""

from __future__ import annotations

from pipeline.checking.rules.messages import application_variants, issue, label, present, title, values
from pipeline.definitions.forms import categories, category_id

ONE_OF_FOUR = "通知第一条"
ONE_EACH = "通知第三条"


def as_ids(raw) -> list[str]:
    """Given a ticked category as extracted (id, printed name, list of them or None), return the ids."""
    items = raw if isinstance(raw, (list, tuple)) else [] if raw is None else [raw]
    ids = [category_id(str(item)) for item in items]
    return list(dict.fromkeys(i for i in ids if i))


def cover_ticks(record: dict) -> list[str]:
    """Given a record, return the category ids ticked on its cover (`cover_categories` when given)."""
    raw = record.get("cover_categories")
    return as_ids(raw if raw is not None else values(record, "cover").get("category"))


def names(ids: list[str]) -> str:
    """Given category ids, return their printed names joined: 企业类、产品类."""
    printed = categories()
    return "、".join(printed.get(i, i) for i in ids)


def cover_category(record: dict, campaign) -> list[dict]:
    """Given a record, return `no_category` / `multiple_categories` / `inconsistent` issues of rule 2."""
    out = []
    where = title("cover", campaign) + label("cover", "category")
    ticked = cover_ticks(record) if present(record, "cover") else []
    if present(record, "cover") and not ticked:
        out.append(issue("error", "no_category", f"{where}未勾选；须勾选{names(list(categories()))}之一",
                         ONE_OF_FOUR, form="cover", field="category"))
    if len(ticked) > 1:
        out.append(issue("error", "multiple_categories", f"{where}勾选了{names(ticked)}；每个企业只能申报一项，只能勾选一类",
                         ONE_EACH, form="cover", field="category"))
    variants = list(dict.fromkeys(application_variants(record)))
    if len(variants) > 1:
        out.append(issue("error", "multiple_categories",
                         f"提交了{names(variants)}多份申请表；每个企业只能申报一项", ONE_EACH, form="application"))
    if len(ticked) == 1 and variants and ticked[0] not in variants:
        found = "、".join(title(f"application.{v}", campaign) for v in variants)
        out.append(issue("error", "inconsistent",
                         f"{where}勾选的是{names(ticked)}，但提交的是{found}；类别须一致",
                         ONE_EACH, form="cover", field="category"))
    return out
