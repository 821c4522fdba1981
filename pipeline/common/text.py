"""Text as people type it into forms, folded to what the contract fixes.

Every function here is pure: given a string, return a normalised value. Labels are
compared with `fold`; values are normalised with `clean`, `to_number`, `to_date` and
`to_period`; tick marks are read with `is_ticked`.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date
from decimal import Decimal

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
_SPACE = re.compile(r"[\s\u3000\u00a0]+")
#: Characters that show nothing: zero-width space/non-joiner/joiner, word joiner, BOM, soft hyphen.
#: LibreOffice writes U+200D into rows added under Track Changes; they are removed before anything else.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = re.compile(f"[{INVISIBLE}]")
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
    text = _SPACE.sub(" ", without_invisible(text)).strip()
    return text or None


def clean_lines(value: object) -> str | None:
    """Given a cell's text, return each line as `clean` makes it, the lines joined by '\n' (a paragraph or
    line break the applicant typed stays a line break), empty lines dropped; None when nothing is left."""
    if value is None:
        return None
    text = str(value)
    if "\n" not in text and "\r" not in text:
        return clean(text)
    lines = (clean(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line) or None


def is_blank(text: str | None) -> bool:
    """Given a cell's text, return whether `clean` would make it None (cheaply, for the many blank cells)."""
    if not text or text.isspace():
        return True
    if text.isprintable():
        return False
    if text.strip()[0] not in INVISIBLE:  # not all white space, so something is left
        return False  # a visible character (most multi-line cells): not blank, no need to clean
    return clean(text) is None


def without_invisible(text: str) -> str:
    """Given text, return it without the characters that show nothing (zero-width marks, BOM, soft hyphen)."""
    return _INVISIBLE.sub("", text) if not text.isprintable() else text


def fold(label: str) -> str:
    """Given a label as printed or typed, return a key that ignores width, spacing and punctuation style.

    '通  信  地  址' and '通信地址', '全员劳产率 元／人' and '全员劳产率元/人' fold alike.
    """
    if label and label.isalnum() and unicodedata.is_normalized("NFKC", label) and label.lower() == label:
        return label  # already its own key (names, most labels): a tenth of the time of the whole fold
    return _fold(label)


def _fold(label: str) -> str:
    text = unicodedata.normalize("NFKC", without_invisible(label or "")).translate(_PUNCT)
    # Lower-casing can undo NFKC composition (Ö → o + ¨), so normalise once more after it.
    text = unicodedata.normalize("NFKC", _SPACE.sub("", text).lower()).translate(_PUNCT)
    return _SPACE.sub("", text).rstrip(":")


def is_ticked(mark: str) -> bool:
    """Given a box character, return whether it counts as ticked."""
    return mark in TICKED


_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_NUMBER_AND_UNIT = re.compile(r"^([+-]?\d+(?:\.\d+)?)(\D.*)?$")
#: Multipliers written before a unit (2.4亿元, 12万台, 3千人); 百万/千万 combine.
MAGNITUDES = {"亿": 10**8, "万": 10**4, "千": 10**3, "百": 100}
#: Units as labels and applicants write them, each → the unit it counts (台 and 件 are both 台件).
UNITS = {"元": "元", "元/人": "元/人", "台件": "台件", "台": "台件", "件": "台件", "人": "人", "名": "人",
         "人次": "人次", "户": "户", "平方米": "平方米", "m²": "平方米", "m2": "平方米", "㎡": "平方米",
         "次": "次", "个": "个", "家": "家", "份": "份", "分": "分", "%": "%", "项": "项"}


#: Counted units that are measures, not counts: without a label unit their multiplier cannot be applied.
_MEASURES = {"元", "元/人", "平方米", "%", "分"}


def split_unit(unit: str) -> tuple[int, str] | None:
    """Given a unit as written ('万元', '亿元', '万台', '万', '平方米'), return (multiplier, counted unit), or None.

    '' is a bare number (1, ''); a unit made of multipliers only ('万') counts nothing ('' as unit).
    """
    unit = unit.strip()
    factor = 1
    while unit[:1] in MAGNITUDES and unit not in UNITS:
        factor *= MAGNITUDES[unit[0]]
        unit = unit[1:]
    if unit and unit not in UNITS:
        return None
    if factor != 1 and UNITS.get(unit) == "%":
        return None  # 12万%: no percentage has a magnitude
    return factor, UNITS.get(unit, "")


