"""WordprocessingML building: runs, paragraphs, cells, rows and table properties, as XML strings.

Every element of a built document's body is written here, as plain strings over the style table
(`word.styles`): every run carries its East-Asian and Latin font, its size and its languages; a
cell's paragraphs get an exact line, so rows are as tall as their text; a row never splits across
pages. The strings are parsed once, where they join the document (`word.document.element`).

Why strings: python-docx sets neither a run's East-Asian font nor its languages, nor a row that may
not split, without reaching into its XML anyway; and what is written must be what `word.measure`
assumes, so the body is written one way, here, in a few lines each. python-docx remains for the
document shell only (`word.document`: the package, its styles, the section and its footer).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from pipeline.word.styles import LANGS, STYLE, TWIPS_CM

if TYPE_CHECKING:
    from pipeline.word.plan import Slot

#: Every run's languages (styles.LANGS).
LANG = f'<w:lang w:val="{LANGS["val"]}" w:eastAsia="{LANGS["eastAsia"]}"/>'


def _twips(cm: float) -> int:
    return round(cm * TWIPS_CM)


# --- runs and paragraphs -------------------------------------------------------------------------


def run_xml(text: str, font: str | None = None, size: float | None = None, bold: bool = False) -> str:
    """Given text and its font, return one w:r with East-Asian and Latin fonts set; '\\n' becomes a line break."""
    font = font or STYLE.body_font
    half_points = round((size or STYLE.cell_size) * 2)
    # Digits and Latin in the Chinese face, as Word prints 宋体 text.
    props = (f'<w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}" w:hint="eastAsia"/>'
             + ("<w:b/><w:bCs/>" if bold else "")
             + f'<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>{LANG}')
    pieces = '<w:br/>'.join(f'<w:t xml:space="preserve">{escape(part)}</w:t>' for part in text.split("\n"))
    return f"<w:r><w:rPr>{props}</w:rPr>{pieces}</w:r>"


def para_xml(runs: str = "", align: str | None = None, before: float = 0, after: float = 0,
             indent_chars: int = 0, line: int | None = None, keep_next: bool = False,
             size: float | None = None, right_chars: float = 0) -> str:
    """Given runs XML and paragraph settings (spacing in points, indents in characters of `size`), return one w:p.

    `line` is w:line with w:lineRule auto (styles.AUTO_LINE for single spacing). Indents are written
    in twips as well as in characters: LibreOffice reads only the twips.
    """
    props = "<w:keepNext/>" if keep_next else ""
    line_attr = f' w:line="{line}" w:lineRule="auto"' if line else ""
    props += f'<w:spacing w:before="{round(before * 20)}" w:after="{round(after * 20)}"{line_attr}/>'
    char = (size or STYLE.cell_size) * 20
    if indent_chars or right_chars:
        ind = f' w:firstLine="{round(indent_chars * char)}" w:firstLineChars="{round(indent_chars * 100)}"' if indent_chars else ""
        ind += f' w:right="{round(right_chars * char)}" w:rightChars="{round(right_chars * 100)}"' if right_chars else ""
        props += f"<w:ind{ind}/>"
    if align:
        props += f'<w:jc w:val="{align}"/>'
    return f"<w:p><w:pPr>{props}</w:pPr>{runs}</w:p>"


def text_paras(text: str, size: float | None = None, align: str | None = None, **kw) -> list[str]:
    """Given text with '\\n' between paragraphs, return one w:p per line."""
    return [para_xml(run_xml(line, size=size) if line else "", align=align, **kw) for line in str(text).split("\n")]


def title_para(text: str, size: float | None = None, before: float = 0, after: float | None = None) -> str:
    """Given a title's text (and its size and spacing in points), return its centred paragraph (黑体, bold)."""
    return para_xml(run_xml(text, STYLE.title_font, size or STYLE.title_size, bold=True),
                    align="center", before=before, after=STYLE.title_after if after is None else after, keep_next=True)


#: The paragraph after a table: tiny, so a table that fills its page does not push an empty page.
AFTER_TABLE = (f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="{round(STYLE.after_table * 20)}" '
               'w:lineRule="exact"/><w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>')
#: The same paragraph starting a new page: between the pages of a list table (two tables never touch).
PAGE_AFTER_TABLE = AFTER_TABLE.replace("<w:pPr>", "<w:pPr><w:pageBreakBefore/>", 1)


# --- cells, rows and tables ----------------------------------------------------------------------

_NO_LINE = re.compile(r'<w:spacing ((?:(?!w:line)[^>])*)/>')


