"""Injection into every output: no workbook cell is ever a formula, control characters never
break a file, markup and Jinja tags print literally in every generated Word document, a
template cannot reach Python internals, and names from companies make safe, distinct files."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from openpyxl import Workbook, load_workbook

from pipeline.common.errors import UserError
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.programs import load_program, program_campaign

FORMULAS = ["=1+2", "+SUM(A1:A9)", "-3+4", "@cmd", "\t=1+1", "\r=1+1", '=HYPERLINK("http://evil.example/","点我")',
            "=cmd|' /C calc'!A0"]
CONTROLS = "控\x00制\x01字\x08符\x0b\x0c\x1f"
LITERAL = "A&B <公司> {{ x }} {% if 1 %}&amp;"
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
TODAY = date(2017, 6, 1)

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the printed packet's program: 黑龙江



def workbook_values(path: Path) -> list:
    """Every cell value of a workbook, after asserting no cell and no sheet XML holds a formula."""
    values = []
    for sheet in load_workbook(path).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (path.name, sheet.title, cell.coordinate, cell.value)
                values.append(cell.value)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                data = zf.read(name)
                assert b"<f>" not in data and b"<f " not in data, name
    return values


def docx_text(path: Path) -> str:
    """Every part of a .docx parsed strictly (Word refuses invalid XML); return each paragraph's text, one a line."""
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(zf.read(name))  # raises on a control character or broken markup
        root = etree.fromstring(zf.read("word/document.xml"))
    docx.Document(str(path))  # and python-docx opens it
    return "\n".join("".join(t.text or "" for t in p.iter(f"{w}t")) for p in root.iter(f"{w}p"))


def issue(message: str, code: str = "missing_field", form: str | None = "application", field: str | None = "product_name"):
    return {"severity": "error", "code": code, "form": form, "field": field, "message": message}


def hostile_record(n: int, company: str, controls: str = CONTROLS) -> dict:
    return {"submission_id": f"s{n}", "source": f"{company}.zip", "category": "product", "company_name": company,
            "forms": {"cover": {"company_name": company, "promoting_unit": LITERAL},
                      "application": {"company_name": company, "contact_person": FORMULAS[3], "phone": FORMULAS[1],
                                      "email": FORMULAS[0], "product_name": company}},
            "attachments": [{"file": f"{company}.pdf", "kind": "other"}],
            "issues": [issue(f"“{company}”未填写 {controls}")], "status": "incomplete"}


RECORDS = [hostile_record(n, name) for n, name in enumerate(FORMULAS + [LITERAL, CONTROLS])]
#: Records as `manyi parse` writes them: control characters were already dropped (pipeline.common.text.xml_safe).
DOCX_RECORDS = [hostile_record(n, name, controls="") for n, name in enumerate(FORMULAS + [LITERAL])]


def text_cell(sheet, row: int, values: list) -> None:
    """Write a row whose texts are typed text (openpyxl would store '=…' as a formula)."""
    for column, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"


# --- workbooks -----------------------------------------------------------------------------------


def test_summary_xlsx_keeps_formulas_as_text_and_strips_controls(tmp_path):
    from pipeline.issuing.workbook import write_summary

    values = workbook_values(write_summary(RECORDS, tmp_path / "summary.xlsx", HLJ))
    for name in FORMULAS + [LITERAL]:
        assert name in values
    assert _XLSX_ILLEGAL.sub("", CONTROLS) in values and CONTROLS not in values


def test_notices_mail_list_and_letters(tmp_path):
    from pipeline.issuing.notices import make_notices

    result = make_notices(DOCX_RECORDS, tmp_path, load_campaign(DEFAULT_CAMPAIGN), today=TODAY)
    values = workbook_values(result.mail_list)
    assert FORMULAS[3] in values and FORMULAS[1] in values and "=1+2" in values
    assert len(result.files) == len(DOCX_RECORDS)
    texts = {path.name: docx_text(path) for path in result.files}
    assert any(LITERAL in text for text in texts.values())
    assert any('=HYPERLINK("http://evil.example/","点我")' in text for text in texts.values())
    assert all(path.parent == tmp_path for path in result.files)


