"""Safe file names and atomic writes."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.common import outputs
from pipeline.common.files import atomic_path, safe_filename, unique_names, write_text_atomic


def test_chinese_kept_separators_and_reserved_names_made_safe():
    assert safe_filename("哈尔滨电机厂有限责任公司") == "哈尔滨电机厂有限责任公司"
    assert "/" not in safe_filename("A/B公司") and "\\" not in safe_filename("A\\B")
    assert safe_filename("CON") == "CON_" and safe_filename("com1.txt") == "com1_.txt"
    assert safe_filename("\ud800公司") == "_公司"
    assert safe_filename("公司...") == "公司"
    assert safe_filename("  ") == "未命名"
    assert safe_filename("..") == "未命名"


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_any_name_becomes_a_safe_name(name):
    safe = safe_filename(name)
    assert safe and len(safe.encode("utf-8")) <= 201
    assert not any(ch in safe for ch in '\\/:*?"<>|') and not any(ord(ch) < 32 for ch in safe)
    assert not safe.endswith((".", " "))
    assert safe not in (".", "..")
    assert safe.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


@given(st.lists(st.sampled_from(["甲公司", "乙公司", "A", "a"]), max_size=12))
def test_unique_names_never_collide(stems):
    names = unique_names(stems)
    assert len({n.lower() for n in names}) == len(names) == len(stems)


def own_listing(folder) -> list[str]:
    """The folder's files but manyi's bookkeeping (the manifest of what it wrote)."""
    return sorted(n for n in os.listdir(folder) if n not in outputs.CONTROL)


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path):
    target = tmp_path / "summary.xlsx"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert own_listing(tmp_path) == ["summary.xlsx"]


def test_atomic_write_gives_the_umask_mode_and_leaves_no_part_file(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "a.json", "x")
        write_text_atomic(tmp_path / "a.json", "y")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").read_text() == "y"
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o640
    assert own_listing(tmp_path) == ["a.json"]
