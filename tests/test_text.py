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


@given(st.text(alphabet=st.sampled_from(" \t\n\x1c\x85\u3000\u00a0\u200b\u2028\u205fa中")) | st.text())
def test_clean_of_text_without_spaces_is_the_text(value):
    assert text.clean(value) == (text._SPACE.sub(" ", text._INVISIBLE.sub("", value)).strip() or None)


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
    ("1,250万元", "万元", 1250), ("约12万元", "万元", 12), ("2万", None, 20000), ("3万户", None, 30000),
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
