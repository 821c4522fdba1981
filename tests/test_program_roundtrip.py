"""Round trip per program and category: blank packet → typed in LibreOffice (UNO) → .docx, .doc, .odt, .pdf → parsed.

Every generated program's every category: `manyi packet`'s blank forms are filled in LibreOffice itself
(tests/office_client.py: text typed beside labels and after inline labels, boxes ticked, checklist rows
answered, list rows added, report text written), saved by LibreOffice as Word 2007, Word 97, OpenDocument
and PDF, and parsed with the program's campaign. What is typed is hard to read back on purpose (`HARD`):
values of several paragraphs and soft line breaks, long Latin and digit values in narrow cells with typed
spaces, and the 推荐意见表's date written in the 年 月 日 slot under the seal instead of its own row. Every typed value must come back, a complete
packet must have no error, and screening must reach the category's top tier. One soffice session fills
everything (one office client job); parsing the .doc inboxes converts them in one LibreOffice batch per program.
"""

from __future__ import annotations

import pytest
from conftest import run_client
from program_packets import earlier_titles, expected, packet_forms, program_cases, typed, write_survey_report

from pipeline.checking.screen import screen_records
from pipeline.generating.packets import write_program_packet
from pipeline.definitions.programs import program_campaign,  load_program, resolve_campaign
from pipeline.parse import parse_inbox

#: One worker runs them all, so the session's one LibreOffice fill is not made twice (pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("program_roundtrip")
CASES = program_cases()
FORMATS = ("docx", "doc", "odt", "pdf")
#: What the round trip types instead of program_packets' plain values, where a form has the field:
#: Enter ('\n') and Shift+Enter ('\v') inside a cell, typed spaces between Chinese and Latin, long Latin/digits.
HARD = {
    "deeds": "十年如一日为客户提供优质服务。\n2013年：82.1\n2014年：83.5\n2015年：84.6",
    "honours": "2019年度优秀员工\v2020年度岗位标兵",
    "opinion": "同意推荐，材料真实齐全。\n该单位用户满意度测评结果真实有效。",
    "satisfaction_history": "2018年：85.2\n2019年：86.4\n2020年：87.3",
    "qms_certificate": "（证书编号 03819Q21567R0S）",
    "email": "zhaoli.quality-office@shenyang-demo.example.cn",
    "address": "沈阳市和平区南京北街1号 Tower B Room 1203",
    "product_model": "KFR-35GW/BP3 Inverter 2021 Edition",
}
#: The date the recommender writes in the 年 月 日 slot under the seal, and what it reads as.
SLOT, SLOT_DATE = "2016年 6月 1日", "2016-06-01"
#: What no form carries, per program (the facts table staff fill).
FACTS = {
    "liaoning": {"major_incidents": False, "major_complaints": False, "serious_violations": False,
                 "main_item_titled": True, "main_item_benchmark": True},
    "national": {"major_incidents": False, "major_complaints": False, "serious_violations": False},
    "guangdong-stars": {"front_line": True, "senior_manager": True, "in_province": True},
    "guangzhou": {"participated": True, "quality_training": True, "major_complaints": False, "fraud_ban": False},
}


def program_packet(pid: str, category: str, out):
    """Given a program id, a category and a folder, write its blank packet there; return the files in packet order."""
    return write_program_packet(out, category, program_campaign(load_program(pid), None)).files


