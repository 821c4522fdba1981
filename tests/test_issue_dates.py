"""Certificates and notices: the issue date comes from --date, the campaign or today (and says which),
a revoked certificate is never printed again, a certificate expired on its issue date is never issued."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from openpyxl import Workbook

from pipeline.cli import cli
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, issue_date, load_campaign
from pipeline.definitions.programs import resolve_campaign
from pipeline.issuing import register
from pipeline.issuing.certificates import make_certificates
from pipeline.issuing.notices import make_notices


def winners_book(path: Path, rows) -> Path:
    book = Workbook()
    book.active.append(["企业名称", "类别", "项目名称"])
    for row in rows:
        book.active.append(list(row))
    book.save(path)
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def campaign_copy(tmp_path: Path, extra: str) -> Path:
    """The Heilongjiang campaign file with lines added (award_date, notice_date)."""
    path = tmp_path / "campaign.yaml"
    path.write_text(load_campaign(DEFAULT_CAMPAIGN).path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_a_revoked_certificate_is_never_printed_again(tmp_path):
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None),
                                                 ("黑龙江飞鹤乳业有限公司", "产品类", "星飞帆奶粉")])
    db = tmp_path / "register.db"
    first = make_certificates(winners, tmp_path / "one", load_campaign(DEFAULT_CAMPAIGN), db, today=date(2017, 9, 1))
    number = first.entries[0].number
    with register.connect(db) as conn:
        register.revoke(conn, number, "用户满意度严重下降", today=date(2017, 10, 15))
    again = invoke("certificates", "--winners", winners, "--out", tmp_path / "two", "--register", db,
                   "--date", "2017-11-01")
    assert again.exit_code == 0, again.output
    assert number not in "".join(p.name for p in (tmp_path / "two").glob("*.docx"))
    assert len(list((tmp_path / "two").glob("*.docx"))) == 1
    assert f"第 2 行（哈尔滨电机厂有限责任公司）：证书 {number} 已于 2017年10月15日撤销（用户满意度严重下降），不再打印" in again.output
    assert "\n" + number not in again.output  # not listed among the printed ones


def test_a_certificate_expired_on_its_issue_date_is_refused_naming_row_and_rule(tmp_path):
    winners = winners_book(tmp_path / "w.xlsx", [("沈阳建工集团", "建筑工程类", "沈阳市档案馆工程"),
                                                 ("沈阳机床厂", "企业类", None)])
    db = tmp_path / "register.db"
    result = make_certificates(winners, tmp_path / "out", resolve_campaign("liaoning", None), db, today=date(2026, 3, 1))
    assert [e.company for e in result.entries] == ["沈阳机床厂"]
    (refused,) = [p for p in result.problems if "沈阳建工集团" in p]
    assert refused.startswith("第 2 行（沈阳建工集团）") and "当年度有效" in refused and "第二十一条" in refused
    assert "2021年12月31日" in refused and "2026年3月1日" in refused
    with register.connect(db) as conn:
        assert [e.company for e in register.entries(conn)] == ["沈阳机床厂"]  # no number spent on it
    within = make_certificates(winners, tmp_path / "in", resolve_campaign("liaoning", None), db, today=date(2021, 12, 1))
    assert {e.company for e in within.entries} == {"沈阳建工集团", "沈阳机床厂"}


def test_the_issue_date_comes_from_date_then_the_campaign_then_the_campaigns_year(tmp_path):
    campaign = load_campaign(campaign_copy(tmp_path, "award_date: 2017-09-01\nnotice_date: 2017-06-25\n"))
    assert issue_date(campaign, "certificates") == (date(2017, 9, 1), "活动文件 campaign.yaml 的 award_date")
    assert issue_date(campaign, "notices")[0] == date(2017, 6, 25)
    assert issue_date(campaign, "certificates", date(2017, 10, 8))[0] == date(2017, 10, 8)
    plain = issue_date(load_campaign(DEFAULT_CAMPAIGN), "certificates")
    assert plain[0] == date(2017, 7, 20) and "未写 award_date" in plain[1]  # the 2017-06-20 deadline + 30 days


def test_certificates_print_and_count_validity_from_the_issue_date(tmp_path):
    path = campaign_copy(tmp_path, "award_date: 2017-09-01\n")
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None)])
    run = invoke("certificates", "--winners", winners, "--out", tmp_path / "out", "--register", tmp_path / "r.db",
                 "--campaign", path)
    assert run.exit_code == 0, run.output
    assert "2017年9月1日（活动文件 campaign.yaml 的 award_date）" in run.output
    with register.connect(tmp_path / "r.db") as conn:
        (entry,) = register.entries(conn)
    assert (entry.issued_on, entry.valid_from, entry.valid_to) == (date(2017, 9, 1), date(2017, 9, 1), date(2019, 8, 31))
    other = winners_book(tmp_path / "w2.xlsx", [("黑龙江飞鹤乳业有限公司", "企业类", None)])
    dated = invoke("certificates", "--winners", other, "--out", tmp_path / "out2", "--register", tmp_path / "r.db",
                   "--date", "2017-10-15")
    assert "2017年10月15日（--date 指定）" in dated.output
    with register.connect(tmp_path / "r.db") as conn:
        entry = register.lookup(conn, "HLJ2017-EN-0002")
    assert (entry.valid_from, entry.valid_to) == (date(2017, 10, 15), date(2019, 10, 14))
    third = winners_book(tmp_path / "w3.xlsx", [("哈尔滨啤酒有限公司", "企业类", None)])
    plain = invoke("certificates", "--winners", third, "--out", tmp_path / "out3", "--register", tmp_path / "r.db")
    assert "2017年7月20日（活动文件 heilongjiang-2017.yaml 未写 award_date" in plain.output


def test_notices_print_the_issue_date_and_count_the_deadline_from_it(tmp_path):
    from test_notices import docx_text, make_records

    result = make_notices(make_records(), tmp_path / "a", load_campaign(campaign_copy(tmp_path, "notice_date: 2017-06-25\n")))
    text = docx_text(result.files[0])
    assert "2017年6月25日" in text and "2017年7月5日" in text  # dated, and due correction_days (10) later
    records = tmp_path / "records"
    records.mkdir()
    for n, record in enumerate(make_records()):
        (records / f"r{n}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    run = invoke("notices", "--records", records, "--out", tmp_path / "b", "--date", "2017-07-01")
    assert run.exit_code == 0, run.output
    assert "通知日期 2017年7月1日，--date 指定" in run.output


def test_verify_against_a_register_that_does_not_exist_says_so(tmp_path):
    run = invoke("register", "verify", "HLJ2017-CP-0001", "--register", tmp_path / "none.db")
    assert run.exit_code == 1
    assert "证书登记簿不存在" in run.output and "查无此证" not in run.output
    assert not (tmp_path / "none.db").exists()
