"""Extraction by label: small grids built in code, then every entry of the fixture corpus."""

from __future__ import annotations

import pytest

from pipeline.definitions.forms import load_forms
from pipeline.reading.extract import extract_document, heading_number, outline_sections, split_forms
from pipeline.reading.grid import Block, Cell, Document
from pipeline.reading.values import ticked_options, value


def table(*rows) -> Block:
    """Rows of texts or (text, colspan, rowspan) → a table Block with columns laid out left to right."""
    out = []
    for r, row in enumerate(rows):
        cells, col = [], 0
        for item in row:
            text, span, down = (item, 1, 1) if isinstance(item, str) else (item + (1,))[:3]
            cells.append(Cell(text, r, col, down, span))
            col += span
        out.append(cells)
    return Block("table", rows=out)


def para(text: str) -> Block:
    return Block("paragraph", text=text)


def forms_of(doc: Document) -> dict:
    return {form.key: values for form, values in extract_document(doc)}


def test_labels_found_with_spaces_breaks_and_widths():
    doc = Document("x.docx", [
        para("实施全省用户满意工程先进单位（产品类）申请表"),
        para("企业名称（公章）：哈尔滨光明电器有限公司"),
        table(["法定代表人\n姓名", "王建国", "职　务", "董事长"],
              ["电 话", "0451-87654321", "邮 编", "150001"],
              [("被\n推\n荐\n产\n品\n基\n本\n情\n况", 1, 3), "产品名称", "电热水器", "产品型号及规格", "DSZF-60A"],
              ["国内市场占有率(%)", "12.5％", "年销售额", "1,250万元"],
              ["额外加的一行", "随便", "单位产品出厂价格（元）", "1280"]),
    ])
    values = forms_of(doc)["application.product"]
    assert values["company_name"] == "哈尔滨光明电器有限公司"
    assert values["legal_representative"] == "王建国"
    assert values["legal_rep_title"] == "董事长"
    assert values["postcode"] == "150001"
    assert values["product_model"] == "DSZF-60A"
    assert values["market_share"] == 12.5
    assert values["annual_sales"] == 1250
    assert values["unit_price"] == 1280
    assert values["trademark"] is None


def test_group_and_occurrence_pick_the_right_cell():
    side = lambda label, n: (label, 1, n)  # noqa: E731
    doc = Document("x.docx", [
        para("实施全省用户满意工程先进单位（企业类）申请表"),
        table([side("工\n业\n企\n业\n填\n写", 2), "年处理退赔次数", "3", "主导产品名称", "变压器"],
              ["年 产 量（台件）", "100", "其它批量产品名称", "互感器"],
              [side("服务企业填写", 1), "年处理退赔次数", "7", "年 产 量（台件）", "900"]),
    ])
    values = forms_of(doc)["application.enterprise"]
    assert values["industrial_returns"] == 3
    assert values["service_returns"] == 7
    assert values["main_product_output"] == 100
    assert values["main_product_name"] == "变压器"


def test_neighbour_that_is_a_label_means_empty():
    doc = Document("x.docx", [para("现场巡视记录表"), table(["企业名称", "工程名称", "X工程"])])
    values = forms_of(doc)["site_inspection"]
    assert values["company_name"] is None
    assert values["project_name"] == "X工程"


@pytest.mark.parametrize("text, expected", [
    ("☑企业类  ☐产品类  ☐建筑工程类  ☐服务类", ["enterprise"]),
    ("□企业类 ■产品类 □建筑工程类 □服务类", ["product"]),
    ("企业类□ 产品类□ 建筑工程类√ 服务类□", ["construction"]),
    ("☐企业类 ☐产品类 ☐建筑工程类 ☐服务类", []),
    ("服务类", ["service"]),
])
def test_ticks_before_after_and_deleted_options(text, expected):
    options = load_forms()["cover"].fields["category"].options
    assert (ticked_options(text, options) or []) == expected


def test_yesno_does_not_find_yes_inside_no():
    field = load_forms()["recommendation"].fields["compliant"]
    assert value(field, "☑不符合 ☐符合") is False  # 不符合 first: the shorter 符合 is inside it
    assert value(field, "☐不符合 ☑符合") is True
    assert value(field, "☐ 符合\n☑ 不符合") is False
    assert value(field, "☑ 符合\n☐ 不符合") is True
    assert value(field, "☐ 符合 ☐ 不符合") is None


def test_inline_value_loses_hint_and_footer():
    doc = Document("x.docx", [para("推荐意见表"), table([("推荐意见：\n同意推荐。\n地区、行业质协（公章）\n年  月  日", 5)]),
                              table([("审定意见：\n（此栏企业不填，由评定机构填写）             年  月  日", 5)])])
    values = forms_of(doc)["recommendation"]
    assert values["opinion"] == "同意推荐。"
    assert values["approval_opinion"] is None


