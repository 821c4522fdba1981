"""manyi packet: blank packets per category, pre-filled packets from a roster, PDFs in one batch."""

import subprocess
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from lxml import etree

from pipeline.cli import cli
from pipeline.common.errors import UserError
from pipeline.common.text import fold
from pipeline.word.render import PRINTED_BOX as BOX, PRINTED_TICK as TICK
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.forms import categories, load_forms, packet_forms, packet_spec
from pipeline.word.build import printed_labels
from pipeline.generating.packet import write_packets

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
LITERAL = "A&B <公司> {{x}}"

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the printed packet's program: 黑龙江



def docx_text(path) -> str:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    return "".join(t.text or "" for t in root.iter(f"{W}t"))


@pytest.fixture(scope="session")
def blank_all(tmp_path_factory):
    return write_packets(tmp_path_factory.mktemp("blank_all"), "all", HLJ)


@pytest.fixture(scope="session")
def roster_run(tmp_path_factory):
    """A roster of 50 applicants plus two bad rows, written in code."""
    folder = tmp_path_factory.mktemp("roster")
    names = list(categories().values())
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["企业名称", "类别", "所属行业", "所在地区", "推进单位", "联系人电话", "邮箱", "备注"])
    for n in range(1, 49):
        sheet.append([f"测试企业{n:02d}有限公司", names[n % 4], "制造业", "哈尔滨市", "哈尔滨市质量协会",
                      f"0451-8000{n:04d}", f"a{n}@example.com", "忽略"])
    sheet.append(["", "产品类", "制造业", "", "", "", "", ""])  # row 50: no name
    sheet.append(["坏类别公司", "食品类", "", "", "", "", "", ""])  # row 51: unknown category
    sheet.append([LITERAL, "企业类", "", "", "", "", "", ""])
    sheet.append(["测试企业01有限公司", "产品", "", "", "", "", "", ""])  # same name: a unique file name
    roster = folder / "名单.xlsx"
    book.save(roster)
    return write_packets(folder / "out", "all", HLJ, roster=roster), folder / "out"


def test_blank_all_writes_four_packets_summary_table_and_contract(blank_all):
    names = sorted(p.name for p in blank_all.files)
    spec = packet_spec()["file_names"]
    expected = sorted([spec["packet"].format(category_zh=zh) + ".docx" for zh in categories().values()]
                      + [spec["summary_table"] + ".docx", spec["contract"] + ".docx"])
    assert names == expected and not blank_all.problems
    assert all(p.is_file() and p.stat().st_size > 10_000 for p in blank_all.files)
    assert "已生成 4 份申报材料" in blank_all.summary()


def test_blank_packets_together_hold_every_label(blank_all):
    text = fold("".join(docx_text(p) for p in blank_all.files))
    for form in load_forms().values():
        if form.layout:
            missing = [label for label in printed_labels(form) if fold(label) not in text]
            assert not missing, f"{form.key}: {missing}"


def test_blank_packets_print_campaign_values_and_no_tags(blank_all):
    texts = {p.stem: docx_text(p) for p in blank_all.files}
    for text in texts.values():
        assert "{{" not in text and "{%" not in text
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    product = texts["产品类申报材料"]
    assert f"{campaign.year}年实施全省用户满意工程" in product and "2017年6月20日" in product
    assert "2016年12月1日" in product and BOX + "企业类" in product and TICK not in product
    assert "技术服务费2000元" in texts["技术服务委托合同书"] and campaign.association.account in texts["技术服务委托合同书"]


def test_each_packet_holds_its_forms_in_the_seed_order(blank_all):
    for cid, zh in categories().items():
        text = fold(docx_text(blank_all.out / f"{zh}申报材料.docx"))
        position = 0
        for form in packet_forms(cid):  # each form's title after the previous one's
            position = text.find(fold(form.detect[0]), position + 1)
            assert position > 0, (cid, form.key)
        assert text.count(fold("企业实施用户满意工程情况表")) == 1
    construction = docx_text(blank_all.out / "建筑工程类申报材料.docx")
    assert "现场巡视记录表" in construction
    assert "现场巡视记录表" not in docx_text(blank_all.out / "服务类申报材料.docx").replace("并填写现场巡视记录表", "")


