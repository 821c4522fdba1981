"""Text as people type it into forms, folded to what the contract fixes.

Every function here is pure: given a string, return a normalised value. Labels are
compared with `fold`; values are normalised with `clean`, `to_number`, `to_date` and
`to_period`; tick marks are read with `is_ticked`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

#: Characters that mean "this box is ticked" once readers have read a form.
TICKED = frozenset("☑✓✔√■☒▣●✅⊠")
#: Characters that mean "this box is empty".
UNTICKED = frozenset("☐□○")
#: The two characters readers write for ticks of any kind (symbol fonts, content controls …).
TICK, BOX = "☑", "☐"

#: Answers that explain why a field was left empty (填报说明 2: 不填之项要说明原因).
EXPLAINED_EMPTY = ("无", "不适用", "/", "／", "—", "-", "未", "暂无", "没有", "n/a", "na")

#: Characters XML 1.0 refuses (C0 controls but tab/CR/LF, U+FFFE/U+FFFF, lone surrogates): Word,
#: Excel, openpyxl and lxml all fail on them, and PDFs do carry them.
_NOT_XML_BUT_NUL = "\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff"
_NOT_XML = re.compile(f"[\x00{_NOT_XML_BUT_NUL}]")
_NOT_XML_JOINED = re.compile(f"[{_NOT_XML_BUT_NUL}]")
_SPACE = re.compile(r"[\s\u3000\u00a0\u200b]+")
_PUNCT = str.maketrans({
    "（": "(", "）": ")", "：": ":", "，": ",", "；": ";", "、": ",", "／": "/",
    "【": "(", "】": ")", "［": "(", "］": ")", "“": '"', "”": '"', "‘": "'", "’": "'",
    "－": "-", "—": "-", "–": "-", "·": ".", "。": ".", "％": "%",
})


def xml_safe_text(text: str) -> str:
    """Given text, return it without the characters XML refuses, so every output can hold it."""
    return _NOT_XML.sub("", text)


def xml_safe_texts(texts: list[str]) -> list[str]:
    """Given many texts, return them without the characters XML refuses, in one pass over their NUL-joined text."""
    joined = "\0".join(texts)
    if joined.count("\0") + 1 != len(texts):  # a text holds NUL itself (or there is none): one at a time
        return [xml_safe_text(t) for t in texts]
    return _NOT_XML_JOINED.sub("", joined).split("\0")


#: repr() escapes every character XML refuses (none is printable): \x01, \ufffe, \ud800 …
_ESCAPED_NOT_XML = re.compile(r"\\x(?:0[0-8bcef]|1[0-9a-f])|\\ufff[ef]|\\ud[89a-f][0-9a-f]{2}")


def xml_safe(value):
    """Given a value of a record (text, list, dict …), return it with characters XML refuses removed.

    A whole record is looked at once, through its repr; only one that holds such a character
    (or a backslash that looks like one) is walked and rebuilt.
    """
    if not isinstance(value, str) and not _ESCAPED_NOT_XML.search(repr(value)):
        return value
    return _xml_safe(value)


def _xml_safe(value):
    if isinstance(value, str):
        return xml_safe_text(value)
    if isinstance(value, list):
        return [_xml_safe(v) for v in value]
    if isinstance(value, dict):
        return {_xml_safe(k): _xml_safe(v) for k, v in value.items()}
    return value


def clean(value: object) -> str | None:
    """Given a cell's text, return it trimmed with white space runs folded to one space, or None."""
    if value is None:
        return None
    text = str(value)
    if text.isprintable() and " " not in text:
        return text or None  # no white space at all (every other space character is unprintable)
    text = _SPACE.sub(" ", text).strip()
    return text or None


def is_blank(text: str | None) -> bool:
    """Given a cell's text, return whether `clean` would make it None (cheaply, for the many blank cells)."""
    if not text or text.isspace():
        return True
    return "\u200b" in text and clean(text) is None  # the one space character str.isspace does not know


def fold(label: str) -> str:
    """Given a label as printed or typed, return a key that ignores width, spacing and punctuation style.

    '通  信  地  址' and '通信地址', '全员劳产率 元／人' and '全员劳产率元/人' fold alike.
    """
    if label and label.isalnum() and unicodedata.is_normalized("NFKC", label) and label.lower() == label:
        return label  # already its own key (names, most labels): a tenth of the time of the whole fold
    return _fold(label)


def _fold(label: str) -> str:
    text = unicodedata.normalize("NFKC", label or "").translate(_PUNCT)
    # Lower-casing can undo NFKC composition (Ö → o + ¨), so normalise once more after it.
    text = unicodedata.normalize("NFKC", _SPACE.sub("", text).lower()).translate(_PUNCT)
    return _SPACE.sub("", text).rstrip(":")


def is_ticked(mark: str) -> bool:
    """Given a box character, return whether it counts as ticked."""
    return mark in TICKED


