"""What staff read: the whole message of each rule's issue, as reviewed, and how values are shown in it.

Messages are built from the forms' titles and labels; these tables are the Chinese a person checked,
so a changed word, a lost label or a wrong article fails here.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_rules import broken, valid_record

from pipeline.checking.rules import check_batch, check_record
from pipeline.checking.rules.messages import issue, shown
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign


@pytest.fixture(scope="module")
def campaign():
    return load_campaign(DEFAULT_CAMPAIGN)


#: (case, record, its one issue as (severity, code, form, field, message)).
MESSAGES = [
    ("not_compliant", lambda: broken("product", "recommendation", compliant=False),
     ("error", "below_threshold", "recommendation", "compliant",
      "《实施全省用户满意工程先进单位推荐意见表》“是否符合相关规范”勾选了不符合；企业须符合相关法律、法规、国家标准、行业标准的要求（推荐意见表注2）。")),
    ("empty_opinion", lambda: broken("product", "recommendation", opinion="无"),
     ("error", "missing_field", "recommendation", "opinion",
      "《实施全省用户满意工程先进单位推荐意见表》“推荐意见”填写为“无”；推荐意见须包括企业在行业中的重要性、用户评价、满意度测评及推荐意见等（推荐意见表注4）。")),
    ("other_category", lambda: broken("product", "recommendation", category="服务类"),
     ("warning", "inconsistent", "recommendation", "category",
      "《实施全省用户满意工程先进单位推荐意见表》“推荐类别”为“服务类”，而申报类别是产品类；请核对（填报说明第8条）。")),
    ("service_name", lambda: broken("service", "application", service_name="客户服务中心"),
     ("warning", "service_name_unclear", "application", "service_name",
      "《实施全省用户满意工程先进单位（服务类）申请表》“专项服务名称”填写为“客户服务中心”，像是服务机构名称；须填写企业提供的专项服务名称（不是企业的服务机构），请核对（填报说明第2条）。")),
    ("series_model", lambda: broken("product", "application", product_model="KFR-35GW、KFR-50LW"),
     ("error", "series_product", "application", "product_model",
      "《实施全省用户满意工程先进单位（产品类）申请表》“产品型号及规格”填写为“KFR-35GW、KFR-50LW”，列出了2个型号，属于系列产品；须填写具体型号、规格（填报说明第2条）。")),
    ("small_project", lambda: broken("construction", "application", floor_area=0.5, budget=1500),
     ("error", "below_threshold", "application", "floor_area",
      "《实施全省用户满意工程先进单位（建筑工程类）申请表》“建筑面积（万平方米）”为0.5，“工程预算（万元）”为1500；须建筑面积1万平方米以上或建筑施工安装量在2000万元以上（管理办法第七条第2款）。")),
    ("recent_completion", lambda: broken("construction", "application", completion_date="2016-07-01", acceptance_date="2016-08-01"),
     ("error", "below_threshold", "application", "completion_date",
      "《实施全省用户满意工程先进单位（建筑工程类）申请表》“竣工日期”为2016-07-01，到2017-06-20不满1年；工程须竣工后经1年以上使用、检验（管理办法第七条第3款）。")),
    ("owner_evaluation", lambda: broken("construction", "application", owner_evaluation="无"),
     ("error", "missing_field", "application", "owner_evaluation",
      "《实施全省用户满意工程先进单位（建筑工程类）申请表》“建设单位（用户）满意度评价鉴定意见”填写为“无”；建设单位（用户）须出具满意度评价意见（管理办法第七条第5款）。")),
    ("no_award", lambda: broken("construction", "application", awards="无"),
     ("warning", "award_check", "application", "awards",
      "《实施全省用户满意工程先进单位（建筑工程类）申请表》“获地区、行业优质工程情况”填写为“无”；工程须获得国家、省、市、地区或行业命名的优质工程，请核对（管理办法第七条第1款）。")),
    ("residential", lambda: broken("construction", "application", project_type="住宅工程"),
     ("warning", "occupancy_check", "application", "project_type",
      "《实施全省用户满意工程先进单位（建筑工程类）申请表》“工程类别”为住宅工程；须达到基本入住条件且入住率在60%以上，请核对是否附有入住率证明（管理办法第七条第4款）。")),
    ("major_incident", lambda: broken("enterprise", "application", major_incidents="有"),
     ("error", "below_threshold", "application", "major_incidents",
      "《实施全省用户满意工程先进单位（企业类）申请表》“三年有无重大安全、质量事故”填写为“有”；企业须近年无重大安全、质量事故（管理办法第五条第4款）。")),
    ("pass_rate", lambda: broken("enterprise", "application", inspection_pass_rate=98.5),
     ("warning", "below_threshold", "application", "inspection_pass_rate",
      "《实施全省用户满意工程先进单位（企业类）申请表》“国家抽检合格率”为98.5%；产品须在国家各级质量监督抽查中合格，请核对（管理办法第五条第4款）。")),
    ("fixed_assets", lambda: broken("enterprise", "application", fixed_assets_net=13000),
     ("error", "inconsistent", "application", "fixed_assets_net",
      "《实施全省用户满意工程先进单位（企业类）申请表》“净值”为13000，大于“原值”12000；净值不应超过原值，请核对（填报说明第2条）。")),
    ("no_category", lambda: broken("product", "cover", category=None),
     ("error", "no_category", "cover", "category",
      "《申报材料》“类别”未勾选；须勾选企业类、产品类、建筑工程类、服务类之一（通知第一条）。")),
    ("multiple_categories", lambda: broken("product", "cover", category=["product", "service"]),
     ("error", "multiple_categories", "cover", "category",
      "《申报材料》“类别”勾选了产品类、服务类；每个企业只能申报一项，只能勾选一类（通知第三条）。")),
    ("missing_field", lambda: broken("product", "application", legal_representative=None),
     ("error", "missing_field", "application", "legal_representative",
      "《实施全省用户满意工程先进单位（产品类）申请表》“法定代表人姓名”未填写；须如实填写，确实不适用的请注明原因（如“无”“不适用”）（填报说明第2条）。")),
    ("invalid_format", lambda: broken("product", "application", postcode="15003"),
     ("error", "invalid_format", "application", "postcode",
      "《实施全省用户满意工程先进单位（产品类）申请表》“邮编”填写为“15003”，不是6位数字的邮政编码；请核对后重新填写（填报说明第2条）。")),
    ("report_too_long", lambda: broken("service", "report", chars=5001),
     ("error", "report_too_long", "report", "chars",
      "《实施用户满意工程情况的报告》正文5001字，超过5000字的上限；请精简（企业实施用户满意工程情况表（报告要求））。")),
    ("report_missing_section", lambda: broken("product", "report", sections_missing=["3.2", "4"]),
     ("warning", "report_missing_section", "report", "sections_missing",
      "《实施用户满意工程情况的报告》未找到以下部分：3.2顾客识别与顾客分类、4主要成果与展望；请按情况表列出的结构撰写（企业实施用户满意工程情况表（报告要求））。")),
]


@pytest.mark.parametrize("case, record, expected", MESSAGES, ids=[m[0] for m in MESSAGES])
def test_each_rule_says_exactly_this(case, record, expected, campaign):
    (found,) = check_record(record(), campaign)
    assert (found["severity"], found["code"], found["form"], found["field"], found["message"]) == expected
    assert found["message"].endswith(f"（{found['article']}）。")


def test_differing_names_lists_every_form_and_its_name(campaign):
    (found,) = check_record(broken("service", "commitment", company_name="黑龙江省另一家公司"), campaign)
    same = "“企业名称”为“黑龙江省示例电器有限公司”"
    assert found["message"] == (
        f"各表企业名称不一致：《申报材料》{same}；《实施全省用户满意工程先进单位（服务类）申请表》{same}；"
        f"《企业实施用户满意工程情况表》{same}；《企业用户满意经营承诺书》“承诺企业”为“黑龙江省另一家公司”；"
        f"《实施全省用户满意工程先进单位推荐意见表》{same}；请核对并统一（填报说明第2条）。")
    assert (found["severity"], found["code"], found["form"], found["field"]) == ("warning", "inconsistent", None,
                                                                                "company_name")


def test_batch_messages(campaign):
    first, second = valid_record("product"), valid_record("service")
    second.update(submission_id="b", source=None)
    found = check_batch([first, second], campaign, date(2017, 6, 21))
    duplicate = ("“黑龙江省示例电器有限公司”在本批材料中共有2份申报（product.zip、b）；每个企业只能申报一项，"
                 "请确认保留哪一项（通知第三条）。")
    late = "材料于2017-06-21收到，晚于提交截止时间2017-06-20（填报说明第9条）。"
    for sid in ("sub-product", "b"):
        assert [(i["severity"], i["code"], i["field"], i["message"]) for i in found[sid]] == [
            ("error", "duplicate_application", "company_name", duplicate), ("error", "late_submission", None, late)]


@pytest.mark.parametrize("value, text", [
    (None, "空白"), (True, "是"), (False, "否"), (2.0, "2"), (2.5, "2.5"), (0, "0"), (0.0, "0"), ("无", "无"),
    ({"start": "2017-01-05", "end": "2017-03-20"}, "2017-01-05至2017-03-20"), ({"start": "2017-01-05"}, "{'start': '2017-01-05'}"),
    (["公共建筑", "住宅工程"], "公共建筑、住宅工程"), ([1.0, None, True], "1、空白、是"), ((), ""),
])
def test_shown(value, text):
    assert shown(value) == text


def test_an_issue_ends_with_its_article_once():
    assert issue("error", "x", "某栏未填写；", "填报说明第2条", form="f", field="g") == {
        "severity": "error", "code": "x", "form": "f", "field": "g", "message": "某栏未填写（填报说明第2条）。",
        "article": "填报说明第2条"}
    assert issue("warning", "y", "请核对。, ", "第一条")["message"] == "请核对（第一条）。"
    assert issue("warning", "y", "请核对", "第一条")["form"] is None


# --- the article each issue names ---------------------------------------------------------------


@pytest.mark.parametrize("category, form, fid, article", [
    ("product", "application", "legal_representative", "填报说明第2条"),
    ("product", "cover", "industry", "填报说明第2条"),
    ("product", "implementation_status", "customer_count", "填报说明第3条"),
    ("product", "commitment", "company_name", "填报说明第5条"),
    ("construction", "site_inspection", "company_name", "填报说明第8条"),
    ("product", "recommendation", "company_name", "填报说明第8条"),
    ("product", "recommendation", "survey_period", "推荐意见表注3"),
    ("product", "recommendation", "valid_questionnaires", "被访者信息登记表注3"),
    ("construction", "application", "owner_evaluation", "管理办法第七条第5款"),
])
def test_an_empty_field_names_its_article(category, form, fid, article, campaign):
    record = broken(category, form, **{fid: None})
    if fid == "valid_questionnaires":
        record["attachments"][1]["sample_size"] = None
    if fid == "survey_period":
        record["attachments"][1]["survey_period"] = None
    found = [i for i in check_record(record, campaign) if i["code"] == "missing_field"]
    assert [(i["form"], i["field"], i["article"]) for i in found] == [(form, fid, article)]


def test_a_message_ending_in_a_letter_keeps_it():
    assert issue("error", "x", "型号为KFR-35GWX", "第二条")["message"] == "型号为KFR-35GWX（第二条）。"


def test_a_date_written_without_separators_is_no_date(campaign):
    from pipeline.checking.rules import fields
    from pipeline.definitions.forms import load_forms

    completion = load_forms()["application.construction"].fields["completion_date"]
    assert fields.format_problem(completion, "20150501") == "日期（如2017年5月9日）"
    assert fields.format_problem(completion, "2015-05-01") is None
    record = broken("construction", "application", completion_date="20150501")
    assert [(i["code"], i["field"]) for i in check_record(record, campaign)] == [("invalid_format", "completion_date")]


def test_a_service_named_like_its_own_organisation(campaign):
    from pipeline.checking.rules import subject

    assert subject.organisation_like("家电之家", ["家电之家", None])
    assert subject.organisation_like("家电 之家", [None, "家电之家"])
    assert not subject.organisation_like("上门安装服务", ["家电之家", "龙江家电"])
    assert not subject.organisation_like(None, ["家电之家"])
    for org, company in (("家电之家", "龙江家电"), ("售后", "家电之家")):
        record = broken("service", "application", service_name="家电之家", service_org=org, company_name=company)
        assert [i["code"] for i in subject.service_name(record, campaign)] == ["service_name_unclear"]
    assert subject.service_name(broken("service", "application", service_name=None), campaign) == []


def test_a_recommended_category_that_is_no_text_is_left_alone(campaign):
    from pipeline.checking.rules import recommendation

    for written in (5, ["服务类"], None):
        assert recommendation.other_category(broken("product", "recommendation", category=written), campaign) == []


def test_an_unknown_application_variant_is_named_as_found(campaign):
    record = valid_record("product")
    record["forms_found"] = ["cover", "application.product", "application.food"]
    found = [i for i in check_record(record, campaign) if i["code"] == "multiple_categories"]
    assert [i["message"] for i in found] == ["提交了产品类、food多份申请表；每个企业只能申报一项（通知第三条）。"]


# --- the packet, the report outline and a rule that fails ---------------------------------------


def test_missing_forms_without_a_category_in_packet_order_with_their_articles(campaign):
    from pipeline.checking.rules import packet
    from pipeline.definitions.forms import categories, packet_spec

    record = {"submission_id": "x", "source": "x", "category": None, "forms": {}, "attachments": []}
    found = packet.missing_forms(record, campaign)
    order = list(packet_spec()["order"])
    shown_forms = [i["form"] for i in found[:-1]]
    assert shown_forms == sorted(shown_forms, key=lambda f: order.index(f) if f in order else len(order))
    assert [(i["form"], i["article"]) for i in found[:-1]] == [
        (f, packet.FORM_ARTICLES.get(f, "填报说明第1条")) for f in shown_forms]
    assert found[-1]["message"] == f"缺少申请表（{'、'.join(categories().values())}之一），请补交（填报说明第1条）。"
    assert (found[-1]["form"], found[-1]["severity"]) == ("application", "error")
    record["forms"]["application"] = {}
    assert "application" not in [i["form"] for i in packet.missing_forms(record, campaign)]


def test_missing_sections_counted_from_the_sections_present(campaign):
    from pipeline.definitions.forms import load_forms

    outline = [str(s["num"]) for s in load_forms()["report"].get("outline")]
    record = broken("product", "report", sections_missing=None, sections_present=[n for n in outline if n != "3.2"])
    (found,) = check_record(record, campaign)
    assert found["message"] == ("《实施用户满意工程情况的报告》未找到以下部分：3.2顾客识别与顾客分类；"
                                "请按情况表列出的结构撰写（企业实施用户满意工程情况表（报告要求））。")
    assert check_record(broken("product", "report", sections_missing=None, sections_present=outline), campaign) == []
    unknown = broken("product", "report", sections_missing=["9"])
    assert "未找到以下部分：9；" in check_record(unknown, campaign)[0]["message"]


def test_a_rule_that_fails_becomes_one_warning_and_the_others_still_run(campaign, monkeypatch):
    import pipeline.checking.rules as rules

    def broken_rule(record, campaign):
        """Given a record, return nothing but trouble."""
        raise ZeroDivisionError

    def undocumented(record, campaign):
        raise KeyError("x")
    undocumented.__doc__ = None

    seeds = rules.rules_for(campaign)
    monkeypatch.setattr(rules, "rules_for", lambda chosen: (broken_rule, undocumented) + seeds)
    found = check_record(broken("product", "application", postcode="15003"), campaign)
    assert found[:2] == [
        {"severity": "warning", "code": "rule_failed", "form": None, "field": None, "article": "人工核对",
         "message": "有一项自动检查未能完成（所填内容无法自动判断），请人工核对本申报的各表内容（人工核对）。",
         "rule": f"{__name__.rsplit('.', 1)[-1]}.broken_rule"},
        {"severity": "warning", "code": "rule_failed", "form": None, "field": None, "article": "人工核对",
         "message": "有一项自动检查未能完成（所填内容无法自动判断），请人工核对本申报的各表内容（人工核对）。",
         "rule": f"{__name__.rsplit('.', 1)[-1]}.undocumented"}]
    assert [i["code"] for i in found[2:]] == ["invalid_format"]


def test_enterprise_rules_read_only_an_enterprise_application(campaign):
    from pipeline.checking.rules import enterprise

    record = broken("product", "application", inspection_pass_rate=50, major_incidents="有", fixed_assets_original=1,
                    fixed_assets_net=5)
    for rule in (enterprise.major_incidents, enterprise.pass_rate, enterprise.fixed_assets):
        assert rule(record, campaign) == []


def test_fixed_assets_written_as_text_are_a_format_issue_only(campaign):
    record = broken("enterprise", "application", fixed_assets_net="很多")
    assert [(i["code"], i["field"]) for i in check_record(record, campaign)] == [("invalid_format", "fixed_assets_net")]


@pytest.mark.parametrize("category, form, fid, value, article", [
    ("product", "implementation_status", "customer_count", "很多", "填报说明第3条"),
    ("product", "recommendation", "survey_period", "今年春天", "推荐意见表注3"),
    ("product", "application", "postcode", "15003", "填报说明第2条"),
])
def test_a_malformed_value_names_its_article(category, form, fid, value, article, campaign):
    found = [i for i in check_record(broken(category, form, **{fid: value}), campaign) if i["code"] == "invalid_format"]
    assert [(i["form"], i["field"], i["article"], i["severity"]) for i in found] == [(form, fid, article, "error")]


def test_no_trade_part_filled_is_one_error_naming_the_parts(campaign):
    from pipeline.definitions.forms import application_form

    record = valid_record("enterprise")
    for f in application_form("enterprise").fields.values():
        if f.group:
            record["forms"]["application"][f.id] = None
    (found,) = check_record(record, campaign)
    assert found == {"severity": "error", "code": "missing_field", "form": "application", "field": None,
                     "article": "填报说明第2条",
                     "message": "《实施全省用户满意工程先进单位（企业类）申请表》中“工业企业填写”、“建筑企业填写”、“服务企业填写”"
                                "各栏都未填写；须填写与本企业相符的一栏（填报说明第2条）。"}


@pytest.mark.parametrize("kind, category, article", [("business_license", "service", "填报说明第4条"),
                                                     ("survey_report", "enterprise", "填报说明第6条"),
                                                     ("trademark", "product", "填报说明第4条")])
def test_a_missing_attachment_names_its_article(kind, category, article, campaign):
    record = valid_record(category)
    record["attachments"] = [a for a in record["attachments"] if a["kind"] != kind]
    found = [i for i in check_record(record, campaign) if i["code"] == "attachment_check"]
    assert [(i["severity"], i["article"]) for i in found] == [("warning", article)]


def test_respondent_rows_without_a_seq_are_named_by_position(campaign):
    record = valid_record("service")
    rows = record["forms"]["respondents"]
    for row in rows:
        row["seq"] = None
    rows[3]["contact"] = "12345"
    rows[5]["name"] = None
    found = {i["code"]: i["message"] for i in check_record(record, campaign)}
    assert "中序号4的" in found["invalid_format"] and "中序号6缺少" in found["missing_field"]


def test_category_issues_whole(campaign):
    from pipeline.checking.rules import category

    record = valid_record("product")
    record["forms_found"] = ["cover", "application.product", "application.service"]
    assert check_record(record, campaign) == [{
        "severity": "error", "code": "multiple_categories", "form": "application", "field": None,
        "message": "提交了产品类、服务类多份申请表；每个企业只能申报一项（通知第三条）。", "article": "通知第三条"}]
    record["forms_found"] = ["cover", "application.service"]
    assert category.cover_category(record, campaign) == [{
        "severity": "error", "code": "inconsistent", "form": "cover", "field": "category",
        "message": "《申报材料》“类别”勾选的是产品类，但提交的是《实施全省用户满意工程先进单位（服务类）申请表》；类别须一致（通知第三条）。",
        "article": "通知第三条"}]
    record["forms_found"] = ["cover", "application.service", "application.enterprise"]
    (inconsistent,) = [i for i in category.cover_category(record, campaign) if i["code"] == "inconsistent"]
    assert "但提交的是《实施全省用户满意工程先进单位（服务类）申请表》、《实施全省用户满意工程先进单位（企业类）申请表》；" in (
        inconsistent["message"])


def test_cover_ticks_count_only_when_the_cover_is_there(campaign):
    from pipeline.checking.rules import category

    record = valid_record("product")
    del record["forms"]["cover"]
    record["cover_categories"] = ["产品类", "企业类"]
    assert category.cover_category(record, campaign) == []


def test_respondent_contact_and_name_issues_whole(campaign):
    record = valid_record("service")
    rows = record["forms"]["respondents"]
    rows[3]["contact"] = "12345"
    rows[5]["name"] = None
    assert check_record(record, campaign) == [
        {"severity": "warning", "code": "invalid_format", "form": "respondents", "field": "contact",
         "message": "《被访者信息登记表》中序号4的“联系方式”不是有效的电话号码；请核对（被访者信息登记表注4）。",
         "article": "被访者信息登记表注4"},
        {"severity": "warning", "code": "missing_field", "form": "respondents", "field": "name",
         "message": "《被访者信息登记表》中序号6缺少“姓名”或“联系方式”；请补全（被访者信息登记表注4）。",
         "article": "被访者信息登记表注4"}]


# --- the survey and register issues, whole (read and checked by a person) -----------------------

from test_thresholds import registered, scored, surveyed_from  # noqa: E402

from pipeline.checking.rules import respondents, survey  # noqa: E402

WHOLE = [
    (survey.low_score, lambda: scored(79.9),
     [{"severity": "error", "code": "below_threshold", "form": "recommendation", "field": "satisfaction_score", "message": "《实施全省用户满意工程先进单位推荐意见表》“被推荐企业满意度得分”为79.9分，低于要求的80分（管理办法第五条第5款）。", "article": "管理办法第五条第5款"}]),
    (survey.early_survey, lambda: surveyed_from(date(2016, 11, 30)),
     [{"severity": "error", "code": "survey_too_early", "form": "recommendation", "field": "survey_period", "message": "《实施全省用户满意工程先进单位推荐意见表》“调查时间”从2016-11-30开始，早于2016-12-01；数据应以2016-12-01后组织的用户满意度调查为准（推荐意见表注3）。", "article": "推荐意见表注3"}]),
    (respondents.respondent_count, lambda: registered(40, 39),
     [{"severity": "error", "code": "respondent_count", "form": "respondents", "field": None, "message": "《被访者信息登记表》登记了39名被访者，有效问卷数量为40；样本量少于50个的须全部提供，应登记40名（被访者信息登记表注3）。", "article": "被访者信息登记表注3"}]),
    (respondents.respondent_count, lambda: registered(120, 100),
     [{"severity": "warning", "code": "respondent_count", "form": "respondents", "field": None, "message": "《被访者信息登记表》登记了100名被访者，有效问卷数量为120；原则上须提供所有被访者信息，应登记120名（被访者信息登记表注2）。", "article": "被访者信息登记表注2"}]),
    (respondents.respondent_count, lambda: registered(300, 201),
     [{"severity": "warning", "code": "respondent_count", "form": "respondents", "field": None, "message": "《被访者信息登记表》登记了201名被访者，多于应登记的200名（有效问卷数量为300）；请核对（被访者信息登记表注3）。", "article": "被访者信息登记表注3"}]),
    (respondents.respondent_count, lambda: registered(60, 0),
     [{"severity": "error", "code": "respondent_count", "form": "respondents", "field": None, "message": "《被访者信息登记表》未填写任何被访者；须提供被访者信息（通知第二条）。", "article": "通知第二条"}]),
]


@pytest.mark.parametrize("rule, record, expected", WHOLE)
def test_survey_and_register_issues_whole(rule, record, expected, campaign):
    assert rule(record(), campaign) == expected


def test_disagreeing_report_issues_whole(campaign):
    record = valid_record("construction")
    record["attachments"][1].update(score=88, sample_size=61, survey_period={"start": "2017-01-01", "end": "2017-03-20"})
    where = "《实施全省用户满意工程先进单位推荐意见表》"
    assert [(i["severity"], i["code"], i["form"], i["field"], i["article"], i["message"])
            for i in survey.report_disagrees(record, campaign)] == [
        ("warning", "inconsistent", "recommendation", "satisfaction_score", "填报说明第6条",
         f"{where}“被推荐企业满意度得分”为“86.5”，第三方测评报告中为“88”；请核对（填报说明第6条）。"),
        ("warning", "inconsistent", "recommendation", "valid_questionnaires", "填报说明第6条",
         f"{where}“有效问卷数量”为“60”，第三方测评报告中为“61”；请核对（填报说明第6条）。"),
        ("warning", "inconsistent", "recommendation", "survey_period", "填报说明第6条",
         f"{where}“调查时间”为“2017-01-05至2017-03-20”，第三方测评报告中为“2017-01-01至2017-03-20”；请核对（填报说明第6条）。")]


# --- the fallbacks, and every part of the issues staff sort and read -----------------------------

from pipeline.checking.rules import packet, report  # noqa: E402
from pipeline.checking.rules.messages import application_key, label, setting, title  # noqa: E402

REGISTER = "《被访者信息登记表》"
ACCURACY = "被访者信息登记表注4"


def test_a_form_or_field_the_forms_do_not_know_is_named_as_given(campaign):
    assert title("cover", campaign) == "《申报材料》"
    assert title("application.food", campaign) == "《application.food》"
    assert label("respondents", "survey_date") == "“调查时间”"
    assert label("respondents", "shoe_size") == "“shoe_size”"
    assert label("application.food", "shoe_size") == "“shoe_size”"


def test_a_setting_of_the_campaign_or_of_one_of_its_sections(campaign):
    assert setting(campaign, "min_satisfaction") == 80
    assert setting(campaign, "construction.min_years_in_use") == 1
    assert setting(campaign, "construction.no_such_setting") is None
    assert setting(campaign, "no_such_section.min_value") is None


@pytest.mark.parametrize("category, found, key", [
    ("product", ["cover", "application.product"], "application.product"),
    ("product", None, "application.product"),                                   # no variant read: the category's
    ("product", ["cover", "application.service"], "application.service"),       # the one submitted
    ("product", ["application.service", "application.product"], "application.product"),  # the category's first
    (None, ["application.service", "application.product"], "application.service"),       # no category: the first
    ("food", ["cover"], None),
])
def test_the_application_values_belong_to_the_application_submitted(category, found, key):
    record = {"category": category, "forms": {"application": {}}, "forms_found": found}
    assert application_key(record) == key
    assert application_key({**record, "forms": {}}) is None


def test_the_application_checked_is_the_one_submitted(campaign):
    record = broken("service", "application", legal_representative=None)
    record.update(category="product", forms_found=["cover", "application.service"])  # the service form's values
    found = [i["message"] for i in check_record(record, campaign) if i["code"] == "missing_field"]
    assert found == ["《实施全省用户满意工程先进单位（服务类）申请表》“法定代表人姓名”未填写；须如实填写，确实不适用的请注明原因"
                     "（如“无”“不适用”）（填报说明第2条）。"]


def test_a_packet_of_scans_only_is_not_told_each_missing_form(campaign):
    record = {"submission_id": "x", "source": "x", "category": None, "forms": {}, "attachments": [],
              "issues": [{"severity": "error", "code": "scanned_forms", "message": "…"}]}
    assert packet.missing_forms(record, campaign) == []
    record["issues"] = [{"severity": "error", "code": "unreadable_file", "message": "…"}]
    assert [i["form"] for i in packet.missing_forms(record, campaign)][-1] == "application"


def test_a_rule_that_fails_is_named_by_its_module_and_function(campaign, monkeypatch):
    def fails(record):
        raise ValueError("x")

    monkeypatch.setattr(survey, "score_of", fails)
    found = [i for i in check_record(valid_record("product"), campaign) if i["code"] == "rule_failed"]
    assert [i["rule"] for i in found] == ["survey.low_score"]


def test_repeated_respondents_and_phones_whole(campaign):
    record = valid_record("service")
    rows = record["forms"]["respondents"]
    for i in (6, 11):
        rows[i]["contact"] = rows[2]["contact"]                                # other people, the same phone
    for i in (9, 20):
        rows[i].update(name=rows[4]["name"], contact=rows[4]["contact"])     # the same person three times
    people = ("warning", "respondent_duplicate", "respondents", "name",
              f"{REGISTER}中同一被访者（姓名和联系方式相同）重复登记：序号5、10、21；请核对被访者信息的真实性（{ACCURACY}）。")
    phones = ("warning", "respondent_duplicate", "respondents", "contact",
              f"{REGISTER}中不同被访者的联系方式相同：序号3、7、12；请核对被访者信息的真实性（{ACCURACY}）。")
    assert [(i["severity"], i["code"], i["form"], i["field"], i["message"])
            for i in respondents.duplicates(record, campaign)] == [people, phones]
    for row in rows:
        row["seq"] = None                                                      # named by their place in the register
    assert [i["message"] for i in respondents.duplicates(record, campaign)] == [people[-1], phones[-1]]
    rows[15].update(name=rows[16]["name"], contact=rows[16]["contact"])
    assert "重复登记：序号5、10、21；序号16、17；" in respondents.duplicates(record, campaign)[0]["message"]


DATED = f"{REGISTER}“调查时间”中"


@pytest.mark.parametrize("period, outside", [
    ({"start": "2017-01-05", "end": "2017-03-20"}, "序号8、9不在调查时间2017-01-05至2017-03-20之内"),
    ({"start": "2017-01-05", "end": "待定"}, "序号9早于调查开始日期2017-01-05"),
    ({"start": "年初", "end": "2017-03-20"}, "序号8晚于调查结束日期2017-03-20"),
])
def test_respondent_dates_unreadable_or_outside_the_period_whole(period, outside, campaign):
    record = broken("service", "recommendation", survey_period=period)
    record["attachments"][1]["survey_period"] = None
    rows = record["forms"]["respondents"]
    rows[3]["survey_date"], rows[7]["survey_date"], rows[8]["survey_date"] = "去年", "2017-04-01", "2016-12-31"
    assert [(i["severity"], i["code"], i["form"], i["field"], i["message"])
            for i in respondents.dates_outside(record, campaign)] == [
        ("warning", "invalid_format", "respondents", "survey_date", f"{DATED}序号4不是可识别的日期；请核对（{ACCURACY}）。"),
        ("warning", "invalid_format", "respondents", "survey_date", f"{DATED}{outside}；请核对（{ACCURACY}）。")]
    for row in rows:
        row["seq"] = None
    assert [i["message"] for i in respondents.dates_outside(record, campaign)][0] == (
        f"{DATED}序号4不是可识别的日期；请核对（{ACCURACY}）。")


def test_respondent_dates_without_any_survey_period_are_only_read(campaign):
    record = broken("service", "recommendation", survey_period=None)
    record["attachments"][1]["survey_period"] = None
    record["forms"]["respondents"][7]["survey_date"] = "2030-01-01"
    assert respondents.dates_outside(record, campaign) == []
    assert survey.early_survey(record, campaign) == []


def test_a_register_that_is_no_list_is_an_empty_register(campaign):
    record = valid_record("service")
    record["forms"]["respondents"] = 7
    assert respondents.respondent_count(record, campaign) == [
        {"severity": "error", "code": "respondent_count", "form": "respondents", "field": None,
         "message": f"{REGISTER}未填写任何被访者；须提供被访者信息（通知第二条）。", "article": "通知第二条"}]


def test_section_lengths_whole_and_sections_without_a_guide_left_alone(campaign):
    counts = {"1": 900, "2": 300, "3": 1000, "3.1": 5000, "4": 380}
    assert report.section_lengths(broken("product", "report", section_chars=counts), campaign) == [
        {"severity": "warning", "code": "report_section_length", "form": "report", "field": "section_chars",
         "message": "《实施用户满意工程情况的报告》以下部分篇幅与要求相差较大：1企业概貌（900字，要求约300字）、"
                    "3实施用户满意工程的主要目标、措施和经验（1000字，要求3300-4300字）；请调整（企业实施用户满意工程情况表（报告要求））。",
         "article": "企业实施用户满意工程情况表（报告要求）"}]
    assert report.section_lengths(broken("product", "report", section_chars={"3.1": 5000, "3.2": 1}), campaign) == []


# --- the 测评报告 behind the 推荐意见表 -------------------------------------------------------------

#: A second 测评报告 stating everything differently: it is never the one read when the first states anything.
OTHER_REPORT = {"file": "测评报告2.pdf", "kind": "survey_report", "score": 95, "sample_size": 100,
                "survey_period": {"start": "2017-01-05", "end": "2017-03-20"}}


def with_reports(*reports, **recommendation) -> dict:
    record = broken("product", "recommendation", **recommendation)
    record["attachments"] = [record["attachments"][0], *reports]
    return record


def test_the_first_survey_report_stating_a_score_is_read(campaign):
    record = with_reports({"kind": "survey_report", "score": None}, {"kind": "survey_report", "score": 75},
                          OTHER_REPORT, satisfaction_score=None)
    assert survey.low_score(record, campaign) == [
        {"severity": "error", "code": "below_threshold", "form": "recommendation", "field": "satisfaction_score",
         "message": "《实施全省用户满意工程先进单位推荐意见表》“被推荐企业满意度得分”为75分，低于要求的80分（管理办法第六条第5款）。",
         "article": "管理办法第六条第5款"}]


def test_the_first_survey_report_stating_a_sample_is_read(campaign):
    record = with_reports({"kind": "survey_report", "sample_size": 30}, OTHER_REPORT, valid_questionnaires=None)
    assert respondents.sample_size(record) == 30
    assert [i["message"] for i in respondents.respondent_count(record, campaign)] == [
        f"{REGISTER}登记了60名被访者，多于应登记的30名（有效问卷数量为30）；请核对（被访者信息登记表注3）。"]


def test_the_first_survey_report_stating_a_period_is_read(campaign):
    early = {"start": "2016-11-01", "end": "2017-03-20"}
    record = with_reports({"kind": "survey_report", "survey_period": early}, OTHER_REPORT, survey_period=None)
    assert survey.period_of(record) == early
    assert [i["code"] for i in survey.early_survey(record, campaign)] == ["survey_too_early"]


def test_the_recommendations_own_values_come_before_the_reports(campaign):
    early = {"start": "2016-11-01", "end": "2017-03-20"}
    record = with_reports(OTHER_REPORT, survey_period=early, valid_questionnaires=120, satisfaction_score=79)
    assert survey.period_of(record) == early and respondents.sample_size(record) == 120
    assert [i["code"] for i in survey.early_survey(record, campaign)] == ["survey_too_early"]
    assert [i["message"] for i in survey.low_score(record, campaign)] == [
        "《实施全省用户满意工程先进单位推荐意见表》“被推荐企业满意度得分”为79分，低于要求的80分（管理办法第六条第5款）。"]
    assert [i["message"] for i in respondents.respondent_count(record, campaign)] == [
        f"{REGISTER}登记了60名被访者，有效问卷数量为120；原则上须提供所有被访者信息，应登记120名（被访者信息登记表注2）。"]


def test_a_low_score_without_a_category_cites_the_general_article(campaign):
    record = broken("product", "recommendation", satisfaction_score=70)
    record["category"] = None
    assert [i["message"] for i in survey.low_score(record, campaign)] == [
        "《实施全省用户满意工程先进单位推荐意见表》“被推荐企业满意度得分”为70分，低于要求的80分（管理办法第二条）。"]
