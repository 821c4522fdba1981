"""Review rounds on a national workspace of 12 applicants and 5 experts: the sheets as data, automatic
assignment that respects 推进单位, region and declared conflicts, scores on the command line, a ranking whose
normalised scores equal an independent computation here, the quota of 10, locking and audit, and the documents
(反馈报告, 现场评审报告, 公示名单, 审定记录, the workbook and the 评审结果汇总表)."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta

import chinese_calendar
import docx
import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import review_workspace as rw
from pipeline.cli import cli
from pipeline.common.errors import UserError
from pipeline.definitions.programs import load_program, validate_program

pytestmark = pytest.mark.xdist_group("review")

STAFF = "活动办公室"
#: A day the publicity starts (a Friday before the National Day week of 2025: holidays and a working Sunday inside).
PUBLICITY_START = date(2025, 9, 26)


def points_for(sheet, expert_n: int, applicant_id: int) -> list[float]:
    """Given a sheet, an expert's index and an applicant, return the points that expert gives: each expert has a
    scale of their own (a harsh and a lenient one), applicants differ, and no two totals tie."""
    share = 0.55 + 0.03 * ((applicant_id * 7) % 12) + 0.05 * (expert_n - 2) + 0.002 * applicant_id
    share = min(share, 1.0)
    return [round(c.max * share * 2) / 2 for c in sheet.criteria]


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The national workspace with the 12 applicants received, built once."""
    return rw.build(tmp_path_factory.mktemp("review-national"))


@pytest.fixture(scope="module")
def ws_dir(built, tmp_path_factory):
    """A copy of the built workspace, its applicants moved to 资料评审, the panel added, 李明's conflict declared."""
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    root = tmp_path_factory.mktemp("review-cli") / "ws"
    shutil.copytree(built, root)
    with Workspace.open(root) as ws:
        for row in ws.applicants(limit=None).items:
            ws.move(row.id, "资料评审", by=STAFF)
        for name, unit, region in rw.EXPERTS:
            review.add_expert(ws, "material", name, unit, region, by=STAFF)
        review.declare_conflict(ws, "material", "李明", ids_by_name(ws)[rw.APPLICANTS[rw.CONFLICT][0]],
                                "曾任该公司质量顾问", by="李明")
    return root


def ids_by_name(ws) -> dict[str, int]:
    return {r.company_name: r.id for r in ws.applicants(limit=None).items}


def run(*args) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args], env={"MANYI_USER": STAFF})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_sheets_are_the_program_files():
    national, liaoning, heilongjiang = (load_program(p) for p in ("national", "liaoning", "heilongjiang"))
    material = national.review_round("material")
    assert material.stage == "资料评审" and material.keep == 10  # 第五条: at most 10 a year
    assert abs(sum(c.weight for c in material.sheet.criteria) - 1) < 1e-9
    assert [m.label for m in material.sheet.comments] == ["优势", "不足"]
    assert "T/CAQ 10301-2016" in material.sheet.standard
    assert [m.label for m in national.review_round("site").sheet.comments] == ["现场评审意见", "存在的问题"]
    assert liaoning.review_rounds()[0].stage == "审查评议"
    assert heilongjiang.review_rounds() == ()  # no scored round: opinion + recommend
    assert validate_program(national) == [] and validate_program(liaoning) == []
    full = {c.id: c.max for c in material.sheet.criteria}
    assert material.sheet.total(full) == 100
    with pytest.raises(UserError, match="轮次"):
        national.review_round("nonexistent")


def test_manyi_programs_lists_the_rounds():
    out = run("programs")
    assert "评审轮次 material（资料评审，资料评审阶段，第十七条、第十八条）：评分 6 项，每份 3 位专家，名额 10 个" in out
    assert "评审轮次 review（审查评议" in out


def test_a_bad_sheet_is_refused_in_chinese():
    from pipeline.definitions.review_rounds import rounds_of

    program = load_program("national")
    data = json.loads(json.dumps(program.data))
    data["review_rounds"]["material"]["sheet"]["criteria"][0]["weight"] = 0.5
    broken = type(program)(id=program.id, name=program.name, categories=program.categories,
                           criteria=program.criteria, data=data)
    with pytest.raises(UserError, match="权重之和应为 1"):
        rounds_of(broken)


