"""The normalisers: examples from the contract, and properties that must hold for any input."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.common import text


def test_clean_folds_white_space_including_full_width():
    assert text.clean("  黑龙江\u3000\u3000省 \n 质量协会 ") == "黑龙江 省 质量协会"
    assert text.clean(" \u3000 ") is None
    assert text.clean(None) is None


def test_fold_ignores_spacing_width_and_punctuation_style():
    assert text.fold("通  信  地  址") == text.fold("通信地址")
    assert text.fold("全员劳产率 元／人") == text.fold("全员劳产率元/人")
    assert text.fold("企业名称（公章）：") == text.fold("企业名称(公章)")
    assert text.fold("保修期返修率（%）") == text.fold("保修期返修率(％)")
    assert text.fold("工\n业\n企\n业\n填\n写") == "工业企业填写"
    assert text.fold("邮编") != text.fold("邮箱")


def test_numbers_as_the_contract_writes_them():
    assert text.to_number("1,250") == 1250
    assert text.to_number("95.5％") == 95.5
    assert text.to_number("12万元", unit="万元") == 12
    assert text.to_number("１２３") == 123
    assert text.to_number("无") == "无"
    assert text.to_number("不适用 ") == "不适用"
    assert text.to_number("") is None
    assert text.to_number(7) == 7


def test_dates_in_every_usual_writing():
    for written in ("2017年5月9日", "2017.5.9", "2017/05/09", "2017-5-9", "2017 年 5 月 9 日"):
        assert text.to_date(written) == "2017-05-09", written
    assert text.to_date("年    月    日") is None
    assert text.to_date("待定") == "待定"
    assert text.to_date("2017年2月30日") == "2017年2月30日"


def test_periods():
    assert text.to_period("2016年12月1日至2017年3月31日") == {"start": "2016-12-01", "end": "2017-03-31"}
    assert text.to_period("2016.12.1-2017.3.31") == {"start": "2016-12-01", "end": "2017-03-31"}
    assert text.to_period("2017年1月5日-3月20日") == {"start": "2017-01-05", "end": "2017-03-20"}
    assert text.to_period("去年冬天") == "去年冬天"


def test_phone_postcode_email():
    assert text.is_phone("13904809986")
    assert text.is_phone("0451—87979096")
    assert text.is_phone("0451-87979096、13904809986")
    assert text.is_phone("+86 139 0480 9986")
    assert not text.is_phone("12345")
    assert not text.is_phone("电话")
    assert text.is_postcode("150036") and not text.is_postcode("15003")
    assert text.is_email("hlj@zhixie.org.cn") and not text.is_email("hlj@")


def test_explained_empty():
    for answer in ("无", "不适用", "/", "未开展", "暂无"):
        assert text.is_explained_empty(answer), answer
    assert not text.is_explained_empty("") and not text.is_explained_empty("12")


@given(st.text())
def test_clean_is_idempotent_and_never_has_edge_space(value):
    once = text.clean(value)
    assert text.clean(once) == once
    if once:
        assert once == once.strip() and "  " not in once


#: Characters no one sees, written out here rather than taken from the module under test.
UNSEEN = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def clean_oracle(value: str) -> str | None:
    """clean, said another way: drop the unseen characters, split on white space, join with one space."""
    return " ".join("".join(c for c in value if c not in UNSEEN).split()) or None


@given(st.text(alphabet=st.sampled_from(" \t\n\x1c\x85\u3000\u00a0\u200b\u2028\u205fa中")) | st.text())
def test_clean_is_split_and_join(value):
    assert text.clean(value) == clean_oracle(value)


@given(st.text(alphabet=st.sampled_from(" \t\n\u3000\u00a0\u200b\u2028a中")))
def test_is_blank_agrees_with_clean(value):
    assert text.is_blank(value) == (text.clean(value) is None)


def test_phone_digits_of_full_width_and_ascii_alike():
    assert text.phone_digits("０４５１－８７９７９０９６") == text.phone_digits("0451-87979096") == "045187979096"
    assert text.phone_digits("+86 139 0480 9986") == "13904809986"


def _walk(value):
    if isinstance(value, str):
        return text.xml_safe_text(value)
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, dict):
        return {_walk(k): _walk(v) for k, v in value.items()}
    return value


_texts = st.text(alphabet=st.sampled_from(["a", "中", "\\", "x", "\x01", "\x0b", "\n", "\ufffe", "\ud800", "\u200b"]))


@given(st.recursive(st.none() | st.integers() | _texts,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=4)))
def test_xml_safe_of_a_whole_record_is_the_walk_of_each_text(value):
    assert text.xml_safe(value) == _walk(value)


@given(st.text(alphabet=st.sampled_from("张三李四ＡａAa１1①豈ﬁ：:（( \u3000İß")) | st.text())
def test_fold_of_text_already_folded_is_the_whole_fold(value):
    assert text.fold(value) == text._fold(value)


@given(st.text())
def test_fold_is_idempotent(value):
    assert text.fold(text.fold(value)) == text.fold(value)


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_integers_survive_thousands_separators(n):
    assert text.to_number(f"{n:,}") == n


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2)))
def test_percentages_drop_the_sign(x):
    assert text.to_number(f"{x}%") == x
    assert text.to_number(f"{x}％") == x


@given(st.dates())
def test_dates_round_trip_through_chinese_writing(day):
    if day.year >= 1000:
        assert text.to_date(f"{day.year}年{day.month}月{day.day}日") == day.isoformat()
        assert text.to_date(f"{day.year}.{day.month}.{day.day}") == day.isoformat()


@given(st.dates(), st.dates())
def test_periods_round_trip(a, b):
    if a.year >= 1000 and b.year >= 1000:
        assert text.to_period(f"{a.year}年{a.month}月{a.day}日至{b.year}年{b.month}月{b.day}日") == {
            "start": a.isoformat(), "end": b.isoformat()}


@given(st.text())
def test_normalisers_never_raise(value):
    text.to_number(value), text.to_date(value), text.to_period(value)
    text.is_phone(value), text.is_postcode(value), text.is_email(value)


@pytest.mark.parametrize("mark", list(text.INVISIBLE))
def test_invisible_characters_are_removed_before_normalising(mark):
    # LibreOffice writes U+200D into rows added under Track Changes: 序号 came back as "\u200d16".
    assert text.to_number(f"{mark}16") == 16
    assert text.clean(f"华光{mark}公司{mark}") == "华光公司"
    assert text.fold(f"企业{mark}名称") == "企业名称"
    assert text.to_date(f"2017{mark}年5月9日") == "2017-05-09"
    assert text.is_blank(mark)


@pytest.mark.parametrize("written, unit, expected", [
    ("2.4亿元", "万元", 24000), ("12万台", "台件", 120000), ("12万件", "台件", 120000), ("5万人次", "人次", 50000),
    ("24000万", "万元", 24000), ("24000万元", "万元", 24000), ("3.2万人", "人", 32000), ("2万户", "户", 20000),
    ("32000平方米", "万平方米", 3.2), ("1.2万平方米", "平方米", 12000), ("0.1亿元", "万元", 1000),
    ("5000元", "万元", 0.5), ("35.6万元/人", "元/人", 356000), ("3千人", "人", 3000), ("1.5亿", "万元", 15000),
    ("1,250万元", "万元", 1250), ("2万", None, 20000), ("3万户", None, 30000),
])
def test_numbers_are_converted_to_the_labels_unit_exactly(written, unit, expected):
    got = text.to_number(written, unit)
    assert got == expected and type(got) is type(expected), (written, got)
    assert text.number_unit(written, unit) is None


@pytest.mark.parametrize("written, unit, named", [
    ("12美元", "万元", "美元"), ("5台", "万元", "台"), ("12吨", "台件", "吨"), ("12%", "万元", "%"),
    ("12万元", None, "万元"), ("3人", "户", "人"),
])
def test_a_unit_that_cannot_be_converted_keeps_the_text_and_is_named(written, unit, named):
    assert text.to_number(written, unit) == written
    assert text.number_unit(written, unit) == named


@given(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
       st.sampled_from([("亿元", "万元", 10**4), ("万元", "万元", 1), ("万台", "台件", 10**4), ("万人次", "人次", 10**4),
                        ("万", "万元", 1), ("千人", "人", 10**3), ("平方米", "万平方米", Decimal("0.0001"))]))
def test_converted_numbers_never_drift(number, case):
    written, unit, factor = case
    exact = number * factor
    got = text.to_number(f"{number}{written}", unit)
    assert Decimal(str(got)) == exact if factor != 1 else got == text.to_number(str(number))


@pytest.mark.parametrize("written, expected", [
    ("二〇一七年五月十八日", "2017-05-18"), ("二○一七年十二月三十一日", "2017-12-31"), ("二零一六年十月二十日", "2016-10-20"),
    ("二〇一七年 五 月 九 日", "2017-05-09"),
])
def test_chinese_numeral_dates_are_dates(written, expected):
    assert text.to_date(written) == expected


@pytest.mark.parametrize("written, expected", [
    ("2017年1月-2017年2月", {"start": "2017-01-01", "end": "2017-02-28"}),
    ("2016年12月至2017年2月", {"start": "2016-12-01", "end": "2017-02-28"}),
    ("2016.1-2016.2", {"start": "2016-01-01", "end": "2016-02-29"}),
    ("2017年1月5日-3月", {"start": "2017-01-05", "end": "2017-03-31"}),
    ("二〇一七年一月五日至二〇一七年三月二十日", {"start": "2017-01-05", "end": "2017-03-20"}),
])
def test_a_month_only_period_ends_on_the_months_last_day(written, expected):
    assert text.to_period(written) == expected
# --- hand-written tables: what staff type, and what it must become ------------------------------


@pytest.mark.parametrize("written, number", [
    ("1200", 1200), ("1200.0", 1200.0), ("12.50", 12.5),
    ("-3", -3), ("+7", 7), ("0", 0), ("１２．５％", 12.5), ("15人次", 15), ("12分", 12),
    ("60%", 60), (" 86.5 ", 86.5), (12.5, 12.5), (0, 0),
])
def test_numbers_table(written, number):
    found = text.to_number(written)
    assert found == number and type(found) is type(number), written


@pytest.mark.parametrize("written", ["1200约", "1.2.3", "N/A", "约", "十二", "12万元左右", "1e5", "0x10", "--3",
                                     # a money or area unit where the label states none: 万元 or 元 cannot be guessed
                                     "约 1,200 万元", "2.5万平方米", "3亿元",
                                     # an estimate is no exact number; a percentage has no magnitude
                                     "约1200", "约12万元", "12万%", "3千%"])
def test_text_that_is_no_number_comes_back_as_written(written):
    assert text.to_number(written) == written


def test_a_bool_is_no_number_and_the_labels_unit_is_dropped():
    assert text.to_number(True) is None and text.to_number(False) is None
    assert text.to_number("12分", unit="分") == 12 and text.to_number("12吨", unit="台件") == "12吨"
    assert text.to_number(None) is None and text.to_number("  ") is None


@pytest.mark.parametrize("written, day", [
    ("2017年5月9日", "2017-05-09"), ("2017年05月09日", "2017-05-09"), ("2017.5", "2017.5"), ("2017年5月", "2017年5月"),
    ("2017年12月31日", "2017-12-31"), ("2016年2月29日", "2016-02-29"), ("二〇一七年", "二〇一七年"),
])
def test_dates_table(written, day):
    assert text.to_date(written) == day


def test_a_long_sentence_that_merely_contains_a_date_is_kept_as_written():
    sentence = "我公司于2017年5月9日通过了质量管理体系认证的监督审核"
    assert text.to_date(sentence) == sentence
    assert text.to_date(f"  {sentence} ") == sentence
    assert text.to_period(sentence) == sentence


def test_a_date_object_and_an_impossible_date():
    from datetime import date, datetime

    assert text.to_date(date(2017, 5, 9)) == "2017-05-09"
    assert text.to_date(datetime(2017, 5, 9, 13, 30)) == "2017-05-09"
    assert text.to_date("2017年13月1日") == "2017年13月1日"
    assert text.to_period("2017年13月1日至2017年3月1日") == "2017年13月1日至2017年3月1日"


@pytest.mark.parametrize("written, period", [
    ("2016年12月1日—2017年3月31日", {"start": "2016-12-01", "end": "2017-03-31"}),
    ("2016/12/01～2017/03/31", {"start": "2016-12-01", "end": "2017-03-31"}),
    ("2017年1月5日-3月20日", {"start": "2017-01-05", "end": "2017-03-20"}),
    ("2017年1月5日至2月30日", "2017年1月5日至2月30日"),
    ("2017年1月5日", "2017年1月5日"),
    ("", None),
])
def test_periods_table(written, period):
    assert text.to_period(written) == period


@pytest.mark.parametrize("phone", [
    "13904809986", "139 0480 9986", "139-0480-9986", "+86 139 0480 9986", "8613904809986", "１３９０４８０９９８６",
    "0451-87979096", "0451—87979096", "(0451)87979096", "045187979096", "87979096", "0451-87979096转123",
    "010-62345678", "0451-87979096、13904809986", "0451-87979096；13904809986", "0451-87979096/87979097",
    "19912345678", "0451 8797 9096",
])
def test_phones_table(phone):
    assert text.is_phone(phone), phone


@pytest.mark.parametrize("not_phone", [
    "12345678901", "10012345678", "11012345678", "1390480998", "139048099861", "12345", "电话", "",
    "0451-87979096转", "0451-87979096转1234567", "0451-07979096", "00451-87979096", "1234567",
    "13904809986、12345", "zhang@example.com", "+1 139 0480 9986",
])
def test_not_phones_table(not_phone):
    assert not text.is_phone(not_phone), not_phone


@given(st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9),
       st.sampled_from(["", " ", "-"]), st.booleans())
def test_any_mobile_number_in_any_grouping_is_a_phone(second, rest, sep, wide):
    digits = "1" + second + rest
    written = sep.join([digits[:3], digits[3:7], digits[7:]])
    if wide:
        written = written.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    assert text.is_phone(written) and text.phone_digits(written) == digits


@given(st.sampled_from("012"), st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_eleven_digits_starting_10_11_or_12_are_no_mobile(second, rest):
    assert not text.is_phone("1" + second + rest)


@pytest.mark.parametrize("email, ok", [
    ("zhang.san@example.com", True), ("hlj@zhixie.org.cn", True), ("a+b@x-y.cn", True), (" zhang@example.com ", True),
    ("ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", True), ("zhang@example", False), ("zhang.example.com", False),
    ("@example.com", False), ("zhang@@example.com", False), ("zhang@example.com; li@example.com", False), ("", False),
])
def test_emails_table(email, ok):
    assert text.is_email(email) is ok


@pytest.mark.parametrize("postcode, ok", [("150036", True), (150036, True), (" 150036 ", True), ("１５００３６", True),
                                          ("15003", False), ("1500366", False), ("15003a", False), ("", False)])
def test_postcodes_table(postcode, ok):
    assert text.is_postcode(postcode) is ok


@pytest.mark.parametrize("answer", ["无", "不适用", "/", "／", "—", "-", "未", "暂无", "没有", "N/A", "n/a", "NA", "na",
                                    " 无 ", "未开展出口业务", "无此项", "不适用于本企业"])
def test_explained_empty_table(answer):
    assert text.is_explained_empty(answer), answer


@pytest.mark.parametrize("answer", ["有", "12", "", None, "   ", "2016年无重大事故", "NAS", "没有了？有", "满意"])
def test_not_explained_empty_table(answer):
    assert not text.is_explained_empty(answer), answer


@pytest.mark.parametrize("label, key", [
    ("通  信  地  址", "通信地址"), ("企业名称（公章）：", "企业名称(公章)"), ("ＡＢＣ", "abc"), ("邮箱：", "邮箱"),
    ("保修期返修率（％）", "保修期返修率(%)"), ("“甲”、‘乙’", "\"甲\",'乙'"), ("【注】", "(注)"), ("一—二", "一-二"),
    ("張三", "張三"), ("", ""),
])
def test_fold_table(label, key):
    assert text.fold(label) == key


def test_body_chars_do_not_count_white_space():
    assert text.body_chars("一二 三\n四\u3000五\u200b") == 5
    assert text.body_chars("") == 0 and text.body_chars(None) == 0


def test_listed_cuts_long_lists():
    assert text.listed(range(1, 11)) == "、".join(str(i) for i in range(1, 11))
    assert text.listed(range(1, 12)) == "、".join(str(i) for i in range(1, 11)) + "等 11 处"
    assert text.listed([]) == ""


def test_ticks():
    for mark in "☑✓✔√■☒▣●✅⊠":
        assert text.is_ticked(mark)
    for mark in "☐□○ x":
        assert not text.is_ticked(mark)


def test_xml_safe_texts_of_many_texts_with_and_without_nul():
    assert text.xml_safe_texts(["a\x01b", "c", "\ufffe"]) == ["ab", "c", ""]
    assert text.xml_safe_texts(["a\x00b", "c\x0b"]) == ["ab", "c"]
    assert text.xml_safe_texts([]) == []
    assert text.xml_safe("a\x01") == "a" and text.xml_safe(5) == 5


def test_a_date_with_words_around_it_is_kept_as_written():
    # the words change the date's meaning (before, about, the morning of): a silent 2017-05-09 would lose them
    for written in ("2017年5月9日前完成", "约2017年5月", "于2017年5月9日", "2017年5月9日上午在哈尔滨市开会讨论"):
        assert text.to_date(written) == written
    # a printed label before the date and a full stop after it are no words of the applicant's
    assert text.to_date("填表日期：2017年5月9日") == "2017-05-09" and text.to_date("2017-5-9。") == "2017-05-09"
    assert text.to_date("2017年5月20日 年 月 日") == "2017-05-20"  # written beside the printed slot


def test_a_datetime_with_microseconds_is_its_day():
    from datetime import datetime

    assert text.to_date(datetime(2017, 5, 9, 13, 30, 0, 123456)) == "2017-05-09"


def test_a_trailing_letter_is_no_percent_sign():
    assert text.to_number("12X") == "12X" and text.to_number("12%%") == "12%%"


# --- units, Chinese numerals and month ends at their edges ---------------------------------------


@pytest.mark.parametrize("written, unit, expected", [
    ("3年", "年", 3), ("3.5 年", "年", 3.5), ("12页", "页", 12),    # a label unit the table does not know: its own
    ("3百万元", "万元", 300), ("2千万元", "万元", 2000), ("12.5", "万元", 12.5), ("0.5", "%", 0.5),
    ("95.5％", "%", 95.5),
])
def test_numbers_in_units_of_their_label(written, unit, expected):
    got = text.to_number(written, unit)
    assert got == expected and type(got) is type(expected), (written, got)
    assert text.number_unit(written, unit) is None


def test_a_percentage_with_a_magnitude_is_no_number_and_its_unit_is_named():
    assert text.to_number("12万%", "%") == "12万%" and text.number_unit("12万%", "%") == "万%"


@pytest.mark.parametrize("written, unit, named", [
    ("3个", "年", "个"), ("3万年", "年", "万年"), ("3月", "年", "月"),
    ("12万%", None, "万%"), ("12万%", "万元", "万%"), ("12万%", "台件", "万%"), ("12万%", "万", "万%"),
])
def test_other_units_than_the_labels_are_kept_and_named(written, unit, named):
    assert text.to_number(written, unit) == written
    assert text.number_unit(written, unit) == named


@pytest.mark.parametrize("written, split", [
    ("万元", (10**4, "元")), ("亿元", (10**8, "元")), ("百万元", (10**6, "元")), ("万台", (10**4, "台件")),
    ("万", (10**4, "")), ("千万", (10**7, "")), ("", (1, "")), (" 平方米 ", (1, "平方米")), ("美元", None), ("万吨", None),
])
def test_split_unit(written, split):
    assert text.split_unit(written) == split


@pytest.mark.parametrize("written, expected", [
    ("二〇一七年五月", "2017年5月"), ("二〇一七年十月三十一日", "2017年10月31日"), ("二〇一七年五月十日", "2017年5月10日"),
    # numerals that are no month or day: the date stays as written
    ("二〇一七年一二月五日", "二〇一七年一二月五日"), ("二〇一七年十十月", "二〇一七年十十月"),
    ("二〇一七年十二三月", "二〇一七年十二三月"), ("二〇一七年五月二三十日", "二〇一七年五月二三十日"),
    # a date in digits first does not hide one in Chinese numerals after it
    ("2016年12月至二〇一七年三月", "2016年12月至2017年3月"), ("元年二〇一七年五月", "元年2017年5月"),
])
def test_arabic_dates(written, expected):
    assert text.arabic_dates(written) == expected


def test_a_period_written_half_in_digits_half_in_chinese_numerals():
    assert text.to_period("2016年12月至二〇一七年三月") == {"start": "2016-12-01", "end": "2017-03-31"}


@pytest.mark.parametrize("year, month, day", [
    (2017, 1, 31), (2017, 12, 31), (2016, 2, 29), (2017, 2, 28), (1, 2, 28), (9999, 12, 31),
    (2017, 0, None), (2017, 13, None), (0, 1, None), (10000, 1, None),
])
def test_last_day(year, month, day):
    assert text.last_day(year, month) == day


@pytest.mark.parametrize("value", ["\u200b", "\u200b\n", " \u00ad ", "\ufeff\u2060"])
def test_only_invisible_characters_are_blank(value):
    assert text.is_blank(value) and text.clean(value) is None
    assert not text.is_blank(f"{value}无") and not text.is_blank(f"无\n{value}")


@pytest.mark.parametrize("written, unit, estimate", [
    ("约1200", None, True), ("约 2100万元", "万元", True), ("约2.5万平方米", "万平方米", True), ("1200", None, False),
    ("约", None, False), ("约很多", None, False), ("约约12", None, False), ("约 2100万元", None, False), (1200, None, False),
])
def test_an_estimate_is_约_and_a_number(written, unit, estimate):
    assert text.is_approximate(written, unit) is estimate



@pytest.mark.parametrize("written, expected", [
    ("1,250", 1250), ("12,345,678.5", 12345678.5), ("-1,250", -1250), ("1,250万元", "1,250万元"), ("1,250人", 1250),
    # a comma out of a thousands place is no separator: the cell is not one number
    ("1,2345", "1,2345"), ("12，5", "12，5"), ("1.200,5", "1.200,5"), ("12,34", "12,34"), ("1,250,5", "1,250,5"),
    ("1,250万,5", "1,250万,5"),
])
def test_thousands_separators_only_in_their_places(written, expected):
    assert text.to_number(written) == expected
    assert text.number_unit(written, "万元") in (None, "人")  # never a digit named as a unit
