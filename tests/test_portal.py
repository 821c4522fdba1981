"""The applicants' page through Flask's test client: staff invite the sample roster; an applicant's
link downloads its pre-filled packet, uploads a packet with one field missing and sees that item with its form
and field, sends it (a version in the workspace), reads the notice staff send and answers it; a link never
reaches another enterprise, a revoked link and an upload after the deadline are refused, and the portal
served alone has no staff page."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from datetime import date
from pathlib import Path

import docx
import openpyxl
import pytest
from openpyxl import load_workbook

from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import resolve_campaign

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402

pytestmark = pytest.mark.xdist_group("portal")  # one workspace, its steps in order

COMPANY = "哈尔滨电机厂有限责任公司"
OTHER = "龙江建工集团有限公司"
#: A day within the sample campaign (deadline 2017-06-20): the portal's "today" in these tests.
BEFORE = date(2017, 6, 10)
AFTER = date(2017, 7, 15)  # past the deadline and past a notice's 10 days sent on 2017-06-12


@pytest.fixture(scope="module")
def clock():
    """The server's date in the association's time zone, as the tests set it (the portal asks only this)."""
    from pipeline.workspace import invitations

    now = {"day": BEFORE}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(invitations, "today", lambda: now["day"])
        yield now


@pytest.fixture(scope="module")
def portal(tmp_path_factory, clock):
    """(workspace folder, staff app, issued links by company) of a workspace invited from the sample roster."""
    from pipeline.web.app import create_app
    from pipeline.workspace import Workspace, invitations

    root = tmp_path_factory.mktemp("portal") / "ws"
    with Workspace.init(root, resolve_campaign("heilongjiang", None)) as ws:
        targets, problems = invitations.roster_targets(SAMPLES / "企业名单.xlsx")
        issued = invitations.issue_links(ws, targets, by="王敏")
    assert problems == []
    return root, create_app(root, testing=True), {i.target.company_name: i for i in issued}


def filled(folder: Path, company: str, **changes) -> list[Path]:
    """Given a folder, write what an applicant sends: the packet filled (form__field=None leaves a field empty)
    and its report; return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    values = corpus.packet_values("enterprise", company=company, **changes)
    corpus.template_packet(folder / "申报材料.docx", "enterprise", values)
    corpus.report_docx(folder / "实施用户满意工程情况的报告.docx", company)
    return [folder / "申报材料.docx", folder / "实施用户满意工程情况的报告.docx"]


def csrf(client) -> str:
    with client.session_transaction() as sess:
        return sess["csrf"]


def upload(client, token: str, files: list[Path]):
    """Given a client, a link and files, open the link's page (its session's CSRF token) and upload the files."""
    client.get(f"/apply/{token}")
    data = {"csrf": csrf(client), "files": [(io.BytesIO(p.read_bytes()), p.name) for p in files]}
    return client.post(f"/apply/{token}/check", data=data, content_type="multipart/form-data")


def test_invitation_workbook_lists_every_roster_row_with_a_working_link(portal, tmp_path):
    from pipeline.workspace import Workspace, invitations

    root, app, issued = portal
    with Workspace.open(root) as ws:
        out = invitations.write_workbook(list(issued.values()), tmp_path / "邀请.xlsx", "https://sb.example.cn",
                                         ws.program)
        stored = invitations.listing(ws)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("企业名称", "类别", "推进单位", "联系电话", "邮箱")
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name[COMPANY][1:5] == ("企业类", "哈尔滨市质量协会", "0451-82871234", "zl@hec.com.cn")
    assert len(by_name) == 4
    link = by_name[COMPANY][6]
    token = link.rsplit("/", 1)[-1]
    assert link.startswith("https://sb.example.cn/apply/") and len(token) >= 32  # 192 bits, base64
    assert all(token not in str(row.values()) for row in stored)  # only its hash is kept
    assert app.test_client().get(f"/apply/{token}").status_code == 200


