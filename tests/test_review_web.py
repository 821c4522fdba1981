"""The review pages on the national workspace of 12 applicants: an expert signs in and lands on their
reviews, opens an assigned applicant's documents and is refused another's, scores in a real browser (Playwright on
Debian's chromium), declares a conflict and is replaced; staff see per-expert progress, a paged list by stage and
the ranking; a closed round shows the sheet locked."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

import review_workspace as rw
from pipeline.web.app import create_app, site_of
from pipeline.web.auth import hash_password

pytestmark = pytest.mark.xdist_group("review")

LAN = "192.0.2.10"  # configured as on a LAN, so everyone signs in
PASSWORD = "correct horse battery"
STAFF = "活动办公室"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The page over a fresh national workspace: applicants in 资料评审, the panel with accounts, assigned."""
    from pipeline.workspace import Workspace
    from pipeline.workspace import review

    root = tmp_path_factory.mktemp("review-web")
    ws_dir = rw.build(root)
    with Workspace.open(ws_dir) as ws:
        for row in ws.applicants(limit=None).items:
            ws.move(row.id, "资料评审", by=STAFF)
        for name, unit, region in rw.EXPERTS:
            review.add_expert(ws, "material", name, unit, region, by=STAFF)
        review.declare_conflict(ws, "material", "李明", by_name(ws)[rw.APPLICANTS[rw.CONFLICT][0]], "曾任顾问", by="李明")
        assert review.auto_assign(ws, "material", by=STAFF) == []
    application = create_app(ws_dir, host=LAN, testing=True)
    store = site_of(application).store
    store.add_user(STAFF, "staff", hash_password(PASSWORD))
    for name, _, _ in rw.EXPERTS:
        store.add_user(name, "reviewer", hash_password(PASSWORD))
    return application


def by_name(ws) -> dict[str, int]:
    return {r.company_name: r.id for r in ws.applicants(limit=None).items}


def signed_in(app, name: str):
    client = app.test_client()
    page = client.get("/login").data.decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf})
    assert answer.status_code == 302
    return client, answer


def csrf_of(client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).data.decode()).group(1)


def mine_and_not(app, expert: str) -> tuple[list[int], list[int]]:
    from pipeline.workspace import review

    ws = site_of(app).ws
    mine = sorted(review.assigned_ids(ws, expert))
    others = sorted(set(by_name(ws).values()) - set(mine))
    return mine, others


def test_an_expert_lands_on_their_reviews_and_sees_only_theirs(app):
    client, answer = signed_in(app, "王芳")
    landing = client.get(answer.headers["Location"], follow_redirects=True)
    assert landing.status_code == 200 and "我的评审" in landing.data.decode()
    page = landing.data.decode()
    mine, others = mine_and_not(app, "王芳")
    names = {v: k for k, v in by_name(site_of(app).ws).items()}
    assert all(names[i] in page for i in mine) and not any(names[i] in page for i in others)
    assert "北方示范电器有限公司" not in page  # her own 推进单位's applicant is never hers
    filtered = client.get("/rounds?stage=资格审查").data.decode()
    assert not any(names[i] in filtered for i in mine)  # the stage filter: none of hers is in 资格审查


def test_an_expert_opens_an_assigned_applicants_documents_and_is_refused_anothers(app):
    ws = site_of(app).ws
    client, _ = signed_in(app, "赵静")
    mine, others = mine_and_not(app, "赵静")
    own, other = ws.applicant(mine[0]), ws.applicant(others[0])
    sha = own.versions[-1].files[0]["sha256"]
    got = client.get(f"/applicants/{own.id}/files/{sha}")
    assert got.status_code == 200 and got.data
    assert client.get(f"/applicants/{own.id}/record.json").status_code == 200
    sheet = client.get(f"/rounds/material/score/{own.id}").data.decode()
    assert f"/applicants/{own.id}/files/{sha}" in sheet and "工作人员的处理" in sheet and "申报材料" in sheet
    other_sha = other.versions[-1].files[0]["sha256"]
    assert client.get(f"/applicants/{other.id}/files/{other_sha}").status_code == 404
    assert client.get(f"/applicants/{other.id}/record.json").status_code == 404
    assert client.get(f"/rounds/material/score/{other.id}").status_code == 404
    assert client.get("/rounds/material").status_code == 403  # the staff's round page
    assert client.get("/applicants").status_code == 403


