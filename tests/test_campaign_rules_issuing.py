"""Issue 26, issuing half: dates belong to the campaign, one register per campaign, a failed print registers
nothing, renewals and revocations checked against the certificate's own dates."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, issue_date, load_campaign
from pipeline.issuing import register
from test_issue_dates import invoke, winners_book  # the same small helpers


# --- 1. dates belong to the campaign ---------------------------------------------------------------------


def test_without_dates_in_the_campaign_file_both_commands_date_within_its_year():
    campaign = load_campaign(DEFAULT_CAMPAIGN)  # 2017, deadline 2017-06-20, no award_date / notice_date
    assert issue_date(campaign, "notices")[0] == date(2017, 6, 20)
    assert issue_date(campaign, "certificates")[0] == date(2017, 7, 20)


def test_a_certificate_date_before_the_deadline_is_refused_unless_overridden_with_a_reason(tmp_path):
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None)])
    refused = invoke("certificates", "--winners", winners, "--out", tmp_path / "a", "--register", tmp_path / "r.db",
                     "--date", "2017-06-15")
    assert refused.exit_code != 0
    assert "早于活动的申报截止日期 2017年6月20日" in refused.output and "--date-override" in refused.output
    assert not (tmp_path / "r.db").exists()  # refused before the register was opened
    allowed = invoke("certificates", "--winners", winners, "--out", tmp_path / "a", "--register", tmp_path / "r.db",
                     "--date", "2017-06-15", "--date-override", "省厅要求提前颁发")
    assert allowed.exit_code == 0, allowed.output
    assert "理由：省厅要求提前颁发" in allowed.output


def test_a_date_of_another_year_is_refused_for_notices_too(tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    run = invoke("notices", "--records", records, "--out", tmp_path / "n", "--date", "2026-12-06")
    assert run.exit_code != 0 and "不在活动 heilongjiang-2017 的年度（2017年）内" in run.output


def test_a_reply_by_deadline_before_the_notice_date_is_refused(tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    run = invoke("notices", "--records", records, "--out", tmp_path / "n", "--date", "2017-06-25",
                 "--deadline", "2017-06-22")
    assert run.exit_code != 0 and "补正截止日期 2017年6月22日 早于通知日期 2017年6月25日" in run.output


# --- 2. one register per campaign ----------------------------------------------------------------------------


def test_without_register_the_campaign_register_lives_in_the_data_folder_not_the_current_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None)])
    run = invoke("certificates", "--winners", winners, "--out", tmp_path / "out")
    assert run.exit_code == 0, run.output
    assert not (tmp_path / "output").exists()
    expected = Path(os.environ["MANYI_DATA_DIR"]) / "registers" / "heilongjiang-2017" / "register.db"
    assert expected.is_file() and str(expected) in run.output
    verify = invoke("register", "verify", "HLJ2017-EN-0001")  # found without --register
    assert verify.exit_code == 0 and "哈尔滨电机厂有限责任公司" in verify.output


def test_a_second_register_for_a_campaign_that_issued_numbers_is_refused_naming_the_first(tmp_path):
    first = winners_book(tmp_path / "a.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None)])
    second = winners_book(tmp_path / "b.xlsx", [("黑龙江飞鹤乳业有限公司", "企业类", None)])
    one = invoke("certificates", "--winners", first, "--out", tmp_path / "one", "--register", tmp_path / "one.db")
    assert one.exit_code == 0, one.output
    two = invoke("certificates", "--winners", second, "--out", tmp_path / "two", "--register", tmp_path / "two.db")
    assert two.exit_code != 0
    assert f"已在登记簿 {(tmp_path / 'one.db').resolve()} 中颁发过证书编号" in two.output
    assert not list((tmp_path / "two").glob("*.docx")) if (tmp_path / "two").exists() else True
    again = invoke("certificates", "--winners", second, "--out", tmp_path / "two", "--register", tmp_path / "one.db")
    assert again.exit_code == 0 and "HLJ2017-EN-0002" in again.output


def test_a_print_run_into_a_bad_path_registers_nothing(tmp_path):
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None),
                                                 ("黑龙江飞鹤乳业有限公司", "企业类", None)])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    run = invoke("certificates", "--winners", winners, "--out", blocker, "--register", tmp_path / "r.db")
    assert run.exit_code != 0 and "本次未登记任何证书编号" in run.output
    with register.connect(tmp_path / "r.db") as conn:
        assert register.entries(conn) == []


def test_a_print_run_into_a_missing_system_folder_says_why_in_chinese(tmp_path):
    """The system's reason (ENOENT under /proc: 'No such file or directory') is said in Chinese, not English."""
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None)])
    run = invoke("certificates", "--winners", winners, "--out", "/proc/no-such/folder", "--register", tmp_path / "r.db",
                 "--date", "2017-09-01")
    assert run.exit_code == 2 and "本次未登记任何证书编号" in run.output, run.output
    said = run.output.split("错误：", 1)[1]
    assert "找不到" in said and not re.search(r"[A-Za-z]{3,}", re.sub(r"/[\w/-]+", "", said)), said


