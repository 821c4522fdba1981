"""Constructs Word and WPS write into a value cell, built in code: read as the applicant shows them."""

from __future__ import annotations

import build_inputs as b

from pipeline.reading.readers.docx import read_docx

HIDDEN = ('<w:p><w:r><w:t>186376</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>（原填：0451-81704750）</w:t></w:r>'
          '<w:r><w:t>51946</w:t></w:r><w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t>0</w:t></w:r></w:p>')
RUBY = ('<w:p>' + ''.join(
    f'<w:r><w:ruby><w:rubyPr><w:rubyAlign w:val="distributeSpace"/></w:rubyPr><w:rt><w:r><w:t>{pinyin}</w:t></w:r></w:rt>'
    f'<w:rubyBase><w:r><w:t>{han}</w:t></w:r></w:rubyBase></w:ruby></w:r>' for pinyin, han in (("qū", "麴"), ("dé", "德"), ("míng", "明")))
    + '</w:p>')


def cell_of(tmp_path, inner: str) -> str:
    """Given a cell's inner XML, return the value cell's text as read from a .docx holding it."""
    path = b.docx_from_body(tmp_path / "c.docx", "<w:tbl><w:tr>" + b.tc(b.p("联系电话")) + b.tc(inner) + "</w:tr></w:tbl>")
    table = next(x for x in read_docx(path, "c.docx").blocks if x.kind == "table")
    return table.rows[0][1].text


def test_hidden_text_is_never_part_of_a_value(tmp_path):
    assert cell_of(tmp_path, HIDDEN) == "186376519460"


def test_a_phonetic_guide_gives_its_base_text(tmp_path):
    assert cell_of(tmp_path, RUBY) == "麴德明"