def test_an_expert_starts_the_previews_of_an_assigned_applicant_only(app, monkeypatch):
    """The scoring page offers the page previews; the expert's job renders that applicant's latest files (the
    renderer replaced here by one that writes a page per file: LibreOffice's rendering is tested on the staff
    page), the pages then show on the sheet; another applicant's previews are not found."""
    from pipeline.workspace import previews

    asked = []

    def fake(store, files, cache, work, progress=None):
        for sha, _ in files:
            folder = previews.preview_dir(cache, sha)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "1.png").write_bytes(b"\x89PNG\r\n\x1a\n")
            asked.append(sha)
        return f"已生成 {len(files)} 页预览"

    monkeypatch.setattr(previews, "make_previews", fake)
    ws = site_of(app).ws
    client, _ = signed_in(app, "陈刚")
    mine, others = mine_and_not(app, "陈刚")
    own = ws.applicant(mine[0])
    sheet = client.get(f"/rounds/material/score/{own.id}").data.decode()
    assert 'id="make-previews"' in sheet and "生成页面预览" in sheet
    token = csrf_of(client, f"/rounds/material/score/{own.id}")
    answer = client.post(f"/rounds/material/previews/{own.id}", data={"csrf": token})
    assert answer.status_code == 302
    runner = site_of(app).runner
    job = runner.wait(runner.get(answer.location.rsplit("/", 1)[-1]), seconds=60)
    assert job.state == "done", job.message
    assert client.get(answer.location).status_code == 200  # the expert sees their own job
    assert sorted(asked) == sorted(f["sha256"] for f in own.versions[-1].files)
    sha = own.versions[-1].files[0]["sha256"]
    sheet = client.get(f"/rounds/material/score/{own.id}").data.decode()
    assert f"/applicants/{own.id}/preview/{sha}/1.png" in sheet and 'id="make-previews"' not in sheet
    assert client.get(f"/applicants/{own.id}/preview/{sha}/1.png").status_code == 200
    assert client.post(f"/rounds/material/previews/{others[0]}", data={"csrf": token}).status_code == 404


def test_the_opinions_tally_is_paged_by_stage_with_each_reviewers_progress(app, monkeypatch):
    """The 评审 page a 'tally' permission sees: a page at a time (never all applicants), a stage filter, each
    reviewer's progress (assigned, opinions given) and, the national program having rounds, the way to them."""
    from pipeline.web import campaign_pages

    monkeypatch.setattr(campaign_pages, "TALLY_PAGE", 5)
    ids = sorted(by_name(site_of(app).ws).values())
    staff, _ = signed_in(app, STAFF)
    token = csrf_of(staff, "/review")
    assert staff.post("/review/assign", data={"reviewer": "陈刚", "ids": [str(ids[0]), str(ids[1])],
                                              "csrf": token}).status_code == 302
    expert, _ = signed_in(app, "陈刚")
    said = expert.post(f"/review/{ids[0]}", data={"opinion": "资料齐全，推荐", "recommend": "yes", "score": "",
                                                  "csrf": csrf_of(expert, f"/review/{ids[0]}")})
    assert said.status_code == 302
    with site_of(app).ws.reader.connect() as conn:  # the opinion's stored time (UTC), shown in Asia/Shanghai
        at = conn.exec_driver_sql("SELECT at FROM decisions WHERE kind = 'opinion' AND by = '陈刚' "
                                  "ORDER BY id DESC").scalar()
    stored = datetime.fromisoformat(at)
    stored = stored if stored.tzinfo else stored.replace(tzinfo=timezone.utc)
    shown = stored.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    again = expert.get(f"/review/{ids[0]}").data.decode().split("我此前的意见")[1]
    assert shown in again.split("</ul>")[0]

    def rows_of(page):
        return re.findall(r'<td>(\d+)</td><td><a href="/applicants/', page.split('id="tally"')[1].split("</table>")[0])

    first = staff.get("/review").data.decode()
    assert [int(x) for x in rows_of(first)] == ids[:5] and 'id="tally-pager"' in first and "第 1 / 3 页" in first
    last = staff.get("/review?page=3").data.decode()
    assert [int(x) for x in rows_of(last)] == ids[10:]
    assert rows_of(staff.get("/review?stage=资格审查").data.decode()) == []
    assert len(rows_of(staff.get("/review?stage=资料评审").data.decode())) == 5
    progress = first.split('id="reviewer-progress"')[1].split("</table>")[0]
    row = re.search(r"<td>陈刚</td>(.*?)</tr>", progress, re.S).group(1)
    assert re.findall(r">(\d+)<", row) == ["2", "1", "1"]
    assert 'href="/rounds/material"' in first.split('id="rounds-link"')[1]


