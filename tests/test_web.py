"""The page over HTTP (Flask's test client): every route for every role, CSRF, the upload gate,
downloads by id only, a reviewer kept to their own applicants, and the self-check's limits."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from pipeline.web import auth
from pipeline.web.app import create_app, site_of
from pipeline.web.security import RateLimit, local_host_header, save_uploads, upload_parts

from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import resolve_campaign
LAN = "192.0.2.10"  # a non-loopback --host: accounts required
PASSWORD = "correct horse battery"
ROLES = ("admin", "staff", "reviewer")

pytestmark = pytest.mark.xdist_group("web")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A workspace holding the bundled sample (received once through the library), with one account per role."""
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    root = tmp_path_factory.mktemp("web") / "ws"
    with Workspace.init(root, resolve_campaign("heilongjiang", None)) as ws:
        receive(ws, [SAMPLES / "inbox"], received=ws.campaign.deadline, jobs=1)
    app = create_app(root, host=LAN, testing=True)
    store = site_of(app).store
    for role in ROLES:
        store.add_user(f"{role}1", role, auth.hash_password(PASSWORD))
    store.add_user("reviewer2", "reviewer", auth.hash_password(PASSWORD))
    store.assign("reviewer1", [1], by="admin1")
    return root


@pytest.fixture(scope="module")
def lan(workspace):
    return create_app(workspace, host=LAN, testing=True)


@pytest.fixture(scope="module")
def local(workspace):
    return create_app(workspace, testing=True, self_check=True)


def token(client, path: str = "/login") -> str:
    """Given a client, return the CSRF token of its session (read from a page's form)."""
    page = client.get(path).data.decode()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def signed_in(app, name: str):
    """Given an app and an account name, return a test client signed in as that account."""
    client = app.test_client()
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token(client)})
    assert answer.status_code == 302, answer.data.decode()[:300]
    return client


# --- every route, every role ---------------------------------------------------------------------

#: (method, url, permission) for every route: the table must name each rule of the app (checked below).
ROUTES = [
    ("GET", "/", "read"), ("GET", "/packets", "read"), ("POST", "/packets/blank", "staff"),
    ("POST", "/packets/roster", "staff"), ("GET", "/receive", "read"), ("POST", "/receive", "staff"),
    ("GET", "/applicants", "read"), ("POST", "/applicants/bulk", "staff"), ("GET", "/applicants/1", "read"),
    ("GET", "/applicants.xlsx", "read"), ("POST", "/applicants/1/undo", "staff"), ("GET", "/notices", "read"),
    ("GET", "/notices.zip", "read"), ("GET", "/notices/x/0", "read"),
    ("POST", "/applicants/1/decide", "staff"), ("POST", "/applicants/1/move", "staff"),
    ("GET", "/applicants/1/record.json", "user"), ("GET", "/applicants/1/files/{sha}", "user"),
    ("POST", "/applicants/1/previews", "staff"), ("GET", "/applicants/1/preview/{sha}/1.png", "user"),
    ("GET", "/review", "user"), ("POST", "/review/assign", "staff"), ("GET", "/review/1", "review"),
    ("POST", "/review/1", "review"), ("GET", "/awards", "read"), ("POST", "/awards/certificates", "staff"),
    ("POST", "/awards/register", "staff"), ("GET", "/downloads", "read"), ("POST", "/downloads/summary", "staff"),
    ("POST", "/downloads/notices", "staff"), ("POST", "/downloads/tables", "staff"), ("POST", "/downloads/screen", "staff"),
    ("POST", "/downloads/certificates", "staff"), ("GET", "/users", "admin"), ("POST", "/users", "admin"),
    ("GET", "/audit", "admin"), ("POST", "/logout", "user"), ("GET", "/jobs/x", "user"),
    ("GET", "/jobs/x.json", "user"), ("GET", "/jobs/x/files/0", "user"), ("POST", "/jobs/x/restart", "staff"),
    ("POST", "/users/x/x", "admin"), ("GET", "/account/totp", "admin"), ("POST", "/account/totp", "admin"),
    ("GET", "/entries", "staff"), ("POST", "/entries/1/withdraw", "staff"), ("POST", "/entries/1/restore", "staff"),
    ("POST", "/store/x/purge", "admin"), ("GET", "/login", "public"),
    ("POST", "/login", "public"), ("GET", "/selfcheck", "public"), ("POST", "/selfcheck", "public"),
    ("GET", "/selfcheck/x", "public"), ("GET", "/selfcheck/x.json", "public"), ("GET", "/verify", "public"),
    ("GET", "/apply/x", "public"), ("GET", "/apply/x/packet", "public"), ("POST", "/apply/x/check", "public"),
    ("POST", "/apply/x/send", "public"), ("GET", "/apply/x/notices/1", "public"), ("GET", "/invitations", "read"),
    ("POST", "/invitations/issue", "staff"), ("POST", "/invitations/1/revoke", "staff"),
    ("POST", "/invitations/mail", "staff"), ("POST", "/apply/x/recommendation/1", "public"),
    ("POST", "/apply/x/summary", "public"), ("POST", "/invitations/mail/1/retry", "staff"),
    ("GET", "/apply", "public"), ("POST", "/apply", "public"), ("POST", "/invitations/1/approve", "staff"),
    # the review rounds
    ("GET", "/rounds", "user"), ("GET", "/rounds/x", "tally"), ("POST", "/rounds/x/experts", "staff"),
    ("POST", "/rounds/x/assign", "staff"), ("POST", "/rounds/x/close", "staff"), ("POST", "/rounds/x/reports", "staff"),
    ("GET", "/rounds/x/score/1", "review"), ("POST", "/rounds/x/score/1", "review"),
    ("POST", "/rounds/x/conflict/1", "review"), ("POST", "/rounds/documents", "staff"),
    ("POST", "/rounds/x/remind", "staff"), ("POST", "/rounds/x/previews/1", "review"),
    ("GET", "/verify/register", "public"),
    ("GET", "/invitations/unit-files/x", "read"),
    ("GET", "/applicants/x/scan/1/x/x.png", "user"),
]


