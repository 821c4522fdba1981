"""The five programs through the commands: packet, parse, notices, certificates and the register.

For each program: a packet holding its application form title and a criterion; a certificate with
its own title, issuing bodies and validity (.docx, and one PDF of all five programs made by one
LibreOffice start); the register keeping the programs apart.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from openpyxl import Workbook

from pipeline.checking.screen import read_facts_workbook, screen_records
from pipeline.cli import cli
from pipeline.common import office, outputs
from pipeline.common.errors import UserError
from pipeline.definitions.campaign import CAMPAIGNS_DIR, zh_date
from pipeline.definitions.programs import program_campaign, load_program, resolve_campaign
from pipeline.issuing import register
from pipeline.issuing.certificates import make_certificates, page_count, print_run, read_winners

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

#: program → (category, its application form title, one of its criteria as the packet prints it).
PACKETS = {
    "heilongjiang": ("product", "实施全省用户满意工程先进单位（产品类）申请表", "产品必须填写型号、规格，填写系列产品无效"),
    "liaoning": ("construction", "2021年度辽宁省用户满意建筑工程（标杆）申报表", "住宅工程达到基本入住条件，且入住率在60%以上"),
    "national": ("service", "全国用户满意标杆申报表（服务类）", "近三年无重大质量、安全和环境事故及重大用户投诉"),
    "guangzhou": ("person", "2016年度广州市实施用户满意工程先进个人申报表", "五年内未因提供虚假申报材料等不正当手段被撤销称号"),
    "guangdong-stars": ("team", "2021年度广东省用户满意服务明星班组申报表", "一线基层服务班、组（包括站、店、所、队等）"),
}

#: program → (winners header, rows); the certificates are issued on 1 December of the campaign's year.
WINNERS = {
    "heilongjiang": (["企业名称", "类别", "项目名称"], [["哈尔滨电机厂有限责任公司", "企业类", None]]),
    "liaoning": (["企业名称", "类别", "项目名称", "等级"],
                 [["沈阳冰箱厂", "产品", "BCD-470 电冰箱", "标杆"], ["辽宁一建", "建筑工程", "阳光小区", None],
                  ["坏等级厂", "产品", "电视机", "金奖"]]),
    "national": (["组织名称", "类别"], [["海尔集团公司", "企业类"]]),
    "guangzhou": (["单位名称", "姓名", "类别", "工作单位"],
                  [["广州地铁集团", None, "先进单位", None], [None, "陈明", "先进个人", "广州供电局"]]),
    "guangdong-stars": (["姓名", "班组", "企业名称", "类别", "工作单位"],
                        [["李红", None, None, "服务明星", "广州地铁"], [None, "客服一班", None, "服务明星班组", "广州移动"],
                         [None, None, "顺丰速运", "服务明星企业", None], [None, None, "某公司", "服务明星", "某公司"]]),
}
GUANGDONG_ISSUERS = "广东省质量协会　广东省总工会　共青团广东省委员会\n广东省妇女联合会　广东省科学技术协会"

#: number → (title, what the certificate says of validity: the last day, or None for no 有效期 line).
EXPECTED = {
    "HLJ2017-EN-0001": ("2017年度全省用户满意工程先进单位（企业类）", "2019年11月30日"),
    "LN2021-CP-0001": ("2021年度辽宁省用户满意产品（标杆）", "2023年11月30日"),
    "LN2021-CN-0001": ("2021年度辽宁省用户满意建筑工程", "2021年12月31日"),  # 当年度的荣誉
    "CAQ2016-EN-0001": ("2016年度全国用户满意标杆（企业类）", None),
    "GZ2016-UN-0001": ("2016年度广州市实施用户满意工程先进单位", None),  # the seed sets no validity
    "GZ2016-PE-0001": ("2016年度广州市实施用户满意工程先进个人", None),
    "GDSTAR2021-ST-0001": ("2021年度广东省用户满意服务明星", "2024年11月30日"),
    "GDSTAR2021-TM-0001": ("2021年度广东省用户满意服务明星班组", "2024年11月30日"),
    "GDSTAR2021-EN-0001": ("2021年度广东省用户满意服务明星企业", "2024年11月30日"),
}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    def text(paragraph):  # a line break inside a paragraph reads as a newline
        return "".join("\n" if e.tag == f"{W}br" else e.text or "" for e in paragraph.iter(f"{W}t", f"{W}br"))

    return "\n".join(text(p) for p in root.iter(f"{W}p"))


def write_book(path: Path, header, rows) -> Path:
    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


# --- packet ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("pid", sorted(PACKETS))
def test_packet_of_each_program_holds_its_form_title_and_a_criterion(pid, tmp_path):
    category, title, criterion = PACKETS[pid]
    run = invoke("packet", "--program", pid, "--category", category, "--out", tmp_path)
    assert run.exit_code == 0, run.output
    files = sorted(tmp_path.glob("*.docx"))
    assert files
    text = "".join(docx_text(f) for f in files)
    assert title in text.replace("\n", "") and criterion in text
    assert "{{" not in text


def test_default_packet_is_heilongjiangs(tmp_path):
    plain = invoke("packet", "--category", "product", "--out", tmp_path / "plain")
    named = invoke("packet", "--program", "heilongjiang", "--category", "产品类", "--out", tmp_path / "named")
    assert plain.exit_code == named.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "plain").iterdir() if p.name not in outputs.CONTROL)
    assert names == sorted(p.name for p in (tmp_path / "named").iterdir() if p.name not in outputs.CONTROL)
    # the printed packet and its standalone forms, then the program's generated 推荐条件自评表
    assert names == sorted(["产品类申报材料.docx", "技术服务委托合同书.docx", "推荐汇总表.docx", "产品类申报条件自评表.docx"])


def test_packet_all_writes_every_category_of_the_program(tmp_path):
    run = invoke("packet", "--program", "guangdong-stars", "--category", "all", "--out", tmp_path)
    assert run.exit_code == 0, run.output
    stems = {p.stem for p in tmp_path.glob("*.docx")}
    for cat in load_program("guangdong-stars").categories.values():
        assert {f"{cat.name}申报表", f"{cat.name}申报条件自评表"} <= stems
    assert {"服务明星推荐意见表", "服务明星班组成员名单"} <= stems  # 第十六条: 推荐意见; 第十三条: the team's members
    counts = "、".join(f"{c.name} {n} 份" for c, n in zip(load_program("guangdong-stars").categories.values(), (3, 4, 3, 3)))
    assert len(stems) == 13 and f"已生成 13 份申报材料（{counts}）" in run.output


@pytest.mark.parametrize("args, words", [
    (["--program", "liaoning", "--category", "food"], ["没有类别“food”", "construction（建筑工程）", "all"]),
    (["--category", "食品"], ["没有类别“食品”", "product（产品类）"]),
    (["--program", "shanghai"], ["找不到项目“shanghai”", "guangdong-stars、guangzhou、heilongjiang、liaoning、national"]),
    (["--program", "liaoning", "--campaign", str(CAMPAIGNS_DIR / "heilongjiang-2017.yaml")],
     ["heilongjiang-2017.yaml 属于项目“heilongjiang”", "“liaoning”不一致"]),
    (["--program", "national", "--roster", "名单.xlsx"], ["--roster", "全国用户满意标杆"]),
])
def test_packet_mistakes_are_chinese_errors(args, words, tmp_path):
    run = invoke("packet", *args, "--out", tmp_path)
    assert run.exit_code == 2 and "Traceback" not in run.output
    for word in words:
        assert word in run.output
    assert not list(tmp_path.glob("*.docx"))


# --- the campaign a command runs with -------------------------------------------------------------


def test_resolve_campaign():
    with pytest.raises(UserError, match="--program"):  # the library never picks a program by itself
        resolve_campaign(None, None)
    assert resolve_campaign("liaoning", None).id == "liaoning-2021"
    assert resolve_campaign(None, str(CAMPAIGNS_DIR / "national-2016.yaml")).program == "national"
    assert resolve_campaign("guangzhou", str(CAMPAIGNS_DIR / "guangzhou-2016.yaml")).id == "guangzhou-2016"
    with pytest.raises(UserError, match="不一致"):
        resolve_campaign("guangzhou", str(CAMPAIGNS_DIR / "national-2016.yaml"))


def test_parse_runs_with_the_programs_campaign(tmp_path, monkeypatch):
    import pipeline.parse

    seen = {}

    class Done:
        notes = []

        def line(self):
            return "已解析 0 份"

    def fake_parse_inbox(paths, out, campaign, received, jobs, progress, **options):
        seen["campaign"] = campaign
        return Done()

    monkeypatch.setattr(pipeline.parse, "parse_inbox", fake_parse_inbox)
    run = invoke("parse", tmp_path, "--out", tmp_path / "out", "--program", "liaoning")
    assert run.exit_code == 0, run.output
    assert seen["campaign"].id == "liaoning-2021" and seen["campaign"].min_satisfaction == 80
    assert invoke("parse", tmp_path, "--out", tmp_path / "out").exit_code == 0
    assert seen["campaign"].id == "heilongjiang-2017"
    bad = invoke("parse", tmp_path, "--out", tmp_path / "out", "--program", "nowhere")
    assert bad.exit_code == 2 and "找不到项目" in bad.output
    assert "生成的各表" in invoke("parse", "--help").output  # the help says the program's own forms are read


def test_notices_carry_the_programs_association(tmp_path):
    record = {"submission_id": "s1", "source": "沈阳冰箱厂.zip", "category": "product", "company_name": "沈阳冰箱厂",
              "forms": {}, "status": "incomplete",
              "issues": [{"severity": "error", "code": "missing_form", "form": "commitment", "field": None,
                          "message": "缺少“承诺书”"}]}
    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "s1.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    run = invoke("notices", "--records", tmp_path / "records", "--out", tmp_path / "out", "--program", "liaoning",
                 "--date", "2021-11-20", "--deadline", "2021-11-30")  # a reply-by date never before the notice's
    assert run.exit_code == 0, run.output
    text = docx_text(tmp_path / "out" / "沈阳冰箱厂_补正通知.docx")
    assert "2021年度辽宁省用户满意称号（标杆）推荐评定申报材料" in text
    assert "报送辽宁省质量协会" in text and "2021年11月30日前" in text
    assert "黑龙江" not in text


# --- screening: Guangzhou (the other four are in test_screen.py) -----------------------------------


def test_guangzhou_screens_units_and_people_with_articles(tmp_path):
    program = load_program("guangzhou")
    facts = write_book(tmp_path / "facts.xlsx",
                       ["企业名称", "类别", "参与用户满意工程活动", "质量教育培训", "近三年重大投诉", "五年内因虚假材料被撤销称号"],
                       [["广州地铁集团", "先进单位", "是", "是", "无", "否"],
                        ["白云某厂", "先进单位", "是", "是", "无", "是"],
                        ["陈明", "先进个人", None, None, None, "否"]])
    table, warnings = read_facts_workbook(facts, program)
    assert warnings == []
    records = [{"submission_id": n, "source": n, "category": None, "company_name": n, "forms": {}, "issues": []}
               for n in ("广州地铁集团", "白云某厂", "陈明")]
    pending = {s.company: s.tier for s in screen_records(program_campaign(program, None), records, table)}
    assert pending["广州地铁集团"] == "待核实"  # 第十七条 典型性 is staff-judged: not yet confirmed
    for row in table.values():  # staff confirm what only they can judge
        row["verdicts"] = {c.id: True for c in program.criteria if c.manual}
    by = {s.company: s for s in screen_records(program_campaign(program, None), records, table)}
    assert by["广州地铁集团"].tier == "标杆"
    assert by["白云某厂"].tier == "未达到"
    fraud = next(o for o in by["白云某厂"].outcomes if o.criterion.article == "第二十六条")
    assert fraud.result == "不符合"
    assert by["陈明"].category == "person" and by["陈明"].tier == "先进个人"
    articles = {o.criterion.article for o in by["广州地铁集团"].outcomes}
    assert {"第十七条", "第十八条", "第二十二条", "第二十六条"} <= articles


# --- certificates ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def certified(tmp_path_factory):
    """Every program's winners printed into one register; one PDF of all of them (one LibreOffice start)."""
    base = tmp_path_factory.mktemp("program-certificates")
    results = {}
    for pid, (header, rows) in WINNERS.items():
        campaign = resolve_campaign(pid, None)
        book = write_book(base / f"{pid}.xlsx", header, rows)
        results[pid] = make_certificates(book, base / pid, campaign, base / "register.db",
                                         today=date(int(campaign.year), 12, 1))
    contexts = [ctx for result in results.values() for ctx in result.contexts]
    combined = print_run(contexts, base / "all.docx", campaign)
    pdf = office.convert([combined], "pdf", base / "pdf")[combined]
    assert isinstance(pdf, Path), pdf
    return base, results, pdf


