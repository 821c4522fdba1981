"""The program's stage rules hold in the workspace library (so on the command line and the page alike):
open errors keep an applicant out of the complete stage and after; 公示 lasts its working days on the
Chinese calendar; any open stage can be withdrawn or closed as ineligible; opinions lock after the decision."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.common.errors import UserError
from pipeline.definitions.programs import load_program, resolve_campaign
from pipeline.definitions.vocabulary import IssueCode

pytestmark = pytest.mark.xdist_group("workspace")

FLAWED, GOOD = "松花江电器有限公司", "兴安岭食品有限公司"
PUBLICITY = "公示（7 个工作日）"

# The 2021 National Day arrangement as the State Council published it, written out by hand for the test:
# 10月1日至7日放假调休，9月26日（星期日）、10月9日（星期六）上班.
HOLIDAYS_2021 = {date(2021, 10, d) for d in range(1, 8)}
ADJUSTED_WORKDAYS_2021 = {date(2021, 9, 26), date(2021, 10, 9)}


def working_2021(day: date) -> bool:
    """Given a day of autumn 2021, return whether it was a working day (by the hand list above)."""
    if day in HOLIDAYS_2021:
        return False
    return day in ADJUSTED_WORKDAYS_2021 or day.weekday() < 5


def seventh_working_day(start: date) -> date:
    """Given the first day of 公示, return the 7th working day counting it (by the hand list)."""
    day, n = start, 0
    while True:
        n += working_2021(day)
        if n == 7:
            return day
        day += timedelta(days=1)


@pytest.fixture(scope="module")
def hlj(tmp_path_factory):
    """A 黑龙江 workspace folder with two product applicants: one filed as a series (an error), one complete."""
    from corpus import packet_values, report_docx, template_packet
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    root = tmp_path_factory.mktemp("rules")
    for company, model in ((FLAWED, "BCD 全系列"), (GOOD, "KFR-35GW")):
        folder = root / "inbox" / company
        folder.mkdir(parents=True)
        template_packet(folder / "申报材料.docx", "product",
                        packet_values("product", company=company, application__product_model=model))
        report_docx(folder / "实施用户满意工程情况的报告.docx", company)
    with Workspace.init(root / "ws", resolve_campaign("heilongjiang", None)) as ws:
        receive(ws, [root / "inbox"], jobs=1)
    return root / "ws"


def fresh(hlj: Path, tmp_path: Path):
    """Given the module's workspace folder, return an opened copy of it (each test moves its own applicants)."""
    import shutil

    from pipeline.workspace import Workspace

    shutil.copytree(hlj, tmp_path / "ws")
    return Workspace.open(tmp_path / "ws")


def test_open_errors_keep_an_applicant_out_of_the_complete_stage_and_after(hlj, tmp_path):
    with fresh(hlj, tmp_path) as ws:
        aid = ws.find(FLAWED)
        assert ws.applicant(aid).row.stage == "需补正"
        with pytest.raises(UserError) as refused:
            ws.move(aid, "材料齐全", by="王敏")
        said = str(refused.value)
        assert IssueCode.SERIES_PRODUCT.label in said and "series_product" not in said and "未处理" in said
        assert ws.applicant(aid).row.stage == "需补正"
        ws.decide(aid, "series_product", kind="waive", note="型号已电话核实", by="王敏")
        assert ws.applicant(aid).row.stage == "材料齐全"  # a decision on each error opens the way


def test_a_closing_stage_takes_an_applicant_with_errors(hlj, tmp_path):
    with fresh(hlj, tmp_path) as ws:
        aid = ws.find(FLAWED)
        ws.move(aid, "撤回", by="王敏", note="申报单位来函撤回")
        detail = ws.applicant(aid)
        assert detail.row.stage == "撤回" and detail.next_stages == []
        assert aid in [r.id for r in ws.applicants(limit=None).items]  # nothing deleted