def rule_of(url: str) -> str:
    return re.sub(r"/(0|1|x|\{sha\})(?=/|$|\.)", "/<>", url.replace("/1.png", "/<>.png"))


def test_every_route_is_in_the_table_with_the_permission_it_declares(lan):
    declared = lan.config["PERMISSIONS"]
    rules = {(m, re.sub(r"<[^>]+>", "<>", r.rule)) for r in lan.url_map.iter_rules() if r.endpoint != "static"
             for m in r.methods - {"HEAD", "OPTIONS"}}
    table = {(m, rule_of(u)) for m, u, _ in ROUTES}
    assert rules == table
    for rule in lan.url_map.iter_rules():
        if rule.endpoint != "static":
            assert rule.endpoint in declared, rule.rule
    for method, url, permission in ROUTES:
        endpoint = lan.url_map.bind("localhost").match(url.format(sha="a" * 64), method=method)[0]
        assert declared[endpoint] == permission, (method, url)


def test_a_view_registered_without_a_permission_is_refused(workspace):
    app = create_app(workspace, host=LAN, testing=True)
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    assert app.test_client().get("/forgotten").status_code == 404


def some_sha(workspace) -> str:
    from pipeline.workspace import Workspace

    with Workspace.open(workspace) as ws:
        return ws.applicant(1).versions[-1].files[0]["sha256"]


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_reaches_exactly_the_routes_it_may(lan, workspace, role):
    client = signed_in(lan, f"{role}1") if role else lan.app_context().app.test_client()
    csrf = token(client, "/login") if role is None else None
    sha = some_sha(workspace)
    user = auth.User(f"{role}1", role) if role else None
    for method, url, permission in ROUTES:
        url = url.format(sha=sha)
        allowed = permission == "public" or (user is not None and user.can(permission))
        if allowed and method == "POST":
            continue  # what an allowed POST does is tested one by one below
        if method == "GET":
            answer = client.get(url)
        else:
            answer = client.post(url, data={"csrf": csrf or session_token(client)})
        if allowed:
            assert answer.status_code not in (401, 403), (role, method, url)
            if url in ("/selfcheck",):
                continue
        elif user is None:
            expected = 302 if method == "GET" else 401
            assert answer.status_code == expected, (role, method, url, answer.status_code)
            if method == "GET":
                assert "/login" in answer.location
        elif url == "/" and user.can("review"):  # an expert who may not read the campaign lands on their reviews
            assert answer.status_code == 302 and answer.location.endswith("/rounds"), (role, answer.status_code)
        else:
            assert answer.status_code == 403, (role, method, url, answer.status_code)
            assert "没有权限" in answer.data.decode()