def test_a_sheet_filled_wrong_names_each_mistake():
    sheet = load_program("national").review_round("material").sheet
    points = {c.id: c.max for c in sheet.criteria}
    points[sheet.criteria[0].id] = sheet.criteria[0].max + 1
    points[sheet.criteria[1].id] = "很好"
    with pytest.raises(UserError) as raised:
        sheet.check(points, {"strengths": "理念先进", "weaknesses": " "})
    text = str(raised.value)
    assert sheet.criteria[0].name in text and sheet.criteria[1].name in text and "不足" in text


def test_automatic_assignment_respects_unit_region_and_conflicts(ws_dir):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    out = run("review", "assign", ws_dir, "material", "--auto")
    assert "王芳：分配" in out
    with Workspace.open(ws_dir) as ws:
        ids = ids_by_name(ws)
        rows = [a for a in review.assignments_of(ws, "material") if a["state"] == review.ACTIVE]
    experts_of: dict[int, set[str]] = {}
    for a in rows:
        experts_of.setdefault(a["applicant_id"], set()).add(a["expert"])
    assert len(experts_of) == 12 and all(len(e) == 3 for e in experts_of.values())
    beijing = [ids[name] for name, unit, _ in rw.APPLICANTS if unit == "北京市质量协会"]
    assert len(beijing) == 2 and all("王芳" not in experts_of[i] for i in beijing)
    assert "李明" not in experts_of[ids[rw.APPLICANTS[rw.CONFLICT][0]]]
    assert "张伟" not in experts_of[ids["沪上示范电器有限公司"]]
    loads = [sum(name in e for e in experts_of.values()) for name, _, _ in rw.EXPERTS]
    assert max(loads) - min(loads) <= 1 and sum(loads) == 36


def test_a_hand_assignment_against_the_rules_is_refused(ws_dir):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    with Workspace.open(ws_dir) as ws:
        beijing = ids_by_name(ws)["北方示范电器有限公司"]
        with pytest.raises(UserError, match="同属推进单位"):
            review.assign(ws, "material", "王芳", [beijing], by=STAFF)


def test_a_conflict_declared_after_assignment_recuses_and_replaces(ws_dir):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    with Workspace.open(ws_dir) as ws:
        review.auto_assign(ws, "material", by=STAFF)  # as the assignment test does (a second pass changes nothing)
        target = next(a for a in review.assignments_of(ws, "material") if a["expert"] == "陈刚")["applicant_id"]
        before = {a["expert"] for a in review.assignments_of(ws, "material")
                  if a["applicant_id"] == target and a["state"] == review.ACTIVE}
    out = run("review", "conflict", ws_dir, "material", "陈刚", target, "--reason", "亲属在该单位任职")
    with Workspace.open(ws_dir) as ws:
        now = {a["expert"]: a["state"] for a in review.assignments_of(ws, "material") if a["applicant_id"] == target}
        again_short = review.auto_assign(ws, "material", by=STAFF)
    assert now["陈刚"] == review.RECUSED
    active = {e for e, s in now.items() if s == review.ACTIVE}
    assert len(active) == 3 and "陈刚" not in active
    (replacement,) = active - before
    assert f"改由 {replacement} 评审" in out
    assert again_short == []  # a second automatic pass changes nothing and never brings 陈刚 back


def test_reminders_name_what_is_due(ws_dir):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    with Workspace.open(ws_dir) as ws:
        review.auto_assign(ws, "material", by=STAFF)  # fills only what is missing: a no-op after the test above
        due = date.fromisoformat(review.assignments_of(ws, "material")[0]["deadline"])
    assert "没有需要提醒" in run("review", "remind", ws_dir, "material", "--date", (due - timedelta(days=10)).isoformat())
    late = run("review", "remind", ws_dir, "material", "--date", (due + timedelta(days=1)).isoformat())
    assert "王芳专家" in late and late.count("已逾期") == sum(1 for a in review_rows(ws_dir) if not a["scored"])


