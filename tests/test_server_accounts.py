"""Accounts of a page server: the last administrator stays, a name is taken once, changes are their own
recorded actions, reserved names are refused, every session of an account ends at once, sign-in is rate
limited with one password check whatever the name, and the headers and cookies of a served page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.common.errors import UserError
from pipeline.web import auth
from pipeline.web.app import create_app, site_of
from pipeline.web.security import SignInLimit, is_loopback
from test_workspace import fresh_database, postgres  # noqa: F401 - the session's PostgreSQL cluster
from pipeline.definitions.programs import resolve_campaign

pytestmark = pytest.mark.xdist_group("workspace")

LAN = "192.0.2.10"
PASSWORD = "correct horse battery"
TEMPLATES = Path(__file__).resolve().parents[1] / "pipeline" / "web" / "templates"


@pytest.fixture(params=["sqlite", "postgresql"])
def ws(request, tmp_path):
    from pipeline.workspace import Workspace, accounts

    url = None if request.param == "sqlite" else fresh_database(request.getfixturevalue("postgres"))
    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None), db_url=url) as opened:
        accounts.migrate(opened)
        yield opened


def actions(ws) -> list[str]:
    return [e["action"] for e in ws.audit_log()]


def test_the_last_administrator_cannot_be_demoted_disabled_or_deleted(ws):
    from pipeline.workspace import accounts

    accounts.add_user(ws, "管理一", "admin", "$argon2id$a", by="命令行")
    accounts.add_user(ws, "王敏", "staff", "$argon2id$s", by="管理一")
    for change in (lambda: accounts.set_role(ws, "管理一", "staff", by="管理一"),
                   lambda: accounts.set_disabled(ws, "管理一", True, by="管理一"),
                   lambda: accounts.delete_user(ws, "管理一", by="管理一")):
        with pytest.raises(UserError, match="唯一的管理员"):
            change()
    assert accounts.user(ws, "管理一")["role"] == "admin" and not accounts.user(ws, "管理一")["disabled"]
    accounts.set_role(ws, "王敏", "admin", by="管理一")  # with a second administrator, the first may go
    accounts.set_role(ws, "管理一", "staff", by="王敏")
    accounts.delete_user(ws, "管理一", by="王敏")
    assert accounts.user(ws, "管理一") is None
    with pytest.raises(UserError, match="唯一的管理员"):
        accounts.set_disabled(ws, "王敏", True, by="王敏")
    assert actions(ws)[:3] == ["删除账号", "修改角色", "修改角色"]


def test_an_existing_name_is_refused_however_it_is_typed_and_changes_are_their_own_actions(ws):
    from pipeline.workspace import accounts

    accounts.add_user(ws, "张评审", "reviewer", "$argon2id$first", by="命令行")
    for typed in ("张评审 ", " 张评审", "张评审\u3000"):  # a trailing space, a full-width space (NFKC)
        with pytest.raises(UserError, match="已存在"):
            accounts.add_user(ws, typed, "admin", "$argon2id$other", by="王敏")
    kept = accounts.user(ws, "张评审")
    assert kept["password"] == "$argon2id$first" and kept["role"] == "reviewer"
    accounts.set_password(ws, "张评审 ", "$argon2id$second", by="王敏")
    assert accounts.user(ws, "张评审")["password"] == "$argon2id$second"
    assert actions(ws)[:2] == ["修改密码", "account"]


def test_reserved_names_are_refused(ws):
    from pipeline.web.store import COMMAND_LINE
    from pipeline.workspace import accounts
    from pipeline.workspace.core import SYSTEM

    for name in ("系统", "本机用户", "命令行", "（未登录）", SYSTEM, COMMAND_LINE, auth.LOCAL_USER.name, " 系统 "):
        with pytest.raises(UserError, match="保留"):
            accounts.add_user(ws, name, "staff", "$argon2id$x", by="王敏")
    assert accounts.all_users(ws) == []


def test_the_added_time_is_kept_and_shown(ws):
    from pipeline.workspace import accounts

    accounts.add_user(ws, "王敏", "staff", "$argon2id$x", by="命令行")
    (row,) = accounts.all_users(ws)
    assert row["created_at"] and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["created"])


def test_deleting_a_reviewer_takes_their_assignments_with_it(ws):
    import sqlalchemy as sa

    from pipeline.workspace import accounts, db

    accounts.add_user(ws, "李华", "reviewer", "$argon2id$x", by="命令行")
    with ws.engine.begin() as conn:
        stamp = db.now()
        conn.execute(sa.insert(db.applicants).values(id=7, key="k|product", company_name="甲", stage="已收到",
                                                     status="complete", errors=0, warnings=0, version_count=0,
                                                     created_at=stamp, updated_at=stamp))
    accounts.assign(ws, "李华", [7], by="王敏")
    accounts.delete_user(ws, "李华", by="王敏")
    assert accounts.assigned(ws, "李华") == set() and accounts.user(ws, "李华") is None


# --- the page ----------------------------------------------------------------------------------------


@pytest.fixture
def lan(tmp_path):
    """A page served on a LAN address over a new workspace with an administrator and a staff account."""
    from pipeline.workspace import Workspace

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)):
        pass
    app = create_app(tmp_path / "ws", host=LAN, testing=True)
    store = site_of(app).store
    store.add_user("管理一", "admin", auth.hash_password(PASSWORD))
    store.add_user("王敏", "staff", auth.hash_password(PASSWORD))
    return app


def token(client, path: str = "/login") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).data.decode())
    assert found
    return found.group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    return client.post("/login", data={"name": name, "password": password, "csrf": token(client)})


def signed_in(app, name: str, **kwargs):
    client = app.test_client(**kwargs)
    assert sign_in(client, name).status_code == 302
    return client


def client_of(app, environ: dict):
    """Given an app and WSGI environ values (the client's address, the scheme), return a test client with them."""
    client = app.test_client()
    client.environ_base.update(environ)
    return client


def reaches_home(client) -> bool:
    return client.get("/").status_code == 200


@pytest.mark.parametrize("change", ["logout", "password", "role", "disable"])
def test_sign_out_a_new_password_a_new_role_or_disabling_ends_every_session(lan, change):
    store = site_of(lan).store
    first, second = signed_in(lan, "王敏"), signed_in(lan, "王敏")
    copied = lan.test_client()
    cookie = first.get_cookie("manyi_session")
    copied.set_cookie(cookie.key, cookie.value)  # the cookie replayed from elsewhere
    assert reaches_home(first) and reaches_home(second) and reaches_home(copied)
    if change == "logout":
        assert first.post("/logout", data={"csrf": token(first, "/")}).status_code == 302
    elif change == "password":
        store.set_password("王敏", auth.hash_password("another long one"), by="管理一")
    elif change == "role":
        store.set_role("王敏", "reviewer", by="管理一")
    else:
        store.set_disabled("王敏", True, by="管理一")
    assert not reaches_home(second) and not reaches_home(copied)
    if change in ("logout", "role"):  # signing in again works, on a new session
        again = lan.test_client()
        assert sign_in(again, "王敏").status_code == 302 and again.get("/review").status_code == 200


def test_sign_in_is_limited_per_name_even_with_the_right_password(lan):
    site_of(lan).sign_in_limit = SignInLimit(per_name=3, per_address=100)
    client = lan.test_client()
    for _ in range(3):
        assert sign_in(client, "王敏", "wrong password").status_code == 401
    blocked = sign_in(client, "王敏")
    assert blocked.status_code == 429 and "登录失败次数太多" in blocked.data.decode()
    assert sign_in(lan.test_client(), "管理一").status_code == 302  # another name is not locked out


def test_sign_in_is_limited_per_address(lan):
    site_of(lan).sign_in_limit = SignInLimit(per_name=100, per_address=3)
    client = client_of(lan, {"REMOTE_ADDR": "198.51.100.7"})
    for name in ("甲", "乙", "王敏"):
        assert sign_in(client, name, "wrong password").status_code == 401
    assert sign_in(client, "管理一").status_code == 429
    other = client_of(lan, {"REMOTE_ADDR": "198.51.100.8"})
    assert sign_in(other, "管理一").status_code == 302


def test_the_default_limits_stop_thirty_wrong_passwords():
    limit, name, address = SignInLimit(), "王敏", "198.51.100.7"
    for _ in range(30):
        limit.failed(name, address)
    assert limit.blocked(name, address) and limit.blocked("别人", address) and not limit.blocked("别人", "x")


@pytest.mark.parametrize("name", ["王敏", "没有这个人", "停用的人"])
def test_every_sign_in_costs_one_password_check_whatever_the_name(lan, monkeypatch, name):
    store = site_of(lan).store
    store.add_user("停用的人", "staff", auth.hash_password(PASSWORD))
    store.set_disabled("停用的人", True, by="管理一")
    checks = []
    real = auth.password_matches

    def counted(stored, password):
        checks.append(stored)
        return real(stored, password)

    monkeypatch.setattr(auth, "password_matches", counted)
    assert sign_in(lan.test_client(), name, "wrong password").status_code == 401
    assert len(checks) == 1 and checks[0].startswith("$argon2id$")


def test_the_account_form_does_not_offer_administrator_first(lan):
    page = signed_in(lan, "管理一").get("/users").data.decode()
    options = re.findall(r'<option value="([a-z]+)"', page.split("<h2>添加账号</h2>")[1])
    assert sorted(options) == ["admin", "reviewer", "staff"] and options[0] != "admin"
    assert re.search(r"<td>王敏</td><td>工作人员</td>\s*<td>正常</td><td>—</td><td>\d{4}-\d\d-\d\d \d\d:\d\d</td>", page)


def test_adding_an_existing_name_on_the_page_is_refused_and_changes_nothing(lan):
    store = site_of(lan).store
    before = store.user("王敏")["password"]
    client = signed_in(lan, "管理一")
    answer = client.post("/users", data={"name": "王敏 ", "role": "admin", "password": "another long one",
                                         "csrf": token(client, "/users")})
    assert answer.status_code == 400 and "已存在" in answer.data.decode()
    assert store.user("王敏")["password"] == before and store.user("王敏")["role"] == "staff"


# --- headers and transport ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/login", "/nowhere", "/static/app.js", "/jobs/x.json"])
def test_every_answer_carries_the_security_headers(lan, url):
    answer = lan.test_client().get(url)
    csp = answer.headers["Content-Security-Policy"]
    directives = dict((d.split(" ", 1) + [""])[:2] for d in (x.strip() for x in csp.split(";")))
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_no_template_holds_an_inline_script():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\ssrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), template.name
        assert "javascript:" not in text.lower(), template.name