def test_prefilled_packet_carries_the_roster(portal):
    _, app, issued = portal
    client = app.test_client()
    answer = client.get(f"/apply/{issued[COMPANY].token}/packet")
    assert answer.status_code == 200
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(answer.data)).paragraphs)
    text += "\n".join(c.text for t in docx.Document(io.BytesIO(answer.data)).tables for r in t.rows for c in r.cells)
    assert COMPANY in text and "zl@hec.com.cn" in text


def test_upload_check_send_notice_and_correction(portal, clock, tmp_path):
    from pipeline.workspace import Workspace
    from pipeline.workspace.outputs import workspace_notices

    root, app, issued = portal
    token = issued[COMPANY].token
    client = app.test_client()
    page = client.get(f"/apply/{token}").data.decode()
    assert "尚未收到" in page
    answer = upload(client, token, filled(tmp_path / "v1", COMPANY, application__legal_representative=None))
    assert answer.status_code == 200, answer.data.decode()[:500]
    shown = answer.data.decode()
    rows = re.findall(r'<tr class="sev-error"><td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>', shown)
    assert rows == [("实施全省用户满意工程先进单位（企业类）申请表", "法定代表人姓名")], rows
    draft = re.search(r'name="draft" value="([^"]+)"', shown).group(1)
    sent = client.post(f"/apply/{token}/send", data={"csrf": csrf(client), "draft": draft})
    assert sent.status_code == 302
    with Workspace.open(root) as ws:
        aid = ws.find(COMPANY)
        detail = ws.applicant(aid)
        assert [v.received_on for v in detail.versions] == [BEFORE.isoformat()]
        assert detail.row.stage == "需补正"
        done = workspace_notices(ws, tmp_path / "notices", by="王敏", today=date(2017, 6, 12))
        assert len(done.recorded) == 1
        ws.opinion(aid, "内部意见：材料一般", by="王敏")
        actions = {a["action"] for a in ws.audit_log(limit=500)
                   if (a["detail"] or {}).get("invitation") == issued[COMPANY].id}
    assert {"portal_open", "portal_check", "portal_send"} <= actions
    page = client.get(f"/apply/{token}").data.decode()
    assert "需补正" in page and done.recorded[0]["number"] in page and "2017-06-22" in page
    assert "内部意见" not in page  # a reviewer's words never reach the applicant
    nid = int(re.search(rf"/apply/{token}/notices/(\d+)", page).group(1))
    letter = client.get(f"/apply/{token}/notices/{nid}")
    assert letter.status_code == 200 and letter.data[:2] == b"PK"
    # after the deadline, within the notice's window: the correction is taken
    clock["day"] = date(2017, 6, 21)
    try:
        answer = upload(client, token, filled(tmp_path / "v2", COMPANY))
        assert "未发现问题" in answer.data.decode() or 'class="sev-error"' not in answer.data.decode()
        draft = re.search(r'name="draft" value="([^"]+)"', answer.data.decode()).group(1)
        assert client.post(f"/apply/{token}/send", data={"csrf": csrf(client), "draft": draft}).status_code == 302
    finally:
        clock["day"] = BEFORE
    with Workspace.open(root) as ws:
        detail = ws.applicant(ws.find(COMPANY))
    assert [v.seq for v in detail.versions] == [1, 2]
    assert detail.versions[1].comparison is not None and detail.versions[1].received_on == "2017-06-21"
    # the missing field is filled: its issue is gone (what stays is the campaign's lateness rule's to judge)
    assert [i for i in detail.open_issues if i.get("field") == "legal_representative"] == []
    assert any(i.get("field") == "legal_representative" for i in detail.versions[1].comparison.get("resolved", []))


def test_a_link_never_reaches_another_enterprise(portal, tmp_path):
    _, app, issued = portal
    client = app.test_client()
    token = issued[OTHER].token
    page = client.get(f"/apply/{token}").data.decode()
    assert COMPANY not in page
    # the first enterprise's notice ids answer as if there were none
    for nid in range(1, 5):
        assert client.get(f"/apply/{token}/notices/{nid}").status_code == 404
    # a packet of another enterprise cannot be sent through this link
    answer = upload(client, token, filled(tmp_path / "x", COMPANY))
    assert "不一致" in answer.data.decode() and 'id="send-button"' not in answer.data.decode()
    # another link's draft answers 404
    draft = f"{issued[COMPANY].id}-0123456789abcdef"
    assert client.post(f"/apply/{token}/send", data={"csrf": csrf(client), "draft": draft}).status_code == 404
    assert client.get("/apply/" + "A" * 32).status_code == 404


