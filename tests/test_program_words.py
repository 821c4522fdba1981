"""What the program files print: stage names as the seeds name them, form titles with the campaign's year,
notes that fit the program (the 【】 note only where a tier is marked)."""

from __future__ import annotations

from pipeline.definitions.programs import all_programs, load_program
from pipeline.definitions.stages import workflow_of


def test_national_stages_are_named_as_seed_001_names_them():
    program = load_program("national")
    flow = workflow_of(program).names()
    reviews = [s["name"] for s in program.get("review_stages")]
    # 第十六条 资格审查, 第十七条 资料评审, 第十九条 现场评审, 第二十条 综合评价, 第二十一条 公示, 第二十二条 审定.
    for name in ("资格审查", "资料评审", "现场评审", "综合评价", "审定"):
        assert name in flow and name in reviews
    assert any(s.startswith("公示") for s in flow)
    assert "材料评审" not in flow and "材料评审" not in reviews
    order = [next(i for i, s in enumerate(flow) if s.startswith(n)) for n in ("资料评审", "现场评审", "综合评价", "公示", "审定")]
    assert order == sorted(order)

