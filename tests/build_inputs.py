"""Test inputs built in code: Word/Excel/PDF/zip files as applicants (and attackers) send them.

No binary fixture is committed; every builder writes its file from python-docx, openpyxl or
raw zip + XML, and returns the path.
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
import zlib
from pathlib import Path

NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'mc:Ignorable="w14"'
)
DOC_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_CT = "application/vnd.ms-word.document.macroEnabled.main+xml"


def content_types(main_ct: str = DOC_CT, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{main_ct}"/>{extra}</Types>'
    )


ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


def document_xml(body: str, prolog: str = "") -> str:
    """The main document part of a minimal .docx whose w:body is `body`."""
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}<w:document {NS}><w:body>{body}</w:body></w:document>'


def docx_from_body(path: Path, body: str, prolog: str = "", main_ct: str = DOC_CT,
                   extra_parts: dict[str, bytes] | None = None) -> Path:
    """Write a minimal .docx whose w:body is `body` (WordprocessingML, prefixes of NS bound)."""
    xml = document_xml(body, prolog)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types(main_ct))
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("word/document.xml", xml)
        for name, data in (extra_parts or {}).items():
            zf.writestr(name, data)
    return path


def p(text: str) -> str:
    """A paragraph with one run of text."""
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def tc(inner: str, span: int = 1, vmerge: str | None = None) -> str:
    props = ""
    if span > 1:
        props += f'<w:gridSpan w:val="{span}"/>'
    if vmerge == "restart":
        props += '<w:vMerge w:val="restart"/>'
    elif vmerge == "continue":
        props += "<w:vMerge/>"
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{inner}</w:tc>"


# --- Word ----------------------------------------------------------------------------------------


def merged_table_docx(path: Path) -> Path:
    """A form table: a 3-column value (gridSpan), a 2-row label (vMerge), gridBefore, spaced labels."""
    body = (
        p("企业类申请表")
        + "<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/><w:gridCol/><w:gridCol/></w:tblGrid>"
        + "<w:tr>" + tc(p("企业名称")) + tc(p("华光机械有限公司"), span=3) + "</w:tr>"
        + "<w:tr>" + tc(p("通  信  地  址"), vmerge="restart") + tc(p("哈尔滨市")) + tc(p("邮编")) + tc(p("150001")) + "</w:tr>"
        + "<w:tr>" + tc(p(""), vmerge="continue") + tc(p("南岗区") + p("一曼街 8 号"), span=3) + "</w:tr>"
        + '<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>' + tc(p("备注")) + tc(p("无"), span=2) + "</w:tr>"
        + "</w:tbl>"
        + p("填表日期：2017年5月9日")
    )
    return docx_from_body(path, body)


def nested_table_docx(path: Path) -> Path:
    """A table whose second cell holds a nested table (which holds another)."""
    inner2 = "<w:tbl><w:tr>" + tc(p("最内层")) + "</w:tr></w:tbl>"
    inner = "<w:tbl><w:tr>" + tc(p("姓名")) + tc(p("张三") + inner2) + "</w:tr><w:tr>" + tc(p("电话")) + tc(p("13904809986")) + "</w:tr></w:tbl>"
    body = "<w:tbl><w:tr>" + tc(p("被访者")) + tc(p("见下表") + inner + p("（续）")) + "</w:tr></w:tbl>" + p("正文结束")
    return docx_from_body(path, body)


def content_control_docx(path: Path) -> Path:
    """Text in run-, block- and cell-level content controls, tracked changes, tabs, breaks, a text box."""
    body = (
        '<w:p><w:r><w:t>企业名称：</w:t></w:r><w:sdt><w:sdtPr><w:alias w:val="name"/></w:sdtPr>'
        '<w:sdtContent><w:r><w:t>华光公司</w:t></w:r></w:sdtContent></w:sdt></w:p>'
        '<w:sdt><w:sdtPr/><w:sdtContent>' + p("块级控件文字") + '</w:sdtContent></w:sdt>'
        '<w:p><w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:r><w:t>单击或点击此处输入文字。</w:t></w:r>'
        '</w:sdtContent></w:sdt></w:p>'
        '<w:p><w:r><w:t>法定代表人</w:t></w:r><w:r><w:tab/></w:r><w:ins w:id="1" w:author="a"><w:r><w:t>李四</w:t></w:r></w:ins>'
        '<w:del w:id="2" w:author="a"><w:r><w:delText>王五</w:delText></w:r></w:del><w:r><w:br/><w:t>第二行</w:t></w:r></w:p>'
        '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>制表位不算字</w:t></w:r></w:p>'
        "<w:tbl><w:tr><w:sdt><w:sdtPr/><w:sdtContent>" + tc(p("单元格控件")) + "</w:sdtContent></w:sdt></w:tr></w:tbl>"
        '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
        + p("封面文本框") + '</w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox><w:txbxContent>'
        + p("封面文本框") + "</w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )
    return docx_from_body(path, body)


def sym(font: str, char: str) -> str:
    return f'<w:r><w:sym w:font="{font}" w:char="{char}"/></w:r>'


def symbol_run(font: str, text: str) -> str:
    return f'<w:r><w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}"/></w:rPr><w:t>{text}</w:t></w:r>'


def w14_box(checked: bool) -> str:
    val, glyph = ("1", "☒") if checked else ("0", "☐")
    return (
        f'<w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="{val}"/>'
        '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/><w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/>'
        f'</w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:t>{glyph}</w:t></w:r></w:sdtContent></w:sdt>'
    )


def legacy_box(default: str | None = None, checked: str | None = None) -> str:
    inner = ""
    if default is not None:
        inner += f'<w:default w:val="{default}"/>'
    if checked is not None:
        inner += "<w:checked/>" if checked == "" else f'<w:checked w:val="{checked}"/>'
    return (
        f'<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/><w:enabled/>'
        f'<w:checkBox><w:sizeAuto/>{inner}</w:checkBox></w:ffData></w:fldChar></w:r>'
        '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )


def r(text: str) -> str:
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


#: Paragraph label → expected text after reading.
TICK_CASES = {
    "glyphs": (r("glyphs:") + r("☑A ✓B ✔C √D ■E ☒F ▣G ●H □I ☐J"), "glyphs:☑A ☑B ☑C ☑D ☑E ☑F ☑G ☑H ☐I ☐J"),
    "sym_wingdings2": (r("w2:") + sym("Wingdings 2", "F052") + r("是") + sym("Wingdings 2", "F0A3") + r("否")
                       + sym("Wingdings 2", "F050") + sym("Wingdings 2", "F053") + sym("Wingdings 2", "0054"),
                       "w2:☑是☐否☑☑☑"),
    "sym_wingdings": (r("w1:") + sym("Wingdings", "F0FE") + r("真实") + sym("Wingdings", "F06F") + r("齐全")
                      + sym("Wingdings", "F0A8") + sym("Wingdings", "F078") + sym("Wingdings", "F0FC"),
                      "w1:☑真实☐齐全☐☑☑"),
    "sym_symbol": (r("sy:") + sym("Symbol", "F0D6") + r("有效"), "sy:☑有效"),
    "font_run": (r("fr:") + symbol_run("Wingdings 2", "R") + r("是") + symbol_run("Wingdings 2", "£") + r("否")
                 + symbol_run("Wingdings", "\uf0fe") + symbol_run("Wingdings", "o"), "fr:☑是☐否☑☐"),
    "w14": (r("cc:") + w14_box(True) + r("企业类") + w14_box(False) + r("产品类"), "cc:☑企业类☐产品类"),
    "legacy": (r("ff:") + legacy_box(default="1") + r("甲") + legacy_box(default="0") + r("乙")
               + legacy_box(default="0", checked="") + r("丙") + legacy_box(default="1", checked="0") + r("丁")
               + legacy_box() + r("戊"), "ff:☑甲☐乙☑丙☐丁☐戊"),
}


def ticks_docx(path: Path) -> Path:
    """One paragraph per tick kind of TICK_CASES, plus the same marks inside a table cell."""
    body = "".join(f"<w:p>{runs}</w:p>" for runs, _ in TICK_CASES.values())
    body += "<w:tbl><w:tr>" + tc(f"<w:p>{TICK_CASES['w14'][0]}</w:p>") + tc(f"<w:p>{TICK_CASES['legacy'][0]}</w:p>") + "</w:tr></w:tbl>"
    return docx_from_body(path, body)


def form_docx(path: Path) -> Path:
    """A python-docx form with ruled table, merged cells, ticks: the source for .doc and PDF tests."""
    import docx

    document = docx.Document()
    document.add_paragraph("企业类申请表")
    table = document.add_table(rows=4, cols=4)
    table.style = "Table Grid"
    table.cell(0, 0).text = "企业名称"
    table.cell(0, 1).merge(table.cell(0, 3)).text = "华光机械有限公司"
    table.cell(1, 0).text = "通信地址"
    table.cell(1, 1).text = "哈尔滨市"
    table.cell(1, 2).text = "邮编"
    table.cell(1, 3).text = "150001"
    table.cell(2, 0).merge(table.cell(3, 0)).text = "主导产品"
    table.cell(2, 1).text = "名称"
    table.cell(2, 2).text = "年产量"
    table.cell(2, 3).text = "☑是 □否"
    table.cell(3, 1).text = "机床"
    table.cell(3, 2).text = "1200"
    document.add_paragraph("填表日期：2017年5月9日")
    document.save(path)
    return path


def docm(path: Path) -> Path:
    """A macro-enabled Word document (content type and vbaProject.bin)."""
    return docx_from_body(path, p("宏"), main_ct=DOCM_CT, extra_parts={"word/vbaProject.bin": b"\x00" * 64})


def entity_docx(path: Path, secret: Path) -> Path:
    """A .docx whose document.xml declares an external entity pointing at `secret`."""
    prolog = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    return docx_from_body(path, p("&xxe;"), prolog=prolog)


# --- Excel ---------------------------------------------------------------------------------------


def form_xlsx(path: Path) -> Path:
    """A workbook: merged title, a date, an integral float, a percentage, trailing blank formatting."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "被访者信息登记表"
    sheet["A1"] = "被访者信息登记表"
    sheet.merge_cells("A1:D1")
    sheet.append(["序号", "姓名", "调查日期", "满意度"])
    sheet.append([1.0, "张三", dt.datetime(2017, 5, 9), 0.955])
    sheet["D3"].number_format = "0.0%"
    sheet.append([2, "李四 ", dt.date(2017, 5, 10), 87.25])
    sheet.merge_cells("B5:B6")
    sheet["B5"] = "合并两行"
    sheet["F20"].number_format = "0.00"  # formatting only, no value: not part of the used range
    second = book.create_sheet("空表")
    second["A1"] = None
    book.save(path)
    return path