def test_an_ineligible_applicant_is_closed_with_its_article_from_any_open_stage(hlj, tmp_path):
    with fresh(hlj, tmp_path) as ws:
        aid = ws.find(GOOD)
        assert ws.applicant(aid).row.stage == "材料齐全"
        assert {"撤回", "不符合条件"} <= set(ws.applicant(aid).next_stages)
        with pytest.raises(UserError, match="条款"):
            ws.move(aid, "不符合条件", by="王敏", note="不符合")
        ws.move(aid, "不符合条件", by="王敏", note="不符合第四条：投产不满三年")
        assert ws.applicant(aid).row.stage == "不符合条件"
        with pytest.raises(UserError, match="最终阶段"):
            ws.move(aid, "已推荐", by="王敏")


def test_the_closing_stages_are_in_every_program():
    from pipeline.definitions.programs import all_programs
    from pipeline.definitions.stages import workflow_of

    for program in all_programs():
        flow = workflow_of(program)
        for stage in flow.stages:
            if not stage.final:
                assert {"撤回", "不符合条件"} <= set(stage.next), (program.id, stage.name)


def test_opinions_are_locked_once_the_decision_is_made(hlj, tmp_path):
    with fresh(hlj, tmp_path) as ws:
        aid = ws.find(GOOD)
        for stage in ("已推荐", "评审"):
            ws.move(aid, stage, by="李强")
        ws.opinion(aid, "同意推荐", by="张评审", recommend=True)
        ws.move(aid, "公示", by="李强")
        ws.move(aid, "获奖", by="李强")
        with pytest.raises(UserError, match="锁定"):
            ws.opinion(aid, "改为不推荐", by="张评审", recommend=False)
        opinions = [d for d in ws.applicant(aid).decisions if d["kind"] == "opinion"]
        assert [o["note"] for o in opinions] == ["同意推荐"]


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """A national workspace folder with one complete applicant in the program's complete stage."""
    from program_packets import write_filled
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    root = tmp_path_factory.mktemp("national")
    cid = next(iter(load_program("national").categories))
    write_filled("national", cid, root / "inbox" / cid)
    with Workspace.init(root / "ws", resolve_campaign("national", None)) as ws:
        receive(ws, [root / "inbox"], received=ws.campaign.deadline, jobs=1)
        (row,) = ws.applicants(limit=None).items
        assert row.stage == ws.flow.role("complete")
        for stage in ("资料评审", "现场评审", "综合评价"):
            ws.move(row.id, stage, by="测试")
    return root / "ws"


def test_publicity_lasts_seven_working_days_across_national_day(national, tmp_path):
    start = date(2021, 9, 28)
    end = seventh_working_day(start)
    assert end > date(2021, 10, 8)  # the holiday lengthens the period past a plain count
    with fresh(national, tmp_path) as ws:
        (row,) = ws.applicants(limit=None).items
        ws.move(row.id, PUBLICITY, by="测试", on=start)
        with pytest.raises(UserError) as refused:
            ws.move(row.id, "审定", by="测试", on=end)
        assert end.isoformat() in str(refused.value) and "公示期未满" in str(refused.value)
        ws.move(row.id, "审定", by="测试", on=end + timedelta(days=1))
        assert ws.applicant(row.id).row.stage == "审定"


def test_publicity_on_the_command_line_with_its_date(national, tmp_path):
    import shutil

    shutil.copytree(national, tmp_path / "ws")
    ws = tmp_path / "ws"
    run = CliRunner().invoke(cli, ["list", str(ws)])
    name = next(line.split("\t")[1] for line in run.output.splitlines() if "\t" in line)
    runner = CliRunner()
    moved = runner.invoke(cli, ["stage", str(ws), name, "--to", PUBLICITY, "--date", "2021-09-28", "--by", "测试"])
    assert moved.exit_code == 0, moved.output
    early = runner.invoke(cli, ["stage", str(ws), name, "--to", "审定", "--date", "2021-10-08", "--by", "测试"])
    assert early.exit_code != 0 and "公示期未满" in early.output
    # An objection during 公示 may still close the applicant.
    closed = runner.invoke(cli, ["stage", str(ws), name, "--to", "未通过", "--date", "2021-10-08", "--by", "测试"])
    assert closed.exit_code == 0, closed.output