def test_instructions_are_not_forms():
    doc = Document("x.docx", [
        para("申 报 材 料"),
        para("3、实施用户满意工程情况的报告应按照表中有关要求认真填写。"),
        para("5、企业用户满意经营承诺书不同地区、行业的承诺书可根据实际情况调整。"),
        para("关于*****公司实施用户满意工程情况的报告"),
    ])
    assert [f.form.id for f in split_forms(doc)] == ["cover"]


def test_respondents_xlsx_without_title_found_by_header():
    doc = Document("r.xlsx", [para("Sheet1"), table(["电话", "姓名", "调查日期", "序号"],
                                                   ["13900000001", "张三", "2017/2/3", "1"],
                                                   ["", "", "", ""])], kind="xlsx")
    rows = forms_of(doc)["respondents"]
    assert rows == [{"seq": 1, "name": "张三", "contact": "13900000001", "survey_date": "2017-02-03"}]


@pytest.mark.parametrize("line, top, expected", [
    ("1、企业概貌", None, "1"), ("3.10持续改进", "3", "3.10"), ("3.1 以顾客为导向", "3", "3.1"),
    ("三、实施用户满意工程", None, "3"), ("（二）顾客识别", "3", "3.2"), ("2017年公司销售额", None, None),
])
def test_outline_heading_numbers(line, top, expected):
    assert heading_number(line, top) == expected


def test_numbered_list_inside_a_section_is_not_a_heading():
    outline = load_forms()["report"].get("outline")
    lines = ["1、企业概貌", "3.1以顾客为导向的企业文化", "2、我们在售后服务中建立了一套非常完整的回访制度和投诉处理办法，效果良好。"]
    assert outline_sections(lines, outline) == ["1", "3.1"]


# --- the corpus ----------------------------------------------------------------------------------


def _mismatches(record: dict, facts: dict) -> list:
    out = []
    for form, expected in facts["values"].items():
        got = record["forms"].get(form)
        if got is None:
            out.append((form, "missing"))
        elif form == "respondents":
            if got != expected:
                out.append((form, len(got), len(expected)))
        else:
            out.extend((form, k, got.get(k), v) for k, v in expected.items() if got.get(k) != v)
    return out


def test_every_variation_extracts_the_values_it_was_filled_with(parsed_corpus):
    _, records, facts = parsed_corpus
    wrong = {name: _mismatches(records[name], f) for name, f in facts.items()}
    assert {name: m for name, m in wrong.items() if m} == {}
    # The variations really are in the corpus.
    names = set(facts)
    for variation in ("sym", "w14", "legacy", "square", "check", "pdf", "doc", "xlsx", "legacy-xls", "split"):
        assert any(variation in name for name in names), variation


def test_round_trip_each_category_from_the_templates(parsed_corpus):
    _, records, facts = parsed_corpus
    for category in ("enterprise", "product", "construction", "service"):
        record = records[f"tpl-{category}"]
        assert record["category"] == category
        assert record["forms"]["application"] == facts[f"tpl-{category}"]["values"]["application"]
        assert record["forms"]["cover"] == facts[f"tpl-{category}"]["values"]["cover"]


def test_report_and_survey_report_read(parsed_corpus):
    _, records, _ = parsed_corpus
    report = records["tpl-product"]["forms"]["report"]
    assert report["sections_missing"] == [] and 3000 < report["chars"] <= 5000
    assert report["title"].startswith("关于哈尔滨光明电器有限公司")
    assert records["rule-report_missing_section"]["forms"]["report"]["sections_missing"] == ["3.5", "4"]
    assert records["rule-report_too_long"]["forms"]["report"]["chars"] > 5000
    survey = next(a for a in records["seed-product-legacy-xlsx"]["attachments"] if a["kind"] == "survey_report")
    assert survey == {"file": "用户满意度测评报告.pdf", "kind": "survey_report", "score": 86.5, "sample_size": 120,
                      "survey_period": {"start": "2017-01-05", "end": "2017-03-20"}, "agency": "黑龙江省质量评价中心"}
    kinds = {a["kind"] for a in records["tpl-product"]["attachments"]}
    assert kinds == {"survey_report", "business_license", "trademark"}


# --- values exactly as written: printed text goes only where it stands as printed ---------------


def test_printed_labels_inside_a_sentence_stay():
    opinion = "经复核，证实性材料真实、齐全、有效，被推荐企业满意度得分达到要求"
    doc = Document("x.docx", [para("推荐意见表"),
                              table([(f"推荐意见：\n{opinion}\n地区、行业质协（公章）\n年  月  日", 5)])])
    assert forms_of(doc)["recommendation"]["opinion"] == opinion
    notes = "核对工程名称与图纸一致，企业名称牌悬挂规范"
    doc = Document("x.docx", [para("现场巡视记录表"), table(["现场巡视情况", notes])])
    assert forms_of(doc)["site_inspection"]["inspection_notes"] == notes


