"""Word templates for documents that are not seed forms: the 补正通知 and the certificate.

Built with python-docx in the house style of the form templates (宋体 body, 黑体 titles, the
East Asian font set on every run, on the styles and on docDefaults), then edited by staff as
they like: only the `{{ … }}` tags matter. Rebuild with `python -m pipeline.generating.house_templates`.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from pipeline.common.files import atomic_path

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
BODY_FONT, TITLE_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
CENTER, RIGHT, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT
SEAL_RED = RGBColor(0xA0, 0x10, 0x10)


def set_fonts(rpr, east_asia: str) -> None:
    """Given a w:rPr, set its Latin fonts and its East Asian font (the one CJK text shows in)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr, name in (("w:ascii", LATIN_FONT), ("w:hAnsi", LATIN_FONT), ("w:eastAsia", east_asia)):
        fonts.set(qn(attr), name)


def house_document(landscape: bool = False, margins_cm: float = 2.5) -> Document:
    """Return an empty A4 document whose docDefaults and styles use 宋体 (黑体 for headings)."""
    doc = Document()
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, BODY_FONT)
    for style in doc.styles:
        if getattr(style, "font", None) is None:
            continue
        set_fonts(style.element.get_or_add_rPr(), TITLE_FONT if style.name.startswith(("Heading", "Title")) else BODY_FONT)
    doc.styles["Normal"].font.size = Pt(12)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(margins_cm))
    return doc


def add_text(doc, text: str, *, font: str = BODY_FONT, size: float = 12, bold: bool = False,
             align=LEFT, before: float = 0, after: float = 4, indent_chars: float = 0,
             color: RGBColor | None = None, spacing: float | None = None, left_chars: float = 0):
    """Given a document and text, append one paragraph of one run in the house style; return it."""
    para = doc.add_paragraph()
    para.alignment = align
    fmt = para.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
    if left_chars:  # wrapped lines stay under the first, not back at the margin
        fmt.left_indent = Pt(size * left_chars)
    if spacing:
        fmt.line_spacing = spacing
    run = para.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    set_fonts(run._element.get_or_add_rPr(), font)
    return para


def add_tag(doc, tag: str):
    """Given a docxtpl paragraph tag ('{%p for e in errors %}'), append it as its own paragraph."""
    return add_text(doc, tag, after=0)


def page_border(section, style: str = "thinThickThinSmallGap", size: int = 24, color: str = "A0522D", space: int = 24) -> None:
    """Given a section, give its pages a border on all four sides (a certificate's frame)."""
    sect_pr = section._sectPr
    borders = OxmlElement("w:pgBorders")
    borders.set(qn("w:offsetFrom"), "page")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), style)
        edge.set(qn("w:sz"), str(size))
        edge.set(qn("w:space"), str(space))
        edge.set(qn("w:color"), color)
        borders.append(edge)
    # pgBorders must come after pgMar (and pgSz) in sectPr's schema order.
    anchor = sect_pr.find(qn("w:pgMar"))
    anchor.addnext(borders)