def test_revoked_link_answers_not_found(portal):
    from pipeline.workspace import Workspace, invitations

    root, app, issued = portal
    name = "冰城家政服务有限公司"
    client = app.test_client()
    assert client.get(f"/apply/{issued[name].token}").status_code == 200
    with Workspace.open(root) as ws:
        invitations.revoke(ws, issued[name].id, by="王敏")
        again = invitations.issue_links(ws, invitations.roster_targets(SAMPLES / "企业名单.xlsx")[0][3:], by="王敏")
    assert client.get(f"/apply/{issued[name].token}").status_code == 404
    assert client.get(f"/apply/{issued[name].token}/packet").status_code == 404
    assert client.get(f"/apply/{again[0].token}").status_code == 200  # re-issued: a new link works


def test_upload_after_the_deadline_is_refused(portal, clock, tmp_path):
    _, app, issued = portal
    client = app.test_client()
    token = issued["黑龙江北方家电有限公司"].token
    clock["day"] = AFTER
    try:
        page = client.get(f"/apply/{token}").data.decode()
        assert 'id="closed"' in page and "2017-06-20" in page and 'id="check-button"' not in page
        answer = upload(client, token, filled(tmp_path / "late", "黑龙江北方家电有限公司"))
        assert answer.status_code == 400 and "截止" in answer.data.decode()
    finally:
        clock["day"] = BEFORE


def test_portal_only_serves_no_staff_page(portal):
    from pipeline.web.app import create_app

    root, _, issued = portal
    alone = create_app(root, host="0.0.0.0", testing=True, portal_only=True)
    client = alone.test_client()
    for path in ("/", "/applicants", "/receive", "/invitations", "/login", "/users", "/audit", "/verify",
                 "/selfcheck", "/applicants/1"):
        assert client.get(path).status_code == 404, path
    page = client.get(f"/apply/{issued[COMPANY].token}")
    assert page.status_code == 200 and "收件" not in page.data.decode()
    assert page.headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in page.headers["Content-Security-Policy"]
    rules = {r.endpoint.split(".")[0] for r in alone.url_map.iter_rules()}
    assert rules == {"portal", "static"}


def test_an_archive_is_checked_as_one_packet_and_checks_are_rate_limited(portal, tmp_path, monkeypatch):
    import zipfile

    from pipeline.web import portal as portal_module
    from pipeline.web.app import create_app

    root, _, issued = portal
    files = filled(tmp_path / "zip", COMPANY, application__legal_representative=None)
    archive = tmp_path / "申报材料.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in files:
            z.write(path, f"电机厂/{path.name}")
    monkeypatch.setattr(portal_module, "LIMITS", {"per_link": 1, "per_address": 100})
    client = create_app(root, testing=True).test_client()  # a new server: its own counters
    token = issued[COMPANY].token
    shown = upload(client, token, [archive]).data.decode()
    assert re.findall(r'<tr class="sev-error"><td[^>]*>[^<]*</td><td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td>', shown) == ["法定代表人姓名"]
    assert upload(client, token, [archive]).status_code == 429
    other = issued["黑龙江北方家电有限公司"].token  # the limit is per link: another link still checks
    checked = upload(client, other, [archive])  # checked (and refused: the packet is not that link's enterprise)
    assert checked.status_code == 422 and "不一致" in checked.data.decode()
    # per address: one address, two links, a budget of one
    client = create_app(root, testing=True, limits={"portal_per_address": 1}).test_client()
    assert upload(client, token, [archive]).status_code == 200
    assert upload(client, other, [archive]).status_code == 429