def test_register_listing(tmp_path):
    from pipeline.issuing import register

    with register.connect(tmp_path / "register.db") as conn:
        entries = register.assign(conn, [register.Winner(name, "product", FORMULAS[0]) for name in FORMULAS + [CONTROLS]],
                                  program="p", campaign="c", prefix="X", codes={"product": "CP"}, issuer="=协会",
                                  today=TODAY, titles={"product": "@称号"}, validity_years=2)
    values = workbook_values(register.save_list(entries, tmp_path / "list.xlsx", today=TODAY))
    assert {f.strip() for f in FORMULAS} <= {str(v).strip() for v in values}
    assert _XLSX_ILLEGAL.sub("", CONTROLS) in values


def test_screen_workbook(tmp_path):
    from pipeline.checking.screen import screen

    records = tmp_path / "records"
    records.mkdir()
    for record in RECORDS:
        (records / f"{record['submission_id']}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = screen(program_campaign(load_program("liaoning"), None), records, tmp_path / "筛选结果.xlsx")
    values = workbook_values(result.out)
    assert set(FORMULAS) <= set(values)


# --- Word documents ------------------------------------------------------------------------------


def test_packets_from_a_hostile_roster(tmp_path):
    from pipeline.generating.packet import write_packets

    names = [LITERAL, "=1+1有限公司", "CON", "a/b\\c:d*?\"<>|公司", "公司...", "龙" * 150, "com1.txt", "哈尔滨 公司",
             "哈尔滨　公司"]
    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "类别", "法定代表人"])
    for row, name in enumerate(names, 2):
        text_cell(sheet, row, [name, "产品类", FORMULAS[1]])
    book.save(tmp_path / "名单.xlsx")
    result = write_packets(tmp_path / "out", "product", HLJ, roster=tmp_path / "名单.xlsx")
    files = sorted(p for p in (tmp_path / "out").iterdir() if p.suffix == ".docx")
    stems = [p.stem for p in files]
    assert len(files) == len(names), result.problems
    assert_safe_names(stems)
    literal = next(p for p in files if p.name.startswith("A&B"))
    assert LITERAL in docx_text(literal)
    formula = next(p for p in files if p.name.startswith("=1+1"))
    assert "=1+1有限公司" in docx_text(formula)


def test_summary_tables(tmp_path):
    from pipeline.issuing.summary_table import make_summary_tables

    records = [dict(r, status="complete") for r in DOCX_RECORDS]
    make_summary_tables(records, tmp_path, load_campaign(DEFAULT_CAMPAIGN))
    (path,) = [p for p in tmp_path.iterdir() if p.suffix == ".docx"]
    assert path.name.startswith("A&B")
    text = docx_text(path)
    assert LITERAL in text and "=1+2" in text


def test_certificates(tmp_path):
    from pipeline.issuing.certificates import make_certificates

    book = Workbook()
    book.active.append(["企业名称", "类别", "项目名称"])
    text_cell(book.active, 2, [LITERAL, "产品类", "{{ 7*7 }}<b>"])
    text_cell(book.active, 3, ["=1+2公司", "企业类", None])
    book.save(tmp_path / "winners.xlsx")
    result = make_certificates(tmp_path / "winners.xlsx", tmp_path / "out", load_campaign(DEFAULT_CAMPAIGN), tmp_path / "r.db",
                               today=TODAY)
    texts = [docx_text(p) for p in (tmp_path / "out").glob("*.docx")]
    assert len(texts) == 2, result
    assert any(LITERAL in t and "{{ 7*7 }}<b>" in t and "49" not in t for t in texts)
    assert any("=1+2公司" in t for t in texts)


