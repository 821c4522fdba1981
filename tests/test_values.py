"""Cell text → contract values (pipeline.reading.values), against hand-written tables and the generators' own truth."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.definitions.forms import load_forms
from pipeline.reading.values import join_lines, option_core, option_spans, ticked_options, value


def field(key: str, fid: str):
    return load_forms()[key].fields[fid]


COMPLIANT = field("recommendation", "compliant")
CATEGORY = field("cover", "category")
PROJECT_TYPE = field("application.construction", "project_type")
LIST = field("summary_table", "enterprises")


# --- yes/no and choices: the order options are written in ---------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("☑不符合 ☐符合", False),        # 不符合 first: 符合 must not be found inside it
    ("☐不符合 ☑符合", True),
    ("☑不符合☐符合", False),
    ("☐不符合☑符合", True),
    ("不符合☑ 符合☐", False),        # marks after the options
    ("不符合☐ 符合☑", True),
    ("☑ 符合\n☐ 不符合", True),
    ("☐ 符合\n☑ 不符合", False),
    ("☐不符合 ☐符合", None),
    ("☑不符合 ☑符合", None),          # both ticked: no answer
    ("不符合", False),                # the other option deleted
    ("符合", True),
    ("", None),
    (None, None),
])
def test_yes_no_whichever_option_comes_first(text, expected):
    assert value(COMPLIANT, text) is expected


def test_option_spans_never_overlap_and_find_the_short_option_outside_the_long_one():
    text = "☑不符合☐符合"
    spans = option_spans(text, COMPLIANT.options)
    assert spans == {"no": (1, 4), "yes": (5, 7)}
    assert option_spans("不符合", COMPLIANT.options) == {"no": (0, 3)}
    assert option_spans("符合不符合", COMPLIANT.options) == {"no": (2, 5), "yes": (0, 2)}


@pytest.mark.parametrize("printed, core", [("1.公共建筑", "公共建筑"), ("有（请附复印件）", "有"), ("企业类", "企业类"),
                                           ("12、其它", "其它"), ("（注）", "(注)")])
def test_option_core(printed, core):
    assert option_core(printed) == core


MARK_STYLES = [("☑", "☐"), ("■", "□"), ("√", "□"), ("✔", "○"), ("☒", "☐")]


@given(st.lists(st.booleans(), min_size=4, max_size=4), st.sampled_from(MARK_STYLES), st.permutations(range(4)),
       st.sampled_from([" ", "  ", "\u3000", "\n", ""]), st.booleans())
def test_ticked_categories_are_those_the_generator_ticked(ticks, style, order, gap, after):
    keys = list(CATEGORY.options)
    on, off = style
    parts = []
    for i in order:
        mark = on if ticks[i] else off
        printed = CATEGORY.options[keys[i]]
        parts.append(f"{printed}{mark}" if after else f"{mark}{printed}")
    expected = [k for k, t in zip(keys, ticks) if t]
    assert (ticked_options(gap.join(parts), CATEGORY.options) or []) == expected


def test_numbered_options_with_their_marks():
    text = "☐1.公共建筑 ☐2.市政工程 ☐3.交通工程 ☑4.住宅工程 ☐5.其它"
    assert value(PROJECT_TYPE, text) == "住宅工程"
    assert value(PROJECT_TYPE, "☑1.公共建筑 ☐2.市政工程 ☐3.交通工程 ☑4.住宅工程 ☐5.其它") == ["公共建筑", "住宅工程"]
    assert value(PROJECT_TYPE, "☐1.公共建筑 ☐2.市政工程") is None


def test_multi_choice_keeps_form_order():
    evidence = field("recommendation", "evidence_review")
    printed = list(evidence.options.values())
    text = " ".join(f"☑{p}" for p in reversed(printed))
    assert value(evidence, text) == list(evidence.options)
    assert value(evidence, " ".join(f"☐{p}" for p in printed)) is None


def test_text_without_any_option_is_no_answer():
    assert ticked_options("同意推荐", COMPLIANT.options) is None
    assert ticked_options("☑ 同意", COMPLIANT.options) is None


# --- lists: one item a line, printed numbering dropped ------------------------------------------


@pytest.mark.parametrize("raw, items", [
    ("1. 甲公司\n2、乙公司\n10.丙公司", ["甲公司", "乙公司", "丙公司"]),
    ("1）甲公司\n2) 乙公司", ["甲公司", "乙公司"]),
    ("甲公司\n\n  乙公司  ", ["甲公司", "乙公司"]),
    ("2016年新成立的丁公司", ["2016年新成立的丁公司"]),          # a year is no numbering
    ("1、2016年新成立的丁公司", ["2016年新成立的丁公司"]),
    ("3.5万平方米住宅小区", ["3.5万平方米住宅小区"]),            # nor is a decimal number
    ("12345", ["12345"]),
    ("1.\n2.", None),
    ("", None),
    (None, None),
])
def test_list_items_without_their_numbering(raw, items):
    assert value(LIST, raw) == items


# --- text wrapped over lines --------------------------------------------------------------------


@pytest.mark.parametrize("raw, joined", [
    ("黑龙江省示例电器有\n限公司", "黑龙江省示例电器有限公司"),
    ("0451-\n87654321", "0451-87654321"),
    ("1390480\n9986", "13904809986"),
    ("zhang@\nexample.com", "zhang@example.com"),
    ("Harbin\nElectric", "Harbin Electric"),
    ("  一\n\n  二 ", "一二"),
    ("one line", "one line"),
    (None, None),
])
def test_join_lines(raw, joined):
    assert join_lines(raw) == joined


def test_a_break_the_applicant_typed_stays_a_line_break_and_a_list_splits_on_it():
    # Readers join the lines a cell wrapped; a "\n" that reaches a value is a paragraph or soft break typed.
    assert value(field("cover", "company_name"), "黑龙江省示例\n电器有限公司") == "黑龙江省示例\n电器有限公司"
    assert value(field("cover", "company_name"), " 2013年：82.1 \n\n 2014年：83.5\n") == "2013年：82.1\n2014年：83.5"
    assert value(LIST, "黑龙江省示例\n电器有限公司") == ["黑龙江省示例", "电器有限公司"]


def test_values_by_type():
    app = "application.construction"
    assert value(field(app, "floor_area"), "2.5万平方米") == 2.5
    assert value(field(app, "floor_area"), "约 2.5万平方米") == "约 2.5万平方米"  # an estimate stays as typed
    assert value(field(app, "completion_date"), "2015年\n5月1日") == "2015-05-01"
    assert value(field("recommendation", "survey_period"), "2017年1月5日至\n2017年3月20日") == {
        "start": "2017-01-05", "end": "2017-03-20"}
    assert value(field("cover", "company_name"), "  示例  公司 ") == "示例 公司"
    assert value(field("cover", "company_name"), "   ") is None


# --- option placement, case by case (each row a way of placing options that once went wrong) ------


#: Options where the shorter one sorts first and lies inside the longer one.
NESTED = {"a": "有", "b": "有缺陷"}


@pytest.mark.parametrize("text, options, spans", [
    ("有缺陷有", NESTED, {"b": (0, 3), "a": (3, 4)}),             # the short one right after the long one
    ("有缺陷", NESTED, {"b": (0, 3)}),
    ("有缺缺", {"a": "缺", "b": "有缺"}, {"b": (0, 2), "a": (2, 3)}),  # the next place, one character on
    ("有缺陷有有", NESTED, {"b": (0, 3), "a": (3, 4)}),            # the first free place, not the last
])
def test_option_spans_table(text, options, spans):
    assert option_spans(text, options) == spans


@pytest.mark.parametrize("text, expected", [
    ("☑有缺陷 ☐有", ["b"]),
    ("☐有缺陷 ☑有", ["a"]),
    ("有缺陷☐ 有☑", ["a"]),        # marks after, the short option found first at 0 inside the long one
    ("有缺陷☑ 有☐", ["b"]),
])
def test_the_longer_option_is_placed_first_whatever_its_sort_order(text, expected):
    assert ticked_options(text, NESTED) == expected


def test_numbering_of_two_digits_between_mark_and_option():
    options = {"x": "12.其它", "y": "13.另外"}
    assert ticked_options("☑12.其它 ☐13.另外", options) == ["x"]
    assert ticked_options("☐12.其它 ☑13.另外", options) == ["y"]


@pytest.mark.parametrize("text, expected", [
    ("☐企业类 产品类√ ☐建筑工程类 ☐服务类", ["product"]),     # marks before, one applicant ticked after instead
    ("☐企业类 产品类✔ ☐建筑工程类 ☐服务类", ["product"]),
    ("☐企业类 产品类☐ ☐建筑工程类 ☐服务类", []),
])
def test_a_tick_after_one_option_counts_among_marks_before(text, expected):
    assert (ticked_options(text, CATEGORY.options) or []) == expected


def test_several_options_left_without_any_mark_are_no_answer():
    assert ticked_options("符合 不符合", COMPLIANT.options) is None
    assert ticked_options("企业类 产品类", CATEGORY.options) is None


def test_one_ticked_option_of_a_multi_choice_is_a_list():
    evidence = field("recommendation", "evidence_review")
    first, *others = evidence.options.values()
    text = f"☑{first} " + " ".join(f"☐{p}" for p in others)
    assert value(evidence, text) == [next(iter(evidence.options))]


@pytest.mark.parametrize("raw, joined", [
    ("黑龙江 示例\n公司", "黑龙江 示例公司"),      # a space inside a line stays
    ("\n \n", ""),
    ("有限\nABC", "有限ABC"),                    # next to a Chinese character, either side
    ("ABC\n有限", "ABC有限"),
    ("Room\n3", "Room 3"),                      # a digit on one side only
    ("3\nRoom", "3 Room"),
    ("TAX\nFREE", "TAX FREE"),
    ("a/\nb", "a/b"),
    ("a.\nb", "a.b"),
])
def test_join_lines_more(raw, joined):
    assert join_lines(raw) == joined


def test_a_number_field_drops_its_own_unit():
    score = field("recommendation", "satisfaction_score")
    assert score.unit and value(score, f"86.5{score.unit}") == 86.5