def test_manyi_invite_writes_the_workbook(portal, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    root, app, _ = portal
    out = tmp_path / "邀请.xlsx"
    answer = CliRunner().invoke(cli, ["invite", str(root), "冰城家政", "--out", str(out), "--url",
                                      "https://sb.example.cn", "--by", "王敏"])
    assert answer.exit_code == 0, answer.output
    assert "已为 1 家企业生成专属链接" in answer.output
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["冰城家政服务有限公司"]
    assert app.test_client().get(rows[1][6].replace("https://sb.example.cn", "")).status_code == 200
    again = CliRunner().invoke(cli, ["invite", str(root), "--out", str(out), "--url", "https://x", "--by", "王敏"])
    assert again.exit_code == 2 and "请给出且只给出一种" in again.output


def test_a_promoting_unit_sees_its_enterprises_and_sends_their_recommendations(portal, tmp_path):
    from pipeline.workspace import Workspace, invitations

    from pipeline.workspace.receive import receive

    root, app, issued = portal
    with Workspace.open(root) as ws:
        if not ws.applicants(search=COMPANY).total:  # run alone: the enterprise sends its packet first
            filled(tmp_path / "inbox" / COMPANY, COMPANY)
            receive(ws, [tmp_path / "inbox"], received=BEFORE, jobs=1)
        units = invitations.unit_links(ws, ["哈尔滨市质量协会", "大庆市质量协会"], by="王敏")
        mine = ws.find(COMPANY)
        before = len(ws.applicant(mine).versions)
    client = app.test_client()
    token = units[0].token
    page = client.get(f"/apply/{token}").data.decode()
    listed = re.findall(r"<tr><td[^>]*>([^<]+)</td>", page)
    assert listed == ["哈尔滨电机厂有限责任公司", "黑龙江北方家电有限公司"]  # 龙江建工 is 大庆's
    form = tmp_path / "推荐意见表.docx"
    document = docx.Document()
    document.add_paragraph("推荐意见：同意推荐。哈尔滨市质量协会")
    document.save(form)
    data = {"csrf": csrf(client), "files": [(io.BytesIO(form.read_bytes()), form.name)]}
    answer = client.post(f"/apply/{token}/recommendation/{mine}", data=data, content_type="multipart/form-data")
    assert answer.status_code == 302
    with Workspace.open(root) as ws:
        versions = ws.applicant(mine).versions
    assert len(versions) == before + 1
    names = {f["name"] for f in versions[-1].files}
    assert "推荐意见表.docx" in names and {f["name"] for f in versions[-2].files} <= names
    # another unit cannot send for it; an enterprise's own link cannot either
    data = {"csrf": csrf(client), "files": [(io.BytesIO(form.read_bytes()), form.name)]}
    assert client.post(f"/apply/{units[1].token}/recommendation/{mine}", data=data,
                       content_type="multipart/form-data").status_code == 404
    data = {"csrf": csrf(client), "files": [(io.BytesIO(form.read_bytes()), form.name)]}
    assert client.post(f"/apply/{issued[COMPANY].token}/recommendation/{mine}", data=data,
                       content_type="multipart/form-data").status_code == 404
    for content, name in ((b"PK-not-really", "推荐汇总表.xlsx"), (b"MZ\x90\x00" + b"\x00" * 200, "推荐汇总表.exe"),
                          (b"", "推荐汇总表.pdf")):  # not a document, a program, an empty file: refused in Chinese
        data = {"csrf": csrf(client), "files": [(io.BytesIO(content), name)]}
        answer = client.post(f"/apply/{token}/summary", data=data, content_type="multipart/form-data")
        assert answer.status_code == 400 and "不能作为推荐汇总表" in answer.data.decode(), name
    book = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["企业名称", "推荐意见"])
    workbook.save(book)
    summary = book.getvalue()
    data = {"csrf": csrf(client), "files": [(io.BytesIO(summary), "推荐汇总表.xlsx")]}
    assert client.post(f"/apply/{token}/summary", data=data, content_type="multipart/form-data").status_code == 302
    with Workspace.open(root) as ws:
        kept = invitations.unit_files(ws)
    assert [(f["unit"], f["name"]) for f in kept] == [("哈尔滨市质量协会", "推荐汇总表.xlsx")]
    staff = app.test_client()
    link = re.search(r'<a class="unit-file" href="([^"]+)">推荐汇总表.xlsx</a>', staff.get("/invitations").data.decode())
    got = staff.get(link.group(1))  # staff download what the unit sent, as it sent it
    assert got.status_code == 200 and got.data == summary
    assert "attachment" in got.headers["Content-Disposition"] and "xlsx" in got.headers["Content-Disposition"]
    assert staff.get("/invitations/unit-files/" + "0" * 64).status_code == 404  # only what a unit sent