def edits_for(form, text) -> list[dict]:
    """Given a form and what the applicant types, return the office client's edits: where to type, what to tick."""
    if form.get("kind") == "report":
        return [{"append": text["body"]}]
    if form.get("rows"):  # every row added under the header, as the applicant adds them
        header = list(form.fields)
        last = form.fields[header[-1]].label
        return [{"add_row_after": last, "cells": [row[f] for f in header]} for row in reversed(text)]
    inline = {c.get("field") for item in form.layout if isinstance(item, dict) and "table" in item
              for row in item["table"].get("rows") or [] for c in row if isinstance(c, dict) and c.get("inline")}
    lines = {item["line"] for item in form.layout if isinstance(item, dict) and "line" in item}
    rows_of = form.get("criteria") or {}
    evidence = {r["evidence"]: sid for sid, r in rows_of.items()}
    articles = [r["article"] for r in rows_of.values()]
    nth = {sid: articles[: r["row"] - 1].count(r["article"]) for sid, r in rows_of.items()}  # 第十七条 twice
    edits = []
    for fid, value in text.items():
        fld = form.fields[fid]
        if fid in rows_of:  # the 自评 cell is right of the row's article
            edits.append({"tick": fld.options[value], "beside": rows_of[fid]["article"], "nth": nth[fid]})
        elif fid in evidence:
            sid = evidence[fid]
            edits.append({"beside": rows_of[sid]["article"], "nth": nth[sid], "right": 2, "text": value})
        elif fld.slot and fid not in lines:  # a date in the 年 月 日 under a seal: written over that blank
            cell = next(c for item in form.layout if isinstance(item, dict) and "table" in item
                        for row in item["table"].get("rows") or [] for c in row
                        if isinstance(c, dict) and c.get("date") == fid)
            blank = next(line.strip() for line in cell["footer"].split("\n") if "月" in line and line.strip().endswith("日"))
            edits.append({"replace": blank, "text": value})
        elif fid in lines or fid in inline:
            edits.append({"after": f"{fld.label}：", "text": value})
        elif fld.type == "choice":
            edits.append({"tick": fld.options[value], "beside": fld.label, "nth": fld.occurrence})
        else:
            edits.append({"beside": fld.label, "nth": fld.occurrence, "text": value})
    return edits


def hard(form, text):
    """Given a form and its plain typed values, return what the round trip types: `HARD` where the form has the
    field, and no date for a field written in a seal's 年 月 日 slot (it is written there, see `slot_edits`)."""
    if not isinstance(text, dict) or form.get("kind") in ("report", "checklist"):
        return text
    return {k: HARD.get(k, v) for k, v in text.items() if not form.fields[k].slot}


def slot_edits(form) -> list[dict]:
    """Given a form, return the edits writing SLOT into the 年 月 日 slot printed under its seal (none without one)."""
    import re

    edits = []
    for fld in form.fields.values():
        if fld.slot:
            footer = next(c.get("footer") for item in form.layout if isinstance(item, dict) and "table" in item
                          for row in item["table"].get("rows") or [] for c in row
                          if isinstance(c, dict) and c.get("field") == fld.slot)
            edits.append({"replace": re.findall(r"年[\s\u3000]+月[\s\u3000]+日", footer)[-1], "text": SLOT})
    return edits


def wanted(form, text):
    """Given a form and what the round trip typed, return the values its record must hold."""
    want = expected(form, {k: v.replace("\v", "\n") if isinstance(v, str) else v for k, v in text.items()}
                    if isinstance(text, dict) else text)
    for fld in form.fields.values():
        if fld.slot and isinstance(want, dict):
            want[fld.id] = SLOT_DATE
    return want


def planted(form, text):
    """Given a form and what is typed, return it with the violations planted (None: the form left out).

    The 推荐意见 is not sent, the first phone is malformed, the first criterion self-evaluated 不符合; the
    applicant is another one than the complete packet's (the same one twice is a duplicate application).
    """
    if form.id == "recommendation":
        return None
    if isinstance(text, dict):
        text = {k: OTHER_APPLICANT if k in ("company_name", "name", "team_name", "applicant") else v
                for k, v in text.items()}
    if form.id == "application":
        phone = next(f.id for f in form.fields.values() if f.format == "phone")
        return {**text, phone: "12345"}
    if form.id == "checklist":
        return {**text, "self_01": "不符合"}
    return text


#: The planted packet of each program: its first category, under this inbox entry, by another applicant.
PLANTED = "planted"
OTHER_APPLICANT = "锦州另一示范有限公司"


