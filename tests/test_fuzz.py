"""Mutation fuzzing of the reading layer: damaged docx/xlsx/zip bytes never crash it.

Hypothesis mutates two ways: the container bytes (flips, cuts, inserted junk — mostly caught by
sniff or zipfile) and, to reach the XML parsers, the bytes of one part re-zipped with a good CRC.
Whatever comes in, `sniff` names a kind, `open_submission` keeps every file inside its work
folder, and `record.read_file` answers forms, an attachment or a Chinese `unreadable_file`
issue — never an exception. Bounded for CI by max_examples.
"""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import build_inputs as b
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.common import sniff
from pipeline.reading.submission import read_file
from pipeline.receiving import inbox
from pipeline.receiving.inbox import SubmissionFile

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
                derandomize=True)


@functools.lru_cache(maxsize=None)
def seeds() -> dict[str, bytes]:
    """Good files to mutate: a Word form, an Excel register, a zip holding both."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        docx = b.merged_table_docx(folder / "a.docx").read_bytes()
        ticks = b.ticks_docx(folder / "t.docx").read_bytes()
        xlsx = b.form_xlsx(folder / "r.xlsx").read_bytes()
        zipped = b.plain_zip(folder / "z.zip", {"申请表.docx": docx, "被访者.xlsx": xlsx}).read_bytes()
    return {"docx": docx, "ticks": ticks, "xlsx": xlsx, "zip": zipped}


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 1 << 20), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("repeat"), st.integers(0, 1 << 20), st.integers(1, 4096)),
)


def mutate(data: bytes, steps: list) -> bytes:
    """Given bytes and mutation steps, return the damaged bytes."""
    out = bytearray(data)
    for kind, at, arg in steps:
        if not out:
            break
        at %= len(out)
        if kind == "flip":
            out[at] ^= arg
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out[at:at] = arg
        else:
            out[at:at] = out[at:at + arg]
    return bytes(out)


def rezip(data: bytes, part: str, steps: list) -> bytes:
    """Given a package, return it with `part` mutated and stored again (so its CRC is right)."""
    import io

    source, target = io.BytesIO(data), io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info.filename, mutate(content, steps) if info.filename == part else content)
    return target.getvalue()


def read_safely(path: Path) -> None:
    """Sniff a file and, when readable, read it; assert only the documented outcomes happen."""
    found = sniff.sniff(path)
    assert found.kind in sniff.KINDS
    if found.problem:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in found.problem)
        return
    if found.kind not in ("docx", "xlsx", "pdf", "image"):
        return
    forms, attachment, problem = read_file(SubmissionFile(path.name, path, found.kind))
    if problem is not None:
        assert problem["code"] == "unreadable_file" and "无法读取" in problem["message"]
        assert forms == [] and attachment is None
    else:
        assert forms or attachment


@FUZZ
@given(seed=st.sampled_from(["docx", "ticks", "xlsx"]), steps=st.lists(mutation, min_size=1, max_size=4))
def test_damaged_containers_never_crash_the_readers(tmp_path, seed, steps):
    path = tmp_path / f"fuzz.{'xlsx' if seed == 'xlsx' else 'docx'}"
    path.write_bytes(mutate(seeds()[seed], steps))
    read_safely(path)


@FUZZ
@given(target=st.sampled_from([("docx", "word/document.xml"), ("ticks", "word/document.xml"),
                               ("docx", "_rels/.rels"), ("docx", "[Content_Types].xml"),
                               ("xlsx", "xl/worksheets/sheet1.xml"), ("xlsx", "xl/workbook.xml"),
                               ("xlsx", "xl/styles.xml")]),
       steps=st.lists(mutation, min_size=1, max_size=3))
def test_damaged_xml_parts_never_crash_the_readers(tmp_path, target, steps):
    seed, part = target
    path = tmp_path / f"fuzz.{'xlsx' if seed == 'xlsx' else 'docx'}"
    path.write_bytes(rezip(seeds()[seed], part, steps))
    read_safely(path)


@FUZZ
@given(steps=st.lists(mutation, min_size=1, max_size=4))
def test_damaged_zips_unpack_inside_the_work_folder(tmp_path, steps):
    path = tmp_path / "box" / "申报.zip"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(mutate(seeds()["zip"], steps))
    work = tmp_path / "work"
    (entry,) = inbox.entries([path])
    sub = inbox.open_submission(entry, work)
    for f in sub.files:
        assert f.path.parent == work
        read_safely(f.path)
    assert {p.name for p in tmp_path.iterdir()} <= {"box", "work"}
    inbox.cleanup(work)