def test_drafts_never_sent_are_swept_after_a_day(tmp_path):
    import os

    from pipeline.web.portal import DRAFT_LIFE, sweep_drafts

    old, new, other = tmp_path / "3-0123456789abcdef", tmp_path / "4-fedcba9876543210", tmp_path / "notes"
    for folder in (old, new, other):
        folder.mkdir()
    os.utime(old, (1_000_000, 1_000_000))
    os.utime(other, (1_000_000, 1_000_000))
    sweep_drafts(tmp_path, now=1_000_000 + DRAFT_LIFE + 1)
    assert not old.exists() and new.exists() and other.exists()


def test_an_enterprise_never_invited_asks_for_a_link_and_staff_approve(portal):
    from pipeline.workspace import Workspace, invitations

    root, app, _ = portal
    client = app.test_client()
    assert client.get("/apply").status_code == 404  # the campaign takes invited enterprises only
    copy = root / "campaign.yaml"
    kept = copy.read_text(encoding="utf-8")
    copy.write_text(kept + "\nopen_applications: true\n", encoding="utf-8")
    try:
        page = client.get("/apply").data.decode()
        assert "申请申报链接" in page and "服务类" in page
        form = {"csrf": csrf(client), "name": "松花江乳业有限公司", "category": "product", "email": "ru@shj.cn",
                "contact": "0451-1234567", "unit": "哈尔滨市质量协会"}
        answer = client.post("/apply", data=form)
        assert answer.status_code == 200 and "ru@shj.cn" in answer.data.decode()
        again = client.post("/apply", data=form)
        assert again.status_code == 400 and "已提交申请" in again.data.decode()
        bad = client.post("/apply", data={**form, "name": "另一家有限公司", "email": "不是邮箱"})
        assert bad.status_code == 400 and "邮箱地址无效" in bad.data.decode()
        with Workspace.open(root) as ws:
            pending = [r for r in invitations.listing(ws) if r["kind"] == invitations.REQUEST]
        assert [(r["company_name"], r["category"], r["email"]) for r in pending] == [
            ("松花江乳业有限公司", "product", "ru@shj.cn")]
        approved = client.post(f"/invitations/{pending[0]['id']}/approve", data={"csrf": csrf(client)},
                               follow_redirects=True).data.decode()
        link = re.search(r"/apply/([A-Za-z0-9_-]{32})", approved).group(1)
        page = client.get(f"/apply/{link}").data.decode()
        assert "松花江乳业有限公司" in page and "产品类" in page
        with Workspace.open(root) as ws:
            rows = {r["id"]: r for r in invitations.listing(ws)}
        assert rows[pending[0]["id"]]["revoked_at"]  # the request is closed once approved
    finally:
        copy.write_text(kept, encoding="utf-8")


def test_an_upload_over_the_portal_limit_is_refused_in_chinese(portal, tmp_path):
    from pipeline.web.app import create_app

    root, _, issued = portal
    client = create_app(root, testing=True, limits={"portal_size": 50_000}).test_client()
    big = tmp_path / "大文件.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * 60_000)
    answer = upload(client, issued[COMPANY].token, [big])
    assert answer.status_code == 413 and "上传" in answer.data.decode()
    files = [tmp_path / f"{n}.pdf" for n in range(3)]
    for path in files:
        path.write_bytes(b"%PDF-1.4\n")
    client = create_app(root, testing=True, limits={"portal_files": 2}).test_client()
    answer = upload(client, issued[COMPANY].token, files)
    assert answer.status_code == 413 and "一次最多上传 2 个文件" in answer.data.decode()