@pytest.fixture(scope="session")
def roundtrip(tmp_path_factory):
    """(program, category or PLANTED, format) → (typed by form key, record); and the office client's results."""
    root = tmp_path_factory.mktemp("roundtrip")
    tasks, typed_by = [], {}
    first = {}
    for pid, cid in CASES:
        first.setdefault(pid, cid)
    for pid, cid, entry, change in [(p, c, c, None) for p, c in CASES] + [
            (p, c, PLANTED, planted) for p, c in first.items()]:
        forms = packet_forms(pid, cid)
        blanks = program_packet(pid, cid, root / "blank" / pid / entry)
        assert len(blanks) == len(forms)
        typed_by[(pid, entry)] = {}
        for form, blank in zip(forms, blanks):
            text = change(form, hard(form, typed(form))) if change else hard(form, typed(form))
            if text is None:
                continue
            typed_by[(pid, entry)][form.key] = text
            tasks.append({"open": str(blank.relative_to(root)), "edits": edits_for(form, text) + slot_edits(form),
                          "save": [f"{fmt}/{pid}/{entry}/{form.key}.{fmt}" for fmt in FORMATS]})
        for fmt in FORMATS:
            (root / fmt / pid / entry).mkdir(parents=True, exist_ok=True)
            write_survey_report(root / fmt / pid / entry / "测评报告.docx")
    results = run_client({"tasks": tasks}, root)
    records = {}
    for pid in sorted({p for p, _ in CASES}):
        for fmt in FORMATS:
            result = parse_inbox([root / fmt / pid], root / "out" / fmt / pid, resolve_campaign(pid, None), jobs=2)
            for record in result.records:
                records[(pid, record["source"], fmt)] = (typed_by[(pid, record["source"])], record)
    return records, results


def test_libreoffice_typed_every_form(roundtrip):
    records, results = roundtrip
    assert len(results) == sum(len(typed_here) for typed_here, _ in records.values()) // len(FORMATS)
    assert [r["errors"] for r in results if r["errors"]] == []
    assert all(len(r["saved"]) == len(FORMATS) for r in results)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pid", sorted(FACTS))
def test_planted_violations_found_with_the_programs_articles(roundtrip, pid, fmt):
    from pipeline.definitions.program_forms import entry

    records, _ = roundtrip
    typed_here, record = records[(pid, PLANTED, fmt)]
    program = load_program(pid)
    cid = record["category"]
    found = {(i["code"], i.get("form"), i.get("field"), i["article"]) for i in record["issues"]
             if i["severity"] == "error"}
    phone = next(f for f, v in typed_here[f"application.{cid}"].items() if v == "12345")
    assert found == {
        ("missing_form", "recommendation", None, entry(program, "recommendation")["article"]),
        ("invalid_format", "application", phone, entry(program, "application")["article"]),
        ("criterion_not_met", "checklist", "self_01", program.criteria_for(cid)[0].article),
    }
    [screened] = screen_records(program_campaign(program, None), [record])
    assert "补正" in screened.note


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pid, cid", CASES)
def test_every_typed_value_comes_back(roundtrip, pid, cid, fmt):
    records, _ = roundtrip
    typed_here, record = records[(pid, cid, fmt)]
    assert record["category"] == cid
    forms = {f.key: f for f in packet_forms(pid, cid)}
    for key, text in typed_here.items():
        form = forms[key]
        want = wanted(form, text)
        got = record["forms"].get(form.id)
        if form.get("kind") == "report":  # LibreOffice may split the title's runs; the text is what counts
            assert got and got["chars"] == want["chars"], key
        else:
            assert got == want, key
    assert [i for i in record["issues"] if i["severity"] == "error"] == []
    assert record["status"] == "complete"


@pytest.mark.parametrize("fmt", FORMATS)
def test_screening_reaches_the_top_tier(roundtrip, fmt):
    records, _ = roundtrip
    for pid in sorted(FACTS):
        program = load_program(pid)
        mine = [record for (p, e, f), (_, record) in records.items() if p == pid and f == fmt and e != PLANTED]
        # staff confirm the conditions only they can judge (the rest come from the packet and the facts)
        judged = {c.id: True for c in program.criteria if c.manual}
        table = {r["company_name"]: {"name": r["company_name"], "row": 2, "facts": FACTS[pid], "verdicts": judged,
                                     "category": None} for r in mine}
        campaign = program_campaign(program, None)
        for s in screen_records(campaign, mine, table, history=earlier_titles(program, mine, campaign.year)):
            assert s.tier == program.category(s.category).tiers[-1].name, (pid, s.category, fmt)