def test_reminders_go_by_mail_once_a_day_when_mail_is_set_up(ws_dir, tmp_path):
    """With the portal's mail set up and experts' addresses on the panel, `review remind` mails one message per
    expert with unscored assignments to a local SMTP server; run again the same day it sends nothing more; an
    expert without an address still gets the text shown."""
    from aiosmtpd.controller import Controller

    from pipeline.workspace import Workspace, mail
    from pipeline.workspace import review
    from test_portal_mail import Inbox, free_port

    root = tmp_path / "ws"
    shutil.copytree(ws_dir, root)
    addresses = {name: f"expert{n}@example.cn" for n, (name, _, _) in enumerate(rw.EXPERTS) if name != "陈刚"}
    for name, unit, region in rw.EXPERTS:
        run("review", "expert", root, "material", name, *(["--unit", unit] if unit else []),
            *(["--region", region] if region else []), *(["--email", addresses[name]] if name in addresses else []))
    rows = review_rows(root)
    due = max(date.fromisoformat(a["deadline"]) for a in rows) + timedelta(days=1)
    behind = {a["expert"] for a in rows if not a["scored"]}
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with Workspace.open(root) as ws:
            mail.save_settings(ws, mail.Settings(host="127.0.0.1", port=controller.port, security="none",
                                                 sender="xh@example.cn", portal_url="https://sb.example.cn"), by=STAFF)
        first = run("review", "remind", root, "material", "--date", due.isoformat())
        again = run("review", "remind", root, "material", "--date", due.isoformat())
    finally:
        controller.stop()
    got = {m["To"]: m.get_body(("plain",)).get_content() for m in inbox.messages}
    assert len(inbox.messages) == len(got) == len(behind - {"陈刚"})
    assert got.keys() == {addresses[e] for e in behind if e in addresses}
    with Workspace.open(root) as ws:
        names = {r.id: r.company_name for r in ws.applicants(limit=None).items}
    for a in rows:
        if not a["scored"] and a["expert"] in addresses:
            assert names[a["applicant_id"]] in got[addresses[a["expert"]]]
    assert "已发送 0 封" in again and "已发送" in first
    if "陈刚" in behind:
        assert "陈刚专家" in first and "陈刚专家" in again  # no address: the text to paste, as without mail
    with pytest.raises(UserError, match="电子邮箱格式不正确"):
        with Workspace.open(root) as ws:
            review.add_expert(ws, "material", "赵静", None, None, by=STAFF, email="zhaojing at example.cn")


def review_rows(ws_dir) -> list[dict]:
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    with Workspace.open(ws_dir) as ws:
        return [a for a in review.assignments_of(ws, "material") if a["state"] == "active"]


def score_everyone(ws_dir) -> list[tuple[int, str, float]]:
    """Score every active assignment on the command line; return (applicant, expert, total) as the CLI said."""
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    with Workspace.open(ws_dir) as ws:
        sheet = ws.program.review_round("material").sheet
        rows = [a for a in review.assignments_of(ws, "material") if a["state"] == review.ACTIVE]
    order = [name for name, _, _ in rw.EXPERTS]
    done = []
    for a in rows:
        pts = points_for(sheet, order.index(a["expert"]), a["applicant_id"])
        out = run("review", "score", ws_dir, "material", a["applicant_id"], "--expert", a["expert"],
                  "--points", ",".join(f"{p:g}" for p in pts), "--comment", f"优势=第{a['applicant_id']}号的用户导向",
                  "--comment", "不足=测评数据样本偏少")
        total = sum(pts)  # the national sheet's maxima add up to 100 and its weights are max/100
        assert f"总分 {total:g}" in out
        done.append((a["applicant_id"], a["expert"], total))
    return done


def expected_normalised(done: list[tuple[int, str, float]]) -> dict[int, float]:
    """The z-score normalisation computed here with numpy, independently of pipeline.checking.ranking."""
    totals = np.array([t for _, _, t in done])
    grand_mean, grand_sd = totals.mean(), totals.std()
    per_expert = {}
    for e in {e for _, e, _ in done}:
        mine = np.array([t for _, x, t in done if x == e])
        per_expert[e] = (mine.mean(), mine.std())
    rescaled: dict[int, list[float]] = {}
    for aid, e, t in done:
        mean, sd = per_expert[e]
        rescaled.setdefault(aid, []).append(grand_mean + grand_sd * ((t - mean) / sd if sd else 0.0))
    return {aid: float(np.mean(v)) for aid, v in rescaled.items()}


@pytest.fixture(scope="module")
def scored(ws_dir):
    """Every assignment scored on the command line: (applicant, expert, total)."""
    return score_everyone(ws_dir)


