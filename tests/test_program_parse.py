"""`manyi parse --program P` on the generated programs' packets: every form found, every value back, P's rules only."""

from __future__ import annotations

import json

import docx
import pytest
from click.testing import CliRunner
from program_packets import earlier_titles, expected, packet_forms, program_cases, write_filled

from pipeline.cli import cli
from pipeline.definitions.programs import program_campaign, load_program, resolve_campaign
from pipeline.parse import parse_inbox
from pipeline.receiving.attachments import classify

#: The module's parsed packets are built once, on one worker.
pytestmark = pytest.mark.xdist_group("program_parse")
CASES = program_cases()
#: Heilongjiang's own forms: a sister program's packet must never be asked for them.
SEED_ONLY = {"cover", "site_inspection", "implementation_status", "commitment", "respondents"}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    """Every generated program's every category, filled and parsed: (program, category) → (typed, record)."""
    root = tmp_path_factory.mktemp("program-parse")
    out = {}
    for pid in sorted({p for p, _ in CASES}):
        inbox = root / pid / "inbox"
        typed = {cid: write_filled(pid, cid, inbox / cid) for p, cid in CASES if p == pid}
        result = parse_inbox([inbox], root / pid / "out", resolve_campaign(pid, None), jobs=1)
        for record in result.records:
            out[(pid, record["source"])] = (typed[record["source"]], record)
    return out


@pytest.mark.parametrize("pid, cid", CASES)
def test_every_form_found_and_every_value_back(parsed, pid, cid):
    typed, record = parsed[(pid, cid)]
    assert record["category"] == cid
    forms = {f.key: f for f in packet_forms(pid, cid)}
    for key, text in typed.items():
        form = forms[key]
        assert record["forms"][form.id] == expected(form, text), key


@pytest.mark.parametrize("pid, cid", CASES)
def test_a_complete_packet_has_no_error_and_no_seed_form_asked_for(parsed, pid, cid):
    _, record = parsed[(pid, cid)]
    errors = [i for i in record["issues"] if i["severity"] == "error"]
    assert errors == [] and record["status"] == "complete"
    assert not {i.get("form") for i in record["issues"]} & SEED_ONLY
    assert all("推荐意见表》" not in i["message"] or pid != "liaoning" for i in record["issues"])
    assert [a["kind"] for a in record["attachments"]] == ["survey_report"]
    assert not record["issues"]  # not even a warning: the survey report is recognised, every 符合 names its evidence


#: What no form carries, for each program: the facts table staff fill (第六条第1款⑸ 近三年无重大事故 …).
FACTS = {
    "liaoning": {"近三年重大事故": "无", "近三年重大投诉": "无", "近三年严重违法违规": "无",
                 "主导产品或项目已获用户满意称号": "是", "主导产品或项目已获标杆称号": "是"},
    "national": {"近三年重大事故": "无", "近三年重大投诉": "无", "近三年严重违法违规": "无"},
    "guangdong-stars": {"服务一线从业人员": "是", "企业高层管理人员": "是", "省内合法从事服务": "是"},
    "guangzhou": {"参与用户满意工程活动": "是", "质量教育培训": "是", "近三年重大投诉": "无",
                  "五年内因虚假材料被撤销称号": "无"},
}


