"""Values that are right must raise no error: a month-only 出生年月, three yearly scores listed without years.

Packets are filled in code (tests/program_packets.py) with the value as people write it, parsed with the
program's campaign, and the record's issues and screening facts looked at.
"""

from __future__ import annotations

import pytest
from program_packets import write_filled

from pipeline.checking.screen import record_facts, yearly_results
from pipeline.definitions.programs import resolve_campaign
from pipeline.parse import parse_inbox
from pipeline.reading.values import to_year_month


def parse_one(tmp_path, pid, cid, field, written):
    def change(form_id, text):
        return {**text, field: written} if form_id == "application" and field in text else text

    write_filled(pid, cid, tmp_path / "inbox" / "a", change)
    return parse_inbox([tmp_path / "inbox"], tmp_path / "out", resolve_campaign(pid, None), jobs=1).records[0]


@pytest.mark.parametrize("written, month", [("1983年7月", "1983-07"), ("1983.7", "1983-07"), ("1983-07", "1983-07"),
                                            ("1983/11", "1983-11"), ("１９８３年７月", "1983-07")])
def test_a_month_is_a_year_and_month(written, month):
    assert to_year_month(written) == month


@pytest.mark.parametrize("written", ["1983年13月", "83年7月", "1983年7月5日", "七月"])
def test_what_is_no_month_stays_as_written(written):
    assert to_year_month(written) is None


@pytest.mark.parametrize("pid, cid", [("guangzhou", "person"), ("guangdong-stars", "star")])
def test_a_month_only_birth_is_no_error(tmp_path, pid, cid):
    record = parse_one(tmp_path, pid, cid, "birth", "1983年7月")
    assert record["forms"]["application"]["birth"] == "1983-07"
    assert [i for i in record["issues"] if i.get("field") == "birth"] == []


def test_a_month_in_a_field_that_asks_for_a_day_is_still_an_error(tmp_path):
    record = parse_one(tmp_path, "liaoning", "construction", "completion_date", "2019年6月")
    assert [i["code"] for i in record["issues"] if i.get("field") == "completion_date"] == ["invalid_format"]


@pytest.mark.parametrize("text, years", [
    ("最近三年用户满意度测评结果分别为85.2、86.4、87.3", 3),
    ("近三年得分分别为85.2分，86.4分，87.3分。", 3),
    ("2018年85分，2019年86分，2020年88分", 3),
    ("2019年：86.4\n2020年：87.3", 2),
    ("第三方测评满意度为85.2分", 1),
])
def test_yearly_results_count_the_years_given(text, years):
    assert yearly_results(text) == years


def test_three_scores_without_years_count_three_years(tmp_path):
    from datetime import date

    record = parse_one(tmp_path, "national", "enterprise", "satisfaction_history", "最近三年用户满意度测评结果分别为85.2、86.4、87.3")
    assert record_facts(record, date(2021, 6, 1))["satisfaction_years"] == 3
