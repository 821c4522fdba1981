"""The rules of a program whose packet is generated (辽宁, 全国, 广州, 广东服务明星), on records built in code.

A complete packet of every category has no issue; each rule, broken once, gives exactly the issues
listed here, whole (severity, code, form, field, message with its article), as staff read them. No
document is written or parsed here (tests/test_program_parse.py does that), so the mutation run
(`make mutants`) can use these tests.
"""

from __future__ import annotations

import copy
import functools
from datetime import date

import pytest
from program_packets import expected, packet_forms, typed

from pipeline.checking.rules import check_batch, check_record
from pipeline.definitions.program_forms import entry_kinds
from pipeline.definitions.programs import all_programs, resolve_campaign

GENERATED = [(p.id, cid) for p in all_programs() if "printed" not in entry_kinds(p) for cid in p.categories]
SURVEY_REPORT = {"file": "测评报告.docx", "kind": "survey_report", "score": 88.5, "sample_size": 320}

LIAONING_PRODUCT_APPLICATION = "《2021年度辽宁省用户满意产品（标杆）申报表》"
LIAONING_PRODUCT_CHECKLIST = "《2021年度辽宁省用户满意产品（标杆）申报条件自评表》"
LIAONING_PRODUCT_REGISTRATION = "《辽宁省用户满意称号（标杆）“产品”推荐登记表》"
LIAONING_PRODUCT_RECOMMENDATION = "《2021年度辽宁省用户满意产品（标杆）推荐评价意见》"
#: What rule 3 asks of an empty field.
FILL_IN = "未填写；须如实填写，确实不适用的请注明原因（如“无”“不适用”）"


@functools.cache
def campaign(pid: str):
    return resolve_campaign(pid, None)


def valid_record(pid: str, cid: str) -> dict:
    """Given a program and a category, return the record of its complete packet (every form, the survey report)."""
    forms = {form.id: expected(form, typed(form)) for form in packet_forms(pid, cid)}
    return {"submission_id": f"{pid}-{cid}", "source": f"{pid}-{cid}.zip", "category": cid,
            "company_name": forms["application"].get("company_name"), "forms": forms,
            "attachments": [dict(SURVEY_REPORT)], "issues": [], "status": "complete"}


def changed(pid: str, cid: str, form: str, **values) -> dict:
    """Given a program, a category, a form id and values, return the complete record with them set on that form."""
    record = valid_record(pid, cid)
    record["forms"][form].update(values)
    return record


def whole(issues: list[dict]) -> list[tuple]:
    """Given issues, return each as (severity, code, form, field, message), the article checked against its message."""
    for found in issues:
        assert found["message"].endswith(f"（{found['article']}）。"), found
    return [(i["severity"], i["code"], i["form"], i["field"], i["message"]) for i in issues]


# --- the complete packet --------------------------------------------------------------------------


@pytest.mark.parametrize("pid, cid", GENERATED)
def test_a_complete_packet_of_every_category_has_no_issue(pid, cid):
    assert check_record(valid_record(pid, cid), campaign(pid)) == []


def test_the_seed_packet_is_checked_by_the_seed_rules_and_a_generated_one_by_its_own():
    record = valid_record("liaoning", "product")
    seed = check_record(record, resolve_campaign("heilongjiang", None))
    assert ("error", "missing_form", "cover", None, "缺少《申报材料》，请补交（填报说明第1条）。") in whole(seed)
    assert check_record(record, campaign("liaoning")) == []


def test_forms_of_no_packet_of_the_program_are_not_checked():
    record = valid_record("liaoning", "product")
    record["forms"].update(cover={"company_name": None, "category": None}, notes=["一行"])
    assert check_record(record, campaign("liaoning")) == []


# --- the packet's forms and attachments -----------------------------------------------------------


