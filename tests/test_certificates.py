"""Certificates: workbook rows → register numbers → .docx each and one PDF of all (one soffice start)."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import Workbook

from pipeline.common.errors import UserError
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.programs import load_program, program_of
from pipeline.issuing.certificates import make_certificates, page_count, read_winners, settings, terms_for

ISSUED = date(2017, 9, 1)
WINNERS = [
    ("哈尔滨电机厂有限责任公司", "企业类", None),
    ("黑龙江飞鹤乳业有限公司", "产品", "飞鹤星飞帆婴幼儿配方奶粉"),
    ("龙建路桥股份有限公司", "建筑工程类", "哈尔滨市三环路西线工程"),
]


def write_winners(path: Path, rows, extra=()) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "企业名称", "类别", "项目名称", "备注"])
    for n, (company, kind, project) in enumerate([*rows, *extra], 1):
        sheet.append([n, company, kind, project, "忽略此列"])
    book.save(path)
    return path


@pytest.fixture(scope="session")
def printed(tmp_path_factory):
    """Three winners (and two bad rows) printed once with --pdf: the session's one LibreOffice start."""
    base = tmp_path_factory.mktemp("certificates")
    winners = write_winners(base / "winners.xlsx", WINNERS, extra=[("", "产品类", "x"), ("某食品厂", "食品类", None)])
    result = make_certificates(winners, base / "out", load_campaign(DEFAULT_CAMPAIGN), base / "register.db", pdf=True, today=ISSUED)
    return base, winners, result


def test_three_certificates_and_bad_rows_reported_by_row(printed):
    _, _, result = printed
    assert len(result.files) == 3 and all(p.suffix == ".docx" and p.is_file() for p in result.files)
    assert result.problems == [
        "第 5 行：企业名称为空，已跳过",
        "第 6 行（某食品厂）：类别“食品类”无法识别（应为 企业类/产品类/建筑工程类/服务类），已跳过",
    ]


def test_numbers_are_ascii_per_category(printed):
    _, _, result = printed
    assert [e.number for e in result.entries] == ["HLJ2017-EN-0001", "HLJ2017-CP-0001", "HLJ2017-CN-0001"]
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", e.number) for e in result.entries)


def test_certificate_docx_content_and_page(printed):
    _, _, result = printed
    doc = Document(str(result.files[1]))
    text = "\n".join(p.text for p in doc.paragraphs)
    for expected in ("黑龙江飞鹤乳业有限公司", "产品名称：飞鹤星飞帆婴幼儿配方奶粉",
                     "“2017年度全省用户满意工程先进单位（产品类）”", "黑龙江省质量协会", "2017年9月1日",
                     "有效期至2019年8月31日", "证书编号：HLJ2017-CP-0001"):
        assert expected in text
    assert "（盖章）" not in text  # the seal goes over the issuer's name
    section = doc.sections[0]
    assert section.page_width > section.page_height  # landscape
    assert round(section.page_width.cm, 1) == 29.7 and round(section.page_height.cm, 1) == 21.0
    assert section._sectPr.find(qn("w:pgBorders")) is not None
    enterprise = "\n".join(p.text for p in Document(str(result.files[0])).paragraphs)
    assert "哈尔滨电机厂有限责任公司" in enterprise and "名称：" not in enterprise  # no honoured item line


def test_one_pdf_in_workbook_order_with_cjk_fonts(printed):
    _, _, result = printed
    assert result.pdf.name == "全部证书.pdf" and page_count(result.pdf) == 3
    pages = [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(result.pdf), "-"], capture_output=True,
                            text=True, check=True).stdout.replace(" ", "") for n in (1, 2, 3)]
    for page, (company, _, _), entry in zip(pages, WINNERS, result.entries):
        assert company in page and entry.number in page
    fonts = subprocess.run(["pdffonts", str(result.pdf)], capture_output=True, text=True, check=True).stdout
    chinese = [line for line in fonts.splitlines() if "+NotoSerifSC" in line or "+NotoSansSC" in line]
    assert chinese and all(line.split()[-5] == "yes" for line in chinese)  # the emb column


def test_second_run_gives_the_same_numbers_and_a_new_winner_the_next(printed, tmp_path):
    base, winners, first = printed
    again = make_certificates(winners, tmp_path / "again", load_campaign(DEFAULT_CAMPAIGN), base / "register.db",
                              today=date(2018, 1, 1))
    assert [e.number for e in again.entries] == [e.number for e in first.entries]
    assert again.entries[0].valid_from == ISSUED  # the register's dates, not the reprint's
    more = write_winners(tmp_path / "more.xlsx", [("大庆乳品厂", "产品类", "大庆牌奶粉"), WINNERS[1]])
    grown = make_certificates(more, tmp_path / "more", load_campaign(DEFAULT_CAMPAIGN), base / "register.db", today=ISSUED)
    assert [e.number for e in grown.entries] == ["HLJ2017-CP-0002", "HLJ2017-CP-0001"]


def test_names_are_matched_folded(tmp_path):
    db = tmp_path / "r.db"
    one = write_winners(tmp_path / "1.xlsx", [("龙江（集团）公司", "产品类", "A 牌 电机")])
    two = write_winners(tmp_path / "2.xlsx", [("龙江(集团)公司 ", "产品", "A牌电机")])
    numbers = [make_certificates(p, tmp_path / p.stem, load_campaign(DEFAULT_CAMPAIGN), db).entries[0].number for p in (one, two)]
    assert numbers[0] == numbers[1]


def test_workbook_without_header_is_refused(tmp_path):
    book = Workbook()
    book.active.append(["名称", "种类"])
    book.save(tmp_path / "w.xlsx")
    with pytest.raises(UserError, match="找不到表头行"):
        read_winners(tmp_path / "w.xlsx", load_program("heilongjiang"))


def test_settings_come_from_the_campaign_and_titles_from_the_program():
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    conf = settings(campaign)
    assert conf["number_prefix"] == "HLJ2017" and conf["issuer"] == "黑龙江省质量协会"
    program = program_of(campaign)
    assert terms_for(program, campaign, "service", None).title == "2017年度全省用户满意工程先进单位（服务类）"


def test_cli_certificates(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    winners = write_winners(tmp_path / "w.xlsx", WINNERS, extra=[("某食品厂", "食品类", None)])
    args = ["certificates", "--winners", str(winners), "--out", str(tmp_path / "out"),
            "--register", str(tmp_path / "r.db")]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 1, run.output  # the printable rows are printed; a skipped row is not a success
    assert "有 1 行未颁发证书" in run.output
    assert "HLJ2017-CN-0001  龙建路桥股份有限公司  哈尔滨市三环路西线工程" in run.output
    assert "第 5 行（某食品厂）" in run.output and "已生成 3 张证书" in run.output
    missing = CliRunner().invoke(cli, [*args[:2], str(tmp_path / "none.xlsx"), *args[3:]])
    assert missing.exit_code == 2 and "找不到获奖名单" in missing.output
