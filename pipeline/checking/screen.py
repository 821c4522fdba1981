"""`manyi screen`: parsed records (plus a facts workbook) checked against a program's criteria.

records → facts (each fact from the record's paths or a derivation, overridden by the facts
workbook) → one outcome per criterion: 符合 / 不符合 / 待核实, with its seed article, the value it
rests on and where its answer came from → the tier reached → a workbook for staff.

Each criterion is answered by the first of:
1. the applicant's own 申报条件自评表 saying 不符合: final (source 自评表), whatever the facts say;
2. a staff verdict in the facts workbook (a column named by the criterion's article or id): 事实表;
3. the criterion's check on the facts: the source of its facts (申报表, 推荐意见, 测评报告, 附件, 事实表, or
   登记簿 NAME for a fact of history answered by an earlier register, `checking.history`); a fact of history
   only the applicant gave never meets a criterion (待核实, 申请人自述);
4. otherwise 待核实: a criterion without a machine check is 需人工核实, a check without its fact 未提供.

The tier follows from the criteria by one rule, applied tier by tier from the lowest (标杆 needs the
用户满意 criteria too): a tier all of whose criteria are 符合 is reached and the next is tried; a tier
with any 不符合 is not reached; otherwise (some 待核实, none 不符合) the tier is 待核实 and the
screening stops there. The result is the highest tier reached (“先进单位”), with the tier still to be
verified when there is one (“用户满意（标杆待核实）”); 待核实 when the lowest is to be verified; 未达到
when the lowest has a 不符合. A packet that needs correction (status incomplete or open errors) gets
the separate note 材料需补正; its tier is not changed by it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.records import company_name, form_value, load_records
from pipeline.common.text import clean, fold, is_explained_empty, to_date, to_number
from pipeline.definitions.programs import (
    Criterion,
    Program,
    load_facts,
    program_of,
    resolve,
)
from pipeline.checking.history import SOURCE_PREFIX as REGISTER_SOURCE
from pipeline.checking.history import history_facts
from pipeline.definitions.vocabulary import Severity, Status
from pipeline.definitions.workbooks import column_names, find_header, read_sheet

MET, NOT_MET, UNKNOWN = "符合", "不符合", "待核实"
NOT_REACHED = "未达到"
MANUAL = "需人工核实"
COMPANY_COLUMN = "企业名称"
CATEGORY_COLUMNS = ("类别", "申报类别")
#: Words that answer a yes/no fact; the “no” words are tried first (不符合 is no, 未认证 is no).
NO_WORDS = ("无", "否", "没有", "未", "不", "false", "no", "n", "0", "×", "✗", "☒")
YES_WORDS = ("有", "是", "已", "符合", "true", "yes", "y", "1", "√", "✓", "✔", "☑")
#: Applicant names for programs whose applicants are people or teams (application fields).
NAME_FIELDS = ("company_name", "name", "team_name")
#: Where a fact was read, as staff call it: the form (or attachment) of its path, or the facts workbook.
SOURCE_NAMES = {"application": "申报表", "recommendation": "推荐意见", "survey_report": "测评报告",
                "checklist": "自评表", "registration": "推荐登记表"}
FACTS_TABLE = "事实表"
DERIVED_SOURCE = {"has_survey_report": "附件", "years_in_use": "申报表", "series_product": "申报表",
                  "quality_certified": "申报表", "satisfaction_years": "申报表"}
#: What a tier reached by a packet still to be corrected is shown with.
NEEDS_CORRECTION = f"材料{Status.INCOMPLETE.label}"
SUMMARY_HEADER = ["企业名称", "类别", "达到等级", "不符合条数", "待核实条数", "说明"]
DETAIL_HEADER = ["企业名称", "类别", "等级", "条款", "条件", "结果", "来源", "依据值"]
#: The source of a criterion nobody answered.
NO_SOURCE = "无（待核实）"
SELF_SOURCE = SOURCE_NAMES["checklist"]


# --- facts ----------------------------------------------------------------------------------------


def yes_no(value) -> bool | None:
    """Given a yes/no answer ('无', '已认证', '是', True, '不符合'), return True/False, or None when unreadable."""
    if isinstance(value, bool):
        return value
    text = fold(str(value)) if value is not None else ""
    if not text:
        return None
    if text.startswith(NO_WORDS) or text in NO_WORDS:
        return False
    if text.startswith(YES_WORDS):
        return True
    return None


def typed(fact, raw):
    """Given a fact and a raw value, return it typed (number, bool, ISO date or clean text), or None when empty."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if fact.type == "number":
        return to_number(raw)
    if fact.type == "yesno":
        answer = yes_no(raw)
        return answer if answer is not None else clean(raw)
    if fact.type == "date":
        return to_date(raw)
    return clean(raw) if not isinstance(raw, (int, float)) else raw


