"""The whole-inbox run: one record per entry, expected category/company/status, jobs 1 = jobs 2."""

from __future__ import annotations

import json
import shutil
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline import parse as parse_mod
from pipeline.common import outputs
from pipeline.issuing.workbook import write_summary
from pipeline.parse import parse_inbox
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the seed's campaign: 黑龙江 2017


#: Each broken rule's severity (the corpus breaks each once).
SEVERITY = {"report_missing_section": "warning", "respondent_count": "warning", "respondent_duplicate": "warning"}
#: The issues an entry has beside the one its variation broke, each for a reason of that variation.
ALSO = {
    # the form's score and period were changed, the survey report's were not: they disagree
    "rule-below_threshold": [("warning", "inconsistent")],
    "rule-survey_too_early": [("warning", "inconsistent"), ("warning", "invalid_format")],  # + respondents dated after it
    # the 推荐意见表 still recommends a 产品类 entry while the cover ticks 服务类
    "rule-inconsistent": [("warning", "inconsistent")],
    # the zip carries no 测评报告
    "冰雪食品申报材料.zip": [("warning", "attachment_check")],
    # an empty file: nothing read, so every form is missing
    "空文件.docx": [("error", "missing_form")],
}


def expected_issues(name: str, fact: dict) -> set[tuple[str, str]]:
    """Given a corpus entry and its facts, return every (severity, code) its record must carry, no more."""
    return {(SEVERITY.get(code, "error"), code) for code in fact["codes"]} | set(ALSO.get(name, []))


def test_one_record_per_entry_with_expected_facts(parsed_corpus):
    out, records, facts = parsed_corpus
    assert set(records) == set(facts)
    files = sorted(p.name for p in (out / "records").glob("*.json"))
    assert files == sorted(f"{r['submission_id']}.json" for r in records.values())
    for name, fact in facts.items():
        record = records[name]
        assert record["category"] == fact["category"], name
        assert record["company_name"] == fact["company"], name
        found = {(i["severity"], i["code"]) for i in record["issues"]}
        assert found == expected_issues(name, fact), (name, record["issues"])
        if not fact["codes"]:  # a clean submission: the rules find nothing to correct
            assert record["status"] == "complete", (name, record["issues"])
        assert record["status"] == ("incomplete" if any(i["severity"] == "error" for i in record["issues"])
                                    else "complete")
    assert not (out / ".work").exists()


def test_record_shape_matches_the_contract(parsed_corpus):
    _, records, _ = parsed_corpus
    for record in records.values():
        assert {"submission_id", "source", "category", "company_name", "forms", "attachments", "issues",
                "status"} <= set(record)
        for issue in record["issues"]:
            assert {"severity", "code", "form", "field", "message"} <= set(issue)
            assert issue["severity"] in ("error", "warning")
    broken = records["rule-unreadable_file"]["issues"]
    unreadable = [i for i in broken if i["code"] == "unreadable_file"]
    assert [i["file"] for i in unreadable] == ["附件-损坏.docx"] and "无法读取" in unreadable[0]["message"]
    assert records["rule-unreadable_file"]["forms"]["application"]["product_name"] == "电热水器"
    assert records["空文件.docx"]["forms"] == {} and records["空文件.docx"]["status"] == "incomplete"


def test_records_are_utf8_json_as_written(parsed_corpus):
    out, records, _ = parsed_corpus
    record = records["tpl-product"]
    text = (out / "records" / f"{record['submission_id']}.json").read_text(encoding="utf-8")
    assert "哈尔滨光明电器有限公司" in text  # ensure_ascii=False
    assert json.loads(text)["forms"] == record["forms"]


def test_jobs_one_and_two_give_identical_records(parsed_corpus, tmp_path):
    out, records, _ = parsed_corpus
    result = parse_inbox([out.parent.parent / "shared-corpus" / "inbox"], tmp_path / "one", HLJ, jobs=1)
    assert {r["source"]: r for r in result.records} == records
    for path in (tmp_path / "one" / "records").glob("*.json"):
        assert path.read_bytes() == (out / "records" / path.name).read_bytes()
    # summary.xlsx is written while records arrive (the .doc entries last): the same as written at once after
    at_once = write_summary(result.records, tmp_path / "at-once.xlsx", HLJ)
    assert without_origins(out / "summary.xlsx") == without_origins(at_once) == without_origins(result.summary)
    inbox = str(out.parent.parent / "shared-corpus" / "inbox")
    assert {row[-2] for row in workbook_values(result.summary)["汇总"][1:]} == {inbox}


