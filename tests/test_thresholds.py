"""Every threshold, limit and date of the rules, at the boundary: at it, one step below, one step above.

The numbers are read from the campaign files (forms/campaigns/*.yaml) and forms/report.yaml, never
copied here: a flipped `>=` or `<` in a rule, or a wrong number in a campaign, fails one of these.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from test_rules import COMPANY, PERIOD, broken, codes, only, respondent_rows, valid_record

from pipeline.checking.rules import batch, check_batch, check_record, construction, report, respondents, survey
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, CAMPAIGNS_DIR, Namespace, load_campaign
from pipeline.definitions.forms import load_forms

DAY = timedelta(days=1)
#: One step of a score as applicants write it (one decimal).
SCORE_STEP = 0.1


@pytest.fixture(scope="module")
def campaign():
    return load_campaign(DEFAULT_CAMPAIGN)


def campaigns_with(key: str) -> list:
    """Given a campaign setting, return the campaign files that set it (each is tested at its own boundary)."""
    found = [load_campaign(p) for p in sorted(CAMPAIGNS_DIR.glob("*.yaml"))]
    out = [c for c in found if c.data.get(key) is not None]
    assert out, key
    return out


def ids(campaigns: list) -> list[str]:
    return [c.id for c in campaigns]


def issue_codes(record: dict, campaign) -> list[tuple[str, str]]:
    return sorted((i["severity"], i["code"]) for i in check_record(record, campaign))


# --- rule 6: the satisfaction minimum -----------------------------------------------------------


def scored(score, category: str = "enterprise") -> dict:
    record = broken(category, "recommendation", satisfaction_score=score)
    record["attachments"][1]["score"] = score
    return record


@pytest.mark.parametrize("campaign", campaigns_with("min_satisfaction"), ids=ids(campaigns_with("min_satisfaction")))
def test_a_score_at_the_minimum_passes_and_one_step_below_does_not(campaign):
    minimum = campaign.min_satisfaction
    assert survey.low_score(scored(minimum), campaign) == []
    assert survey.low_score(scored(minimum + SCORE_STEP), campaign) == []
    (issue,) = survey.low_score(scored(round(minimum - SCORE_STEP, 1)), campaign)
    assert (issue["severity"], issue["code"], issue["field"]) == ("error", "below_threshold", "satisfaction_score")
    assert f"低于要求的{minimum}分" in issue["message"]


def test_score_at_the_minimum_is_a_complete_record(campaign):
    minimum = campaign.min_satisfaction
    assert check_record(scored(minimum), campaign) == []
    assert issue_codes(scored(minimum - SCORE_STEP), campaign) == [("error", "below_threshold")]


def test_score_of_the_report_at_the_minimum_when_the_form_has_none(campaign):
    minimum = campaign.min_satisfaction
    for score, found in ((minimum, []), (minimum - SCORE_STEP, ["below_threshold"])):
        record = broken("service", "recommendation", satisfaction_score=None)
        record["attachments"][1]["score"] = score
        assert codes(survey.low_score(record, campaign)) == found


@pytest.mark.parametrize("category, article", [("enterprise", "管理办法第五条第5款"), ("product", "管理办法第六条第5款"),
                                               ("construction", "管理办法第七条第5款"), ("service", "管理办法第八条第5款")])
def test_a_low_score_names_the_article_of_its_category(category, article, campaign):
    (issue,) = survey.low_score(scored(campaign.min_satisfaction - 1, category), campaign)
    assert issue["article"] == article


def test_a_score_of_zero_is_a_score(campaign):
    assert codes(survey.low_score(scored(0), campaign)) == ["below_threshold"]


# --- rule 6: the survey's cut-off date ----------------------------------------------------------


def surveyed_from(start: date, end: str = PERIOD["end"]) -> dict:
    period = {"start": start.isoformat(), "end": end}
    record = broken("product", "recommendation", survey_period=period)
    record["attachments"][1]["survey_period"] = dict(period)
    return record


@pytest.mark.parametrize("campaign", campaigns_with("survey_start_min"), ids=ids(campaigns_with("survey_start_min")))
def test_a_survey_starting_on_the_cut_off_passes_and_a_day_earlier_does_not(campaign):
    cutoff = campaign.survey_start_min
    later = (cutoff + 400 * DAY).isoformat()
    assert survey.early_survey(surveyed_from(cutoff, later), campaign) == []
    assert survey.early_survey(surveyed_from(cutoff + DAY, later), campaign) == []
    (issue,) = survey.early_survey(surveyed_from(cutoff - DAY, later), campaign)
    assert (issue["severity"], issue["code"], issue["field"]) == ("error", "survey_too_early", "survey_period")
    assert (cutoff - DAY).isoformat() in issue["message"] and cutoff.isoformat() in issue["message"]


def test_survey_on_the_cut_off_is_a_complete_record(campaign):
    cutoff = campaign.survey_start_min
    assert check_record(surveyed_from(cutoff), campaign) == []
    assert issue_codes(surveyed_from(cutoff - DAY), campaign) == [("error", "survey_too_early")]


def test_survey_period_of_the_report_when_the_form_has_none(campaign):
    cutoff = campaign.survey_start_min
    for start, found in ((cutoff, []), (cutoff - DAY, ["survey_too_early"])):
        record = broken("product", "recommendation", survey_period=None)
        record["attachments"][1]["survey_period"] = {"start": start.isoformat(), "end": PERIOD["end"]}
        assert codes(survey.early_survey(record, campaign)) == found


# --- rule 6: the recommendation against the report ----------------------------------------------


def test_scores_differing_by_rounding_agree_and_by_more_do_not(campaign):
    for mine, theirs, found in ((86.5, 86.45, []), (86.5, 86.55, []), (86.5, 86.56, ["inconsistent"]),
                                (86.5, 86.44, ["inconsistent"]), (86.5, 86.5, [])):
        record = broken("product", "recommendation", satisfaction_score=mine)
        record["attachments"][1]["score"] = theirs
        found_codes = [(i["code"], i["field"]) for i in survey.report_disagrees(record, campaign)]
        assert found_codes == [(c, "satisfaction_score") for c in found], (mine, theirs)


def test_sample_sizes_differing_by_one_disagree(campaign):
    for theirs, found in ((60, []), (61, ["valid_questionnaires"]), (59, ["valid_questionnaires"])):
        record = valid_record("product")
        record["attachments"][1]["sample_size"] = theirs
        assert [i["field"] for i in survey.report_disagrees(record, campaign)] == found


def test_periods_differing_by_one_day_at_either_end_disagree(campaign):
    start, end = date.fromisoformat(PERIOD["start"]), date.fromisoformat(PERIOD["end"])
    for theirs, found in (((start, end), []), ((start + DAY, end), ["survey_period"]),
                          ((start, end - DAY), ["survey_period"])):
        record = valid_record("product")
        record["attachments"][1]["survey_period"] = {"start": theirs[0].isoformat(), "end": theirs[1].isoformat()}
        assert [i["field"] for i in survey.report_disagrees(record, campaign)] == found


# --- rule 7: the respondent sample --------------------------------------------------------------


def registered(n: int, rows: int) -> dict:
    record = broken("product", "recommendation", valid_questionnaires=n)
    record["attachments"][1]["sample_size"] = n
    record["forms"]["respondents"] = respondent_rows(rows)
    return record


def count_issues(n: int, rows: int, campaign) -> list[tuple[str, str]]:
    return [(i["severity"], i["article"]) for i in respondents.respondent_count(registered(n, rows), campaign)]


FIRM, ALL, OVER = ("error", "被访者信息登记表注3"), ("warning", "被访者信息登记表注2"), ("warning", "被访者信息登记表注3")


def test_sample_below_all_below_must_be_registered_whole(campaign):
    low = campaign.respondents_all_below
    assert count_issues(low - 1, low - 1, campaign) == []
    assert count_issues(low - 1, low - 2, campaign) == [FIRM]
    assert count_issues(low - 1, low, campaign) == [OVER]


def test_sample_of_exactly_all_below_is_asked_for_whole_but_not_firmly(campaign):
    low = campaign.respondents_all_below
    assert count_issues(low, low, campaign) == []
    assert count_issues(low, low - 1, campaign) == [ALL]
    assert count_issues(low + 1, low, campaign) == [ALL]


def test_sample_of_exactly_the_maximum_is_registered_whole(campaign):
    most = campaign.respondents_max
    assert count_issues(most, most, campaign) == []
    assert count_issues(most, most - 1, campaign) == [ALL]
    assert count_issues(most, most + 1, campaign) == [OVER]


def test_sample_above_the_maximum_needs_exactly_the_maximum(campaign):
    most = campaign.respondents_max
    assert count_issues(most + 1, most, campaign) == []
    assert count_issues(most + 1, most - 1, campaign) == [FIRM]
    assert count_issues(most + 1, most + 1, campaign) == [OVER]


def test_respondent_count_messages_say_how_many_are_expected(campaign):
    low, most = campaign.respondents_all_below, campaign.respondents_max
    (short,) = respondents.respondent_count(registered(low - 1, low - 2), campaign)
    assert f"登记了{low - 2}名" in short["message"] and f"应登记{low - 1}名" in short["message"]
    assert f"样本量少于{low}个的须全部提供" in short["message"]
    (capped,) = respondents.respondent_count(registered(most + 1, most - 1), campaign)
    assert f"样本量超过{most}个的须提供{most}个" in capped["message"] and f"应登记{most}名" in capped["message"]
    (between,) = respondents.respondent_count(registered(low, low - 1), campaign)
    assert "原则上须提供所有被访者信息" in between["message"]
    (over,) = respondents.respondent_count(registered(most + 1, most + 1), campaign)
    assert f"多于应登记的{most}名（有效问卷数量为{most + 1}）" in over["message"]


def test_expected_rows_at_both_limits(campaign):
    low, most = campaign.respondents_all_below, campaign.respondents_max
    table = {low - 1: (low - 1, True), low: (low, False), low + 1: (low + 1, False),
             most - 1: (most - 1, False), most: (most, False), most + 1: (most, True), 0: (0, True)}
    for n, expected in table.items():
        assert respondents.expected_rows(n, low, most) == expected, n


def test_sample_size_of_zero_is_read_and_a_negative_one_is_not(campaign):
    record = registered(0, 3)
    assert respondents.sample_size(record) == 0
    record = registered(-5, 3)
    assert respondents.sample_size(record) is None
    record["attachments"][1]["sample_size"] = 3
    assert respondents.sample_size(record) == 3


def test_sample_size_falls_back_to_the_report(campaign):
    record = registered(60, 60)
    record["forms"]["recommendation"]["valid_questionnaires"] = None
    record["attachments"][1]["sample_size"] = 75
    assert respondents.sample_size(record) == 75


# --- rule 7: each respondent --------------------------------------------------------------------


def with_rows(edit) -> dict:
    record = valid_record("service")
    edit(record["forms"]["respondents"])
    return record


def warnings_of(record: dict, campaign) -> list[tuple[str, str, str]]:
    return sorted((i["code"], i["field"], i["message"]) for i in check_record(record, campaign))


def test_respondents_dated_on_the_first_and_last_day_of_the_period_are_inside(campaign):
    start, end = PERIOD["start"], PERIOD["end"]

    def edit(rows):
        rows[0]["survey_date"], rows[1]["survey_date"] = start, end
    assert check_record(with_rows(edit), campaign) == []


@pytest.mark.parametrize("which", ["before", "after"])
def test_a_respondent_dated_a_day_outside_the_period_is_flagged(which, campaign):
    start, end = date.fromisoformat(PERIOD["start"]), date.fromisoformat(PERIOD["end"])
    day = start - DAY if which == "before" else end + DAY

    def edit(rows):
        rows[4]["survey_date"] = day.isoformat()
    (issue,) = check_record(with_rows(edit), campaign)
    assert (issue["code"], issue["severity"], issue["field"]) == ("invalid_format", "warning", "survey_date")
    assert "序号5不在调查时间2017-01-05至2017-03-20之内" in issue["message"]


def test_dates_are_checked_against_the_reports_period_when_the_form_has_none(campaign):
    record = valid_record("service")
    record["forms"]["recommendation"]["survey_period"] = None
    record["forms"]["respondents"][2]["survey_date"] = "2017-03-21"
    found = [i for i in respondents.dates_outside(record, campaign)]
    assert [i["message"].split("中")[1] for i in found] == ["序号3不在调查时间2017-01-05至2017-03-20之内；请核对（被访者信息登记表注4）。"]


def test_an_e_mail_is_a_valid_respondent_contact(campaign):
    def edit(rows):
        rows[3]["contact"] = "zhang.san@example.com"
        rows[4]["contact"] = "李四@example"
    found = check_record(with_rows(edit), campaign)
    issue = only(found, "invalid_format")
    assert issue["field"] == "contact" and "序号5的" in issue["message"] and "序号4" not in issue["message"]


def test_a_respondent_landline_with_extension_is_valid(campaign):
    def edit(rows):
        rows[3]["contact"] = "0451-87979096转123"
    assert check_record(with_rows(edit), campaign) == []


def test_a_row_without_a_name_is_flagged_as_missing(campaign):
    def edit(rows):
        rows[7]["name"] = None
        rows[8]["name"] = "  "
        rows[9]["contact"] = None
    issue = only(check_record(with_rows(edit), campaign), "missing_field")
    assert (issue["severity"], issue["field"]) == ("warning", "name")
    assert "序号8、9、10缺少" in issue["message"]


def test_rows_without_a_name_are_never_the_same_person(campaign):
    def edit(rows):
        rows[7]["name"] = rows[8]["name"] = None
        rows[8]["contact"] = rows[7]["contact"]
    found = respondents.duplicates(with_rows(edit), campaign)
    assert [(i["field"], i["message"].split("：")[1].split("；")[0]) for i in found] == [("contact", "序号8、9")]


def test_a_repeated_person_written_once_with_full_width_digits_is_the_same_person(campaign):
    def edit(rows):
        rows[9]["name"] = rows[4]["name"]
        rows[9]["contact"] = rows[4]["contact"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    issue = only(check_record(with_rows(edit), campaign), "respondent_duplicate")
    assert (issue["field"], issue["severity"]) == ("name", "warning")
    assert "同一被访者（姓名和联系方式相同）重复登记：序号5、10；" in issue["message"]


def test_the_same_name_with_another_phone_is_another_person(campaign):
    def edit(rows):
        rows[9]["name"] = rows[4]["name"]
    assert check_record(with_rows(edit), campaign) == []


def test_a_repeated_person_and_a_shared_phone_are_told_apart(campaign):
    def edit(rows):
        rows[9].update(name=rows[4]["name"], contact=rows[4]["contact"])
        rows[11]["contact"] = rows[2]["contact"]
    found = {i["field"]: i["message"] for i in respondents.duplicates(with_rows(edit), campaign)}
    assert set(found) == {"name", "contact"}
    assert "序号5、10" in found["name"] and "序号5、10" not in found["contact"] and "序号3、12" in found["contact"]


def test_row_numbers_are_the_seq_when_whole_else_the_position(campaign):
    assert respondents.row_number({"seq": 7}, 0) == 7
    assert respondents.row_number({"seq": 7.0}, 0) == 7
    assert respondents.row_number({"seq": 7.5}, 0) == 1
    assert respondents.row_number({"seq": "七"}, 2) == 3
    assert respondents.row_number({}, 4) == 5


# --- rule 8: the report -------------------------------------------------------------------------


def test_report_length_at_the_limit_one_under_and_one_over(campaign):
    limit = load_forms()["report"].get("max_chars")
    for chars, found in ((limit - 1, []), (limit, []), (limit + 1, ["report_too_long"])):
        assert codes(check_record(broken("service", "report", chars=chars), campaign)) == found


#: A section is far from its guide below half its minimum or above one and a half its maximum.
LOW, HIGH = 0.5, 1.5


def guided_sections() -> list[dict]:
    return [s for s in load_forms()["report"].get("outline") if s.get("guide")]


def fitting() -> dict[str, int]:
    """Every guided section at the middle of its guide."""
    return {str(s["num"]): sum(s["guide"]) // 2 for s in guided_sections()}


@pytest.mark.parametrize("section", guided_sections(), ids=lambda s: str(s["num"]))
def test_section_lengths_at_the_edges_of_their_tolerance(section, campaign):
    num, (low, high) = str(section["num"]), section["guide"]
    edges = [(round(high * HIGH), []), (round(high * HIGH) + 1, [num])]
    if low:
        edges += [(round(low * LOW), []), (round(low * LOW) - 1, [num])]
    for chars, off in edges:
        record = broken("product", "report", section_chars={**fitting(), num: chars})
        found = report.section_lengths(record, campaign)
        assert [f"{num}{section['title']}（{chars}字" in i["message"] for i in found] == [True] * len(off), chars
        assert len(found) == len(off), chars


def test_section_length_message_gives_the_guide(campaign):
    first, third = guided_sections()[0], next(s for s in guided_sections() if s["guide"][0])
    counts = {**fitting(), str(first["num"]): 10 * first["guide"][1], str(third["num"]): 1}
    (issue,) = report.section_lengths(broken("product", "report", section_chars=counts), campaign)
    assert f"要求约{first['guide'][1]}字" in issue["message"]
    assert f"要求{third['guide'][0]}-{third['guide'][1]}字" in issue["message"]


# --- rule 9: construction -----------------------------------------------------------------------


def project(campaign, area, budget) -> list[str]:
    return codes(construction.small_project(broken("construction", "application", floor_area=area, budget=budget), campaign))


def test_floor_area_at_the_minimum_is_enough(campaign):
    area, value = campaign.construction["min_floor_area"], campaign.construction["min_value"]
    small = value - 1
    assert project(campaign, area, small) == []
    assert project(campaign, area - 0.01, small) == ["below_threshold"]
    assert project(campaign, area + 0.01, small) == []


def test_value_at_the_minimum_is_enough(campaign):
    area, value = campaign.construction["min_floor_area"], campaign.construction["min_value"]
    small = area - 0.01
    assert project(campaign, small, value) == []
    assert project(campaign, small, value - 1) == ["below_threshold"]
    assert project(campaign, small, value + 1) == []


def test_small_project_message_gives_both_minimums(campaign):
    area, value = campaign.construction["min_floor_area"], campaign.construction["min_value"]
    (issue,) = construction.small_project(broken("construction", "application", floor_area=0.5, budget=value - 1),
                                          campaign)
    assert f"须建筑面积{area}万平方米以上或建筑施工安装量在{value}万元以上" in issue["message"]
    assert issue["article"] == "管理办法第七条第2款" and issue["severity"] == "error"


def completed(day: date) -> dict:
    return broken("construction", "application", completion_date=day.isoformat(),
                  acceptance_date=(day + DAY).isoformat())


def test_completion_exactly_the_years_in_use_before_the_deadline_is_enough(campaign):
    years, deadline = campaign.construction["min_years_in_use"], campaign.deadline
    on_time = deadline.replace(year=deadline.year - years)
    assert construction.recent_completion(completed(on_time), campaign) == []
    assert construction.recent_completion(completed(on_time - DAY), campaign) == []
    (issue,) = construction.recent_completion(completed(on_time + DAY), campaign)
    assert (issue["code"], issue["field"], issue["severity"]) == ("below_threshold", "completion_date", "error")
    assert f"到{deadline.isoformat()}不满{years}年" in issue["message"]


def test_completion_measured_from_the_notice_when_the_campaign_has_no_deadline(campaign):
    other = Namespace({k: v for k, v in campaign.data.items() if k != "deadline"})
    notice, years = other["announcement_date"], other["construction"]["min_years_in_use"]
    on_time = notice.replace(year=notice.year - years)
    assert construction.recent_completion(completed(on_time), other) == []
    assert codes(construction.recent_completion(completed(on_time + DAY), other)) == ["below_threshold"]


@pytest.mark.parametrize("day, years, later", [
    (date(2016, 6, 20), 1, date(2017, 6, 20)),
    (date(2016, 2, 29), 1, date(2017, 2, 28)),
    (date(2016, 2, 29), 4, date(2020, 2, 29)),
    (date(2015, 1, 1), 2, date(2017, 1, 1)),
    (date(2017, 1, 1), 0.5, date(2017, 7, 3)),   # half of 365.25 days, rounded: 183
    (date(2017, 1, 1), 1.5, date(2018, 7, 3)),
])
def test_years_after(day, years, later):
    assert construction.years_after(day, years) == later


def test_a_residential_project_names_the_occupancy_minimum(campaign):
    minimum = campaign.construction["min_occupancy"]
    (issue,) = construction.residential(broken("construction", "application", project_type=["住宅工程"]), campaign)
    assert f"入住率在{minimum}%以上" in issue["message"]
    assert construction.residential(broken("construction", "application", project_type=["公共建筑"]), campaign) == []


# --- rule 10: enterprise ------------------------------------------------------------------------


def test_pass_rate_of_all_samples_passes_and_a_tenth_less_does_not(campaign):
    for rate, found in ((100, []), (99.9, ["below_threshold"]), (0, ["below_threshold"])):
        assert codes(check_record(broken("enterprise", "application", inspection_pass_rate=rate), campaign)) == found


def test_net_assets_equal_to_the_original_value_are_fine(campaign):
    for net, found in ((12000, []), (11999, []), (12001, ["inconsistent"])):
        found_codes = codes(check_record(broken("enterprise", "application", fixed_assets_original=12000,
                                                fixed_assets_net=net), campaign))
        assert found_codes == found, net


# --- the batch: lateness ------------------------------------------------------------------------


@pytest.mark.parametrize("campaign", campaigns_with("deadline"), ids=ids(campaigns_with("deadline")))
def test_received_on_the_deadline_is_on_time_and_a_day_later_is_late(campaign):
    records = [valid_record("product")]
    deadline = campaign.deadline
    assert check_batch(records, campaign, deadline) == {}
    assert check_batch(records, campaign, deadline - DAY) == {}
    late = check_batch(records, campaign, deadline + DAY)
    assert {sid: codes(found) for sid, found in late.items()} == {"sub-product": ["late_submission"]}
    assert (deadline + DAY).isoformat() in late["sub-product"][0]["message"]


def test_two_submissions_of_one_company_and_one_of_another(campaign):
    first, second, other = valid_record("product"), valid_record("service"), valid_record("enterprise")
    second.update(submission_id="b", company_name=None)
    other.update(submission_id="c", company_name=f"另一{COMPANY}")
    for form in other["forms"].values():
        if isinstance(form, dict) and "company_name" in form:
            form["company_name"] = other["company_name"]
    found = check_batch([first, second, other], campaign)
    assert {sid: codes(i) for sid, i in found.items()} == {"sub-product": ["duplicate_application"],
                                                           "b": ["duplicate_application"]}
    assert "共有2份申报" in found["b"][0]["message"]


# --- smaller pieces the rules stand on ----------------------------------------------------------


def test_years_after_a_quarter_year():
    assert construction.years_after(date(2017, 1, 1), 0.25) == date(2017, 4, 2)  # 91 of 365.25 days


@pytest.mark.parametrize("answer, found", [(False, []), (True, ["below_threshold"]), ("否", []), ("是", ["below_threshold"])])
def test_a_yes_no_incident_answer(answer, found, campaign):
    record = broken("enterprise", "application", major_incidents=answer)
    assert codes(check_record(record, campaign)) == found


def named(name, forms: dict | None = None, sid: str = "x") -> dict:
    return {"submission_id": sid, "source": f"{sid}.zip", "company_name": name,
            "forms": {f: {"company_name": n} for f, n in (forms or {}).items()}}


def test_the_company_a_batch_rule_compares_by():
    assert batch.company_of(named("甲公司")) == "甲公司"
    assert batch.company_of(named("（公章）", {"cover": "乙公司"})) == "乙公司"      # a seal note alone is no name
    assert batch.company_of(named("  ", {"cover": "乙公司", "commitment": "丙公司"})) == "乙公司"
    assert batch.company_of(named(None, {})) is None
    assert batch.company_of(named(None, {"commitment": "丙公司"})) == "丙公司"


def test_duplicates_after_a_company_that_applied_once(campaign):
    records = [named("独家公司", sid="a"), named("两次公司", sid="b"), named("两次公司（盖章）", sid="c")]
    found = batch.duplicates(records, "通知第三条", per_category=False)
    assert sorted(found) == ["b", "c"]
    assert "（b.zip、c.zip）" in found["c"][0]["message"]


def without(campaign, *keys) -> Namespace:
    """Given the campaign and settings, return it without them (a campaign of another program)."""
    data = {k: v for k, v in campaign.data.items() if k not in keys}
    if "construction" in data:
        data["construction"] = {k: v for k, v in data["construction"].items() if k not in keys}
    return Namespace(data)


def test_rules_whose_setting_is_absent_stay_silent(campaign):
    low = broken("construction", "recommendation", satisfaction_score=10)
    assert survey.low_score(low, without(campaign, "min_satisfaction")) == []
    small = broken("construction", "application", floor_area=0.1, budget=1)
    assert construction.small_project(small, without(campaign, "min_floor_area")) == []
    assert construction.small_project(small, without(campaign, "min_value")) == []
    recent = broken("construction", "application", completion_date="2017-01-01", acceptance_date="2017-02-01")
    assert codes(construction.recent_completion(recent, campaign)) == ["below_threshold"]
    assert construction.recent_completion(recent, without(campaign, "min_years_in_use")) == []
    few = registered(300, 10)
    assert respondents.respondent_count(few, without(campaign, "respondents_all_below")) == []
    assert respondents.respondent_count(few, without(campaign, "respondents_max")) == []


def test_an_area_or_a_budget_written_as_text_is_left_to_the_format_rule(campaign):
    area = campaign.construction["min_floor_area"]
    assert project(campaign, "很大", campaign.construction["min_value"] - 1) == []
    assert project(campaign, area - 0.01, "很多") == []


def test_a_sample_of_exactly_the_maximum_one_short_is_asked_for_in_principle(campaign):
    most = campaign.respondents_max
    (found,) = respondents.respondent_count(registered(most, most - 1), campaign)
    assert "原则上须提供所有被访者信息" in found["message"] and "样本量超过" not in found["message"]


def test_a_respondent_without_a_date_does_not_hide_later_ones(campaign):
    def edit(rows):
        rows[1]["survey_date"] = None
        rows[6]["survey_date"] = "2016-01-01"
        rows[7]["survey_date"] = "去年"
    found = {i["message"] for i in respondents.dates_outside(with_rows(edit), campaign)}
    assert any("序号7不在调查时间" in m for m in found) and any("序号8不是可识别的日期" in m for m in found)