def record_value(record: dict, path: str):
    """Given a record and a path ('forms.application.floor_area', 'attachments.survey_report.score'), return the value."""
    head, _, rest = path.partition(".")
    if head == "forms":
        form, _, fid = rest.partition(".")
        return form_value(record, form, fid)
    if head == "attachments":
        kind, _, key = rest.partition(".")
        for item in record.get("attachments") or []:
            if isinstance(item, dict) and item.get("kind") == kind and item.get(key) not in (None, ""):
                return item[key]
        return None
    return record.get(path)


def _series_product(record: dict, as_of: date):
    if any(i.get("code") == "series_product" for i in record.get("issues") or [] if isinstance(i, dict)):
        return True
    return False if form_value(record, "application", "product_model") else None


def _years_in_use(record: dict, as_of: date):
    for fid in ("acceptance_date", "completion_date"):
        value = to_date(form_value(record, "application", fid))
        try:
            start = date.fromisoformat(str(value))
        except ValueError:
            continue
        return round((as_of - start).days / 365.25, 2)
    return None


def _has_survey_report(record: dict, as_of: date):
    found = any(isinstance(a, dict) and a.get("kind") == "survey_report" for a in record.get("attachments") or [])
    return True if found else None


def _quality_certified(record: dict, as_of: date):
    """A 申报表 that states its certification (质量管理体系认证情况: 已通过…) or gives its certificate's number."""
    stated = form_value(record, "application", "qms") or form_value(record, "application", "employer_qms")
    if stated:
        return yes_no(stated)
    number = clean(form_value(record, "application", "qms_certificate"))
    if number:  # a certificate's number says yes (even 0011…); 无 / 未认证 / 不适用 say no
        return not (is_explained_empty(number) or fold(number).startswith(("无", "未", "没有", "不")))
    return None


def _satisfaction_years(record: dict, as_of: date):
    """The years a 申报表's 最近三年用户满意度测评结果 gives a result for (2018年85分，2019年86分 … → 2, 3 …)."""
    import re

    text = clean(form_value(record, "application", "satisfaction_history"))
    return yearly_results(text) if text else None


#: A score as a 测评结果 lists it (85.2, 86, 100), not part of a longer number or a year.
_SCORE = re.compile(r"(?<![\d.])(100(?:\.0+)?|\d{1,2}(?:\.\d+)?)(?![\d.])")