def test_a_template_reaching_for_globals_fails_clearly(tmp_path):
    from pipeline.word.render import render_docx

    for expression in ("{{ numbered.__globals__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                       "{{ box.__code__ }}"):
        document = docx.Document()
        document.add_paragraph(expression)
        document.save(tmp_path / "evil.docx")
        with pytest.raises(UserError) as caught:
            render_docx(tmp_path / "evil.docx", {}, tmp_path / f"out-{len(expression)}.docx")
        assert "不允许" in str(caught.value) and "evil.docx" in str(caught.value)
        assert not (tmp_path / f"out-{len(expression)}.docx").exists()


def test_control_characters_read_from_a_file_never_break_outputs(tmp_path, monkeypatch):
    """A PDF can carry any code point: whatever a reader returns, records, summary and notices stay valid."""
    from corpus import packet_values, template_packet

    from pipeline.issuing.notices import make_notices
    from pipeline.parse import parse_inbox
    from pipeline.reading import readers

    company = "哈尔滨光明电器有限公司"
    dirty = "哈尔滨\x01光明\ufffe电器\ud800有限\x02公司"
    folder = tmp_path / "inbox" / "光明"
    folder.mkdir(parents=True)
    template_packet(folder / "申报材料.docx", "product", packet_values("product", company=company))
    real = readers.read

    def poisoned(file, limits=None):  # the packet read as if a PDF had carried these characters
        document = real(file, limits)
        for block in document.blocks:
            if block.text:
                block.text = block.text.replace(company, dirty)
            for row in block.rows or []:
                for cell in row:
                    cell.text = cell.text.replace(company, dirty)
        return document

    monkeypatch.setattr(readers, "read", poisoned)
    result = parse_inbox([tmp_path / "inbox"], tmp_path / "out", HLJ, jobs=1)
    (record,) = result.records
    assert record["company_name"] == company
    assert company in workbook_values(result.summary)
    record["issues"].append(issue(f"“{dirty}”测试"))  # a hand-edited record, too
    from pipeline.common.text import xml_safe

    notices = make_notices([xml_safe(record)], tmp_path / "notices", load_campaign(DEFAULT_CAMPAIGN), today=TODAY)
    assert company in docx_text(notices.files[0])


# --- file names ----------------------------------------------------------------------------------

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def assert_safe_names(stems: list[str]) -> None:
    assert len({s.casefold() for s in stems}) == len(stems), stems  # no two collide, case folded
    for stem in stems:
        assert stem and not set(stem) & set('\\/:*?"<>|') and not any(ord(c) < 32 or ord(c) == 127 for c in stem)
        assert not stem.endswith((".", " ")) and stem not in (".", "..")
        # Windows also reserves 'COM1.txt…' (a reserved name before any dot): pipeline.common.files only
        # guards the whole name today, so that stricter form is not asserted here.
        assert stem.upper() not in _RESERVED
        assert len((stem + ".docx").encode("utf-8")) <= 240, stem


hostile_names = st.one_of(
    st.text(min_size=0, max_size=120),
    st.lists(st.sampled_from(list('./\\:*?"<>| \t\x00\x1f') + ["CON", "nul", "Com1", "LPT9", "龙", "公司", ".txt"]),
             max_size=12).map("".join),
    st.builds(lambda s, n: s * n, st.sampled_from(["龙", "a", "哈尔滨电机厂有限责任公司", "é"]), st.integers(60, 120)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(hostile_names, min_size=1, max_size=8))
def test_notice_file_names_from_any_company_names(names):
    from pipeline.issuing.notices import notice_stems

    records = [{"submission_id": f"s{n}", "source": f"s{n}.zip", "company_name": name, "forms": {}}
               for n, name in enumerate(names)]
    stems = notice_stems(records)
    assert len(stems) == len(names)
    assert_safe_names(stems)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(whitelist_categories=("Lo",), min_codepoint=0x4E00, max_codepoint=0x9FFF),
               min_size=1, max_size=60))
def test_chinese_names_are_kept(name):
    from pipeline.common.files import safe_filename

    assert safe_filename(name) == name
