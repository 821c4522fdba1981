"""The workbook writer: values round-trip, nothing becomes a formula, the house style and A4 print setup."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.common import office
from pipeline.common.xlsx import add_sheet, new_workbook, save

ROWS = [
    ["A&B <公司> \"引号\"", 3, 86.5, True, None, "  前后空格  "],
    ["=1+1", "+cmd|' /C calc'!A0", "-2", "@SUM(A1)", "第一行\r\n第二行", float("nan")],
    ["多一列", 12345678901234, -0.25, False, "", "x", "额外"],
]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlsx") / "book.xlsx"
    book = new_workbook()
    add_sheet(book, "汇总", ["名称", "数量", "得分", "是否", "空", "备注"], ROWS,
              fills={1: {"=1+1": "incomplete", "多一列": "complete"}})
    add_sheet(book, "问题/清单[1]:*?", ["甲"], [])
    save(book, path)
    return path


def test_values_round_trip_and_no_formula(written):
    sheet = load_workbook(written)["汇总"]
    got = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert got[0] == ["A&B <公司> \"引号\"", 3, 86.5, True, None, "  前后空格  ", None]
    assert got[1][:5] == ["=1+1", "+cmd|' /C calc'!A0", "-2", "@SUM(A1)", "第一行\r\n第二行"]
    assert got[1][5] == "nan"  # not a number a spreadsheet can hold: kept as text
    assert got[2] == ["多一列", 12345678901234, -0.25, False, None, "x", "额外"]
    for row in sheet.iter_rows():
        assert all(c.data_type != "f" for c in row)
    with zipfile.ZipFile(written) as zf:
        assert not any(b"<f>" in zf.read(n) or b"<f " in zf.read(n) for n in zf.namelist() if n.endswith(".xml"))


def test_rows_past_the_width_sample_are_written_alike(tmp_path):
    from pipeline.common.xlsx import WIDTH_SAMPLE_ROWS

    tail = [["a\x00b&", ["甲", "乙"], {"start": "2017-01-05", "end": "2017-03-20"}, "\x01<坏>\ufffe", None, 7],
            ["完整", "  空格 ", "", 0.5, True, "x\r\ny"]]
    rows = [["填充", "", "", 1, False, "y"]] * WIDTH_SAMPLE_ROWS + tail
    book = new_workbook()
    add_sheet(book, "长", list("ABCDEF"), iter(rows), fills={1: {"完整": "complete"}, 2: {"甲、乙": "error"}})
    save(book, tmp_path / "long.xlsx")
    sheet = load_workbook(tmp_path / "long.xlsx")["长"]
    got = [list(r) for r in sheet.iter_rows(min_row=WIDTH_SAMPLE_ROWS + 2, values_only=True)]
    assert got == [["ab&", "甲、乙", "2017-01-05 至 2017-03-20", "<坏>", None, 7],
                   ["完整", "  空格 ", None, 0.5, True, "x\r\ny"]]
    last = WIDTH_SAMPLE_ROWS + 3
    assert sheet[f"A{last}"].fill.fgColor.rgb == "FFC6EFCE" and sheet[f"B{last - 1}"].fill.fgColor.rgb == "FFFFC7CE"


def test_columns_of_counts_and_of_texts(tmp_path):
    rows = [[n, None if n % 3 else n * 10, f"第{n}行" if n % 2 else None, " 边 "] for n in range(1, 2501)]
    book = new_workbook()
    add_sheet(book, "数", ["序号", "十倍", "文字", "空格"], rows)
    save(book, tmp_path / "n.xlsx")
    got = [list(r) for r in load_workbook(tmp_path / "n.xlsx")["数"].iter_rows(min_row=2, values_only=True)]
    assert got == rows


def test_house_style_and_print_setup(written):
    book = load_workbook(written)
    sheet = book["汇总"]
    assert book.sheetnames == ["汇总", "问题_清单_1____"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:F4"
    assert sheet["A1"].font.b and sheet["A1"].fill.fgColor.rgb == "FFDDEBF7"
    assert sheet["A3"].fill.fgColor.rgb == "FFFFC7CE" and sheet["A4"].fill.fgColor.rgb == "FFC6EFCE"
    assert sheet["A2"].fill.fill_type is None
    assert sheet.page_setup.paperSize == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    widths = [sheet.column_dimensions[c].width for c in "ABCDEFG"]
    assert widths[0] == 19 and min(widths) == 8  # fitted to the text (CJK counts double), never under 8
    assert book["问题_清单_1____"].max_row == 1


def test_libreoffice_opens_it_with_the_same_values(written, tmp_path):
    converted = office.convert([written], "xlsx", tmp_path)[written]
    assert not isinstance(converted, str), converted
    sheet = load_workbook(converted)["汇总"]
    assert sheet["A2"].value == "A&B <公司> \"引号\"" and sheet["B3"].value == "+cmd|' /C calc'!A0"
    assert sheet["C2"].value == 86.5 and sheet["A1"].font.b


def test_column_letters_as_spreadsheets_name_them():
    from openpyxl.utils import get_column_letter

    from pipeline.common.xlsx import column_letter

    assert [column_letter(n) for n in range(1, 18279)] == [get_column_letter(n) for n in range(1, 18279)]


def test_a_sheet_written_first_can_stand_after_later_ones(tmp_path):
    from pipeline.common.xlsx import WIDTH_SAMPLE_ROWS, Sheet

    book = new_workbook()
    long = Sheet(book, "被访者", ["姓名", "序号"], place=1)
    for n in range(WIDTH_SAMPLE_ROWS + 5):  # added a row at a time, past the rows held back for widths
        long.add([[f"人{n}", n]])
    long.close()
    add_sheet(book, "汇总", ["名称"], [["甲"]], place=0)
    add_sheet(book, "末页", ["名称"], [["乙"]], place=2)
    save(book, tmp_path / "book.xlsx")
    loaded = load_workbook(tmp_path / "book.xlsx")
    assert loaded.sheetnames == ["汇总", "被访者", "末页"]
    assert [s.sheet_view.tabSelected for s in loaded.worksheets] == [True, None, None]
    assert [r for r in loaded["被访者"].iter_rows(min_row=2, values_only=True)] == \
        [(f"人{n}", n) for n in range(WIDTH_SAMPLE_ROWS + 5)]
    assert loaded["被访者"].auto_filter.ref == f"A1:B{WIDTH_SAMPLE_ROWS + 6}"
    assert [s.print_title_rows for s in loaded.worksheets] == ["$1:$1"] * 3
    with zipfile.ZipFile(tmp_path / "book.xlsx") as zf:  # each sheet's names go by its tab, not its part
        names = re.findall(r'localSheetId="(\d)"[^>]*>\'([^\']+)\'!', zf.read("xl/workbook.xml").decode())
    assert sorted(set(names)) == [("0", "汇总"), ("1", "被访者"), ("2", "末页")]


def test_an_unfinished_workbook_is_dropped_quietly(recwarn):
    from pipeline.common.xlsx import Sheet

    book = new_workbook()
    Sheet(book, "半途", ["甲"]).add([["乙"]])
    book.close()
    assert book._file.closed and not recwarn.list


@pytest.mark.xdist_group("soffice")
def test_formula_like_text_stays_text_when_staff_retype_it_in_libreoffice(tmp_path):
    """Opened in LibreOffice, each cell typed again as staff would, saved: still the same text, no formula."""
    texts = ["=1+2", "+SUM(A1:A2)", "-3+4", "@cmd", "\t=1+1", "\r=1+1", "普通文字"]
    book = new_workbook()
    add_sheet(book, "表", ["序号", "内容"], [[n, text] for n, text in enumerate(texts, 1)])
    save(book, tmp_path / "in.xlsx")
    run = subprocess.run(["/usr/bin/python3", str(Path(__file__).with_name("lo_retype.py")), office.require(),
                          str(tmp_path / "in.xlsx"), str(tmp_path / "out.xlsx"), str(tmp_path / "profile"),
                          str(len(texts))], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:len(texts)] == ["TEXT TEXT"] * len(texts), run.stdout
    sheet = load_workbook(tmp_path / "out.xlsx").active
    cells = [sheet.cell(row=n + 1, column=2) for n in range(1, len(texts) + 1)]
    assert [c.data_type for c in cells] == ["s"] * len(texts)
    # LibreOffice stores a carriage return as a line feed: the text is otherwise the same
    assert [c.value for c in cells] == [t.replace("\r", "\n") for t in texts]
