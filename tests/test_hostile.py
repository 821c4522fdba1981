"""The attack inbox: every hostile file at once, plus one good submission, through `manyi parse`.

One session fixture builds the inbox and runs `python -m pipeline parse` over it in a child
process (the bounds lowered so bombs trip in seconds), measuring the child's peak memory with
wait4. The tests then read what it left: one record per entry with a Chinese reason for each
refused file, the good packet parsed, nothing written outside --out, no formula in summary.xlsx.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
import zipfile
import zlib
from pathlib import Path

import build_inputs as b
import pytest
from corpus import packet_values, png, report_docx, survey_report_docx, template_packet
from openpyxl import load_workbook

from pipeline.common import outputs, sniff
from pipeline.common.safety import LIMITS
from pipeline.receiving import inbox as inbox_mod
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the seed's campaign: 黑龙江 2017

REPO = Path(__file__).resolve().parents[1]
TOKEN = uuid.uuid4().hex[:12]  # in every name an escaping archive member would write
GOOD = "good"
GOOD_COMPANY = "哈尔滨光明电器有限公司"
INJECTED = '=HYPERLINK("http://evil.example/","点我")'
#: The bounds the child runs under: low enough that the bombs below trip in a few seconds.
FAST_LIMITS = {"pdf_seconds": 2.0, "docx_memory": 256 * 1024 * 1024}
GIB = 1024 * 1024 * 1024
WRAPPER = (
    "import runpy, sys, json\n"
    "from pipeline.common import safety\n"
    "safety.LIMITS.update(json.loads(sys.argv[1]))\n"
    "sys.argv = ['manyi', *sys.argv[2:]]\n"
    "runpy.run_module('pipeline', run_name='__main__', alter_sys=True)\n"
)
# Linux hands a child the peak RSS of the process it was forked from (the pytest worker, hundreds of MB late in
# a full run), so the run is started by this small launcher and measured from it: its child and every descendant
# that child waited for. argv: the file to write the peak RSS (KiB) into, then the command.
LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "child.returncode = 0\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


# --- builders ------------------------------------------------------------------------------------


#: A Chinese font every PDF reader knows by name (Adobe-GB1, UCS-2 codes), so a test PDF can print a form's title.
SONG = (b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts "
        b"[<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> >>] >>")


def pdf_with_content(path: Path, content: bytes, pages: int = 1) -> Path:
    """A PDF whose every page draws the (deflated) content stream `content` (font /F1: SONG)."""
    stream = zlib.compress(content, 9)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(pages))
               + b"] /Count %d >>" % pages, SONG]
    for i in range(pages):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources << /Font << /F1 3 0 R >> >> "
                       b"/Contents %d 0 R >>" % (5 + 2 * i))
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return b.pdf_file(path, objects)


def pdf_text(words: str) -> bytes:
    """Given Chinese words, return content-stream operators that print them at the top of the page in SONG."""
    return b"BT /F1 12 Tf 40 780 Td <" + words.encode("utf-16-be").hex().upper().encode() + b"> Tj ET\n"


def slow_pdf(path: Path) -> Path:
    """31 KB that keep pdfplumber's table finder busy for about ten seconds (13,000 small rectangles) on a
    page titled as a form: only such pages are searched for tables."""
    ops = b"".join(b"%d %d 5 5 re S\n" % (i % 100 * 6, i // 100 % 130 * 6) for i in range(13_000))
    return pdf_with_content(path, pdf_text("实施全省用户满意工程先进单位推荐意见表") + ops)


def many_pages_pdf(path: Path) -> Path:
    return pdf_with_content(path, b"0 0 m 1 1 l S\n", pages=LIMITS["pdf_pages"] + 1)


def ooxml_with(source: Path, path: Path, replace: dict[str, bytes] | None = None, zeros: str | None = None) -> Path:
    """Copy an OOXML package, replacing parts and optionally adding a 20 MB member of zeros (ratio bomb)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, (replace or {}).get(info.filename, src.read(info)))
        if zeros:
            info = zipfile.ZipInfo(zeros)
            info.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(info, "w", force_zip64=True) as out:
                for _ in range(20):
                    out.write(b"\x00" * (1 << 20))
    return path


LOL = '<!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">' + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>"