def entries_of(results):
    return {e.number: (e, path) for r in results.values() for e, path in zip(r.entries, r.files)}


def test_each_program_numbers_its_own_winners(certified):
    _, results, _ = certified
    assert set(entries_of(results)) == set(EXPECTED)
    assert results["liaoning"].problems == ["第 4 行（坏等级厂）：等级“金奖”无法识别（应为 用户满意/标杆），已跳过"]
    assert results["guangdong-stars"].problems == ["第 5 行：姓名为空，已跳过"]  # 某公司 is no person's name


@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_certificate_prints_its_title_issuers_and_validity(certified, number):
    _, results, _ = certified
    entry, path = entries_of(results)[number]
    title, last_day = EXPECTED[number]
    text = docx_text(path)
    assert entry.title == title and title in text and f"证书编号：{number}" in text
    program = load_program(entry.program)
    for body in program.get("issuers"):
        assert body in text
    if last_day:
        assert f"有效期至{last_day}" in text
        assert zh_date(entry.valid_to) == last_day
    else:
        assert "有效期" not in text and entry.valid_to is None


def test_holders_and_their_items(certified):
    _, results, _ = certified
    by = {e.company: path for e, path in entries_of(results).values()}
    assert "工作单位：广州地铁" in docx_text(by["李红"])
    assert "工作单位：广州移动" in docx_text(by["客服一班"])
    assert "产品名称：BCD-470 电冰箱" in docx_text(by["沈阳冰箱厂"])
    assert "工程名称：阳光小区" in docx_text(by["辽宁一建"])
    assert "名称：" not in docx_text(by["海尔集团公司"])
    assert GUANGDONG_ISSUERS in docx_text(by["顺丰速运"])  # wrapped between bodies