def test_blind_round_hides_others_until_one_has_scored(ws_dir, built, tmp_path):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    root = tmp_path / "ws"
    shutil.copytree(ws_dir, root)
    with Workspace.open(root) as ws:
        sheet = ws.program.review_round("material").sheet
        rows = [a for a in review.assignments_of(ws, "material") if a["state"] == review.ACTIVE]
        aid = rows[0]["applicant_id"]
        a, b = [r["expert"] for r in rows if r["applicant_id"] == aid][:2]
        full = {c.id: c.max for c in sheet.criteria}
        words = {"strengths": "好", "weaknesses": "少"}
        review.submit(ws, "material", a, aid, full, words, by=a)
        mine, others = review.visible_scores(ws, "material", b, aid)
        assert mine is None and others == []
        review.submit(ws, "material", b, aid, {**full, sheet.criteria[0].id: 0}, words, by=b)
        mine, others = review.visible_scores(ws, "material", b, aid)
        assert mine["total"] == 100 - sheet.criteria[0].max and [o["expert"] for o in others] == [a]


def test_the_ranking_equals_an_independent_computation_and_keeps_ten(ws_dir, scored):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    expected = expected_normalised(scored)
    with Workspace.open(ws_dir) as ws:
        ranked = review.ranking(ws, "material")
    assert len(ranked) == 12
    for row in ranked:
        assert row.normalised == pytest.approx(expected[row.applicant_id], abs=1e-9)
        raw = [t for aid, _, t in scored if aid == row.applicant_id]
        assert row.raw_mean == pytest.approx(np.mean(raw)) and row.spread == pytest.approx(max(raw) - min(raw))
        assert row.missing == []
    order = sorted(expected, key=lambda aid: -expected[aid])
    assert [r.applicant_id for r in ranked] == order
    assert [r.applicant_id for r in ranked if r.kept] == order[:10]  # 第五条: at most 10
    out = run("review", "rank", ws_dir, "material")
    assert out.count(" 进入下一环节") == 10 and out.count(" 未进入下一环节") == 2
    assert "z 分数" in out and "标准化分相同时" in out  # the method and the tie rule are stated


def test_every_score_change_is_audited_and_closing_locks(ws_dir, scored):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    aid, expert, total = scored[0]
    with Workspace.open(ws_dir) as ws:
        sheet = ws.program.review_round("material").sheet
        order = [name for name, _, _ in rw.EXPERTS]
        pts = points_for(sheet, order.index(expert), aid)
        kept = dict(zip((c.id for c in sheet.criteria), pts))
        review.submit(ws, "material", expert, aid, kept, {"strengths": "复核后无变化", "weaknesses": "同前"}, by=expert)
        lines = [line for line in ws.audit_log(applicant_id=aid, limit=50) if line["action"] == "修改评分"]
    assert lines, "a changed score leaves an audit line"
    detail = lines[0]["detail"] if isinstance(lines[0]["detail"], dict) else json.loads(lines[0]["detail"])
    assert detail["before"]["comments"]["strengths"] == f"第{aid}号的用户导向"
    assert detail["comments"]["strengths"] == "复核后无变化" and detail["total"] == total
    progress = run("review", "progress", ws_dir, "material")
    assert "未评 0" in progress and "未评 1" not in progress


def test_documents_of_the_rounds(ws_dir, scored, tmp_path):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    run("review", "close", ws_dir, "material")
    result = CliRunner().invoke(cli, ["review", "score", str(ws_dir), "material", str(scored[0][0]), "--expert",
                                      scored[0][1], "--points", "1,1,1,1,1,1"])
    assert result.exit_code == 2 and "已锁定" in result.output
    out = tmp_path / "material"
    run("review", "reports", ws_dir, "material", "--out", out, "--date", "2025-09-20")
    with Workspace.open(ws_dir) as ws:
        ranked = review.ranking(ws, "material")
        names = {r.id: r.company_name for r in ws.applicants(limit=None).items}
    left_out = [names[r.applicant_id] for r in ranked if not r.kept]
    feedback = sorted((out / "反馈报告").glob("*.docx"))
    assert sorted(p.stem.split("-", 1)[1] for p in feedback) == sorted(left_out)
    text = "\n".join(p.text for p in docx.Document(str(feedback[0])).paragraphs)
    assert "优势" in text and "不足" in text and "用户导向" in text and "测评数据样本偏少" in text
    assert not any(name in text for name, _, _ in rw.EXPERTS)  # the applicant reads what was said, not who said it
    book = load_workbook(out / "资料评审评分排名.xlsx", read_only=True)
    rows = list(book["排名"].iter_rows(values_only=True))
    header = rows[0]
    assert len(rows) == 13 and sum(r[header.index("结果")] == "进入下一环节" for r in rows[1:]) == 10
    expected = expected_normalised(scored)
    for r in rows[1:]:
        aid = int(r[header.index("编号")][1:])
        assert r[header.index("标准化分")] == pytest.approx(round(expected[aid], 2))
    summary = docx.Document(str(out / "评审结果汇总表-资料评审.docx"))
    assert summary.paragraphs[0].text == "全国用户满意标杆评审结果汇总表（资料评审）"
    assert len(summary.tables[0].rows) == 13


