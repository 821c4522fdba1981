"""manyi templates check on the committed templates and on copies broken the way Word breaks them."""

import shutil
import zipfile

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.generating.layout import template_forms, template_path
from pipeline.generating.templates_check import check_templates

PRODUCT = template_path("application.product")


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
    assert check_templates([template_path(f) for f in template_forms()]) == []


def test_a_tag_split_across_runs_is_named_by_table_row_and_cell(broken):
    findings = check_templates([broken["split"]])
    assert [f.kind for f in findings] == ["split"]
    assert "{{ v.email }}" in findings[0].message and findings[0].where.startswith("表格 1 第 5 行")
    assert "application.product.docx 表格 1 第 5 行" in str(findings[0])


def test_a_tag_that_does_not_parse(broken):
    findings = check_templates([broken["bad"]])
    assert [f.kind for f in findings] == ["syntax"] and "{{ v.fax | }}" in findings[0].message


def test_an_unclosed_tag(broken):
    findings = check_templates([broken["unclosed"]])
    assert [f.kind for f in findings] == ["syntax"] and "不完整" in findings[0].message


def test_unknown_campaign_variable_and_unknown_field(broken):
    messages = [f.message for f in check_templates([broken["campaign"]])]
    assert len(messages) == 2
    assert any("c.data_yeer" in m and "活动文件" in m for m in messages)
    assert any("v.trade_mark" in m for m in messages)


def test_missing_label(broken):
    findings = check_templates([broken["label"]])
    assert [f.kind for f in findings] == ["label"] and "商  标  名  称" in findings[0].message


def test_a_block_without_its_end(tmp_path):
    target = tmp_path / "respondents.docx"
    with zipfile.ZipFile(template_path("respondents")) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"{%tr endfor %}", b"")
    with zipfile.ZipFile(target, "w") as dst:
        for part, data in parts.items():
            dst.writestr(part, data)
    findings = check_templates([target])
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
    assert check_templates(sorted(tmp_path.glob("*.docx"))) == []
