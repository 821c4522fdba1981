"""What a file really is, from its bytes, and whether it must be refused.

Applicants rename files freely (a .doc that is docx, an .xls that is a web page), so the
name only ever serves to phrase a refusal; the kind always comes from the bytes.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.safety import LIMITS, check_declared, parse_xml

KINDS = ("docx", "xlsx", "doc", "xls", "odt", "ods", "xlsb", "pdf", "zip", "rar", "7z", "image", "html", "text",
         "unknown")

#: Each reason says what is wrong and what the applicant should send instead (it goes into the 补正通知).
SEND_AGAIN = "请另存为 Word（.docx）、Excel（.xlsx）或 PDF 后重新发送"
EMPTY = "空文件（0 字节），请重新发送"
BROKEN = "文件已损坏或不完整，请重新保存（或重新导出）后发送"
ENCRYPTED = "文件已加密/设有密码，请取消密码后重新发送"
MACROS = "含宏的文档，出于安全不予读取；请另存为不含宏的 .docx / .xlsx 后发送"
TOO_BIG = "文件过大，请压缩图片或分成几个文件发送"
HTML_AS_EXCEL = "HTML 伪装成 Excel（网页文件改了扩展名），请在 Excel 中另存为 .xlsx 后发送"
UNSUPPORTED = "不支持的文件类型"
UNKNOWN = UNSUPPORTED + "（无法识别的格式），" + SEND_AGAIN


@dataclass(frozen=True)
class Sniffed:
    """A file's real kind (one of KINDS) and, when it must be refused, the Chinese reason."""

    kind: str
    problem: str | None = None


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: RAR 4 and RAR 5 start with 'Rar!\x1a\x07', 7-Zip with its own six bytes.
_ARCHIVES = {b"Rar!\x1a\x07": "rar", b"7z\xbc\xaf\x27\x1c": "7z"}
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", 0), (b"\xff\xd8\xff", 0), (b"GIF87a", 0), (b"GIF89a", 0), (b"BM", 0),
    (b"II*\x00", 0), (b"MM\x00*", 0), (b"WEBP", 8), (b"ftypheic", 4), (b"ftypheix", 4), (b"ftypmif1", 4),
)
_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<table|<meta|<\?xml[^>]*>\s*<html)", re.I)
_MHT = re.compile(rb"^\s*(mime-version:|content-type:\s*multipart/related)", re.I)
_SPREADSHEET_ML = b"urn:schemas-microsoft-com:office:spreadsheet"