def test_a_packet_of_another_category_or_naming_no_enterprise_is_not_sent(portal, tmp_path):
    _, app, issued = portal
    client = app.test_client()
    token = issued[COMPANY].token  # 企业类
    folder = tmp_path / "product"
    folder.mkdir()
    corpus.template_packet(folder / "申报材料.docx", "product", corpus.packet_values("product", company=COMPANY))
    shown = upload(client, token, [folder / "申报材料.docx"]).data.decode()
    assert "产品类" in shown and "不一致" in shown and 'id="send-button"' not in shown
    report = corpus.report_docx(tmp_path / "报告.docx", COMPANY)  # a report alone: no form names the enterprise
    shown = upload(client, token, [report]).data.decode()
    assert "没有读出企业名称" in shown and 'id="send-button"' not in shown


def test_manyi_serve_portal_only_on_the_command_line(portal):
    import socket
    import subprocess
    import time
    import urllib.error
    import urllib.request

    root, _, issued = portal
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(root), "--portal-only", "--port", str(port)],
                              cwd=Path(__file__).parent.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):  # at most 20 s to start
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)

        def status(path: str) -> int:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
                    return answer.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert status(f"/apply/{issued['龙江建工集团有限公司'].token}") == 200
        assert [status(p) for p in ("/", "/applicants", "/invitations", "/login")] == [404] * 4
    finally:
        server.terminate()
        out = server.communicate(timeout=30)[0].decode()
    assert "只提供申报单位的专属链接页面" in out


def test_a_program_whose_forms_are_generated_invites_its_applicants(tmp_path):
    """liaoning's packet is generated from its program file: no roster, the workspace's applicants are invited,
    the page shows its version, and the packet downloaded is the category's blank packet (zipped, no manifest)."""
    import zipfile

    from pipeline.definitions.programs import load_program
    from pipeline.web.app import create_app
    from pipeline.workspace import Workspace, invitations
    from pipeline.workspace.receive import receive
    from program_packets import write_filled

    program = load_program("liaoning")
    cid = next(iter(program.categories))
    write_filled("liaoning", cid, tmp_path / "inbox" / cid)
    with Workspace.init(tmp_path / "ws", resolve_campaign("liaoning", None)) as ws:
        day = ws.campaign.deadline
        receive(ws, [tmp_path / "inbox"], received=day, jobs=1)
        with pytest.raises(Exception, match="只适用于印有申报表的项目"):
            invitations.roster_targets(SAMPLES / "企业名单.xlsx", ws.program)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(invitations, "today", lambda: day)
            issued = invitations.issue_links(ws, invitations.workspace_targets(ws), by="王敏")
            name = issued[0].target.company_name
            client = create_app(tmp_path / "ws", testing=True).test_client()
            page = client.get(f"/apply/{issued[0].token}").data.decode()
            assert name in page and "第 1 版" in page
            assert "已预填" not in page and ">下载申报材料</a>" in page  # a blank packet is not called pre-filled
            packet = client.get(f"/apply/{issued[0].token}/packet")
            assert packet.status_code == 200
            names = zipfile.ZipFile(io.BytesIO(packet.data)).namelist()
            assert names and all(n.endswith((".docx", ".xlsx")) for n in names)
    assert len(issued) == 1 and issued[0].target.category == cid


def test_portal_errors_tell_the_applicant_what_to_do(portal, tmp_path):
    """A dead link, an upload too big: the applicant reads what to do next (no staff to ask), and the portal's
    footer does not speak of "this machine's workspace"."""
    from pipeline.web.app import create_app

    root, app, issued = portal
    client = app.test_client()
    token = issued[COMPANY].token
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")  # one character changed
    dead = client.get(f"/apply/{changed}")
    assert dead.status_code == 404
    assert "链接无效或已作废" in dead.data.decode() and "联系协会" in dead.data.decode()
    home = client.get(f"/apply/{token}").data.decode()
    assert "本机" not in home and ">下载已预填的申报材料</a>" in home  # heilongjiang's packet is pre-filled
    small = create_app(root, testing=True, limits={"portal_size": 2_000_000}).test_client()
    big = tmp_path / "扫描件.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * 2_100_000)
    answer = upload(small, token, [big])
    assert answer.status_code == 413 and "每次最多 2 MB" in answer.data.decode()