def test_site_visits_publicity_and_approval(ws_dir, scored, tmp_path):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    with Workspace.open(ws_dir) as ws:
        kept = [r.applicant_id for r in review.ranking(ws, "material") if r.kept]
        for aid in kept:
            ws.move(aid, "现场评审", by=STAFF)
        for name, unit, region in rw.EXPERTS:
            review.add_expert(ws, "site", name, unit, region, by=STAFF)
        assert review.auto_assign(ws, "site", by=STAFF) == []
        sheet = ws.program.review_round("site").sheet
        for a in review.assignments_of(ws, "site"):
            review.submit(ws, "site", a["expert"], a["applicant_id"], {c.id: c.max * 0.8 for c in sheet.criteria},
                          {"opinion": f"{a['expert']}：现场管理规范", "problems": "投诉处理记录不全"}, by=a["expert"])
        paths = review.round_reports(ws, "site", tmp_path / "site")
        visited = sorted((tmp_path / "site" / "现场评审报告").glob("*.docx"))
        assert len(visited) == 10 and all(p in paths for p in visited)
        text = "\n".join(p.text for p in docx.Document(str(visited[0])).paragraphs)
        assert "评审专家组：" in text and "现场评审意见" in text and "投诉处理记录不全" in text
        for aid in kept:  # 第二十条 综合评价, then 第二十一条 公示
            ws.move(aid, "综合评价", by=STAFF, on=PUBLICITY_START)
            ws.move(aid, "公示（7 个工作日）", by=STAFF, on=PUBLICITY_START)
        end = ws.flow.publicity.end(PUBLICITY_START)
        ws.move(kept[0], "审定", by=STAFF, on=end + timedelta(days=1))  # 第二十二条
        ws.move(kept[0], "发布", by=STAFF, on=end + timedelta(days=1))
        review.decision_documents(ws, tmp_path / "decided", PUBLICITY_START)
        names = {r.id: r.company_name for r in ws.applicants(limit=None).items}
    # 7 working days counted here on the calendar package directly
    day, counted = PUBLICITY_START, 0
    while True:
        counted += chinese_calendar.is_workday(day)
        if counted == 7:
            break
        day += timedelta(days=1)
    assert end == day
    listed = docx.Document(str(tmp_path / "decided" / "公示名单.docx"))
    body = "\n".join(p.text for p in listed.paragraphs)
    assert f"{day.year}年{day.month}月{day.day}日" in body and "7 个工作日" in body
    assert len(listed.tables[0].rows) == 1 + 9  # the one already approved is out of publicity
    record = docx.Document(str(tmp_path / "decided" / "审定记录.docx"))
    cells = {row.cells[1].text: row.cells[3].text for row in record.tables[0].rows[1:]}
    assert cells[names[kept[0]]] == "审定通过" and sum(v == "待审定" for v in cells.values()) == 9
    assert "审定委员会" in "\n".join(p.text for p in record.paragraphs)