@pytest.mark.parametrize("pid, message", [
    ("liaoning", "未找到辽宁省用户满意称号（标杆）推荐评定的申报表（企业、产品、建筑工程、服务之一），无法确定申报类别；请补交（第十一条）。"),
    ("national", "未找到全国用户满意标杆的申报表（企业类、服务类之一），无法确定申报类别；请补交（第十五条）。"),
])
def test_a_packet_without_a_category_of_the_program_is_one_error(pid, message):
    for category in (None, "unknown", "star"):
        record = {**valid_record(pid, "enterprise"), "category": category}
        assert whole(check_record(record, campaign(pid))) == [("error", "missing_form", "application", None, message)]


def test_each_missing_form_is_an_error_with_its_packet_article():
    record = valid_record("liaoning", "product")
    for form in ("registration", "recommendation", "report"):
        del record["forms"][form]
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "missing_form", "registration", None, f"缺少{LIAONING_PRODUCT_REGISTRATION}，请补交（第十三条）。"),
        ("error", "missing_form", "recommendation", None, f"缺少{LIAONING_PRODUCT_RECOMMENDATION}，请补交（第十四条）。"),
        ("error", "missing_form", "report", None, "缺少《自我评价报告》，请补交（第十一条）。"),
    ]


def test_a_form_of_one_category_only_is_asked_of_that_category():
    team = valid_record("guangdong-stars", "team")
    del team["forms"]["members"]
    assert whole(check_record(team, campaign("guangdong-stars"))) == [
        ("error", "missing_form", "members", None, "缺少《广东省用户满意服务明星班组成员名单》，请补交（第十三条）。")]
    star = valid_record("guangdong-stars", "star")
    assert "members" not in star["forms"] and check_record(star, campaign("guangdong-stars")) == []


def test_an_attachment_the_articles_ask_for_not_found_is_a_warning():
    record = valid_record("liaoning", "service")
    record["attachments"] = [None, "测评报告.docx", {"file": "营业执照.pdf", "kind": "business_license"}]
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("warning", "attachment_check", None, None,
         "未识别出第三方用户满意度测评报告（用户评价报告）；可能未提交，或文件名、内容无法辨认，请人工核对（第十二条）。")]


def test_a_program_whose_articles_name_no_attachment_asks_for_none():
    record = valid_record("guangzhou", "unit")
    record["attachments"] = []
    assert check_record(record, campaign("guangzhou")) == []


# --- fields and formats ---------------------------------------------------------------------------


def test_empty_and_malformed_fields_of_every_table_form_with_its_article():
    record = changed("liaoning", "product", "application", legal_representative=None, phone="12345",
                     satisfaction_index="很多")
    record["forms"]["registration"].update(contact_person="  ", phone="abc")
    record["forms"]["recommendation"]["opinion_date"] = "去年"
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "missing_field", "application", "legal_representative",
         f"{LIAONING_PRODUCT_APPLICATION}“法定代表人”{FILL_IN}（第十一条）。"),
        ("error", "missing_field", "registration", "contact_person",
         f"{LIAONING_PRODUCT_REGISTRATION}“联系人”{FILL_IN}（第十三条）。"),
        ("error", "invalid_format", "application", "phone",
         f"{LIAONING_PRODUCT_APPLICATION}“电话”填写为“12345”，不是有效的手机或固定电话号码；请核对后重新填写（第十一条）。"),
        ("error", "invalid_format", "application", "satisfaction_index",
         f"{LIAONING_PRODUCT_APPLICATION}“用户满意度指数”填写为“很多”，不是数字；请核对后重新填写（第十一条）。"),
        ("error", "invalid_format", "registration", "phone",
         f"{LIAONING_PRODUCT_REGISTRATION}“电话”填写为“abc”，不是有效的手机或固定电话号码；请核对后重新填写（第十三条）。"),
        ("error", "invalid_format", "recommendation", "opinion_date",
         f"{LIAONING_PRODUCT_RECOMMENDATION}“推荐日期”填写为“去年”，不是日期（如2017年5月9日）；请核对后重新填写（第十四条）。"),
    ]


