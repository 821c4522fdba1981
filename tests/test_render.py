"""Rendering templates: literal values, a sandbox that refuses, characters Word would refuse."""

import zipfile

import pytest
from docx import Document

from pipeline.common.errors import UserError
from pipeline.word.render import render_docx


def _template(path, *paragraphs):
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    doc.save(path)
    return path


def _text(path):
    return [p.text for p in Document(path).paragraphs]


def test_values_print_literally(tmp_path):
    tpl = _template(tmp_path / "t.docx", "{{ v.name }}")
    out = render_docx(tpl, {"v": {"name": "A&B <公司> {{x}} {% if %}"}}, tmp_path / "o.docx")
    assert _text(out) == ["A&B <公司> {{x}} {% if %}"]


def test_characters_xml_refuses_are_dropped_so_word_opens_the_file(tmp_path):
    tpl = _template(tmp_path / "t.docx", "{{ v.name }}")
    out = render_docx(tpl, {"v": {"name": "哈尔滨\x01\x0b公司\ufffe"}}, tmp_path / "o.docx")
    assert _text(out) == ["哈尔滨公司"]
    with zipfile.ZipFile(out) as zf:
        assert b"\x01" not in zf.read("word/document.xml")


@pytest.mark.parametrize("tag", ["{{ v.__class__.__mro__ }}", "{{ box.__globals__ }}", "{{ numbered.__code__ }}"])
def test_a_template_reaching_outside_the_sandbox_fails_clearly(tmp_path, tag):
    tpl = _template(tmp_path / "t.docx", tag)
    with pytest.raises(UserError, match="不允许"):
        render_docx(tpl, {"v": {}}, tmp_path / "o.docx")


def test_a_template_that_does_not_parse_names_the_command_that_explains(tmp_path):
    tpl = _template(tmp_path / "t.docx", "{{ v.name ")
    with pytest.raises(UserError, match="templates check"):
        render_docx(tpl, {}, tmp_path / "o.docx")
