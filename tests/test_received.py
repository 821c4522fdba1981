"""Every file an applicant really sends, read or refused for the right reason (issue 19).

One inbox holds one entry of each case, all built here in code: OpenDocument, WPS and RTF files,
.rar (written byte by byte: no free tool writes RAR) and .7z archives, a 推进单位's zip of five
companies, scans and photos, PDFs that are copy-protected, padded or that pdfminer cannot read,
Office packages with an unusual main part, a macro type and no macro, a workbook openpyxl refuses,
encrypted old-format files, an empty folder and a symbolic link. It is parsed once.
"""

from __future__ import annotations

import re
import shutil
import struct
import threading
import zipfile
from pathlib import Path

import build_inputs as b
import corpus as cp
import pytest

from pipeline.common import office, sniff
from pipeline.common.safety import LIMITS
from pipeline.receiving import inbox
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the seed's campaign: 黑龙江 2017

pytestmark = pytest.mark.xdist_group("received")

FIVE = [f"哈尔滨第{n}电器有限公司" for n in "一二三四五"]
#: What a Python exception name looks like in a message (TypeError, BadZipFile, PdfminerException …).
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Warning|ZipFile|Forbidden|Timeout|Failed)\b")


# --- builders ------------------------------------------------------------------------------------


def packet_docx(path: Path, company: str, category: str = "product") -> Path:
    return cp.template_packet(path, category, cp.packet_values(category, company))


def encrypt_doc(path: Path) -> Path:
    """Set the fEncrypted flag of a Word 97 file's FIB (what Word's RC4 password protection sets)."""
    import olefile

    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("WordDocument").read())
        flags = struct.unpack_from("<H", stream, 0x0A)[0] | 0x0100
        struct.pack_into("<H", stream, 0x0A, flags)
        ole.write_stream("WordDocument", bytes(stream))
    return path


def encrypt_xls(path: Path) -> Path:
    """Turn the record after an Excel 97 workbook's BOF into a FILEPASS (RC4), as a password-protected file has."""
    import olefile

    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        bof_size = struct.unpack_from("<H", stream, 2)[0]
        at = 4 + bof_size
        struct.pack_into("<H", stream, at, 0x002F)
        struct.pack_into("<H", stream, at + 4, 0x0001)
        ole.write_stream("Workbook", bytes(stream))
    return path


def renamed_main_part(src: Path, path: Path) -> Path:
    """A .docx whose main part is word/main.xml, as its officeDocument relationship says."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            name = info.filename
            if name == "word/document.xml":
                name = "word/main.xml"
            elif name == "word/_rels/document.xml.rels":
                name = "word/_rels/main.xml.rels"
            elif name in ("_rels/.rels", "[Content_Types].xml"):
                data = data.replace(b"word/document.xml", b"word/main.xml")
            zout.writestr(name, data)
    return path


def with_xml(src: Path, path: Path, part: str, change) -> Path:
    """A copy of a zip package with one part's bytes changed by `change`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(data) if info.filename == part else data)
    return path


