"""推荐汇总表: one per recommending unit, complete submissions only, overflow on a continuation page."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from docx import Document

from pipeline.cli import cli
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.programs import load_program
from pipeline.issuing.summary_table import NO_UNIT, group_by_unit, make_summary_tables

HARBIN = "哈尔滨市质量协会"
DAQING = "大庆市质量协会"


def product(i, unit=HARBIN, status="complete"):
    return {"submission_id": f"p{i}", "source": f"p{i}.zip", "category": "product", "company_name": f"产品公司{i}",
            "status": status, "forms": {"cover": {"promoting_unit": unit},
                                        "application": {"product_name": f"好牌产品{i}", "product_model": f"HX-{i}"}}}


def make_records() -> list[dict]:
    records = [product(i) for i in range(1, 7)]  # six products: two beyond the form's four lines
    records.append(product(7, status="incomplete"))
    records += [
        {"submission_id": "e1", "source": "e1", "category": "enterprise", "company_name": "龙江企业有限公司",
         "status": "complete", "forms": {"summary_table": {"recommending_unit": DAQING, "contact_person": "王五",
                                                           "phone": "0459-6543210", "postcode": "163000"}}},
        {"submission_id": "c1", "source": "c1", "category": "construction", "company_name": "建工集团",
         "status": "complete", "forms": {"cover": {"promoting_unit": DAQING},
                                         "application": {"project_name": "大庆市体育馆工程"}}},
        {"submission_id": "v1", "source": "v1", "category": "service", "company_name": "服务公司",
         "status": "complete", "forms": {"application": {"service_name": "供热服务"}}},
    ]
    return records


def document_text(path) -> str:
    """The paragraphs and table rows of a document, in the order they are printed."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    parts = []
    for child in doc.element.body.iterchildren():
        if child.tag.endswith("}p"):
            parts.append(Paragraph(child, doc).text)
        elif child.tag.endswith("}tbl"):
            for row in Table(child, doc).rows:
                parts.append(" | ".join(dict.fromkeys(c.text for c in row.cells)))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return make_summary_tables(make_records(), tmp_path_factory.mktemp("summary"), load_campaign(DEFAULT_CAMPAIGN))


def test_one_table_per_unit(written):
    assert [p.name for p in written.files] == [f"{HARBIN}_推荐汇总表.docx", f"{DAQING}_推荐汇总表.docx",
                                               f"{NO_UNIT}_推荐汇总表.docx"]


def test_overflow_goes_to_a_continuation_page_with_a_warning(written):
    text = document_text(written.files[0])
    form_part, _, continuation = text.partition("（续页）")
    for i in range(1, 5):
        assert f"{i}  产品公司{i}：好牌产品{i} HX-{i}" in form_part  # the company and what it puts forward
    assert "好牌产品5" not in form_part and "好牌产品6" not in form_part
    assert "类别 | 序号 | 名称" in continuation
    assert "推荐产品 | 5 | 产品公司5：好牌产品5 HX-5" in continuation
    assert "推荐产品 | 6 | 产品公司6：好牌产品6 HX-6" in continuation
    assert continuation.rstrip().endswith("推荐单位（公章）　　　　年　　月　　日")  # its own stamp line
    assert len(written.warnings) == 1
    assert HARBIN in written.warnings[0] and "6 项" in written.warnings[0] and "续页" in written.warnings[0]


def test_counts_contacts_and_names_per_category(written):
    harbin = document_text(written.files[0])
    assert "好牌产品7" not in harbin  # incomplete: not listed
    # The unit's own figures: left blank with room to write them in.
    assert "共推动（　　　）家企业实施用户满意工程，（　　　）家被评为" in harbin
    daqing = document_text(written.files[1])
    assert "推荐单位：大庆市质量协会" in daqing
    assert "1  龙江企业有限公司" in daqing and "1  建工集团：大庆市体育馆工程" in daqing
    assert "联系人 | 王五" in daqing and "电  话 | 0459-6543210" in daqing and "邮  编 | 163000" in daqing
    assert "（续页）" not in daqing
    assert "1  服务公司：供热服务" in document_text(written.files[2])


def test_incomplete_listed_only_when_asked():
    names = lambda units: [n for u in units for n in u.lists["products"]]
    assert "产品公司7：好牌产品7 HX-7" not in names(group_by_unit(make_records(), load_program("heilongjiang")))
    assert "产品公司7：好牌产品7 HX-7" in names(group_by_unit(make_records(), load_program("heilongjiang"), include_incomplete=True))


def test_cli_summary_table(tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    for r in make_records():
        (folder / f"{r['submission_id']}.json").write_text(json.dumps(r, ensure_ascii=False), encoding="utf-8")
    run = CliRunner().invoke(cli, ["summary-table", "--records", str(folder), "--out", str(tmp_path / "out"),
                                   "--include-incomplete"])
    assert run.exit_code == 0, run.output
    assert "已写出 3 份推荐汇总表" in run.output and "续页" in run.output
    text = document_text(tmp_path / "out" / f"{HARBIN}_推荐汇总表.docx")
    assert "推荐产品 | 7 | 产品公司7：好牌产品7 HX-7" in text



def test_the_tools_own_table_reads_back_with_its_counts(written):
    from pipeline.reading.extract import extract_document
    from pipeline.reading.readers.docx import read_docx

    path = written.files[0]
    values = dict((form.key, v) for form, v in extract_document(read_docx(path, path.name)))["summary_table"]
    # the unit's own figures: printed blank for it to write in (issue 21), so read as empty
    assert values["promoted_count"] is None and values["awarded_count"] is None
    assert values["recommending_unit"] == HARBIN