def sniff(path: Path, limits: dict = LIMITS) -> Sniffed:
    """Given a file, return its real kind and the reason to refuse it, if any."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        return Sniffed("unknown", "无法读取文件")
    if size == 0:
        return Sniffed("unknown", EMPTY)
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if size > limits["file_size"]:
        return Sniffed(_kind_of_head(head), TOO_BIG)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return sniff_zip(path, limits)
    if head.startswith(_OLE):
        return sniff_ole(path)
    if b"%PDF-" in head[:1024]:
        return sniff_pdf(path, size)
    if head[:6] in _ARCHIVES:
        return Sniffed(_ARCHIVES[head[:6]])
    if head.startswith(b"{\\rtf"):
        # Word saves RTF under .doc; LibreOffice converts it like a .doc.
        return Sniffed("doc")
    for magic, offset in _IMAGES:
        if head[offset:offset + len(magic)] == magic:
            return Sniffed("image")
    return sniff_markup_or_text(path, head)


def _kind_of_head(head: bytes) -> str:
    if head.startswith(b"PK"):
        return "zip"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return "unknown"


def sniff_zip(path: Path, limits: dict = LIMITS) -> Sniffed:
    """Given a zip container, return docx / xlsx / xlsb (Office Open XML), odt / ods (OpenDocument) or zip,
    refusing the unsafe."""
    guess = {".docx": "docx", ".docm": "docx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xlsb": "xlsb",
             ".odt": "odt", ".ott": "odt", ".ods": "ods", ".ots": "ods"}.get(path.suffix.lower(), "zip")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {info.filename for info in infos}
            if "mimetype" in names:
                return sniff_opendocument(zf, infos, limits)
            kind = ooxml_kind(names, _main_part(zf, names))
            if kind is None:
                if "[Content_Types].xml" in names:
                    return Sniffed("unknown", UNSUPPORTED + "（PowerPoint 等其他 Office 文件），" + SEND_AGAIN)
                return Sniffed("zip")
            bomb = check_declared(infos, limits)
            if bomb:
                return Sniffed(kind, bomb)
            # Only a VBA project makes a macro document; a macroEnabled content type alone runs nothing
            # (an .xlsm saved without macros, every .xlsb).
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                return Sniffed(kind, MACROS)
            return Sniffed(kind)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError):
        return Sniffed(guess, BROKEN)


def _main_part(zf: zipfile.ZipFile, names: set[str]) -> str | None:
    """Given an open OOXML package, return the name of the part its officeDocument relationship names."""
    if "_rels/.rels" not in names or zf.getinfo("_rels/.rels").file_size > (1 << 20):
        return None
    try:
        rels = parse_xml(zf.read("_rels/.rels"))
    except ValueError:
        return None
    for rel in rels:
        if str(rel.get("Type", "")).endswith("/officeDocument"):
            return posixpath.normpath(str(rel.get("Target", "")).lstrip("/"))
    return None


def ooxml_kind(names: set[str], main: str | None = None) -> str | None:
    """Given the member names of a zip (and its main part, per _rels/.rels), return 'docx', 'xlsx' or
    'xlsb' when it is such a package."""
    if main and main in names:
        if main.startswith("word/") or main.endswith("document.xml"):
            return "docx"
        if main.endswith(".bin") and "workbook" in main:
            return "xlsb"
        if main.startswith("xl/") or "workbook" in main:
            return "xlsx"
    if "word/document.xml" in names or any(n.startswith("word/document") and n.endswith(".xml") for n in names):
        return "docx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "xl/workbook.xml" in names or any(n.startswith("xl/workbook") for n in names):
        return "xlsx"
    return None


#: OpenDocument mimetypes (the package's first member) → the kind read like its Word/Excel equivalent.
_OPENDOCUMENT = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ods",
}


def sniff_opendocument(zf: zipfile.ZipFile, infos: list, limits: dict = LIMITS) -> Sniffed:
    """Given an open zip holding a `mimetype` member, return odt / ods, refusing other or unsafe ones."""
    info = zf.getinfo("mimetype")
    mimetype = zf.read(info).decode("ascii", errors="replace").strip() if info.file_size < 256 else ""
    kind = _OPENDOCUMENT.get(mimetype)
    if kind is None:
        if mimetype.startswith("application/vnd.oasis.opendocument."):
            return Sniffed("unknown", UNSUPPORTED + "（演示文稿等其他 OpenDocument 文件），" + SEND_AGAIN)
        return Sniffed("zip")
    bomb = check_declared(infos, limits)
    if bomb:
        return Sniffed(kind, bomb)
    names = {i.filename for i in infos}
    manifest = "META-INF/manifest.xml"
    if manifest in names and zf.getinfo(manifest).file_size < (1 << 20) and b"encryption-data" in zf.read(manifest):
        return Sniffed(kind, ENCRYPTED)
    if any(n.lower().startswith(("basic/", "scripts/")) for n in names):
        return Sniffed(kind, MACROS)
    return Sniffed(kind)


def _utf16_name(name: str) -> re.Pattern:
    return re.compile(re.escape(name.encode("utf-16-le")) + b"\x00\x00", re.I)


_OLE_STREAMS = {name: _utf16_name(name) for name in
                ("EncryptionInfo", "EncryptedPackage", "WordDocument", "Workbook", "Book")}


def ole_streams(data: bytes) -> set[str]:
    """Given the bytes of an OLE compound file, return the names of the known streams it holds.

    Directory entries are 128 bytes and start on 128-byte boundaries, with the UTF-16 name
    first; matching names only at such offsets avoids reading the FAT chain.
    """
    found = set()
    for name, pattern in _OLE_STREAMS.items():
        for match in pattern.finditer(data, 512):
            if match.start() % 128 == 0:
                found.add(name)
                break
    return found


def sniff_ole(path: Path) -> Sniffed:
    """Given an OLE compound file, return doc / xls, refusing encrypted Office documents (old and new).

    WPS Office saves .wps and .et in the Word 97 and Excel 97 formats, so they come out as doc / xls.
    """
    data = path.read_bytes()
    if len(data) < 1024:
        return Sniffed("unknown", BROKEN)
    streams = ole_streams(data)
    if "EncryptionInfo" in streams or "EncryptedPackage" in streams:
        kind = {".xlsx": "xlsx", ".xls": "xls", ".doc": "doc"}.get(path.suffix.lower(), "docx")
        return Sniffed(kind, ENCRYPTED)
    if "WordDocument" in streams:
        kind = "doc"
    elif "Workbook" in streams or "Book" in streams:
        kind = "xls"
    else:
        return Sniffed("unknown", UNKNOWN)
    if legacy_encrypted(path):
        return Sniffed(kind, ENCRYPTED)
    return Sniffed(kind, MACROS if _has_ole_macros(data) else None)


def legacy_encrypted(path: Path) -> bool:
    """Given a Word 97 / Excel 97 file, return whether it is encrypted (RC4, CryptoAPI or XOR), per msoffcrypto."""
    try:
        import msoffcrypto

        with open(path, "rb") as handle:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # noqa: BLE001 - a file msoffcrypto cannot parse is judged by LibreOffice later
        return False


_VBA = (_utf16_name("_VBA_PROJECT_CUR"), _utf16_name("Macros"), _utf16_name("_VBA_PROJECT"))


def _has_ole_macros(data: bytes) -> bool:
    return any(m.start() % 128 == 0 for pattern in _VBA for m in pattern.finditer(data, 512))


def sniff_pdf(path: Path, size: int) -> Sniffed:
    """Given a PDF, return 'pdf', refusing a truncated one and one that needs a password to open.

    Readers look for the end marker anywhere near the end (scanners and mailers pad files with
    zeros), so the last megabyte is searched, not the last line. A PDF encrypted with an empty
    user password (only copying or printing restricted) opens in every reader, and here too.
    """
    window = 1 << 20
    with open(path, "rb") as handle:
        head = handle.read(window)
        handle.seek(max(0, size - window))
        tail = handle.read()
    if b"%%EOF" not in tail:
        return Sniffed("pdf", BROKEN)
    # The /Encrypt entry sits in the trailer (end) or, for linearised files, near the start.
    if re.search(rb"/Encrypt\s*(\d+\s+\d+\s+R|<<)", tail) or re.search(rb"/Encrypt\s*(\d+\s+\d+\s+R|<<)", head):
        if needs_password(path):
            return Sniffed("pdf", ENCRYPTED)
    return Sniffed("pdf")


def needs_password(path: Path) -> bool:
    """Given an encrypted PDF, return whether it needs a password to open (pdfium says so)."""
    try:
        import pypdfium2
    except ImportError:  # pragma: no cover - a dependency of pdfplumber
        return True
    try:
        pypdfium2.PdfDocument(str(path)).close()
    except pypdfium2.PdfiumError as exc:
        return getattr(exc, "err_code", None) == 4  # FPDF_ERR_PASSWORD; other failures are the reader's to report
    return False


def sniff_markup_or_text(path: Path, head: bytes) -> Sniffed:
    """Given a file that is no known binary format, return html, text or unknown (all refused)."""
    body = head.lstrip(b"\xef\xbb\xbf")
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            body = body[2:].decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            pass
    excel_name = path.suffix.lower() in (".xls", ".xlsx", ".xlsm", ".et")
    if _HTML.match(body) or _MHT.match(body) or _SPREADSHEET_ML in body[:4096]:
        if excel_name:
            return Sniffed("html", HTML_AS_EXCEL)
        return Sniffed("html", UNSUPPORTED + "（网页文件），" + SEND_AGAIN)
    if _looks_like_text(body):
        return Sniffed("text", UNSUPPORTED + "（纯文本），" + SEND_AGAIN)
    return Sniffed("unknown", UNKNOWN)


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(data) - 4:  # a character cut by the 8 KiB window
                return True
    return False
