"""The validation rules: a valid record of each category passes; each rule, broken once, shows its code."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml

from pipeline.checking.rules import check_batch, check_record
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.forms import application_form, load_forms, required_forms
from pipeline.definitions.vocabulary import status_of as status

CATEGORIES = ("enterprise", "product", "construction", "service")
COMPANY = "黑龙江省示例电器有限公司"
PERIOD = {"start": "2017-01-05", "end": "2017-03-20"}
N = 60

#: Values a valid 申请表 carries where the type's default would not do.
APPLICATION_VALUES = {
    "enterprise": {
        "major_incidents": "无", "inspection_pass_rate": 100, "fixed_assets_original": 12000,
        "fixed_assets_net": 8000, "main_product_name": "变频空调", "other_product_name": "除湿机",
    },
    "product": {"product_name": "变频空调", "product_model": "KFR-35GW/BP 1.5匹", "trademark": "示例牌",
                "quality_awards": "2016年省名牌产品"},
    "construction": {"project_name": "哈尔滨市图书馆新馆", "budget": 15000, "project_type": "公共建筑",
                     "floor_area": 2.5, "completion_date": "2015-05-01", "acceptance_date": "2015-06-01",
                     "awards": "2015年度黑龙江省优质工程", "owner_evaluation": "工程质量优良，施工服务周到，总体满意。"},
    "service": {"service_name": "家电上门安装维修服务", "service_org": "客户服务中心",
                "service_content": "24小时内上门安装维修，执行企业服务标准", "service_standards": "已制定服务规范"},
}
#: The enterprise parts left empty in a valid record (it is an industrial enterprise).
UNUSED_PARTS = ("建筑企业填写", "服务企业填写")


def sample_value(field, n: int):
    """Given a field, return a valid value of its type and format."""
    if field.format == "phone":
        return "0451-87979096"
    if field.format == "postcode":
        return "150036"
    if field.format == "email":
        return "zhiliang@example.com"
    by_type = {"number": 10 + n, "date": "2017-05-20", "period": dict(PERIOD),
               "choice": next(iter(field.options), None), "multi": list(field.options)[:1],
               "yesno": True, "list": ["一"]}
    return by_type.get(field.type, f"{field.plain_label}内容")


def form_values(key: str, extra: dict | None = None) -> dict:
    """Given a form key, return every field of it filled validly, `extra` on top."""
    form = load_forms()[key]
    out = {fid: sample_value(f, n) for n, (fid, f) in enumerate(form.fields.items())}
    if "company_name" in out:
        out["company_name"] = COMPANY
    out.update(extra or {})
    return out


def respondent_rows(n: int) -> list[dict]:
    """Given n, return n distinct respondents surveyed inside PERIOD."""
    return [{"seq": i + 1, "name": f"被访者{i + 1}", "contact": f"139{i:08d}", "survey_method": "电话访问",
             "survey_date": f"2017-02-{i % 28 + 1:02d}", "employer": None} for i in range(n)]


def valid_record(category: str) -> dict:
    """Given a category id, return a record of a complete, valid submission of that category."""
    app = form_values(f"application.{category}", APPLICATION_VALUES[category])
    if category == "enterprise":
        for field in application_form(category).fields.values():
            if field.group in UNUSED_PARTS:
                app[field.id] = None
    outline = load_forms()["report"].get("outline")
    forms = {
        "cover": form_values("cover", {"category": category}),
        "application": app,
        "recommendation": form_values("recommendation", {
            "category": load_forms()["cover"].fields["category"].options[category],
            "satisfaction_score": 86.5, "compliant": True, "valid_questionnaires": N,
            "evidence_review": ["真实", "齐全", "有效"], "opinion": "该企业在行业中具有示范作用，同意推荐。"}),
        "implementation_status": form_values("implementation_status"),
        "report": {"title": f"关于{COMPANY}实施用户满意工程情况的报告", "chars": 4200,
                   "sections_present": [str(s["num"]) for s in outline], "sections_missing": []},
        "commitment": form_values("commitment"),
        "respondents": respondent_rows(N),
    }
    if category == "construction":
        forms["site_inspection"] = form_values("site_inspection")
    attachments = [{"file": "营业执照.pdf", "kind": "business_license"},
                   {"file": "满意度测评报告.pdf", "kind": "survey_report", "score": 86.5, "sample_size": N,
                    "survey_period": dict(PERIOD)}]
    if category == "product":
        attachments.append({"file": "商标注册证.jpg", "kind": "trademark"})
    return {"submission_id": f"sub-{category}", "source": f"{category}.zip", "category": category,
            "company_name": COMPANY, "forms": forms, "forms_found": ["cover", f"application.{category}"],
            "attachments": attachments, "issues": [], "status": "complete"}


@pytest.fixture(scope="session")
def campaign():
    return load_campaign(DEFAULT_CAMPAIGN)


def write_campaign(tmp_path, **changes):
    """Given changes to the seed campaign (dotted keys for nested ones), return the changed campaign."""
    data = yaml.safe_load(DEFAULT_CAMPAIGN.read_text(encoding="utf-8"))
    for key, value in changes.items():
        *parents, last = key.split("__")
        target = data
        for parent in parents:
            target = target[parent]
        target[last] = value
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_campaign(path)


def codes(issues: list[dict], severity: str | None = None) -> list[str]:
    return [i["code"] for i in issues if severity in (None, i["severity"])]


def only(issues: list[dict], code: str) -> dict:
    """Given issues and a code, return the one issue with that code (failing when not exactly one)."""
    found = [i for i in issues if i["code"] == code]
    assert len(found) == 1, issues
    return found[0]


def broken(category: str, form: str | None = None, /, **fields) -> dict:
    """Given a category and field values, return a valid record of that category with them set on `form`."""
    record = valid_record(category)
    if form:
        record["forms"][form].update(fields)
    return record


# --- a valid record -----------------------------------------------------------------------------


@pytest.mark.parametrize("category", CATEGORIES)
def test_valid_record_has_no_issues(category, campaign):
    issues = check_record(valid_record(category), campaign)
    assert issues == []
    assert status(issues) == "complete"


def test_status_is_incomplete_with_an_error_only():
    assert status([{"severity": "warning", "code": "x"}]) == "complete"
    assert status([{"severity": "warning"}, {"severity": "error"}]) == "incomplete"
    assert status([]) == "complete"


def test_every_issue_carries_the_contract_keys_and_its_article(campaign):
    record = broken("product", "application", product_model="XR 系列", phone="12")
    for found in check_record(record, campaign):
        assert set(found) == {"severity", "code", "form", "field", "message", "article"}
        assert found["severity"] in ("error", "warning")
        assert found["message"].endswith(f"（{found['article']}）。")


# --- rule 1: forms and attachments --------------------------------------------------------------


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_required_form_missing_is_reported(category, campaign):
    for form in required_forms(category):
        record = valid_record(category)
        del record["forms"][form.id]
        issue = only(check_record(record, campaign), "missing_form")
        assert issue["form"] == form.id and issue["severity"] == "error"
        assert form.printed_title(campaign) in issue["message"]


def test_construction_needs_the_site_inspection(campaign):
    record = valid_record("construction")
    del record["forms"]["site_inspection"]
    issue = only(check_record(record, campaign), "missing_form")
    assert issue["form"] == "site_inspection" and "现场巡视记录表" in issue["message"]
    assert issue["article"] == "填报说明第8条"


def test_missing_forms_without_a_category_still_reported(campaign):
    record = {"submission_id": "x", "source": "x", "category": None, "forms": {}, "attachments": []}
    missing = {i["form"] for i in check_record(record, campaign) if i["code"] == "missing_form"}
    assert {"cover", "application", "recommendation", "commitment", "respondents", "report"} <= missing
    assert "site_inspection" not in missing
    assert "attachment_check" not in codes(check_record(record, campaign))  # nothing read: the errors say it


@pytest.mark.parametrize("kind, category", [("business_license", "service"), ("survey_report", "enterprise"),
                                            ("trademark", "product")])
def test_expected_attachment_not_found_is_a_warning(kind, category, campaign):
    record = valid_record(category)
    record["attachments"] = [a for a in record["attachments"] if a["kind"] != kind]
    issue = only(check_record(record, campaign), "attachment_check")
    assert issue["severity"] == "warning" and "人工核对" in issue["message"]


def test_trademark_only_expected_of_products(campaign):
    record = valid_record("service")
    assert all(a["kind"] != "trademark" for a in record["attachments"])
    assert "attachment_check" not in codes(check_record(record, campaign))


# --- rule 2: the cover's category ---------------------------------------------------------------


def test_no_category_ticked(campaign):
    record = broken("product", "cover", category=None)
    issue = only(check_record(record, campaign), "no_category")
    assert issue["form"] == "cover" and issue["field"] == "category" and issue["severity"] == "error"
    assert "missing_field" not in codes(check_record(record, campaign))


def test_several_categories_ticked_as_a_list(campaign):
    record = broken("product", "cover", category=["product", "service"])
    issue = only(check_record(record, campaign), "multiple_categories")
    assert "产品类" in issue["message"] and "服务类" in issue["message"]


def test_several_categories_given_as_cover_categories(campaign):
    record = valid_record("product")
    record["cover_categories"] = ["产品类", "企业类"]
    assert "multiple_categories" in codes(check_record(record, campaign), "error")


def test_cover_category_as_printed_name_is_accepted(campaign):
    record = broken("service", "cover", category="服务类")
    assert check_record(record, campaign) == []


def test_cover_category_not_matching_the_application(campaign):
    record = valid_record("product")
    record["forms_found"] = ["cover", "application.service"]
    issue = only(check_record(record, campaign), "inconsistent")
    assert issue["severity"] == "error" and "（服务类）申请表" in issue["message"]


def test_two_applications_of_different_categories(campaign):
    record = valid_record("product")
    record["forms_found"] = ["cover", "application.product", "application.service"]
    assert "multiple_categories" in codes(check_record(record, campaign), "error")


# --- rule 3: required fields --------------------------------------------------------------------


@pytest.mark.parametrize("category", CATEGORIES)
def test_empty_required_field_of_the_application(category, campaign):
    record = broken(category, "application", legal_representative=None)
    issue = only(check_record(record, campaign), "missing_field")
    assert (issue["form"], issue["field"], issue["severity"]) == ("application", "legal_representative", "error")
    assert "“法定代表人姓名”未填写" in issue["message"]
    assert application_form(category).printed_title(campaign) in issue["message"]


@pytest.mark.parametrize("explained", ["无", "不适用", "/", "未开展出口业务"])
def test_an_explained_empty_field_is_fine(explained, campaign):
    record = broken("product", "application", forex_earnings=explained)
    assert check_record(record, campaign) == []


@pytest.mark.parametrize("form, field", [("cover", "industry"), ("implementation_status", "customer_count"),
                                         ("implementation_status", "demand_collection"),
                                         ("commitment", "company_name")])
def test_required_fields_of_the_other_forms(form, field, campaign):
    record = broken("service", form, **{field: None})
    issue = only(check_record(record, campaign), "missing_field")
    assert (issue["form"], issue["field"]) == (form, field)


def test_optional_fields_may_stay_empty(campaign):
    record = broken("service", "commitment", date=None)
    record["forms"]["recommendation"]["approval_opinion"] = None
    assert check_record(record, campaign) == []


def test_enterprise_needs_one_trade_part(campaign):
    record = valid_record("enterprise")
    for field in application_form("enterprise").fields.values():
        if field.group:
            record["forms"]["application"][field.id] = None
    issue = only(check_record(record, campaign), "missing_field")
    assert issue["field"] is None and "工业企业填写" in issue["message"] and "服务企业填写" in issue["message"]


def test_enterprise_part_partly_filled_needs_its_other_fields(campaign):
    record = broken("enterprise", "application", main_project_name="哈尔滨某小区")
    found = [i for i in check_record(record, campaign) if i["code"] == "missing_field"]
    building = {f.id for f in application_form("enterprise").fields.values() if f.group == "建筑企业填写"}
    assert {i["field"] for i in found} == building - {"main_project_name"}


def test_enterprise_parts_explained_as_not_applicable_are_unused(campaign):
    record = broken("enterprise", "application", main_project_name="无", service_returns="不适用")
    assert check_record(record, campaign) == []


# --- rule 4: formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("field, value", [("phone", "12345"), ("postcode", "15003"), ("email", "zhiliang.example.com"),
                                          ("fax", "传真号"), ("annual_sales", "很多")])
def test_malformed_values(field, value, campaign):
    record = broken("product", "application", **{field: value})
    issue = only(check_record(record, campaign), "invalid_format")
    assert (issue["form"], issue["field"], issue["severity"]) == ("application", field, "error")
    assert f"“{value}”" in issue["message"]


def test_a_unit_that_cannot_be_converted_is_named(campaign):
    from pipeline.reading.values import value

    field = load_forms()["application.product"].fields["annual_sales"]
    record = broken("product", "application", annual_sales=value(field, "12美元"))
    issue = only(check_record(record, campaign), "invalid_format")
    assert issue["field"] == "annual_sales" and "“美元”" in issue["message"] and "万元" in issue["message"]


def test_a_period_that_ends_before_it_starts_is_malformed(campaign):
    from pipeline.reading.values import value

    field = load_forms()["recommendation"].fields["survey_period"]
    reversed_ = value(field, "2017年3月31日至2016年12月1日")
    assert reversed_ == {"start": "2017-03-31", "end": "2016-12-01"}  # as written
    found = check_record(broken("product", "recommendation", survey_period=reversed_), campaign)
    issue, = [i for i in found if i["code"] == "invalid_format" and i["field"] == "survey_period"]
    assert issue["severity"] == "error" and "（结束日期早于开始日期）" in issue["message"]
    same_day = broken("product", "recommendation", survey_period={"start": "2017-03-01", "end": "2017-03-01"})
    assert not [i for i in check_record(same_day, campaign) if i["code"] == "invalid_format" and i["field"] == "survey_period"]


def test_an_estimate_stays_as_typed_and_asks_for_the_exact_number(campaign):
    from pipeline.reading.values import value

    field = load_forms()["application.product"].fields["annual_sales"]
    record = broken("product", "application", annual_sales=value(field, "约 2100万元"))
    assert record["forms"]["application"]["annual_sales"] == "约 2100万元"
    issue = only(check_record(record, campaign), "invalid_format")
    assert issue["field"] == "annual_sales" and issue["severity"] == "error"
    assert "填写为“约 2100万元”，不是确切的数字（“约”是估计的数，请填写确切数值）" in issue["message"]


@pytest.mark.parametrize("written, needs", [
    ("5台", "以“万元”为单位的数字（单位“台”无法换算为“万元”）"),  # a count of its own, but not in 万元
    ("很多", "数字"),
])
def test_a_number_that_is_no_amount_of_the_labels_unit_is_told_what_it_should_be(written, needs, campaign):
    from pipeline.reading.values import value

    field = load_forms()["application.product"].fields["annual_sales"]
    record = broken("product", "application", annual_sales=value(field, written))
    assert [i["message"] for i in check_record(record, campaign)] == [
        f"《实施全省用户满意工程先进单位（产品类）申请表》“年销售额”填写为“{written}”，不是{needs}；请核对后重新填写（填报说明第2条）。"]


def test_date_left_as_text_and_period_unreadable(campaign):
    record = broken("construction", "application", completion_date="前年秋天")
    assert only(check_record(record, campaign), "invalid_format")["field"] == "completion_date"
    record = broken("service", "recommendation", survey_period="今年春天")
    assert only(check_record(record, campaign), "invalid_format")["field"] == "survey_period"


@pytest.mark.parametrize("value", ["0451-87979096", "13904809986", "0451—87979096、13904809986"])
def test_well_formed_phones_pass(value, campaign):
    assert check_record(broken("product", "application", phone=value), campaign) == []


def test_postcode_read_as_a_number_passes(campaign):
    assert check_record(broken("product", "application", postcode=150036), campaign) == []


# --- rule 5: series products and service names -------------------------------------------------


def test_series_product_message_names_form_and_label(campaign):
    record = broken("product", "application", product_model="XR 系列")
    issue = only(check_record(record, campaign), "series_product")
    assert issue["message"] == ("《实施全省用户满意工程先进单位（产品类）申请表》“产品型号及规格”填写为“XR 系列”，"
                                "含“系列”，属于系列产品；须填写具体型号、规格（填报说明第2条）。")
    assert (issue["field"], issue["severity"], issue["article"]) == ("product_model", "error", "填报说明第2条")


@pytest.mark.parametrize("model", ["KFR-35GW等", "全系列", "KFR-35GW、KFR-50LW", "XR-100至XR-500", "BCD-215，BCD-260"])
def test_series_products(model, campaign):
    assert "series_product" in codes(check_record(broken("product", "application", product_model=model), campaign))


@pytest.mark.parametrize("model", ["BCD-215TDGA 215升", "PDP-42 等离子电视", "KFR-35GW/BP，220V"])
def test_one_model_with_its_specification_is_not_a_series(model, campaign):
    assert check_record(broken("product", "application", product_model=model), campaign) == []


def test_series_in_the_product_name(campaign):
    issue = only(check_record(broken("product", "application", product_name="变频空调系列"), campaign), "series_product")
    assert issue["field"] == "product_name"


@pytest.mark.parametrize("name", ["客户服务中心", "售后服务部", "示例电器维修公司", COMPANY])
def test_service_named_like_an_organisation(name, campaign):
    issue = only(check_record(broken("service", "application", service_name=name), campaign), "service_name_unclear")
    assert issue["severity"] == "warning" and issue["field"] == "service_name"


# --- rule 6: the survey -------------------------------------------------------------------------


def test_score_below_the_minimum(campaign):
    record = broken("enterprise", "recommendation", satisfaction_score=79.9)
    issue = only(check_record(record, campaign), "below_threshold")
    assert issue["field"] == "satisfaction_score" and "79.9" in issue["message"] and "80" in issue["message"]
    assert issue["article"] == "管理办法第五条第5款"


def test_score_taken_from_the_survey_report_when_the_form_has_none(campaign):
    record = broken("product", "recommendation", satisfaction_score=None)
    record["attachments"][1]["score"] = 70
    found = check_record(record, campaign)
    assert "below_threshold" in codes(found, "error") and "missing_field" in codes(found, "error")


def test_another_campaign_file_changes_the_threshold(tmp_path, campaign):
    record = broken("service", "recommendation", satisfaction_score=82)
    record["attachments"][1]["score"] = 82
    assert check_record(record, campaign) == []
    stricter = write_campaign(tmp_path, min_satisfaction=85)
    issue = only(check_record(record, stricter), "below_threshold")
    assert "85" in issue["message"] and issue["article"] == "管理办法第八条第5款"


def test_survey_started_before_the_cut_off(campaign):
    early = {"start": "2016-11-20", "end": "2017-02-28"}
    record = broken("product", "recommendation", survey_period=early)
    record["attachments"][1]["survey_period"] = early
    issue = only(check_record(record, campaign), "survey_too_early")
    assert "2016-11-20" in issue["message"] and "2016-12-01" in issue["message"]
    assert issue["article"] == "推荐意见表注3"


def test_survey_cut_off_comes_from_the_campaign(tmp_path):
    later = write_campaign(tmp_path, survey_start_min="2017-02-01")
    assert "survey_too_early" in codes(check_record(valid_record("product"), later))


def test_valid_questionnaires_missing(campaign):
    record = broken("enterprise", "recommendation", valid_questionnaires=None)
    record["attachments"][1]["sample_size"] = None
    issue = only(check_record(record, campaign), "missing_field")
    assert (issue["form"], issue["field"]) == ("recommendation", "valid_questionnaires")
    assert issue["article"] == "被访者信息登记表注3"


def test_survey_report_disagreeing_with_the_recommendation(campaign):
    record = valid_record("construction")
    record["attachments"][1].update(score=88, sample_size=61, survey_period={"start": "2017-01-01", "end": "2017-03-20"})
    found = [i for i in check_record(record, campaign) if i["code"] == "inconsistent"]
    assert {i["field"] for i in found} == {"satisfaction_score", "valid_questionnaires", "survey_period"}
    assert all(i["severity"] == "warning" for i in found)


# --- rule 7: the respondent register ------------------------------------------------------------


def with_respondents(n: int, rows: int, category: str = "product") -> dict:
    record = broken(category, "recommendation", valid_questionnaires=n)
    record["attachments"][1]["sample_size"] = n
    record["forms"]["respondents"] = respondent_rows(rows)
    return record


@pytest.mark.parametrize("n, rows, severity", [(40, 39, "error"), (300, 199, "error"), (120, 100, "warning"),
                                               (60, 61, "warning"), (300, 201, "warning")])
def test_respondent_count(n, rows, severity, campaign):
    issue = only(check_record(with_respondents(n, rows), campaign), "respondent_count")
    assert issue["severity"] == severity and str(rows) in issue["message"]


@pytest.mark.parametrize("n, rows", [(40, 40), (300, 200), (120, 120), (50, 50), (200, 200)])
def test_respondent_count_met(n, rows, campaign):
    assert check_record(with_respondents(n, rows), campaign) == []


def test_respondent_limits_come_from_the_campaign(tmp_path):
    other = write_campaign(tmp_path, respondents_all_below=30, respondents_max=100)
    assert check_record(with_respondents(150, 100), other) == []
    assert only(check_record(with_respondents(150, 99), other), "respondent_count")["severity"] == "error"
    assert only(check_record(with_respondents(40, 35), other), "respondent_count")["severity"] == "warning"


def test_empty_register_is_an_error(campaign):
    record = with_respondents(60, 0)
    assert only(check_record(record, campaign), "respondent_count")["severity"] == "error"


def test_repeated_phone_numbers_and_people(campaign):
    record = valid_record("service")
    rows = record["forms"]["respondents"]
    rows[6]["contact"] = rows[2]["contact"]                                   # another person, same phone
    rows[9].update(name=rows[4]["name"], contact=" " + rows[4]["contact"])    # the same person twice
    found = [i for i in check_record(record, campaign) if i["code"] == "respondent_duplicate"]
    assert len(found) == 2 and all(i["severity"] == "warning" for i in found)
    text = " ".join(i["message"] for i in found)
    assert "序号3、7" in text and "序号5、10" in text


def test_invalid_respondent_phone_and_dates_outside_the_period(campaign):
    record = valid_record("enterprise")
    rows = record["forms"]["respondents"]
    rows[3]["contact"] = "12345"
    rows[11]["survey_date"] = "2017-04-02"
    rows[12]["survey_date"] = "去年"
    found = [i for i in check_record(record, campaign) if i["code"] == "invalid_format"]
    assert {i["field"] for i in found} == {"contact", "survey_date"}
    assert all(i["severity"] == "warning" for i in found)
    text = " ".join(i["message"] for i in found)
    assert "序号4" in text and "序号12" in text and "序号13" in text


# --- rule 8: the report -------------------------------------------------------------------------


def test_report_too_long(campaign):
    limit = load_forms()["report"].get("max_chars")
    assert check_record(broken("service", "report", chars=limit), campaign) == []
    issue = only(check_record(broken("service", "report", chars=limit + 1), campaign), "report_too_long")
    assert issue["severity"] == "error" and str(limit) in issue["message"]


def test_report_sections_missing(campaign):
    issue = only(check_record(broken("product", "report", sections_missing=["3.2", "4"]), campaign),
                 "report_missing_section")
    assert issue["severity"] == "warning" and "3.2顾客识别与顾客分类" in issue["message"] and "4主要成果与展望" in issue["message"]


def test_report_section_lengths_far_from_the_guide(campaign):
    lengths = {"1": 280, "2": 300, "3": 3600, "4": 380}
    assert check_record(broken("product", "report", section_chars=lengths), campaign) == []
    issue = only(check_record(broken("product", "report", section_chars={**lengths, "1": 900}), campaign),
                 "report_section_length")
    assert issue["severity"] == "warning" and "1企业概貌" in issue["message"]


# --- rule 9: construction -----------------------------------------------------------------------


def test_small_project(campaign):
    record = broken("construction", "application", floor_area=0.5, budget=1500)
    assert only(check_record(record, campaign), "below_threshold")["field"] == "floor_area"
    for big_enough in ({"floor_area": 0.5, "budget": 2500}, {"floor_area": 1.2, "budget": 1500}):
        assert check_record(broken("construction", "application", **big_enough), campaign) == []


def test_scale_comes_from_the_campaign(tmp_path):
    other = write_campaign(tmp_path, construction__min_floor_area=3, construction__min_value=20000)
    assert "below_threshold" in codes(check_record(valid_record("construction"), other), "error")


def test_completed_less_than_a_year_before_the_campaign(campaign):
    record = broken("construction", "application", completion_date="2016-07-01", acceptance_date="2016-08-01")
    issue = only(check_record(record, campaign), "below_threshold")
    assert issue["field"] == "completion_date" and issue["article"] == "管理办法第七条第3款"
    record = broken("construction", "application", completion_date="2016-06-20")
    assert check_record(record, campaign) == []


def test_owner_evaluation_empty_or_none(campaign):
    issue = only(check_record(broken("construction", "application", owner_evaluation=None), campaign), "missing_field")
    assert issue["field"] == "owner_evaluation" and issue["article"] == "管理办法第七条第5款"
    issue = only(check_record(broken("construction", "application", owner_evaluation="无"), campaign), "missing_field")
    assert issue["field"] == "owner_evaluation"


def test_residential_project_must_show_occupancy(campaign):
    issue = only(check_record(broken("construction", "application", project_type="住宅工程"), campaign), "occupancy_check")
    assert issue["severity"] == "warning" and "60%" in issue["message"]


def test_no_quality_award(campaign):
    issue = only(check_record(broken("construction", "application", awards="无"), campaign), "award_check")
    assert issue["severity"] == "warning" and issue["article"] == "管理办法第七条第1款"


# --- rule 10: enterprise ------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["有", "2015年发生一起质量事故"])
def test_major_incident(answer, campaign):
    issue = only(check_record(broken("enterprise", "application", major_incidents=answer), campaign), "below_threshold")
    assert issue["field"] == "major_incidents" and issue["severity"] == "error"


@pytest.mark.parametrize("answer", ["无", "没有", "否", "无重大安全、质量事故", "近三年未发生"])
def test_no_major_incident(answer, campaign):
    assert check_record(broken("enterprise", "application", major_incidents=answer), campaign) == []


def test_inspection_pass_rate_under_100(campaign):
    issue = only(check_record(broken("enterprise", "application", inspection_pass_rate=98.5), campaign), "below_threshold")
    assert issue["severity"] == "warning" and issue["field"] == "inspection_pass_rate"


def test_fixed_assets_net_above_original(campaign):
    issue = only(check_record(broken("enterprise", "application", fixed_assets_net=13000), campaign), "inconsistent")
    assert issue["field"] == "fixed_assets_net" and "13000" in issue["message"]


# --- rule 11: the recommendation ----------------------------------------------------------------


def test_not_compliant(campaign):
    issue = only(check_record(broken("product", "recommendation", compliant=False), campaign), "below_threshold")
    assert issue["field"] == "compliant" and issue["article"] == "推荐意见表注2"


@pytest.mark.parametrize("field", ["compliant", "evidence_review", "opinion"])
def test_recommendation_left_empty(field, campaign):
    issue = only(check_record(broken("product", "recommendation", **{field: None}), campaign), "missing_field")
    assert (issue["form"], issue["field"]) == ("recommendation", field)


def test_opinion_that_says_none(campaign):
    issue = only(check_record(broken("product", "recommendation", opinion="无"), campaign), "missing_field")
    assert issue["field"] == "opinion" and issue["article"] == "推荐意见表注4"


def test_recommended_category_differs(campaign):
    issue = only(check_record(broken("product", "recommendation", category="服务类"), campaign), "inconsistent")
    assert issue["severity"] == "warning" and issue["field"] == "category"


# --- rule 12: company names ---------------------------------------------------------------------


def test_company_name_differs_between_forms(campaign):
    record = broken("service", "commitment", company_name="黑龙江省另一家公司")
    issue = only(check_record(record, campaign), "inconsistent")
    assert issue["severity"] == "warning" and "黑龙江省另一家公司" in issue["message"]
    assert "承诺企业" in issue["message"]


def test_company_name_seal_notes_and_spacing_ignored(campaign):
    record = broken("service", "application", company_name=f"{COMPANY}（公章）")
    record["forms"]["commitment"]["company_name"] = " ".join(COMPANY)
    assert check_record(record, campaign) == []


# --- the batch ----------------------------------------------------------------------------------


def test_duplicate_application_on_every_submission_of_the_enterprise(campaign):
    first, second, third = valid_record("product"), valid_record("service"), valid_record("enterprise")
    second.update(submission_id="b", company_name=f"{COMPANY}(公章)")
    third.update(submission_id="c", company_name="另一家企业有限公司")
    found = check_batch([first, second, third], campaign)
    assert set(found) == {first["submission_id"], "b"}
    for sid in found:
        assert codes(found[sid]) == ["duplicate_application"] and found[sid][0]["severity"] == "error"
        assert "product.zip" in found[sid][0]["message"] and "service.zip" in found[sid][0]["message"]


def test_duplicate_found_by_form_names_when_record_has_none(campaign):
    first, second = valid_record("product"), valid_record("service")
    second.update(submission_id="b", company_name=None)
    assert set(check_batch([first, second], campaign)) == {"sub-product", "b"}


def test_late_submission(campaign, tmp_path):
    records = [valid_record("product"), valid_record("service")]
    records[1]["company_name"] = "另一家企业有限公司"
    assert check_batch(records, campaign, date(2017, 6, 20)) == {}
    assert check_batch(records, campaign, None) == {}
    late = check_batch(records, campaign, date(2017, 6, 21))
    assert {sid: codes(i) for sid, i in late.items()} == {"sub-product": ["late_submission"], "sub-service": ["late_submission"]}
    assert check_batch(records, write_campaign(tmp_path, deadline="2017-07-01"), date(2017, 6, 21)) == {}


# --- other campaigns ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["national-2016", "guangzhou-2016", "liaoning-2021", "guangdong-stars-2021"])
def test_campaigns_without_some_settings_skip_those_rules(name):
    other = load_campaign(DEFAULT_CAMPAIGN.parent / f"{name}.yaml")
    for category in CATEGORIES:
        found = check_record(valid_record(category), other)
        assert "rule_failed" not in codes(found)
    record = with_respondents(40, 10, "construction")
    record["forms"]["application"].update(floor_area=0.1, budget=10)
    assert "rule_failed" not in codes(check_record(record, other))


# --- robustness ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mangle", [
    lambda r: r["forms"].update(application=["not", "a", "table"]),
    lambda r: r["forms"].update(respondents={"seq": 1}),
    lambda r: r["forms"]["respondents"].append("row?"),
    lambda r: r["forms"]["recommendation"].update(survey_period={"start": "坏日期"}, satisfaction_score=True),
    lambda r: r.update(attachments=[None, {"kind": "survey_report", "score": "八十"}]),
    lambda r: r.update(category="unknown", forms_found=None),
    lambda r: r["forms"]["report"].update(chars="很多", sections_present=None, sections_missing=None),
])
def test_odd_records_never_crash(mangle, campaign):
    record = valid_record("construction")
    mangle(record)
    issues = check_record(copy.deepcopy(record), campaign)
    assert "rule_failed" not in codes(issues)
