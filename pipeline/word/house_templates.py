"""Word templates for documents that are not seed forms: the 补正通知 and the certificate.

Built in the house style of the form templates, from the same style table (`word.styles`: 宋体 body,
黑体 titles, one face for Chinese, digits and Latin, the Chinese sizes, A4) and the same document shell
(`word.document`: zh-CN declared on every run, on the styles and on docDefaults), then edited by staff
as they like: only the `{{ … }}` tags matter. Their paragraphs are written with python-docx's
paragraph API (indents, hanging numbers, line spacing, colour, page breaks): a few dozen paragraphs
with no tables and nothing measured, which the form builder's strings (`word.xml`) would have to grow
every one of those options for. Rebuild with `python -m pipeline.word.house_templates`.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from pipeline.common import resources
from pipeline.common.files import atomic_path
from pipeline.word import TEMPLATES_DIR
from pipeline.word.document import declare_chinese, set_fonts
from pipeline.word.measure import text_lines
from pipeline.word.styles import SAN_HAO, STYLE, XIAO_ER, XIAO_SI

#: The sizes (pt) a certificate prints its holder's name in, largest first (`certificate_name_size` picks one).
CERTIFICATE_NAME_SIZES = (24, 20, 16, 13)
#: The landscape certificate's side margins (cm): its printed width is what a name line may take.
CERTIFICATE_MARGIN = 2.6
CENTER, RIGHT, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT
SEAL_RED = RGBColor(0xA0, 0x10, 0x10)


def house_document(landscape: bool = False, margins_cm: float = 2.5) -> Document:
    """Return an empty A4 document whose docDefaults and styles use 宋体 (黑体 for headings), in zh-CN."""
    doc = Document()
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, STYLE.body_font)
    for style in doc.styles:
        if getattr(style, "font", None) is None:
            continue
        heading = style.name.startswith(("Heading", "Title"))
        set_fonts(style.element.get_or_add_rPr(), STYLE.title_font if heading else STYLE.body_font)
    declare_chinese(doc)
    doc.styles["Normal"].font.size = Pt(XIAO_SI)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(STYLE.page_width), Cm(STYLE.page_height)
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(STYLE.page_height), Cm(STYLE.page_width)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(margins_cm))
    return doc


def add_text(doc, text: str, *, font: str | None = None, size: float = XIAO_SI, bold: bool = False,
             align=LEFT, before: float = 0, after: float = 4, indent_chars: float = 0,
             color: RGBColor | None = None, spacing: float | None = None, left_chars: float = 0,
             hanging_chars: float = 0, right_chars: float = 0, keep_next: bool = False):
    """Given a document and text, append one paragraph of one run in the house style; return it.

    `hanging_chars` hangs the first line out of the left indent (a numbered item: 1．… with its
    wrapped lines under the text, not under the number).
    """
    para = doc.add_paragraph()
    para.alignment = align
    fmt = para.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
    if left_chars:  # wrapped lines stay under the first, not back at the margin
        fmt.left_indent = Pt(size * left_chars)
    if hanging_chars:
        fmt.first_line_indent = Pt(-size * hanging_chars)
    if right_chars:
        fmt.right_indent = Pt(size * right_chars)
    if spacing:
        fmt.line_spacing = spacing
    if keep_next:
        fmt.keep_with_next = True
    run = para.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    set_fonts(run._element.get_or_add_rPr(), font or STYLE.body_font)
    return para


def add_tag(doc, tag: str):
    """Given a docxtpl paragraph tag ('{%p for e in errors %}'), append it as its own paragraph."""
    return add_text(doc, tag, after=0)


def page_border(section, style: str = "double", size: int = 18, color: str = "A0522D", space: int = 24) -> None:
    """Given a section, give its pages a border on all four sides (a certificate's frame).

    A frame of two equal lines: LibreOffice draws the mixed styles (thinThickThin…) as two lines in the same
    order on every side, thick inside on the left and outside on the right; equal lines print the same on all four.
    """
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


def centre_vertically(section) -> None:
    """Given a section, centre its text between the top and bottom margins (a certificate's balanced block)."""
    valign = OxmlElement("w:vAlign")
    valign.set(qn("w:val"), "center")
    sect_pr = section._sectPr
    # w:vAlign comes after w:cols / w:docGrid's neighbours; before w:docGrid is within the schema order.
    grid = sect_pr.find(qn("w:docGrid"))
    if grid is not None:
        grid.addprevious(valign)
    else:
        sect_pr.append(valign)


def build_notice(path: Path) -> Path:
    """Given an output path, write the 补正通知 template there and return the path.

    One template, two letters: a 补正通知 (errors to put right by a deadline) or, for an application
    that fails an eligibility condition (`ineligible`), a 不符合申报条件告知书 giving the reasons.
    Context: c (campaign), title, reference (文号, may be empty), ineligible, company, files,
    deadline, today, errors/warnings (message, needed, article), contact (name, address, postcode,
    people, phones). All in 宋体, the title bold 小二, the body 小四.
    """
    doc = house_document()
    size = XIAO_SI
    add_text(doc, "{{ title }}", size=XIAO_ER, bold=True, align=CENTER, after=6)
    add_tag(doc, "{%p if reference %}")
    add_text(doc, "{{ reference }}", size=size, align=CENTER, after=6)
    add_tag(doc, "{%p endif %}")
    add_text(doc, "{{ company }}：", size=size, before=12, after=6)
    add_tag(doc, "{%p if ineligible %}")
    add_text(doc, "贵单位报送的{{ c.name }}申报材料{{ files }}经审核，不符合申报条件，本次不能受理，"
                  "原因如下：", size=size, indent_chars=2, spacing=1.5, after=6)
    add_text(doc, "不符合的申报条件", size=size, bold=True, indent_chars=2, before=6, after=4, keep_next=True)
    add_tag(doc, "{%p else %}")
    add_text(doc, "贵单位报送的{{ c.name }}申报材料{{ files }}经审核，尚有以下 {{ errors|length }} 处需要补正。"
                  "请于{{ deadline }}前将补正后的材料报送{{ contact.name }}，逾期未补正的按材料不全处理。",
             size=size, indent_chars=2, spacing=1.5, after=6)
    add_text(doc, "一、需要补正的问题", size=size, bold=True, indent_chars=2, before=6, after=4, keep_next=True)
    add_tag(doc, "{%p endif %}")
    # The last item of each list keeps with what follows, down to the signature: when the letter runs over,
    # page 2 starts with an item, never with the contact block and the signature alone.
    add_tag(doc, "{%p for e in errors %}")
    for last in (True, False):
        add_tag(doc, "{%p if loop.last %}" if last else "{%p else %}")
        # Numbered items hang: the number stands out, wrapped lines and 补正要求 align under the text.
        add_text(doc, "{{ loop.index }}．{{ e.message }}", size=size, left_chars=3.5, hanging_chars=1.5,
                 after=0, spacing=1.3, keep_next=last)
        add_tag(doc, "{%p if not ineligible %}")
        add_text(doc, "补正要求：{{ e.needed }}{% if e.article %}（依据：{{ e.article }}）{% endif %}",
                 size=size, left_chars=3.5, after=6, spacing=1.3, keep_next=last)
        add_tag(doc, "{%p endif %}")
    add_tag(doc, "{%p endif %}")
    add_tag(doc, "{%p endfor %}")
    add_tag(doc, "{%p if not ineligible %}")
    add_text(doc, "二、请核对的事项", size=size, bold=True, indent_chars=2, before=6, after=4, keep_next=True)
    add_tag(doc, "{%p if warnings %}")
    add_tag(doc, "{%p for w in warnings %}")
    for last in (True, False):
        add_tag(doc, "{%p if loop.last %}" if last else "{%p else %}")
        add_text(doc, "{{ loop.index }}．{{ w.message }}", size=size, left_chars=3.5, hanging_chars=1.5,
                 after=4, spacing=1.3, keep_next=last)
    add_tag(doc, "{%p endif %}")
    add_tag(doc, "{%p endfor %}")
    add_tag(doc, "{%p else %}")
    add_text(doc, "无。", size=size, indent_chars=2, keep_next=True)
    add_tag(doc, "{%p endif %}")
    add_tag(doc, "{%p endif %}")
    add_text(doc, "{% if ineligible %}如对审核结果有异议{% else %}如有疑问{% endif %}，请与我会联系。",
             size=size, indent_chars=2, before=6, after=6, spacing=1.5, keep_next=True)
    add_text(doc, "{% if ineligible %}联系方式{% else %}三、联系方式{% endif %}", size=size, bold=True,
             indent_chars=2, before=6, after=4, keep_next=True)
    # The contact block is one paragraph of lines, and so is the signature: a paragraph kept together is
    # what LibreOffice and Word both honour, where a chain of one-line paragraphs kept with the next is not.
    contact = add_text(doc, "\n".join(("联系单位：{{ contact.name }}", "地　　址：{{ contact.address }}",
                                         "邮　　编：{{ contact.postcode }}", "联 系 人：{{ contact.people }}",
                                         "电　　话：{{ contact.phones }}")),
                       size=size, left_chars=2, after=2, spacing=1.15, keep_next=True)
    contact.paragraph_format.keep_together = True
    # Room above the signature for the association's seal.
    signature = add_text(doc, "{{ contact.name }}\n{{ today }}", size=size, align=RIGHT, right_chars=2, before=36,
                         spacing=1.15)
    signature.paragraph_format.keep_together = True
    return _save(doc, path)


def certificate_name_size(name: str, lines: int = 2) -> float:
    """Given a holder's name, return the largest of CERTIFICATE_NAME_SIZES that prints it in `lines` lines
    across the certificate (the smallest when none does): a long name shrinks rather than push the number
    and validity onto a second page."""
    width = STYLE.page_height - 2 * CERTIFICATE_MARGIN  # landscape: the page's height is its width
    return next((size for size in CERTIFICATE_NAME_SIZES if text_lines(name, width, size) <= lines),
                CERTIFICATE_NAME_SIZES[-1])


def build_certificate(path: Path) -> Path:
    """Given an output path, write the certificate template (A4 landscape, framed) there; return the path.

    One page per item of `winners` (company, name_size, item_label, item, title, issuer, date, valid_to,
    number, code, qr), so one render makes one certificate or a whole print run. The block stands in the
    middle of the page; the seal goes over the issuer's name and the date, so nothing says （盖章）.
    """
    doc = house_document(landscape=True, margins_cm=CERTIFICATE_MARGIN)
    section = doc.sections[0]
    section.top_margin = section.bottom_margin = Cm(2.2)
    page_border(section)
    centre_vertically(section)
    # Sized so a certificate whose company, item and title each wrap once still fits its page.
    add_tag(doc, "{%p for w in winners %}")
    title = add_text(doc, "荣 誉 证 书", font=STYLE.title_font, size=40, bold=True, align=CENTER, after=26,
                     color=SEAL_RED)
    # Each certificate starts a page; on the document's first paragraph this adds no blank page.
    title.paragraph_format.page_break_before = True
    # The holder's name at the largest of CERTIFICATE_NAME_SIZES that keeps it to two lines (w.name_size):
    # one paragraph per size, so the template stays plain Word that staff can restyle.
    # Without a size (a context staff make themselves) the name prints in the largest.
    smaller = CERTIFICATE_NAME_SIZES[1:]
    for n, name_size in enumerate((*smaller, CERTIFICATE_NAME_SIZES[0])):
        add_tag(doc, "{%p else %}" if n == len(smaller) else
                ("{%p if " if n == 0 else "{%p elif ") + f"w.name_size == {name_size:g} %}}")
        add_text(doc, "{{ w.company }}", size=name_size, bold=True, align=CENTER, after=10, spacing=1.2)
    add_tag(doc, "{%p endif %}")
    add_tag(doc, "{%p if w.item %}")
    add_text(doc, "{{ w.item_label }}：{{ w.item }}", size=SAN_HAO, align=CENTER, after=4, spacing=1.2)
    add_tag(doc, "{%p endif %}")
    add_text(doc, "被评为", size=SAN_HAO, align=CENTER, before=12, after=10)
    add_text(doc, "“{{ w.title }}”", size=22, bold=True, align=CENTER, after=12, spacing=1.2)
    add_text(doc, "特发此证。", size=SAN_HAO, align=CENTER, after=24)
    add_text(doc, "{{ w.issuer }}", size=SAN_HAO, align=RIGHT, right_chars=3, after=4)
    add_text(doc, "{{ w.date }}", size=SAN_HAO, align=RIGHT, right_chars=3, after=6)
    # The QR code opens the public verify page with the number and check code filled in.
    add_tag(doc, "{%p if w.qr %}")
    add_text(doc, "{{ w.qr }}", size=XIAO_SI, align=CENTER, after=2)
    add_tag(doc, "{%p endif %}")
    add_text(doc, "证书编号：{{ w.number }}{% if w.code %}　　校验码：{{ w.code }}{% endif %}"
             "{% if w.valid_to %}　　有效期至{{ w.valid_to }}{% endif %}", size=XIAO_SI, align=CENTER, after=0)
    add_tag(doc, "{%p endfor %}")
    return _save(doc, path)


def _save(doc, path: Path) -> Path:
    with atomic_path(Path(path), guard=False) as tmp:  # templates/ is the project's own
        doc.save(str(tmp))
    return Path(path)


BUILDERS = {"notice.docx": build_notice, "certificate.docx": build_certificate}


def template(name: str) -> Path:
    """Given 'notice.docx' or 'certificate.docx', return its path in templates/, building it when missing."""
    path = resources.layered("templates", name)  # a staff folder's own certificate or notice first
    if not path.is_file():
        BUILDERS[name](path)
    return path


def main() -> None:
    """Rebuild every house template in templates/."""
    for name, build in BUILDERS.items():
        print(build(TEMPLATES_DIR / name))


if __name__ == "__main__":
    main()
