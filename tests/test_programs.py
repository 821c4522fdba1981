"""Program files: every program loads, lists its categories, and its criteria cite the seed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.common.errors import UserError
from pipeline.definitions.campaign import load_campaign
from pipeline.definitions.programs import (
    all_programs,
    campaign_for,
    describe,
    load_facts,
    load_program,
    program_campaign,
    program_ids,
    title_for,
    validate_program,
    validity,
)

#: The seed documents each program cites (kept outside the repository: only their names are checked).
SEED_NAME = re.compile(r"^00[0-4]_[0-9a-f]{16}\.txt$")
EXPECTED = {
    "heilongjiang": {"enterprise", "product", "construction", "service"},
    "liaoning": {"enterprise", "product", "construction", "service"},
    "national": {"enterprise", "service"},
    "guangzhou": {"unit", "person"},
    "guangdong-stars": {"star", "team", "manager", "enterprise"},
}
ARTICLE = re.compile(r"第[一二三四五六七八九十]+条|填报说明")


def test_the_five_programs_are_listed():
    assert set(program_ids()) == set(EXPECTED)


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_program_loads_valid_with_its_categories(pid):
    program = load_program(pid)
    assert set(program.categories) == EXPECTED[pid]
    assert validate_program(program) == []
    lines = describe(program)
    for cat in program.categories.values():
        assert any(line.strip().startswith(f"{cat.id}（{cat.name}）") for line in lines)
        assert program.criteria_for(cat.id), f"{pid}/{cat.id} has no criteria"


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_every_criterion_has_an_article_and_text(pid):
    for crit in load_program(pid).criteria:
        assert ARTICLE.search(crit.article), (pid, crit.id, crit.article)
        assert len(crit.text) >= 4


@pytest.mark.parametrize("pid", sorted(EXPECTED))
def test_default_campaign_belongs_to_the_program(pid):
    path = campaign_for(pid)
    campaign = load_campaign(path)
    assert campaign.program == pid
    assert set(campaign.certificate) >= {"issuer", "number_prefix"}
    assert "title" not in campaign.certificate  # titles live in the program file, once
    assert SEED_NAME.match(str(load_program(pid).get("seed")))


def test_liaoning_titles_validity_and_tiers():
    program = load_program("liaoning")
    assert title_for(program, "product", "benchmark", 2021) == "2021年度辽宁省用户满意产品（标杆）"
    assert validity(program, "product", program_campaign(program, None))["years"] == 2
    construction = validity(program, "construction", program_campaign(program, None))
    assert construction["years"] is None and construction["until"] == "year_end"
    base = {c.id for c in program.criteria_for("product", "satisfied")}
    bench = {c.id for c in program.criteria_for("product", "benchmark")}
    assert base < bench and "prod-benchmark-consecutive" in bench - base


def test_heilongjiang_numbers_come_from_its_campaign():
    program = load_program("heilongjiang")
    assert validity(program, "enterprise", program_campaign(program, None))["years"] == load_campaign(campaign_for("heilongjiang")).validity_years == 2
    assert program.categories["construction"].name == "建筑工程类"  # the cover's own words


def test_national_quota_and_stages():
    program = load_program("national")
    assert program.get("annual_quota")["max"] == 10
    stages = [s["name"] for s in program.get("review_stages")]
    assert stages[1:] == ["资格审查", "资料评审", "现场评审", "综合评价", "公示", "审定"]
    notice = next(s for s in program.get("review_stages") if s["name"] == "公示")
    assert (notice["days"], notice["day_kind"]) == (7, "工作日")
    assert validity(program, "enterprise", program_campaign(program, None))["confirm_after_years"] == 3


def test_guangzhou_discipline_and_unstated_validity():
    program = load_program("guangzhou")
    ban = next(d for d in program.get("discipline") if d.get("ban_years"))
    assert ban["article"] == "第二十六条" and ban["ban_years"] == 5 and ban["revoke"]
    assert validity(program, "unit", program_campaign(program, None))["years"] is None


def test_guangdong_four_titles_each_with_own_conditions():
    program = load_program("guangdong-stars")
    titles = {cid: title_for(program, cid, cat.tiers[0].id, 2021) for cid, cat in program.categories.items()}
    assert titles == {"star": "2021年度广东省用户满意服务明星", "team": "2021年度广东省用户满意服务明星班组",
                      "manager": "2021年度广东省用户满意杰出管理者", "enterprise": "2021年度广东省用户满意服务明星企业"}
    articles = {cid: {c.article.split("第", 2)[1] for c in program.criteria_for(cid) if c.categories}
                for cid in program.categories}
    assert articles == {"star": {"十二条"}, "team": {"十三条"}, "manager": {"十四条"}, "enterprise": {"十五条"}}
    assert all(validity(program, cid, program_campaign(program, None))["years"] == 3 for cid in program.categories)


def test_checks_only_use_known_facts():
    facts = load_facts()
    for program in all_programs():
        for crit in program.criteria:
            assert all(f in facts for f in re.findall(r"'fact': '(\w+)'", str(crit.check or {})))


def test_broken_program_files_are_reported(tmp_path):
    with pytest.raises(UserError, match="找不到项目"):
        load_program("shanghai")
    text = (Path(load_program("liaoning").path)).read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("op: \">=\", value: AAA", "op: \"≥\", value: AAAA"), encoding="utf-8")
    problems = validate_program(load_program(broken))
    assert any("比较方式" in p for p in problems) and any("AAAA" in p for p in problems)
    missing = tmp_path / "missing.yaml"
    missing.write_text("id: x\nname: 某项目\n", encoding="utf-8")
    with pytest.raises(UserError, match="缺少"):
        load_program(missing)
