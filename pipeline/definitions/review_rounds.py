"""A program's review rounds and their scoring sheets as data (`review_rounds:` in forms/programs/<id>.yaml).

A round belongs to one stage of the program (资料评审 in 资料评审 …): the applicants in that stage are
the ones its experts score. Its sheet lists the criteria, each with its maximum points and its weight
(the weights add up to 1), and the comments every expert must write (优势 / 不足, 现场评审意见 / 存在的问题).
An expert's total for an applicant is Σ weight × points / max × 100, so the total is out of 100 whatever
the points of each criterion. A program without `review_rounds` keeps the one opinion + recommendation per
reviewer (`workspace.opinions`).

How scores are normalised, how outliers and ties are decided, is stated here once (`Sheet.method_text`,
`TIE_RULE`) and printed on the sheet and in the 评审结果汇总表, so what the committee reads is what was computed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.common.errors import UserError

#: How normalised scores are computed (the only method so far; the sheet names it).
NORMALISE = {"z-score": "按专家 z 分数标准化"}
#: The order of applicants with equal normalised scores.
TIE_RULE = "标准化分相同时，依次比较原始平均分（高者在前）、最低分（高者在前）；仍相同时按申报编号（先收到者在前）"


@dataclass(frozen=True)
class Criterion:
    """One line of a scoring sheet: its id, name, maximum points, weight (share of 100) and article."""

    id: str
    name: str
    max: float
    weight: float
    article: str = ""


@dataclass(frozen=True)
class Comment:
    """A comment every expert writes on an applicant (优势, 不足 …): its id, label, whether it is required."""

    id: str
    label: str
    required: bool = True


@dataclass(frozen=True)
class Sheet:
    """A scoring sheet: criteria, comments, the standard it follows, the normalisation and the outlier gap."""

    criteria: tuple
    comments: tuple
    standard: str = ""
    normalise: str = "z-score"
    outlier_points: float = 15.0

    def total(self, points: dict) -> float:
        """Given criterion id → points, return the weighted total out of 100 (two decimals)."""
        return round(sum(c.weight * float(points[c.id]) / c.max * 100 for c in self.criteria), 2)

    def check(self, points: dict, comments: dict) -> tuple[dict, dict]:
        """Given points and comments as typed (texts or numbers), return them as kept (floats, stripped texts);
        raise a Chinese UserError naming each criterion out of range or comment missing."""
        kept, problems = {}, []
        for c in self.criteria:
            raw = points.get(c.id)
            try:
                value = float(str(raw).strip())
            except (TypeError, ValueError):
                problems.append(f"“{c.name}”应填 0 到 {c.max:g} 的分数" + (f"（填的是“{raw}”）" if raw not in (None, "") else ""))
                continue
            if not 0 <= value <= c.max or value != value:
                problems.append(f"“{c.name}”应在 0 到 {c.max:g} 分之间（填的是 {value:g}）")
            kept[c.id] = value
        texts = {}
        for m in self.comments:
            text = str(comments.get(m.id) or "").strip()
            if m.required and not text:
                problems.append(f"请填写“{m.label}”")
            texts[m.id] = text
        if problems:
            raise UserError("评分表有误：" + "；".join(problems))
        return kept, texts

    def method_text(self) -> str:
        """Return the normalisation, outlier and tie rules as the sheet and the 汇总表 print them."""
        return ("总分 = Σ（各项得分 ÷ 该项满分 × 权重）× 100。"
                f"标准化分（{NORMALISE[self.normalise]}）：每位专家本轮所评各申报总分的平均值为 μ、总体标准差为 σ，"
                "z =（总分 − μ）÷ σ（只评一份或各分相同时 z 取 0）；换算回百分制：本轮全部评分的平均值 + z × 全部评分的"
                "总体标准差；申报的标准化分为其各专家标准化分的平均值。"
                f"离群：某专家总分与其他专家对同一申报总分的平均值相差超过 {self.outlier_points:g} 分。"
                f"{TIE_RULE}。")


@dataclass(frozen=True)
class Round:
    """A review round: id, name, the stage it scores, article, experts per applicant, blind or not, the days
    experts have, how many it keeps (None: no limit), what excludes an expert, and its sheet."""

    id: str
    name: str
    stage: str
    sheet: Sheet
    article: str = ""
    experts_per_applicant: int = 3
    blind: bool = True
    deadline_days: int = 10
    keep: int | None = None
    exclude_unit: bool = True
    region_field: str | None = None
    reports: tuple = ()  # feedback (资料评审反馈报告 for those not kept) / site (现场评审报告 for each visited)


#: The documents a round may write beside its ranking.
REPORTS = {"feedback": "反馈报告", "site": "现场评审报告"}


def _sheet(raw: dict, where: str) -> Sheet:
    """Given a `sheet:` mapping, return the Sheet; raise a Chinese UserError when it is unsound."""
    if not isinstance(raw, dict) or not raw.get("criteria"):
        raise UserError(f"{where}：评分表（sheet）须列出评分项（criteria）")
    criteria, problems = [], []
    for n, c in enumerate(raw["criteria"], 1):
        try:
            item = Criterion(id=str(c["id"]), name=str(c["name"]), max=float(c["max"]), weight=float(c["weight"]),
                             article=str(c.get("article") or ""))
        except (KeyError, TypeError, ValueError):
            problems.append(f"第 {n} 个评分项须写明 id、name、max（满分）和 weight（权重）")
            continue
        if item.max <= 0 or item.weight <= 0:
            problems.append(f"评分项“{item.name}”的满分和权重须为正数")
        criteria.append(item)
    if len({c.id for c in criteria}) != len(criteria):
        problems.append("评分项编号重复")
    if criteria and abs(sum(c.weight for c in criteria) - 1) > 1e-6:
        problems.append(f"评分项权重之和应为 1（现为 {sum(c.weight for c in criteria):g}）")
    comments = tuple(Comment(id=str(m["id"]), label=str(m["label"]), required=bool(m.get("required", True)))
                     for m in raw.get("comments") or ())
    method = str(raw.get("normalise") or "z-score")
    if method not in NORMALISE:
        problems.append(f"标准化方法应为 {'、'.join(NORMALISE)}：{method}")
    if problems:
        raise UserError(f"{where}：" + "；".join(problems))
    return Sheet(criteria=tuple(criteria), comments=comments, standard=str(raw.get("standard") or ""),
                 normalise=method, outlier_points=float(raw.get("outlier_points", 15)))


def rounds_of(program) -> tuple:
    """Given a Program, return its review Rounds in file order (empty: opinion + recommend only); raise a Chinese
    UserError naming the program file when one is unsound (an unknown stage, a sheet without criteria …)."""
    raw = program.get("review_rounds") or {}
    if not isinstance(raw, dict):
        raise UserError(f"项目文件 {program.id}.yaml 的 review_rounds 应为“轮次编号: 设置”的映射")
    quota = (program.get("annual_quota") or {}).get("max")
    from pipeline.definitions.stages import workflow_of

    stages = workflow_of(program).names()
    rounds = []
    for rid, spec in raw.items():
        where = f"项目文件 {program.id}.yaml 的评审轮次 {rid}"
        if not isinstance(spec, dict) or spec.get("stage") not in stages:
            raise UserError(f"{where}：所属阶段（stage）应为 {'、'.join(stages)} 之一")
        keep = spec.get("keep")
        if keep == "annual_quota":
            keep = quota
        if keep is not None and (not isinstance(keep, int) or keep < 1):
            raise UserError(f"{where}：keep 应为正整数或 annual_quota")
        per = spec.get("experts_per_applicant", 3)
        if not isinstance(per, int) or per < 1:
            raise UserError(f"{where}：每份申报的评审专家数（experts_per_applicant）应为正整数")
        exclude = spec.get("exclude") or {}
        reports = tuple(str(r) for r in spec.get("reports") or ())
        if any(r not in REPORTS for r in reports):
            raise UserError(f"{where}：reports 只能是 {'、'.join(REPORTS)}")
        if "feedback" in reports and keep is None:
            raise UserError(f"{where}：写反馈报告（feedback）的轮次须有名额（keep）")
        rounds.append(Round(id=str(rid), name=str(spec.get("name") or rid), stage=str(spec["stage"]),
                            sheet=_sheet(spec.get("sheet"), where), article=str(spec.get("article") or ""),
                            experts_per_applicant=per, blind=bool(spec.get("blind", True)),
                            deadline_days=int(spec.get("deadline_days", 10)), keep=keep,
                            exclude_unit=bool(exclude.get("unit", True)),
                            region_field=exclude.get("region_field"), reports=reports))
    return tuple(rounds)