def test_a_hint_wrapped_over_lines_never_leaks():
    # pdfplumber breaks the printed hint where the PDF line ends.
    cell = ("建设单位（用户）满意度评价鉴定意见：\n(请建设单位从该建筑工程质量、施工服务、工程设计的\n建设性意见、后续维护、总体评价、"
            "改进建议等方面对该项目施\n工方予以评价说明)\n质量优良，工程设计单位配合到位。\n建设单位（用户）签字（盖章）\n2017年5月12日")
    doc = Document("x.pdf", [para("实施全省用户满意工程先进单位（建筑工程类）申请表"), table([(cell, 7)])])
    values = forms_of(doc)["application.construction"]
    assert values["owner_evaluation"] == "质量优良，工程设计单位配合到位。"
    assert values["owner_evaluation_date"] == "2017-05-12"


def test_a_seal_mark_after_the_value_goes_but_not_inside_it():
    doc = Document("x.docx", [para("申 报 材 料"), para("企业名称    华光公司（加盖公章）"),
                              para("推进单位    在（加盖公章）处盖章的推进办")])
    values = forms_of(doc)["cover"]
    assert values["company_name"] == "华光公司"
    assert values["promoting_unit"] == "在（加盖公章）处盖章的推进办"


@pytest.mark.parametrize("footer, expected", [
    ("地区、行业质协（公章）\n2017年5月18日", "2017-05-18"),
    ("地区、行业质协（公章）   2017 年 5 月 18 日", "2017-05-18"),
    ("地区、行业质协（公章）\n二〇一七年五月十八日", "2017-05-18"),
    ("2017.5.18", "2017-05-18"),
    ("地区、行业质协（公章）\n年  月  日", None),
])
def test_the_date_in_a_seal_slot_goes_to_its_own_field(footer, expected):
    doc = Document("x.docx", [para("推荐意见表"), table([(f"推荐意见：\n同意推荐。\n{footer}", 5)]),
                              table([("审定意见：\n同意。\n（此栏企业不填，由评定机构填写）   2017年5月25日", 5)])])
    values = forms_of(doc)["recommendation"]
    assert (values["opinion"], values["opinion_date"]) == ("同意推荐。", expected)
    assert (values["approval_opinion"], values["approval_date"]) == ("同意。", "2017-05-25")


@pytest.mark.parametrize("lines, expected", [
    (["承诺企业（盖章）：华光公司", "日期：2017年5月18日"], "2017-05-18"),
    (["承诺企业（盖章）：华光公司", "2017年5月18日"], "2017-05-18"),
    (["承诺企业（盖章）：华光公司    2017年5月18日"], "2017-05-18"),
    (["承诺企业（盖章）：华光公司\n2017年5月18日"], "2017-05-18"),
    (["承诺企业（盖章）：华光公司", "二〇一七年五月十八日"], "2017-05-18"),
    (["承诺企业（盖章）：华光公司", "日期：    年    月    日"], None),
])
def test_the_commitment_date_wherever_it_stands_below_the_seal(lines, expected):
    doc = Document("x.docx", [para("企业用户满意经营承诺书（范本）"), *map(para, lines)])
    values = forms_of(doc)["commitment"]
    assert (values["company_name"], values["date"]) == ("华光公司", expected)


@pytest.mark.parametrize("blocks", [
    [para("关于哈尔滨光明电器有限公司\n实施用户满意工程情况的报告")],
    [para("关于哈尔滨光明电器有限公司"), para("实施用户满意工程情况的报告")],
    [para("关于哈尔滨光明电器有限公司实施用户满意"), para("工程情况的报告")],
])
def test_a_title_wrapped_over_two_lines_or_paragraphs_is_read_whole(blocks):
    doc = Document("x.docx", [para("企业用户满意经营承诺书"), para("承诺企业（盖章）：华光公司"), *blocks,
                              para("1、企业概貌"), para("本公司成立于1990年。")])
    found = forms_of(doc)
    assert found["report"]["title"] == "关于哈尔滨光明电器有限公司实施用户满意工程情况的报告"
    assert "1" in found["report"]["sections_present"]
    assert found["commitment"]["company_name"] == "华光公司"


@pytest.mark.parametrize("promoted, awarded, expected", [
    ("12", "5", (12, 5)), ("  36 ", " 8", (36, 8)), ("1.2万", "", (12000, None)), (" ", " ", (None, None)),
])
def test_figures_typed_into_the_blanks_of_a_printed_sentence(promoted, awarded, expected):
    sentence = (f"所在地区或行业实施情况：2017年共推动（{promoted}）家企业实施用户满意工程，（{awarded}）家被评为地区或"
                "行业级先进单位。拟推荐下述项目为实施全省用户满意工程先进单位。")
    doc = Document("x.docx", [para("实施全省用户满意工程先进单位推荐汇总表"), table(["推荐单位：哈尔滨市质协"]), table([sentence])])
    values = forms_of(doc)["summary_table"]
    assert (values["promoted_count"], values["awarded_count"]) == expected
    assert values["recommending_unit"] == "哈尔滨市质协"
