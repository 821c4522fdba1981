"""Screening records against a program's criteria: facts from records and the facts workbook, tiers, workbook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from pipeline.checking.screen import read_facts_workbook, screen, screen_records, yes_no
from pipeline.common.errors import UserError
from pipeline.definitions.programs import program_campaign, load_program

FACT_HEADS = ["企业名称", "信用等级", "连续获得称号年数", "近三年重大事故", "住宅形式", "入住率"]


def record(name, category, application=None, score=None, issues=(), attachments=()):
    forms = {"application": {"company_name": name, **(application or {})}}
    if score is not None:
        forms["recommendation"] = {"company_name": name, "satisfaction_score": score}
    return {"submission_id": name, "source": name, "category": category, "company_name": name, "forms": forms,
            "attachments": list(attachments), "issues": list(issues), "status": "complete"}


def write_records(folder: Path, records) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n, rec in enumerate(records):
        (folder / f"{n:02d}.json").write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    return folder


def write_facts(path: Path, header, rows) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["辽宁省用户满意称号 事实表"])  # a title row above the header is allowed
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


LIAONING_RECORDS = [
    record("沈阳冰箱厂", "product", {"product_name": "电冰箱", "product_model": "BCD-470"}, score=86),
    record("大连空调厂", "product", {"product_name": "空调", "product_model": "KFR-35"}, score=82),
    record("鞍山电器厂", "product", {"product_name": "电饭煲", "product_model": "FB-3"}, score=90),
    record("营口卷烟厂", "product", {"product_name": "香烟（软包）", "product_model": "R-20"}, score=90),
    record("抚顺系列厂", "product", {"product_name": "水泵", "product_model": None}, score=90,
           issues=[{"severity": "error", "code": "series_product", "form": "application", "field": "product_model"}]),
    record("本溪未评厂", "product", {"product_name": "电视机", "product_model": "TV-55"}, score=88),
    record("辽宁一建", "construction", {"project_name": "阳光小区", "project_type": "住宅工程", "floor_area": 2,
                                     "budget": 9000, "completion_date": "2019-06-30"}, score=88),
    record("辽宁二建", "construction", {"project_name": "市图书馆", "project_type": "公共建筑", "floor_area": 1.5,
                                     "completion_date": "2021-06-01"}, score=88),
    record("无类别公司", None, {}),
]
LIAONING_FACTS = [
    ["沈阳冰箱厂", "AAA", 3, "无", None, None],
    ["大连空调厂", "AA", 1, "无", None, None],
    ["鞍山电器厂", "A", 5, "无", None, None],
    ["营口卷烟厂", "AAA", 3, "无", None, None],
    ["抚顺系列厂", "AAA", 3, "无", None, None],
    ["本溪未评厂", None, 3, "无", None, None],
    ["辽宁一建", "AAA", None, "无", "住宅小区", 80],
    ["辽宁二建", "AA", None, "无", None, None],
    ["没有申报的公司", "AAA", 3, "无", None, None],
]


def manual_ids(program) -> list[str]:
    """Given a program, return the ids of its criteria staff judge by hand (no machine check)."""
    return [c.id for c in program.criteria if c.manual]


def all_met_by_staff(table: dict, program) -> dict:
    """Given a facts table, return it with every staff-judged criterion verdict 符合 for every row: the tier then
    rests on the checkable criteria alone (a tier needs every criterion 符合)."""
    for row in table.values():
        row["verdicts"] = {cid: True for cid in manual_ids(program)} | row["verdicts"]
    return table


def staff_table(program, *names) -> dict:
    """Given a program and applicant names, return a facts table that only says every staff-judged criterion is met."""
    from pipeline.common.text import fold

    table = {fold(n): {"name": n, "row": i + 3, "facts": {}, "verdicts": {}, "category": None} for i, n in enumerate(names)}
    return all_met_by_staff(table, program)


@pytest.fixture(scope="module")
def liaoning(tmp_path_factory):
    folder = tmp_path_factory.mktemp("liaoning")
    records = write_records(folder / "records", LIAONING_RECORDS)
    manual = manual_ids(load_program("liaoning"))
    facts = write_facts(folder / "facts.xlsx", FACT_HEADS + manual,
                        [row + ["符合"] * len(manual) for row in LIAONING_FACTS])
    result = screen(program_campaign(load_program("liaoning"), None), records, folder / "筛选结果.xlsx", facts)
    return result, {s.company: s for s in result.screenings}


def outcome(screening, article):
    return next(o for o in screening.outcomes if o.criterion.article == article)


def test_liaoning_product_tiers(liaoning):
    _, by = liaoning
    assert by["沈阳冰箱厂"].tier == "标杆"
    assert by["大连空调厂"].tier == "用户满意"
    assert outcome(by["大连空调厂"], "第七条第2款⑵").result == "不符合"
    assert by["鞍山电器厂"].tier == "未达到"
    assert outcome(by["鞍山电器厂"], "第七条第1款⑹").evidence == "事实表：信用等级=A"


def test_tobacco_fails_the_scope_article(liaoning):
    _, by = liaoning
    scope = outcome(by["营口卷烟厂"], "第七条")
    assert scope.result == "不符合" and "香烟" in scope.evidence
    assert by["营口卷烟厂"].tier == "未达到"
    assert outcome(by["沈阳冰箱厂"], "第七条").result == "符合"


def test_series_product_fails_per_model_rule(liaoning):
    _, by = liaoning
    assert outcome(by["抚顺系列厂"], "第七条第1款⑻").result == "不符合"
    assert outcome(by["沈阳冰箱厂"], "第七条第1款⑻").result == "符合"


def test_missing_fact_makes_the_tier_unknown(liaoning):
    _, by = liaoning
    credit = outcome(by["本溪未评厂"], "第七条第1款⑹")
    assert credit.result == "待核实" and "未提供" in credit.evidence
    assert by["本溪未评厂"].tier == "待核实"


def test_construction_scale_by_kind(liaoning):
    _, by = liaoning
    estate = by["辽宁一建"]
    assert outcome(estate, "第八条第1款⑵").result == "不符合"  # 2万m² estate < 3万m²
    assert outcome(estate, "第八条第1款⑸").result == "符合"  # occupancy 80 %
    assert outcome(estate, "第八条第1款⑶").result == "符合"  # completed 2019-06-30, judged at the deadline
    library = by["辽宁二建"]
    assert outcome(library, "第八条第1款⑵").result == "符合"  # public building ≥ 1万m²
    assert outcome(library, "第八条第1款⑸").result == "符合" and "不适用" in outcome(library, "第八条第1款⑸").evidence
    assert outcome(library, "第八条第1款⑶").result == "不符合"  # under one year in use
    assert library.tier == "未达到"


def test_record_without_category_gets_a_clear_row(liaoning):
    result, by = liaoning
    row = by["无类别公司"]
    assert row.tier == "无法筛选" and "没有申报类别" in row.note and not row.outcomes
    assert any("没有申报的公司" in w for w in result.warnings)


def test_manual_criteria_are_unknown_with_their_article():
    program = load_program("liaoning")
    [s] = screen_records(program_campaign(program, None), [LIAONING_RECORDS[0]])
    lawful = outcome(s, "第七条第1款⑴")
    assert lawful.result == "待核实" and lawful.manual and lawful.source == "无（待核实）"
    assert s.tier == "待核实"  # a criterion nobody judged leaves the tier to be verified


def test_workbook_sheets(liaoning):
    result, by = liaoning
    book = load_workbook(result.out)
    summary = list(book["筛选结果"].iter_rows(values_only=True))
    assert list(summary[0][:5]) == ["企业名称", "类别", "达到等级", "不符合条数", "待核实条数"]
    rows = {r[0]: r for r in summary[1:]}
    assert rows["沈阳冰箱厂"][2] == "标杆" and rows["鞍山电器厂"][3] == 2
    detail = list(book["逐条结果"].iter_rows(values_only=True))
    assert detail[0][3:] == ("条款", "条件", "结果", "来源", "依据值")
    mine = [r for r in detail[1:] if r[0] == "营口卷烟厂"]
    assert len(mine) == len(by["营口卷烟厂"].outcomes)
    assert ("第七条", "不符合") in {(r[3], r[5]) for r in mine}


def test_staff_verdict_column_decides_a_manual_criterion(tmp_path):
    program = load_program("liaoning")
    facts = write_facts(tmp_path / "f.xlsx", ["企业名称", "第七条第1款⑴"], [["沈阳冰箱厂", "不符合"]])
    table, warnings = read_facts_workbook(facts, program)
    [s] = screen_records(program_campaign(program, None), [LIAONING_RECORDS[0]], table)
    lawful = outcome(s, "第七条第1款⑴")
    assert lawful.result == "不符合" and not lawful.manual and s.tier == "未达到"


def test_heilongjiang_thresholds_come_from_its_campaign():
    program = load_program("heilongjiang")
    good = record("哈尔滨电机厂", "enterprise", {"major_incidents": "无"}, score=85)
    low = record("齐齐哈尔厂", "enterprise", {"major_incidents": "无"}, score=75)
    incident = record("牡丹江厂", "enterprise", {"major_incidents": "有，2016年一起"}, score=95)
    table = staff_table(program, "哈尔滨电机厂", "齐齐哈尔厂", "牡丹江厂")
    by = {s.company: s for s in screen_records(program_campaign(program, None), [good, low, incident], table)}
    assert by["哈尔滨电机厂"].tier == "先进单位"
    assert by["齐齐哈尔厂"].tier == "未达到" and outcome(by["齐齐哈尔厂"], "第五条第5项").result == "不符合"
    assert outcome(by["牡丹江厂"], "第五条第4项").result == "不符合"


def test_guangdong_star_titles(tmp_path):
    program = load_program("guangdong-stars")
    report = [{"file": "测评报告.pdf", "kind": "survey_report"}]
    star = record("李红", "服务明星", attachments=report)
    manager = record("王总", "manager", attachments=report)
    facts = write_facts(tmp_path / "f.xlsx", ["企业名称", "服务一线从业人员", "企业高层管理人员", "质量管理体系认证"],
                        [["李红", "是", None, None], ["王总", None, "否", "已认证"]])
    table, _ = read_facts_workbook(facts, program)
    by = {s.company: s for s in screen_records(program_campaign(program, None), [star, manager],
                                               all_met_by_staff(table, program))}
    assert by["李红"].category == "star" and by["李红"].tier == "服务明星"
    assert by["王总"].tier == "未达到" and outcome(by["王总"], "第十四条第1项").result == "不符合"
    assert outcome(by["王总"], "第十四条第6项").result == "符合"


def test_national_benchmark(tmp_path):
    program = load_program("national")
    heads = ["企业名称", "质量管理体系认证", "满意度测评年数", "近三年重大事故", "近三年重大投诉", "近三年严重违法违规"]
    facts = write_facts(tmp_path / "f.xlsx", heads, [["海尔", "是", 3, "无", "无", "无"], ["新厂", "是", 1, "无", "无", "无"]])
    table, _ = read_facts_workbook(facts, program)
    by = {s.company: s for s in screen_records(program_campaign(program, None),
                                               [record("海尔", "enterprise"), record("新厂", "企业类")],
                                               all_met_by_staff(table, program))}
    assert by["海尔"].tier == "标杆"
    assert by["新厂"].tier == "未达到" and outcome(by["新厂"], "第十四条第（三）项").result == "不符合"


def test_category_outside_the_program_is_reported():
    [s] = screen_records(program_campaign(load_program("national"), None), [record("某建筑公司", "construction")])
    assert s.tier == "无法筛选" and "不属于" in s.note


def test_facts_file_problems_are_chinese_user_errors(tmp_path):
    program = load_program("liaoning")
    with pytest.raises(UserError, match="找不到事实表"):
        read_facts_workbook(tmp_path / "none.xlsx", program)
    bad = tmp_path / "bad.xlsx"
    bad.write_text("不是工作簿", encoding="utf-8")
    with pytest.raises(UserError, match="不是 Excel 工作簿.*另存为 .xlsx"):
        read_facts_workbook(bad, program)
    headless = write_facts(tmp_path / "h.xlsx", ["名称", "信用等级"], [["甲", "AA"]])
    with pytest.raises(UserError, match="企业名称"):
        read_facts_workbook(headless, program)


@pytest.mark.parametrize("text, answer", [("无", False), ("有", True), ("已认证", True), ("未认证", False),
                                          ("不符合", False), ("符合", True), ("是", True), (True, True), ("不详", False),
                                          ("待定", None)])
def test_yes_no_words(text, answer):
    assert yes_no(text) is answer


def test_command_line(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    records = write_records(tmp_path / "records", LIAONING_RECORDS[:2])
    manual = manual_ids(load_program("liaoning"))
    facts = write_facts(tmp_path / "facts.xlsx", FACT_HEADS + manual, [r + ["符合"] * len(manual) for r in LIAONING_FACTS[:2]])
    runner = CliRunner()
    done = runner.invoke(cli, ["screen", "--program", "liaoning", "--records", str(records),
                               "--facts", str(facts), "--out", str(tmp_path / "r.xlsx")])
    assert done.exit_code == 0 and "已筛选 2 个申报" in done.output and "标杆 1 个" in done.output
    missing = runner.invoke(cli, ["screen", "--program", "liaoning", "--records", str(records),
                                  "--facts", str(tmp_path / "none.xlsx"), "--out", str(tmp_path / "r.xlsx")])
    assert missing.exit_code == 2 and "找不到事实表" in missing.output and "Traceback" not in missing.output
    listed = runner.invoke(cli, ["programs"])
    assert listed.exit_code == 0 and "共 5 个项目" in listed.output and "guangdong-stars" in listed.output


# --- one rule: the applicant's 不符合 is final, every answer has a source, the tier follows from the criteria ------


def test_a_self_assessed_not_met_is_final_even_against_the_facts(tmp_path):
    program = load_program("liaoning")
    baseline = screen_records(program_campaign(program, None), [LIAONING_RECORDS[0]],
                              staff_table(program, "沈阳冰箱厂"))[0]
    met_by_check = {o.criterion.id for o in baseline.outcomes if o.result == "符合" and not o.criterion.manual}
    rows = program.forms.get("checklist.product").get("criteria")
    sid, row = next((sid, row) for sid, row in rows.items() if row["criterion"] in met_by_check)
    said_no = {**LIAONING_RECORDS[0], "forms": {**LIAONING_RECORDS[0]["forms"], "checklist": {sid: "不符合"}}}
    table = staff_table(program, "沈阳冰箱厂")
    table["沈阳冰箱厂"]["verdicts"][row["criterion"]] = True  # staff's 符合 in the facts workbook does not undo it
    [s] = screen_records(program_campaign(program, None), [said_no], table)
    judged = next(o for o in s.outcomes if o.criterion.id == row["criterion"])
    assert (judged.result, judged.source) == ("不符合", "自评表") and s.tier == "未达到"


def test_every_criterion_says_where_its_answer_came_from(liaoning):
    _, by = liaoning
    known = {"申报表", "推荐意见", "测评报告", "自评表", "推荐登记表", "附件", "事实表", "无（待核实）"}
    for s in by.values():
        for o in s.outcomes:
            assert o.source and set(o.source.split("、")) <= known, (s.company, o.criterion.article, o.source)
    assert outcome(by["本溪未评厂"], "第七条第1款⑹").source == "无（待核实）"  # its 信用等级 nobody gave


@pytest.mark.parametrize("errors", [0, 1])
def test_the_tier_follows_from_the_criteria_by_one_rule(errors):
    """Heilongjiang: however many criteria are 待核实 (1 … all), the tier is 待核实; none → 先进单位; a packet to be
    corrected keeps its tier and gets the note."""
    program = load_program("heilongjiang")
    manual = [c.id for c in program.criteria_for("enterprise") if c.manual]
    assert len(manual) >= 3
    issues = [{"severity": "error", "code": "missing_form", "form": "recommendation"}] * errors
    tiers = []
    for unknown in range(len(manual) + 1):
        rec = record("哈尔滨电机厂", "enterprise", {"major_incidents": "无"}, score=85, issues=issues)
        table = staff_table(program, "哈尔滨电机厂")
        table["哈尔滨电机厂"]["verdicts"] = {cid: True for cid in manual[unknown:]}
        [s] = screen_records(program_campaign(program, None), [rec], table)
        assert s.count("待核实") == unknown
        assert ("材料需补正" in s.note) == bool(errors) and "材料需补正" not in s.tier
        tiers.append(s.tier)
    assert tiers == ["先进单位"] + ["待核实"] * len(manual)
