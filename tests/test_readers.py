"""readers: docx/xlsx/pdf into cell grids, ticks of every kind, hostile XML refused."""

from __future__ import annotations

import time
from pathlib import Path

import build_inputs as b
import pytest

from pipeline.common.safety import LIMITS
from pipeline.reading import readers
from pipeline.reading.readers import Unreadable
from pipeline.receiving.inbox import SubmissionFile


def read(path: Path, kind: str):
    return readers.read(SubmissionFile(path.name, path, kind))


def grid(block):
    return [[(c.text, c.row, c.col, c.rowspan, c.colspan) for c in row] for row in block.rows]


def test_docx_merged_cells_and_order(tmp_path):
    doc = read(b.merged_table_docx(tmp_path / "a.docx"), "docx")
    assert doc.kind == "docx" and doc.source == "a.docx"
    assert [blk.kind for blk in doc.blocks] == ["paragraph", "table", "paragraph"]
    assert doc.blocks[0].text == "企业类申请表"
    assert doc.blocks[2].text == "填表日期：2017年5月9日"
    assert grid(doc.blocks[1]) == [
        [("企业名称", 0, 0, 1, 1), ("华光机械有限公司", 0, 1, 1, 3)],
        [("通  信  地  址", 1, 0, 2, 1), ("哈尔滨市", 1, 1, 1, 1), ("邮编", 1, 2, 1, 1), ("150001", 1, 3, 1, 1)],
        [("南岗区\n一曼街 8 号", 2, 1, 1, 3)],
        [("备注", 3, 1, 1, 1), ("无", 3, 2, 1, 2)],
    ]


def test_docx_nested_tables_follow_parent_without_polluting_it(tmp_path):
    doc = read(b.nested_table_docx(tmp_path / "n.docx"), "docx")
    kinds = [blk.kind for blk in doc.blocks]
    assert kinds == ["table", "table", "table", "paragraph"]
    outer, inner, innermost = doc.blocks[:3]
    assert grid(outer) == [[("被访者", 0, 0, 1, 1), ("见下表\n（续）", 0, 1, 1, 1)]]
    assert grid(inner) == [[("姓名", 0, 0, 1, 1), ("张三", 0, 1, 1, 1)], [("电话", 1, 0, 1, 1), ("13904809986", 1, 1, 1, 1)]]
    assert grid(innermost) == [[("最内层", 0, 0, 1, 1)]]


def test_docx_content_controls_revisions_text_boxes(tmp_path):
    doc = read(b.content_control_docx(tmp_path / "c.docx"), "docx")
    paragraphs = [blk.text for blk in doc.blocks if blk.kind == "paragraph"]
    assert paragraphs == ["企业名称：华光公司", "块级控件文字", "法定代表人 李四\n第二行", "制表位不算字", "封面文本框"]
    tables = [blk for blk in doc.blocks if blk.kind == "table"]
    assert grid(tables[0]) == [[("单元格控件", 0, 0, 1, 1)]]
    assert "单击或点击此处" not in doc.text and "王五" not in doc.text


@pytest.mark.parametrize("case", list(b.TICK_CASES))
def test_docx_every_tick_kind(tmp_path, case):
    doc = read(b.ticks_docx(tmp_path / "t.docx"), "docx")
    by_label = {blk.text.split(":")[0]: blk.text for blk in doc.blocks if blk.kind == "paragraph"}
    expected = b.TICK_CASES[case][1]
    assert by_label[expected.split(":")[0]] == expected


def test_docx_ticks_inside_cells(tmp_path):
    doc = read(b.ticks_docx(tmp_path / "t.docx"), "docx")
    (table,) = [blk for blk in doc.blocks if blk.kind == "table"]
    assert [c.text for c in table.cells()] == [b.TICK_CASES["w14"][1], b.TICK_CASES["legacy"][1]]


def test_docx_entities_refused_and_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    with pytest.raises(Unreadable, match="实体"):
        read(b.entity_docx(tmp_path / "x.docx", secret), "docx")


def test_docx_billion_laughs_refused_quickly(tmp_path):
    lol = '<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>"
    path = b.docx_from_body(tmp_path / "lol.docx", b.p("&j;"), prolog=lol)
    with pytest.raises(Unreadable, match="实体"):
        read(path, "docx")


