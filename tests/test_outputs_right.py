"""What applicants and staff receive is right: letters carry only what the applicant can act on, a stray file is
nobody's applicant, the 文号 is printed, the deadline follows the letter's date; every workbook keeps text as text
and dates as dates; the printed forms' vertical labels read down; errors and help speak Chinese."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from pipeline.common.errors import UserError
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.issuing import notices

TODAY = date(2017, 6, 1)
LICENCE = "未识别出营业执照复印件；可能未提交，或文件名、内容无法辨认，请人工核对"
RULE_FAILED = "有一项自动检查未能完成（所填内容无法自动判断），请人工核对本申报的各表内容"


def issue(code, message, severity="error", form=None, field=None):
    return {"severity": severity, "code": code, "form": form, "field": field, "message": message}


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    return "\n".join(p.text for p in doc.paragraphs)


def all_cells(path: Path):
    book = load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


# --- 1. letters ----------------------------------------------------------------------------------------


def test_a_letter_holds_only_what_the_applicant_can_act_on(tmp_path):
    record = {"submission_id": "s1", "source": "甲.zip", "category": "product", "company_name": "甲公司",
              "forms": {"application": {"contact_person": "张三"}},
              "issues": [issue("missing_field", "产品类申请表：“产品名称”未填写", form="application", field="product_name"),
                         issue("attachment_check", LICENCE, severity="warning"),
                         issue("rule_failed", RULE_FAILED, severity="warning"),
                         issue("inconsistent", "各表中的企业名称不一致", severity="warning")]}
    result = notices.make_notices([record], tmp_path, load_campaign(DEFAULT_CAMPAIGN), today=TODAY)
    text = docx_text(result.files[0])
    assert "“产品名称”未填写" in text and "各表中的企业名称不一致" in text
    assert "营业执照复印件" not in text and "自动检查未能完成" not in text and "人工核对" not in text


def test_an_unreadable_submission_gets_one_item_not_a_cascade_of_missing_forms(tmp_path):
    from pipeline.parse import parse_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "华光公司申报材料.docx").write_bytes(b"")  # an empty file
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    parsed = parse_inbox([inbox], tmp_path / "out", campaign, jobs=1)
    (record,) = parsed.records
    assert sum(i["code"] == "missing_form" for i in record["issues"]) >= 5  # what the checks say for staff
    result = notices.make_notices(parsed.records, tmp_path / "notices", campaign, today=TODAY)
    text = docx_text(result.files[0])
    assert "尚有以下 1 处需要补正" in text and "缺少" not in text
    assert "华光公司申报材料.docx" in text and "空文件" in text and "重新发送" in text


def test_a_stray_file_or_folder_in_the_inbox_is_nobodys_applicant(tmp_path):
    from pipeline.parse import parse_inbox

    inbox = tmp_path / "inbox"
    (inbox / "只有说明").mkdir(parents=True)
    (inbox / "readme.txt").write_text("请把申报材料放在这里\n", encoding="utf-8")
    (inbox / "只有说明" / "说明.txt").write_text("见附件\n", encoding="utf-8")
    (inbox / "华光公司.docx").write_bytes(b"")
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    parsed = parse_inbox([inbox], tmp_path / "out", campaign, jobs=1)
    assert [r["source"] for r in parsed.records] == ["华光公司.docx"]
    said = "\n".join(parsed.notes)
    assert "readme.txt" in said and "只有说明" in said and "不是申报材料" in said
    result = notices.make_notices(parsed.records, tmp_path / "notices", campaign, today=TODAY)
    assert len(result.files) == 1 and "readme" not in docx_text(result.files[0])


def test_an_out_folder_inside_the_inbox_is_not_read_back_as_a_submission(tmp_path):
    from pipeline.parse import parse_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "华光公司.docx").write_bytes(b"")
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    parse_inbox([inbox], inbox / "out", campaign, jobs=1)
    again = parse_inbox([inbox], inbox / "out", campaign, jobs=1)
    assert [r["source"] for r in again.records] == ["华光公司.docx"]
    assert any("out" in note and "结果文件夹" in note for note in again.notes)


def test_a_deadline_before_the_letters_date_is_refused(tmp_path):
    record = {"submission_id": "s1", "source": "甲.zip", "company_name": "甲公司", "forms": {},
              "issues": [issue("missing_form", "缺少承诺书", form="commitment")]}
    with pytest.raises(UserError, match="早于"):
        notices.make_notices([record], tmp_path, load_campaign(DEFAULT_CAMPAIGN), today=date(2017, 6, 25),
                             deadline=date(2017, 6, 1))
    assert not list(tmp_path.iterdir())


# --- a workspace: the 文号, the mailing list, every workbook without a formula -------------------------------


@pytest.fixture(scope="module")
def workspace_outputs(tmp_path_factory):
    from test_workspace import make, product_packet, receive

    from pipeline.checking import screen  # noqa: F401 - the screening workbook below
    from pipeline.workspace.outputs import workspace_notices, workspace_screen, workspace_summary

    root = tmp_path_factory.mktemp("ws")
    inbox = root / "inbox"
    inbox.mkdir()
    product_packet(inbox / "公式", "=1+1", "BCD 全系列")  # a series: an error, so a notice
    with make(root, None) as ws:
        receive(ws, inbox)
        sent = workspace_notices(ws, root / "notices", by="王敏", today=date(2017, 6, 1))
        summary = workspace_summary(ws, root / "summary.xlsx")
        screening = workspace_screen(ws, root / "screening.xlsx")
    return sent, summary, screening, root


def test_the_letter_prints_the_number_the_workspace_records(workspace_outputs):
    sent, *_ = workspace_outputs
    (row,) = sent.recorded
    assert row["number"] == "BZ2017-0001"
    assert "BZ2017-0001" in docx_text(sent.result.files[0])


def test_the_mailing_list_has_address_postcode_unit_and_deadline(workspace_outputs):
    sent, *_ = workspace_outputs
    book = load_workbook(sent.result.mail_list)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    for column in ("文号", "通信地址", "邮编", "推进单位", "补正期限"):
        assert column in header
    row = {h: c.value for h, c in zip(header, sheet[2])}
    assert row["文号"] == "BZ2017-0001" and row["企业名称"] == "=1+1"
    assert isinstance(row["补正期限"], datetime) and row["补正期限"].date() > date(2017, 6, 1)
    assert row["通信地址"] and row["邮编"]


def test_no_workbook_holds_a_formula_even_for_a_company_named_like_one(workspace_outputs, tmp_path):
    from pipeline.issuing import register

    sent, summary, screening, root = workspace_outputs
    listed = register.save_list([], tmp_path / "register.xlsx")
    books = [summary, sent.result.mail_list, screening.path if hasattr(screening, "path") else root / "screening.xlsx",
             listed]
    seen = 0
    for path in books:
        for cell in all_cells(path):
            assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
            seen += cell.value == "=1+1"
    assert seen >= 3  # the name is there, as text, in the workspace sheet, the 汇总 and the mailing list
    sheet = load_workbook(summary)["工作区"]
    names = [c.value for c in sheet["B"]]
    assert "=1+1" in names


# --- 3. printed forms -----------------------------------------------------------------------------------

#: Every vertical label of every printed form, as it must read (top to bottom, line by line), written from the
#: seed's meaning; the vertical bracket forms ︵︶ of a one-column label read as （）.
VERTICAL_LABELS = {
    "application.construction": {"被推荐工程基本情况", "获地区、行业优质工程情况"},
    "application.enterprise": {"工业企业填写", "建筑企业填写", "服务企业填写"},
    "application.product": {"被推荐产品基本情况", "获质量奖励情况"},
    "application.service": {"被推荐服务基本情况", "制定服务规范情况"},
    "contract": {"委托方（甲方）", "被委托方（乙方）", "合同内容"},
    "summary_table": {"推荐企业", "推荐产品", "推荐工程", "推荐服务"},
}


def vertical_cells(path: Path) -> set[str]:
    """Given a template, return what each of its vertical cells (lines of one or two characters) reads."""
    found = set()
    for table in Document(str(path)).tables:
        for row in table.rows:
            for cell in row.cells:
                lines = [line for line in cell.text.replace(" ", "").split("\n") if line]
                if len(lines) >= 3 and all(len(line) <= 2 for line in lines):
                    found.add("".join(lines).replace("︵", "（").replace("︶", "）"))
    return found


@pytest.mark.parametrize("name", sorted(VERTICAL_LABELS))
def test_every_vertical_label_reads_down_as_the_seed_means_it(name):
    from pipeline.word import TEMPLATES_DIR

    assert vertical_cells(TEMPLATES_DIR / f"{name}.docx") == VERTICAL_LABELS[name]


# --- 4. errors and help ----------------------------------------------------------------------------------


@pytest.mark.parametrize("error,said", [
    (PermissionError(13, "Permission denied", "/data/out/.企业类申报材料.23179-12.docx.part"), "/data/out”"),
    (NotADirectoryError(20, "Not a directory", "/data/afile/records"), "不是文件夹"),
    (FileExistsError(17, "File exists", "/data/afile"), "不是文件夹"),
])
def test_a_path_error_is_one_chinese_line_with_no_internal_name(error, said, capsys):
    from pipeline.cli import friendly

    @friendly
    def run():
        raise error

    with pytest.raises(SystemExit) as stopped:
        run()
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and said in err
    assert ".part" not in err and "Error" not in err and "Traceback" not in err


def test_help_names_folders_in_chinese_and_summary_only_its_own_options():
    from click.testing import CliRunner

    from pipeline.cli import cli

    runner = CliRunner()
    summary = runner.invoke(cli, ["summary", "--help"]).output
    assert "--records" not in summary and "--workspace" in summary
    for args in (["workspace", "--help"], ["workspace", "import", "--help"], ["certificates", "--help"],
                 ["stage", "--help"], ["confirm", "--help"]):
        shown = runner.invoke(cli, args).output
        assert "DIRECTORY" not in shown and "DIR " not in shown and "DIR）" not in shown, args