def odp(path: Path) -> Path:
    """An OpenDocument presentation: a format manyi does not read."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.presentation")
        zf.writestr("content.xml", "<office:document-content/>")
    return path


def convert_all(jobs: list[tuple[Path, str, Path]], scratch: Path) -> None:
    """Make each (source, target, destination) with one LibreOffice start per target, all at once."""
    by_target: dict[str, list[tuple[Path, Path]]] = {}
    for src, target, dest in jobs:
        by_target.setdefault(target, []).append((src, dest))
    results: dict[str, dict] = {}

    def run(target, pairs):
        results[target] = office.convert([s for s, _ in pairs], target, scratch / f"out-{target}")

    threads = [threading.Thread(target=run, args=item) for item in by_target.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for target, pairs in by_target.items():
        for src, dest in pairs:
            made = results[target][src]
            assert isinstance(made, Path), f"LibreOffice could not make {dest.name}: {made}"
            shutil.copyfile(made, dest)


def build_inbox(root: Path) -> dict:
    """Write the inbox of every case under root/inbox; return entry → what its record must show."""
    box, scratch = root / "inbox", root / "scratch"
    box.mkdir(parents=True)
    scratch.mkdir()
    doc = packet_docx(scratch / "packet.docx", "哈尔滨光明电器有限公司")
    register = cp.respondents_xlsx(scratch / "register.xlsx", cp.respondents(60))
    for name in ("ODT公司", "WPS公司", "RTF公司", "OTT公司"):
        (box / name).mkdir()
    convert_all([
        (doc, "odt", box / "ODT公司" / "申报材料.odt"),
        (doc, "odt", box / "OTT公司" / "申报材料.ott"),
        (doc, "doc", box / "WPS公司" / "申报材料.wps"),
        (doc, "rtf", box / "RTF公司" / "申报材料.rtf"),
        (doc, "doc", scratch / "加密.doc"),
        (register, "ods", box / "被访者名单.ods"),
        (register, "xls", box / "被访者名单.et"),
        (register, "xls", scratch / "加密.xls"),
    ], scratch)
    shutil.copyfile(encrypt_doc(scratch / "加密.doc"), box / "加密.doc")
    shutil.copyfile(encrypt_xls(scratch / "加密.xls"), box / "加密.xls")
    data = doc.read_bytes()
    b.rar4(box / "光明.rar", {"光明公司/申报材料.docx": data, "光明公司/营业执照.png": b.png(scratch / "l.png").read_bytes()},
           gbk=True)
    b.seven_zip(box / "光明.7z", {"申报材料/申报材料.docx": data})
    batch = {f"批次/{name}/申报材料.docx": packet_docx(scratch / f"{name}.docx", name).read_bytes() for name in FIVE}
    b.plain_zip(box / "推进单位批次.zip", batch)
    (box / "扫描件").mkdir()
    b.png(box / "扫描件" / "申请表.png")
    b.png(box / "扫描件" / "承诺书.jpg")
    b.image_only_pdf(box / "扫描申请表.pdf")
    (box / "空文件夹").mkdir()
    (box / "链接").symlink_to(box / "ODT公司", target_is_directory=True)
    b.text_pdf(box / "禁止复制.pdf", ["Copy protected"], user_password=b"")
    b.text_pdf(box / "尾部填充.pdf", ["Padded"], padding=4096)
    b.bad_colour_space_pdf(box / "颜色空间.pdf")
    b.minimal_pdf(box / "密码.pdf", encrypted=True)
    renamed_main_part(doc, box / "主文档.docx")
    with_xml(register, box / "无宏.xlsm", "[Content_Types].xml",
             lambda x: x.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                 b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"))
    with_xml(register, box / "空样式.xlsx", "xl/worksheets/sheet1.xml", lambda x: x.replace(b'<c r="A1"', b'<c r="A1" s=""'))
    odp(box / "演示.odp")
    return {"five": FIVE}


@pytest.fixture(scope="session")
def received(tmp_path_factory):
    """The inbox of every case parsed once: (records by source, the run's summary line)."""
    from conftest import _once

    from pipeline.parse import parse_inbox

    def make(root: Path):
        build_inbox(root)
        result = parse_inbox([root / "inbox"], root / "out", HLJ, jobs=2)
        return result.records, result.line()

    _, (records, line) = _once(tmp_path_factory, "received", make)
    return {r["source"]: r for r in records}, line


def codes(record: dict) -> list[str]:
    return [i["code"] for i in record["issues"]]


def unreadable(record: dict) -> list[str]:
    return [i["message"] for i in record["issues"] if i["code"] == "unreadable_file"]


# --- the inbox of every case ---------------------------------------------------------------------

#: Entries whose every file is valid: read, nothing refused.
READ = {
    "ODT公司": "申报材料.odt", "OTT公司": "申报材料.ott", "WPS公司": "申报材料.wps", "RTF公司": "申报材料.rtf",
    "光明.rar": "申报材料.docx", "光明.7z": "申报材料.docx", "主文档.docx": "主文档.docx",
}


@pytest.mark.parametrize("source", sorted(READ))
def test_packets_in_every_format_are_read_like_their_word_equivalent(received, source):
    record = received[0][source]
    assert unreadable(record) == [], record["issues"]
    assert record["company_name"] == "哈尔滨光明电器有限公司" and record["category"] == "product"
    assert {"cover", "application", "respondents", "commitment"} <= set(record["forms"])
    # the packet holds every form but the report (a document of its own, not sent here)
    assert [i["form"] for i in record["issues"] if i["code"] == "missing_form"] == ["report"]
    assert not any(a["file"].endswith((".png", ".jpeg", "thumbnail.png")) and "Thumbnails" in a["file"]
                   for a in record["attachments"])  # an .odt is not unpacked as an archive


def test_a_rar_with_gbk_names_keeps_them(received):
    record = received[0]["光明.rar"]
    assert [a["file"] for a in record["attachments"]] == ["光明公司/营业执照.png"]
    assert record["attachments"][0]["kind"] == "business_license"


@pytest.mark.parametrize("source", ["被访者名单.ods", "被访者名单.et", "无宏.xlsm", "空样式.xlsx"])
def test_workbooks_in_every_format_are_read(received, source):
    record = received[0][source]
    assert unreadable(record) == [], record["issues"]
    assert len(record["forms"]["respondents"]) == 60


def test_a_batch_of_five_companies_gives_five_records(received):
    records, line = received
    batch = {s: r for s, r in records.items() if s.startswith("推进单位批次.zip/")}
    assert sorted(batch) == sorted(f"推进单位批次.zip/批次/{name}/" for name in FIVE)
    assert sorted(r["company_name"] for r in batch.values()) == sorted(FIVE)
    assert all(r["batch"] == "推进单位批次.zip" and unreadable(r) == [] for r in batch.values())
    assert len({r["submission_id"] for r in batch.values()}) == 5
    assert "推进单位批次.zip" not in records  # the batch itself is no submission
    assert "“推进单位批次.zip”含 5 家企业的申报材料，已拆分为 5 份" in line


@pytest.mark.parametrize("source", ["扫描件", "扫描申请表.pdf"])
def test_scans_get_one_clear_issue_instead_of_missing_forms(received, source):
    record = received[0][source]
    assert codes(record) == ["scanned_forms"]
    message = record["issues"][0]["message"]
    assert "扫描件或照片" in message and "Word 电子版" in message


def test_an_empty_folder_and_a_symlink_each_get_a_record_saying_so(received):
    records = received[0]
    assert codes(records["空文件夹"]) == ["unreadable_file"] and "空文件夹" in unreadable(records["空文件夹"])[0]
    assert codes(records["链接"]) == ["unreadable_file"] and "符号链接" in unreadable(records["链接"])[0]


@pytest.mark.parametrize("source", ["禁止复制.pdf", "尾部填充.pdf", "颜色空间.pdf"])
def test_pdfs_every_reader_opens_are_read(received, source):
    record = received[0][source]
    assert unreadable(record) == [] and [a["file"] for a in record["attachments"]] == [source]


@pytest.mark.parametrize("source,reason", [
    ("密码.pdf", sniff.ENCRYPTED), ("加密.doc", sniff.ENCRYPTED), ("加密.xls", sniff.ENCRYPTED),
    ("演示.odp", "演示文稿"),
])
def test_files_that_cannot_be_read_are_refused_for_the_right_reason(received, source, reason):
    (message,) = unreadable(received[0][source])
    assert reason in message and "转换失败" not in message


def test_every_entry_has_a_record(received, tmp_path_factory):
    from conftest import _shared_root

    box = _shared_root(tmp_path_factory) / "shared-received" / "inbox"
    entries = {e.source for e in inbox.entries([box])}
    records = received[0]
    assert {r.get("batch") or s for s, r in records.items()} == entries


def test_no_reason_shown_to_staff_names_a_python_exception(received):
    messages = [m for r in received[0].values() for m in unreadable(r)]
    assert messages and not [m for m in messages if EXCEPTION_NAME.search(m)]


def test_the_exception_name_check_sees_one():
    for text in ("读取时出错（TypeError）", "PDF 无法读取（PdfminerException）", "（BadZipFile）", "KeyError: 'x'"):
        assert EXCEPTION_NAME.search(text), text
    assert not EXCEPTION_NAME.search("文件“DSZF-60A 型号.docx”无法读取：OpenDocument 演示文稿，PowerPoint 文件")


def test_an_empty_inbox_says_so_and_exits_non_zero(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(cli, ["parse", str(tmp_path / "inbox"), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0 and "没有任何申报材料" in result.output
    assert not (tmp_path / "out").exists()


# --- archives under the zip limits ---------------------------------------------------------------


def test_rar_and_7z_members_are_held_to_the_zip_limits(tmp_path):
    big = b"x" * 5000
    for path in (b.rar4(tmp_path / "a.rar", {"a.docx": big}), b.seven_zip(tmp_path / "a.7z", {"a.docx": big})):
        sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / f"w-{path.suffix}",
                                    dict(LIMITS, zip_member_size=1000))
        assert sub.files == [] and [p.reason for p in sub.problems] == ["文件过大"]
        sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / f"v-{path.suffix}",
                                    dict(LIMITS, zip_members=0))
        assert sub.files == [] and "过多" in sub.problems[0].reason


def test_a_rar_nested_too_deep_is_refused(tmp_path):
    inner = b.seven_zip(tmp_path / "l3.7z", {"x.docx": b.merged_table_docx(tmp_path / "x.docx").read_bytes()})
    mid = b.rar4(tmp_path / "l2.rar", {"l3.7z": inner.read_bytes()})
    outer = b.plain_zip(tmp_path / "l1.zip", {"l2.rar": mid.read_bytes()})
    sub = inbox.open_submission(inbox.entries([outer])[0], tmp_path / "w", dict(LIMITS, zip_depth=2))
    assert sub.files == [] and sub.problems[0].file == "l2.rar/l3.7z"
    assert sub.problems[0].reason.startswith("压缩包嵌套层数过多")
    sub = inbox.open_submission(inbox.entries([outer])[0], tmp_path / "v")
    assert [f.name for f in sub.files] == ["l2.rar/l3.7z/x.docx"] and sub.files[0].kind == "docx"


def test_a_damaged_rar_says_so(tmp_path):
    path = b.rar4(tmp_path / "a.rar", {"a.docx": b"x" * 100})
    path.write_bytes(path.read_bytes()[:30])
    sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / "w")
    assert sub.files == [] and sub.problems[0].reason.startswith(sniff.BROKEN)


# --- sniffing ------------------------------------------------------------------------------------


def test_opendocument_is_sniffed_by_its_mimetype_member(tmp_path):
    def odf(name, mimetype):
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            zf.writestr("mimetype", mimetype)
            zf.writestr("content.xml", "<x/>")
            zf.writestr("Thumbnails/thumbnail.png", b"\x89PNG")
        return tmp_path / name

    assert sniff.sniff(odf("a.zip", "application/vnd.oasis.opendocument.text")) == sniff.Sniffed("odt")
    assert sniff.sniff(odf("b.ods", "application/vnd.oasis.opendocument.spreadsheet")) == sniff.Sniffed("ods")
    assert sniff.sniff(odf("c.ott", "application/vnd.oasis.opendocument.text-template")) == sniff.Sniffed("odt")
    assert sniff.sniff(odf("d.odp", "application/vnd.oasis.opendocument.presentation")).kind == "unknown"


def test_xlsb_is_a_workbook_to_convert_not_a_macro_file(tmp_path):
    types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/'
             'workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>')
    rels = b.ROOT_RELS.replace("word/document.xml", "xl/workbook.bin")
    path = b.plain_zip(tmp_path / "a.xlsb", {"[Content_Types].xml": types.encode(), "_rels/.rels": rels.encode(),
                                             "xl/workbook.bin": b"\x83\x01\x00"})
    assert sniff.sniff(path) == sniff.Sniffed("xlsb")
    with_vba = b.plain_zip(tmp_path / "m.xlsb", {"[Content_Types].xml": types.encode(), "_rels/.rels": rels.encode(),
                                                 "xl/workbook.bin": b"\x83", "xl/vbaProject.bin": b"\x00"})
    assert sniff.sniff(with_vba) == sniff.Sniffed("xlsb", sniff.MACROS)