def test_the_session_cookie_is_secure_over_https_only(lan):
    client, https = lan.test_client(), "https://192.0.2.10"
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login", base_url=https).data.decode()).group(1)
    secure = client.post("/login", data={"name": "王敏", "password": PASSWORD, "csrf": csrf}, base_url=https)
    assert secure.status_code == 302
    plain = sign_in(lan.test_client(), "王敏")
    assert "; Secure" in secure.headers["Set-Cookie"] and "; Secure" not in plain.headers["Set-Cookie"]


def test_a_forwarded_https_is_believed_from_the_trusted_proxy_only(lan, tmp_path):
    app = create_app(tmp_path / "ws", host=LAN, testing=True, behind_proxy="10.0.0.1")
    https = {"X-Forwarded-Proto": "https"}
    via_proxy = sign_in_with(client_of(app, {"REMOTE_ADDR": "10.0.0.1"}), https)
    forged = sign_in_with(client_of(app, {"REMOTE_ADDR": "10.0.0.2"}), https)
    assert "; Secure" in via_proxy.headers["Set-Cookie"] and "; Secure" not in forged.headers["Set-Cookie"]
    untrusting = sign_in_with(client_of(lan, {"REMOTE_ADDR": "10.0.0.1"}), https)
    assert "; Secure" not in untrusting.headers["Set-Cookie"]  # without --behind-proxy no one is believed