def test_heilongjiang_approval_opinion_is_filled_from_the_decision(tmp_path):
    from pipeline.common.resources import SAMPLES
    from pipeline.definitions.programs import resolve_campaign
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)) as ws:
        receive(ws, [SAMPLES / "inbox"], received=ws.campaign.deadline, jobs=1)
        complete = [r for r in ws.applicants(limit=None).items if r.stage == "材料齐全"]
        winner, loser = complete[:2]
        for stage in ("已推荐", "评审", "公示", "获奖"):
            ws.move(winner.id, stage, by=STAFF)
        for stage in ("已推荐", "评审", "未获奖"):
            ws.move(loser.id, stage, by=STAFF)
    out = run("review", "decisions", tmp_path / "ws", "--out", tmp_path / "out", "--date", "2017-08-01")
    assert "审定意见" in out and "公示名单" not in out  # Heilongjiang's file sets no publicity period
    approval = load_program("heilongjiang").get("review_approval")

    def text_of(name):
        document = docx.Document(str(tmp_path / "out" / "审定意见" / f"{name}.docx"))
        return "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)

    won, lost = text_of(winner.company_name), text_of(loser.company_name)
    assert approval["passed"] in won and approval["refused"] not in won
    assert approval["refused"] in lost and winner.company_name in won
    assert "{{" not in won and "86.5" in won  # the rest of the form as the record holds it
    record = docx.Document(str(tmp_path / "out" / "审定记录.docx"))
    assert [row.cells[1].text for row in record.tables[0].rows[1:]] == [winner.company_name]


def test_the_rounds_travel_with_workspace_export(ws_dir, scored, tmp_path):
    from pipeline.workspace import Workspace
    from pipeline.workspace import review
    from pipeline.workspace.transfer import export, import_

    with Workspace.open(ws_dir) as ws:
        before = (review.scores_of(ws, "material"), review.declared(ws, "material"), review.panel(ws, "material"),
                  review.assignments_of(ws, "material"), review.closed(ws, "material"))
        export(ws, tmp_path / "campaign.zip")
    with import_(tmp_path / "campaign.zip", tmp_path / "moved") as moved:
        after = (review.scores_of(moved, "material"), review.declared(moved, "material"),
                 review.panel(moved, "material"), review.assignments_of(moved, "material"),
                 review.closed(moved, "material"))
        review.declare_conflict(moved, "site", "赵静", None, "新近受聘", by="赵静", unit="浙江省质量协会")
    assert after == before and len(after[0]) == 36


def test_a_backup_keeps_the_rounds_and_restores_them(ws_dir, scored, tmp_path):
    """`ws.backup()` (taken before every migration) holds the review's tables as an export does: loaded into a new
    database with the loaders `workspace import` uses, the scores and assignments come back row for row. A
    workspace made before the experts' e-mail column is backed up (without it) and then given it."""
    import sqlalchemy as sa

    from pipeline.workspace import Workspace, db
    from pipeline.workspace import review

    def rows(engine, name):
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {name}"))

    with Workspace.open(ws_dir) as ws:
        target = ws.backup()
        kept = {t: rows(ws.engine, t) for t in ("review_scores", "review_assignments", "review_experts")}
    assert len(kept["review_scores"]) >= 36 and kept["review_assignments"]
    restored = sa.create_engine(f"sqlite:///{tmp_path / 'restored.db'}")
    db.migrate(restored)
    lines = target.read_text(encoding="utf-8").splitlines()
    with restored.begin() as conn:
        db.load(conn, lines)
        review.load(conn, lines)
    assert {t: rows(restored, t) for t in kept} == kept
    restored.dispose()
    from pipeline.workspace import core

    with Workspace.open(ws_dir) as ws, pytest.MonkeyPatch.context() as mp:
        mp.setattr(core.time, "strftime", lambda *_: "20250101-000000")  # two backups within one second
        first, second = ws.backup(), ws.backup()
    assert first != second and first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")

    old = tmp_path / "old"
    shutil.copytree(ws_dir, old)
    with Workspace.open(old) as ws:
        with ws.engine.begin() as conn:  # as a workspace of the first review schema: no e-mail column
            conn.exec_driver_sql("ALTER TABLE review_experts DROP COLUMN email")
            db.set_meta(conn, review.REVIEW_KEY, "1")
        before = set((old / "backups").glob("*.jsonl")) if (old / "backups").is_dir() else set()
        assert [p["email"] for p in review.panel(ws, "material")] == [None] * len(rw.EXPERTS)
    (backup,) = set((old / "backups").glob("*.jsonl")) - before  # a new file, even within the same second
    tables = [json.loads(line)["table"] for line in backup.read_text(encoding="utf-8").splitlines()]
    assert tables.count("review_scores") == len(kept["review_scores"])
    assert tables.count("review_experts") == len(kept["review_experts"])