def test_the_main_part_comes_from_the_officedocument_relationship(tmp_path):
    src = b.merged_table_docx(tmp_path / "src.docx")
    path = renamed_main_part(src, tmp_path / "a.bin")
    assert sniff.sniff(path) == sniff.Sniffed("docx")


def test_only_a_password_that_is_needed_makes_a_pdf_encrypted(tmp_path):
    assert sniff.sniff(b.text_pdf(tmp_path / "a.pdf", ["x"], user_password=b"")) == sniff.Sniffed("pdf")
    assert sniff.sniff(b.text_pdf(tmp_path / "b.pdf", ["x"], user_password=b"pw")) == sniff.Sniffed("pdf", sniff.ENCRYPTED)
    assert sniff.sniff(b.text_pdf(tmp_path / "c.pdf", ["x"], padding=5000)) == sniff.Sniffed("pdf")


def test_a_long_pdf_without_forms_is_read_as_text_only(tmp_path, monkeypatch):
    import pdfplumber.page

    from pipeline.reading.readers.pdf import pdf_blocks

    path = b.text_pdf(tmp_path / "a.pdf", ["Survey report", "CSI 86.5"])
    calls = []
    real = pdfplumber.page.Page.find_tables
    monkeypatch.setattr(pdfplumber.page.Page, "find_tables", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    assert [bl.text for bl in pdf_blocks(str(path), 300)] == ["Survey report", "CSI 86.5"]
    assert calls == []  # no table search on a PDF that titles no form


def test_pdfminer_failing_falls_back_to_pdfium(tmp_path):
    import pdfplumber

    from pipeline.reading.readers.pdf import pdf_blocks

    path = b.bad_colour_space_pdf(tmp_path / "a.pdf", "Hello colour")
    with pytest.raises(Exception):
        with pdfplumber.open(path) as pdf:
            pdf.pages[0].extract_text()
    assert [bl.text for bl in pdf_blocks(str(path), 300)] == ["Hello colour"]


def test_no_reason_in_the_fixture_corpus_names_a_python_exception(parsed_corpus):
    _, records, _ = parsed_corpus
    messages = [m for r in records.values() for m in unreadable(r)]
    assert messages and not [m for m in messages if EXCEPTION_NAME.search(m)]


def test_an_empty_archive_says_so(tmp_path):
    from pipeline.parse import parse_inbox

    box = tmp_path / "inbox"
    box.mkdir()
    with zipfile.ZipFile(box / "空.zip", "w"):
        pass
    b.rar4(box / "空.rar", {})
    records = {r["source"]: r for r in parse_inbox([box], tmp_path / "out", HLJ, jobs=1).records}
    for source in ("空.zip", "空.rar"):
        assert codes(records[source]) == ["unreadable_file"] and "空压缩包" in unreadable(records[source])[0]


def test_a_path_given_by_hand_is_followed_even_when_it_is_a_link(tmp_path):
    target = b.minimal_pdf(tmp_path / "承诺书.pdf")
    (tmp_path / "链接.pdf").symlink_to(target)
    (entry,) = inbox.entries([tmp_path / "链接.pdf"])
    assert inbox.entry_problem(entry) is None and entry.path == target


def test_a_packet_split_over_files_with_names_spelt_two_ways_stays_one_submission(tmp_path):
    from pipeline.parse import parse_inbox

    box = tmp_path / "inbox" / "光明公司"
    box.mkdir(parents=True)
    values = cp.packet_values("product", "哈尔滨光明电器有限公司")
    cp.seed_packet(box / "申请表.docx", "product", values, only=("cover", "application"))
    values["commitment"]["company_name"] = "哈尔滨光明电器公司"  # spelt otherwise in the 承诺书
    cp.seed_packet(box / "承诺书.docx", "product", values, only=("commitment",))
    (record,) = parse_inbox([tmp_path / "inbox"], tmp_path / "out", HLJ, jobs=1).records
    assert record["source"] == "光明公司" and "batch" not in record
    assert {"cover", "application", "commitment"} <= set(record["forms"])