def xxe_xlsx(path: Path, secret: Path) -> Path:
    """An .xlsx whose sheet XML declares an external entity reading `secret`."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = "x"
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = (
                    f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                    '<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
                ).encode()
            dst.writestr(info, data)
    plain.unlink()
    return path


# --- other kinds ---------------------------------------------------------------------------------


def fake_encrypted_ole(path: Path) -> Path:
    """An OLE compound file with EncryptionInfo/EncryptedPackage streams, as Office writes for passwords."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 0x30, 0)  # first directory sector
    sector = bytearray(512)
    for n, (name, kind) in enumerate((("Root Entry", 5), ("EncryptionInfo", 2), ("EncryptedPackage", 2))):
        raw = name.encode("utf-16-le") + b"\x00\x00"
        off = n * 128
        sector[off:off + len(raw)] = raw
        struct.pack_into("<HB", sector, off + 0x40, len(raw), kind)
    path.write_bytes(bytes(header) + bytes(sector) + b"\x00" * 512)
    return path


def pdf_file(path: Path, objects: list[bytes], trailer: bytes = b"") -> Path:
    """Write objects 1..n as a PDF (object 1 the catalog) with a correct xref; `trailer` adds keys."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    path.write_bytes(bytes(out))
    return path


def minimal_pdf(path: Path, encrypted: bool = False) -> Path:
    """A tiny one-page PDF; `encrypted`: RC4-encrypted with a user password (it cannot be opened without)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    if encrypted:
        return rc4_pdf(path, objects, user_password=b"secret")
    return pdf_file(path, objects)


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    """RC4, as the PDF standard security handler (revision 2) uses it."""
    box, j = list(range(256)), 0
    for i in range(256):
        j = (j + box[i] + key[i % len(key)]) % 256
        box[i], box[j] = box[j], box[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + box[i]) % 256
        box[i], box[j] = box[j], box[i]
        out.append(byte ^ box[(box[i] + box[j]) % 256])
    return bytes(out)


