"""Winners follow the program's rules before a number is spent on them.

A winner (a row of the winners workbook, or an applicant in a workspace's winning stage) gets a new
certificate only when:

1. it is an applicant of this campaign (its name and category among the campaign's records), when the
   records are known (a workspace, or `--records` beside `--winners`);
2. its latest version is complete, or staff decided each of its open errors (the workspace's status);
3. it holds no other title of this campaign where the program allows one application per enterprise
   (`applications: {per: enterprise}`, 黑龙江 通知第三条 每个企业只能申报一项);
4. the program's yearly quota is not full (`annual_quota: {max: 10}`, 全国标杆 第五条).

The articles for 1 and 2 are the program's `winners:` setting (`applicant_article`, `complete_article`).
Each refusal names the row (or the applicant's number) and the article. Staff may let one refused row
through with `--allow 行号或编号:理由`; the reason is kept with the certificate (its issue event) and, in a
workspace, in the audit log. Certificates already in the register (a reprint) are not judged again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.common.errors import UserError
from pipeline.common.records import company_name, form_value
from pipeline.common.text import clean, fold
from pipeline.definitions.campaign import Campaign
from pipeline.definitions.programs import Program
from pipeline.definitions.vocabulary import Severity, Status


@dataclass
class Judged:
    """The winners a run may number, the refusals (Chinese, one per row) and the rows let through by --allow."""

    kept: list = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    allowed: list[dict] = field(default_factory=list)  # {key, row, company, rule, reason}


def parse_allow(values) -> dict[str, str]:
    """Given the --allow values ('3:省评审委员会复议通过', '编号12：…'), return row or number → reason.

    A value without a reason, or without a row number, is refused in Chinese."""
    allowed: dict[str, str] = {}
    for value in values or ():
        key, sep, reason = str(value).replace("：", ":").partition(":")
        key = key.strip().removeprefix("第").removesuffix("行").removeprefix("编号").strip()
        if not sep or not reason.strip() or not key.isdigit():
            raise UserError(f"--allow {value} 无法识别：请写作“行号或编号:理由”，如 --allow 3:评审委员会复议同意")
        allowed[str(int(key))] = reason.strip()
    return allowed


def applicant_name(program: Program, record: dict) -> str | None:
    """Given a record, return the name it applies under: its category's applicant field (姓名, 班组名称 …)
    or the company's name."""
    fid = program.applicant_field(record.get("category")) if record.get("category") in program.categories else None
    return clean(form_value(record, "application", fid) if fid else None) or company_name(record)


def winners_setting(program: Program) -> dict:
    """Given a program, return its `winners:` articles (applicant_article, complete_article); empty when unset."""
    return dict(program.get("winners") or {})


def _cite(article: str | None) -> str:
    return f"（{article}）" if article else ""


def find_applicant(program: Program, records: list[dict], w) -> dict | None:
    """Given the campaign's records and a winner row, return a record of the same category and name (a complete
    one when there is one), or None when it never applied.

    A parse folder keeps no order of versions (its files are in name order), so a complete record of the
    applicant stands for it, e.g. the corrected packet parsed beside the first one; a workspace keeps the
    versions and judges the latest (its winners carry their record)."""
    found = [r for r in records if r.get("category") == w.category and fold(applicant_name(program, r) or "") == fold(w.company)]
    complete = [r for r in found if r.get("status") == Status.COMPLETE]
    return (complete or found or [None])[-1]


def open_errors(record: dict) -> int:
    """Given a record (issues after staff decisions), return how many errors are still open."""
    return sum(1 for i in record.get("issues") or [] if isinstance(i, dict) and i.get("severity") == Severity.ERROR)


def judge(winners: list, program: Program, campaign: Campaign, *, records: list[dict] | None,
          titles: list, allow: dict[str, str] | None = None) -> Judged:
    """Given new winners (rows not yet in the register, in order), the campaign's records (None: unknown), the
    titles the register already holds for this campaign (not revoked) and the --allow reasons, return which
    winners may be numbered and why the others may not."""
    allow = dict(allow or {})
    article = winners_setting(program)
    per = program.get("applications") or {}
    quota = program.get("annual_quota") or {}
    held = {fold(e.company): e for e in titles}
    used = len(titles)
    judged = Judged()
    for w in winners:
        reasons = []
        record = getattr(w, "record", None)
        if record is None and records is not None:
            record = find_applicant(program, records, w)
            if record is None:
                reasons.append(f"不是本活动的申报者：申报记录中没有{program.category(w.category).name}“{w.company}”"
                               f"{_cite(article.get('applicant_article'))}")
        if record is not None and record.get("status") != Status.COMPLETE:
            reasons.append(f"最新一版材料尚有 {open_errors(record)} 个错误未补正，也未经工作人员逐项决定"
                           f"{_cite(article.get('complete_article'))}")
        if per.get("per") == "enterprise" and fold(w.company) in held:
            other = held[fold(w.company)]
            what = getattr(other, "number", None) or f"第 {other.row} 行"
            reasons.append(f"该企业已获本活动称号（{what}），每个企业只能申报一项{_cite(per.get('article'))}")
        if quota.get("max") is not None and used >= int(quota["max"]):
            reasons.append(f"本年度名额已满（每年不超过 {quota['max']} 个，已颁发 {used} 个）{_cite(quota.get('article'))}")
        key = str(w.row)
        if reasons and key not in allow:
            judged.refused.append(f"{w.where}（{w.company}）：{'；'.join(reasons)}，未颁发证书"
                                  f"（确需颁发的，用 --allow {key}:理由 放行）")
            continue
        if reasons:
            judged.allowed.append({"key": key, "company": w.company, "rule": "；".join(reasons),
                                   "reason": allow.pop(key)})
        judged.kept.append(w)
        held.setdefault(fold(w.company), w)
        used += 1
    return judged