def cell_xml(slot: Slot, widths: list[float], paras: list[str], borders: bool, valign: str) -> str:
    """Given a placed slot, the grid widths and its paragraphs, return one w:tc.

    Paragraphs without a line spacing of their own get an exact one, so rows are as tall as their text.
    """
    width = sum(widths[slot.col: slot.col + slot.span])
    line = f'w:line="{round(STYLE.cell_line * 20)}" w:lineRule="exact"'
    paras = [_NO_LINE.sub(lambda m: f"<w:spacing {m.group(1).strip()} {line}/>", para) for para in paras]
    props = f'<w:tcW w:w="{_twips(width)}" w:type="dxa"/>'
    if slot.span > 1:
        props += f'<w:gridSpan w:val="{slot.span}"/>'
    if slot.vmerge == "restart":
        props += '<w:vMerge w:val="restart"/>'
    elif slot.vmerge == "continue":
        props += "<w:vMerge/>"
    if not borders and slot.kind == "value":
        props += f'<w:tcBorders><w:bottom w:val="single" w:sz="{STYLE.border_size}" w:space="0" w:color="auto"/></w:tcBorders>'
    props += f'<w:vAlign w:val="{valign}"/>'
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{''.join(paras) or para_xml()}</w:tc>"


def row_xml(cells: str, height: float | None, header: bool = False) -> str:
    """Given cells XML and a minimum height (cm), return one w:tr that never splits across pages."""
    props = "<w:cantSplit/>"
    if height:
        props += f'<w:trHeight w:val="{_twips(height)}" w:hRule="atLeast"/>'
    if header:
        props += "<w:tblHeader/>"
    return f"<w:tr><w:trPr>{props}</w:trPr>{cells}</w:tr>"


def banner_row(paragraph: str, widths: list[float], header: bool = False,
               edges: tuple[str, ...] = ("top", "left", "bottom", "right")) -> str:
    """Given a paragraph, the grid widths and the edges to leave undrawn, return a row of one cell across the table.

    A title inside a table (a continuation's, repeated on each page) keeps its own spacing: cell_xml's
    exact line would cut a 小二 title.
    """
    nil = "".join(f'<w:{e} w:val="nil"/>' for e in edges)
    cell = (f'<w:tc><w:tcPr><w:tcW w:w="{_twips(sum(widths))}" w:type="dxa"/><w:gridSpan w:val="{len(widths)}"/>'
            f'<w:tcBorders>{nil}</w:tcBorders></w:tcPr>{paragraph}</w:tc>')
    return row_xml(cell, None, header=header)


def table_props(widths: list[float], borders: bool) -> str:
    """Given column widths and whether to draw borders, return w:tblPr and w:tblGrid."""
    size = STYLE.border_size
    edges = ("top", "left", "bottom", "right", "insideH", "insideV")
    if borders:
        lines = "".join(f'<w:{e} w:val="single" w:sz="{size}" w:space="0" w:color="auto"/>' for e in edges)
    else:
        lines = "".join(f'<w:{e} w:val="nil"/>' for e in edges)
    margin = _twips(STYLE.cell_margin)
    pr = (f'<w:tblPr><w:tblW w:w="{_twips(sum(widths))}" w:type="dxa"/><w:jc w:val="center"/>'
          f'<w:tblBorders>{lines}</w:tblBorders><w:tblLayout w:type="fixed"/>'
          f'<w:tblCellMar><w:left w:w="{margin}" w:type="dxa"/><w:right w:w="{margin}" w:type="dxa"/></w:tblCellMar>'
          '<w:tblLook w:val="0000"/></w:tblPr>')
    grid = "".join(f'<w:gridCol w:w="{_twips(w)}"/>' for w in widths)
    return f"{pr}<w:tblGrid>{grid}</w:tblGrid>"


def sized(xml: str, size: float | None) -> str:
    """Given a table's XML and its own text size (points; None for the default 五号), return it in that size.

    A dense form (the enterprise 申请表's 47 fields on one page) sets its table in 小五 (9 pt).
    """
    if not size:
        return xml
    default, half = round(STYLE.cell_size * 2), round(float(size) * 2)
    line = round(STYLE.cell_line * 20)
    xml = xml.replace(f'<w:sz w:val="{default}"/><w:szCs w:val="{default}"/>', f'<w:sz w:val="{half}"/><w:szCs w:val="{half}"/>')
    return xml.replace(f'w:line="{line}" w:lineRule="exact"',
                       f'w:line="{round(line * float(size) / STYLE.cell_size)}" w:lineRule="exact"')