def rc4_pdf(path: Path, objects: list[bytes], user_password: bytes = b"", owner_password: bytes = b"owner",
            streams: dict[int, bytes] | None = None) -> Path:
    """Write a PDF encrypted by the standard security handler, revision 2 (40-bit RC4).

    An empty user password is what "copy-protected" PDFs carry: every reader opens them. `streams`
    maps an object number (1-based) to the stream its object holds (encrypted with that object's key).
    """
    import hashlib

    def padded(pw: bytes) -> bytes:
        return (pw + _PAD)[:32]

    file_id = b"0123456789abcdef"
    owner = rc4(hashlib.md5(padded(owner_password)).digest()[:5], padded(user_password))
    perms = struct.pack("<i", -64)
    key = hashlib.md5(padded(user_password) + owner + perms + file_id).digest()[:5]
    user = rc4(key, _PAD)
    body = list(objects)
    for n, data in (streams or {}).items():
        object_key = hashlib.md5(key + struct.pack("<I", n)[:3] + b"\x00\x00").digest()[:10]
        sealed = rc4(object_key, data)
        body[n - 1] = body[n - 1] + b" /Length %d >>\nstream\n" % len(sealed) + sealed + b"\nendstream"
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -64 >>" % (owner.hex().encode(), user.hex().encode())
    body.append(encrypt)
    trailer = b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (len(body), file_id.hex().encode(), file_id.hex().encode())
    return pdf_file(path, body, trailer)