@pytest.mark.parametrize("pid", sorted(FACTS))
def test_screening_reaches_the_top_tier_from_the_parsed_records(parsed, tmp_path, pid):
    from pipeline.checking.screen import read_facts_workbook, screen_records
    from pipeline.common.xlsx import add_sheet, new_workbook, save

    program = load_program(pid)
    records = [record for (p, _), (_, record) in sorted(parsed.items()) if p == pid]
    manual = [c.id for c in program.criteria if c.manual]  # staff say every criterion they judge is met
    heads = ["企业名称", *FACTS[pid], *manual]
    book = new_workbook()
    add_sheet(book, "事实表", heads, [[r["company_name"], *FACTS[pid].values(), *["符合"] * len(manual)] for r in records])
    save(book, tmp_path / "facts.xlsx")
    table, warnings = read_facts_workbook(tmp_path / "facts.xlsx", program)
    assert not warnings
    sources = set()
    campaign = program_campaign(program, None)
    for s in screen_records(campaign, records, table, history=earlier_titles(program, records, campaign.year)):
        assert s.tier == program.category(s.category).tiers[-1].name, (s.category, s.outcomes)
        assert not s.note
        sources |= {part for o in s.outcomes if not o.criterion.manual for part in o.source.split("、")}
    assert sources - {"登记簿 往年登记簿.xlsx"} == {"申报表", "事实表", "附件"} - ({"申报表"} if pid == "guangzhou" else set()) - (
        {"附件"} if pid not in ("guangdong-stars",) else set())  # every answer says where it came from


def parse_one(tmp_path, pid, cid, change):
    write_filled(pid, cid, tmp_path / "inbox" / "a", change)
    return parse_inbox([tmp_path / "inbox"], tmp_path / "out", resolve_campaign(pid, None), jobs=1).records[0]


def test_liaoning_violations_found_with_liaoning_articles(tmp_path):
    def change(form_id, text):
        if form_id == "application":
            return {**text, "satisfaction_index": "78", "phone": "12345", "legal_representative": ""}
        if form_id == "checklist":
            return {**text, "self_03": "不符合", "self_05": ""}
        return None if form_id == "recommendation" else text

    record = parse_one(tmp_path, "liaoning", "product", change)
    by_code = {}
    for i in record["issues"]:
        by_code.setdefault(i["code"], []).append(i)
    assert [i["form"] for i in by_code["missing_form"]] == ["recommendation"]
    assert by_code["missing_form"][0]["article"] == "第十四条"
    low = {i["article"] for i in by_code["below_threshold"]}
    assert "第七条第1款⑺" in low and "第七条第2款⑶" in low  # 80 for 用户满意, 85 for the 标杆 applied for
    assert {i["field"] for i in by_code["invalid_format"]} == {"phone"}
    assert {i["field"] for i in by_code["missing_field"]} == {"legal_representative", "self_05"}
    crits = load_program("liaoning").criteria_for("product")
    assert [i["article"] for i in by_code["criterion_not_met"]] == [crits[2].article]
    assert all(i["article"].startswith("第") for i in record["issues"])
    assert record["status"] == "incomplete"
    from pipeline.checking.screen import screen_records

    [screened] = screen_records(program_campaign(load_program("liaoning"), None), [record])
    assert "补正" in screened.note and screened.tier in ("未达到", "待核实") or "材料需补正" in screened.tier


def test_an_incomplete_packet_never_reaches_a_tier_silently(tmp_path):
    from pipeline.checking.screen import screen_records

    record = parse_one(tmp_path, "guangdong-stars", "star", lambda f, t: None if f == "recommendation" else t)
    assert record["status"] == "incomplete"
    program = load_program("guangdong-stars")
    table = {"李晓红": {"name": "李晓红", "row": 2, "facts": {"front_line": True}, "category": None,
                     "verdicts": {c.id: True for c in program.criteria if c.manual}}}
    [screened] = screen_records(program_campaign(program, None), [record], table)
    # The tier follows from the criteria alone; the correction is a note of its own.
    assert screened.tier == "服务明星" and "材料需补正" in screened.note and "1 个错误" in screened.note


def test_a_user_satisfaction_applicant_is_not_held_to_the_benchmark(tmp_path):
    record = parse_one(tmp_path, "liaoning", "enterprise", lambda f, t: {**t, "tier": "satisfied",
                                                                         "satisfaction_index": "82"}
                       if f == "application" else t)
    assert not [i for i in record["issues"] if i["severity"] == "error"]


