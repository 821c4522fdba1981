"""inbox: submissions from folders and zips — GBK names, path tricks, nesting, bombs."""

from __future__ import annotations

import os
import zipfile

import build_inputs as b
import pytest

from pipeline.common.errors import UserError
from pipeline.common import sniff
from pipeline.common.safety import LIMITS
from pipeline.receiving import inbox


def names(sub):
    return [f.name for f in sub.files]


def reasons(sub):
    return {p.file: p.reason for p in sub.problems}


def test_entries_of_inbox_folder(tmp_path):
    box = tmp_path / "inbox"
    (box / "华光公司").mkdir(parents=True)
    b.merged_table_docx(box / "华光公司" / "申请表.docx")
    b.plain_zip(box / "龙江 集团.zip", {"a.docx": b"x"})
    b.minimal_pdf(box / "单个文件.pdf")
    for junk in (".DS_Store", "Thumbs.db", "~$申请表.docx", ".hidden"):
        (box / junk).write_bytes(b"x")
    found = inbox.entries([box])
    assert [e.source for e in found] == ["华光公司", "单个文件.pdf", "龙江 集团.zip"]
    assert all(e.path.parent == box for e in found)
    ids = [e.submission_id for e in found]
    assert len(set(ids)) == 3
    assert ids[0].startswith("华光公司-") and len(ids[0].split("-")[-1]) == 8
    assert all(os.sep not in i and " " not in i for i in ids)
    assert inbox.entries([box]) == found  # stable across runs


def test_entries_of_single_file_and_missing_path(tmp_path):
    path = b.minimal_pdf(tmp_path / "承诺书.pdf")
    (entry,) = inbox.entries([path])
    assert entry.source == "承诺书.pdf" and entry.path == path
    with pytest.raises(UserError, match="找不到"):
        inbox.entries([tmp_path / "nope"])


def test_ids_differ_when_slugs_collide():
    assert inbox.submission_id("a b") != inbox.submission_id("a_b")
    assert inbox.submission_id("a b") == inbox.submission_id("a b")


def test_folder_submission_uses_files_in_place(tmp_path):
    folder = tmp_path / "华光公司"
    (folder / "附件").mkdir(parents=True)
    doc = b.merged_table_docx(folder / "申请表.docx")
    b.png(folder / "附件" / "营业执照.png")
    (folder / "空.docx").write_bytes(b"")
    (folder / "附件" / ".DS_Store").write_bytes(b"x")
    sub = inbox.open_submission(inbox.entries([folder.parent])[0], tmp_path / "work")
    assert names(sub) == ["申请表.docx", "附件/营业执照.png"]
    assert sub.files[0].path == doc and sub.files[0].kind == "docx"
    assert reasons(sub) == {"空.docx": sniff.EMPTY}


def test_gbk_names_and_backslashes_decoded(tmp_path):
    doc = b.merged_table_docx(tmp_path / "src.docx").read_bytes()
    path = b.gbk_zip(tmp_path / "华光.zip", {"申报材料\\封面.docx": doc, "承诺书.docx": doc, "申报材料\\": b""})
    work = tmp_path / "work"
    sub = inbox.open_submission(inbox.entries([path])[0], work)
    assert names(sub) == ["承诺书.docx", "申报材料/封面.docx"]
    assert sub.problems == []
    for f in sub.files:
        assert f.path.parent == work and f.path.name.startswith("m") and f.kind == "docx"
        assert f.path.read_bytes() == doc


def test_utf8_flagged_and_unflagged_utf8_names(tmp_path):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("企业类申请表.docx", b"x")  # zipfile sets the UTF-8 flag
        zf.writestr(b.RawNameInfo("承诺书.pdf".encode("utf-8")), b"y")  # macOS Archive Utility style
    sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / "w")
    assert sorted(p.file for p in sub.problems) == ["企业类申请表.docx", "承诺书.pdf"]


def test_path_tricks_never_escape_workdir(tmp_path):
    doc = b.merged_table_docx(tmp_path / "src.docx").read_bytes()
    path = b.plain_zip(tmp_path / "evil.zip", {"../../evil.docx": doc, "/etc/abs.docx": doc,
                                                "C:\\win\\x.docx": doc, "__MACOSX/._evil.docx": b"junk"})
    work = tmp_path / "deep" / "work"
    sub = inbox.open_submission(inbox.entries([path])[0], work)
    assert names(sub) == ["etc/abs.docx", "evil.docx", "win/x.docx"]
    assert not (tmp_path / "evil.docx").exists() and not (tmp_path / "deep" / "evil.docx").exists()
    assert sorted(p.name for p in work.iterdir()) == ["m0001.docx", "m0002.docx", "m0003.docx"]


def test_symlink_members_ignored(tmp_path):
    sub = inbox.open_submission(inbox.entries([b.symlink_zip(tmp_path / "l.zip")])[0], tmp_path / "w")
    assert "link.docx" not in names(sub) and "link.docx" not in reasons(sub)
    assert reasons(sub)["ok.txt"].startswith("不支持的文件类型（纯文本）")