# --- 4. renewals and revocations --------------------------------------------------------------------------


def issued_register(tmp_path) -> Path:
    """A register with one 黑龙江 2017 certificate issued 2017-09-01 (valid two years: to 2019-08-31)."""
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None)])
    run = invoke("certificates", "--winners", winners, "--out", tmp_path / "certs", "--register", tmp_path / "r.db",
                 "--date", "2017-09-01")
    assert run.exit_code == 0, run.output
    return tmp_path / "r.db"


def test_renewal_and_revocation_dates_are_checked_against_the_certificate(tmp_path):
    db = issued_register(tmp_path)
    early = invoke("register", "renew", "HLJ2017-EN-0001", "--date", "2016-01-01", "--register", db)
    assert early.exit_code != 0 and "早于证书 HLJ2017-EN-0001 的颁发日期 2017年9月1日" in early.output
    late = invoke("register", "renew", "HLJ2017-EN-0001", "--date", "2099-01-01", "--register", db)
    assert late.exit_code != 0 and "有效期届满（2019年8月31日）已超过一年" in late.output
    revoke = invoke("register", "revoke", "HLJ2017-EN-0001", "--date", "2017-08-01", "--reason", "x", "--register", db)
    assert revoke.exit_code != 0 and "撤销日期 2017年8月1日 早于" in revoke.output
    with register.connect(db) as conn:
        entry = register.lookup(conn, "HLJ2017-EN-0001")
    assert (entry.valid_to, entry.revoked_on) == (date(2019, 8, 31), None)


def test_verify_shows_the_first_issue_every_renewal_and_the_revocation(tmp_path):
    db = issued_register(tmp_path)
    assert invoke("register", "renew", "HLJ2017-EN-0001", "--date", "2019-08-20", "--register", db).exit_code == 0
    assert invoke("register", "revoke", "HLJ2017-EN-0001", "--date", "2020-03-01", "--reason", "用户投诉属实",
                  "--register", db).exit_code == 0
    shown = invoke("register", "verify", "HLJ2017-EN-0001", "--register", db).output
    assert "颁发日期：2017年9月1日" in shown
    assert "2017年9月1日 颁发，有效期 2017年9月1日 至 2019年8月31日" in shown
    assert "2019年8月20日 续期，有效期 2019年8月20日 至 2021年8月19日" in shown
    assert "2020年3月1日 撤销，原因：用户投诉属实" in shown


def test_expiring_lists_titles_whose_term_ends_within_the_window_and_letters_are_written(tmp_path):
    from docx import Document

    db = issued_register(tmp_path)  # ends 2019-08-31
    soon = invoke("register", "expiring", "--within", "90d", "--as-of", "2019-06-15", "--register", db)
    assert soon.exit_code == 0 and "HLJ2017-EN-0001\t哈尔滨电机厂有限责任公司" in soon.output
    assert "2019年8月31日\t77" in soon.output  # 2019-06-15 → 2019-08-31
    early = invoke("register", "expiring", "--within", "90d", "--as-of", "2019-01-01", "--register", db)
    assert "HLJ2017-EN-0001" not in early.output and "共 0 个称号" in early.output
    letters = invoke("renewals", "letters", "--out", tmp_path / "letters", "--as-of", "2019-06-15", "--register", db)
    assert letters.exit_code == 0, letters.output
    (letter,) = (tmp_path / "letters").glob("*.docx")
    text = "\n".join(p.text for p in Document(str(letter)).paragraphs)
    assert "复评通知" in text and "哈尔滨电机厂有限责任公司：" in text and "有效期至2019年8月31日" in text
    assert "第十四条" in text and "2019年6月15日" in text


# --- 4b. a renewed title gets a re-issued certificate with its new term -----------------------------------------


def test_a_renewal_with_print_reissues_the_certificate_with_its_new_term_and_verify_shows_it(tmp_path):
    from docx import Document

    db = issued_register(tmp_path)  # issued 2017-09-01, valid to 2019-08-31
    run = invoke("register", "renew", "HLJ2017-EN-0001", "--date", "2019-08-20", "--print", tmp_path / "new",
                 "--register", db)
    assert run.exit_code == 0, run.output
    (printed,) = (tmp_path / "new").glob("*.docx")
    text = "\n".join(p.text for p in Document(str(printed)).paragraphs) + "\n".join(
        c.text for t in Document(str(printed)).tables for r in t.rows for c in r.cells)
    assert "2021年8月19日" in text and "HLJ2017-EN-0001" in text  # the new term: 2019-08-20 + 2 years − 1 day
    with register.connect(db) as conn:
        kinds = [e["kind"] for e in register.history(conn, "HLJ2017-EN-0001")]
        entry = register.lookup(conn, "HLJ2017-EN-0001")
    assert kinds == ["issued", "renewed", "reissued"]
    assert entry.check_code and entry.check_code in run.output
    shown = invoke("register", "verify", "HLJ2017-EN-0001", "--register", db).output
    assert "2019年8月20日 换发新证书，有效期 2019年8月20日 至 2021年8月19日" in shown
    assert "颁发日期：2017年9月1日" in shown


