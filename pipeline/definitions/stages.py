"""A program's stages as data (`stages:` in forms/programs/<id>.yaml): the way an applicant goes through a campaign.

Each stage names the stages it may move to, who it waits on, and whether parsing moves an
applicant through it by itself (`auto`). The roles say which stage is the start, the one for a
packet with errors (需补正), after a correction came in (已补正), for a complete packet (材料齐全)
and the winning stage (获奖), whose applicants get certificates.

Rules every program's stages obey (`Workflow.refusal` and the workspace's `move`):
- Every program has two closing stages besides its own, 撤回 (withdrawn) and 不符合条件 (closed as
  ineligible, the article named in the move's note), reachable from any stage that is not final.
  Nothing is deleted: a withdrawn applicant is an applicant in the stage 撤回.
- The complete stage (role `complete`) and every stage after it in the file's order, except the final
  stages other than the winning one (未获奖 …), need an applicant without open errors (or with a staff
  decision on each).
- A program's publicity (`stages.publicity: {stage, days, count: working|calendar, article}`) lasts
  its days from the day the applicant entered the stage (that day counted when it is a working day,
  for `working`); the stages after it open the day after the period ended. Working days are those of
  the Chinese working calendar (holidays and adjusted workdays) of the `chinese_calendar` package; a date
  beyond the years it knows is refused, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from pipeline.common.errors import UserError

ROLES = ("start", "incomplete", "corrected", "complete", "winning")
#: The closing stages every program has: withdrawn, and closed as ineligible (with the article).
WITHDRAWN, INELIGIBLE = "撤回", "不符合条件"
CLOSINGS = (WITHDRAWN, INELIGIBLE)
#: How publicity days are counted, and their Chinese names.
COUNTS = {"working": "工作日", "calendar": "自然日"}
ARTICLE = re.compile(r"第[一二三四五六七八九十百零〇\d]+条")


@dataclass(frozen=True)
class Stage:
    """One stage: its name, the stages it may move to, who it waits on, whether parsing moves through it."""

    name: str
    next: tuple
    waits: str = ""
    auto: bool = False
    article: str = ""

    @property
    def final(self) -> bool:
        """Whether no move leaves this stage."""
        return not self.next


@dataclass(frozen=True)
class Publicity:
    """A program's publicity period: its stage, how many days, counted how (working / calendar), its article."""

    stage: str
    days: int
    count: str = "working"
    article: str = ""

    def end(self, start: date) -> date:
        """Given the day the applicant entered the stage, return the last day of the period; raise a Chinese
        UserError when the working calendar does not know a day it needs."""
        if self.count == "calendar":
            return start + timedelta(days=self.days - 1)
        day, counted = start, 0
        while True:
            if is_working_day(day):
                counted += 1
                if counted == self.days:
                    return day
            day += timedelta(days=1)

    def describe(self) -> str:
        """Return the period as staff read it (7 个工作日)."""
        return f"{self.days} 个{COUNTS[self.count]}"


def is_working_day(day: date) -> bool:
    """Given a day, return whether it is a working day on the Chinese calendar (holidays and adjusted workdays);
    raise a Chinese UserError for a year the calendar package does not know."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        raise UserError(f"工作日历没有 {day.year} 年的节假日安排，无法计算 {day.isoformat()} 是否为工作日；"
                        "请更新 chinese-calendar 软件包后再试") from None


@dataclass(frozen=True)
class Workflow:
    """The stages of a program in order, the stage of each role, and its publicity period (None: none)."""

    stages: tuple
    roles: dict
    publicity: Publicity | None = field(default=None)

    def names(self) -> list[str]:
        """Return the stage names in order."""
        return [s.name for s in self.stages]

    def stage(self, name: str) -> Stage:
        """Given a stage name, return the Stage, or raise a Chinese UserError naming the valid ones."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise UserError(f"没有阶段“{name}”，可用：{'、'.join(self.names())}")

    def role(self, role: str) -> str:
        """Given a role (start, incomplete, corrected, complete, winning), return its stage name."""
        return self.roles[role]

    def allowed(self, src: str, dst: str) -> bool:
        """Given two stage names, return whether the program lets an applicant move from the first to the second."""
        return dst in self.stage(src).next

    def check_move(self, src: str, dst: str) -> None:
        """Given two stage names, raise a Chinese UserError unless the move is one of the program's."""
        self.stage(dst)
        if not self.allowed(src, dst):
            options = "、".join(self.stage(src).next) or "（无：这是最终阶段）"
            raise UserError(f"不能从“{src}”移到“{dst}”：“{src}”之后只能是 {options}")

    def closing(self, name: str) -> bool:
        """Given a stage name, return whether it ends the applicant's way without the title (final, not winning)."""
        return self.stage(name).final and name != self.roles["winning"]

    def needs_complete(self, name: str) -> bool:
        """Given a stage name, return whether an applicant needs no open error there: the complete stage and every
        later one in the file's order, except the closing stages."""
        names = self.names()
        return names.index(name) >= names.index(self.roles["complete"]) and not self.closing(name)


