"""A program's stages as data (`stages:` in forms/programs/<id>.yaml): the way an applicant goes through a campaign.

Each stage names the stages it may move to, who it waits on, and whether parsing moves an
applicant through it by itself (`auto`). The roles say which stage is the start, the one for a
packet with errors (需补正), after a correction came in (已补正), for a complete packet (材料齐全)
and the winning stage (获奖), whose applicants get certificates.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.common.errors import UserError

ROLES = ("start", "incomplete", "corrected", "complete", "winning")


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
class Workflow:
    """The stages of a program in order, and the stage of each role."""

    stages: tuple
    roles: dict

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


def workflow_of(program) -> Workflow:
    """Given a Program, return its Workflow from the `stages:` of its file; raise UserError when absent or unsound."""
    raw = program.get("stages")
    if not isinstance(raw, dict) or not raw.get("list"):
        raise UserError(f"项目文件 {program.id}.yaml 没有定义阶段（stages）")
    stages = tuple(Stage(name=str(s["name"]), next=tuple(str(n) for n in s.get("next") or ()),
                         waits=str(s.get("waits") or ""), auto=bool(s.get("auto")), article=str(s.get("article") or ""))
                   for s in raw["list"])
    flow = Workflow(stages=stages, roles={k: str(v) for k, v in (raw.get("roles") or {}).items()})
    problems = workflow_problems(flow)
    if problems:
        raise UserError(f"项目文件 {program.id}.yaml 的阶段有误：{'；'.join(problems)}")
    return flow


def workflow_problems(flow: Workflow) -> list[str]:
    """Given a Workflow, return a Chinese line per mistake: unknown next stages, missing roles, auto roles."""
    names = set(flow.names())
    problems = [f"阶段“{s.name}”之后的“{n}”不存在" for s in flow.stages for n in s.next if n not in names]
    problems += [f"缺少角色 {r}" for r in ROLES if r not in flow.roles]
    problems += [f"角色 {r} 的阶段“{v}”不存在" for r, v in flow.roles.items() if v not in names]
    for role in ("start", "incomplete", "corrected", "complete"):
        if flow.roles.get(role) in names and not next(s for s in flow.stages if s.name == flow.roles[role]).auto:
            problems.append(f"角色 {role} 的阶段“{flow.roles[role]}”须为 auto（由解析自动进入）")
    if len(names) != len(flow.stages):
        problems.append("阶段名称重复")
    return problems