def test_category_product_holds_the_product_form_only(tmp_path):
    result = write_packets(tmp_path, "product", HLJ)
    packets = [p for p in result.files if p not in result.extras]
    assert [p.name for p in packets] == ["产品类申报材料.docx"]
    text = docx_text(packets[0])
    assert "（产品类）申请表" in text and "（企业类）申请表" not in text and "（服务类）申请表" not in text


def test_roster_gives_one_named_packet_per_good_row(roster_run):
    result, out = roster_run
    packets = sorted(p.name for p in out.glob("*.docx"))
    assert len(packets) == len(result.files) == 50
    assert "测试企业07有限公司.docx" in packets and "测试企业01有限公司 (2).docx" in packets
    bad_rows = [p for p in result.problems if "未生成" in p]
    assert len(bad_rows) == 2
    assert any("第 50 行" in p and "企业名称" in p for p in bad_rows)
    assert any("第 51 行" in p and "食品类" in p for p in bad_rows)
    # The roster names no product, project or service: one warning per category says what the 推荐汇总表 lists
    unnamed = [p for p in result.problems if "暂列企业名称" in p]
    assert len(unnamed) == 3 and len(result.problems) == 7
    # 备注 fills no field of any form; row 53 repeats row 2's company and category: both said, rows named
    assert "名单中的列 “备注” 不对应申报材料中的任何栏目，未填入" in result.problems
    assert any("第 53 行与第 2 行是同一企业（测试企业01有限公司）的同一类别" in p for p in result.problems)
    assert any("名单中 13 行没有产品名称" in p and "“推荐产品”" in p and "等 13 处" in p for p in unnamed), unnamed
    assert sum(result.counts.values()) == 50 and result.counts["enterprise"] == 13


def test_a_roster_naming_the_products_lists_them_and_warns_of_nothing(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["企业名称", "类别", "产品名称", "推进单位"])
    book.active.append(["华光电器有限公司", "产品类", "电热水器", "哈尔滨市质量协会"])
    book.save(tmp_path / "名单.xlsx")
    result = write_packets(tmp_path / "out", "all", HLJ, roster=tmp_path / "名单.xlsx")
    assert result.problems == []
    table = docx_text(tmp_path / "out" / packet_spec()["file_names"]["summary_table"] / "哈尔滨市质量协会_推荐汇总表.docx")
    assert "电热水器" in table


def test_roster_values_are_prefilled_and_the_category_ticked(roster_run):
    _result, out = roster_run
    text = docx_text(out / "测试企业04有限公司.docx")  # 04 % 4 == 0: 企业类
    assert text.count("测试企业04有限公司") >= 4  # cover, 推荐意见表, 申请表, 情况表 …
    assert "哈尔滨市质量协会" in text and "0451-80000004" in text and "a4@example.com" in text
    assert TICK + "企业类" in text and BOX + "产品类" in text
    assert "（企业类）申请表" in text and "忽略" not in text
    # 推荐类别 is the recommending unit's to fill: the cover's category id never leaks into it.
    assert "enterprise" not in text


def test_company_name_with_markup_prints_literally(roster_run):
    _result, out = roster_run
    path = next(p for p in out.glob("*.docx") if p.name.startswith("A&B"))
    assert not set('<>') & set(path.stem)
    assert LITERAL in docx_text(path)


def test_roster_with_two_processes_writes_the_same_packets(roster_run, tmp_path):
    _result, out = roster_run
    roster = out.parent / "名单.xlsx"
    result = write_packets(tmp_path, "service", HLJ, roster=roster, jobs=2)
    assert sorted(p.name for p in result.files) == sorted(
        p.name for p in out.glob("*.docx") if "（服务类）申请表" in docx_text(p))
    assert len(result.files) == 12


def test_cli_packet_reports_a_missing_roster_in_chinese(tmp_path):
    run = CliRunner().invoke(cli, ["packet", "--out", str(tmp_path), "--roster", str(tmp_path / "无.xlsx")])
    assert run.exit_code == 2 and "找不到名单文件" in run.output and "Traceback" not in run.output


def test_cli_packet_prints_a_one_line_summary(tmp_path):
    run = CliRunner().invoke(cli, ["packet", "--out", str(tmp_path), "--category", "service"])
    assert run.exit_code == 0, run.output
    # The printed packet of 服务类 and its generated 推荐条件自评表: two documents of that category.
    assert "已生成 2 份申报材料（服务类 2 份）" in run.output and str(tmp_path) in run.output
    assert (tmp_path / "服务类申报条件自评表.docx").is_file()


