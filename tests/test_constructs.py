"""Constructs Word and WPS write into a value cell, built in code: read as the applicant shows them.

A packet is built in code (raw WordprocessingML): a table of labels and value cells, one construct per
value cell, with its list numbering, comments and footnotes parts. Every value must read back exactly from
the .docx, and from the .doc LibreOffice makes of it (read as parsing reads a .doc: converted back to .docx
in one batch). One conversion per format for the whole module.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import build_inputs as b
import pytest

from pipeline.common import office
from pipeline.reading.readers.docx import eq_text, format_number, read_docx

HIDDEN = ('<w:p><w:r><w:t>186376</w:t></w:r><w:r><w:rPr><w:vanish/></w:rPr><w:t>（原填：0451-81704750）</w:t></w:r>'
          '<w:r><w:t>51946</w:t></w:r><w:r><w:rPr><w:vanish w:val="0"/></w:rPr><w:t>0</w:t></w:r></w:p>')
RUBY = ('<w:p>' + ''.join(
    f'<w:r><w:ruby><w:rubyPr><w:rubyAlign w:val="distributeSpace"/></w:rubyPr><w:rt><w:r><w:t>{pinyin}</w:t></w:r></w:rt>'
    f'<w:rubyBase><w:r><w:t>{han}</w:t></w:r></w:rubyBase></w:ruby></w:r>' for pinyin, han in (("qū", "麴"), ("dé", "德"), ("míng", "明")))
    + '</w:p>')

EXTRA_NS = ('xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
            'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
            'xmlns:o="urn:schemas-office-com:office:office" ')


def r(text: str, props: str = "") -> str:
    return f'<w:r>{f"<w:rPr>{props}</w:rPr>" if props else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'


def text_box(text: str) -> str:
    """A floating text box as Word 2010+ writes it: a drawing shape, with the VML fallback older readers take."""
    return (
        '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" relativeHeight="251659264" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="2400000" cy="400000"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        '<wp:docPr id="1" name="文本框 1"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="2400000" cy="400000"/>'
        '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></wps:spPr>'
        f'<wps:txbx><w:txbxContent>{b.p(text)}</w:txbxContent></wps:txbx><wps:bodyPr rot="0" vert="horz"/>'
        '</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"/><v:shape id="文本框 1" o:spid="_x0000_s1026" type="#_x0000_t202" '
        'style="position:absolute;margin-left:0;margin-top:0;width:189pt;height:31.5pt;z-index:251659264">'
        f'<v:textbox><w:txbxContent>{b.p(text)}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>'
        '</mc:AlternateContent></w:r></w:p>')


def vml_text_box(text: str) -> str:
    """A text box as Word 2003 and WPS write it: VML only."""
    return ('<w:p><w:r><w:pict><v:shape id="tb2" type="#_x0000_t202" style="position:absolute;margin-left:0;'
            f'margin-top:0;width:189pt;height:31.5pt"><v:textbox><w:txbxContent>{b.p(text)}</w:txbxContent>'
            '</v:textbox></v:shape></w:pict></w:r></w:p>')


def nested(text: str) -> str:
    """A one-cell table inside the value cell, holding the value (an empty paragraph after it, as Word needs)."""
    return '<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tr>' + b.tc(b.p(text)) + "</w:tr></w:tbl><w:p/>"


def numbered(num_id: int) -> str:
    """An empty paragraph numbered automatically by list `num_id` (the 序号 Word fills in itself)."""
    return f'<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr></w:p>'


def complex_field(instr: str, result: str, locked: bool = False) -> str:
    """A complex field (fldChar begin, instrText, separate, result, end) as Word writes DATE, FILLIN, FORMTEXT;
    a locked one (Ctrl+F11) keeps its result."""
    lock = ' w:fldLock="1"' if locked else ""
    return (f'<w:r><w:fldChar w:fldCharType="begin"{lock}/></w:r><w:r><w:instrText xml:space="preserve"> {instr} </w:instrText></w:r>'
            f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{r(result)}<w:r><w:fldChar w:fldCharType="end"/></w:r>')


def eq_tick_complex() -> str:
    """A tick drawn as an enclosed character (带圈字符) by Word: `eq \\o\\ac(□,√)`, split over runs, no result."""
    return ('<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve">eq \\o\\ac(</w:instrText></w:r>'
            '<w:r><w:rPr><w:position w:val="-4"/><w:sz w:val="31"/></w:rPr><w:instrText>□</w:instrText></w:r>'
            '<w:r><w:instrText>,</w:instrText></w:r><w:r><w:instrText>√</w:instrText></w:r>'
            '<w:r><w:instrText>)</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>')


LEGACY_TEXT = ('<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Text1"/><w:enabled/><w:calcOnExit w:val="0"/>'
               '<w:textInput/></w:ffData></w:fldChar></w:r><w:r><w:instrText xml:space="preserve"> FORMTEXT </w:instrText></w:r>'
               f'<w:r><w:fldChar w:fldCharType="separate"/></w:r>{r("王建国")}<w:r><w:fldChar w:fldCharType="end"/></w:r>')

#: label → (the value cell's XML, the value the applicant shows).
CONSTRUCTS = {
    "文本框": (text_box("华光机械有限公司"), "华光机械有限公司"),
    "旧式文本框": (vml_text_box("13904809986"), "13904809986"),
    "嵌套表格": (nested("哈尔滨市南岗区一曼街8号"), "哈尔滨市南岗区一曼街8号"),
    "隐藏文字": (HIDDEN, "186376519460"),
    "拼音指南": (RUBY, "麴德明"),
    "内容控件": ('<w:p><w:sdt><w:sdtPr><w:alias w:val="企业名称"/></w:sdtPr><w:sdtContent>' + r("黑龙江华光公司")
                + "</w:sdtContent></w:sdt></w:p>", "黑龙江华光公司"),
    "窗体域": ("<w:p>" + LEGACY_TEXT + "</w:p>", "王建国"),
    "日期域": ("<w:p>" + complex_field('DATE \\@ "yyyy年M月d日"', "2016年6月1日", locked=True) + "</w:p>", "2016年6月1日"),
    "批注": ('<w:p><w:commentRangeStart w:id="0"/>' + r("0451-86612345") + '<w:commentRangeEnd w:id="0"/>'
            '<w:r><w:commentReference w:id="0"/></w:r></w:p>', "0451-86612345"),
    "脚注": ("<w:p>" + r("AAA级") + '<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteReference w:id="1"/>'
            "</w:r></w:p>", "AAA级"),
    "修订": ('<w:p><w:ins w:id="5" w:author="a" w:date="2016-06-01T00:00:00Z">' + r("李四") + '</w:ins>'
            '<w:del w:id="6" w:author="a" w:date="2016-06-01T00:00:00Z"><w:r><w:delText>王五</w:delText></w:r></w:del></w:p>', "李四"),
    "智能标记": ('<w:p><w:smartTag w:uri="urn:schemas-microsoft-com:office:smarttags" w:element="address">'
              + r("沈阳市和平区") + "</w:smartTag>" + r("南京北街1号") + "</w:p>", "沈阳市和平区南京北街1号"),
    "书签": ('<w:p><w:bookmarkStart w:id="0" w:name="name"/>' + r("陈志强") + '<w:bookmarkEnd w:id="0"/></w:p>', "陈志强"),
    "拆分的文字": ("<w:p>" + r("91210100") + '<w:proofErr w:type="spellStart"/>' + r("MA0XY", "<w:b/>")
              + '<w:proofErr w:type="spellEnd"/>' + r("1234K", '<w:lang w:val="en-US"/>') + "</w:p>", "91210100MA0XY1234K"),
    "软回车": ('<w:p><w:r><w:t>第一行</w:t><w:br/><w:t>第二行</w:t></w:r></w:p>' + b.p("第二段"), "第一行\n第二行\n第二段"),
}
#: Read from the .docx alone, because the .doc LibreOffice makes of them no longer shows the value: its import
#: drops an EQ field (带圈字符, which stores no result), re-dates an unlocked DATE field to today and writes a
#: FILLIN field's result four times. What such a .doc shows is read as it shows it.
ENCLOSED = {
    "未锁定日期域": ("<w:p>" + complex_field('DATE \\@ "yyyy年M月d日"', "2016年6月1日") + "</w:p>", "2016年6月1日"),
    "填充域": ("<w:p>" + complex_field('FILLIN "请输入联系人"', "赵丽") + "</w:p>", "赵丽"),
    "带圈勾选": ("<w:p>" + eq_tick_complex() + r("是 ") + r("☐") + r("否") + "</w:p>", "☑是 ☐否"),
    "带圈勾选域": ('<w:p><w:fldSimple w:instr="eq \\o\\ac(□,√)"/>' + r("同意") + "</w:p>", "☑同意"),
    "生成的带圈勾选": ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> eq \\o\\ac('
                '</w:instrText></w:r>' + r("□") + r(",√)") + '<w:r><w:fldChar w:fldCharType="end"/></w:r>' + r("符合")
                + "</w:p>", "☑符合"),
    "未勾选": ('<w:p><w:fldSimple w:instr="eq \\o\\ac(□,)"/>' + r("不符合") + "</w:p>", "☐不符合"),
}

#: Rows numbered by Word's automatic numbering: list 1 counts 1., 2., 3.; list 2 starts at 5 in Chinese counting.
NUMBERED_ROWS = [(1, "1."), (1, "2."), (1, "3."), (2, "（五）"), (2, "（六）")]

NUMBERING = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:numbering ' + b.NS + '>'
    '<w:abstractNum w:abstractNumId="0"><w:multiLevelType w:val="hybridMultilevel"/>'
    '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/><w:lvlJc w:val="left"/>'
    '<w:pPr><w:ind w:left="420" w:hanging="420"/></w:pPr></w:lvl></w:abstractNum>'
    '<w:abstractNum w:abstractNumId="1"><w:multiLevelType w:val="hybridMultilevel"/>'
    '<w:lvl w:ilvl="0"><w:start w:val="5"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%1）"/>'
    '<w:lvlJc w:val="left"/><w:pPr><w:ind w:left="720" w:hanging="720"/></w:pPr></w:lvl></w:abstractNum>'
    '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num><w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>'
    '</w:numbering>')
COMMENTS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments ' + b.NS + '>'
            '<w:comment w:id="0" w:author="审核" w:date="2016-06-01T00:00:00Z" w:initials="S">' + b.p("请核对区号")
            + '</w:comment></w:comments>')
FOOTNOTES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes ' + b.NS + '>'
             '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
             '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
             '<w:footnote w:id="1">' + b.p("信用等级以评定机构证书为准") + '</w:footnote></w:footnotes>')
PARTS = {"numbering": NUMBERING, "comments": COMMENTS, "footnotes": FOOTNOTES}
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
CT = "application/vnd.openxmlformats-officedocument.wordprocessingml."


def packet_docx(path: Path) -> Path:
    """Write the packet: one table, a row per construct (label, value cell), then the numbered rows."""
    rows = "".join("<w:tr>" + b.tc(b.p(label)) + b.tc(inner) + "</w:tr>"
                   for label, (inner, _) in {**CONSTRUCTS, **ENCLOSED}.items())
    rows += "".join("<w:tr>" + b.tc(numbered(num)) + b.tc(b.p(f"第{n + 1}项")) + "</w:tr>"
                    for n, (num, _) in enumerate(NUMBERED_ROWS))
    grid = '<w:tblGrid><w:gridCol w:w="2000"/><w:gridCol w:w="6000"/></w:tblGrid>'
    body = (b.p("构造测试表") + '<w:tbl><w:tblPr><w:tblW w:w="8000" w:type="dxa"/></w:tblPr>' + grid + rows
            + "</w:tbl>" + b.p("表后文字"))
    xml = b.document_xml(body).replace("<w:document ", "<w:document " + EXTRA_NS, 1)
    rels = "".join(f'<Relationship Id="rId{n}" Type="{REL}{part}" Target="{part}.xml"/>' for n, part in enumerate(PARTS, 1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b.content_types(extra="".join(
            f'<Override PartName="/word/{part}.xml" ContentType="{CT}{part}+xml"/>' for part in PARTS)))
        zf.writestr("_rels/.rels", b.ROOT_RELS)
        zf.writestr("word/document.xml", xml)
        zf.writestr("word/_rels/document.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
        for part, data in PARTS.items():
            zf.writestr(f"word/{part}.xml", data)
    return path


@pytest.fixture(scope="module")
def packets(tmp_path_factory):
    """The packet as built (.docx), and its .doc by LibreOffice read back as parsing reads a .doc (one batch each)."""
    root = tmp_path_factory.mktemp("constructs")
    source = packet_docx(root / "packet.docx")
    doc = office.convert([source], "doc", root / "doc")[source]
    back = office.convert([doc], "docx", root / "back")[doc]
    return {"docx": source, "doc": back}


def table_of(path: Path) -> dict[str, str]:
    """Given a packet, return label → value cell text, and the numbered rows' first cells under '序号'."""
    table = next(x for x in read_docx(path, path.name).blocks if x.kind == "table")
    values = {row[0].text: row[1].text for row in table.rows
              if len(row) > 1 and (row[0].text in CONSTRUCTS or row[0].text in ENCLOSED)}
    values["序号"] = [row[0].text for row in table.rows if len(row) > 1 and re.fullmatch(r"第\d+项", row[1].text)]
    return values