def test_staff_see_progress_paging_and_the_ranking(app):
    client, _ = signed_in(app, STAFF)
    page = client.get("/rounds/material").data.decode()
    assert 'id="progress"' in page and "王芳" in page and "回避同单位" in page
    table = page.split('id="assignments"')[1].split("</table>")[0]
    assert table.count('name="ids"') == 12  # 12 in the stage, one page of 20
    empty = client.get("/rounds/material?stage=发布").data.decode().split('id="assignments"')[1].split("</table>")[0]
    assert "没有申报" in empty
    overview = client.get("/rounds").data.decode()
    assert "资料评审" in overview and "现场评审" in overview


def test_staff_see_who_to_remind(app):
    from datetime import timedelta

    from pipeline.workspace import review

    ws = site_of(app).ws
    client, _ = signed_in(app, STAFF)
    assert 'id="reminders"' not in client.get("/rounds/material").data.decode()  # nothing due for ten days
    late = next(a for a in review.assignments_of(ws, "material") if a["expert"] == "赵静" and not a["scored"])
    review.assign(ws, "material", "赵静", [late["applicant_id"]], by=STAFF, deadline=review.today() - timedelta(days=1))
    shown = client.get("/rounds/material").data.decode().split('id="reminders"')[1].split("</details>")[0]
    assert "赵静专家" in shown and "已逾期" in shown and "王芳专家" not in shown


def test_the_round_page_mails_the_reminders_once_a_day(app):
    """Staff give an expert's e-mail on the round page; with mail set up, the reminder button sends one message to
    each expert due (赵静, overdue since the test above) through a local SMTP server; pressed again, nothing more."""
    from aiosmtpd.controller import Controller

    from pipeline.workspace import mail
    from test_portal_mail import Inbox, free_port

    ws = site_of(app).ws
    client, _ = signed_in(app, STAFF)
    token = csrf_of(client, "/rounds/material")
    before = client.post("/rounds/material/remind", data={"csrf": token}, follow_redirects=True).data.decode()
    assert "邮件发送尚未开启" in before and "赵静专家" in before  # mail not set up: the texts stay on the page
    assert '<details id="reminders" open>' in before  # and are shown open, where the message points
    added = client.post("/rounds/material/experts", data={"name": "赵静", "unit": "中国质量协会",
                                                           "email": "zhaojing@example.cn", "csrf": token})
    assert added.status_code == 302 and "zhaojing@example.cn" in client.get("/rounds/material").data.decode()
    bad = client.post("/rounds/material/experts", data={"name": "赵静", "unit": "中国质量协会",
                                                         "email": "zhaojing@", "csrf": token})
    assert bad.status_code == 400 and "电子邮箱格式不正确" in bad.data.decode()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        mail.save_settings(ws, mail.Settings(host="127.0.0.1", port=controller.port, security="none",
                                             sender="xh@example.cn", portal_url="https://sb.example.cn"), by=STAFF)
        assert 'id="remind"' in client.get("/rounds/material").data.decode()
        runner = site_of(app).runner
        for _ in range(2):
            answer = client.post("/rounds/material/remind", data={"csrf": token})
            assert answer.status_code == 302 and "/jobs/" in answer.location
            job = runner.wait(runner.get(answer.location.rsplit("/", 1)[-1]), seconds=60)
            assert job.state == "done", job.message
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.messages] == ["zhaojing@example.cn"]
    body = inbox.messages[0].get_body(("plain",)).get_content()
    assert "赵静专家" in body and "已逾期" in body and "评分提醒" in inbox.messages[0]["Subject"]