def test_portal_tables_stack_on_a_phone(portal, tmp_path):
    """The check's items carry their column's name per cell, so a narrow window shows one block per item."""
    _, app, issued = portal
    shown = upload(app.test_client(), issued[COMPANY].token,
                   filled(tmp_path / "p", COMPANY, application__legal_representative=None)).data.decode()
    assert '<table id="items" class="stack">' in shown and 'data-label="栏目">法定代表人姓名<' in shown


def test_export_carries_links_and_outbox_and_secrets_only_when_asked(clock, tmp_path):
    """`workspace export` takes the invitations and the outbox with the campaign: a link mailed before the move
    still opens its page after it, a message sent is not queued again; portal.key and mail.secret go only with
    secrets=True (then the moved workspace writes the same link into an e-mail)."""
    import sqlalchemy as sa

    from pipeline.common.errors import UserError
    from pipeline.workspace import Workspace, invitations, mail
    from pipeline.workspace.transfer import export, import_

    root = tmp_path / "ws"
    with Workspace.init(root, resolve_campaign("heilongjiang", None)) as ws:
        issued = invitations.issue_links(ws, invitations.roster_targets(SAMPLES / "企业名单.xlsx")[0][:1], by="王敏")[0]
        mail.save_settings(ws, mail.Settings(host="127.0.0.1", port=2525, security="none", sender="a@b.cn",
                                             portal_url="https://sq.example.cn", password="口令-1"), by="王敏")
        invitation = invitations.find(ws, issued.token)
        link = invitations.link_of(ws, invitation, "https://sq.example.cn")
        assert mail.queue_invitation(ws, invitation)
        export(ws, tmp_path / "plain.zip")
        export(ws, tmp_path / "full.zip", secrets=True)
    with zipfile.ZipFile(tmp_path / "plain.zip") as z:
        assert not [n for n in z.namelist() if "portal.key" in n or "mail.secret" in n]

    with import_(tmp_path / "plain.zip", tmp_path / "plain") as moved:
        again = invitations.find(moved, issued.token)
        assert again is not None and again["company_name"] == issued.target.company_name
        with moved.reader.connect() as conn:
            assert conn.execute(sa.select(mail.outbox.c.key)).scalars().all() == [f"invite:{issued.id}"]
        with pytest.raises(UserError, match="portal.key"):
            invitations.link_of(moved, again, "https://sq.example.cn")
        assert not mail.queue_invitation(moved, again)  # queued before the move: neither again nor an error
        # a receipt after a send on the moved page goes out, pointing to the link received before
        assert mail.queue_receipt(moved, again, 1, 1, "2017-06-10", ["申报材料.docx"])
        with moved.reader.connect() as conn:
            body = conn.execute(sa.select(mail.outbox.c.body).where(mail.outbox.c.key == "receipt:1:1")).scalar_one()
        assert "此前发给您的专属链接" in body and "/apply/" not in body
        assert not (tmp_path / "plain" / "mail.secret").exists()

    with import_(tmp_path / "full.zip", tmp_path / "full") as moved:
        again = invitations.find(moved, issued.token)
        assert invitations.link_of(moved, again, "https://sq.example.cn") == link
        assert not mail.queue_invitation(moved, again)  # queued before the move: not again
        assert mail.settings_of(moved).password == "口令-1"
        assert (tmp_path / "full" / "mail.secret").stat().st_mode & 0o777 == 0o600


def versions_of(root: Path) -> int:
    """Given the workspace folder, return how many versions it holds in all."""
    from pipeline.workspace import Workspace

    with Workspace.open(root) as ws:
        found = ws.applicants(search=COMPANY)
        return sum(len(ws.applicant(a.id).versions) for a in found.items)


def _encrypted_zip() -> bytes:
    """A zip whose member says it is encrypted (the flag bit set in both headers), as a password-protected
    archive from an applicant's tool."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("申报材料.docx", b"x" * 100)
    data = bytearray(out.getvalue())
    data[6] |= 1
    data[data.find(b"PK\x01\x02") + 8] |= 1
    return bytes(data)


def _zip_bomb() -> bytes:
    """A small zip that would expand to 100 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, z.open("申报材料.docx", "w") as member:
        for _ in range(100):
            member.write(b"\0" * (1 << 20))
    return out.getvalue()