def billion_laughs_xlsx(path: Path, scratch: Path) -> Path:
    """An .xlsx whose workbook part opens with the billion-laughs entity declarations."""
    source = b.form_xlsx(scratch / "lol-src.xlsx")
    with zipfile.ZipFile(source) as zf:
        workbook = zf.read("xl/workbook.xml")
    head, _, rest = workbook.partition(b"?>")
    return ooxml_with(source, path, replace={"xl/workbook.xml": head + b"?>" + LOL.encode() + rest})


def late_doctype_docx(path: Path, secret: Path) -> Path:
    """An XXE whose DOCTYPE sits after 6 KB of comment, past any quick look at the head."""
    prolog = "<!--" + "x" * 6000 + "-->" + f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    return b.docx_from_body(path, b.p("企业名称") + b.p("&xxe;"), prolog=prolog)


def memory_docx(path: Path, megabytes: int = 30) -> Path:
    """A docx inside every size and ratio limit whose body is ~`megabytes` MB of short paragraphs."""
    rnd = random.Random(5)
    unique = "".join(b.p("".join(rnd.choice(string.ascii_letters) for _ in range(8))) for _ in range(5000))
    return b.docx_from_body(path, unique * (megabytes * 1024 * 1024 // len(unique)))


def paths_zip(path: Path, doc: bytes) -> Path:
    """Every path trick: '..', absolute, drive letter, backslashes, a symlink, and a nested zip doing it again."""
    nested = b.plain_zip(path.with_name("nested.zip"), {f"../../../nested-{TOKEN}.docx": doc})
    b.plain_zip(path, {f"../../escape-{TOKEN}.docx": doc, f"/tmp/abs-{TOKEN}.docx": doc,
                       f"C:\\Windows\\drive-{TOKEN}.docx": doc, f"..\\..\\back-{TOKEN}.docx": doc,
                       "inner.zip": nested.read_bytes()})
    nested.unlink()
    with zipfile.ZipFile(path, "a") as zf:
        link = zipfile.ZipInfo(f"link-{TOKEN}.docx")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    return path


def rtf_with_links(path: Path, secret: Path, url: str) -> Path:
    """Word-readable RTF (converted by LibreOffice) whose fields would pull in a local file and a URL."""
    path.write_text(
        "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Arial;}}\\pard Company "
        f'{{\\field{{\\*\\fldinst {{INCLUDETEXT "{secret}"}}}}{{\\fldrslt {{PLACEHOLDER}}}}}}\\par '
        f'{{\\field{{\\*\\fldinst {{INCLUDEPICTURE "{url}/x.png" \\\\d}}}}{{\\fldrslt {{PICTURE}}}}}}\\par '
        f'{{\\field{{\\*\\fldinst {{INCLUDETEXT "{url}/y.txt"}}}}{{\\fldrslt {{REMOTE}}}}}}\\par}}',
        encoding="ascii")
    return path


class Listener:
    """A TCP listener on 127.0.0.1 that counts every connection made to it, until closed."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.hits: list[bytes] = []
        self.open = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.open:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.hits.append(conn.recv(200) or b"(connected)")
                except OSError:
                    self.hits.append(b"(connected)")

    def close(self) -> list[bytes]:
        """Stop listening; return what each connection sent (its first bytes)."""
        self.open = False
        self.thread.join(5)
        self.sock.close()
        return self.hits


def good_submission(folder: Path, company: str = GOOD_COMPANY) -> Path:
    """A clean product packet from the project's templates, with its report, survey report and images."""
    folder.mkdir(parents=True)
    values = packet_values("product", company=company)
    template_packet(folder / "申报材料.docx", "product", values)
    report_docx(folder / "实施用户满意工程情况的报告.docx", company)
    survey_report_docx(folder / "用户满意度测评报告.docx")
    png(folder / "营业执照.png")
    png(folder / "商标注册证.png")
    return folder


#: Entry name → a fragment every record of that entry must show in an unreadable_file message.
EXPECTED_REASONS = {
    "bomb.zip": "压缩炸弹",
    "lying.zip": "small.pdf",
    "many.zip": "过多",
    "bomb.docx": "压缩炸弹",
    "bomb.xlsx": "压缩炸弹",
    "memory.docx": "在限定的时间和内存内无法读完",  # the same words whichever budget ran out first
    "slow.pdf": "PDF 解析超时",
    "pages.pdf": "PDF 页数过多",
    "xxe.docx": "实体",
    "late-doctype.docx": "实体",
    "lol.docx": "实体",
    "xxe.xlsx": "Excel 文件无法读取",
    "lol.xlsx": "Excel 文件无法读取",
    "加密.docx": sniff.ENCRYPTED,
    "加密.pdf": sniff.ENCRYPTED,
    "宏.docm": sniff.MACROS,
    "网页.xls": sniff.HTML_AS_EXCEL,
    "空.docx": sniff.EMPTY,
    "截断.docx": sniff.BROKEN,
    "截断.pdf": sniff.BROKEN,
    "随机.doc": sniff.UNSUPPORTED,
    "控制字符.docx": sniff.UNSUPPORTED,
    "幻灯片.pptx": sniff.UNSUPPORTED,
    "密码.zip": sniff.ENCRYPTED,
}


def build_hostile_inbox(root: Path, url: str) -> Path:
    """Write the attack inbox under `root/inbox` (scratch and secrets beside it) and return it; links point at `url`."""
    box, scratch, secret_dir = root / "inbox", root / "scratch", root / "secret"
    for folder in (box, scratch, secret_dir):
        folder.mkdir(parents=True)
    secret = secret_dir / "secret.txt"
    secret.write_text(f"SECRET-{TOKEN}", encoding="utf-8")
    doc = b.merged_table_docx(scratch / "doc.docx")

    good_submission(box / GOOD)
    good_submission(box / "injected", company=INJECTED)
    b.bomb_zip(box / "bomb.zip")
    b.lying_bomb_zip(box / "lying.zip")
    b.many_members_zip(box / "many.zip")
    ooxml_with(doc, box / "bomb.docx", zeros="word/media/zeros.bin")
    ooxml_with(b.form_xlsx(scratch / "form.xlsx"), box / "bomb.xlsx", zeros="xl/media/zeros.bin")
    memory_docx(box / "memory.docx")
    slow_pdf(box / "slow.pdf")
    many_pages_pdf(box / "pages.pdf")
    b.entity_docx(box / "xxe.docx", secret)
    late_doctype_docx(box / "late-doctype.docx", secret)
    b.docx_from_body(box / "lol.docx", b.p("&j;"), prolog=LOL.replace("lolz", "w:document"))
    b.xxe_xlsx(box / "xxe.xlsx", secret)
    billion_laughs_xlsx(box / "lol.xlsx", scratch)
    b.fake_encrypted_ole(box / "加密.docx")
    b.minimal_pdf(box / "加密.pdf", encrypted=True)
    b.docm(box / "宏.docm")
    b.html_as_xlsx(box / "网页.xls")
    (box / "空.docx").write_bytes(b"")
    (box / "截断.docx").write_bytes(doc.read_bytes()[:-200])
    (box / "截断.pdf").write_bytes(b.minimal_pdf(scratch / "p.pdf").read_bytes()[:-30])
    (box / "随机.doc").write_bytes(random.Random(1).randbytes(4096))
    (box / "控制\x01字符.docx").write_bytes(random.Random(2).randbytes(512))
    b.plain_zip(box / "幻灯片.pptx", {"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"})
    encrypted_zip(box / "密码.zip")
    paths_zip(box / "paths.zip", doc.read_bytes())
    rtf_with_links(box / "links.doc", secret, url)
    gbk = os.path.join(os.fsencode(box), "华光公司".encode("gbk"))
    os.mkdir(gbk)
    Path(os.fsdecode(gbk), "说明.txt").write_text("纯文本", encoding="utf-8")
    linked = box / "linked"
    linked.mkdir()
    (linked / f"file-{TOKEN}.docx").symlink_to(b.merged_table_docx(secret_dir / "机密.docx"))
    (linked / f"dir-{TOKEN}").symlink_to(secret_dir, target_is_directory=True)
    b.png(linked / "营业执照.png")
    (box / f"toplink-{TOKEN}").symlink_to(secret_dir, target_is_directory=True)
    return box


def encrypted_zip(path: Path) -> Path:
    """A zip whose one member carries the 'encrypted' flag (a password-protected archive)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("申报材料.docx", b"x" * 100)
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.find(sig) + offset] |= 1
    path.write_bytes(bytes(data))
    return path


# --- running the command line --------------------------------------------------------------------


def run_manyi(args: list[str], limits: dict, tmpdir: Path, harness: Path, timeout: float = 120) -> tuple[int, str, int]:
    """Run `python -m pipeline ARGS` under `limits` with TMPDIR=`tmpdir`; return (exit code, stderr, peak RSS in bytes).

    The peak RSS is that of the run and every descendant it waited for (workers, bounded readers, soffice),
    as measured by LAUNCHER.
    """
    env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONPATH=str(REPO))
    tag = uuid.uuid4().hex[:6]
    err, peak = harness / f"stderr-{tag}.txt", harness / f"rss-{tag}.txt"
    with open(err, "wb") as handle:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(peak), sys.executable, "-c", WRAPPER,
                                 json.dumps(limits), *args], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=handle, start_new_session=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    rss = int(peak.read_text()) * 1024 if peak.exists() else 0  # ru_maxrss is in KiB on Linux
    return proc.returncode, err.read_text(encoding="utf-8", errors="replace"), rss


def snapshot(root: Path, *skip: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` but those under `skip`, with its size and mtime (links not followed)."""
    found = {}
    for path in root.rglob("*"):
        if any(path == s or s in path.parents for s in skip):
            continue
        st = path.lstat()
        found[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return found


@pytest.fixture(scope="session")
def attacked(tmp_path_factory):
    """The attack inbox parsed once by the command line: (root, out, records by source, stderr, peak RSS, before, after)."""
    root = tmp_path_factory.mktemp("hostile")
    listener = Listener()
    box = build_hostile_inbox(root, listener.url)
    out, tmp, harness = root / "out", root / "tmp", root / "harness"
    tmp.mkdir()
    harness.mkdir()
    before = snapshot(root, out, tmp, harness)
    try:
        code, stderr, rss = run_manyi(["parse", str(box), "--out", str(out)], FAST_LIMITS, tmp, harness)
        # The listener would have seen a fetch: prove it is listening with one connection of our own.
        try:
            urllib.request.urlopen(f"{listener.url}/probe", timeout=2)
        except OSError:
            pass
    finally:
        hits = listener.close()
    after = snapshot(root, out, tmp, harness)
    records = {}
    for path in (out / "records").glob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record["source"]] = record
    return {"root": root, "inbox": box, "out": out, "tmp": tmp, "code": code, "stderr": stderr, "rss": rss,
            "records": records, "before": before, "after": after, "hits": hits}


def messages(record: dict) -> str:
    return "\n".join(i["message"] for i in record["issues"] if i["code"] == "unreadable_file")


# --- the done-when ---------------------------------------------------------------------------------


def test_run_succeeds_without_traceback_and_under_a_gibibyte(attacked):
    assert attacked["code"] == 0, attacked["stderr"]
    assert "Traceback" not in attacked["stderr"]
    assert 0 < attacked["rss"] < GIB, attacked["rss"]


def test_one_record_per_entry(attacked):
    entries = inbox_mod.entries([attacked["inbox"]])
    assert sorted(attacked["records"]) == sorted(e.source for e in entries)
    assert len(entries) == len(EXPECTED_REASONS) + 6  # the symlinked entry too: see the next test
    assert set(EXPECTED_REASONS) | {GOOD, "injected", "paths.zip", "links.doc", "linked", f"toplink-{TOKEN}"} == set(attacked["records"])
    assert len(list((attacked["out"] / "records").glob("*.json"))) == len(entries)


def test_a_symlinked_entry_gets_a_record_saying_it_was_not_followed(attacked):
    record = attacked["records"][f"toplink-{TOKEN}"]
    assert [i["code"] for i in record["issues"]] == ["unreadable_file"]
    assert "符号链接" in record["issues"][0]["message"] and record["forms"] == {}


@pytest.mark.parametrize("source", sorted(EXPECTED_REASONS))
def test_each_hostile_entry_has_its_chinese_reason(attacked, source):
    record = attacked["records"][source]
    assert record["status"] == "incomplete"
    text = messages(record)
    assert EXPECTED_REASONS[source] in text, text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_good_submission_parsed_correctly(attacked):
    record = attacked["records"][GOOD]
    assert record["company_name"] == GOOD_COMPANY and record["category"] == "product"
    assert record["status"] == "complete", record["issues"]
    expected = packet_values("product")
    assert record["forms"]["application"]["product_name"] == expected["application"]["product_name"]
    assert record["forms"]["recommendation"]["satisfaction_score"] == 86.5
    assert len(record["forms"]["respondents"]) == 60
    assert {a["kind"] for a in record["attachments"]} >= {"survey_report", "business_license", "trademark"}


def test_nothing_written_outside_out_and_temp_folders_gone(attacked):
    assert attacked["before"] == attacked["after"]
    assert list(attacked["tmp"].iterdir()) == []  # soffice profiles and conversions cleaned up
    assert not (attacked["out"] / ".work").exists()
    escaped = [p for p in attacked["root"].parent.rglob(f"*{TOKEN}*") if attacked["inbox"] not in p.parents
               and p.parent != attacked["out"] / "records"]  # the symlink's own record is named after it
    assert escaped == []
    for place in (Path("/tmp"), Path("/"), Path.home(), REPO):
        assert not list(place.glob(f"*{TOKEN}*"))


def test_archive_path_tricks_stay_inside_and_are_named_safely(attacked):
    record = attacked["records"]["paths.zip"]
    files = {a["file"] for a in record["attachments"]} | {i["file"] for i in record["issues"] if i.get("file")}
    names = {f for f in files if TOKEN in f}
    assert names, record
    for name in names:
        assert not name.startswith(("/", "\\")) and ".." not in name.split("/") and "\\" not in name and ":" not in name
    assert not any(f"link-{TOKEN}" in f for f in files)  # symlink members are never taken


def test_secrets_never_reach_a_record(attacked):
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in attacked["records"].values())
    assert f"SECRET-{TOKEN}" not in text  # no entity, field or link resolved
    assert f"file-{TOKEN}" not in text and f"dir-{TOKEN}" not in text and "机密" not in text  # symlinks not followed
    assert attacked["records"]["linked"]["attachments"] == [{"file": "营业执照.png", "kind": "business_license"}]


def test_libreoffice_did_not_fetch_links(attacked):
    # Our own probe is the one connection the listener saw: nothing in the run fetched the document's links.
    assert [hit.split(b" HTTP")[0] for hit in attacked["hits"]] == [b"GET /probe"]
    record = attacked["records"]["links.doc"]
    assert f"SECRET-{TOKEN}" not in json.dumps(record, ensure_ascii=False)
    assert not any("转换" in i["message"] for i in record["issues"]), record["issues"]


def test_names_from_the_file_system_are_readable(attacked):
    # a GBK-named folder holding only a text file: no submission, reported to staff by its decoded name
    assert "华光公司" not in attacked["records"]
    assert "华光公司" in [name for name, _ in inbox_mod.strays([attacked["inbox"]])]
    record = attacked["records"]["控制字符.docx"]
    assert "\x01" not in record["source"] and "\x01" not in record["submission_id"]


def test_summary_holds_no_formula(attacked):
    path = attacked["out"] / "summary.xlsx"
    book = load_workbook(path)
    rows = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                rows += 1
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in zf.read(name) and b"<f " not in zf.read(name)
    overview = {r[0]: r for r in book["汇总"].iter_rows(values_only=True)}
    assert set(overview) - {"来源"} == set(attacked["records"])
    injected = attacked["records"]["injected"]["company_name"]
    assert injected.startswith("=HYPERLINK") and overview["injected"][1] == injected


# --- nothing lost --------------------------------------------------------------------------------


def test_a_rerun_gives_identical_records(attacked, tmp_path):
    """The same inbox parsed again by the command line gives the same records, byte for byte. (Run from a fresh
    process like the first: a bounded child forked from a process that has freed much memory can reuse it
    without growing its address space, so the memory budget is only the same from the same start.)"""
    out, tmp, harness = tmp_path / "again", tmp_path / "tmp", tmp_path / "harness"
    tmp.mkdir()
    harness.mkdir()
    code, stderr, _ = run_manyi(["parse", str(attacked["inbox"]), "--out", str(out)], FAST_LIMITS, tmp, harness)
    assert code == attacked["code"], stderr
    again = {json.loads(p.read_text(encoding="utf-8"))["source"] for p in (out / "records").glob("*.json")}
    assert again == set(attacked["records"])
    for path in (attacked["out"] / "records").glob("*.json"):
        assert (out / "records" / path.name).read_bytes() == path.read_bytes(), path.name


def test_bombs_alone_are_refused_in_little_memory(tmp_path):
    """Zip, docx and xlsx bombs are refused from their headers: the whole run stays far below their inflated size."""
    box, tmp = tmp_path / "inbox", tmp_path / "tmp"
    box.mkdir()
    tmp.mkdir()
    doc = b.merged_table_docx(tmp_path / "doc.docx")
    inflated = 400 * 1024 * 1024
    b.bomb_zip(box / "bomb.zip", inflated=inflated)
    b.lying_bomb_zip(box / "lying.zip")
    ooxml_with(doc, box / "bomb.docx", zeros="word/media/zeros.bin")
    ooxml_with(b.form_xlsx(tmp_path / "form.xlsx"), box / "bomb.xlsx", zeros="xl/media/zeros.bin")
    code, stderr, rss = run_manyi(["parse", str(box), "--out", str(tmp_path / "out"), "--jobs", "1"], {}, tmp, tmp_path)
    assert code == 0 and "Traceback" not in stderr, stderr
    # No process of the run ever held the zeros (alone, the largest measures about 60 MB).
    assert 0 < rss < 150 * 1024 * 1024, rss
    records = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "out" / "records").glob("*.json")]
    assert len(records) == 4
    for record in records:
        assert record["forms"] == {} and messages(record), record["source"]