def test_guangdong_star_without_photo_fields_and_a_wrong_phone(tmp_path):
    record = parse_one(tmp_path, "guangdong-stars", "star",
                       lambda f, t: {**t, "political": "", "contact": "abc"} if f == "application" else t)
    assert {(i["code"], i["field"]) for i in record["issues"] if i["severity"] == "error"} == {
        ("missing_field", "political"), ("invalid_format", "contact")}
    assert all(i["article"] == "第十六条第1款" for i in record["issues"] if i["severity"] == "error")
    assert record["company_name"] == "李晓红"  # a person's packet is named by the person


def test_a_packet_without_any_form_of_the_program(tmp_path):
    (tmp_path / "inbox" / "a").mkdir(parents=True)
    letter = docx.Document()  # a Word file (a submission), but none of the program's forms
    letter.add_paragraph("我公司申请参加本年度评选，材料随后补交。")
    letter.save(str(tmp_path / "inbox" / "a" / "申请函.docx"))
    record = parse_inbox([tmp_path / "inbox"], tmp_path / "out", resolve_campaign("national", None), jobs=1).records[0]
    missing = [i for i in record["issues"] if i["code"] == "missing_form"]
    assert len(missing) == 1 and "企业类、服务类" in missing[0]["message"] and missing[0]["article"] == "第十五条"


def test_an_application_form_is_not_a_business_licence():
    form_text = "2021年度辽宁省用户满意企业（标杆）申报表\n企业名称\n统一社会信用代码\n用户满意度测评结果\n所获荣誉"
    assert classify("申报材料.docx", form_text) == "other"
    assert classify("scan.pdf", "营业执照\n统一社会信用代码 91210100MA0XY1234K\n名称 沈阳示范电器有限公司") == "business_license"
    assert classify("附件3.pdf", "辽宁示范电器有限公司\n用户满意度测评报告\n2021年") == "survey_report"
    assert classify("营业执照.jpg") == "business_license"


def test_cli_parse_with_program(tmp_path):
    write_filled("liaoning", "service", tmp_path / "inbox" / "svc")
    run = CliRunner().invoke(cli, ["parse", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"),
                                   "--program", "liaoning", "--jobs", "1"])
    assert run.exit_code == 0, run.output
    record = json.loads(next((tmp_path / "out" / "records").glob("*.json")).read_text(encoding="utf-8"))
    assert record["category"] == "service" and record["status"] == "complete"
    assert "错误 0 条" in run.output