def test_a_number_written_with_a_unit_its_label_has_none_of():
    record = changed("liaoning", "service", "application", satisfaction_index="2万元")
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "invalid_format", "application", "satisfaction_index",
         "《2021年度辽宁省用户满意服务（标杆）申报表》“用户满意度指数”填写为“2万元”，不是数字（单位“万元”无法换算）；"
         "请核对后重新填写（第十一条）。")]


def test_a_number_written_with_the_unit_of_its_label_is_that_number():
    from pipeline.reading.values import value

    field = packet_forms("liaoning", "product")[0].fields["consecutive_title_years"]
    assert (field.label, field.unit) == ("连续获称号年数", "年")  # a unit of no conversion table
    record = changed("liaoning", "product", "application", consecutive_title_years=value(field, "3年"))
    assert record["forms"]["application"]["consecutive_title_years"] == 3
    assert check_record(record, campaign("liaoning")) == []


def test_a_field_left_empty_with_a_reason_and_an_optional_one_are_fine():
    record = changed("liaoning", "product", "application", legal_representative="无", email="不适用")
    record["forms"]["evidence"][0]["pages"] = None
    assert check_record(record, campaign("liaoning")) == []


def test_a_person_form_names_its_own_fields():
    record = changed("guangdong-stars", "star", "application", political="", contact="abc")
    assert whole(check_record(record, campaign("guangdong-stars"))) == [
        ("error", "missing_field", "application", "political",
         f"《2021年度广东省用户满意服务明星申报表》“政治面貌”{FILL_IN}（第十六条第1款）。"),
        ("error", "invalid_format", "application", "contact",
         "《2021年度广东省用户满意服务明星申报表》“联系方式”填写为“abc”，不是有效的手机或固定电话号码；请核对后重新填写（第十六条第1款）。"),
    ]


# --- the self-evaluation checklist ----------------------------------------------------------------

#: The product checklist's rows 1 to 4 and 12 (a 标杆 row), as printed.
ROW = {1: f"{LIAONING_PRODUCT_CHECKLIST}第1项“产品不含香烟、药品、保健品、民用爆破器材等”",
       2: f"{LIAONING_PRODUCT_CHECKLIST}第2项“企业依法合规经营，重视质量经营和用户工作，产品服务体系健全”",
       3: f"{LIAONING_PRODUCT_CHECKLIST}第3项“采用国际或国内先进标准进行批量生产，质量特性满足用户需求，具有一定的市场份额”",
       4: f"{LIAONING_PRODUCT_CHECKLIST}第4项“认真、及时处理用户投诉，维护用户合法权益”",
       12: f"{LIAONING_PRODUCT_CHECKLIST}第12项“近三年连续获得辽宁省用户满意产品称号”"}
#: Rows answered badly: not ticked, ticked twice, 不符合, 符合 without evidence, 不适用 without (fine), 不符合 for 标杆.
BAD_ROWS = {"self_01": None, "self_02": ["符合", "不符合"], "self_03": "不符合", "evidence_04": "",
            "self_05": "不适用", "evidence_05": None, "self_12": "不符合"}
ROW_ISSUES = [
    ("error", "missing_field", "checklist", "self_01",
     f"{ROW[1]}的“自评”未勾选；须勾选符合、不符合或不适用之一（第十一条）。"),
    ("error", "invalid_format", "checklist", "self_02", f"{ROW[2]}的“自评”勾选了符合、不符合；只能勾选一项（第十一条）。"),
    ("error", "criterion_not_met", "checklist", "self_03",
     f"{ROW[3]}自评为不符合；不符合申报条件的，不能申报该等级（第七条第1款⑵）。"),
    ("warning", "attachment_check", "checklist", "evidence_04",
     f"{ROW[4]}自评为符合，但“证明材料”栏未写明所附材料（第十一条）。"),
]
BENCHMARK_ROW_ISSUE = ("error", "criterion_not_met", "checklist", "self_12",
                       f"{ROW[12]}自评为不符合；不符合申报条件的，不能申报该等级（第七条第2款⑷）。")


