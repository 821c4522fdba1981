"""office: batch conversion through LibreOffice, and the readers on what it produces.

The real-soffice tests share one session fixture that starts the few conversions they need
concurrently (one soffice start per target); they run in one xdist group. The batching and
timeout logic is also tested against a fake soffice script, which is fast and deterministic.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import build_inputs as b
import pytest

from pipeline.common import office
from pipeline.common.errors import UserError
from pipeline.common.safety import LIMITS
from pipeline.common.sniff import UNKNOWN, sniff
from pipeline.reading import readers
from pipeline.receiving.inbox import SubmissionFile

pytestmark = pytest.mark.xdist_group("soffice")


def grid(block):
    return [[(c.text, c.row, c.col, c.rowspan, c.colspan) for c in row] for row in block.rows]


def fold_cells(block):
    return [[(c.text.replace(" ", ""), c.row, c.col, c.rowspan, c.colspan) for c in row] for row in block.rows]


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """.doc, .xls and .pdf made from built inputs, then .doc→.docx and .xls→.xlsx read-back."""
    root = tmp_path_factory.mktemp("soffice")
    form_docx = b.form_docx(root / "申请表.docx")
    form_xlsx = b.form_xlsx(root / "登记表.xlsx")
    with ThreadPoolExecutor(3) as pool:
        doc = pool.submit(office.convert, [form_docx], "doc", root / "doc")
        xls = pool.submit(office.convert, [form_xlsx], "xls", root / "xls")
        pdf = pool.submit(office.convert, [form_docx], "pdf", root / "pdf")
        made = {"doc": doc.result()[form_docx], "xls": xls.result()[form_xlsx], "pdf": pdf.result()[form_docx]}
    with ThreadPoolExecutor(2) as pool:
        back_docx = pool.submit(office.convert, [made["doc"]], "docx", root / "back")
        back_xlsx = pool.submit(office.convert, [made["xls"]], "xlsx", root / "back")
        made["docx_back"] = back_docx.result()[made["doc"]]
        made["xlsx_back"] = back_xlsx.result()[made["xls"]]
    made["form_docx"], made["form_xlsx"] = form_docx, form_xlsx
    return made


def test_real_doc_and_xls_are_sniffed_as_such(converted):
    assert isinstance(converted["doc"], Path) and sniff(converted["doc"]).kind == "doc"
    assert isinstance(converted["xls"], Path) and sniff(converted["xls"]).kind == "xls"
    assert sniff(converted["doc"]).problem is None


def test_doc_round_trip_reads_like_the_docx(converted):
    original = readers.read(SubmissionFile("a.docx", converted["form_docx"], "docx"))
    back = readers.read(SubmissionFile("a.doc", converted["docx_back"], "docx"))
    table = lambda doc: next(blk for blk in doc.blocks if blk.kind == "table")  # noqa: E731
    assert grid(table(back)) == grid(table(original))
    assert [blk.text for blk in back.blocks if blk.kind == "paragraph"] == ["企业类申请表", "填表日期：2017年5月9日"]


def test_xls_round_trip_reads_like_the_xlsx(converted):
    original = readers.read(SubmissionFile("a.xlsx", converted["form_xlsx"], "xlsx"))
    back = readers.read(SubmissionFile("a.xls", converted["xlsx_back"], "xlsx"))
    assert grid(back.blocks[1])[:4] == grid(original.blocks[1])[:4]
    assert back.blocks[1].rows[4][1].text == "合并两行" and back.blocks[1].rows[4][1].rowspan == 2


def test_pdf_export_reads_back_with_the_same_cells(converted):
    original = readers.read(SubmissionFile("a.docx", converted["form_docx"], "docx"))
    pdf = readers.read(SubmissionFile("a.pdf", converted["pdf"], "pdf"))
    assert [blk.kind for blk in pdf.blocks] == ["paragraph", "table", "paragraph"]
    assert fold_cells(pdf.blocks[1]) == fold_cells(original.blocks[1])
    assert pdf.blocks[1].rows[2][3].text == "☑是 ☐否"
    assert pdf.blocks[2].text == "填表日期：2017年5月9日"


def test_timeout_kills_soffice_group(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    source = b.form_docx(tmp_path / "a.docx")
    result = office.convert([source], "pdf", tmp_path / "out", timeout=0.5)
    assert result == {source: office.TIMEOUT_ZH}  # killed at its timeout, not left to finish
    assert live_processes_mentioning(str(tmp_path)) == []
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary profile is gone


def live_processes_mentioning(text: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(pid))
    return found


def test_random_bytes_named_doc_refused_before_soffice(tmp_path, monkeypatch):
    monkeypatch.setenv("MANYI_SOFFICE", str(tmp_path / "no-soffice-here"))  # would raise if reached
    (tmp_path / "x.doc").write_bytes(os.urandom(4096))
    html = b.html_as_xlsx(tmp_path / "y.xls")
    result = office.convert([tmp_path / "x.doc", html], "docx", tmp_path / "out")
    assert result[tmp_path / "x.doc"] == UNKNOWN
    assert result[html] .startswith("HTML 伪装成 Excel")
    assert office.convert([b.form_xlsx(tmp_path / "z.xlsx")], "docx", tmp_path / "o")[tmp_path / "z.xlsx"].startswith("转换失败")


def test_missing_libreoffice_is_a_chinese_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MANYI_SOFFICE", str(tmp_path / "no-soffice-here"))
    assert not office.available() and office.soffice_path() is None
    with pytest.raises(UserError, match="LibreOffice.*安装"):
        office.convert([b.merged_table_docx(tmp_path / "a.docx")], "pdf", tmp_path / "out")


# --- fake soffice: batching, stems, one hung file ------------------------------------------------

FAKE = """#!/bin/sh
# Fake soffice: copies each input to OUTDIR/<stem>.<target>; an input containing HANGME hangs.
echo start >> "{log}"
out=""; target=""; files=""
while [ $# -gt 0 ]; do
  case "$1" in
    --outdir) out="$2"; shift 2;;
    --convert-to) target="${{2%%:*}}"; shift 2;;
    -*) shift;;
    *) files="$files $1"; shift;;
  esac
