"""The document shell: an empty A4 document in the house style, its page numbers, its languages.

python-docx is used here, and only here and in `word.house_templates`, for what a body string cannot
hold: the package (content types, relationships, styles.xml, settings.xml, the footer part), the
section's page size and margins, the footer. The style defaults are set on python-docx's elements
directly (python-docx has no East-Asian font or language of its own). The body is written as XML
strings (`word.xml`) and joined in through `element`.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm

from pipeline.word.styles import LANGS, STYLE
from pipeline.word.xml import para_xml, run_xml


def element(xml: str):
    """Given one element as an XML string of `word.xml` (w: prefixes, no declaration), return it parsed."""
    return parse_xml(xml.replace(">", f" {nsdecls('w')}>", 1))


def set_fonts(rpr, font: str) -> None:
    """Given a w:rPr, set every font slot to `font` (Latin and digits in the same face) and declare its
    languages (zh-CN for Chinese, styles.LANGS)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]  # theme fonts would win over the named ones
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), font)
    fonts.set(qn("w:hint"), "eastAsia")
    set_languages(rpr)


def set_languages(rpr) -> None:
    """Given a w:rPr, declare its languages (styles.LANGS: en-US for Latin, zh-CN for East-Asian text)."""
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    for attr, value in LANGS.items():
        lang.set(qn(f"w:{attr}"), value)


def declare_chinese(document) -> None:
    """Given a python-docx document, declare its languages (LANGS: zh-CN for Chinese) on its docDefaults, its styles
    and its theme font language."""
    styles = document.styles.element
    for rpr in [styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")),
                *(style.find(qn("w:rPr")) for style in styles.iterchildren(qn("w:style")))]:
        if rpr is not None:
            set_languages(rpr)
    theme_lang = document.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        for attr, value in LANGS.items():
            theme_lang.set(qn(f"w:{attr}"), value)


def new_document() -> docx.document.Document:
    """Return an empty A4 portrait document whose Normal style and defaults are 宋体 with w:eastAsia set."""
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Cm(STYLE.page_width), Cm(STYLE.page_height)
    section.top_margin, section.bottom_margin = Cm(STYLE.margin_top), Cm(STYLE.margin_bottom)
    section.left_margin, section.right_margin = Cm(STYLE.margin_left), Cm(STYLE.margin_right)
    styles = document.styles.element
    for rpr in [styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")),
                document.styles["Normal"].element.get_or_add_rPr()]:
        set_fonts(rpr, STYLE.body_font)
    declare_chinese(document)
    page_numbers(section)
    return document


def page_numbers(section) -> None:
    """Given a section, print 第 X 页 共 Y 页 centred in its footer, except on its first page (a packet's cover).

    A one-page form shows none; a packet (the forms joined behind the cover) numbers every page after it.
    """
    section.different_first_page_header_footer = True
    footer = section.footer
    footer.is_linked_to_previous = False
    size = STYLE.note_size

    def field(code: str) -> str:
        return f'<w:fldSimple w:instr=" {code} ">{run_xml("1", size=size)}</w:fldSimple>'

    runs = run_xml("第 ", size=size) + field("PAGE") + run_xml(" 页 共 ", size=size) + field("NUMPAGES") + run_xml(" 页", size=size)
    paragraph = footer.paragraphs[0]._p
    paragraph.addprevious(element(para_xml(runs, align="center")))
    paragraph.getparent().remove(paragraph)
    # The bottom margin holds the footer: it starts footer_distance above the page's edge.
    section.footer_distance = Cm(STYLE.footer_distance)


def append_body(document, elements: list[str]) -> None:
    """Given a python-docx document and body elements as XML strings, add them at the end of its body."""
    sect = document.element.body.find(qn("w:sectPr"))
    for xml in elements:
        sect.addprevious(element(xml))


def replace_body(document, elements: list[str]) -> None:
    """Given a python-docx document and body elements as XML strings, make them its body (its section stays)."""
    body = document.element.body
    for paragraph in list(body.iterchildren(qn("w:p"))):
        body.remove(paragraph)
    append_body(document, elements)


def write_stable_zip(data: bytes, target: Path) -> None:
    """Given a .docx's bytes, write it with fixed member dates, so rebuilding an unchanged form changes no byte."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2017, 1, 1, 0, 0, 0)), src.read(info),
                         compress_type=zipfile.ZIP_DEFLATED)