def docx_text(path) -> str:
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    return "".join(t.text or "" for t in root.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"))


def test_notices_and_workbook_speak_for_the_program(tmp_path):
    from openpyxl import load_workbook

    write_filled("liaoning", "product", tmp_path / "inbox" / "a",
                 lambda f, t: None if f == "recommendation" else ({**t, "phone": "12"} if f == "application" else t))
    run = CliRunner().invoke(cli, ["parse", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"),
                                   "--program", "liaoning", "--jobs", "1"])
    assert run.exit_code == 0, run.output
    run = CliRunner().invoke(cli, ["notices", "--records", str(tmp_path / "out" / "records"), "--out",
                                   str(tmp_path / "notices"), "--program", "liaoning"])
    assert run.exit_code == 0, run.output
    [notice] = (tmp_path / "notices").glob("*.docx")
    text = docx_text(notice)
    assert "辽宁省质量协会" in text and "《2021年度辽宁省用户满意产品（标杆）推荐评价意见》" in text and "第十四条" in text
    assert "黑龙江" not in text and "实施全省用户满意工程" not in text and "封面" not in text
    assert "填写有效的电话号码" in text  # what the applicant must do, from the Liaoning form's own field
    book = load_workbook(tmp_path / "out" / "summary.xlsx", read_only=True)
    assert "产品申报表" in book.sheetnames and "产品类申请表" not in book.sheetnames
    sheet = list(book["产品申报表"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("来源", "企业名称", "统一社会信用代码") and "自评（第七条第1款⑻）" in sheet[0]
    assert sheet[1][1] == "沈阳示范电器有限公司" and "符合" in sheet[1]
    issues = list(book["问题清单"].iter_rows(values_only=True))
    assert any(row[3] == "2021年度辽宁省用户满意产品（标杆）申报表" and row[4] == "电话" for row in issues)
    overview = list(book["汇总"].iter_rows(values_only=True))
    head = overview[0]  # by the header's names: columns are added over time
    assert overview[1][head.index("类别")] == "产品" and overview[1][head.index("满意度得分")] == 88.5


def test_summary_table_per_recommending_unit_of_the_program(tmp_path):
    write_filled("liaoning", "product", tmp_path / "inbox" / "p")
    write_filled("liaoning", "service", tmp_path / "inbox" / "s",
                 lambda f, t: {**t, "recommending_unit": "大连市质量协会"} if f == "application" else t)
    write_filled("liaoning", "enterprise", tmp_path / "inbox" / "e", lambda f, t: None if f == "report" else t)
    parse_inbox([tmp_path / "inbox"], tmp_path / "out", resolve_campaign("liaoning", None), jobs=1)
    run = CliRunner().invoke(cli, ["summary-table", "--records", str(tmp_path / "out" / "records"), "--out",
                                   str(tmp_path / "tables"), "--program", "liaoning"])
    assert run.exit_code == 0, run.output
    assert "1 份申报材料需补正" in run.output
    files = {p.name: docx_text(p) for p in (tmp_path / "tables").glob("*.docx")}
    assert set(files) == {"沈阳市质量协会_推荐汇总表.docx", "大连市质量协会_推荐汇总表.docx"}
    shenyang = files["沈阳市质量协会_推荐汇总表.docx"]
    assert "2021年度辽宁省用户满意称号（标杆）推荐评定推荐汇总表" in shenyang
    assert "沈阳示范电器有限公司" in shenyang and "变频空调" in shenyang and "标杆" in shenyang
    assert "家电上门安装" in files["大连市质量协会_推荐汇总表.docx"]


def test_heilongjiang_reads_its_filled_checklist_too(tmp_path):
    """The seed's program prints its own packet, but its 推荐条件自评表 is generated: parse reads it, screen uses it."""
    from pipeline.checking.screen import screen_records
    from pipeline.word.build import build_template
    from pipeline.definitions.program_forms import form_set
    from pipeline.word.render import render_docx

    campaign = resolve_campaign("heilongjiang", None)
    checklist = form_set(load_program("heilongjiang"))["checklist.product"]
    ticks = {sid: "符合" for sid in checklist.get("criteria")} | {"self_02": "不符合", "company_name": "哈尔滨示范厂"}
    (tmp_path / "inbox" / "a").mkdir(parents=True)
    render_docx(build_template(checklist, tmp_path / "t.docx"), {"c": campaign.context(), "v": ticks, "rows": []},
                tmp_path / "inbox" / "a" / "自评表.docx")
    record = parse_inbox([tmp_path / "inbox"], tmp_path / "out", campaign, jobs=1).records[0]
    assert record["forms"]["checklist"]["self_02"] == "不符合" and record["category"] == "product"
    assert record["forms"]["checklist"]["company_name"] == "哈尔滨示范厂"
    [screened] = screen_records(program_campaign(load_program("heilongjiang"), None), [record])
    second = load_program("heilongjiang").criteria_for("product")[1]
    outcome = next(o for o in screened.outcomes if o.criterion.id == second.id)
    assert outcome.result == "不符合" and outcome.evidence == "自评表：不符合"


def test_a_workspace_of_the_program_receives_its_packets(tmp_path):
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    write_filled("liaoning", "service", tmp_path / "inbox" / "svc")
    with Workspace.init(tmp_path / "ws", resolve_campaign("liaoning", None), by="测试") as ws:
        result = receive(ws, [tmp_path / "inbox"], jobs=1)
        (record,) = ws.latest_records()
    assert result is not None
    assert record["category"] == "service" and record["status"] == "complete", record["issues"]
    assert not SEED_ONLY & set(record["forms"]) and not [i for i in record["issues"] if i["code"] == "missing_form"]