def build_notice(path: Path) -> Path:
    """Given an output path, write the 补正通知 template there and return the path.

    Context: c (campaign), company, source, deadline, today, errors/warnings (message, needed,
    article), contact (name, address, postcode, people, phones).
    """
    doc = house_document()
    add_text(doc, "补 正 通 知", font=TITLE_FONT, size=22, align=CENTER, after=18)
    add_text(doc, "{{ company }}：", size=14, after=8)
    add_text(doc, "贵单位报送的{{ c.name }}申报材料（{{ source }}）经审核，尚有以下 {{ errors|length }} 处需要补正。"
                  "请于{{ deadline }}前将补正后的材料报送{{ contact.name }}，逾期未补正的按材料不全处理。",
             size=14, indent_chars=2, spacing=1.4, after=10)
    add_text(doc, "一、需要补正的问题", font=TITLE_FONT, size=14, before=6, after=6)
    add_tag(doc, "{%p for e in errors %}")
    add_text(doc, "{{ loop.index }}．{{ e.message }}", size=12, indent_chars=2, after=0, spacing=1.3)
    add_text(doc, "需要：{{ e.needed }}{% if e.article %}（依据：{{ e.article }}）{% endif %}",
             size=12, left_chars=3.5, after=6, spacing=1.3)
    add_tag(doc, "{%p endfor %}")
    add_text(doc, "二、请核对的事项", font=TITLE_FONT, size=14, before=6, after=6)
    add_tag(doc, "{%p if warnings %}")
    add_tag(doc, "{%p for w in warnings %}")
    add_text(doc, "{{ loop.index }}．{{ w.message }}", size=12, indent_chars=2, after=4, spacing=1.3)
    add_tag(doc, "{%p endfor %}")
    add_tag(doc, "{%p else %}")
    add_text(doc, "无。", size=12, indent_chars=2)
    add_tag(doc, "{%p endif %}")
    add_text(doc, "三、联系方式", font=TITLE_FONT, size=14, before=6, after=6)
    for line in ("联系单位：{{ contact.name }}", "地　　址：{{ contact.address }}　　邮编：{{ contact.postcode }}",
                 "联 系 人：{{ contact.people }}", "电　　话：{{ contact.phones }}"):
        add_text(doc, line, size=12, indent_chars=2, after=2)
    add_text(doc, "{{ contact.name }}", size=14, align=RIGHT, before=30, after=2)
    add_text(doc, "{{ today }}", size=14, align=RIGHT)
    return _save(doc, path)


def build_certificate(path: Path) -> Path:
    """Given an output path, write the certificate template (A4 landscape, framed) there; return the path.

    One page per item of `winners` (company, item_label, item, title, issuer, date, valid_to,
    number), so one render makes one certificate or a whole print run.
    """
    doc = house_document(landscape=True, margins_cm=2.4)
    section = doc.sections[0]
    section.top_margin = section.bottom_margin = Cm(2.0)
    page_border(section)
    # Sized so a certificate whose company, item and title each wrap once still fits its page.
    add_tag(doc, "{%p for w in winners %}")
    title = add_text(doc, "荣 誉 证 书", font=TITLE_FONT, size=44, bold=True, align=CENTER, before=30, after=30,
                     color=SEAL_RED)
    # Each certificate starts a page; on the document's first paragraph this adds no blank page.
    title.paragraph_format.page_break_before = True
    add_text(doc, "{{ w.company }}", font=TITLE_FONT, size=26, align=CENTER, after=12)
    add_tag(doc, "{%p if w.item %}")
    add_text(doc, "{{ w.item_label }}：{{ w.item }}", size=16, align=CENTER, after=4)
    add_tag(doc, "{%p endif %}")
    add_text(doc, "被评为", size=16, align=CENTER, before=14, after=12)
    add_text(doc, "{{ w.title }}", font=TITLE_FONT, size=22, align=CENTER, after=16)
    add_text(doc, "特发此证。", size=16, align=CENTER, after=40)
    # The seal goes over the issuer and the date, so they stand to the right with room around them.
    add_text(doc, "{{ w.issuer }}（盖章）", size=16, align=RIGHT, after=4)
    add_text(doc, "{{ w.date }}", size=16, align=RIGHT, after=40)
    add_text(doc, "证书编号：{{ w.number }}{% if w.valid_to %}　　　　　有效期至{{ w.valid_to }}{% endif %}", size=12, align=CENTER, after=0)
    add_tag(doc, "{%p endfor %}")
    return _save(doc, path)


def _save(doc, path: Path) -> Path:
    with atomic_path(Path(path), guard=False) as tmp:  # templates/ is the project's own
        doc.save(str(tmp))
    return Path(path)


BUILDERS = {"notice.docx": build_notice, "certificate.docx": build_certificate}


def template(name: str) -> Path:
    """Given 'notice.docx' or 'certificate.docx', return its path in templates/, building it when missing."""
    path = TEMPLATES_DIR / name
    if not path.is_file():
        BUILDERS[name](path)
    return path


def main() -> None:
    """Rebuild every house template in templates/."""
    for name, build in BUILDERS.items():
        print(build(TEMPLATES_DIR / name))


if __name__ == "__main__":
    main()