@pytest.mark.parametrize("name, content, reason", [
    ("炸弹.zip", "bomb", "压缩"), ("加密.zip", "encrypted", "加密"), ("申报材料.docx", b"", "空文件"),
    ("setup.exe", b"MZ\x90\x00" + b"\0" * 500, "不支持的文件类型"),
])
def test_hostile_uploads_are_refused_in_chinese(portal, name, content, reason):
    """A zip bomb, an encrypted zip, an empty file, a program: 422, the reason in Chinese, nothing to send."""
    _, app, issued = portal
    data = {"bomb": _zip_bomb, "encrypted": _encrypted_zip}[content]() if isinstance(content, str) else content
    client = app.test_client()
    client.get(f"/apply/{issued[COMPANY].token}")
    answer = client.post(f"/apply/{issued[COMPANY].token}/check", content_type="multipart/form-data",
                         data={"csrf": csrf(client), "files": [(io.BytesIO(data), name)]})
    shown = answer.data.decode()
    assert answer.status_code == 422 and "上传的文件无法读取" in shown and reason in shown
    assert 'id="send-button"' not in shown


def test_hostile_requests_on_the_send_step_and_forms(portal, tmp_path):
    """A name that is only a path is ignored and said so; the send step without this session's form token,
    a form field too long and a GET on the send step are refused in Chinese with 400, 413 and 404."""
    _, app, issued = portal
    token = issued[COMPANY].token
    client = app.test_client()
    files = filled(tmp_path / "h", COMPANY)
    before = versions_of(portal[0])
    client.get(f"/apply/{token}")
    answer = client.post(f"/apply/{token}/check", content_type="multipart/form-data",
                         data={"csrf": csrf(client), "files": [(io.BytesIO(files[0].read_bytes()), files[0].name),
                                                               (io.BytesIO(b"x"), "../.bashrc")]})
    assert "已忽略：../.bashrc" in answer.data.decode(), re.sub("<[^>]+>", " ", answer.data.decode())[-900:]
    draft = re.search(r'name="draft" value="([^"]+)"', answer.data.decode()).group(1)
    other = app.test_client()  # another browser (a forged form on another site): no session, no token
    for who, form in ((other, {"draft": draft}), (client, {"draft": draft, "csrf": "forged"})):
        refused = who.post(f"/apply/{token}/send", data=form)
        assert refused.status_code == 400 and "表单已过期或来源不明" in refused.data.decode()
        assert "CSRF" not in refused.data.decode()
    for path in (f"/apply/{token}/send", "/apply"):  # forms without files: kilobytes, not the upload limit
        long = client.post(path, data={"csrf": csrf(client), "draft": draft, "name": "长" * 30_000})
        assert long.status_code == 413 and "提交的内容过长" in long.data.decode(), path
    got = client.get(f"/apply/{token}/send")
    assert got.status_code == 404 and "本页面由主办协会提供" in got.data.decode()
    assert versions_of(portal[0]) == before  # nothing was sent by any of these


def test_manyi_workspace_export_with_secrets_on_the_command_line(portal, tmp_path):
    """The flag carries portal.key (and says so, with the links counted); without it the zip holds no secret."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    root, _, issued = portal
    plain = CliRunner().invoke(cli, ["workspace", "export", str(root), str(tmp_path / "a.zip")])
    full = CliRunner().invoke(cli, ["workspace", "export", str(root), str(tmp_path / "b.zip"), "--with-secrets"])
    assert plain.exit_code == 0 and full.exit_code == 0, plain.output + full.output
    assert "条邀请链接" in plain.output and "未包含协会的密钥和密码" in plain.output and "portal.key" not in plain.output
    assert "含协会密钥和密码" in full.output and "portal.key" in full.output
    with zipfile.ZipFile(tmp_path / "a.zip") as a, zipfile.ZipFile(tmp_path / "b.zip") as b:
        assert "secrets/portal.key" not in a.namelist()
        assert b.read("secrets/portal.key") == (root / "portal.key").read_bytes()