def sign_in_with(client, headers: dict):
    page = client.get("/login", headers=headers).data.decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"name": "王敏", "password": PASSWORD, "csrf": csrf}, headers=headers)


@pytest.mark.parametrize("host", ["127.1", "127.0.0.1", "127.200.3.4", "::1", "[::1]", "localhost"])
def test_loopback_is_known_by_its_address(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "128.0.0.1", "127.0.0.1.example.com", ""])
def test_other_addresses_are_not_loopback(host):
    assert not is_loopback(host)


def test_a_page_on_127_1_is_the_local_page(tmp_path):
    from pipeline.workspace import Workspace

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)):
        pass
    app = create_app(tmp_path / "ws", host="127.1", testing=True)
    answer = app.test_client().get("/", base_url="http://127.1:8000")
    assert site_of(app).local and answer.status_code == 200


# --- the accounts page's controls, the second factor, accounts on a shared computer ----------------------------


def post(client, path: str, **form):
    return client.post(path, data={**form, "csrf": token(client, "/users")})


def test_each_account_control_of_the_page_is_its_own_recorded_action(lan):
    store, admin = site_of(lan).store, signed_in(lan, "管理一")
    ws = site_of(lan).ws
    assert post(admin, "/users/王敏/disable").status_code == 302 and store.user("王敏")["disabled"]
    assert sign_in(lan.test_client(), "王敏").status_code == 401
    assert post(admin, "/users/王敏/enable").status_code == 302 and not store.user("王敏")["disabled"]
    assert post(admin, "/users/王敏/role", role="reviewer").status_code == 302
    assert store.user("王敏")["role"] == "reviewer"
    assert post(admin, "/users/王敏/password", password="a new long password").status_code == 302
    assert sign_in(lan.test_client(), "王敏", "a new long password").status_code == 302
    assert post(admin, "/users/王敏/delete").status_code == 400 and store.user("王敏")  # not without confirming
    assert post(admin, "/users/王敏/delete", confirm="王敏").status_code == 302 and store.user("王敏") is None
    logged = [e["action"] for e in reversed(ws.audit_log())]
    assert [a for a in logged if a in ("停用账号", "启用账号", "修改角色", "修改密码", "删除账号")] == [
        "停用账号", "启用账号", "修改角色", "修改密码", "删除账号"]
    # The last administrator keeps their role on the page too; a control of an unknown account is not found.
    assert post(admin, "/users/管理一/role", role="staff").status_code == 400
    assert store.user("管理一")["role"] == "admin"
    assert post(admin, "/users/没有这个人/disable").status_code == 404
    staff_only = lan.test_client()
    store.add_user("李明", "staff", auth.hash_password(PASSWORD))
    assert sign_in(staff_only, "李明").status_code == 302
    assert post(staff_only, "/users/管理一/disable").status_code == 403