def text_pdf(path: Path, lines: list[str], user_password: bytes | None = None, padding: int = 0) -> Path:
    """A one-page PDF whose text layer holds `lines` (ASCII, Helvetica); encrypted with an (empty) user
    password when one is given; `padding` zero bytes after %%EOF, as some scanners and mailers add."""
    content = b"BT /F1 12 Tf 20 180 Td " + b" ".join(b"(%s) Tj 0 -16 Td" % line.encode("ascii") for line in lines) + b" ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>", b"<<",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    if user_password is None:
        objects[3] = b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"
        pdf_file(path, objects)
    else:
        rc4_pdf(path, objects, user_password=user_password, streams={4: content})
    if padding:
        with open(path, "ab") as out:
            out.write(b"\x00" * padding)
    return path


def html_as_xlsx(path: Path) -> Path:
    """A web page table saved under an .xlsx name, as some systems 'export to Excel'."""
    path.write_text('<html><head><meta charset="utf-8"></head><body><table><tr><td>企业名称</td></tr></table></body></html>',
                    encoding="utf-8")
    return path


def png(path: Path) -> Path:
    """A 1×1 PNG (a scanned business licence, as far as sniffing is concerned)."""
    raw = b"\x00\xff\xff\xff"
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


# --- zips ----------------------------------------------------------------------------------------


class RawNameInfo(zipfile.ZipInfo):
    """A ZipInfo whose stored name bytes are exactly `raw_name` (GBK from Chinese Windows, say).

    zipfile would store a non-ASCII name as UTF-8 with flag bit 11; overriding the encoding
    step writes the bytes as given, flag bit off, as old Windows zippers do.
    """

    __slots__ = ("raw_name",)

    def __init__(self, raw: bytes):
        super().__init__(raw.decode("cp437"))
        self.raw_name = raw
        self.compress_type = zipfile.ZIP_DEFLATED

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's name
        return self.raw_name, self.flag_bits & ~0x800


def gbk_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A zip as Chinese Windows makes it: GBK names, no UTF-8 flag, backslash separators allowed."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(RawNameInfo(name.encode("gbk")), data)
    return path


def plain_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A zip with names as given (UTF-8 flag set by zipfile where needed)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return path


def symlink_zip(path: Path) -> Path:
    """A zip with a Unix symlink member pointing at /etc/passwd and one ordinary member."""
    with zipfile.ZipFile(path, "w") as zf:
        link = zipfile.ZipInfo("link.docx")
        link.create_system = 3
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("ok.txt", "文本")
    return path