done
for f in $files; do
  if grep -q HANGME "$f"; then sleep 30; fi
  b=$(basename "$f"); cp "$f" "$out/${{b%.*}}.$target"
done
"""


@pytest.fixture
def fake_soffice(tmp_path, monkeypatch):
    script = tmp_path / "soffice"
    log = tmp_path / "starts.log"
    script.write_text(FAKE.format(log=log))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("MANYI_SOFFICE", str(script))
    return log


def stored_docx(path: Path, text: str) -> Path:
    """A docx stored uncompressed, so the fake soffice can grep it for HANGME."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", b.content_types())
        zf.writestr("_rels/.rels", b.ROOT_RELS)
        zf.writestr("word/document.xml", f"<w:document {b.NS}><w:body>{b.p(text)}</w:body></w:document>")
    return path


def test_same_stems_do_not_collide_and_batches_are_chunked(tmp_path, fake_soffice):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    inputs = [stored_docx(tmp_path / "a" / "申请表.docx", "甲"), stored_docx(tmp_path / "b" / "申请表.docx", "乙"),
              stored_docx(tmp_path / "c.docx", "丙")]
    result = office.convert(inputs, "docx", tmp_path / "out", limits=dict(LIMITS, soffice_batch=2))
    assert [result[p].name for p in inputs] == ["申请表.docx", "申请表 (2).docx", "c.docx"]
    texts = [readers.read(SubmissionFile("x", result[p], "docx")).text for p in inputs]
    assert texts == ["甲", "乙", "丙"]
    assert fake_soffice.read_text().count("start") == 2


def test_one_hung_file_costs_only_itself(tmp_path, fake_soffice):
    inputs = [stored_docx(tmp_path / f"{n}.docx", text) for n, text in enumerate(["一", "HANGME", "三", "四"])]
    start = time.monotonic()
    result = office.convert(inputs, "docx", tmp_path / "out", timeout=1.5)
    elapsed = time.monotonic() - start
    assert result[inputs[1]] == office.TIMEOUT_ZH
    assert all(isinstance(result[p], Path) for p in (inputs[0], inputs[2], inputs[3]))
    assert fake_soffice.read_text().count("start") == 2  # one timeout, one restart for the rest
    assert elapsed < 5
    assert live_processes_mentioning(str(tmp_path)) == []
