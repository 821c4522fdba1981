"""Names in the order Chinese staff look them up: by pinyin (安 before 北 before 中), the same on every system.

A database sorts text by code point (北 U+5317 before 安 U+5B89), and a locale's collation differs between
Windows, Linux and PostgreSQL's builds; pypinyin (maintained, with its phrase dictionary for the usual readings
of 重庆, 银行 …) gives one key everywhere.
"""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def name_key(name: str | None) -> tuple:
    """Given a name (or None), return its sort key: its syllables without tones, then with tones, then the text;
    a missing name sorts last."""
    if not name:
        return (1, (), (), "")
    plain = tuple(s.lower() for s in lazy_pinyin(name, style=Style.NORMAL, errors="default"))
    toned = tuple(lazy_pinyin(name, style=Style.TONE3, errors="default"))
    return (0, plain, toned, name)


def by_pinyin(names) -> list[str]:
    """Given names, return them sorted by `name_key`."""
    return sorted(names, key=name_key)