def code_of(secret: str, offset: int = 0) -> str:
    """Given a TOTP secret, return the code of now (+offset steps), computed by RFC 6238 directly."""
    import hashlib
    import hmac
    import struct
    import time
    from base64 import b32decode

    counter = int(time.time()) // 30 + offset
    digest = hmac.new(b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[start:start + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def test_an_administrator_turns_on_a_second_factor_and_then_needs_a_code_used_once(lan):
    admin = signed_in(lan, "管理一")
    page = admin.get("/account/totp").data.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert 'src="data:image/svg+xml' in page  # the QR code, inline, allowed by the CSP's img-src data:
    wrong = admin.post("/account/totp", data={"code": "000000" if code_of(secret) != "000000" else "111111",
                                              "csrf": token(admin, "/account/totp")})
    assert wrong.status_code == 302 and not site_of(lan).store.user("管理一")["totp_secret"]
    done = admin.post("/account/totp", data={"code": code_of(secret), "csrf": token(admin, "/account/totp")})
    assert done.status_code == 302 and site_of(lan).store.user("管理一")["totp_secret"] == secret
    assert not reaches_home(admin)  # turning it on ends the account's sessions

    plain = lan.test_client()
    assert sign_in(plain, "管理一").status_code == 401  # the password alone no longer signs in
    used = code_of(secret)  # the step the enrolment used: refused again
    replay = lan.test_client()
    answer = replay.post("/login", data={"name": "管理一", "password": PASSWORD, "code": used, "csrf": token(replay)})
    assert answer.status_code == 401 and "动态验证码" in answer.data.decode()
    later = lan.test_client()
    answer = later.post("/login", data={"name": "管理一", "password": PASSWORD, "code": code_of(secret, 1),
                                        "csrf": token(later)})
    assert answer.status_code == 302 and reaches_home(later)
    wrong_password = lan.test_client()
    answer = wrong_password.post("/login", data={"name": "管理一", "password": "not it at all",
                                                 "code": code_of(secret, -1), "csrf": token(wrong_password)})
    assert answer.status_code == 401  # an earlier step than the one used: refused, and the password is wrong too

    # Another administrator takes the second factor away (its own recorded action); the password signs in again.
    site_of(lan).store.add_user("管理二", "admin", auth.hash_password(PASSWORD))
    other = signed_in(lan, "管理二")
    assert post(other, "/users/管理一/totp-reset").status_code == 302
    assert sign_in(lan.test_client(), "管理一").status_code == 302
    assert "重置二次验证" in [e["action"] for e in site_of(lan).ws.audit_log()]


def test_sign_in_on_loopback_asks_for_accounts_when_the_computer_is_shared(tmp_path):
    from pipeline.workspace import Workspace

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)):
        pass
    shared = create_app(tmp_path / "ws", testing=True, sign_in=True)
    site_of(shared).store.add_user("王敏", "staff", auth.hash_password(PASSWORD))
    client = shared.test_client()
    assert client.get("/").status_code == 302 and "/login" in client.get("/").location
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400  # still loopback only
    assert sign_in(client, "王敏").status_code == 302 and reaches_home(client)
    assert client.get("/users").status_code == 403  # a staff account, not the local administrator
    plain = create_app(tmp_path / "ws", testing=True)
    assert plain.test_client().get("/users").status_code == 200  # without --sign-in: the one local user