def test_checklist_rows_not_ticked_ticked_twice_not_met_or_without_evidence():
    record = changed("liaoning", "product", "checklist", **BAD_ROWS)
    assert record["forms"]["application"]["tier"] == "benchmark"
    assert whole(check_record(record, campaign("liaoning"))) == ROW_ISSUES + [BENCHMARK_ROW_ISSUE]


@pytest.mark.parametrize("tier", ["satisfied", "金牌", ["satisfied", "benchmark"]])
def test_the_rows_of_a_higher_tier_than_applied_for_are_not_checked(tier):
    record = changed("liaoning", "product", "checklist", **BAD_ROWS)
    record["forms"]["application"]["tier"] = tier  # 用户满意, or no tier the form offers: the first tier
    assert whole(check_record(record, campaign("liaoning"))) == ROW_ISSUES


def test_a_programs_only_tier_is_checked():
    record = changed("guangdong-stars", "enterprise", "checklist", self_01="不符合")
    assert whole(check_record(record, campaign("guangdong-stars"))) == [
        ("error", "criterion_not_met", "checklist", "self_01",
         "《2021年度广东省用户满意服务明星企业申报条件自评表》第1项“申报单位必须是广东省内合法从事服务单位”自评为不符合；"
         "不符合申报条件的，不能申报该等级（第十五条第1项）。")]


def test_the_applicant_named_on_the_checklist_is_a_field_like_any_other():
    record = changed("guangdong-stars", "star", "checklist", name="")
    assert whole(check_record(record, campaign("guangdong-stars"))) == [
        ("error", "missing_field", "checklist", "name",
         f"《2021年度广东省用户满意服务明星申报条件自评表》“姓名”{FILL_IN}（第十六条第1款）。")]


def test_a_checklist_that_is_no_table_is_left_alone():
    record = valid_record("liaoning", "product")
    record["forms"]["checklist"] = ["不符合"]
    assert check_record(record, campaign("liaoning")) == []


# --- the criteria the forms decide ----------------------------------------------------------------


def test_criteria_the_application_does_not_meet_for_each_tier_applied_for():
    record = changed("liaoning", "product", "application", satisfaction_index=78, credit_rating="A",
                     consecutive_title_years=2)
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "below_threshold", "application", None,
         "申报表：信用等级=A，不符合产品（用户满意）的申报条件“市场质量信用等级评价AA级”（第七条第1款⑹）。"),
        ("error", "below_threshold", "application", None,
         "申报表：满意度指数=78，不符合产品（用户满意）的申报条件“经认可的第三方测评，用户满意度指数在80以上”（第七条第1款⑺）。"),
        ("error", "below_threshold", "application", None,
         "申报表：信用等级=A，不符合产品（标杆）的申报条件“市场质量信用等级评价AAA级”（第七条第2款⑵）。"),
        ("error", "below_threshold", "application", None,
         "申报表：满意度指数=78，不符合产品（标杆）的申报条件“用户满意度指数85以上”（第七条第2款⑶）。"),
        ("error", "below_threshold", "application", None,
         "申报表：连续获得称号年数=2，不符合产品（标杆）的申报条件“近三年连续获得辽宁省用户满意产品称号”（第七条第2款⑷）。"),
    ]


def test_a_user_satisfaction_applicant_is_held_to_its_own_tier_only():
    record = changed("liaoning", "product", "application", tier="satisfied", satisfaction_index=80, credit_rating="AA",
                     consecutive_title_years=0)
    assert check_record(record, campaign("liaoning")) == []
    record["forms"]["application"]["satisfaction_index"] = 79.9
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "below_threshold", "application", None,
         "申报表：满意度指数=79.9，不符合产品（用户满意）的申报条件“经认可的第三方测评，用户满意度指数在80以上”（第七条第1款⑺）。")]