def test_one_pdf_of_all_five_programs(certified):
    _, results, pdf = certified
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = [p.replace(" ", "").replace("\n", "") for p in text.split("\f") if p.strip()]
    numbers = [e.number for r in results.values() for e in r.entries]
    assert page_count(pdf) == len(pages) == len(numbers) == 9
    for page, number in zip(pages, numbers):
        title, last_day = EXPECTED[number]
        assert number in page and title.replace(" ", "") in page
        assert (f"有效期至{last_day}" in page) if last_day else ("有效期" not in page)
        assert "（盖章）" not in page  # the seal goes over the issuer's name
    assert "广东省科学技术协会" in pages[-1]


def test_register_keeps_programs_apart(certified):
    base, _, _ = certified
    db = base / "register.db"
    with register.connect(db, create=False) as conn:
        assert {e.number for e in register.entries(conn, program="guangzhou")} == {"GZ2016-UN-0001", "GZ2016-PE-0001"}
        assert register.lookup(conn, "GZ2016-UN-0001", program="liaoning") is None
        construction = register.lookup(conn, "ln2021-cn-0001")
        assert construction.valid_to == date(2021, 12, 31) and construction.validity_years is None
        assert register.lookup(conn, "LN2021-CP-0001").tier == "benchmark"
        for number in ("GZ2016-UN-0001", "LN2021-CN-0001"):
            with pytest.raises(UserError, match="不能续期"):
                register.renew(conn, number)
    listed = invoke("register", "list", "--program", "guangdong-stars", "--register", db)
    assert listed.exit_code == 0 and "共 3 张证书" in listed.output and "服务明星班组" in listed.output
    assert "LN2021" not in listed.output
    unknown = invoke("register", "list", "--program", "shanghai", "--register", db)
    assert unknown.exit_code == 2 and "找不到项目" in unknown.output