_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_UNITS = ("万平方米", "平方米", "万元", "亿元", "元/人", "元", "台件", "台", "件", "人次", "人", "次", "个", "家", "份", "m²", "㎡")


def to_number(value: object, unit: str | None = None) -> float | int | str | None:
    """Given a number cell, return an int or float; other text comes back trimmed.

    Thousands separators, a trailing %/％ and a unit (the label's own, or a usual one) are dropped:
    '1,250' → 1250, '95.5％' → 95.5, '12万元' → 12.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    text = clean(value)
    if text is None:
        return None
    if text.isdigit() and text.isascii():  # most numbers: 序号, counts
        return int(text)
    bare = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "").rstrip("%")
    for suffix in ((unit,) if unit else ()) + _UNITS:
        if suffix and bare.endswith(suffix):
            bare = bare[: -len(suffix)]
            break
    if bare.startswith("约"):
        bare = bare[1:]
    if not _NUMBER.match(bare):
        return text
    number = float(bare)
    return int(number) if number.is_integer() and "." not in bare else number


_DATE = re.compile(r"(\d{4})\s*[年./\-]\s*(\d{1,2})\s*(?:[月./\-]\s*(\d{1,2})\s*日?)?")


def _date_at(text: str, start: int = 0) -> tuple[str, int] | None:
    match = _DATE.search(text, start)
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
    try:
        return date(year, month, day).isoformat(), match.end()
    except ValueError:
        return None


def to_date(value: object) -> str | None:
    """Given a date as written ('2017年5月9日', '2017.5.9', '2017/05/09'), return 'YYYY-MM-DD'.

    Text that holds no readable date comes back trimmed; a cell with only the printed
    '年 月 日' is empty.
    """
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    text = clean(value)
    if text is None or not re.sub(r"[年月日\s]", "", text):
        return None
    found = _date_at(unicodedata.normalize("NFKC", text))
    if found and len(text) <= 20:
        return found[0]
    return text


def to_period(value: object) -> dict | str | None:
    """Given 'start to end' in any usual writing, return {'start': ..., 'end': ...}.

    '2016年12月1日至2017年3月31日', '2016.12.1-2017.3.31', '2016/12/01～2017/03/31'.
    A second date without a year ('2017年1月5日-3月20日') takes the first one's year.
    """
    text = clean(value)
    if text is None:
        return None
    norm = unicodedata.normalize("NFKC", text)
    first = _date_at(norm)
    if not first:
        return text
    second = _date_at(norm, first[1])
    if second:
        return {"start": first[0], "end": second[0]}
    tail = re.search(r"(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?", norm[first[1]:])
    if tail:
        try:
            end = date(int(first[0][:4]), int(tail[1]), int(tail[2])).isoformat()
            return {"start": first[0], "end": end}
        except ValueError:
            pass
    return text


_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(?:0\d{2,3})?[2-9]\d{6,7}(?:转\d{1,6})?$")
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")


_PHONE_NOISE = re.compile(r"[\s\-()]")
_COUNTRY = re.compile(r"^\+?86(?=1[3-9]\d{9}\b)")
_PHONE_SEPARATORS = re.compile(r"[,;/、，；]|\s{2,}")


def phone_digits(value: str) -> str:
    """Given a phone as written ('0451—87979096', '139 0480 9986', '+86 139…'), return its digits."""
    text = value if value.isascii() else unicodedata.normalize("NFKC", value).translate(_PUNCT)
    return _COUNTRY.sub("", _PHONE_NOISE.sub("", text))


def is_phone(value: str) -> bool:
    """Given a phone field, return whether every number in it is a mobile or landline number."""
    parts = [phone_digits(p) for p in _PHONE_SEPARATORS.split(value or "") if p.strip()]
    return bool(parts) and all(_MOBILE.match(p) or _LANDLINE.match(p) for p in parts)


def is_postcode(value: object) -> bool:
    """Given a postcode field, return whether it is six digits."""
    return bool(re.fullmatch(r"\d{6}", unicodedata.normalize("NFKC", str(value)).strip()))


def is_email(value: str) -> bool:
    """Given an e-mail field, return whether it looks like one address."""
    return bool(_EMAIL.match(unicodedata.normalize("NFKC", value or "").strip()))


def is_explained_empty(value: object) -> bool:
    """Given a filled value, return whether it says why the field does not apply (无, 不适用, /, 未…)."""
    text = clean(value)
    return bool(text) and (text.lower() in EXPLAINED_EMPTY or text.startswith(("未", "无", "不适用")))


def body_chars(text: str) -> int:
    """Given a report body, return its length in characters, white space not counted."""
    return len(_SPACE.sub("", text or ""))


#: How many items a message names before it says 等 N 处.
MAX_LISTED = 10


def listed(items: list) -> str:
    """Given items to name in a message, return them joined with 、, long lists cut with 等 N 处."""
    items = [str(i) for i in items]
    if len(items) <= MAX_LISTED:
        return "、".join(items)
    return "、".join(items[:MAX_LISTED]) + f"等 {len(items)} 处"
