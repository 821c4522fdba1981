"""The campaign file is checked on load: types, units, dates and required keys against its schema, and a file
that is not UTF-8, is indented with a tab or is not YAML, each as one Chinese line naming the key and the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.common.errors import UserError
from pipeline.definitions.campaign import load_campaign
from pipeline.definitions.forms import CAMPAIGNS_DIR

SEED = CAMPAIGNS_DIR / "heilongjiang-2017.yaml"


def line_of(text: str, start: str) -> int:
    """Given a file's text and how a line starts, return that line's number (1-based)."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def refused(tmp_path: Path, text: str | bytes) -> str:
    """Given a campaign file's content, write it, load it and return the Chinese refusal."""
    path = tmp_path / "campaign.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(UserError) as caught:
        load_campaign(path)
    said = str(caught.value)
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,}", said.replace("YYYY-MM-DD", "")), said  # no English sentence
    return said


def test_every_bundled_campaign_passes_its_schema():
    for path in CAMPAIGNS_DIR.glob("*.yaml"):
        assert load_campaign(path).id == path.stem


def test_a_number_written_in_words_is_refused_with_its_key_and_line(tmp_path):
    text = SEED.read_text(encoding="utf-8").replace("min_satisfaction: 80", "min_satisfaction: 八十")
    said = refused(tmp_path, text)
    assert "min_satisfaction 应为数字" in said and f"第 {line_of(text, 'min_satisfaction')} 行" in said


def test_units_dates_and_required_keys(tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    text = seed.replace("min_satisfaction: 80", "min_satisfaction: 800")
    assert "min_satisfaction 不能大于 100" in refused(tmp_path, text)
    text = seed.replace("deadline: 2017-06-20", "deadline: 六月底")
    said = refused(tmp_path, text)
    assert "deadline 应为日期" in said and f"第 {line_of(text, 'deadline')} 行" in said
    text = seed.replace("fee: 2000", "fee: 两千元")
    assert "fee 应为数字" in refused(tmp_path, text)
    text = seed.replace("  phone: 0451-87979096\n", "")
    assert "缺少 association.phone（联系电话）" in refused(tmp_path, text)


def test_a_yaml_mistake_names_its_line_in_chinese(tmp_path):
    text = SEED.read_text(encoding="utf-8").replace("scope: 全省", "scope: 全省: 黑龙江")
    said = refused(tmp_path, text)
    assert f"第 {line_of(text, 'scope')} 行" in said and "冒号" in said


def test_a_tab_is_refused_with_its_line(tmp_path):
    text = SEED.read_text(encoding="utf-8").replace("  name: 黑龙江省质量协会", "\tname: 黑龙江省质量协会")
    said = refused(tmp_path, text)
    assert f"第 {line_of(text, chr(9) + 'name')} 行" in said and "制表符" in said


def test_a_gbk_file_is_refused_with_its_line(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    said = refused(tmp_path, text.encode("gbk"))
    first = next(n for n, line in enumerate(text.splitlines(), 1) if any(ord(c) > 127 for c in line))
    assert f"第 {first} 行不是 UTF-8" in said


def test_a_key_written_twice_is_refused_naming_both_lines(tmp_path):
    """YAML keeps the last of two `year:` lines without a word: the campaign file refuses it instead."""
    seed = SEED.read_text(encoding="utf-8")
    text = seed.replace("year: 2017\n", "year: 2017\nyear: 2018\n", 1)
    said = refused(tmp_path, text)
    first = line_of(text, "year: 2017")
    assert f"第 {first + 1} 行 year（第 {first} 行已有）" in said and "写了两次" in said


def test_an_unclosed_list_names_the_bracket_and_where_it_began(tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    text = seed.replace("fee: 2000", "fee: [2000", 1)
    said = refused(tmp_path, text)
    assert "方括号 [ ] 没有配对" in said and f"自第 {line_of(text, 'fee')} 行起" in said