def session_token(client) -> str:
    with client.session_transaction() as session:
        return session["csrf"]


def test_the_allowed_pages_render_for_staff(lan, workspace):
    client = signed_in(lan, "staff1")
    for url in ("/", "/packets", "/receive", "/applicants", "/applicants/1", "/review", "/awards", "/downloads",
                "/applicants?stage=需补正&sort=errors&desc=1&page=2", "/applicants?q=哈尔滨&category=enterprise"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "<html lang=\"zh-CN\">" in answer.data.decode()


# --- sign-in, sessions, CSRF, hosts --------------------------------------------------------------


def test_sign_in_refuses_a_wrong_password_and_records_it(lan):
    client = lan.test_client()
    answer = client.post("/login", data={"name": "staff1", "password": "nope", "csrf": token(client)})
    assert answer.status_code == 401 and "用户名或密码不对" in answer.data.decode()
    assert any(e["action"] == "登录失败" and (e["detail"] or {}).get("target") == "staff1"
               for e in site_of(lan).store.audit_log())


def test_session_cookie_is_httponly_and_samesite(lan):
    client = lan.test_client()
    answer = client.post("/login", data={"name": "staff1", "password": PASSWORD, "csrf": token(client)})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_never_redirects_off_site(lan):
    client = lan.test_client()
    answer = client.post("/login?next=//evil.example/x", data={"name": "staff1", "password": PASSWORD,
                                                               "csrf": token(client)})
    assert answer.location == "/"


def test_passwords_are_stored_as_argon2id(lan):
    stored = site_of(lan).store.user("staff1")["password"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert auth.password_matches(stored, PASSWORD) and not auth.password_matches(stored, PASSWORD + "x")


@pytest.mark.parametrize("url", [u for m, u, _ in ROUTES if m == "POST"])
def test_a_post_without_the_csrf_token_is_refused(local, workspace, url):
    client = local.test_client()
    client.get("/")
    answer = client.post(url.format(sha="a" * 64), data={"to": "已推荐", "name": "x"})
    assert answer.status_code == 400, url
    assert "表单已过期或来源不明" in answer.data.decode() and "CSRF" not in answer.data.decode()  # no jargon


def test_a_post_with_a_wrong_token_or_origin_changes_nothing(local, workspace):
    from pipeline.workspace import Workspace

    client = local.test_client()
    good = token(client, "/applicants/3")
    with Workspace.open(workspace) as ws:
        before = ws.applicant(3).row.stage
    assert client.post("/applicants/3/move", data={"to": "已推荐", "csrf": good + "x"}).status_code == 400
    assert client.post("/applicants/3/move", data={"to": "已推荐", "csrf": good},
                       headers={"Origin": "http://evil.example"}).status_code == 403
    with Workspace.open(workspace) as ws:
        assert ws.applicant(3).row.stage == before


def test_on_loopback_only_a_local_host_name_is_accepted(local):
    client = local.test_client()
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400  # DNS rebinding
    assert local_host_header("[::1]:8000") and not local_host_header("127.0.0.1.evil.example")


# --- staff actions -------------------------------------------------------------------------------


def test_staff_move_and_decide_are_recorded_under_their_name(lan, workspace):
    from pipeline.workspace import Workspace

    client = signed_in(lan, "staff1")
    csrf = session_token(client)
    with Workspace.open(workspace) as ws:
        target = next(r for r in ws.applicants(limit=None).items if r.stage == "材料齐全")
    answer = client.post(f"/applicants/{target.id}/move", data={"to": "已推荐", "note": "推荐", "csrf": csrf})
    assert answer.status_code == 302
    answer = client.post(f"/applicants/{target.id}/move", data={"to": "获奖", "csrf": csrf})
    assert answer.status_code == 400 and "不能从" in answer.data.decode()  # only the program's moves
    with Workspace.open(workspace) as ws:
        detail = ws.applicant(target.id)
    assert detail.row.stage == "已推荐" and detail.moves[-1]["by"] == "staff1"
    assert any(e["action"] == "move" and e["by"] == "staff1" for e in site_of(lan).store.audit_log())


def test_a_move_refused_on_the_page_says_why_in_chinese(lan, workspace):
    from pipeline.workspace import Workspace

    client = signed_in(lan, "staff1")
    with Workspace.open(workspace) as ws:
        target = next(r for r in ws.applicants(limit=None).items if r.stage == "需补正")
    answer = client.post(f"/applicants/{target.id}/move", data={"to": "材料齐全", "csrf": session_token(client)})
    page = answer.data.decode()
    assert answer.status_code == 400 and "不能移到“材料齐全”" in page and "未处理" in page
    with Workspace.open(workspace) as ws:
        assert ws.applicant(target.id).row.stage == "需补正"


def test_bulk_move_reports_what_it_could_not_move(lan, workspace):
    from pipeline.workspace import Workspace

    client = signed_in(lan, "staff1")
    with Workspace.open(workspace) as ws:
        stages = {r.id: r.stage for r in ws.applicants(limit=None).items}
    incomplete = [i for i, s in stages.items() if s == "需补正"]
    answer = client.post("/applicants/bulk", data={"ids": [str(i) for i in incomplete], "action": "move",
                                                   "to": "公示", "csrf": session_token(client)},
                         follow_redirects=True)
    assert "已把 0 份申报移到“公示”" in answer.data.decode() and "未移动" in answer.data.decode()
    with Workspace.open(workspace) as ws:
        assert {r.id: r.stage for r in ws.applicants(limit=None).items} == stages


def test_record_and_original_downloads_go_by_id_only(lan, workspace):
    from pipeline.workspace import Workspace

    client = signed_in(lan, "staff1")
    with Workspace.open(workspace) as ws:
        mine = ws.applicant(1).versions[-1].files[0]
        other = ws.applicant(2).versions[-1].files[0]["sha256"]
        stored = ws.store.path(mine["sha256"]).read_bytes()
    answer = client.get(f"/applicants/1/files/{mine['sha256']}")
    assert answer.status_code == 200 and answer.data == stored
    assert client.get(f"/applicants/1/files/{other}").status_code == 404  # another applicant's file
    assert client.get("/applicants/1/files/..%2F..%2Fworkspace.yaml").status_code == 404
    assert client.get("/applicants/999/record.json").status_code == 404
    record = client.get("/applicants/1/record.json")
    assert record.status_code == 200 and record.json["applicant_id"] if "applicant_id" in record.json else True
    assert client.get("/jobs/nope/files/0").status_code == 404


# --- reviewers -----------------------------------------------------------------------------------


def test_a_reviewer_sees_only_the_applicants_assigned_to_them(lan, workspace):
    client = signed_in(lan, "reviewer1")
    listing = client.get("/review").data.decode()
    assert "/review/1\"" in listing and "/review/2\"" not in listing
    assert client.get("/review/1").status_code == 200
    assert client.get("/review/2").status_code == 404  # not theirs: as if it did not exist
    assert client.post("/review/2", data={"opinion": "x", "csrf": session_token(client)}).status_code == 404
    assert client.get("/applicants/2").status_code == 403
    assert client.get("/applicants/1/record.json").status_code == 200  # theirs: the documents open
    assert client.get("/applicants/2/record.json").status_code == 404
    other = signed_in(lan, "reviewer2")
    assert other.get("/review/1").status_code == 404


def test_opinions_with_a_score_reach_the_staff_tally(lan, workspace):
    client = signed_in(lan, "reviewer1")
    answer = client.post("/review/1", data={"opinion": "材料扎实，推荐", "recommend": "yes", "score": "88.5",
                                            "csrf": session_token(client)})
    assert answer.status_code == 302
    bad = client.post("/review/1", data={"opinion": "x", "score": "120", "csrf": session_token(client)})
    assert bad.status_code == 400 and "评分" in bad.data.decode()
    tally = signed_in(lan, "staff1").get("/review").data.decode()
    row = re.search(r"/applicants/1\".*?</tr>", tally, re.S).group(0)
    assert "reviewer1" in row and "88.5" in row


def test_staff_assign_only_reviewer_accounts(lan):
    client = signed_in(lan, "staff1")
    answer = client.post("/review/assign", data={"reviewer": "staff1", "ids": ["2"], "csrf": session_token(client)})
    assert answer.status_code == 400
    assert 2 not in site_of(lan).store.assigned("staff1")


# --- uploads: limits and the gate ----------------------------------------------------------------


def test_upload_names_cannot_climb_out_of_the_staging_folder(tmp_path):
    from werkzeug.datastructures import FileStorage

    assert upload_parts("../../etc/passwd") == ["etc", "passwd"]
    assert upload_parts("..\\..\\C:\\x.docx") == ["x.docx"]
    assert upload_parts("/abs/a.docx") == ["abs", "a.docx"]
    assert upload_parts("..") == [] and upload_parts("a/.hidden/x.docx") == []
    uploads = [FileStorage(io.BytesIO(b"one"), filename="../../evil.docx"),
               FileStorage(io.BytesIO(b"two"), filename="evil.docx"),
               FileStorage(io.BytesIO(b"three"), filename="../")]
    folder = tmp_path / "stage" / "inbox"
    saved = save_uploads(uploads, folder, 10_000, 10)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["stage/inbox/evil (2).docx", "stage/inbox/evil.docx"]
    assert (folder / "evil.docx").read_bytes() == b"one" and saved.refused == ["../"]


def test_an_oversized_or_too_numerous_upload_is_refused_and_nothing_is_received(workspace):
    from pipeline.workspace import Workspace

    app = create_app(workspace, testing=True, limits={"upload_size": 4096, "upload_files": 2})
    client = app.test_client()
    with Workspace.open(workspace) as ws:
        before = ws.applicants(limit=None).total
    big = client.post("/receive", data={"csrf": token(client, "/receive"),
                                        "files": [(io.BytesIO(b"x" * 10_000), "big.docx")]})
    assert big.status_code == 413 and "大小" in big.data.decode()
    many = client.post("/receive", data={"csrf": token(client, "/receive"),
                                         "files": [(io.BytesIO(b"x"), f"{n}.docx") for n in range(3)]})
    assert many.status_code == 413 and "最多" in many.data.decode()
    with Workspace.open(workspace) as ws:
        assert ws.applicants(limit=None).total == before
    assert not list((workspace / "web").glob("upload-*"))


def test_receiving_through_the_page_matches_the_library_and_knows_what_is_already_there(local, workspace):
    client = local.test_client()
    inbox = SAMPLES / "inbox"
    files = [(io.BytesIO(p.read_bytes()), "../" + p.relative_to(inbox.parent).as_posix())
             for p in sorted(inbox.rglob("*")) if p.is_file() and "龙江建工" not in str(p)]
    licence = inbox / "哈尔滨电机厂有限责任公司" / "营业执照.png"  # a page added: a new version
    files.append((io.BytesIO(licence.read_bytes()), "inbox/哈尔滨电机厂有限责任公司/营业执照（副本）.png"))
    files.append((io.BytesIO(b"not a document"), "inbox/胡乱文件.docx"))
    answer = client.post("/receive", data={"csrf": token(client, "/receive"), "received": "2017-06-18",
                                           "files": files})
    assert answer.status_code == 302
    site = site_of(local)
    job = site.runner.wait(site.runner.get(answer.location.rsplit("/", 1)[-1]))
    assert job.state == "done", job.message
    received = job.result["received"]
    # Byte-identical entries were received by the fixture: recognised, not parsed again.
    assert "北方家电申报材料.zip" in received["unchanged"] and "冰城家政服务有限公司.docx" in received["unchanged"]
    # The folder with a page more is a new version; the junk file a new applicant with an error record.
    assert [(r["company_name"], r["seq"]) for r in received["versions"]] == [("哈尔滨电机厂有限责任公司", 2)]
    assert any(r["source"] == "胡乱文件.docx" for r in received["new"])
    page = client.get(answer.location).data.decode()
    assert "已收到过（" in page and "新版本（1）" in page
    detail = client.get(f"/applicants/{received['versions'][0]['applicant_id']}").data.decode()
    assert "第 2 版" in detail and "与上一版相比：</b>已解决" in detail  # the library's comparison, shown
    assert not (workspace.parent / "inbox").exists() and not list((workspace / "web").glob("upload-*"))
    with pytest.raises(Exception):
        site.job_dir(job.id)  # a job's folder is never reused


def test_a_failing_job_says_why_in_chinese_and_keeps_the_worker(workspace):
    from pipeline.common.errors import UserError
    from pipeline.web.jobs import Runner

    runner = Runner()

    def broken(job):
        raise UserError("找不到活动文件")

    def buggy(job):
        raise KeyError("x")

    first = runner.wait(runner.submit("a", "u", broken))
    second = runner.wait(runner.submit("b", "u", buggy))
    third = runner.wait(runner.submit("c", "u", lambda job: "好了"))
    assert (first.state, first.message) == ("failed", "找不到活动文件")
    assert second.state == "failed" and "“b”未能完成" in second.message and "KeyError" not in second.message
    assert (third.state, third.message) == ("done", "好了")


# --- 申报自检 ------------------------------------------------------------------------------------


def test_self_check_is_off_unless_asked(lan):
    assert lan.test_client().get("/selfcheck").status_code == 404


def test_self_check_shows_the_issues_and_keeps_nothing(local, workspace):
    from pipeline.workspace import Workspace

    client = local.test_client()
    with Workspace.open(workspace) as ws:
        before = ws.applicants(limit=None).total
    stored = sorted((workspace / "store").rglob("*.bin"))
    packet = SAMPLES / "inbox" / "冰城家政服务有限公司.docx"
    answer = client.post("/selfcheck", data={"csrf": token(client, "/selfcheck"),
                                             "files": [(io.BytesIO(packet.read_bytes()), packet.name)]})
    assert answer.status_code == 302
    site = site_of(local)
    job = site.checker.wait(site.checker.get(answer.location.rsplit("/", 1)[-1]))
    assert job.state == "done", job.message
    check = job.result["check"]
    assert check["company"] == "冰城家政服务有限公司" and check["errors"] >= 1
    page = client.get(answer.location).data.decode()
    assert "必须修改" in page and "缺少《实施用户满意工程情况的报告》" in page
    with Workspace.open(workspace) as ws:
        assert ws.applicants(limit=None).total == before
    assert sorted((workspace / "store").rglob("*.bin")) == stored
    assert not list((workspace / "web").glob("upload-*"))


def test_self_check_has_its_own_size_and_rate_limits(workspace):
    app = create_app(workspace, testing=True, self_check=True,
                     limits={"selfcheck_size": 2048, "selfcheck_per_hour": 2})
    client = app.test_client()
    csrf = token(client, "/selfcheck")
    big = client.post("/selfcheck", data={"csrf": csrf, "files": [(io.BytesIO(b"x" * 5000), "a.docx")]})
    assert big.status_code == 413
    for _ in range(2):  # the refused oversized one did not count
        assert client.post("/selfcheck", data={"csrf": csrf, "files": [(io.BytesIO(b"x"), "a.docx")]}).status_code == 302
    third = client.post("/selfcheck", data={"csrf": csrf, "files": [(io.BytesIO(b"x"), "a.docx")]})
    assert third.status_code == 429 and "太多" in third.data.decode()
    limit = RateLimit(2, seconds=10)
    assert limit.allow("a", 0) and limit.allow("a", 1) and not limit.allow("a", 2) and limit.allow("a", 11)
    assert limit.allow("b", 2)


# --- accounts ------------------------------------------------------------------------------------


def test_user_add_from_the_command_line(workspace):
    from click.testing import CliRunner

    from pipeline.cli import cli

    runner = CliRunner()
    done = runner.invoke(cli, ["user", "add", "李华", "--role", "reviewer", "--workspace", str(workspace),
                               "--password", "long enough pw"])
    assert done.exit_code == 0, done.output
    app = create_app(workspace, host=LAN, testing=True)
    assert site_of(app).store.user("李华")["role"] == "reviewer"
    bad = runner.invoke(cli, ["user", "add", "x", "--role", "reviewer", "--workspace", str(workspace),
                              "--password", "short"])
    assert bad.exit_code == 2 and "密码至少 8 个字符" in bad.output
    nowhere = runner.invoke(cli, ["user", "add", "x", "--role", "staff", "--workspace",
                                  str(workspace.parent / "none"), "--password", "long enough pw"])
    assert nowhere.exit_code == 2 and "不是工作区" in nowhere.output


def test_serve_refuses_a_lan_host_without_accounts(tmp_path):
    from pipeline.common.errors import UserError
    from pipeline.web.server import page_url, serve, startup_lines
    from pipeline.workspace import Workspace

    Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)).close()
    with pytest.raises(UserError, match="manyi user add"):
        serve(tmp_path / "ws", host="0.0.0.0", port=0)
    assert page_url("0.0.0.0", 8000) == "http://127.0.0.1:8000/"
    assert "无需登录" in "".join(startup_lines(tmp_path, "127.0.0.1", 8000, False))
    shutil.rmtree(tmp_path / "ws")


