"""manyi templates check on the committed templates and on copies broken the way Word breaks them."""

import shutil
import zipfile

import pytest
from click.testing import CliRunner

from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.cli import cli
from pipeline.word.build import template_forms, template_path
from pipeline.word.templates_check import check_templates

PRODUCT = template_path("application.product")

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the printed packet's program: 黑龙江



def edit_copy(folder, name, *replacements):
    """Copy the product 申请表 template to folder/name with document.xml text replaced, each once."""
    target = folder / name
    with zipfile.ZipFile(PRODUCT) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    xml = parts["word/document.xml"].decode("utf-8")
    for old, new in replacements:
        assert xml.count(old) >= 1, old
        xml = xml.replace(old, new, 1)
    parts["word/document.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for part, data in parts.items():
            dst.writestr(part, data)
    return target


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    folder = tmp_path_factory.mktemp("broken")
    return {
        "split": edit_copy(folder, "application.product.docx",
                           ("{{ v.email }}</w:t></w:r>",
                            "{{ v.em</w:t></w:r><w:r><w:t xml:space=\"preserve\">ail }}</w:t></w:r>")),
        "bad": edit_copy(tmp_path_factory.mktemp("bad"), "application.product.docx",
                         ("{{ v.fax }}", "{{ v.fax | }}")),
        "campaign": edit_copy(tmp_path_factory.mktemp("campaign"), "application.product.docx",
                              ("{{ c.data_year }}", "{{ c.data_yeer }}"), ("{{ v.trademark }}", "{{ v.trade_mark }}")),
        "label": edit_copy(tmp_path_factory.mktemp("label"), "application.product.docx",
                           (">商  标  名  称<", ">商标<")),
        "unclosed": edit_copy(tmp_path_factory.mktemp("unclosed"), "application.product.docx",
                              ("{{ v.postcode }}", "{{ v.postcode }")),
    }


def test_committed_form_templates_have_no_findings():
    assert check_templates([template_path(f) for f in template_forms()], HLJ) == []


def test_a_tag_split_across_runs_is_named_by_table_row_and_cell(broken):
    findings = check_templates([broken["split"]], HLJ)
    assert [f.kind for f in findings] == ["split"]
    assert "{{ v.email }}" in findings[0].message and findings[0].where.startswith("表格 1 第 5 行")
    assert "application.product.docx 表格 1 第 5 行" in str(findings[0])


def test_a_tag_that_does_not_parse(broken):
    findings = check_templates([broken["bad"]], HLJ)
    assert [f.kind for f in findings] == ["syntax"] and "{{ v.fax | }}" in findings[0].message


def test_an_unclosed_tag(broken):
    findings = check_templates([broken["unclosed"]], HLJ)
    assert [f.kind for f in findings] == ["syntax"] and "不完整" in findings[0].message


def test_unknown_campaign_variable_and_unknown_field(broken):
    messages = [f.message for f in check_templates([broken["campaign"]], HLJ)]
    assert len(messages) == 3
    assert any("c.data_yeer" in m and "活动文件" in m for m in messages)
    assert any("v.trade_mark" in m for m in messages)
    assert any("缺少栏目“商标名称”的标记 {{ v.trademark }}" in m for m in messages)  # and the real one is gone


def test_missing_label(broken):
    findings = check_templates([broken["label"]], HLJ)
    assert [f.kind for f in findings] == ["label"] and "商  标  名  称" in findings[0].message


def test_a_block_without_its_end(tmp_path):
    target = tmp_path / "respondents.docx"
    with zipfile.ZipFile(template_path("respondents")) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"{%tr endfor %}", b"")
    with zipfile.ZipFile(target, "w") as dst:
        for part, data in parts.items():
            dst.writestr(part, data)
    findings = check_templates([target], HLJ)
    assert [f.kind for f in findings] == ["syntax"] and "标记结构有误" in findings[0].message


def test_cli_exit_codes(broken, tmp_path):
    good = tmp_path / "application.product.docx"
    shutil.copyfile(PRODUCT, good)
    ok = CliRunner().invoke(cli, ["templates", "check", str(good)])
    assert ok.exit_code == 0 and "检查通过" in ok.output
    bad = CliRunner().invoke(cli, ["templates", "check", str(broken["split"]), str(broken["label"])])
    assert bad.exit_code == 1 and "共发现 2 个问题" in bad.output and "Traceback" not in bad.output


def test_cli_build_writes_every_form_template(tmp_path):
    run = CliRunner().invoke(cli, ["templates", "build", "--out", str(tmp_path)])
    assert run.exit_code == 0, run.output
    assert sorted(p.stem for p in tmp_path.glob("*.docx")) == sorted(f.key for f in template_forms())
    assert check_templates(sorted(tmp_path.glob("*.docx")), HLJ) == []


def test_a_renamed_copy_is_recognised_by_its_content(tmp_path):
    """A copy named anything is checked as the form it prints: a misspelt field is found."""
    renamed = edit_copy(tmp_path, "我改过的产品表.docx", ("{{ v.company_name }}", "{{ v.compnay_name }}"))
    messages = [str(f) for f in check_templates([renamed], HLJ)]
    assert any("v.compnay_name 不是本表单的字段" in m for m in messages), messages
    assert any("缺少栏目“企业名称”的标记 {{ v.company_name }}" in m for m in messages), messages
    run = CliRunner().invoke(cli, ["templates", "check", str(renamed)])
    assert run.exit_code == 1 and "v.compnay_name" in run.output


def test_a_deleted_company_name_tag_fails(tmp_path):
    deleted = edit_copy(tmp_path, "application.product.docx", ("{{ v.company_name }}", ""))
    findings = check_templates([deleted], HLJ)
    assert [f.kind for f in findings] == ["tag"] and "{{ v.company_name }}" in findings[0].message


def test_other_documents_are_not_taken_for_a_form():
    from pipeline.word import TEMPLATES_DIR
    from pipeline.word.templates_check import form_of, paragraphs, read_document

    for name in ("notice.docx", "certificate.docx"):
        text = "".join(p.text for p in paragraphs(read_document(TEMPLATES_DIR / name)))
        assert form_of(text) is None, name


def test_packet_stops_on_a_broken_template_with_the_same_message(tmp_path):
    from pipeline.common.errors import UserError
    from pipeline.word import TEMPLATES_DIR
    from pipeline.generating.packet import write_packets

    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    edit_copy(templates, "application.product.docx", ("{{ v.company_name }}", ""))
    expected = [str(f) for f in check_templates([templates / "application.product.docx"], HLJ)]
    with pytest.raises(UserError) as caught:
        write_packets(tmp_path / "out", "product", HLJ, templates=templates)
    assert expected and all(line in str(caught.value) for line in expected)
    assert not list((tmp_path / "out").glob("*.docx"))  # nothing written with blank names
