"""Issue 26, earlier years count: conditions of history are answered by earlier registers (a workspace, a
register file, or the workbook `register list --xlsx` exports), never by the applicant's word alone, and
`screen` names the register in its 来源 column."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from pipeline.actions import read_history
from pipeline.checking.screen import UNKNOWN, screen_records
from pipeline.definitions.programs import resolve_campaign
from pipeline.issuing import register
from test_issue_dates import invoke


def titled(db: Path, program: str, campaign: str, company: str, category: str, issued: date, years: int = 2,
           revoked: tuple[date, str] | None = None) -> None:
    """Put a title into a register file as an earlier campaign issued it (and revoke it, when asked)."""
    with register.connect(db) as conn:
        (entry,) = register.assign(conn, [register.Winner(company, category)], program=program, campaign=campaign,
                                   prefix=campaign.replace("-", "").upper(), codes={category: "EN"}, issuer="协会",
                                   today=issued, terms=lambda w: register.Terms("称号", years))
        if revoked:
            register.revoke(conn, entry.number, revoked[1], today=revoked[0])


def liaoning_record(years_claimed: int) -> dict:
    return {"submission_id": "s1", "source": "s1", "category": "enterprise", "company_name": "沈阳机床厂",
            "status": "complete", "issues": [], "forms": {"application": {"consecutive_title_years": years_claimed}}}


def outcome(screening, criterion_id: str):
    return next(o for o in screening.outcomes if o.criterion.id == criterion_id)


def test_three_years_running_comes_from_the_registers_not_the_applicants_word(tmp_path):
    campaign = resolve_campaign("liaoning", None)  # 2021: the years counted are 2020, 2019, 2018
    (said,) = screen_records(campaign, [liaoning_record(3)])
    alone = outcome(said, "ent-benchmark-consecutive")
    assert alone.result == UNKNOWN and "申请人自述" in alone.evidence  # the applicant's word alone is not enough

    db = tmp_path / "liaoning.db"
    titled(db, "liaoning", "liaoning-2020", "沈阳机床厂", "enterprise", date(2020, 6, 1))  # 2020 and 2021 only
    (short,) = screen_records(campaign, [liaoning_record(3)], history=read_history([db]))
    one = outcome(short, "ent-benchmark-consecutive")
    assert one.result == "不符合" and "连续获得称号年数=1" in one.evidence and one.source == "登记簿 liaoning.db"

    titled(db, "liaoning", "liaoning-2018", "沈阳机床厂", "enterprise", date(2018, 6, 1))  # 2018 to 2020-05-31
    (full,) = screen_records(campaign, [liaoning_record(0)], history=read_history([db]))
    three = outcome(full, "ent-benchmark-consecutive")
    assert three.result == "符合" and "连续获得称号年数=3" in three.evidence and three.source == "登记簿 liaoning.db"


def test_a_title_revoked_for_false_material_bars_guangzhou_for_five_years_from_an_exported_register(tmp_path):
    db = tmp_path / "gz.db"
    titled(db, "guangzhou", "guangzhou-2013", "白云某厂", "unit", date(2013, 9, 1),
           revoked=(date(2014, 5, 1), "提供虚假申报材料骗取称号（第二十六条）"))
    titled(db, "guangzhou", "guangzhou-2013", "越秀某厂", "unit", date(2013, 9, 1),
           revoked=(date(2014, 5, 1), "用户投诉属实"))
    book = tmp_path / "earlier.xlsx"
    assert invoke("register", "list", "--register", db, "--xlsx", book).exit_code == 0
    records = tmp_path / "records"
    records.mkdir()
    for n, name in enumerate(("白云某厂", "越秀某厂")):
        record = {"submission_id": f"s{n}", "category": "unit", "company_name": name, "status": "complete",
                  "issues": [], "forms": {}}
        (records / f"s{n}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    run = invoke("screen", "--records", records, "--program", "guangzhou", "--history", book, "--out", tmp_path / "s.xlsx")
    assert run.exit_code == 0, run.output
    rows = list(load_workbook(tmp_path / "s.xlsx")["逐条结果"].iter_rows(values_only=True))
    head = rows[0]
    fraud = {r[0]: dict(zip(head, r)) for r in rows[1:] if r[3] == "第二十六条"}
    assert fraud["白云某厂"]["结果"] == "不符合" and fraud["白云某厂"]["来源"] == "登记簿 earlier.xlsx"
    assert fraud["越秀某厂"]["结果"] == "符合" and fraud["越秀某厂"]["来源"] == "登记簿 earlier.xlsx"
