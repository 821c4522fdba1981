"""The forms as data, consistent with their own layouts (docs/RECORD.md is checked in test_record_doc.py)."""

import pytest

from pipeline.common.errors import UserError
from pipeline.definitions import forms
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign


def _layout_field_ids(form):
    ids = set()
    for item in form.layout:
        if "table" in item:
            ids.update(item["table"].get("header", []))
            for row in item["table"].get("rows", []):
                ids.update(forms.row_fields(row))
        if "line" in item:
            ids.add(item["line"])
    return ids


@pytest.mark.parametrize("key", sorted(forms.load_forms()))
def test_every_field_is_laid_out_and_every_laid_out_field_exists(key):
    form = forms.load_forms()[key]
    laid_out = _layout_field_ids(form)
    assert laid_out <= set(form.fields), laid_out - set(form.fields)
    if form.in_packet:
        texts = str(form.layout)
        unplaced = {f for f in form.fields if f not in laid_out and f"v.{f}" not in texts}
        assert not unplaced


def test_duplicate_labels_are_told_apart_by_group_and_occurrence():
    enterprise = forms.application_form("enterprise").fields
    assert enterprise["industrial_returns"].group == "工业企业填写"
    assert enterprise["service_returns"].group == "服务企业填写"
    assert (enterprise["main_product_output"].occurrence, enterprise["other_product_output"].occurrence) == (0, 1)
    construction = forms.application_form("construction").fields
    assert construction["phone"].group is None and construction["project_manager_phone"].group == "被推荐工程基本情况"
    assert "峻工日期" in construction["completion_date"].aliases


def test_packets_follow_the_seed_order():
    keys = [f.key for f in forms.packet_forms("construction")]
    assert keys == ["cover", "recommendation", "site_inspection", "application.construction",
                    "implementation_status", "commitment", "respondents"]
    assert "site_inspection" not in [f.key for f in forms.packet_forms("product")]
    assert {f.id for f in forms.required_forms("service")} == {
        "cover", "application", "recommendation", "implementation_status", "report", "commitment", "respondents"}


def test_category_names_come_from_the_cover():
    assert forms.categories()["construction"] == "建筑工程类"
    assert forms.category_id("产品类") == forms.category_id("产品") == forms.category_id("product") == "product"
    assert forms.category_id("奖品类") is None


def test_campaign_holds_every_fact_of_the_seed():
    c = load_campaign(DEFAULT_CAMPAIGN)
    assert (c.year, c.data_year, c.fee, c.validity_years, c.min_satisfaction) == (2017, 2016, 2000, 2, 80)
    assert c.deadline.isoformat() == "2017-06-20" and c.survey_start_min.isoformat() == "2016-12-01"
    assert c.association.account == "231000638018010021476" and c.association.postcode == "150036"
    assert c.context()["deadline_zh"] == "2017年6月20日"


def test_a_broken_campaign_file_is_a_clear_chinese_error(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("year: 2018\n", encoding="utf-8")
    with pytest.raises(UserError, match="缺少"):
        load_campaign(bad)
    bad.write_text("year: [\n", encoding="utf-8")
    with pytest.raises(UserError, match="第 2 行.*格式有误"):
        load_campaign(bad)
    with pytest.raises(UserError, match="找不到"):
        load_campaign(tmp_path / "none.yaml")