def test_a_day_beyond_the_calendar_is_refused_not_guessed(national, tmp_path):
    import chinese_calendar

    beyond = max(chinese_calendar.holidays) + timedelta(days=400)
    with fresh(national, tmp_path) as ws:
        (row,) = ws.applicants(limit=None).items
        ws.move(row.id, PUBLICITY, by="测试", on=beyond)
        with pytest.raises(UserError, match=f"没有 {beyond.year} 年"):
            ws.move(row.id, "审定", by="测试", on=beyond + timedelta(days=30))


# --- times are shown in the association's time zone, never UTC ---------------------------------------------------


def stored_stamps(root: Path, sql: str) -> list[str]:
    """Given a workspace folder and a query, return the stamps exactly as the database stores them (UTC)."""
    import sqlite3

    with sqlite3.connect(root / "workspace.db") as conn:
        return [row[0] for row in conn.execute(sql)]


def as_seen(stamp: str, hours: int) -> str:
    """Given a stored UTC stamp and a zone's offset in hours, return it as staff should read it (YYYY-MM-DD HH:MM)."""
    from datetime import datetime, timezone

    moment = datetime.fromisoformat(stamp).astimezone(timezone.utc) + timedelta(hours=hours)
    return moment.strftime("%Y-%m-%d %H:%M")


def test_show_and_the_page_give_times_in_the_campaigns_zone_and_the_received_date(hlj, tmp_path):
    from pipeline.web.app import create_app

    fresh(hlj, tmp_path).close()
    root = tmp_path / "ws"
    CliRunner().invoke(cli, ["stage", str(root), GOOD, "--to", "撤回", "--note", "企业来函撤回", "--by", "张三"])
    received = stored_stamps(root, "select received_at from versions order by id")[-1]
    moved = stored_stamps(root, "select at from stage_moves order by id")[-1]
    shown = CliRunner().invoke(cli, ["show", str(root), GOOD]).output
    assert f"存入于 {as_seen(received, 8)}" in shown and f"张三，{as_seen(moved, 8)}）企业来函撤回" in shown, shown
    assert "收件日期 " in shown and "+00:00" not in shown
    client = create_app(root, testing=True).test_client()
    (aid,) = [line.split()[0] for line in shown.splitlines()[:1]]
    page = client.get(f"/applicants/{aid}").get_data(as_text=True)
    assert as_seen(moved, 8) in page and as_seen(moved, 0) not in page
    audit = client.get("/audit").get_data(as_text=True)
    assert as_seen(moved, 8) in audit and "UTC" not in audit
    # the zone is the campaign's setting: a campaign kept in Ürümqi time (UTC+6) shows the same move two hours earlier
    copy = root / "campaign.yaml"
    copy.write_text(copy.read_text(encoding="utf-8") + "\ntime_zone: Asia/Urumqi\n", encoding="utf-8")
    assert f"张三，{as_seen(moved, 6)}）" in CliRunner().invoke(cli, ["show", str(root), GOOD]).output


def test_a_time_zone_that_does_not_exist_is_refused_naming_its_line(tmp_path):
    from pipeline.definitions.campaign import load_campaign

    source = resolve_campaign("heilongjiang", None).path.read_text(encoding="utf-8")
    bad = tmp_path / "c.yaml"
    bad.write_text(source + "\ntime_zone: 北京时间\n", encoding="utf-8")
    line = len(source.splitlines()) + 2
    with pytest.raises(UserError, match=f"第 {line} 行 time_zone 不是时区名称（如 Asia/Shanghai）：北京时间"):
        load_campaign(bad)