@pytest.mark.parametrize("number, lines", [
    ("GZ2016-UN-0001", ["评选项目：广州市实施用户满意工程先进单位和先进个人推选", "有 效 期：未规定（2016年12月1日颁发）",
                        "类　　别：先进单位", "状　　态：有效"]),
    ("LN2021-CP-0001", ["评选项目：辽宁省用户满意称号（标杆）推荐评定", "称　　号：2021年度辽宁省用户满意产品（标杆）",
                        "有 效 期：2021年12月1日 至 2023年11月30日"]),
    ("HLJ2017-EN-0001", ["评选项目：实施全省用户满意工程先进单位推荐", "类　　别：企业类"]),
])
def test_verify_shows_the_program(certified, number, lines):
    base, _, _ = certified
    run = invoke("register", "verify", number, "--register", base / "register.db")
    assert run.exit_code == 0, run.output
    for line in lines:
        assert line in run.output


def test_reprint_keeps_numbers_and_the_same_name_in_two_programs_is_two_certificates(tmp_path):
    db = tmp_path / "r.db"
    shared = write_book(tmp_path / "w.xlsx", ["企业名称", "类别"], [["同名服务公司", "服务类"]])
    national = make_certificates(shared, tmp_path / "n", resolve_campaign("national", None), db, today=date(2016, 12, 1))
    liaoning = make_certificates(shared, tmp_path / "l", resolve_campaign("liaoning", None), db, today=date(2021, 12, 1))
    assert national.entries[0].number == "CAQ2016-SV-0001" and liaoning.entries[0].number == "LN2021-SV-0001"
    again = make_certificates(shared, tmp_path / "l2", resolve_campaign("liaoning", None), db, today=date(2022, 3, 1))
    assert again.entries[0].number == "LN2021-SV-0001" and again.entries[0].valid_from == date(2021, 12, 1)


