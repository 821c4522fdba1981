"""A new version of an applicant compared with the one before: issues resolved, still open, new; fields changed;
and which items of the correction notice sent for the earlier version it answered."""

from __future__ import annotations

from collections import Counter

from pipeline.definitions.vocabulary import IssueCode, label_of, member_of

#: Where a record keeps its respondent rows (a list, compared as a whole).
RESPONDENTS = "respondents"


def issue_key(issue: dict) -> tuple:
    """Given an issue, return what identifies it across versions: (code, form, field)."""
    return (issue.get("code"), issue.get("form"), issue.get("field"))


def _slim(issue: dict) -> dict:
    return {k: issue.get(k) for k in ("severity", "code", "form", "field", "message")}


def issue_changes(before: list[dict], after: list[dict]) -> dict:
    """Given the issues of two versions, return {resolved, still_open, new}: issues of the first gone,
    kept (as the new version words them) and appeared; an issue counts as often as it occurs."""
    left = Counter(issue_key(i) for i in before)
    resolved, still_open, new = [], [], []
    for issue in after:
        key = issue_key(issue)
        if left[key] > 0:
            left[key] -= 1
            still_open.append(_slim(issue))
        else:
            new.append(_slim(issue))
    for issue in reversed(before):
        key = issue_key(issue)
        if left[key] > 0:
            left[key] -= 1
            resolved.append(_slim(issue))
    resolved.reverse()
    return {"resolved": resolved, "still_open": still_open, "new": new}


def field_values(record: dict) -> dict:
    """Given a record, return (form, field) → value for every field of every form, respondents as one list."""
    out = {}
    for form_id, form in (record.get("forms") or {}).items():
        if isinstance(form, dict):
            for field_id, value in form.items():
                out[(form_id, field_id)] = value
        else:
            out[(form_id, None)] = form
    return out


def field_changes(before: dict, after: dict) -> list[dict]:
    """Given two records, return {form, field, before, after} for each value that differs (respondents: their count)."""
    old, new = field_values(before), field_values(after)
    changes = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[0], k[1] or "")):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key[0] == RESPONDENTS:
            a, b = f"{len(a or [])} 行", f"{len(b or [])} 行"
            if a == b:
                a, b = f"{a}（内容不同）", b
        changes.append({"form": key[0], "field": key[1], "before": a, "after": b})
    return changes


def answered_items(notice_items: list[dict], after_issues: list[dict]) -> tuple[list[dict], list[dict]]:
    """Given a notice's items and the new version's issues, return (answered, not answered) items."""
    open_keys = Counter(issue_key(i) for i in after_issues)
    answered, unanswered = [], []
    for item in notice_items:
        key = issue_key(item)
        if open_keys[key] > 0:
            open_keys[key] -= 1
            unanswered.append(item)
        else:
            answered.append(item)
    return answered, unanswered


def compare(before: dict, after: dict, notice: dict | None = None) -> dict:
    """Given the earlier and the new record (issues complete) and the notice sent for the earlier one (or None),
    return the comparison kept with the new version."""
    result = issue_changes(before.get("issues") or [], after.get("issues") or [])
    result["fields_changed"] = field_changes(before, after)
    if notice:
        answered, unanswered = answered_items(notice["items"], after.get("issues") or [])
        result["notice"] = {"number": notice["number"], "date": notice["date"], "answered": answered,
                            "unanswered": unanswered}
    return result


def changed_fields(comparison: dict | None) -> set[tuple]:
    """Given a comparison (or None), return the (form, field) of each value that changed."""
    return {(c["form"], c["field"]) for c in (comparison or {}).get("fields_changed", [])}


def _where(change: dict) -> str:
    return f"{change['form']}.{change['field']}" if change["field"] else change["form"]


def comparison_lines(comparison: dict, label=None) -> list[str]:
    """Given a comparison and `label(form, field)` (the field's printed label; None: the ids, for a test or a log),
    return the Chinese lines staff read."""
    label = label or (lambda form, field: _where({"form": form, "field": field}))
    lines = [f"已解决 {len(comparison['resolved'])} 项，仍未解决 {len(comparison['still_open'])} 项，"
             f"新问题 {len(comparison['new'])} 项，改动字段 {len(comparison['fields_changed'])} 个"]
    for title, key in (("已解决", "resolved"), ("仍未解决", "still_open"), ("新问题", "new")):
        lines += [f"  {title}：{i['message']}" for i in comparison[key]]
    for change in comparison["fields_changed"]:
        where = label(change["form"], change["field"])
        lines.append(f"  改动：{where}：{_shown(change['before'])} → {_shown(change['after'])}")
    notice = comparison.get("notice")
    if notice:
        lines.append(f"  补正通知 {notice['number']}（{notice['date']}）共 {len(notice['answered']) + len(notice['unanswered'])} 项："
                     f"已补正 {len(notice['answered'])} 项，未补正 {len(notice['unanswered'])} 项")
        lines += [f"    已补正：{i['message']}" for i in notice["answered"]]
        lines += [f"    未补正：{i['message']}" for i in notice["unanswered"]]
    return lines


def _shown(value) -> str:
    """Given a changed value, return it as a line shows it: nothing as （空）, a list form's rows by their count."""
    if value is None:
        return "（空）"
    if isinstance(value, list):
        return f"{len(value)} 行"
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def field_namer(program, record: dict, campaign):
    """Given a program, a record and its campaign, return `label(form, field)`: a changed field as staff know it,
    "《form title》field label" (the respondents' list by its title alone), never its ids."""
    def label(form_id: str, field_id: str | None) -> str:
        form = program.form_of(record, form_id)
        title = f"《{form.printed_title(campaign)}》" if form is not None else "表外内容"
        if not field_id:
            return title
        found = form.fields.get(field_id) if form is not None else None
        return f"{title}{found.plain_label if found else '表外栏目'}"

    return label


def issue_name(issue: dict, label=None) -> str:
    """Given an issue and `label(form, field)` (field_namer; None: no place), return how staff name it: the
    issue's Chinese name and, when it has one, its place, e.g. 未达到申报条件（《申请表》建筑面积）."""
    name = label_of(IssueCode, issue.get("code"), default="其他问题")
    where = label(issue["form"], issue.get("field")) if label and issue.get("form") else ""
    return f"{name}（{where}）" if where else name


def pick_issues(issues: list[dict], asked: str) -> list[dict]:
    """Given the open issues in the order `manyi show` numbers them and what staff typed (the number in that
    list, the issue's Chinese name, or its code for scripts), return the issues it names ([] when none)."""
    text = str(asked or "").strip()
    if text.isdigit():
        n = int(text)
        return [issues[n - 1]] if 1 <= n <= len(issues) else []
    return [i for i in issues if text and (i.get("code") == text or label_of(IssueCode, i.get("code")) == text)]


def issue_asked(asked: str) -> str:
    """Given what staff typed to name an issue, return it as a message repeats it: a number as 第 n 项, a code
    by its Chinese name, anything else as typed."""
    text = str(asked or "").strip()
    if text.isdigit():
        return f"第 {int(text)} 项"
    member = member_of(IssueCode, text)
    return member.label if member is not None else text