def without_origins(path) -> dict:
    """The workbook's values without the 汇总 columns saying which inbox and run each record came from."""
    values = workbook_values(path)
    assert values["汇总"][0][-2:] == ("收件箱", "解析时间")
    values["汇总"] = [row[:9] for row in values["汇总"]]
    return values


def workbook_values(path) -> dict:
    book = load_workbook(path, read_only=True)
    try:
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    finally:
        book.close()


def test_records_reach_the_summary_in_source_order_whatever_order_they_arrive_in():
    passed = []
    relay = parse_mod.InOrder(["甲", "乙", "丙", "丁"], passed.append)
    for source in ("丙", "甲", "丁"):
        relay({"source": source})
    assert passed == [{"source": "甲"}]  # 丙 and 丁 wait for 乙
    relay({"source": "乙"})
    assert [r["source"] for r in passed] == ["甲", "乙", "丙", "丁"]


def test_a_crashing_submission_becomes_an_error_record(tmp_path, monkeypatch, corpus):
    inbox, _ = corpus
    real = parse_mod.submission_records

    def explode(entry, files, problems, *forms):
        if entry.source == "tpl-service":
            raise RuntimeError("boom")
        return real(entry, files, problems, *forms)

    monkeypatch.setattr(parse_mod, "submission_records", explode)
    small = tmp_path / "inbox"
    shutil.copytree(inbox / "tpl-service", small / "tpl-service")
    shutil.copytree(inbox / "tpl-enterprise", small / "tpl-enterprise")
    out = tmp_path / "out"
    (out / "records").mkdir(parents=True)
    result = parse_inbox([small], out, HLJ, jobs=1)
    by = {r["source"]: r for r in result.records}
    assert by["tpl-service"]["issues"][0]["code"] == "unreadable_file"
    assert "解析时出错" in by["tpl-service"]["issues"][0]["message"]
    assert by["tpl-enterprise"]["forms"]["application"]["company_name"] == "哈尔滨电力设备有限公司"
    assert "材料齐全" in result.line() and str(out / "records") in result.line()


def test_late_submission_reported_for_every_record(tmp_path, corpus):
    inbox, _ = corpus
    small = tmp_path / "inbox"
    shutil.copytree(inbox / "tpl-product", small / "tpl-product")
    result = parse_inbox([small], tmp_path / "out", HLJ, received=date(2017, 7, 1), jobs=1)
    assert "late_submission" in {i["code"] for i in result.records[0]["issues"]}


def test_an_unchanged_record_is_left_alone_and_a_changed_one_replaced(tmp_path):
    record = {"submission_id": "甲-1", "source": "甲", "issues": [], "status": "complete"}
    parse_mod.write_record(tmp_path, record)
    path = tmp_path / "甲-1.json"
    first = path.stat().st_ino
    parse_mod.write_record(tmp_path, dict(record))
    assert path.stat().st_ino == first  # not rewritten
    parse_mod.write_record(tmp_path, dict(record, status="incomplete"))
    assert json.loads(path.read_text(encoding="utf-8"))["status"] == "incomplete"
    assert [p.name for p in tmp_path.iterdir() if p.name not in outputs.CONTROL] == ["甲-1.json"]  # no temporary left


def test_a_dying_worker_costs_records_not_the_run(tmp_path, monkeypatch, corpus):
    import os

    inbox, _ = corpus
    real = parse_mod.parse_one

    def die(entry, *args):
        if entry.source == "tpl-service":
            os._exit(9)  # a worker killed in the middle (out of memory, a crash in C)
        return real(entry, *args)

    monkeypatch.setattr(parse_mod, "parse_one", die)
    small = tmp_path / "inbox"
    for name in ("tpl-service", "tpl-enterprise", "tpl-product", "tpl-construction"):
        shutil.copytree(inbox / name, small / name)
    result = parse_inbox([small], tmp_path / "out", HLJ, jobs=2)
    by = {r["source"]: r for r in result.records}
    assert set(by) == {"tpl-service", "tpl-enterprise", "tpl-product", "tpl-construction"}
    assert "解析时出错" in by["tpl-service"]["issues"][0]["message"]
    assert len(list((tmp_path / "out" / "records").glob("*.json"))) == 4
    assert (tmp_path / "out" / "summary.xlsx").exists()


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)))
def test_leaves_are_written_as_json_dumps_writes_them(value):
    assert parse_mod._leaf_json(value) == json.dumps(value, ensure_ascii=False)