def number_unit(value: object, unit: str | None = None) -> str | None:
    """Given a number cell and its label's unit, return the unit written after the number when it cannot be
    converted to the label's unit ('12美元' in a 万元 field → '美元'), else None."""
    text = clean(value)
    if text is None:
        return None
    match = _NUMBER_AND_UNIT.match(_bare_number(text))
    if not match or not match[2] or any(c.isdigit() for c in match[2]):  # 12,5 or 1.2.3: no unit, no number
        return None
    return match[2] if _conversion(match[2], unit) is None else None


#: A number with thousands separators in their places (1,250 and 12,345,678.5; not 1,2345 nor 12,5).
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?![\d,])")


def _bare_number(text: str) -> str:
    """Given a number cell, return it without spaces and thousands separators; a comma anywhere else stays
    (12,5 or 1.200,5 may mean 12.5 or two numbers: not one number)."""
    bare = unicodedata.normalize("NFKC", text).replace(" ", "")
    if "," not in bare:
        return bare
    grouped = _GROUPED.match(bare)  # a comma after the number (1,250万,5) leaves no unit to convert: text either way
    if not grouped:
        return bare
    return bare[:grouped.end()].replace(",", "") + bare[grouped.end():]


def is_approximate(value: object, unit: str | None = None) -> bool:
    """Given a cell and its label's unit, return whether it is a number written as an estimate (约1200,
    约 2.5万平方米): such a cell stays as typed."""
    if not isinstance(value, str) or not value.strip().startswith("约"):
        return False
    return isinstance(to_number(value.strip()[1:], unit), (int, float))


def _conversion(written: str, unit: str | None) -> Decimal | None:
    """Given the unit written after a number and the label's unit, return the factor between them, or None.

    Without a label unit any known unit is taken as a count of itself (12万户 → 120000).
    """
    want = split_unit(unit) if unit else None
    if unit and want is None:  # a label unit this table does not know (年, 页): only that very unit is accepted
        return Decimal(1) if written == unit else None
    have = split_unit(written)
    if have is None:
        return None
    if not unit and have[0] != 1 and have[1] in _MEASURES:
        return None  # 12万元 with no unit on the label: 万元 or 元 is anyone's guess
    want = want or (1, have[1])
    if have[1] and have[1] != want[1]:
        return None
    return Decimal(have[0]) / Decimal(want[0])


def to_number(value: object, unit: str | None = None) -> float | int | str | None:
    """Given a number cell and its label's unit, return an int or float in that unit; other text comes back trimmed.

    Thousands separators and a trailing %/％ are dropped: '1,250' → 1250, '95.5％' → 95.5; an estimate
    ('约1200') is no exact number and stays as typed (`is_approximate`). A number
    written with a unit is converted to the label's unit, exactly (decimal arithmetic): '2.4亿元' in a
    万元 field → 24000, '12万台' in a 台件 field → 120000, '24000万' → 24000. A unit that cannot be
    converted ('12美元', '5台' in a 万元 field) keeps the text, so the rules can say so (`number_unit`).
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
    bare = _bare_number(text)
    match = _NUMBER_AND_UNIT.match(bare)
    if not match:
        return text
    digits, written = match[1], match[2] or ""  # ％ is % already (NFKC)
    factor = _conversion(written, unit) if written else 1
    if factor is None:
        return text
    if factor == 1:
        number = float(digits)
        return int(number) if number.is_integer() and "." not in digits else number
    exact = Decimal(digits) * factor
    return int(exact) if exact == exact.to_integral_value() else float(exact)


_CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0", "Ｏ": "0", "O": "0"}
_CN_DATE = re.compile(r"([〇零○Ｏ一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月"
                      r"(?:\s*([一二三四五六七八九十]{1,3})\s*日)?")


def _cn_small(numeral: str) -> int | None:
    """Given 一 … 三十一, return its value (None when it is not a month/day numeral)."""
    if "十" not in numeral:
        return int(_CN_DIGITS[numeral]) if len(numeral) == 1 else None
    tens, _, ones = numeral.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (int(_CN_DIGITS[tens]) if tens else 1) * 10 + (int(_CN_DIGITS[ones]) if ones else 0)


def arabic_dates(text: str) -> str:
    """Given text, return it with dates in Chinese numerals written in digits (二〇一七年五月十八日 → 2017年5月18日)."""
    if "年" not in text:  # most cells: no search
        return text

    def digits(match) -> str:
        year = "".join(_CN_DIGITS[c] for c in match[1])
        month = _cn_small(match[2])
        day = _cn_small(match[3]) if match[3] else None
        if month is None or (match[3] and day is None):
            return match[0]
        return f"{year}年{month}月" + (f"{day}日" if day is not None else "")

    return _CN_DATE.sub(digits, text)


_DATE = re.compile(r"(\d{4})\s*[年./\-]\s*(\d{1,2})(?!\d)\s*(?:[月./\-]\s*(\d{1,2})(?!\d)\s*日?)?")


#: A date alone in its cell: perhaps after a printed label (日期：), before the printed slot it was written beside
#: (年 月 日) or a full stop; \0 marks where the date ended.
_DATE_ALONE = re.compile(r"(?:[^\d\0]{0,8}[:：]\s*)?" + _DATE.pattern + r"\0\s*(?:年\s*月\s*日)?\s*[。.]?")


def _date_at(text: str, start: int = 0, month_end: bool = False) -> tuple[str, int] | None:
    """Given text, return the first date from `start` on as ISO and where it ends; a month alone is its
    first day, or its last with `month_end`."""
    match = _DATE.search(text, start)
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    day = int(match[3]) if match[3] else (last_day(year, month) if month_end else 1)
    try:
        return date(year, month, day).isoformat(), match.end()
    except (ValueError, TypeError):
        return None


def last_day(year: int, month: int) -> int | None:
    """Given a year and a month, return the month's last day (None for no such month)."""
    if not 1 <= month <= 12:
        return None
    return calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else None


