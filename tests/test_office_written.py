"""Packets filled in LibreOffice, as applicants fill them: typed beside the labels, with and without Track Changes.

One soffice start for the whole run (tests/office_client.py, driven through UNO by the system
Python with python3-uno): a blank packet from the templates is typed into, once plainly and once
recording changes (insertions, a deletion, an added 被访者 row), each saved as .docx, .doc, .odt and PDF.
The .docx and PDF are read directly; the .doc and .odt go through one LibreOffice batch back to .docx, as
`manyi parse` does. Every value must come back exactly as typed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.reading.extract import extract_document
from pipeline.reading.readers.docx import read_docx
from pipeline.reading.readers.pdf import read_pdf

OPINION = "经复核，证实性材料真实、齐全、有效，被推荐企业满意度得分达到要求"
NOTES = "核对工程名称与图纸一致，\n企业名称牌悬挂规范"  # two paragraphs: Enter typed in the cell
EVALUATION = "工程质量优良，工程设计单位配合到位，总体满意"
#: What the applicant types, as office_client edits (the `office_written` fixture of conftest.py types them),
#: and what each field must read back as.
EDITS = [
    {"after": "企业名称（公章）：", "text": "黑龙江龙建建设集团有限公司"},
    {"beside": "工程名称", "nth": 1, "text": "哈尔滨市第一医院门诊楼"},  # the first is the 现场巡视记录表's
    {"beside": "工程预算（万元）", "text": "2.4亿元"},
    {"beside": "建筑面积（万平方米）", "text": "32000平方米"},
    {"beside": "竣工日期", "text": "二〇一五年九月三十日"},
    {"beside": "工程设计单位", "text": "黑龙江省建筑设计研究院（此句删去）"},
    {"delete": "（此句删去）"},
    {"after": "建设单位（用户）满意度评价鉴定意见：", "text": EVALUATION},
    {"replace": "年    月    日", "text": "2017年5月12日"},
    {"after": "推荐意见：", "text": OPINION},
    {"after": "地区、行业质协（公章）", "text": "    2017年5月18日"},
    {"beside": "现场巡视情况", "text": NOTES},
    {"after": "承诺企业（盖章）：", "text": "黑龙江龙建建设集团有限公司"},
    {"replace": "日期：", "text": "2017年5月20日"},
    {"add_row_after": "工作单位", "cells": ["16", "王小明", "13904510016", "电话访问", "2017-02-01", "哈尔滨市第一医院"]},
]
EXPECTED = {
    "application.construction": {"project_name": "哈尔滨市第一医院门诊楼", "budget": 24000, "floor_area": 3.2,
                                 "completion_date": "2015-09-30", "design_unit": "黑龙江省建筑设计研究院",
                                 "owner_evaluation": EVALUATION, "owner_evaluation_date": "2017-05-12",
                                 "company_name": "黑龙江龙建建设集团有限公司"},
    "recommendation": {"opinion": OPINION, "opinion_date": "2017-05-18"},
    "site_inspection": {"inspection_notes": NOTES, "project_name": None},
    "commitment": {"company_name": "黑龙江龙建建设集团有限公司", "date": "2017-05-20"},
}
ADDED_ROW = {"seq": 16, "name": "王小明", "contact": "13904510016", "survey_method": "电话访问",
             "survey_date": "2017-02-01", "employer": "哈尔滨市第一医院"}

#: A packet filled with a third party's 70 respondents (corpus.respondents; the register runs over three pages),
#: then typed into: rows added on the register's first page (its table runs over onto a page of its own),
#: on its second and after the last, and a phone corrected.
REGISTER = 70
REGISTER_COLUMNS = ("seq", "name", "contact", "survey_method", "survey_date", "employer")


def added(seq: int, name: str) -> dict:
    return {"seq": seq, "name": name, "contact": f"1380451{seq:04d}", "survey_method": "入户访问",
            "survey_date": "2017-03-01", "employer": "哈尔滨市第一医院"}


#: The respondent's phone a row is added after → the rows added there, in order.
ADDED = {"13900000005": [added(101 + i, name) for i, name in enumerate(["王一", "王二", "王三", "王四", "王五", "王六"])],
         "13900000040": [added(201, "张小明")], "13900000070": [added(202, "李小红")]}
REGISTER_EDITS = [{"add_row_after": after, "cells": [str(row[c]) for c in REGISTER_COLUMNS]}
                  for after, rows in ADDED.items() for row in reversed(rows)]  # each lands right below `after`
REGISTER_EDITS.append({"replace": "13900000012", "text": "13912345678"})


def test_the_client_did_every_edit(office_written):
    _, results = office_written
    assert [r["errors"] for r in results] == [[], [], []]
    assert [len(r["saved"]) for r in results] == [4, 4, 3]


def test_the_tracked_files_really_hold_tracked_changes(office_written):
    import zipfile

    paths, _ = office_written
    xml = zipfile.ZipFile(paths["tracked.docx"]).read("word/document.xml").decode()
    assert "<w:ins " in xml and "<w:del " in xml and "\u200d" in xml  # LibreOffice marks the added row so
    plain = zipfile.ZipFile(paths["plain.docx"]).read("word/document.xml").decode()
    assert "<w:ins " not in plain and "<w:del " not in plain


@pytest.mark.parametrize("name", [f"{kind}.{ext}" for kind in ("plain", "tracked") for ext in ("docx", "doc", "odt", "pdf")])
def test_values_typed_in_libreoffice_come_back_exactly(office_written, name):
    paths, _ = office_written
    read = read_pdf if name.endswith(".pdf") else read_docx
    found = {form.key: values for form, values in extract_document(read(Path(paths[name]), name))}
    wrong = {(key, fid): (found.get(key, {}).get(fid), want)
             for key, fields in EXPECTED.items() for fid, want in fields.items()
             if found.get(key, {}).get(fid) != want}
    assert wrong == {}
    assert ADDED_ROW in found["respondents"]


@pytest.mark.parametrize("name", ["register.docx", "register.doc", "register.pdf"])
def test_a_register_over_several_pages_typed_into_in_libreoffice_is_read_row_by_row(office_written, name):
    paths, _ = office_written
    path = Path(paths[name])
    doc = read_pdf(path, name) if name.endswith(".pdf") else read_docx(path, name)
    registers = [values for form, values in extract_document(doc) if form.key == "respondents"]
    assert len(registers) == 1
    rows = registers[0]
    order = [seq for n in range(1, REGISTER + 1) for seq in [n] + [r["seq"] for r in ADDED.get(f"139{n:08d}", [])]]
    assert [r["seq"] for r in rows] == order  # no title, （续） or header row read as a respondent
    assert [r for r in rows if r["seq"] > 100] == [row for rows in ADDED.values() for row in rows]
    assert next(r["contact"] for r in rows if r["seq"] == 12) == "13912345678"


def test_the_registers_continuation_pages_keep_their_title_and_header_through_libreoffice(office_written):
    import re

    import pdfplumber

    paths, _ = office_written
    with pdfplumber.open(paths["register.pdf"]) as pdf:
        texts = [re.sub(r"\s", "", page.extract_text() or "") for page in pdf.pages]
    head = "序号姓名联系方式调查方式调查时间工作单位"
    assert sum(t.startswith(f"被访者信息登记（样）表（续）{head}") for t in texts) == 2
    # the rows added on the first page push its table onto a page of its own: Writer repeats the header row there
    assert sum(t.startswith(head) for t in texts) == 1
