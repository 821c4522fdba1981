"""Award programs as data: `forms/programs/<id>.yaml`, one per association's rules (seeds 000–004).

A program holds its organiser and issuing bodies, categories and tiers (用户满意 / 标杆 …), the
title and certificate wording of each, their validity, review stages, discipline and the
eligibility criteria, each with the seed article it comes from and, where one is possible, a
machine check (`{fact: …, op: …, value: …}`; `all` / `any` / `cases` combine them). A value
written `{campaign: key}` is read from the program's campaign file, so no number is written twice.
The facts checks read are described once in `forms/programs/_facts.yaml`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.common import resources
from pipeline.common.errors import UserError
from pipeline.common.records import form_value
from pipeline.common.text import clean, fold
from pipeline.definitions import program_forms
from pipeline.definitions.campaign import Campaign, load_campaign
from pipeline.definitions.forms import PROGRAMS_DIR, Form, category_id, yaml_text

FACTS_FILE = PROGRAMS_DIR / "_facts.yaml"
#: Comparisons a check may use.
OPS = (">=", ">", "<=", "<", "==", "!=", "in", "not_in", "between")
FACT_TYPES = ("number", "text", "yesno", "date")
#: Keys every program file must have, with what they mean (for the message when one is missing).
REQUIRED = {"id": "编号", "name": "名称", "seed": "种子文件", "organiser": "组织机构", "issuers": "颁发单位",
            "campaign": "默认活动文件", "categories": "申报类别", "criteria": "申报条件"}


@dataclass(frozen=True)
class Fact:
    """A fact criteria check: its id, Chinese name (the facts workbook's column), type, where records hold it."""

    id: str
    name: str
    type: str = "text"
    aliases: tuple = ()
    paths: tuple = ()
    derive: str | None = None
    history: str | None = None  # answered by earlier registers (checking.history), never by the applicant alone


@dataclass(frozen=True)
class Tier:
    """One tier of a category (用户满意, 标杆 …) and the title its certificate prints."""

    id: str
    name: str
    title: str


@dataclass(frozen=True)
class Category:
    """One category of a program: its name, who applies (organisation/person/team), tiers, form fields."""

    id: str
    name: str
    subject: str
    tiers: tuple
    fields: tuple = ()
    validity: dict = field(default_factory=dict, compare=False)
    aliases: tuple = ()  # the short names staff write in a winners list (班组 for 服务明星班组), from the program file

    def tier(self, tier_id: str) -> Tier:
        """Given a tier id, return the Tier."""
        return next(t for t in self.tiers if t.id == tier_id)

    def tier_of(self, criterion: "Criterion") -> str:
        """Given one of this category's criteria, return the tier it belongs to (the first tier when unset)."""
        return criterion.tier or self.tiers[0].id


@dataclass(frozen=True)
class Criterion:
    """One eligibility condition: seed article, text, the categories and tier it is for, its check (None: manual)."""

    id: str
    article: str
    text: str
    categories: tuple | None = None  # None: every category
    tier: str | None = None  # None: the category's first tier
    check: dict | None = field(default=None, compare=False)

    @property
    def manual(self) -> bool:
        """Whether staff judge this criterion (no machine check)."""
        return self.check is None

    def applies_to(self, category: str) -> bool:
        """Given a category id, return whether this criterion is one of its conditions."""
        return self.categories is None or category in self.categories


@dataclass(frozen=True)
class Program:
    """A loaded program file: the one object every stage asks what is particular to a program.

    Its forms, categories, tiers, criteria, rules (by name, `checking.rules`), stages
    (`definitions.stages`), how a record names its applicant and its 推进单位: each answered here from the
    program file, for 黑龙江 (whose packet prints the seed's forms) exactly as for the others.
    """

    id: str
    name: str
    categories: dict
    criteria: tuple
    data: dict = field(compare=False, repr=False)
    path: Path | None = None

    def get(self, key: str, default=None):
        """A program-level setting from the YAML (organiser, issuers, review_stages …)."""
        return self.data.get(key, default)

    @functools.cached_property
    def forms(self) -> dict[str, Form]:
        """Every form a submission of this program may hold, by key ('application.product', 'checklist.star' …)."""
        return program_forms.form_set(self)

    def review_rounds(self) -> tuple:
        """Return the program's review rounds with their scoring sheets (`definitions.review_rounds`; empty: the
        program keeps one opinion + recommendation per reviewer)."""
        from pipeline.definitions.review_rounds import rounds_of

        return rounds_of(self)

    def review_round(self, round_id: str):
        """Given a round id, return the Round, or raise a Chinese UserError naming the program's rounds."""
        for found in self.review_rounds():
            if found.id == round_id:
                return found
        names = "、".join(f"{r.id}（{r.name}）" for r in self.review_rounds()) or "（无：本项目只记录审定意见）"
        raise UserError(f"{self.name}没有评审轮次“{round_id}”，可用：{names}")

    def category_forms(self, category_id: str) -> list[Form]:
        """Given a category id, return the forms of its packet, in the packet's order."""
        return program_forms.program_forms(self, category_id)

    def form_of(self, record: dict, form_id: str | None) -> Form | None:
        """Given a record and a form id (from an issue), return that form in the record's own variant, or None."""
        if not form_id:
            return None
        category = record.get("category")
        first = next(iter(self.categories), None)  # a record whose category is unknown: the first category's form
        return (self.forms.get(f"{form_id}.{category}") or self.forms.get(form_id)
                or self.forms.get(f"{form_id}.{first}"))

    def category_names(self) -> dict[str, str]:
        """Return category id → printed name (企业类, 服务明星 …), in the program file's order."""
        return {c.id: c.name for c in self.categories.values()}

    def category_name(self, category_id: str | None) -> str:
        """Given a record's category id, return its printed name ('类别未知' when unknown)."""
        cat = self.categories.get(category_id or "")
        return cat.name if cat else "类别未知"

    def applicant_field(self, category_id: str | None) -> str:
        """Given a category id, return the id of the field naming its applicant (company, person or team)."""
        return program_forms.applicant_field(self, category_id)

    def applicant_kind(self, category_id: str | None) -> str:
        """Given a category id, return who applies: 'organisation', 'person' or 'team' ('organisation' when unknown)."""
        return self.category(category_id).subject if category_id in self.categories else "organisation"

    def holder_name(self, record: dict) -> str | None:
        """Given a record, return the name the title is given to: the person's, the team's or the organisation's
        (the record's `applicant.name`, which `company_name` also holds: docs/RECORD.md)."""
        own = (record.get("applicant") or {}).get("name")
        field = self.applicant_field(record.get("category")) if record.get("category") in self.categories else None
        return own or (form_value(record, "application", field) if field else None) or record.get("company_name")

    def employer(self, record: dict) -> str | None:
        """Given a record, return a person's or a team's employer (工作单位); None for an organisation."""
        if self.applicant_kind(record.get("category")) == "organisation":
            return None
        own = (record.get("applicant") or {}).get("employer")
        return own or next((str(v) for v in (form_value(record, "application", f)
                                             for f in program_forms.EMPLOYER_FIELDS) if v), None)

    def addressee(self, record: dict) -> str | None:
        """Given a record, return whom letters about it are addressed to: the organisation, or for a person or a
        team their employer with their name ('广州供电局　李晓红')."""
        name, employer = self.holder_name(record), self.employer(record)
        if employer and name and employer != name:
            return f"{employer}　{name}"
        return name or employer

    def promoting_unit(self, record: dict) -> str | None:
        """Given a record, return the unit that recommends it (推进单位), from the places the program names, or None."""
        return next((str(v) for v in (form_value(record, f, k) for f, k in program_forms.unit_fields(self)) if v), None)

    def criteria_for(self, category_id: str, tier: str | None = None) -> list[Criterion]:
        """Given a category, return its criteria in file order; with a tier, those needed to reach it.

        A tier's conditions add to those of the tiers before it (辽宁 第六条第2款⑴: 满足第1款全部条件).
        """
        category = self.category(category_id)
        order = [t.id for t in category.tiers]
        wanted = set(order[: order.index(tier) + 1]) if tier else set(order)
        return [c for c in self.criteria if c.applies_to(category_id) and category.tier_of(c) in wanted]

    def find_category(self, text: str | None) -> str | None:
        """Given a category as staff write it (product, 产品, 产品类, 服务类␠, 企业类 for 企业, 工程类 …, or one of
        the category's `aliases` in the program file: 班组 for 服务明星班组), return its id, or None."""
        key = fold(clean(text) or "")
        if not key:
            return None
        for cat in self.categories.values():
            name = fold(cat.name)
            if key in (fold(cat.id), name, name.removesuffix("类"), name + "类", *map(fold, cat.aliases)):
                return cat.id
        cid = category_id(text)  # the cover's spellings (工程类 …)
        return cid if cid in self.categories else None

    def category(self, category_id: str) -> Category:
        """Given a category id (or any spelling `find_category` knows), return the Category, or raise a
        Chinese UserError naming the valid ones."""
        try:
            return self.categories[self.find_category(category_id) or category_id]
        except KeyError:
            names = "、".join(f"{c.id}（{c.name}）" for c in self.categories.values())
            raise UserError(f"{self.name}没有类别“{category_id}”，可用：{names}") from None


# --- loading --------------------------------------------------------------------------------------


def _read_yaml(path: Path, what: str) -> dict:
    try:
        data = yaml_text(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{what} {Path(path).name} 无法读取：{exc}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{what} {Path(path).name} 格式不对：应为 YAML 键值表")
    return data


@functools.lru_cache(maxsize=4)
def load_facts(path: Path = FACTS_FILE) -> dict[str, Fact]:
    """Given the facts file, return fact id → Fact."""
    facts = {}
    for fid, raw in _read_yaml(path, "事实定义文件").items():
        raw = dict(raw or {})
        facts[fid] = Fact(id=fid, name=str(raw.get("name", fid)), type=raw.get("type", "text"),
                          aliases=tuple(raw.get("aliases") or ()), paths=tuple(raw.get("paths") or ()),
                          derive=raw.get("derive"), history=raw.get("history"))
    return facts


def program_ids(directory: Path | None = None) -> list[str]:
    """Given a programs folder (default: the packaged programs with staff folders layered over them,
    `common.resources.use_forms`), return the ids of its program files (files starting with _ are not programs)."""
    names = ([p.name for p in Path(directory).glob("*.yaml")] if directory is not None
             else resources.layered_names("programs", "*.yaml"))
    return sorted(Path(name).stem for name in names if not name.startswith("_"))


def _category(cid: str, raw: dict, program_validity: dict) -> Category:
    raw = raw or {}
    tiers = tuple(Tier(id=str(t["id"]), name=str(t["name"]), title=str(t["title"])) for t in raw.get("tiers") or ())
    return Category(id=cid, name=str(raw.get("name") or cid), subject=str(raw.get("subject", "organisation")), tiers=tiers,
                    fields=tuple(raw.get("fields") or ()), validity=dict(raw.get("validity") or program_validity),
                    aliases=tuple(str(a) for a in raw.get("aliases") or ()))


def _criterion(raw: dict) -> Criterion:
    cats = raw.get("category")
    if isinstance(cats, str):
        cats = (cats,)
    return Criterion(id=str(raw.get("id", "")), article=str(raw.get("article") or ""), text=str(raw.get("text") or ""),
                     categories=tuple(cats) if cats else None, tier=raw.get("tier"), check=raw.get("check"))


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: float) -> Program:
    data = _read_yaml(Path(path), "项目文件")
    missing = [f"{k}（{v}）" for k, v in REQUIRED.items() if k not in data]
    if missing:
        raise UserError(f"项目文件 {Path(path).name} 缺少：{'、'.join(missing)}")
    validity = dict(data.get("validity") or {})
    return Program(
        id=str(data["id"]), name=str(data["name"]),
        categories={cid: _category(cid, raw, validity) for cid, raw in (data.get("categories") or {}).items()},
        criteria=tuple(_criterion(raw) for raw in data.get("criteria") or ()),
        data=data, path=Path(path))


def load_program(program: str | Path) -> Program:
    """Given a program id (liaoning) or a program file path, return the Program."""
    path = Path(program)
    if not path.suffix:
        path = resources.layered("programs", f"{program}.yaml")
    if not path.is_file():
        raise UserError(f"找不到项目“{program}”。可用的项目：{'、'.join(program_ids())}")
    return _load(str(path.resolve()), path.stat().st_mtime)


def all_programs() -> list[Program]:
    """Return every program of forms/programs/, by id."""
    return [load_program(pid) for pid in program_ids()]


def campaign_for(program_id: str) -> Path:
    """Given a program id, return the path of its default campaign file (forms/campaigns/<campaign>.yaml)."""
    return resources.layered("campaigns", f"{load_program(program_id).get('campaign')}.yaml")


def program_campaign(program: Program, campaign: Campaign | Path | str | None) -> Campaign:
    """Given a program and a Campaign, a campaign path or None (the program's own campaign file), return the Campaign."""
    if isinstance(campaign, Campaign):
        return campaign
    return load_campaign(campaign or campaign_for(program.id))


def program_of(campaign: Campaign) -> Program:
    """Given a Campaign, return the Program it is a year of (its file's `program:`)."""
    return load_program(str(campaign.data["program"]))


def resolve_campaign(program: str | None, campaign: Path | str | None) -> Campaign:
    """Given `--program` and `--campaign` (one may be None, not both), return the Campaign a command runs with.

    A program alone: its default campaign; a campaign file alone: that file (its `program:` says
    whose); both: the file, which must be that program's.
    """
    if not program:
        if not campaign:
            raise UserError("请用 --program 指定项目（见 manyi programs），或用 --campaign 指定活动文件")
        return load_campaign(campaign)
    chosen = load_program(program)
    loaded = load_campaign(campaign or campaign_for(chosen.id))
    owner = str(loaded.data["program"])
    if owner != chosen.id:
        raise UserError(f"活动文件 {loaded.path.name} 属于项目“{owner}”，与 --program 指定的“{chosen.id}”不一致："
                        f"请去掉 --campaign（使用该项目的默认活动文件），或换用属于 {chosen.id} 的活动文件")
    return loaded


# --- reading the rules ------------------------------------------------------------------------------


def resolve(value, campaign):
    """Given a value from a program file and a Campaign, return it with `{campaign: a.b}` read from the campaign."""
    if isinstance(value, dict) and set(value) == {"campaign"}:
        node = campaign.data
        for part in str(value["campaign"]).split("."):
            if not isinstance(node, dict) or part not in node:
                raise UserError(f"活动文件 {campaign.path.name} 缺少项目文件引用的设置：{value['campaign']}")
            node = node[part]
        return node
    return value


def validity(program: Program, category_id: str, campaign: Campaign) -> dict:
    """Given a program, category and campaign, return its title's validity: years (None: not limited), until,
    article, note."""
    raw = program.category(category_id).validity
    result = {k: resolve(v, campaign) for k, v in raw.items()}
    result.setdefault("years", None)
    return result


def validity_text(info: dict) -> str:
    """Given a validity dict, return it in Chinese: 2年 / 当年度 / 获奖3年后确认 / 未规定."""
    if info.get("until") == "year_end":
        text = "当年度有效"
    elif info.get("years"):
        text = f"{info['years']}年"
    elif info.get("confirm_after_years"):
        text = f"获奖{info['confirm_after_years']}年后确认"
    else:
        text = "未规定"
    return text + (f"（{info['article']}）" if info.get("article") else "")


def title_for(program: Program, category_id: str, tier_id: str, year) -> str:
    """Given a program, category, tier and year, return the title as the certificate prints it."""
    return program.category(category_id).tier(tier_id).title.replace("{year}", str(year))


# --- checking the program file ------------------------------------------------------------------------


def check_problems(check, facts: dict, where: str) -> list[str]:
    """Given a check (or part of one), return a Chinese line per mistake in it."""
    if not isinstance(check, dict):
        return [f"{where}：检查规则应为键值表"]
    if "all" in check or "any" in check:
        parts = check.get("all") or check.get("any")
        if not isinstance(parts, list) or not parts:
            return [f"{where}：all/any 应为非空列表"]
        return [p for part in parts for p in check_problems(part, facts, where)]
    if "cases" in check:
        problems = []
        for case in check["cases"] or []:
            problems += check_problems(case.get("when"), facts, where)
            if "check" in case:
                problems += check_problems(case["check"], facts, where)
            elif not ({"manual", "met"} & set(case)):
                problems.append(f"{where}：cases 的每一项需要 check、manual 或 met")
        return problems
    problems = []
    if check.get("fact") not in facts:
        problems.append(f"{where}：未定义的事实 {check.get('fact')}（见 _facts.yaml）")
    if check.get("op") not in OPS:
        problems.append(f"{where}：比较方式 {check.get('op')} 无效（可用：{' '.join(OPS)}）")
    scale = check.get("scale")
    if scale is not None and check.get("value") not in scale:
        problems.append(f"{where}：取值 {check.get('value')} 不在等级序列 {scale} 中")
    if check.get("op") == "between" and not (isinstance(check.get("value"), list) and len(check["value"]) == 2):
        problems.append(f"{where}：between 的取值应为 [下限, 上限]")
    return problems


def validate_program(program: Program) -> list[str]:
    """Given a program, return a Chinese line per problem in its file (empty when it is sound)."""
    facts = load_facts()
    problems = []
    if not program.categories:
        problems.append("没有申报类别")
    for cat in program.categories.values():
        if not cat.tiers:
            problems.append(f"类别 {cat.id} 没有等级（tiers）")
        unknown = [f for f in cat.fields if f not in (program.get("fields") or {})]
        if unknown or (not cat.fields and "application" in program_forms.entry_kinds(program)):
            problems.append(f"类别 {cat.id} 的申报表字段未定义：{'、'.join(unknown) or '（无字段）'}")
    seen = set()
    for crit in program.criteria:
        where = f"条件 {crit.id or '（无编号）'}"
        if not crit.id or crit.id in seen:
            problems.append(f"{where}：编号为空或重复")
        seen.add(crit.id)
        if not crit.article or not crit.text:
            problems.append(f"{where}：缺少依据条款或条件文字")
        for cid in crit.categories or ():
            if cid not in program.categories:
                problems.append(f"{where}：类别 {cid} 不存在")
            elif crit.tier and crit.tier not in {t.id for t in program.categories[cid].tiers}:
                problems.append(f"{where}：等级 {crit.tier} 不存在于类别 {cid}")
        if crit.check is not None:
            problems += check_problems(crit.check, facts, where)
    try:
        from pipeline.definitions.stages import workflow_of

        workflow_of(program)
    except UserError as exc:
        problems.append(str(exc))
    try:
        program.review_rounds()  # the rounds and their scoring sheets
    except UserError as exc:
        problems.append(str(exc))
    for cat in program.categories.values():
        if not program.criteria_for(cat.id):
            problems.append(f"类别 {cat.id} 没有任何申报条件")
    path = campaign_for(program.id)
    if not path.is_file():
        problems.append(f"找不到默认活动文件 {path.name}")
    else:
        try:
            campaign = program_campaign(program, None)
            if str(campaign.data.get("program")) != program.id:
                problems.append(f"活动文件 {path.name} 的 program 不是 {program.id}")
            for cat in program.categories.values():
                validity(program, cat.id, campaign)
        except UserError as exc:
            problems.append(str(exc))
    return problems


def describe(program: Program) -> list[str]:
    """Given a program, return the lines `manyi programs` prints for it."""
    campaign = program_campaign(program, None)
    lines = [f"{program.id}：{program.name}（{program.get('organiser')}；颁发：{'、'.join(program.get('issuers') or [])}）"]
    quota = program.get("annual_quota")
    if quota:
        lines.append(f"  每年名额：不超过 {quota['max']} 个（{quota.get('article', '')}）")
    for rnd in program.review_rounds():
        lines.append(f"  评审轮次 {rnd.id}（{rnd.name}，{rnd.stage}阶段，{rnd.article}）：评分 {len(rnd.sheet.criteria)} 项，"
                     f"每份 {rnd.experts_per_applicant} 位专家" + (f"，名额 {rnd.keep} 个" if rnd.keep else ""))
    for cat in program.categories.values():
        tiers = " / ".join(f"{t.name}：{title_for(program, cat.id, t.id, campaign.year)}" for t in cat.tiers)
        count = len(program.criteria_for(cat.id))
        lines.append(f"  {cat.id}（{cat.name}）  有效期 {validity_text(validity(program, cat.id, campaign))}"
                     f"  条件 {count} 条  {tiers}")
    return lines