# --- PDF: one LibreOffice batch for the whole session ----------------------------------------------


@pytest.fixture(scope="session")
def blank_pdf(tmp_path_factory):
    return write_packets(tmp_path_factory.mktemp("blank_pdf"), "all", HLJ, pdf=True)


@pytest.mark.xdist_group("packet_pdf")
def test_pdf_beside_each_docx(blank_pdf):
    assert not blank_pdf.problems
    assert sorted(p.stem for p in blank_pdf.pdfs) == sorted(p.stem for p in blank_pdf.files)
    assert all(p.parent == blank_pdf.out and p.stat().st_size > 1000 for p in blank_pdf.pdfs)


@pytest.mark.xdist_group("packet_pdf")
def test_pdf_text_holds_each_form_title(blank_pdf):
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    for cid, zh in categories().items():
        pdf = blank_pdf.out / f"{zh}申报材料.pdf"
        text = fold(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout)
        for form in packet_forms(cid):
            for title in form.detect:
                assert fold(title) in text, (cid, title)
        assert fold(packet_forms(cid)[3 if cid == "construction" else 2].printed_title(campaign)) in text


@pytest.mark.xdist_group("packet_pdf")
def test_pdf_embeds_a_cjk_font(blank_pdf):
    for pdf in blank_pdf.pdfs:
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        chinese = [line for line in listing.splitlines() if "+NotoSerifSC" in line or "+NotoSansSC" in line]
        assert chinese and all(" yes " in line for line in chinese), listing


def test_pdf_without_libreoffice_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("MANYI_SOFFICE", str(tmp_path / "no-soffice"))
    with pytest.raises(UserError, match="LibreOffice"):
        write_packets(tmp_path, "service", HLJ, pdf=True)


def test_each_form_ticks_its_own_boxes_whatever_the_other_forms_hold(tmp_path):
    """The cover's `category` is a check box; the 推荐意见表's `category` is free text: they never mix."""
    from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
    from pipeline.generating.packet import render_packet

    values = {"cover": {"category": "service"}, "recommendation": {"category": "服务类", "compliant": False}}
    out = render_packet("service", values, tmp_path / "p.docx", load_campaign(DEFAULT_CAMPAIGN).context())
    text = docx_text(out)
    assert TICK + "服务类" in text and BOX + "企业类" in text
    assert BOX + "符合" in text and TICK + "不符合" in text


def test_roster_also_writes_each_contract_and_the_summary_tables(roster_run):
    result, out = roster_run
    spec = packet_spec()["file_names"]
    contracts = sorted((out / spec["contract"]).glob("*.docx"))
    assert sorted(p.name for p in contracts) == sorted(p.name for p in out.glob("*.docx"))  # one per packet
    text = docx_text(out / spec["contract"] / "测试企业05有限公司.docx")
    assert "测试企业05有限公司" in text and "0451-80000005" in text  # 甲方 filled from the roster
    assert "黑龙江省质量协会" in text  # 乙方 from the campaign
    tables = {p.name: docx_text(p) for p in (out / spec["summary_table"]).glob("*.docx")}
    assert sorted(tables) == ["哈尔滨市质量协会_推荐汇总表.docx", "未注明推进单位_推荐汇总表.docx"]
    listed = tables["哈尔滨市质量协会_推荐汇总表.docx"]
    assert "共推动（\u3000\u3000\u3000）家企业" in listed and "测试企业01有限公司" in listed  # the unit's own figure
    assert "未注明推进单位" not in tables["未注明推进单位_推荐汇总表.docx"]  # the form's 推荐单位 is left blank
    assert LITERAL in tables["未注明推进单位_推荐汇总表.docx"]
    assert f"{spec['contract']} 50 份" in result.summary() and result.summary().count(spec["summary_table"]) == 1


def test_roster_with_a_file_where_the_contract_folder_goes_is_a_chinese_error(roster_run, tmp_path):
    _result, out = roster_run
    (tmp_path / packet_spec()["file_names"]["contract"]).write_text("占位")
    with pytest.raises(UserError, match="同名的文件已存在"):
        write_packets(tmp_path, "service", HLJ, roster=out.parent / "名单.xlsx")
