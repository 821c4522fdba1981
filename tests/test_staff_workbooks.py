"""Workbooks staff prepare (名单, 获奖名单, 事实表): one reader, whatever the header looks like (issue 19)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.cli import cli
from pipeline.common.errors import UserError
from pipeline.definitions.programs import load_program
from pipeline.definitions.workbooks import find_header, header_key
from pipeline.generating.packet import applicants, read_roster, write_packets

TITLE = "2017年实施全省用户满意工程申报单位名单"

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the printed packet's program: 黑龙江



def workbook(path: Path, rows: list[list], merge: list[str] = ()) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cells in merge:
        sheet.merge_cells(cells)
    book.save(path)
    return path


def titled_roster(path: Path) -> Path:
    """A roster as staff type it: a title row above, synonyms and remarks in the header, stray spaces."""
    return workbook(path, [
        [TITLE],
        [" 企业名称（盖章） ", "申报类别", "联系人电话", "产品名称", "备注"],
        ["哈尔滨甲电器有限公司", "产品", "0451-86000001", "电热水器", "老客户"],
        ["哈尔滨乙服务有限公司", "服务类 ", "0451-86000002", None, None],
        ["哈尔滨丙建设集团", "建筑工程类", "0451-86000003", None, None],
        ["哈尔滨丁设备有限公司", "企业", "0451-86000004", None, None],
        ["哈尔滨甲电器有限公司", "产品类", "0451-86000001", "燃气灶", None],
    ], merge=["A1:E1"])


def test_a_roster_with_a_title_row_and_synonym_headers_writes_every_packet(tmp_path):
    result = write_packets(tmp_path / "out", "all", HLJ, roster=titled_roster(tmp_path / "名单.xlsx"))
    packets = [p for p in result.files if p not in result.extras]
    assert len(packets) == 5
    assert result.counts == {"product": 2, "service": 1, "construction": 1, "enterprise": 1}
    assert not [p for p in result.problems if "未生成" in p]
    assert any("第 7 行与第 3 行是同一企业（哈尔滨甲电器有限公司）的同一类别" in p for p in result.problems)
    assert "名单中的列 “备注” 不对应申报材料中的任何栏目，未填入" in result.problems


@pytest.mark.parametrize("header", ["单位名称", "企业全称", "企业名称（盖章）", "企业名称*"])
def test_every_name_staff_give_the_company_column_is_found(tmp_path, header):
    path = workbook(tmp_path / "r.xlsx", [[header, "类别"], ["哈尔滨甲公司", "产品类"]])
    (applicant,), problems = applicants(read_roster(path))
    assert applicant.name == "哈尔滨甲公司" and applicant.category == "product" and not problems


def test_a_roster_column_fills_every_form_with_a_field_of_that_meaning(tmp_path):
    path = workbook(tmp_path / "r.xlsx", [["企业名称", "类别", "联系人电话"]] +
                    [[f"公司{c}", c, "0451-86000009"] for c in ("企业类", "产品类", "建筑工程类", "服务类")])
    people, _ = applicants(read_roster(path))
    for person in people:  # the 申请表 of every category and the contract
        assert person.values["application"]["phone"] == "0451-86000009", person.category
        assert person.values["contract"]["phone"] == "0451-86000009"


def test_a_header_over_two_rows_with_merged_cells_is_read_as_one(tmp_path):
    path = workbook(tmp_path / "r.xlsx", [
        [TITLE, None, None, None],
        ["企业名称", "类别", "联系人", None],
        [None, None, "姓名", "电话"],
        ["哈尔滨甲公司", "产品类", "李红", "0451-86000001"],
    ], merge=["A1:D1", "A2:A3", "B2:B3", "C2:D2"])
    (person,), problems = applicants(read_roster(path))
    assert person.values["application"]["contact_person"] == "李红"
    assert person.values["application"]["phone"] == "0451-86000001"
    assert not problems


def test_a_roster_without_a_header_is_a_clear_error_and_exit_code(tmp_path):
    path = workbook(tmp_path / "r.xlsx", [["公司", "种类"], ["哈尔滨甲公司", "产品类"]])
    with pytest.raises(UserError, match="找不到表头行.*企业名称.*类别.*单位名称"):
        read_roster(path)
    result = CliRunner().invoke(cli, ["packet", "--out", str(tmp_path / "out"), "--roster", str(path)])
    assert result.exit_code != 0 and "找不到表头行" in result.output


def test_header_keys_drop_remarks_stars_and_spaces():
    assert header_key(" 企业名称（盖章） ") == header_key("企业名称") == header_key("*企业名称")
    assert header_key("（盖章）") != ""


def test_the_best_header_row_wins_over_a_title(tmp_path):
    rows = [(TITLE, None), ("企业名称", "类别"), ("甲", "产品")]
    header = find_header(rows, {"company": ("企业名称",), "category": ("类别",)}, ("company", "category"), "名单")
    assert header.row == 1 and header.columns == {"company": 0, "category": 1}


@pytest.mark.xdist_group("soffice")
def test_old_and_other_workbook_formats_are_read_through_libreoffice(tmp_path):
    from pipeline.common import office

    src = titled_roster(tmp_path / "src.xlsx")
    xls = office.convert([src], "xls", tmp_path / "xls")[src]
    ods = office.convert([src], "ods", tmp_path / "ods")[src]
    et = tmp_path / "名单.et"
    et.write_bytes(xls.read_bytes())
    for path in (xls, ods, et):
        people, _ = applicants(read_roster(path))
        assert len(people) == 5, path.name


@pytest.mark.xdist_group("soffice")
def test_an_xlsx_openpyxl_refuses_is_read_through_libreoffice(tmp_path, monkeypatch):
    from pipeline.common import xlsx

    src = titled_roster(tmp_path / "名单.xlsx")
    real, calls = xlsx.read_first_sheet, []

    def refuse_the_original(path, what):
        calls.append(Path(path))
        if Path(path) == src:  # as openpyxl refuses some workbooks Excel and LibreOffice open
            raise UserError(f"{what} 无法打开")
        return real(path, what)

    monkeypatch.setattr(xlsx, "read_first_sheet", refuse_the_original)
    people, _ = applicants(read_roster(src))
    assert len(people) == 5 and calls[0] == src and len(calls) == 2


def test_a_file_that_is_no_workbook_says_so_in_chinese(tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_text("企业名称,类别\n甲,产品\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        read_roster(path)
    assert "xlrd" not in str(caught.value) and "另存为 .xlsx" in str(caught.value)


# --- categories ----------------------------------------------------------------------------------


@pytest.mark.parametrize("program,text,expected", [
    ("heilongjiang", "服务", "service"), ("heilongjiang", "产品类", "product"), ("heilongjiang", "服务类 ", "service"),
    ("heilongjiang", "工程类", "construction"), ("liaoning", "企业类", "enterprise"), ("liaoning", "产品", "product"),
])
def test_every_category_spelling_is_understood(program, text, expected):
    assert load_program(program).find_category(text) == expected


def test_the_category_option_accepts_what_staff_write(tmp_path):
    result = CliRunner().invoke(cli, ["packet", "--out", str(tmp_path / "a"), "--category", "服务"])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "a").glob("*申报材料.docx")] == ["服务类申报材料.docx"]
    result = CliRunner().invoke(cli, ["packet", "--out", str(tmp_path / "b"), "--program", "liaoning",
                                      "--category", "企业类"])
    assert result.exit_code == 0, result.output


# --- winners and facts ---------------------------------------------------------------------------


def test_a_winners_workbook_with_a_title_and_synonyms_is_read(tmp_path):
    from pipeline.issuing.certificates import read_winners

    path = workbook(tmp_path / "w.xlsx", [
        ["2017年度获奖名单"],
        ["序号", "单位名称", "申报类别", "项目名称"],
        [1, "哈尔滨甲公司", "企业", None],
        [2, "哈尔滨乙公司", "产品类 ", "电热水器"],
    ], merge=["A1:D1"])
    winners, problems = read_winners(path, load_program("heilongjiang"))
    assert [(w.company, w.category, w.project) for w in winners] == [
        ("哈尔滨甲公司", "enterprise", None), ("哈尔滨乙公司", "product", "电热水器")]
    assert not problems and [w.row for w in winners] == [3, 4]


def test_a_facts_workbook_with_a_remark_in_its_header_is_read(tmp_path):
    from pipeline.checking.screen import read_facts_workbook

    path = workbook(tmp_path / "f.xlsx", [["事实表"], ["企业名称（盖章）", "类别"], ["哈尔滨甲公司", "产品"]])
    table, warnings = read_facts_workbook(path, load_program("national"))
    assert list(table.values())[0]["name"] == "哈尔滨甲公司" and list(table.values())[0]["category"] == "产品"
    assert not warnings
