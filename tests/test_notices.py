"""补正通知: every error of every incomplete submission, safe distinct names, the mail-merge list."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.common.errors import UserError
from pipeline.common.records import load_records
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.issuing import notices

TODAY = date(2017, 6, 1)


def issue(code, message, severity="error", form=None, field=None, **extra):
    return {"severity": severity, "code": code, "form": form, "field": field, "message": message, **extra}


def make_records() -> list[dict]:
    twin_errors = [
        issue("missing_field", "产品类申请表：“产品名称”未填写", form="application", field="product_name"),
        issue("invalid_format", "产品类申请表：“电话”格式不对（填的是 12）", form="application", field="phone"),
        issue("survey_too_early", "推荐意见表：“调查时间”早于2016年12月1日", form="recommendation",
              field="survey_period", article="第五条"),
        issue("late_submission", "材料于2017年6月25日收到，晚于截止日期", severity="warning"),
    ]
    return [
        {"submission_id": "s1", "source": "甲.zip", "category": "product", "company_name": "同名公司",
         "forms": {"application": {"contact_person": "张三", "phone": "13900000001", "email": "zs@example.cn"}},
         "issues": twin_errors, "status": "incomplete"},
        {"submission_id": "s2", "source": "乙/", "category": "enterprise", "company_name": "同名公司",
         "forms": {"application": {"contact_person": "李四", "phone": "0451-1234567"}},
         "issues": [issue("missing_form", "缺少“承诺书”", form="commitment")], "status": "incomplete"},
        {"submission_id": "s3", "source": "无名/材料:1", "category": None, "company_name": None, "forms": {},
         "issues": [issue("no_category", "申报材料封面：“类别”未勾选", form="cover", field="category"),
                    issue("unreadable_file", "文件 扫描件.doc 无法打开")], "status": "incomplete"},
        {"submission_id": "s4", "source": "丙.zip", "category": "service", "company_name": "齐全公司",
         "forms": {}, "issues": [issue("inconsistent", "仅供核对", severity="warning")], "status": "complete"},
    ]


def docx_text(path: Path) -> str:
    doc = Document(str(path))
    return "\n".join(p.text for p in doc.paragraphs)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("notices")
    records = make_records()
    return records, notices.make_notices(records, out, load_campaign(DEFAULT_CAMPAIGN), today=TODAY)


def test_one_notice_per_submission_with_errors(written):
    records, result = written
    assert len(result.files) == 3
    assert result.without_errors == 1
    assert all(p.is_file() for p in result.files)


def test_each_notice_lists_all_its_errors_and_warnings(written):
    records, result = written
    for record, path in zip([r for r in records if r["status"] == "incomplete"], result.files):
        text = docx_text(path)
        # A submission none of whose files could be read lists only those files (s3): the rest follows from them.
        listed = ([i for i in record["issues"] if i["code"] == "unreadable_file"] if not record["forms"]
                  else record["issues"])
        for i in listed:
            assert i["message"] in text, (path.name, i["message"])
        errors = [i for i in listed if i["severity"] == "error"]
        assert f"以下 {len(errors)} 处需要补正" in text
        assert f"{len(errors)}．{errors[-1]['message']}" in text


def test_notice_says_what_is_needed_deadline_and_contacts(written):
    _, result = written
    text = docx_text(result.files[0])
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    assert text.splitlines()[1] == "同名公司："
    assert "2017年6月11日前" in text  # 10 correction days after 2017-06-01
    assert "补正要求：填写有效的电话号码" in text
    assert "2016年12月1日以后" in text and "（依据：第五条）" in text
    for value in (campaign.association.name, campaign.association.address, campaign.association.postcode,
                  campaign.association.phone, campaign.association.mobile, *campaign.association.contacts):
        assert str(value) in text
    assert "二、请核对的事项\n无。" in docx_text(result.files[1])


def test_file_names_are_safe_and_distinct(written):
    _, result = written
    names = [p.name for p in result.files]
    assert len(set(names)) == 3
    assert names[0] == "同名公司_补正通知.docx" and names[1] == "同名公司_补正通知 (2).docx"
    assert names[2] == "无名_材料_1_补正通知.docx"  # no company: named after the source, made safe
    assert "申报单位（材料：无名/材料:1）：" in docx_text(result.files[2])


def test_mail_merge_list(written):
    _, result = written
    sheet = load_workbook(result.mail_list).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["文号", "企业名称", "推进单位", "联系人", "电话", "邮箱", "通信地址", "邮编", "补正期限",
                       "错误数", "警告数", "文件"]
    due = datetime(2017, 6, 11)  # TODAY and the campaign's 10 days
    assert rows[1] == [None, "同名公司", None, "张三", "13900000001", "zs@example.cn", None, None, due, 3, 1,
                       "同名公司_补正通知.docx"]
    assert rows[2][1:6] == ["同名公司", None, "李四", "0451-1234567", None]
    assert rows[2][9:11] == [1, 0]
    assert rows[3][9:] == [1, 0, "无名_材料_1_补正通知.docx"]
    assert len(rows) == 4


def test_pdf_is_one_batch_for_all_notices(tmp_path, monkeypatch):
    calls = []

    def fake_convert(paths, target, outdir, timeout=0):
        calls.append((list(paths), target))
        return {p: Path(outdir) / (p.stem + ".pdf") for p in paths}

    monkeypatch.setattr(notices.office, "convert", fake_convert)
    result = notices.make_notices(make_records(), tmp_path, load_campaign(DEFAULT_CAMPAIGN), pdf=True, today=TODAY)
    assert len(calls) == 1 and calls[0][1] == "pdf"
    assert calls[0][0] == result.files and len(result.pdfs) == 3


def test_explicit_deadline_wins(tmp_path):
    result = notices.make_notices(make_records()[:1], tmp_path, load_campaign(DEFAULT_CAMPAIGN), today=TODAY,
                                  deadline=date(2017, 7, 3))
    assert "请于2017年7月3日前" in docx_text(result.files[0])


def write_records(folder: Path, records: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for r in records:
        (folder / f"{r['submission_id']}.json").write_text(json.dumps(r, ensure_ascii=False), encoding="utf-8")


def test_load_records_skips_broken_files_with_a_warning(tmp_path):
    write_records(tmp_path / "records", make_records())
    (tmp_path / "records" / "zz_broken.json").write_text("{not json", encoding="utf-8")
    warnings = []
    records = load_records(tmp_path, warn=warnings.append)  # the parse --out folder is accepted too
    assert [r["submission_id"] for r in records] == ["s1", "s2", "s3", "s4"]
    assert len(warnings) == 1 and "zz_broken.json" in warnings[0] and "已跳过" in warnings[0]


def test_load_records_refuses_missing_and_empty_folders(tmp_path):
    with pytest.raises(UserError, match="找不到记录文件夹"):
        load_records(tmp_path / "nowhere")
    with pytest.raises(UserError, match="没有记录文件"):
        load_records(tmp_path)


def test_cli_notices(tmp_path):
    write_records(tmp_path / "records", make_records())
    run = CliRunner().invoke(cli, ["notices", "--records", str(tmp_path / "records"), "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    assert "已写出 3 份补正通知" in run.output
    assert len(list((tmp_path / "out").glob("*.docx"))) == 3
    bad = CliRunner().invoke(cli, ["notices", "--records", str(tmp_path / "none"), "--out", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "找不到记录文件夹" in bad.output and "Traceback" not in bad.output


def test_an_application_below_a_threshold_gets_the_ineligible_letter_without_deadline(tmp_path):
    small = {"submission_id": "s9", "source": "龙江建工/", "category": "construction", "company_name": "龙江建工",
             "forms": {}, "status": "incomplete",
             "issues": [issue("below_threshold", "建筑面积为0.6；须1万平方米以上", article="第七条第2款"),
                        issue("missing_field", "“电话”未填写", form="application", field="phone"),
                        issue("late_submission", "晚于截止日期", severity="warning")]}
    result = notices.make_notices([small, make_records()[0]], tmp_path, load_campaign(DEFAULT_CAMPAIGN), today=TODAY)
    assert [p.name for p in result.files] == ["龙江建工_不符合申报条件告知书.docx", "同名公司_补正通知.docx"]
    text = docx_text(result.files[0])
    assert text.splitlines()[0] == "不符合申报条件告知书" and "不符合申报条件，本次不能受理" in text
    assert "1．建筑面积为0.6；须1万平方米以上" in text
    assert "请于" not in text and "补正要求" not in text and "“电话”未填写" not in text  # no correction asked
    assert docx_text(result.files[1]).splitlines()[0] == "补 正 通 知"


def test_notice_names_the_applicants_files_not_inbox_folders_and_prints_the_full_address(tmp_path):
    records = make_records()
    records[1]["issues"][0]["file"] = "乙公司申报材料.docx"
    result = notices.make_notices(records[:2], tmp_path, load_campaign(DEFAULT_CAMPAIGN), today=TODAY)
    first, second = docx_text(result.files[0]), docx_text(result.files[1])
    assert "申报材料（甲.zip）经审核" in first
    assert "申报材料（乙公司申报材料.docx）经审核" in second and "乙/" not in second
    assert "哈尔滨市香坊区香顺街53号　省质量协会（省质监局楼内）" in first


def test_notice_prints_the_campaigns_reference_numbered(tmp_path):
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    campaign.data["notices"] = {"reference": "黑质协函〔2017〕{n}号"}
    result = notices.make_notices(make_records()[:2], tmp_path, campaign, today=TODAY)
    assert docx_text(result.files[1]).splitlines()[1] == "黑质协函〔2017〕2号"
    plain = notices.make_notices(make_records()[:1], tmp_path / "plain", load_campaign(DEFAULT_CAMPAIGN), today=TODAY)
    assert docx_text(plain.files[0]).splitlines()[1] == "同名公司："