def test_an_expert_declares_a_conflict_and_is_replaced(app):
    from pipeline.workspace import review

    ws = site_of(app).ws
    client, _ = signed_in(app, "陈刚")
    mine, _ = mine_and_not(app, "陈刚")
    target = mine[-1]
    answer = client.post(f"/rounds/material/conflict/{target}",
                         data={"reason": "亲属在该单位任职", "csrf": csrf_of(client, "/rounds")})
    assert answer.status_code == 302
    active = {a["expert"] for a in review.assignments_of(ws, "material")
              if a["applicant_id"] == target and a["state"] == review.ACTIVE}
    assert "陈刚" not in active and len(active) == 3
    assert client.get(f"/rounds/material/score/{target}").status_code == 404


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_an_expert_scores_in_the_browser(app):
    from playwright.sync_api import sync_playwright
    from pipeline.workspace import review
    from test_web_browser import Served

    ws = site_of(app).ws
    mine, _ = mine_and_not(app, "张伟")
    target = mine[0]
    sheet = ws.program.review_round("material").sheet
    served = Served(app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-dev-shm-usage"])
            page = browser.new_context(locale="zh-CN").new_page()
            page.goto(served.url + "/")
            page.fill("input[name=name]", "张伟")
            page.fill("input[name=password]", PASSWORD)
            page.click("form button")
            page.wait_for_selector("#my-assignments")
            assert "/rounds" in page.url
            page.click(f"#my-assignments a[href$='/score/{target}']")
            page.wait_for_selector("#score-form")
            assert "提交自己的评分后才能看到" in page.inner_text("#others")
            for c in sheet.criteria:
                page.fill(f"input[name='p-{c.id}']", f"{c.max * 0.8:g}")
            page.fill("textarea[name='c-strengths']", "用户满意度测评体系完整")
            page.fill("textarea[name='c-weaknesses']", "改进措施的成效数据不足")
            page.click("#save-score")
            page.wait_for_selector("#my-total")
            assert "80" in page.inner_text("#my-total")
            page.goto(served.url + "/rounds")
            assert "80 分" in page.inner_text("#my-assignments")
            browser.close()
    finally:
        served.close()
    (score,) = [s for s in review.scores_of(ws, "material", target) if s["expert"] == "张伟"]
    assert score["total"] == 80 and score["comments"]["weaknesses"] == "改进措施的成效数据不足"


def test_a_closed_round_locks_the_sheet(app):
    client, _ = signed_in(app, STAFF)
    answer = client.post("/rounds/material/close", data={"csrf": csrf_of(client, "/rounds/material")})
    assert answer.status_code == 302
    expert, _ = signed_in(app, "赵静")
    mine, _ = mine_and_not(app, "赵静")
    page = expert.get(f"/rounds/material/score/{mine[0]}").data.decode()
    assert "评分已锁定" in page and 'id="save-score"' not in page
    data = {"csrf": csrf_of(expert, f"/rounds/material/score/{mine[0]}"), "c-strengths": "好", "c-weaknesses": "少"}
    refused = expert.post(f"/rounds/material/score/{mine[0]}", data=data)
    assert refused.status_code == 400 and "已锁定" in refused.data.decode()


@pytest.mark.parametrize("pid, shown", [("liaoning", "审查评议"), ("heilongjiang", "没有打分的评审轮次")])
def test_every_program_has_its_review_page(tmp_path, pid, shown):
    from pipeline.definitions.programs import resolve_campaign
    from pipeline.workspace import Workspace

    Workspace.init(tmp_path / "ws", resolve_campaign(pid, None)).close()
    client = create_app(tmp_path / "ws", testing=True).test_client()  # 127.0.0.1: the local administrator
    page = client.get("/rounds")
    assert page.status_code == 200 and shown in page.data.decode()
    for rnd in site_of(client.application).ws.program.review_rounds():
        one = client.get(f"/rounds/{rnd.id}").data.decode()
        assert rnd.sheet.criteria[0].name in one and "没有申报" in one
    assert client.get("/rounds/nonexistent").status_code == 404
