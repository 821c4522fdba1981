"""sniff: the kind comes from the bytes, and every refusal has its Chinese reason."""

from __future__ import annotations

import zipfile

import build_inputs as b
import pytest

from pipeline.common import sniff as s
from pipeline.common.safety import LIMITS


def test_docx_saved_as_doc_is_docx(tmp_path):
    path = b.merged_table_docx(tmp_path / "申请表.doc")
    assert s.sniff(path) == s.Sniffed("docx", None)


def test_xlsx_named_anything_is_xlsx(tmp_path):
    path = b.form_xlsx(tmp_path / "表.xlsx")
    renamed = path.rename(tmp_path / "表.xls")
    assert s.sniff(renamed) == s.Sniffed("xlsx", None)


def test_html_saved_as_xlsx_is_refused_as_html(tmp_path):
    found = s.sniff(b.html_as_xlsx(tmp_path / "汇总.xlsx"))
    assert found == s.Sniffed("html", s.HTML_AS_EXCEL)


def test_html_with_other_name_is_unsupported(tmp_path):
    found = s.sniff(b.html_as_xlsx(tmp_path / "page.htm"))
    assert found.kind == "html" and found.problem.startswith(s.UNSUPPORTED)


def test_empty_file(tmp_path):
    (tmp_path / "a.docx").write_bytes(b"")
    assert s.sniff(tmp_path / "a.docx").problem == s.EMPTY


def test_truncated_docx_is_broken(tmp_path):
    data = b.merged_table_docx(tmp_path / "a.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(data[: len(data) // 2])
    assert s.sniff(tmp_path / "cut.docx") == s.Sniffed("docx", s.BROKEN)


def test_truncated_pdf_is_broken(tmp_path):
    data = b.minimal_pdf(tmp_path / "a.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[:-40])
    assert s.sniff(tmp_path / "cut.pdf") == s.Sniffed("pdf", s.BROKEN)
    assert s.sniff(tmp_path / "a.pdf") == s.Sniffed("pdf", None)


def test_encrypted_pdf(tmp_path):
    assert s.sniff(b.minimal_pdf(tmp_path / "a.pdf", encrypted=True)) == s.Sniffed("pdf", s.ENCRYPTED)


def test_encrypted_ooxml_is_ole_with_encryption_info(tmp_path):
    found = s.sniff(b.fake_encrypted_ole(tmp_path / "加密.docx"))
    assert found.problem == s.ENCRYPTED and found.kind == "docx"
    assert s.sniff(b.fake_encrypted_ole(tmp_path / "加密.xlsx")).kind == "xlsx"


def test_ole_stream_names_found_only_at_directory_offsets():
    name = "WordDocument".encode("utf-16-le") + b"\x00\x00"
    misaligned = b"\x00" * 515 + name + b"\x00" * 600
    aligned = b"\x00" * 640 + name + b"\x00" * 600
    assert s.ole_streams(misaligned) == set()
    assert s.ole_streams(aligned) == {"WordDocument"}


def test_macro_docm_refused(tmp_path):
    assert s.sniff(b.docm(tmp_path / "宏.docx")) == s.Sniffed("docx", s.MACROS)


def test_macro_content_type_without_a_vba_project_is_no_macro_document(tmp_path):
    # Word and Excel keep the macroEnabled content type of a .docm/.xlsm whose macros were removed.
    path = b.docx_from_body(tmp_path / "a.docm", b.p("x"), main_ct=b.DOCM_CT)
    assert s.sniff(path) == s.Sniffed("docx", None)


def test_plain_zip_and_image_and_text(tmp_path):
    assert s.sniff(b.plain_zip(tmp_path / "a.zip", {"x.txt": b"1"})) == s.Sniffed("zip", None)
    assert s.sniff(b.png(tmp_path / "执照.jpg")) == s.Sniffed("image", None)
    (tmp_path / "说明.doc").write_text("这是纯文本，不是 Word 文件", encoding="gbk")
    found = s.sniff(tmp_path / "说明.doc")
    assert found.kind == "text" and found.problem.startswith(s.UNSUPPORTED)


def test_random_bytes_unknown(tmp_path):
    (tmp_path / "x.doc").write_bytes(bytes(range(256)) * 8)
    assert s.sniff(tmp_path / "x.doc") == s.Sniffed("unknown", s.UNKNOWN)


def test_rtf_counts_as_doc(tmp_path):
    (tmp_path / "a.doc").write_bytes(b"{\\rtf1\\ansi hello}")
    assert s.sniff(tmp_path / "a.doc") == s.Sniffed("doc", None)


def test_too_big(tmp_path):
    path = b.merged_table_docx(tmp_path / "a.docx")
    limits = dict(LIMITS, file_size=100)
    assert s.sniff(path, limits).problem == s.TOO_BIG


def test_ooxml_declared_bomb_refused(tmp_path):
    path = tmp_path / "bomb.docx"
    b.docx_from_body(path, b.p("x"))
    info = zipfile.ZipInfo("word/media/zeros.bin")
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "a") as zf:
        with zf.open(info, "w", force_zip64=True) as out:
            for _ in range(20):
                out.write(b"\x00" * (1 << 20))
    found = s.sniff(path)
    assert found.kind == "docx" and found.problem.startswith("压缩炸弹")


@pytest.mark.parametrize("name", ["a.pptx"])
def test_other_ooxml_unsupported(tmp_path, name):
    path = b.plain_zip(tmp_path / name, {"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"})
    found = s.sniff(path)
    assert found.kind == "unknown" and found.problem.startswith(s.UNSUPPORTED)