def test_the_benchmark_minimum_is_met_at_it_and_not_a_tenth_below():
    record = changed("liaoning", "service", "application", satisfaction_index=85)
    assert check_record(record, campaign("liaoning")) == []
    record["forms"]["application"]["satisfaction_index"] = 84.9
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "below_threshold", "application", None,
         "申报表：满意度指数=84.9，不符合服务（标杆）的申报条件“用户满意度指数85以上”（第九条第2款⑶）。")]


def test_years_in_use_are_counted_to_the_deadline():
    # Delivered 2019-06-01: 2.58 years before the deadline 2021-12-31, inside the one to three years asked.
    record = valid_record("liaoning", "construction")
    assert record["forms"]["application"]["completion_date"] == "2019-06-01"
    assert check_record(record, campaign("liaoning")) == []
    record["forms"]["application"]["completion_date"] = "2018-12-31"  # three years: still inside
    assert check_record(record, campaign("liaoning")) == []
    record["forms"]["application"]["completion_date"] = "2018-11-30"
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "below_threshold", "application", None,
         "申报表：交付使用年数=3.09，不符合建筑工程（用户满意）的申报条件“已验收，交付使用后经一年以上、三年以内使用检验，"
         "没有发现质量问题和隐患”（第八条第1款⑶）。")]


# --- documents without content --------------------------------------------------------------------


def test_a_report_without_text_and_a_list_without_a_row():
    record = valid_record("liaoning", "construction")
    record["forms"]["report"]["chars"] = 0
    record["forms"]["evidence"] = []
    assert whole(check_record(record, campaign("liaoning"))) == [
        ("error", "missing_field", "report", None, "《自我评价报告》只有标题，没有正文；须按要求撰写（第十一条）。"),
        ("error", "missing_field", "evidence", None, "《证实性材料清单》未填写任何一行（第十一条）。"),
    ]


def test_a_team_without_members_listed():
    record = valid_record("guangdong-stars", "team")
    record["forms"]["members"] = []
    assert whole(check_record(record, campaign("guangdong-stars"))) == [
        ("error", "missing_field", "members", None, "《广东省用户满意服务明星班组成员名单》未填写任何一行（第十三条）。")]


# --- the batch ------------------------------------------------------------------------------------


def test_two_applications_of_one_company_in_one_category_are_duplicates_and_in_two_are_not():
    first, second, third = (valid_record("liaoning", "product"), valid_record("liaoning", "product"),
                            valid_record("liaoning", "service"))
    second.update(submission_id="b", source="b.zip")
    found = check_batch([first, second, third], campaign("liaoning"))
    message = ("“沈阳示范电器有限公司”在本批材料中同一类别共有2份申报（liaoning-product.zip、b.zip）；"
               "请确认保留哪一份（第十一条）。")
    assert {sid: whole(issues) for sid, issues in found.items()} == {
        sid: [("error", "duplicate_application", None, "company_name", message)] for sid in ("liaoning-product", "b")}


def test_a_late_packet_of_a_program_cites_its_notice():
    found = check_batch([valid_record("national", "service")], campaign("national"), date(2017, 1, 1))
    assert whole(found["national-service"]) == [
        ("error", "late_submission", None, None, "材料于2017-01-01收到，晚于提交截止时间2016-12-31（活动通知规定的截止日期）。")]
    assert check_batch([valid_record("national", "service")], campaign("national"), date(2016, 12, 31)) == {}


def test_records_are_not_changed_by_the_rules():
    record = changed("liaoning", "product", "checklist", **BAD_ROWS)
    before = copy.deepcopy(record)
    check_record(record, campaign("liaoning"))
    assert record == before