def workflow_of(program) -> Workflow:
    """Given a Program, return its Workflow from the `stages:` of its file; raise UserError when absent or unsound."""
    raw = program.get("stages")
    if not isinstance(raw, dict) or not raw.get("list"):
        raise UserError(f"项目文件 {program.id}.yaml 没有定义阶段（stages）")
    listed = [Stage(name=str(s["name"]), next=tuple(str(n) for n in s.get("next") or ()),
                    waits=str(s.get("waits") or ""), auto=bool(s.get("auto")), article=str(s.get("article") or ""))
              for s in raw["list"]]
    # The closing stages are the program's own when its file lists them, built in otherwise.
    closings = tuple(name for name in CLOSINGS if name not in {s.name for s in listed})
    stages = tuple(s if s.final else Stage(s.name, s.next + tuple(c for c in CLOSINGS if c not in s.next), s.waits,
                                           s.auto, s.article) for s in listed)
    stages += tuple(Stage(name=name, next=()) for name in closings)
    flow = Workflow(stages=stages, roles={k: str(v) for k, v in (raw.get("roles") or {}).items()},
                    publicity=publicity_of(program, raw.get("publicity")))
    problems = workflow_problems(flow)
    if problems:
        raise UserError(f"项目文件 {program.id}.yaml 的阶段有误：{'；'.join(problems)}")
    return flow


def publicity_of(program, raw) -> Publicity | None:
    """Given a Program and its `stages.publicity` (None: none), return the Publicity; raise UserError when unsound."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("stage") or not isinstance(raw.get("days"), int) or raw["days"] < 1:
        raise UserError(f"项目文件 {program.id}.yaml 的公示期（stages.publicity）应写明 stage 和正整数 days")
    count = str(raw.get("count") or "working")
    if count not in COUNTS:
        raise UserError(f"项目文件 {program.id}.yaml 的公示期计法 count 应为 {'、'.join(COUNTS)}：{count}")
    return Publicity(stage=str(raw["stage"]), days=raw["days"], count=count, article=str(raw.get("article") or ""))


def workflow_problems(flow: Workflow) -> list[str]:
    """Given a Workflow, return a Chinese line per mistake: unknown next stages, missing roles, auto roles."""
    names = set(flow.names())
    problems = [f"阶段“{s.name}”之后的“{n}”不存在" for s in flow.stages for n in s.next if n not in names]
    problems += [f"缺少角色 {r}" for r in ROLES if r not in flow.roles]
    problems += [f"角色 {r} 的阶段“{v}”不存在" for r, v in flow.roles.items() if v not in names]
    for role in ("start", "incomplete", "corrected", "complete"):
        if flow.roles.get(role) in names and not next(s for s in flow.stages if s.name == flow.roles[role]).auto:
            problems.append(f"角色 {role} 的阶段“{flow.roles[role]}”须为 auto（由解析自动进入）")
    if flow.publicity and flow.publicity.stage not in names:
        problems.append(f"公示阶段“{flow.publicity.stage}”不存在")
    if len(names) != len(flow.stages):
        problems.append("阶段名称重复")
    return problems