# --- jobs of the pages: packets, downloads, previews ----------------------------------------------


def run_job(app, client, url: str, data: dict | None = None):
    """POST to a page that starts a job; return the finished job and its page."""
    answer = client.post(url, data={"csrf": session_token(client), **(data or {})})
    assert answer.status_code == 302, answer.data.decode()[:400]
    site = site_of(app)
    job = site.runner.wait(site.runner.get(answer.location.rsplit("/", 1)[-1]), seconds=300)
    assert job.state == "done", job.message
    return job, client.get(answer.location).data.decode()


def test_blank_packets_and_roster_packets(lan):
    import zipfile

    client = signed_in(lan, "staff1")
    job, page = run_job(lan, client, "/packets/blank")
    names = [p.name for p in job.files]
    assert "申报材料（企业类）.docx" in "".join(names) or any(n.endswith(".docx") for n in names)
    assert len([n for n in names if n.endswith(".docx")]) >= 4
    first = client.get(f"/jobs/{job.id}/files/0")
    assert first.status_code == 200 and first.data[:2] == b"PK"
    assert client.get(f"/jobs/{job.id}/files/{len(job.files)}").status_code == 404
    roster = SAMPLES / "企业名单.xlsx"
    answer = client.post("/packets/roster", data={"csrf": session_token(client),
                                                  "roster": (io.BytesIO(roster.read_bytes()), roster.name)})
    site = site_of(lan)
    job = site.runner.wait(site.runner.get(answer.location.rsplit("/", 1)[-1]), seconds=300)
    assert job.state == "done", job.message
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/jobs/{job.id}/files/0").data))
    assert len([n for n in archive.namelist() if n.endswith(".docx")]) >= 2
    not_xlsx = client.post("/packets/roster", data={"csrf": session_token(client),
                                                    "roster": (io.BytesIO(b"x"), "名单.txt")})
    assert not_xlsx.status_code == 400 and ".xlsx" in not_xlsx.data.decode()