def test_interrupted_summary_write_keeps_the_previous_summary(attacked, tmp_path, monkeypatch):
    import shutil

    from pipeline.common import xlsx
    from pipeline.parse import parse_inbox

    box, out = tmp_path / "inbox", tmp_path / "out"
    shutil.copytree(attacked["inbox"] / GOOD, box / GOOD)
    parse_inbox([box], out, HLJ, jobs=1)
    previous = (out / "summary.xlsx").read_bytes()
    shutil.copytree(attacked["inbox"] / "injected", box / "injected")

    def half_then_crash(source, target, length=0):
        target.write(previous[: len(previous) // 2])
        raise KeyboardInterrupt  # the user pressed Ctrl-C while the workbook was being written

    monkeypatch.setattr(xlsx.shutil, "copyfileobj", half_then_crash)
    with pytest.raises(KeyboardInterrupt):
        parse_inbox([box], out, HLJ, jobs=1)
    assert (out / "summary.xlsx").read_bytes() == previous
    assert sorted(p.name for p in out.iterdir() if p.name not in outputs.CONTROL) == ["records", "summary.xlsx"]  # no half file, no work folder
    assert (out / outputs.RUN).exists()  # and the run is marked unfinished
    for path in (out / "records").glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))


def test_killed_run_leaves_whole_files_and_the_next_run_recovers(attacked, tmp_path, monkeypatch):
    import shutil

    from pipeline.parse import parse_inbox

    box, out, tmp = tmp_path / "inbox", tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    shutil.copytree(attacked["inbox"] / GOOD, box / GOOD)
    first = {r["source"]: r for r in parse_inbox([box], out, HLJ, jobs=1).records}
    previous = (out / "summary.xlsx").read_bytes()
    shutil.copy(attacked["inbox"] / "slow.pdf", box / "slow.pdf")
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, json.dumps({"pdf_seconds": 60}), "parse", str(box),
                             "--out", str(out), "--jobs", "2"], cwd=REPO, env=dict(os.environ, TMPDIR=str(tmp)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (out / ".work").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # inside the 10-second PDF, well before the end
    assert proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (out / "summary.xlsx").read_bytes() == previous
    for path in (out / "records").glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # never half a record
    monkeypatch.setitem(LIMITS, "pdf_seconds", 1.0)
    again = {r["source"]: r for r in parse_inbox([box], out, HLJ, jobs=1).records}
    assert again[GOOD] == first[GOOD]
    assert set(again) == {GOOD, "slow.pdf"} and not (out / ".work").exists()


@pytest.mark.parametrize("ran_out", ["time", "memory in the child", "memory in the parser"])
def test_a_file_over_its_budget_reads_the_same_whichever_budget_ran_out(tmp_path, monkeypatch, ran_out):
    """Which of time and memory runs out first depends on how busy the computer is: the record must not."""
    from pipeline.common.safety import ChildFailed, Timeout
    from pipeline.reading import submission
    from pipeline.reading.readers import TOO_MUCH
    from pipeline.receiving.inbox import SubmissionFile

    raised = {"time": Timeout(), "memory in the child": ChildFailed("子进程异常退出（可能内存不足）"),
              "memory in the parser": None}[ran_out]

    def bounded(fn, *args, **kwargs):
        if raised is None:  # the reader itself hit the memory ceiling inside the child
            monkeypatch.setattr(submission.readers, "read", lambda f: (_ for _ in ()).throw(MemoryError()))
            return fn(*args)
        raise raised

    monkeypatch.setattr(submission, "run_bounded", bounded)
    path = memory_docx(tmp_path / "big.docx", megabytes=1)
    limits = {**LIMITS, "docx_inline_xml": 1024}  # read in a bounded child, as a large file is
    _, _, problem = submission.read_file(SubmissionFile("big.docx", path, "docx"), limits)
    assert problem is not None and TOO_MUCH in problem["message"]