def bomb_zip(path: Path, inflated: int = 200 * 1024 * 1024, name: str = "zeros.docx") -> Path:
    """A zip whose one member inflates to `inflated` bytes of zeros, written by streaming (~200 KB on disk)."""
    chunk = b"\x00" * (1 << 20)
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED  # a bare ZipInfo would be stored, not deflated
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open(info, "w", force_zip64=True) as out:
            for _ in range(inflated // len(chunk)):
                out.write(chunk)
    return path


def lying_bomb_zip(path: Path, inflated: int = 64 * 1024 * 1024) -> Path:
    """A bomb whose central directory and local header claim the member is tiny (declared sizes lie)."""
    data = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = b"".join(data.compress(b"\x00" * (1 << 20)) for _ in range(inflated >> 20)) + data.flush()
    name = b"small.pdf"
    crc, declared = 0, 1000
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), declared, len(name), 0) + name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), declared,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    path.write_bytes(local + body + central + end)
    return path


def many_members_zip(path: Path, count: int = 100_000) -> Path:
    """A zip of `count` empty stored members (a member-count bomb), its records packed directly for speed."""
    local, central = bytearray(), bytearray()
    for n in range(count):
        name = b"f%d.txt" % n
        central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0,
                               len(name), 0, 0, 0, 0, 0, len(local)) + name
        local += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(central), len(local), 0)
    # More than 65535 entries needs zip64 end records; zipfile reads the count from there.
    zip64_end = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), len(local))
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(local) + len(central), 1)
    path.write_bytes(bytes(local) + bytes(central) + zip64_end + locator + end)
    return path


# --- RAR and 7-Zip -------------------------------------------------------------------------------


def _rar_block(kind: int, flags: int, body: bytes, data: bytes = b"") -> bytes:
    """One RAR 4 block: CRC16 (low half of the CRC32 of what follows it), type, flags, size, body."""
    head = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(head) & 0xFFFF) + head + data


def rar4(path: Path, members: dict[str, bytes], gbk: bool = False) -> Path:
    """Write a RAR 4 archive of stored (uncompressed) members, byte by byte (no free tool writes RAR).

    Names are UTF-8 with the Unicode flag (a name holding no zero byte is UTF-8), or, with `gbk`, GBK
    bytes as WinRAR on Chinese Windows writes them without it.
    """
    out = b"Rar!\x1a\x07\x00" + _rar_block(0x73, 0, b"\x00" * 6)
    for name, data in members.items():
        raw = name.replace("/", "\\").encode("gbk" if gbk else "utf-8")
        flags = 0x8000 | (0 if gbk else 0x0200)
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 2, zlib.crc32(data), 0x5A210000, 20, 0x30,
                           len(raw), 0x20) + raw
        out += _rar_block(0x74, flags, body, data)
    out += _rar_block(0x7B, 0x4000, b"")
    path.write_bytes(out)
    return path


def seven_zip(path: Path, members: dict[str, bytes]) -> Path:
    """Write a .7z archive with libarchive (which writes 7z, not RAR)."""
    import libarchive

    with libarchive.file_writer(str(path), "7zip") as archive:
        for name, data in members.items():
            archive.add_file_from_memory(name, len(data), data)
    return path


def bad_colour_space_pdf(path: Path, line: str = "Hello colour") -> Path:
    """A PDF whose page uses an ICC colour space stream without its /N: pdfminer gives up, pdfium reads it."""
    content = b"/CS0 cs 0.5 scn BT /F1 12 Tf 20 180 Td (%s) Tj ET" % line.encode("ascii")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << "
               b"/Font << /F1 5 0 R >> /ColorSpace << /CS0 [/ICCBased 6 0 R] >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", b"<< /Length 0 >>\nstream\n\nendstream"]
    return pdf_file(path, objects)


def image_only_pdf(path: Path) -> Path:
    """A scanned page: a PDF with one image and no text layer."""
    pixels = b"\x80" * (8 * 8)
    content = b"q 200 0 0 200 0 0 cm /Im0 Do Q"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
               b"/Resources << /XObject << /Im0 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
               b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8 "
               b"/Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"]
    return pdf_file(path, objects)
