"""Rule 7: the respondent register (被访者信息登记表) against the survey's valid sample n.

注3: 样本量如果少于{respondents_all_below}个就要全部，如果超出{respondents_max}个样本量就提供{respondents_max}个 —
those two are firm (`error`); between them 注2 asks 原则上提供所有被访者信息, so fewer rows than n is a
`warning`. 通知第二条: 无准确被访者信息的，一律视作无效申报 — an empty register is an error.
"""

from __future__ import annotations

from collections import defaultdict

from pipeline.checking.rules.messages import is_empty, is_number, issue, label, listed, setting, title, values
from pipeline.checking.rules.survey import as_date, period_of, survey_report
from pipeline.common.text import fold, is_email, is_phone, phone_digits

FORM = "respondents"
COUNT_ARTICLE = "被访者信息登记表注3"
ALL_ARTICLE = "被访者信息登记表注2"
EMPTY_ARTICLE = "通知第二条"
ACCURACY_ARTICLE = "被访者信息登记表注4"


def rows_of(record: dict) -> list[dict] | None:
    """Given a record, return its respondent rows (None when the register is absent)."""
    rows = (record.get("forms") or {}).get(FORM)
    if rows is None:
        return None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def row_number(row: dict, index: int):
    """Given a row and its position, return how staff find it: its 序号, else its position from 1."""
    seq = row.get("seq")
    return int(seq) if is_number(seq) and float(seq).is_integer() else index + 1


def sample_size(record: dict):
    """Given a record, return n: the 推荐意见表's 有效问卷数量, else the 测评报告's sample, else None."""
    for raw in (values(record, "recommendation").get("valid_questionnaires"), survey_report(record).get("sample_size")):
        if is_number(raw) and raw >= 0:
            return int(raw)
    return None


def expected_rows(n: int, all_below: int, most: int) -> tuple[int, bool]:
    """Given n and the campaign's two limits, return (rows expected, whether fewer is an error)."""
    if n < all_below:
        return n, True
    if n > most:
        return most, True
    return n, False


def respondent_count(record: dict, campaign) -> list[dict]:
    """Given a record, return `respondent_count` issues when the register's rows do not match n."""
    rows = rows_of(record)
    if rows is None:
        return []
    where = title(FORM, campaign)
    if not rows:
        return [issue("error", "respondent_count", f"{where}未填写任何被访者；须提供被访者信息",
                      EMPTY_ARTICLE, form=FORM)]
    n, all_below, most = sample_size(record), setting(campaign, "respondents_all_below"), setting(campaign, "respondents_max")
    if n is None or all_below is None or most is None:
        return []
    want, firm = expected_rows(n, all_below, most)
    have = len(rows)
    if have < want:
        rule = (f"样本量少于{all_below}个的须全部提供" if n < all_below else
                f"样本量超过{most}个的须提供{most}个" if n > most else "原则上须提供所有被访者信息")
        return [issue("error" if firm else "warning", "respondent_count",
                      f"{where}登记了{have}名被访者，有效问卷数量为{n}；{rule}，应登记{want}名",
                      COUNT_ARTICLE if firm else ALL_ARTICLE, form=FORM)]
    if have > want:
        return [issue("warning", "respondent_count",
                      f"{where}登记了{have}名被访者，多于应登记的{want}名（有效问卷数量为{n}）；请核对",
                      COUNT_ARTICLE, form=FORM)]
    return []


def repeated(rows: list[dict], keys: list) -> list[list]:
    """Given rows and a key for each (None for rows without one), return row-number groups sharing a key."""
    groups = defaultdict(list)
    for i, k in enumerate(keys):
        if k:
            groups[k].append(i)
    return [[row_number(rows[i], i) for i in group] for group in groups.values() if len(group) > 1]


def contacts(rows: list[dict]) -> list[str | None]:
    """Given rows, return each one's contact as text (None when empty)."""
    return [None if is_empty(c := r.get("contact")) else str(c) for r in rows]


def duplicates(record: dict, campaign) -> list[dict]:
    """Given a record, return `respondent_duplicate` warnings for repeated people and repeated phone numbers."""
    rows = rows_of(record) or []
    digits = [c and phone_digits(c) for c in contacts(rows)]
    people = repeated(rows, [(fold(str(r["name"])), d) if d and r.get("name") else None for r, d in zip(rows, digits)])
    same_person = {tuple(g) for g in people}
    phones = [g for g in repeated(rows, digits) if tuple(g) not in same_person]
    out = []
    for groups, what, field in ((people, "同一被访者（姓名和联系方式相同）重复登记", "name"),
                                (phones, "不同被访者的联系方式相同", "contact")):
        if groups:
            where = "；".join("序号" + "、".join(map(str, g)) for g in groups)
            out.append(issue("warning", "respondent_duplicate",
                             f"{title(FORM, campaign)}中{what}：{where}；请核对被访者信息的真实性",
                             ACCURACY_ARTICLE, form=FORM, field=field))
    return out


def bad_contacts(record: dict, campaign) -> list[dict]:
    """Given a record, return an `invalid_format` warning listing rows whose contact is no phone or e-mail."""
    rows = rows_of(record) or []
    given = contacts(rows)
    bad = [row_number(r, i) for i, (r, c) in enumerate(zip(rows, given)) if c and not (is_phone(c) or is_email(c))]
    missing = [row_number(r, i) for i, (r, c) in enumerate(zip(rows, given)) if c is None or is_empty(r.get("name"))]
    out = []
    if bad:
        out.append(issue("warning", "invalid_format",
                         f"{title(FORM, campaign)}中序号{listed(bad)}的{label(FORM, 'contact')}不是有效的电话号码；请核对",
                         ACCURACY_ARTICLE, form=FORM, field="contact"))
    if missing:
        out.append(issue("warning", "missing_field",
                         f"{title(FORM, campaign)}中序号{listed(missing)}缺少{label(FORM, 'name')}或{label(FORM, 'contact')}；请补全",
                         ACCURACY_ARTICLE, form=FORM, field="name"))
    return out


def dates_outside(record: dict, campaign) -> list[dict]:
    """Given a record, return `invalid_format` warnings for survey dates unreadable or outside the survey period."""
    rows = rows_of(record) or []
    period = period_of(record)
    start, end = (as_date(period.get("start")), as_date(period.get("end"))) if period else (None, None)
    unreadable, outside = [], []
    for i, row in enumerate(rows):
        raw = row.get("survey_date")
        if is_empty(raw):
            continue
        day = as_date(raw)
        if day is None:
            unreadable.append(row_number(row, i))
        elif (start and day < start) or (end and day > end):
            outside.append(row_number(row, i))
    where = title(FORM, campaign) + label(FORM, "survey_date")
    out = []
    if unreadable:
        out.append(issue("warning", "invalid_format", f"{where}中序号{listed(unreadable)}不是可识别的日期；请核对",
                         ACCURACY_ARTICLE, form=FORM, field="survey_date"))
    if outside:
        # A period of which one end is no date (an edited record) is checked, and named, by the other.
        beyond = (f"不在调查时间{start}至{end}之内" if start and end else
                  f"早于调查开始日期{start}" if start else f"晚于调查结束日期{end}")
        out.append(issue("warning", "invalid_format", f"{where}中序号{listed(outside)}{beyond}；请核对",
                         ACCURACY_ARTICLE, form=FORM, field="survey_date"))
    return out