def test_a_reviewer_cannot_see_a_staff_job(lan):
    staff = signed_in(lan, "staff1")
    job, _ = run_job(lan, staff, "/downloads/tables")
    reviewer = signed_in(lan, "reviewer1")
    assert reviewer.get(f"/jobs/{job.id}").status_code == 404
    assert reviewer.get(f"/jobs/{job.id}/files/0").status_code == 404


def test_notices_are_written_once_per_version(lan, workspace):
    import zipfile

    from pipeline.workspace import Workspace

    client = signed_in(lan, "staff1")
    with Workspace.open(workspace) as ws:
        failing = [r.id for r in ws.applicants(status="incomplete", limit=None).items]
    assert len(failing) >= 2
    picked, _ = run_job(lan, client, "/applicants/bulk", {"action": "notices", "ids": [str(failing[0])]})
    assert picked.message.startswith("已生成 1 份补正通知")
    with Workspace.open(workspace) as ws:
        assert [len(ws.applicant(i).notices) for i in failing[:2]] == [1, 0]
    job, page = run_job(lan, client, "/downloads/notices")
    assert job.files and job.message.startswith(f"已生成 {len(failing) - 1} 份补正通知")
    archive = zipfile.ZipFile(job.files[0])
    assert "notices.xlsx" in [Path(n).name for n in archive.namelist()]
    again, _ = run_job(lan, client, "/downloads/notices")
    assert not again.files and "没有需要新发的补正通知" in again.message