def _normalised(text: str) -> str:
    return arabic_dates(unicodedata.normalize("NFKC", text))


def to_date(value: object) -> str | None:
    """Given a date as written ('2017年5月9日', '2017.5.9', '2017/05/09', '二〇一七年五月九日'), return 'YYYY-MM-DD'.

    Text that holds no readable date comes back trimmed; a cell with only the printed
    '年 月 日' is empty.
    """
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    text = clean(value)
    if text is None or not re.sub(r"[年月日\s]", "", text):
        return None
    norm = _normalised(text)
    found = _date_at(norm)
    # Only a cell that holds a whole date and nothing else becomes a date: in "2017年5月9日前完成" or
    # "约2017年5月" the words around it change its meaning, and "2017年5月" names no day, so the text stays.
    if found and _DATE_ALONE.fullmatch(norm[:found[1]] + "\0" + norm[found[1]:]) and _DATE.search(norm)[3]:
        return found[0]
    return text


def to_period(value: object) -> dict | str | None:
    """Given 'start to end' in any usual writing, return {'start': ..., 'end': ...}.

    '2016年12月1日至2017年3月31日', '2016.12.1-2017.3.31', '2016/12/01～2017/03/31'.
    A second date without a year ('2017年1月5日-3月20日') takes the first one's year; an end
    given as a month only ('2017年1月-2017年2月') is that month's last day.
    """
    text = clean(value)
    if text is None:
        return None
    norm = _normalised(text)
    first = _date_at(norm)
    if not first:
        return text
    second = _date_at(norm, first[1], month_end=True)
    if second:
        return {"start": first[0], "end": second[0]}
    tail = re.search(r"(\d{1,2})\s*[月./\-]\s*(?:(\d{1,2})\s*日?)?", norm[first[1]:])
    if tail:
        year, month = int(first[0][:4]), int(tail[1])
        try:
            day = int(tail[2]) if tail[2] else last_day(year, month)
            end = date(year, month, day).isoformat()
            return {"start": first[0], "end": end}
        except (ValueError, TypeError):
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
    return len(_SPACE.sub("", without_invisible(text or "")))


#: How many items a message names before it says 等 N 处.
MAX_LISTED = 10


def listed(items: list) -> str:
    """Given items to name in a message, return them joined with 、, long lists cut with 等 N 处."""
    items = [str(i) for i in items]
    if len(items) <= MAX_LISTED:
        return "、".join(items)
    return "、".join(items[:MAX_LISTED]) + f"等 {len(items)} 处"