def test_a_renewal_campaign_starts_from_a_roster_of_the_titles_due(tmp_path):
    from pipeline.generating.packet import applicants, read_roster

    db = issued_register(tmp_path)  # ends 2019-08-31
    run = invoke("renewals", "roster", "--out", tmp_path / "due.xlsx", "--within", "90d", "--as-of", "2019-06-15",
                 "--register", db)
    assert run.exit_code == 0, run.output
    rows = read_roster(tmp_path / "due.xlsx")  # what `manyi packet --roster` reads
    (one,), problems = applicants(rows)
    assert problems == [] and one.name == "哈尔滨电机厂有限责任公司" and one.category == "enterprise"
    none = invoke("renewals", "roster", "--out", tmp_path / "none.xlsx", "--as-of", "2017-10-01", "--register", db)
    assert none.exit_code != 0 and "没有需要复评的称号" in none.output


def test_a_workspace_renewal_with_print_reissues_and_logs_it(tmp_path):
    from pipeline.definitions.programs import resolve_campaign
    from pipeline.workspace import Workspace

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)) as ws:
        with register.connect(ws.engine) as conn:
            register.assign(conn, [register.Winner("哈尔滨电机厂有限责任公司", "enterprise")], program="heilongjiang",
                            campaign="heilongjiang-2017", prefix="HLJ2017", codes={"enterprise": "EN"}, issuer="省质协",
                            today=date(2017, 9, 1), terms=lambda w: register.Terms("2017年度黑龙江省用户满意企业", 2))
    run = invoke("register", "renew", "HLJ2017-EN-0001", "--workspace", tmp_path / "ws", "--date", "2019-08-20",
                 "--print", tmp_path / "new", "--by", "王敏")
    assert run.exit_code == 0, run.output
    assert len(list((tmp_path / "new").glob("*.docx"))) == 1
    with Workspace.open(tmp_path / "ws") as ws:
        with register.connect(ws.reader, write=False) as conn:
            assert [e["kind"] for e in register.history(conn, "HLJ2017-EN-0001")] == ["issued", "renewed", "reissued"]
        (logged,) = [e for e in ws.audit_log() if e["action"] == "certificate_renew"]
        assert logged["by"] == "王敏"


def test_titles_past_their_term_are_named_with_the_day_that_lists_them(tmp_path):
    """On a register of an earlier year (the demo's: 2017 titles ended in 2019), today's 复评 listing is empty: it
    says the titles lapsed and which --as-of lists them, and the letters and roster refuse saying the same."""
    db = issued_register(tmp_path)  # valid 2017-09-01 to 2019-08-31
    since = (date(2019, 8, 31) - timedelta(days=89)).isoformat()  # the first day whose 90-day window holds the end
    run = invoke("register", "expiring", "--register", db, "--as-of", "2024-01-01")
    assert run.exit_code == 0 and "共 0 个称号" in run.output
    assert f"另有 1 个称号的有效期已于 2019年8月31日 届满，未续期也未撤销" in run.output and f"--as-of {since}" in run.output
    listed = invoke("register", "expiring", "--register", db, "--as-of", since)
    assert "HLJ2017-EN-0001" in listed.output and "共 1 个称号" in listed.output
    for command in (("renewals", "letters", "--out", tmp_path / "letters"), ("renewals", "roster", "--out", tmp_path / "due.xlsx")):
        refused = invoke(*command, "--register", db, "--as-of", "2024-01-01")
        assert refused.exit_code == 2 and f"--as-of {since}" in refused.output, refused.output
    assert invoke("renewals", "letters", "--out", tmp_path / "letters", "--register", db, "--as-of", since).exit_code == 0


def test_a_second_revocation_names_the_first_in_chinese_words():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        db = issued_register(Path(folder))
        assert invoke("register", "revoke", "HLJ2017-EN-0001", "--date", "2018-03-01", "--reason", "复查不合格",
                      "--register", db).exit_code == 0
        again = invoke("register", "revoke", "HLJ2017-EN-0001", "--date", "2018-04-01", "--reason", "再次", "--register", db)
        assert again.exit_code == 2 and "已于 2018年3月1日 撤销（复查不合格）" in again.output, again.output


def test_a_revocation_dated_in_the_future_is_refused(tmp_path):
    db = issued_register(tmp_path)
    later = date.today() + timedelta(days=400)
    run = invoke("register", "revoke", "HLJ2017-EN-0001", "--date", later.isoformat(), "--reason", "x", "--register", db)
    assert run.exit_code == 2 and "晚于今天" in run.output and f"{later.year}年" in run.output, run.output
    with register.connect(db) as conn:
        assert register.lookup(conn, "HLJ2017-EN-0001").revoked_on is None
