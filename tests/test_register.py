"""The certificate register: verify, list, revoke, renew, schema and constraints."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import load_workbook

from pipeline.cli import cli
from pipeline.common.errors import UserError
from pipeline.issuing import register

ISSUED = date(2017, 9, 1)


@pytest.fixture
def db(tmp_path):
    """A register holding two certificates of one campaign, issued today (so they are valid)."""
    path = tmp_path / "register.db"
    with register.connect(path) as conn:
        register.assign(conn, [register.Winner("飞鹤乳业", "product", "星飞帆奶粉"), register.Winner("电机厂", "enterprise")],
                        program="heilongjiang", campaign="heilongjiang-2017", prefix="HLJ2017",
                        codes={"product": "CP", "enterprise": "EN"},
                        titles={"product": "2017年度 产品类称号", "enterprise": "2017年度 企业类称号"},
                        issuer="黑龙江省质量协会", validity_years=2, today=date.today())
    return path


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_verify_finds_a_number(db):
    run = invoke("register", "verify", "hlj2017-cp-0001", "--register", db)
    assert run.exit_code == 0, run.output
    for expected in ("证书编号：HLJ2017-CP-0001", "持有单位：飞鹤乳业", "2017年度 产品类称号", "类　　别：产品类",
                     "项　　目：星飞帆奶粉", "状　　态：有效"):
        assert expected in run.output


def test_verify_calls_a_person_and_a_team_what_they_are(tmp_path):
    path = tmp_path / "stars.db"
    with register.connect(path) as conn:
        register.assign(conn, [register.Winner("李明", "star"), register.Winner("客服一班", "team"),
                               register.Winner("广州供电局", "enterprise")],
                        program="guangdong-stars", campaign="guangdong-stars-2021", prefix="GDS2021",
                        codes={"star": "XM", "team": "BZ", "enterprise": "QY"},
                        titles={"star": "服务明星", "team": "服务明星班组", "enterprise": "服务明星企业"},
                        issuer="广东省质量协会", validity_years=None, today=ISSUED)
    shown = {n: invoke("register", "verify", n, "--register", path).output
             for n in ("GDS2021-XM-0001", "GDS2021-BZ-0001", "GDS2021-QY-0001")}
    assert "获 奖 人：李明" in shown["GDS2021-XM-0001"] and "持有单位" not in shown["GDS2021-XM-0001"]
    assert "获奖班组：客服一班" in shown["GDS2021-BZ-0001"]
    assert "持有单位：广州供电局" in shown["GDS2021-QY-0001"]


def test_verify_refuses_an_unknown_number(db, tmp_path):
    run = invoke("register", "verify", "HLJ2017-CP-0099", "--register", db)
    assert run.exit_code == 1 and "查无此证" in run.output and "Traceback" not in run.output
    assert invoke("register", "verify", "X-1", "--register", tmp_path / "none.db").exit_code == 1
    assert not (tmp_path / "none.db").exists()  # verifying never creates a register


def test_revoke_then_verify_shows_reason_and_date(db):
    run = invoke("register", "revoke", "HLJ2017-EN-0001", "--reason", "用户满意度严重下降（第十八条）", "--register", db)
    assert run.exit_code == 0, run.output
    shown = invoke("register", "verify", "HLJ2017-EN-0001", "--register", db).output
    assert "状　　态：已撤销" in shown and "撤销原因：用户满意度严重下降（第十八条）" in shown
    today = date.today()
    assert f"撤销日期：{today.year}年{today.month}月{today.day}日" in shown
    again = invoke("register", "revoke", "HLJ2017-EN-0001", "--reason", "再次", "--register", db)
    assert again.exit_code == 2 and "已于" in again.output
    assert invoke("register", "renew", "HLJ2017-EN-0001", "--register", db).exit_code == 2


def test_renew_starts_a_new_validity_and_keeps_history(db):
    # The fixture issues today, valid two years: 复评 shortly before the term ends, then again two years on.
    first = date.today() + timedelta(days=700)
    with register.connect(db) as conn:
        entry = register.renew(conn, "HLJ2017-CP-0001", today=first)
        assert (entry.valid_from, entry.valid_to) == (first, register.valid_until(first, 2))
        assert [e["kind"] for e in register.history(conn, "HLJ2017-CP-0001")] == ["issued", "renewed"]
    second = first + timedelta(days=720)
    run = invoke("register", "renew", "HLJ2017-CP-0001", "--register", db, "--date", second.isoformat())
    assert run.exit_code == 0 and "已续期" in run.output
    with register.connect(db) as conn:
        assert register.lookup(conn, "HLJ2017-CP-0001").valid_to == register.valid_until(second, 2)
        assert len(register.history(conn, "HLJ2017-CP-0001")) == 3


def test_states_and_validity_dates():
    assert register.valid_until(ISSUED, 2) == date(2019, 8, 31)
    assert register.valid_until(date(2016, 2, 29), 1) == date(2017, 2, 28)
    entry = register.Entry("N-1", "p", "c", "product", "公司", None, "t", "i", 2, ISSUED, ISSUED,
                           date(2019, 8, 31), None, None)
    assert entry.state(date(2019, 8, 31)) == "valid" and entry.state(date(2019, 9, 1)) == "expired"


def test_list_to_stdout_and_xlsx(db, tmp_path):
    out = tmp_path / "list.xlsx"
    run = invoke("register", "list", "--campaign", "heilongjiang-2017", "--xlsx", out, "--register", db)
    assert run.exit_code == 0, run.output
    assert "HLJ2017-CP-0001" in run.output and "HLJ2017-EN-0001" in run.output and "共 2 张证书" in run.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("证书编号", "企业名称", "类别") and len(rows) == 3
    assert "共 0 张证书" in invoke("register", "list", "--campaign", "other", "--register", db).output


def test_schema_is_versioned_and_numbers_unique(db):
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == register.SCHEMA_VERSION
    columns = {row[1] for row in conn.execute("PRAGMA table_info(certificates)")}
    assert {"program", "campaign", "number"} <= columns
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO certificates (number, program, campaign, category, seq, company, company_key, "
                     "title, issuer, validity_years, issued_on, valid_from, valid_to) "
                     "SELECT number, program, 'other', category, seq, company, company_key, title, issuer, "
                     "validity_years, issued_on, valid_from, valid_to FROM certificates LIMIT 1")
    conn.close()


def test_a_prefix_clash_between_campaigns_is_a_clear_error(db):
    with register.connect(db) as conn, pytest.raises(UserError, match="number_prefix"):
        register.assign(conn, [register.Winner("别家", "product")], program="x", campaign="other-2017",
                        prefix="HLJ2017", codes={"product": "CP"}, titles={"product": "t"}, issuer="i",
                        validity_years=2, today=ISSUED)


def test_a_broken_register_file_is_a_chinese_error(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 100)
    run = invoke("register", "list", "--register", bad)
    assert run.exit_code == 2 and "登记簿" in run.output and "Traceback" not in run.output


def test_expired_shows_as_expired(tmp_path):
    path = tmp_path / "r.db"
    with register.connect(path) as conn:
        register.assign(conn, [register.Winner("老公司", "service")], program="p", campaign="c", prefix="OLD",
                        codes={"service": "SV"}, titles={"service": "t"}, issuer="i", validity_years=2,
                        today=date.today() - timedelta(days=3 * 366))
    assert "状　　态：已过期" in invoke("register", "verify", "OLD-SV-0001", "--register", path).output


def test_a_version_1_register_is_migrated_keeping_its_certificates(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(register.FILE_MIGRATIONS[0])
    conn.execute("INSERT INTO certificates (number, program, campaign, category, seq, company, company_key, title, "
                 "issuer, validity_years, issued_on, valid_from, valid_to) VALUES ('HLJ2017-EN-0001', 'heilongjiang', "
                 "'heilongjiang-2017', 'enterprise', 1, '电机厂', '电机厂', 't', 'i', 2, '2017-09-01', '2017-09-01', "
                 "'2019-08-31')")
    conn.execute("INSERT INTO events (number, kind, on_date) VALUES ('HLJ2017-EN-0001', 'issued', '2017-09-01')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with register.connect(path) as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == register.SCHEMA_VERSION == 5
        entry = register.lookup(conn, "HLJ2017-EN-0001")
        assert (entry.company, entry.valid_to, entry.tier) == ("电机厂", date(2019, 8, 31), None)
        assert [e["kind"] for e in register.history(conn, entry.number)] == ["issued"]
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # events still point at real certificates
            conn.exec_driver_sql("INSERT INTO certificate_events (number, kind, on_date) "
                                 "VALUES ('NONE-1', 'issued', '2017-09-01')")
        more = register.assign(conn, [register.Winner("新厂", "enterprise")], program="heilongjiang",
                               campaign="heilongjiang-2017", prefix="HLJ2017", codes={"enterprise": "EN"},
                               titles={"enterprise": "t"}, issuer="i", validity_years=2, today=ISSUED)
        assert more[0].number == "HLJ2017-EN-0002"