def test_docx_truncated_is_unreadable(tmp_path):
    data = b.merged_table_docx(tmp_path / "a.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(data[:-30])
    with pytest.raises(Unreadable, match="损坏"):
        read(tmp_path / "cut.docx", "docx")


def test_docx_main_part_bomb_capped(tmp_path):
    body = b.p("x" * 1000) * 3000  # ~3 MB of XML
    path = b.docx_from_body(tmp_path / "big.docx", body)
    with pytest.raises(Unreadable):
        from pipeline.reading.readers.docx import read_docx
        read_docx(path, "big.docx", dict(LIMITS, ooxml_part_size=1_000_000))


def test_docx_packet_sized_body(tmp_path):
    """A packet-sized body (60 tables of 20 rows) reads whole, spans and ticks included."""
    row = "<w:tr>" + b.tc(b.p("联系人电话")) + b.tc(b.p("0451-87979096"), span=2) + b.tc(b.p("☑是 □否")) + "</w:tr>"
    body = (b.p("申请表") + "<w:tbl>" + row * 20 + "</w:tbl>") * 60
    doc = read(b.docx_from_body(tmp_path / "big.docx", body), "docx")
    tables = [blk for blk in doc.blocks if blk.kind == "table"]
    assert len(tables) == 60 and all(len(t.rows) == 20 for t in tables)
    assert grid(tables[-1])[-1] == [("联系人电话", 19, 0, 1, 1), ("0451-87979096", 19, 1, 1, 2), ("☑是 ☐否", 19, 3, 1, 1)]


def test_xlsx_sheets_merges_and_values(tmp_path):
    doc = read(b.form_xlsx(tmp_path / "r.xlsx"), "xlsx")
    assert doc.kind == "xlsx"
    assert [blk.kind for blk in doc.blocks] == ["paragraph", "table"]  # the empty sheet is left out
    assert doc.blocks[0].text == "被访者信息登记表"
    rows = grid(doc.blocks[1])
    assert rows[0] == [("被访者信息登记表", 0, 0, 1, 4)]
    assert rows[1] == [("序号", 1, 0, 1, 1), ("姓名", 1, 1, 1, 1), ("调查日期", 1, 2, 1, 1), ("满意度", 1, 3, 1, 1)]
    assert rows[2] == [("1", 2, 0, 1, 1), ("张三", 2, 1, 1, 1), ("2017-05-09", 2, 2, 1, 1), ("95.5%", 2, 3, 1, 1)]
    assert rows[3] == [("2", 3, 0, 1, 1), ("李四", 3, 1, 1, 1), ("2017-05-10", 3, 2, 1, 1), ("87.25", 3, 3, 1, 1)]
    assert rows[4][1] == ("合并两行", 4, 1, 2, 1)
    # The merge reaches row 6; the formatted-but-empty F20 is trimmed away.
    assert len(rows) == 6 and [c.col for c in doc.blocks[1].rows[5]] == [0, 2, 3]


def test_small_workbooks_are_read_here_and_large_ones_in_a_bounded_child(tmp_path, monkeypatch):
    from pipeline.common import safety
    from pipeline.reading.readers.xlsx import read_xlsx

    path = b.form_xlsx(tmp_path / "r.xlsx")
    children = []
    real = safety.run_bounded
    monkeypatch.setattr(safety, "run_bounded", lambda *a, **k: children.append(a[0]) or real(*a, **k))
    here = read_xlsx(path, "r.xlsx")
    assert children == []
    bounded = read_xlsx(path, "r.xlsx", dict(LIMITS, xlsx_inline=100))
    assert len(children) == 1 and bounded.blocks == here.blocks and here.blocks


def test_xlsx_xxe_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    path = b.xxe_xlsx(tmp_path / "x.xlsx", secret)
    with pytest.raises(Unreadable):
        read(path, "xlsx")


def test_xlsx_huge_used_range_refused(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "x"
    book.active["Z9000"] = "y"
    book.save(tmp_path / "h.xlsx")
    from pipeline.reading.readers.xlsx import read_xlsx
    with pytest.raises(Unreadable, match="表格过大"):
        read_xlsx(tmp_path / "h.xlsx", "h.xlsx", dict(LIMITS, xlsx_cells=10_000))


def test_image_is_an_empty_document(tmp_path):
    doc = read(b.png(tmp_path / "执照.png"), "image")
    assert doc.kind == "image" and doc.blocks == []


def test_doc_needs_conversion_first(tmp_path):
    with pytest.raises(Unreadable, match="LibreOffice"):
        read(tmp_path / "a.doc", "doc")


def test_pdf_text_lines_from_minimal_pdf(tmp_path):
    doc = read(b.minimal_pdf(tmp_path / "a.pdf"), "pdf")
    assert doc.kind == "pdf" and doc.blocks == []


def test_pdf_garbage_is_unreadable(tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 100 + b"\n%%EOF\n")
    with pytest.raises(Unreadable, match="PDF"):
        read(tmp_path / "bad.pdf", "pdf")


def test_pdf_child_timeout_and_memory_bound(tmp_path, monkeypatch):
    from pipeline.common import safety

    def slow(_):
        time.sleep(10)

    start = time.monotonic()
    with pytest.raises(safety.Timeout):
        safety.run_bounded(slow, None, seconds=0.3)
    assert time.monotonic() - start < 2

    def greedy(_):
        return bytearray(512 * 1024 * 1024)

    with pytest.raises(safety.ChildFailed):
        safety.run_bounded(greedy, None, seconds=10, memory=256 * 1024 * 1024)

    # The PDF reader turns a timeout into its Chinese reason.
    monkeypatch.setattr("pipeline.reading.readers.pdf.pdf_pages", lambda path, pages: time.sleep(10))
    with pytest.raises(Unreadable, match="PDF 解析超时"):
        from pipeline.reading.readers.pdf import read_pdf
        read_pdf(b.minimal_pdf(tmp_path / "a.pdf"), "a.pdf", dict(LIMITS, pdf_seconds=0.3))