def test_nested_zips_expanded_to_depth_three(tmp_path):
    doc = b.merged_table_docx(tmp_path / "src.docx").read_bytes()
    level3 = b.plain_zip(tmp_path / "l3.zip", {"d3.docx": doc, "l4.zip": b.plain_zip(tmp_path / "l4.zip", {"d4.docx": doc}).read_bytes()})
    level2 = b.plain_zip(tmp_path / "l2.zip", {"d2.docx": doc, "内层/l3.zip": level3.read_bytes()})
    outer = b.plain_zip(tmp_path / "outer.zip", {"d1.docx": doc, "l2.zip": level2.read_bytes()})
    sub = inbox.open_submission(inbox.entries([outer])[0], tmp_path / "w")
    assert names(sub) == ["d1.docx", "l2.zip/d2.docx", "l2.zip/内层/l3.zip/d3.docx"]
    assert reasons(sub)["l2.zip/内层/l3.zip/l4.zip"].startswith("压缩包嵌套层数过多")


def test_zip_inside_folder_submission_keeps_its_name(tmp_path):
    doc = b.merged_table_docx(tmp_path / "src.docx").read_bytes()
    folder = tmp_path / "box" / "公司"
    folder.mkdir(parents=True)
    b.plain_zip(folder / "附件.zip", {"a.docx": doc})
    sub = inbox.open_submission(inbox.entries([tmp_path / "box"])[0], tmp_path / "w")
    assert names(sub) == ["附件.zip/a.docx"]


def test_zip_bomb_refused_small(tmp_path):
    doc = b.merged_table_docx(tmp_path / "src.docx").read_bytes()
    bomb = b.bomb_zip(tmp_path / "bomb.zip")
    assert bomb.stat().st_size < 2 * 1024 * 1024
    outer = b.plain_zip(tmp_path / "公司.zip", {"申请表.docx": doc, "zeros.zip": bomb.read_bytes(), "承诺书.docx": doc})
    work = tmp_path / "w"
    sub = inbox.open_submission(inbox.entries([outer])[0], work)
    assert names(sub) == ["承诺书.docx", "申请表.docx"]  # the bomb does not stop the others
    assert reasons(sub)["zeros.zip/zeros.docx"].startswith("压缩炸弹")
    assert sum(p.stat().st_size for p in work.iterdir()) < 30 * 1024 * 1024


def test_total_size_cap_across_members(tmp_path):
    members = {f"f{n}.pdf": os.urandom(300_000) for n in range(5)}
    path = b.plain_zip(tmp_path / "big.zip", members)
    sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / "w", dict(LIMITS, zip_total_size=1_000_000))
    assert any("总量" in r for r in reasons(sub).values())


def test_lying_declared_size_does_not_inflate(tmp_path):
    path = b.lying_bomb_zip(tmp_path / "lie.zip")
    work = tmp_path / "w"
    sub = inbox.open_submission(inbox.entries([path])[0], work)
    assert sub.files == [] and list(reasons(sub)) == ["small.pdf"]
    assert sum(p.stat().st_size for p in work.iterdir()) <= 1000


def test_member_count_bomb_refused(tmp_path):
    path = b.many_members_zip(tmp_path / "many.zip")
    sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / "w")
    assert sub.files == [] and "过多" in reasons(sub)["many.zip"]
    assert list((tmp_path / "w").iterdir()) == []


def test_refused_member_does_not_stop_others(tmp_path):
    doc = b.merged_table_docx(tmp_path / "src.docx").read_bytes()
    enc = b.fake_encrypted_ole(tmp_path / "enc.docx").read_bytes()
    path = b.plain_zip(tmp_path / "s.zip", {"a.docx": doc, "加密.docx": enc, "b.xlsx": b"<html><table></table></html>",
                                            "c.docx": doc[:100]})
    sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / "w")
    assert names(sub) == ["a.docx"]
    assert reasons(sub) == {"加密.docx": sniff.ENCRYPTED, "b.xlsx": sniff.HTML_AS_EXCEL,
                            "c.docx": sniff.BROKEN}


def test_encrypted_zip_member_reported(tmp_path):
    path = tmp_path / "enc.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("secret.docx")
        zf.writestr(info, b"x")
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag bit in both the local and the central header.
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = data.find(sig)
        flag_at = at + (6 if sig == b"PK\x03\x04" else 8)
        data[flag_at] |= 1
    path.write_bytes(bytes(data))
    sub = inbox.open_submission(inbox.entries([path])[0], tmp_path / "w")
    assert reasons(sub) == {"secret.docx": sniff.ENCRYPTED}


def test_corrupt_entry_zip(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04garbage")
    sub = inbox.open_submission(inbox.entries([tmp_path / "bad.zip"])[0], tmp_path / "w")
    assert sub.files == [] and reasons(sub)["bad.zip"] == sniff.BROKEN
