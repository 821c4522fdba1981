"""Issue 26, winners: every winner is an applicant of the campaign whose latest version is complete, one title
per enterprise where the program says so, the program's yearly quota, the program's title kinds; each refusal
names the row and the article, and `--allow 行号:理由` lets one through with its reason kept."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

from pipeline.issuing import register
from test_issue_dates import invoke, winners_book


def records_folder(folder: Path, rows) -> Path:
    """A records folder as `manyi parse` writes it: (company, category id, status, open errors) per record."""
    folder.mkdir(parents=True)
    for n, (company, category, status, errors) in enumerate(rows, start=1):
        issues = [{"severity": "error", "code": "missing_field", "message": "必填项未填"}] * errors
        record = {"submission_id": f"s{n}", "category": category, "company_name": company, "status": status,
                  "forms": {}, "issues": issues}
        (folder / f"s{n}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return folder


def history_of(db: Path, company: str) -> list[dict]:
    with register.connect(db) as conn:
        (entry,) = [e for e in register.entries(conn) if e.company == company]
        return register.history(conn, entry.number)


def test_a_winner_that_never_applied_or_is_incomplete_is_refused_naming_row_and_article(tmp_path):
    records = records_folder(tmp_path / "records", [("哈尔滨电机厂有限责任公司", "enterprise", "complete", 0),
                                                    ("黑龙江飞鹤乳业有限公司", "enterprise", "incomplete", 2)])
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None),
                                                 ("黑龙江飞鹤乳业有限公司", "企业类", None),
                                                 ("从未申报有限公司", "企业类", None)])
    run = invoke("certificates", "--winners", winners, "--records", records, "--out", tmp_path / "out",
                 "--register", tmp_path / "r.db", "--date", "2017-09-01")
    assert run.exit_code == 1, run.output
    assert "第 4 行（从未申报有限公司）：不是本活动的申报者" in run.output and "（第九条、第十条）" in run.output
    assert "第 3 行（黑龙江飞鹤乳业有限公司）：最新一版材料尚有 2 个错误未补正" in run.output
    assert "（第十一条）" in run.output and "有 2 行未颁发证书" in run.output
    with register.connect(tmp_path / "r.db") as conn:
        assert [e.company for e in register.entries(conn)] == ["哈尔滨电机厂有限责任公司"]


def test_allow_lets_one_refused_row_through_and_the_register_keeps_the_reason(tmp_path):
    records = records_folder(tmp_path / "records", [("哈尔滨电机厂有限责任公司", "enterprise", "complete", 0)])
    winners = winners_book(tmp_path / "w.xlsx", [("哈尔滨电机厂有限责任公司", "企业类", None),
                                                 ("从未申报有限公司", "企业类", None)])
    run = invoke("certificates", "--winners", winners, "--records", records, "--out", tmp_path / "out",
                 "--register", tmp_path / "r.db", "--date", "2017-09-01", "--allow", "3:省厅推荐补报")
    assert run.exit_code == 0, run.output
    assert "已放行 3（从未申报有限公司）" in run.output and "理由：省厅推荐补报" in run.output
    (issued,) = history_of(tmp_path / "r.db", "从未申报有限公司")
    assert issued["kind"] == "issued" and "理由：省厅推荐补报" in issued["reason"] and "第九条" in issued["reason"]
    shown = invoke("register", "verify", "HLJ2017-EN-0002", "--register", tmp_path / "r.db").output
    assert "理由：省厅推荐补报" in shown
    wrong = invoke("certificates", "--winners", winners, "--out", tmp_path / "o2", "--register", tmp_path / "r.db",
                   "--date", "2017-09-01", "--allow", "9:x")
    assert wrong.exit_code != 0 and "--allow 中的 9 不是获奖名单的行号" in wrong.output


def test_one_title_per_enterprise_in_heilongjiang(tmp_path):
    winners = winners_book(tmp_path / "w.xlsx", [("黑龙江飞鹤乳业有限公司", "产品类", "星飞帆奶粉"),
                                                 ("黑龙江飞鹤乳业有限公司", "产品类", "超级飞帆奶粉")])
    run = invoke("certificates", "--winners", winners, "--out", tmp_path / "out", "--register", tmp_path / "r.db",
                 "--date", "2017-09-01")
    assert run.exit_code == 1
    assert "第 3 行（黑龙江飞鹤乳业有限公司）：该企业已获本活动称号（第 2 行），每个企业只能申报一项（通知第三条）" in run.output
    # A later run cannot add a second title either: the register answers.
    more = winners_book(tmp_path / "w2.xlsx", [("黑龙江飞鹤乳业有限公司", "企业类", None)])
    again = invoke("certificates", "--winners", more, "--out", tmp_path / "o2", "--register", tmp_path / "r.db",
                   "--date", "2017-09-01")
    assert again.exit_code != 0 and "该企业已获本活动称号（HLJ2017-CP-0001）" in again.output


def test_the_national_quota_of_ten_a_year(tmp_path):
    rows = [(f"标杆企业{n:02d}有限公司", "企业类", None) for n in range(1, 13)]
    winners = winners_book(tmp_path / "w.xlsx", rows)
    run = invoke("certificates", "--program", "national", "--winners", winners, "--out", tmp_path / "out",
                 "--register", tmp_path / "r.db")
    assert run.exit_code == 1, run.output
    with register.connect(tmp_path / "r.db") as conn:
        assert len(register.entries(conn)) == 10
    assert "第 12 行（标杆企业11有限公司）：本年度名额已满（每年不超过 10 个，已颁发 10 个）（第五条）" in run.output
    assert "第 13 行（标杆企业12有限公司）" in run.output


def test_a_guangdong_list_with_one_name_column_prints_its_teams_and_enterprises(tmp_path):
    book = Workbook()
    for row in (["姓名", "工作单位", "类别"], ["张三", "广州地铁", "服务明星"], ["客服一班", "广州地铁", "服务明星班组"],
                ["李四", "南方电网", "杰出管理者"], ["广州供电局", None, "服务明星企业"], [None, "某单位", "服务明星"]):
        book.active.append(row)
    book.save(tmp_path / "w.xlsx")
    run = invoke("certificates", "--program", "guangdong-stars", "--winners", tmp_path / "w.xlsx",
                 "--out", tmp_path / "out", "--register", tmp_path / "r.db")
    with register.connect(tmp_path / "r.db") as conn:
        printed = {(e.company, e.category) for e in register.entries(conn)}
    assert printed == {("张三", "star"), ("客服一班", "team"), ("李四", "manager"), ("广州供电局", "enterprise")}
    assert "第 6 行：姓名为空，已跳过" in run.output
    assert run.exit_code == 1  # a skipped row is not a success


def test_a_guangdong_list_in_short_names_prints_every_kind_of_title(tmp_path):
    """Staff write 个人/班组/管理者/企业 for the four titles of 004 第十一条: each resolves to its category (the
    program file's aliases), none is skipped; a name no category knows still is, naming the valid ones."""
    book = Workbook()
    for row in (["姓名", "工作单位", "类别"], ["张三", "广州地铁", "个人"], ["客服一班", "广州地铁", "班组"],
                ["李四", "南方电网", "管理者"], ["广州供电局", None, "企业"], ["王五", "某单位", "先进个人奖"]):
        book.active.append(row)
    book.save(tmp_path / "w.xlsx")
    run = invoke("certificates", "--program", "guangdong-stars", "--winners", tmp_path / "w.xlsx",
                 "--out", tmp_path / "out", "--register", tmp_path / "r.db")
    with register.connect(tmp_path / "r.db") as conn:
        printed = {(e.company, e.category) for e in register.entries(conn)}
    assert printed == {("张三", "star"), ("客服一班", "team"), ("李四", "manager"), ("广州供电局", "enterprise")}
    assert "第 6 行（王五）：类别“先进个人奖”无法识别" in run.output and run.exit_code == 1


# --- the page's certificate action obeys the same rules ---------------------------------------------------------


def test_the_pages_certificate_action_refuses_a_second_title_and_records_an_allowance(tmp_path):
    from datetime import date

    from pipeline.web.app import create_app, site_of
    from test_web_programs import build, client_of, run_job, stage_path

    app = create_app(build("heilongjiang", tmp_path), testing=True)
    ws = site_of(app).ws
    row = next(r for r in ws.applicants(limit=None).items if r.status == "complete")
    for stage in stage_path(ws.flow, row.stage, ws.flow.role("winning")):
        ws.move(row.id, stage, "测试员")
    other = "product" if row.category != "product" else "enterprise"
    with register.connect(ws.engine) as conn:  # an earlier run gave this enterprise a title of the campaign
        register.assign(conn, [register.Winner(row.company_name, other, "另一项目")], program="heilongjiang",
                        campaign=str(ws.campaign.id), prefix="HLJ2017", codes={other: "XX"}, issuer="省质协",
                        today=date(2017, 9, 1), terms=lambda w: register.Terms("用户满意", 2))
    client = client_of(app)
    refused = run_job(app, client, "/awards/certificates")
    assert refused.state != "done" or "未颁发" in refused.message
    said = refused.message + "".join(refused.result.get("problems", []))
    assert f"编号 {row.id}（{row.company_name}）：该企业已获本活动称号（HLJ2017-XX-0001）" in said
    assert "通知第三条" in said and f"--allow {row.id}:理由" in said
    allowed = run_job(app, client, "/awards/certificates", {"allow": f"{row.id}:省质协批准另颁一项"})
    assert allowed.state == "done", allowed.message
    assert allowed.message.startswith("已生成 1 张证书")
    logged = [e for e in ws.audit_log() if e["action"] == "winner_allowed"]
    assert len(logged) == 1 and logged[0]["applicant_id"] == row.id
    assert "省质协批准另颁一项" in json.dumps(logged[0]["detail"], ensure_ascii=False)
