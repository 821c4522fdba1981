"""summary.xlsx: sheets, headers from the forms, status colours, and never a formula."""

from __future__ import annotations

from datetime import datetime

from openpyxl import load_workbook

from pipeline.definitions.forms import application_form, categories
from pipeline.issuing.workbook import write_summary
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.programs import load_program

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the seed's campaign: 黑龙江 2017


def _record(company: str, status: str = "incomplete") -> dict:
    return {
        "submission_id": "x-1", "source": "x.zip", "category": "product", "company_name": company,
        "forms": {"application": {"company_name": company, "product_name": "+cmd|' /C calc'!A0"},
                  "recommendation": {"satisfaction_score": 86.5, "valid_questionnaires": 60},
                  "respondents": [{"seq": 1, "name": "@张三", "contact": "13900000001"}]},
        "attachments": [], "status": status,
        "issues": [{"severity": "error", "code": "missing_field", "form": "application", "field": "legal_representative",
                    "message": "未填写", "article": "填报说明第2条"}],
    }


def test_sheets_headers_and_no_formulas(tmp_path):
    path = write_summary([_record('=HYPERLINK("x")')], tmp_path / "summary.xlsx", HLJ)
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "问题清单", "被访者", "企业类申请表", "产品类申请表", "建筑工程类申请表", "服务类申请表"]
    overview = book["汇总"]
    assert [c.value for c in overview[1]] == ["来源", "企业名称", "类别", "推进单位", "状态", "错误数", "警告数", "满意度得分",
                                              "有效问卷数量", "被访者人数", "收件日期", "收件箱", "解析时间"]
    assert [c.value for c in overview[2]] == ["x.zip", '=HYPERLINK("x")', "产品类", None, "需补正", 1, 0, 86.5, 60, 1,
                                              None, None, None]
    assert overview.freeze_panes == "A2" and overview.auto_filter.ref
    assert overview["E2"].fill.fgColor.rgb.endswith("FFC7CE")
    assert book["问题清单"]["C2"].fill.fgColor.rgb.endswith("FFC7CE")  # 错误 red (警告 would be yellow)
    issue = [c.value for c in book["问题清单"][2]]
    assert issue == ["x.zip", '=HYPERLINK("x")', "错误", "实施全省用户满意工程先进单位（产品类）申请表", "法定代表人姓名",
                     "未填写", "填报说明第2条"]
    product = book["产品类申请表"]
    labels = [f.plain_label for f in application_form("product").fields.values()]
    # then one 自评 column per row of the program's 推荐条件自评表, headed by its article
    articles = [f"自评（{c.article}）" for c in load_program("heilongjiang").criteria_for("product")]
    assert [c.value for c in product[1]][1:] == labels + articles
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_summary_of_the_corpus(parsed_corpus):
    out, records, _ = parsed_corpus
    book = load_workbook(out / "summary.xlsx")
    overview = list(book["汇总"].values)
    assert len(overview) == len(records) + 1
    assert [row[0] for row in overview[1:]] == sorted(records)
    respondents = sum(len(r["forms"].get("respondents") or []) for r in records.values())
    assert book["被访者"].max_row == respondents + 1
    assert book["问题清单"].max_row == sum(len(r["issues"]) for r in records.values()) + 1
    # The cells are the records' values: counts, status and the recommendation's figures per row.
    status = {"complete": "材料齐全", "incomplete": "需补正"}
    for row in overview[1:]:
        record = records[row[0]]
        recommendation = (record["forms"].get("recommendation") or {})
        assert row[11].endswith("inbox") and datetime.fromisoformat(row[12]), row  # the inbox and run it came from
        assert row[10] == datetime.fromisoformat(row[12][:10])  # received: the day of the run, no --received given
        assert row[1:10] == (record["company_name"], categories().get(record["category"], "未确定"),
                             (record["forms"].get("cover") or {}).get("promoting_unit"), status[record["status"]],
                           sum(i["severity"] == "error" for i in record["issues"]),
                           sum(i["severity"] == "warning" for i in record["issues"]),
                           recommendation.get("satisfaction_score"), recommendation.get("valid_questionnaires"),
                           len(record["forms"].get("respondents") or [])), row[0]
    issues = sorted((row[0], row[5]) for row in list(book["问题清单"].values)[1:])
    assert issues == sorted((source, i["message"]) for source, r in records.items() for i in r["issues"])


def test_rows_beyond_the_width_sample_stream_through(tmp_path):
    """Rows past the sample used for widths are all written, coloured, and inside the filter range."""
    from pipeline.common.xlsx import WIDTH_SAMPLE_ROWS

    records = [_record(f"公司{i}", "complete" if i % 2 else "incomplete") for i in range(WIDTH_SAMPLE_ROWS + 7)]
    overview = load_workbook(write_summary(records, tmp_path / "summary.xlsx", HLJ))["汇总"]
    last = WIDTH_SAMPLE_ROWS + 8
    assert overview.max_row == last and overview[f"B{last}"].value == f"公司{WIDTH_SAMPLE_ROWS + 6}"
    assert overview.auto_filter.ref == f"A1:M{last}"
    assert overview[f"E{last}"].value == "需补正" and overview[f"E{last}"].fill.fgColor.rgb.endswith("FFC7CE")
    assert overview[f"E{last - 1}"].value == "材料齐全" and not overview[f"E{last - 1}"].fill.fgColor.rgb.endswith("FFC7CE")


def test_overview_names_the_promoting_unit_and_the_day_received_as_a_date(tmp_path):
    from pipeline.issuing.workbook import Summary

    record = {**_record("北方电器"), "forms": {**_record("北方电器")["forms"], "cover": {"promoting_unit": "哈尔滨市质量协会"}}}
    workspace_record = {**record, "submission_id": "A00002", "source": "y.zip", "received_on": "2017-06-02"}
    summary = Summary(tmp_path / "summary.xlsx", HLJ,
                      origins={"x-1": ["收件箱", "2017-06-18 09:30:05", "2017-06-01"]})
    path = summary.finish([record, workspace_record])
    overview = load_workbook(path)["汇总"]
    header = [c.value for c in overview[1]]
    rows = [[c.value for c in row] for row in overview.iter_rows(min_row=2)]
    unit, received = header.index("推进单位"), header.index("收件日期")
    assert [r[unit] for r in rows] == ["哈尔滨市质量协会", "哈尔滨市质量协会"]
    assert [r[received] for r in rows] == [datetime(2017, 6, 1), datetime(2017, 6, 2)]  # --received, the version's
    assert overview.cell(2, received + 1).number_format == "yyyy-mm-dd"  # a date, not text