def test_winners_of_another_programs_categories_are_reported(tmp_path):
    book = write_book(tmp_path / "w.xlsx", ["企业名称", "类别"], [["某建筑公司", "建筑工程类"], ["某服务公司", "服务"]])
    winners, problems = read_winners(book, load_program("national"))
    assert [w.company for w in winners] == ["某服务公司"] and winners[0].tier == "benchmark"
    assert problems == ["第 2 行（某建筑公司）：类别“建筑工程类”无法识别（应为 企业类/服务类），已跳过"]


def test_certificates_command_with_a_program(tmp_path):
    header, rows = WINNERS["guangzhou"]
    book = write_book(tmp_path / "w.xlsx", header, rows)
    run = invoke("certificates", "--program", "guangzhou", "--winners", book, "--out", tmp_path / "out",
                 "--register", tmp_path / "r.db")
    assert run.exit_code == 0, run.output
    assert "GZ2016-PE-0001  陈明  广州供电局" in run.output and "已生成 2 张证书" in run.output
    mismatch = invoke("certificates", "--program", "guangzhou", "--campaign", str(CAMPAIGNS_DIR / "liaoning-2021.yaml"),
                      "--winners", book, "--out", tmp_path / "out2", "--register", tmp_path / "r.db")
    assert mismatch.exit_code == 2 and "不一致" in mismatch.output and not (tmp_path / "out2").exists()


def test_tier_from_a_称号_column_holding_the_title(tmp_path):
    book = write_book(tmp_path / "w.xlsx", ["企业名称", "类别", "称号"],
                      [["甲厂", "产品类", "2021年度辽宁省用户满意产品（标杆）"], ["乙厂", "产品", "辽宁省用户满意产品"],
                       ["丙厂", "产品", "辽宁省用户满意服务（标杆）"]])
    winners, problems = read_winners(book, load_program("liaoning"))
    assert [(w.company, w.tier) for w in winners] == [("甲厂", "benchmark"), ("乙厂", "satisfied")]
    assert problems == ["第 4 行（丙厂）：等级“辽宁省用户满意服务（标杆）”无法识别（应为 用户满意/标杆），已跳过"]


def test_a_campaign_that_still_sets_a_certificate_title_is_told_where_titles_live(tmp_path):
    text = (CAMPAIGNS_DIR / "guangzhou-2016.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "guangzhou-2017.yaml"
    edited.write_text(text.replace("certificate:\n", 'certificate:\n  title: "{year}年度广州市{category}"\n'),
                      encoding="utf-8")
    book = write_book(tmp_path / "w.xlsx", *WINNERS["guangzhou"])
    with pytest.raises(UserError, match="title"):
        make_certificates(book, tmp_path / "out", resolve_campaign("guangzhou", edited), tmp_path / "r.db")
    assert make_certificates(book, tmp_path / "again", resolve_campaign("guangzhou", None), tmp_path / "r2.db").entries