def yearly_results(text: str) -> int:
    """Given a 最近三年用户满意度测评结果, return how many years it gives a result for.

    The years written count ('2018年85分，2019年86分' → 2); without any year, each score listed is one
    year's ('最近三年…分别为85.2、86.4、87.3' → 3). A figure of the sentence itself ('三年', '第3方') is no
    score: only figures between 50 and 100 are (the 80-point rule's scale).
    """
    years = set(re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", text))
    if years:
        return len(years)
    return sum(1 for score in _SCORE.findall(unicodedata.normalize("NFKC", text)) if 50 <= float(score) <= 100)


#: Facts computed from a record rather than read off one field (`derive:` in _facts.yaml).
DERIVED = {"series_product": _series_product, "years_in_use": _years_in_use, "has_survey_report": _has_survey_report,
           "quality_certified": _quality_certified, "satisfaction_years": _satisfaction_years}


def source_name(path: str) -> str:
    """Given a fact's path ('forms.application.floor_area'), return where staff find it (申报表)."""
    part = path.split(".")[1] if "." in path else path
    return SOURCE_NAMES.get(part, part)


def record_facts(record: dict, as_of: date, sources: dict | None = None) -> dict:
    """Given a record and the date facts are judged at, return fact id → typed value for every fact it carries.

    With `sources`, each fact's source (申报表, 测评报告 …) is put there too.
    """
    result = {}
    for fact in load_facts().values():
        raw = DERIVED[fact.derive](record, as_of) if fact.derive else None
        source = DERIVED_SOURCE.get(fact.derive, "申报表") if raw is not None else None
        for path in fact.paths if raw is None else ():
            raw = record_value(record, path)
            if raw is not None:
                source = source_name(path)
                break
        value = typed(fact, raw)
        if value is not None:
            result[fact.id] = value
            if sources is not None:
                sources[fact.id] = source
    return result


def fact_column(header: str, program: Program) -> tuple[str, str] | None:
    """Given a facts workbook column head, return ('fact', id), ('verdict', criterion id) or ('category', ''), or None."""
    key = fold(header)
    if not key:
        return None
    if key in {fold(c) for c in CATEGORY_COLUMNS}:
        return ("category", "")
    for fact in load_facts().values():
        if key in {fold(fact.name), fold(fact.id), *(fold(a) for a in fact.aliases)}:
            return ("fact", fact.id)
    for crit in program.criteria:
        if key in (fold(crit.id), fold(crit.article)):
            return ("verdict", crit.article if key == fold(crit.article) else crit.id)
    return None


def read_facts_workbook(path: Path, program: Program) -> tuple[dict, list[str]]:
    """Given the facts workbook, return folded company name → {'facts', 'verdicts', 'category', 'name'} and warnings."""
    path = Path(path)
    rows = [list(r) for r in read_sheet(path, "事实表")]
    found = find_header(rows, {"company": column_names("cover", "company_name", COMPANY_COLUMN)}, ("company",),
                        f"事实表 {path.name} ")
    at, name_col = found.row, found.columns["company"]
    header = [clean(h) or "" for h in found.texts]
    columns = {i: fact_column(h, program) for i, h in enumerate(header) if i != name_col}
    warnings = [f"事实表列“{header[i]}”无法识别，已忽略" for i, kind in columns.items() if kind is None and header[i]]
    facts = load_facts()
    table = {}
    for number, row in enumerate(rows[at + 1:], start=at + 2):
        name = clean(row[name_col]) if name_col < len(row) else None
        if not name:
            continue
        entry = table.setdefault(fold(name), {"name": name, "row": number, "facts": {}, "verdicts": {}, "category": None})
        for i, kind in columns.items():
            value = row[i] if i < len(row) else None
            if kind is None or value is None or clean(value) is None:
                continue
            if kind[0] == "fact":
                entry["facts"][kind[1]] = typed(facts[kind[1]], value)
            elif kind[0] == "verdict":
                entry["verdicts"][kind[1]] = yes_no(value)
            else:
                entry["category"] = clean(value)
    return table, warnings


# --- checks ---------------------------------------------------------------------------------------


def _shown(value) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def compare(check: dict, facts: dict, campaign, sources: dict | None = None) -> tuple[bool | None, str]:
    """Given one comparison {fact, op, value[, scale]} and the facts (and where each came from), return
    (result or None, the value shown: 申报表：满意度指数=88.5)."""
    fact = load_facts()[check["fact"]]
    op, want = check["op"], resolve(check.get("value"), campaign)
    if fact.id not in facts:
        return None, f"{fact.name}：未提供"
    have = facts[fact.id]
    source = (sources or {}).get(fact.id)
    shown = (f"{source}：" if source else "") + f"{fact.name}={_shown(have)}"
    if check.get("scale"):
        scale = [fold(str(s)) for s in check["scale"]]
        if fold(str(have)) not in scale:
            return None, f"{shown}（不在 {'/'.join(map(str, check['scale']))} 中）"
        have, want = scale.index(fold(str(have))), scale.index(fold(str(want)))
    if op in ("in", "not_in"):
        found = any(fold(str(item)) in fold(str(have)) for item in want)
        return (found if op == "in" else not found), shown
    if op in ("==", "!="):
        same = have == want if isinstance(want, bool) or isinstance(have, bool) else fold(str(have)) == fold(str(want))
        return (same if op == "==" else not same), shown
    if not isinstance(have, (int, float)) or isinstance(have, bool):
        return None, f"{shown}（不是数字）"
    if op == "between":
        low, high = (resolve(v, campaign) for v in want)
        return low <= have <= high, shown
    return {">=": have >= want, ">": have > want, "<=": have <= want, "<": have < want}[op], shown


def evaluate(check: dict, facts: dict, campaign, sources: dict | None = None) -> tuple[bool | None, str]:
    """Given a check (comparison, all, any or cases) and the facts (and their sources), return (True / False / None,
    evidence)."""
    if "all" in check or "any" in check:
        parts = [evaluate(part, facts, campaign, sources) for part in check.get("all") or check.get("any")]
        results = [r for r, _ in parts]
        evidence = "；".join(e for _, e in parts)
        if "all" in check:
            return (False if False in results else None if None in results else True), evidence
        return (True if True in results else None if None in results else False), evidence
    if "cases" in check:
        for case in check["cases"]:
            when, shown = evaluate(case["when"], facts, campaign, sources)
            if when is None:
                return None, shown
            if when:
                if "check" in case:
                    result, evidence = evaluate(case["check"], facts, campaign, sources)
                    return result, f"{shown}；{evidence}"
                if "met" in case:
                    return True, f"{shown}（{case['met']}）"
                return None, f"{shown}（{case['manual']}）"
        return None, "类别未列明，需人工核实"
    return compare(check, facts, campaign, sources)


# --- screening ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One criterion judged for one applicant: result (符合/不符合/待核实), evidence, whether staff must judge it."""

    criterion: Criterion
    tier: str
    result: str
    evidence: str
    manual: bool = False
    tier_name: str = ""
    source: str = NO_SOURCE


@dataclass
class Screening:
    """One applicant screened: its name, category, the tier reached and every outcome."""

    company: str
    category: str | None
    category_name: str
    tier: str
    outcomes: list = field(default_factory=list)
    note: str = ""

    def count(self, result: str) -> int:
        """Given a result, return how many criteria had it."""
        return sum(1 for o in self.outcomes if o.result == result)


def self_evaluations(program: Program, record: dict, category_id: str) -> dict[str, str]:
    """Given a program, a record and its category, return criterion id → the applicant's 自评 and evidence
    ('符合（附件01）'), from its 申报条件自评表."""
    found = (record.get("forms") or {}).get("checklist")
    if not isinstance(found, dict):
        return {}
    form = program.forms.get(f"checklist.{category_id}")
    out = {}
    for sid, row in ((form.get("criteria") if form else None) or {}).items():
        answer = found.get(sid)
        if isinstance(answer, str):
            evidence = clean(found.get(row["evidence"]))
            out[row["criterion"]] = answer + (f"（{evidence}）" if evidence else "")
    return out


def check_facts(check: dict) -> list[str]:
    """Given a criterion's check (comparison, all, any or cases), return the fact ids it reads, in order."""
    if "fact" in check:
        return [check["fact"]]
    found = []
    for part in (check.get("all") or check.get("any") or []):
        found += check_facts(part)
    for case in check.get("cases") or []:
        found += check_facts(case["when"]) + (check_facts(case["check"]) if "check" in case else [])
    return found


#: Where a history fact's value came from when only the applicant said it (no earlier register was read).
APPLICANT_WORD = "申请人自述，须以往年度的登记簿核实（manyi screen --history）"


def applicants_word(criterion: Criterion, facts: dict, sources: dict) -> list[str]:
    """Given a criterion, the facts and their sources, return the facts of history (`history:` in _facts.yaml) it
    reads that only the applicant gave (neither an earlier register nor staff's facts workbook)."""
    known = load_facts()
    return [f for f in check_facts(criterion.check) if known[f].history and f in facts
            and sources.get(f) != FACTS_TABLE and not str(sources.get(f) or "").startswith(REGISTER_SOURCE)]


def judge(criterion: Criterion, facts: dict, verdicts: dict, campaign, sources: dict | None = None,
          own: str | None = None) -> tuple[str, str, bool, str]:
    """Given a criterion, the facts, staff verdicts (and the facts' sources, the applicant's own 自评), return
    (result, evidence, still for staff to judge, where the answer came from), in the order of the module docstring:
    the applicant's own 不符合 is final."""
    if own and own.startswith(NOT_MET):
        return NOT_MET, f"{SELF_SOURCE}：{own}", False, SELF_SOURCE
    verdict = verdicts.get(criterion.id, verdicts.get(criterion.article))
    if verdict is not None:
        return (MET if verdict else NOT_MET), f"{FACTS_TABLE}：人工核实", False, FACTS_TABLE
    if criterion.manual:
        return UNKNOWN, MANUAL + (f"；{SELF_SOURCE}：{own}" if own else ""), True, NO_SOURCE
    result, evidence = evaluate(criterion.check, facts, campaign, sources)
    used = list(dict.fromkeys(sources.get(f) for f in check_facts(criterion.check) if (sources or {}).get(f)))
    if result is True and applicants_word(criterion, facts, sources or {}):  # the applicant's word alone never meets a condition on its history
        return UNKNOWN, f"{evidence}（{APPLICANT_WORD}）", True, "、".join(used) or NO_SOURCE
    return {True: MET, False: NOT_MET, None: UNKNOWN}[result], evidence, False, "、".join(used) or NO_SOURCE


def tier_reached(category, outcomes: list[Outcome]) -> str:
    """Given a category and its outcomes, return the tier by the module docstring's one rule: tier by tier from the
    lowest, all 符合 → reached (try the next), any 不符合 → stop, else → stop with the tier 待核实."""
    reached = None
    for tier in category.tiers:
        mine = [o.result for o in outcomes if o.tier == tier.id]
        if NOT_MET in mine:
            break
        if UNKNOWN in mine:
            return f"{reached.name}（{tier.name}{UNKNOWN}）" if reached else UNKNOWN
        reached = tier
    return reached.name if reached else NOT_REACHED


def category_of(program: Program, record: dict, given: str | None) -> str | None:
    """Given a program, a record and the facts workbook's 类别 (or None), return the program's category id, or None."""
    for text in (given, record.get("category")):
        found = program.find_category(text)
        if found:
            return found
    return None


def applicant_name(record: dict) -> str:
    """Given a record, return the applicant's name (company, person or team), or its source."""
    name = company_name(record)
    for fid in NAME_FIELDS if not name else ():
        name = name or form_value(record, "application", fid)
    return str(name or record.get("source") or record.get("submission_id") or "（未知）")


def screen_record(program: Program, record: dict, extra: dict | None, campaign, as_of: date,
                  history: tuple[list, list[str]] | None = None) -> Screening:
    """Given a program, a record, its facts workbook row (or None), the campaign (and the titles of earlier
    registers with the registers' names), return its Screening."""
    extra = extra or {}
    name = applicant_name(record)
    cid = category_of(program, record, extra.get("category"))
    if cid is None:
        given = extra.get("category") or record.get("category")
        note = (f"类别“{given}”不属于{program.name}" if given else "记录没有申报类别") + "，未筛选"
        return Screening(name, None, str(given or "（无类别）"), "无法筛选", note=note)
    category = program.category(cid)
    sources: dict = {}
    facts = record_facts(record, as_of, sources)
    if history is not None:  # earlier registers answer the facts of history, over the applicant's word
        kinds = {f.id: f.history for f in load_facts().values() if f.history}
        found, where = history_facts(history[0], kinds, program=program.id, discipline=program.get("discipline") or [],
                                     category=cid, name=name, year=int(campaign.year), deadline=campaign.deadline,
                                     registers=history[1])
        facts.update(found)
        sources.update(where)
    facts.update(extra.get("facts", {}))
    sources.update({fid: FACTS_TABLE for fid in extra.get("facts", {})})
    own = self_evaluations(program, record, cid)
    outcomes = []
    for crit in program.criteria_for(cid):
        result, evidence, manual, source = judge(crit, facts, extra.get("verdicts", {}), campaign, sources,
                                                 own.get(crit.id))
        tier = category.tier(category.tier_of(crit))
        outcomes.append(Outcome(crit, tier.id, result, evidence, manual, tier.name, source))
    note = ""
    errors = [i for i in record.get("issues") or [] if isinstance(i, dict) and i.get("severity") == Severity.ERROR]
    if record.get("status") == Status.INCOMPLETE or errors:
        note = f"{NEEDS_CORRECTION}（{len(errors)} 个{Severity.ERROR.label}，见补正通知）"
    return Screening(name, cid, category.name, tier_reached(category, outcomes), outcomes, note)


def screen_records(campaign, records: list[dict], table: dict | None = None, warn=None,
                   history: tuple[list, list[str]] | None = None) -> list[Screening]:
    """Given the campaign, records and the facts table (folded name → row) (and earlier registers' titles with
    the registers' names: `checking.history`), return one Screening per record by the campaign's program."""
    program = program_of(campaign)
    as_of = campaign.deadline  # a date: load_campaign requires it
    table = table or {}
    used = set()
    screenings = []
    for record in records:
        key = fold(applicant_name(record))
        used.add(key)
        screenings.append(screen_record(program, record, table.get(key), campaign, as_of, history))
    for key, row in table.items():
        if key not in used and warn:
            warn(f"事实表第 {row['row']} 行（{row['name']}）没有对应的申报记录")
    return screenings


def write_workbook(screenings: list[Screening], out: Path) -> Path:
    """Given screenings, write the 筛选结果 and 逐条结果 sheets to `out` and return it."""
    from pipeline.common.xlsx import add_sheet, new_workbook, save

    book = new_workbook()
    add_sheet(book, "筛选结果", SUMMARY_HEADER,
              [[s.company, s.category_name, s.tier, s.count(NOT_MET), s.count(UNKNOWN), s.note] for s in screenings])
    detail = []
    for s in screenings:
        for o in s.outcomes:
            detail.append([s.company, s.category_name, o.tier_name, o.criterion.article,
                           o.criterion.text, o.result, o.source, o.evidence])
    add_sheet(book, "逐条结果", DETAIL_HEADER, detail)
    try:
        save(book, out)
    except OSError as exc:
        raise UserError(f"无法写出筛选结果 {out}：{exc}") from exc
    return Path(out)


@dataclass
class ScreenResult:
    """What a screen run did: the workbook, the screenings and warnings."""

    out: Path
    screenings: list
    warnings: list = field(default_factory=list)

    def summary(self) -> str:
        """Return the one-line Chinese summary."""
        tiers: dict = {}
        for s in self.screenings:
            tiers[s.tier] = tiers.get(s.tier, 0) + 1
        parts = "、".join(f"{name} {n} 个" for name, n in tiers.items())
        return f"已筛选 {len(self.screenings)} 个申报（{parts or '无'}）；结果：{self.out}"


def screen(campaign, records_dir: Path, out: Path, facts: Path | None = None,
           history: tuple[list, list[str]] | None = None) -> ScreenResult:
    """Given the campaign, a records folder, an output workbook and an optional facts workbook (and earlier
    registers' titles), screen the records by the campaign's program."""
    program = program_of(campaign)
    warnings: list[str] = []
    table, more = read_facts_workbook(facts, program) if facts else ({}, [])
    warnings += more
    records = load_records(records_dir, warn=warnings.append)
    screenings = screen_records(campaign, records, table, warn=warnings.append, history=history)
    return ScreenResult(write_workbook(screenings, out), screenings, warnings)