@pytest.mark.parametrize("kind", ["docx", "doc"])
@pytest.mark.parametrize("label", list(CONSTRUCTS))
def test_every_construct_reads_as_shown(packets, kind, label):
    assert table_of(packets[kind])[label] == CONSTRUCTS[label][1]


@pytest.mark.parametrize("label", list(ENCLOSED))
def test_ticks_drawn_as_enclosed_characters_and_word_fields_read_as_shown(packets, label):
    assert table_of(packets["docx"])[label] == ENCLOSED[label][1]


@pytest.mark.parametrize("kind", ["docx", "doc"])
def test_automatic_numbering_keeps_the_rows_numbers(packets, kind):
    assert table_of(packets[kind])["序号"] == [shown for _, shown in NUMBERED_ROWS]


def test_number_formats_as_word_shows_them():
    assert [format_number(n, "decimal") for n in (1, 12)] == ["1", "12"]
    assert [format_number(n, "chineseCounting") for n in (1, 10, 12, 20, 21)] == ["一", "十", "十二", "二十", "二十一"]
    assert [format_number(n, "upperLetter") for n in (1, 27)] == ["A", "AA"]
    assert format_number(4, "lowerRoman") == "iv" and format_number(3, "decimalEnclosedCircle") == "③"
    assert format_number(2, "bullet") == ""


def test_enclosed_characters():
    assert eq_text("eq \\o\\ac(□,√)") == "☑"
    assert eq_text(" EQ \\o\\ac(○,×) ") == "☑"
    assert eq_text("eq \\o(□,)") == "☐"
    assert eq_text("eq \\o\\ac(○,优)") == "优"
    assert eq_text("DATE") is None