def test_page_previews_are_rendered_from_the_documents(lan, workspace):
    from pipeline.workspace import Workspace

    client = signed_in(lan, "staff1")
    with Workspace.open(workspace) as ws:
        target = next(r.id for r in ws.applicants(limit=None).items if r.company_name == "齐齐哈尔重型电器有限公司")
        pdf = next(f for f in ws.applicant(target).versions[-1].files if f["name"].endswith("测评报告.pdf"))
    job, _ = run_job(lan, client, f"/applicants/{target}/previews")
    assert "预览" in job.message
    page = client.get(f"/applicants/{target}").data.decode()
    url = f"/applicants/{target}/preview/{pdf['sha256']}/1.png"
    assert url in page
    image = client.get(url)
    assert image.status_code == 200 and image.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/applicants/1/preview/{pdf['sha256']}/1.png").status_code == 404  # not applicant 1's file


def test_serving_a_folder_that_is_not_a_workspace_writes_nothing(tmp_path):
    from pipeline.common.errors import UserError

    with pytest.raises(UserError, match="不是工作区"):
        create_app(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()


def test_values_are_shown_as_printed():
    from pipeline.web.views import shown_value

    options = {"yes": "符合", "no": "不符合", "enterprise": "企业类"}
    assert shown_value(True, options) == "符合" and shown_value(False) == "否"
    assert shown_value("enterprise", options) == "企业类" and shown_value("自填", options) == "自填"
    assert shown_value({"start": "2017-01-05", "end": "2017-03-20"}) == "2017-01-05 至 2017-03-20"
    assert shown_value(None) == "—" and shown_value(["a", "b"]) == "a、b" and shown_value(0) == "0"


def test_an_administrator_adds_accounts_on_the_page(lan):
    client = signed_in(lan, "admin1")
    answer = client.post("/users", data={"name": "赵审", "role": "reviewer", "password": PASSWORD,
                                         "csrf": session_token(client)}, follow_redirects=True)
    assert answer.status_code == 200 and "已添加账号 赵审（评审专家）" in answer.data.decode()
    assert site_of(lan).store.user("赵审")["role"] == "reviewer"
    weak = client.post("/users", data={"name": "钱", "role": "staff", "password": "123",
                                       "csrf": session_token(client)})
    assert weak.status_code == 400 and "密码至少 8 个字符" in weak.data.decode()
    assert site_of(lan).store.user("钱") is None
    log = client.get("/audit").data.decode()
    assert "保存账号" in log and "admin1" in log


def test_an_opinion_that_ends_like_a_score_is_kept_as_typed(lan, workspace):
    client = signed_in(lan, "reviewer1")
    answer = client.post("/review/1", data={"opinion": "同意（评分 70）", "recommend": "yes", "score": "",
                                            "csrf": session_token(client)})
    assert answer.status_code == 302
    tally = signed_in(lan, "staff1").get("/review").data.decode()
    row = re.search(r"/applicants/1\".*?</tr>", tally, re.S).group(0)
    assert "reviewer1" in row and "70" not in row
    page = signed_in(lan, "staff1").get("/applicants/1").data.decode()
    assert "同意（评分 70）" in page and "评分 70</span>" not in page



def test_the_page_of_an_applicant_sent_a_notice_lists_it(lan, workspace, tmp_path):
    from pipeline.workspace import Workspace
    from pipeline.workspace.outputs import workspace_notices

    with Workspace.open(workspace) as ws:
        incomplete = [r.id for r in ws.applicants().items if r.errors]
        workspace_notices(ws, tmp_path / "notices", by="王敏", only={incomplete[0]})
        number = ws.applicant(incomplete[0]).notices[-1]["number"]
    page = signed_in(lan, "staff1").get(f"/applicants/{incomplete[0]}").data.decode()
    assert re.search(number + r" · [\d-]+ · [1-9]\d* 项", page), page


def web_imports() -> dict[str, set[str]]:
    """Return each module of pipeline/web → the pipeline.web modules it imports, at module level or in a function."""
    import ast

    package = Path(__file__).resolve().parents[1] / "pipeline" / "web"
    names = {p.stem for p in package.glob("*.py")}
    graph = {}
    for path in package.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "pipeline.web":
                found |= {a.name for a in node.names if a.name in names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipeline.web."):
                found.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("pipeline.web.")}
        graph[path.stem] = found - {path.stem}
    return graph


def test_the_web_package_has_no_import_cycle_and_blueprints_import_only_the_context():
    graph = web_imports()
    assert graph["app"] >= {"pages", "campaign_pages", "context"}  # the reading of imports finds what is there
    done, path = set(), []

    def visit(module):
        assert module not in path, " → ".join(path + [module])
        if module in done:
            return
        path.append(module)
        for other in sorted(graph.get(module, ())):
            visit(other)
        path.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)
    for blueprint in ("pages", "campaign_pages"):
        assert not graph[blueprint] & {"app", "pages", "campaign_pages", "server"}, (blueprint, graph[blueprint])
    assert not graph["context"] & {"app", "pages", "campaign_pages", "views"}
    assert not graph["views"] & {"app", "pages", "campaign_pages", "context"}
