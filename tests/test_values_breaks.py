"""A break the applicant typed inside a cell comes back as a line break; a line the cell wrapped does not.

Word documents are built in code (python-docx): paragraphs and soft breaks in a cell, read from the
.docx, from the .doc, .odt and PDF LibreOffice makes of it, in a narrow and a wide column.
"""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.shared import Cm

from pipeline.common import office
from pipeline.definitions.forms import load_forms
from pipeline.reading.readers.docx import read_docx
from pipeline.reading.readers.pdf import read_pdf
from pipeline.reading.values import value

#: Typed values, one per row: paragraphs split on "\n"; "\v" is a soft line break (w:br) inside one paragraph.
TYPED = [
    "2013年：82.1\n2014年：83.5\n2015年：84.6",
    "同意推荐。\n该企业质量管理体系健全。",
    "第一行\v第二行",
    "近三年国家及省级监督抽查合格通知书（附件1）",
    "91310000MA1FL3KX2Q",
    "（证书编号 03819Q21567R0S）",
    "哈尔滨市平房区友协大街51号，2015年获奖",
    "Quality award for customer service excellence",
]


def expected(typed: str) -> str:
    return typed.replace("\v", "\n")


def write_table(path: Path, width_cm: float) -> Path:
    """Given a path and the value column's width, write a two-column table: a label and each TYPED value."""
    document = docx.Document()
    document.add_paragraph(load_forms()["cover"].detect[0])  # a form's title: the PDF reader looks for its tables
    table = document.add_table(rows=len(TYPED), cols=2)
    table.style = "Table Grid"
    table.autofit = False
    for row, typed in zip(table.rows, TYPED):
        row.cells[0].text = "说明"
        cell = row.cells[1]
        first, *more = typed.split("\n")
        for n, para in enumerate([first, *more]):
            paragraph = cell.paragraphs[0] if n == 0 else cell.add_paragraph()
            parts = para.split("\v")
            run = paragraph.add_run(parts[0])
            for part in parts[1:]:
                run.add_break()  # w:br
                run = paragraph.add_run(part)
    widths = (Cm(2), Cm(width_cm))
    for grid_col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        grid_col.set(qn("w:w"), str(int(width.twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width
    document.save(str(path))
    return path


def values_read(doc) -> list[str]:
    """Given a read Document, return the value column's texts as a text field makes them."""
    field = load_forms()["cover"].fields["company_name"]
    table = next(b for b in doc.blocks if b.kind == "table")
    return [value(field, row[-1].text) for row in table.rows]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The table in a narrow (3 cm) and a wide (12 cm) column, as .docx, and as .doc, .odt and PDF."""
    root = tmp_path_factory.mktemp("breaks")
    made = {}
    for name, width in (("narrow", 3.0), ("wide", 12.0)):
        source = write_table(root / f"{name}.docx", width)
        made[(name, "docx")] = source
        for kind in ("rtf", "doc", "odt", "pdf"):
            out = root / kind
            out.mkdir(exist_ok=True)
            # LibreOffice drops a python-docx table written straight to .doc; through RTF it keeps it
            start = made[(name, "rtf")] if kind == "doc" else source
            made[(name, kind)] = office.convert([start], kind, out)[start]
    return root, made


def read_back(kind: str, path: Path, root: Path):
    if kind == "pdf":
        return read_pdf(path, path.name)
    if kind == "docx":
        return read_docx(path, path.name)
    out = root / f"back-{kind}"
    out.mkdir(exist_ok=True)
    return read_docx(office.convert([path], "docx", out)[path], path.name)  # as parsing does: one conversion


@pytest.mark.parametrize("kind", ["docx", "doc", "odt", "pdf"])
@pytest.mark.parametrize("width", ["narrow", "wide"])
def test_typed_breaks_stay_and_wraps_go(files, kind, width):
    root, made = files
    assert values_read(read_back(kind, made[(width, kind)], root)) == [expected(t) for t in TYPED]


def test_the_workbook_shows_a_line_break_as_one(tmp_path):
    import openpyxl

    from pipeline.common import xlsx

    book = xlsx.new_workbook()
    xlsx.add_sheet(book, "汇总", ["企业名称", "测评结果"], [["示例公司", "2013年：82.1\n2014年：83.5"]])
    xlsx.save(book, tmp_path / "summary.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "summary.xlsx").active["B2"]
    assert cell.value == "2013年：82.1\n2014年：83.5" and cell.alignment.wrap_text  # Excel wraps only a wrapping cell


def test_a_row_a_page_break_cut_is_joined_as_typed():
    from pipeline.reading.extract import page_cut_joined

    assert page_cut_joined("13900000", "048") == "13900000048"  # a phone the page break cut
    assert page_cut_joined("哈尔滨市南岗区", "学府路1号") == "哈尔滨市南岗区\n学府路1号"
    assert page_cut_joined("", "048") == "048"
