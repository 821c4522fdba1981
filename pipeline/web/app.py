"""The Flask application: one workspace, its pages, and the checks every request goes through.

Every request passes, in order: the Host check (on 127.0.0.1 only a local name is accepted, so
a web page elsewhere cannot reach the workspace through DNS rebinding), the sign-in (none for
the one local user of 127.0.0.1), the route's permission (a route without one is refused), and
for a POST the CSRF token of the session and the Origin. The pages are blueprints (`pages.py`,
`campaign_pages.py`) over the shared context (`context.py`); this module only assembles them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for
from markupsafe import Markup
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from pipeline.common.errors import UserError
from pipeline.web import account_pages, auth, campaign_pages, junk_pages, pages, portal, tasks, verify  # noqa: F401 (tasks)
from pipeline.web import review as review_pages
from pipeline.workspace import accounts
from pipeline.workspace.receive import settle_left_over
from pipeline.web.context import EXTENSION, Site
from pipeline.web.jobs import Jobs, Runner
from pipeline.web.security import WEB_LIMITS, RateLimit, TooMuch, local_host_header, new_token, same_token
from pipeline.web.store import Store

PACKAGE = Path(__file__).resolve().parent
#: The page's blueprints, each over the context module only (never over one another).
BLUEPRINTS = (pages.bp, campaign_pages.bp, account_pages.bp, junk_pages.bp, portal.staff_bp, review_pages.bp)


def secret_key(folder: Path) -> bytes:
    """Given the page's folder in the workspace, return its session key, made once and kept there."""
    path = folder / "secret.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # O_EXCL: two servers keep one key
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        return path.read_bytes()


def create_app(root: Path, host: str = "127.0.0.1", self_check: bool = False, limits: dict | None = None,
               testing: bool = False, behind_proxy: str | None = None, verify_only: bool = False,
               portal_only: bool = False, workers: int = 1, sign_in: bool = False) -> Flask:
    """Given a workspace folder and how it is served, return the Flask application.

    `behind_proxy`: the address of the reverse proxy in front (it says by X-Forwarded-Proto/-For whether
    the browser came by HTTPS and from where); those headers are believed from that address only.
    `verify_only`: the public certificate verify page alone (no staff page, no sign-in).
    `portal_only`: the applicants' pages alone (`portal.bp`: no staff page, no sign-in).
    `workers`: job worker threads started in this process (0: jobs are run by `manyi worker` processes).
    `sign_in`: accounts on 127.0.0.1 too (a computer several staff share)."""
    verify_only = verify_only or portal_only  # the same: nobody signs in, no staff page is registered
    site = Site(root=Path(root), host=host, self_check=self_check and not verify_only, verify_only=verify_only,
                limits={**WEB_LIMITS, **(limits or {})}, sign_in=sign_in)
    site.ws  # a workspace, or the library's Chinese error, before anything is written in the folder
    if not verify_only:
        settle_left_over(site.ws)  # what a killed receive stored but never checked
    if site.self_check:
        site.checker = Runner("manyi-selfcheck")
        site.selfcheck_rate = RateLimit(site.limits["selfcheck_per_hour"])
    app = Flask("pipeline.web", template_folder=str(PACKAGE / "templates"), static_folder=str(PACKAGE / "static"))
    app.config.update(
        SECRET_KEY=secret_key(site.web_dir), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="manyi_session", MAX_CONTENT_LENGTH=site.limits["upload_size"],
        MAX_FORM_PARTS=site.limits["upload_files"] + 50, PERMISSIONS={}, UPLOAD_LIMITS={}, TESTING=testing,
        SEND_FILE_MAX_AGE_DEFAULT=0, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.json.ensure_ascii = False  # Chinese messages stay readable in the polling answers
    app.extensions[EXTENSION] = site
    site.store = Store(site.ws)
    if not verify_only or portal_only:  # the applicants' pages queue jobs too (e-mail), run by the staff's workers
        site.runner = Jobs(site.ws)
        if workers and not portal_only:
            site.runner.start_worker(threads=workers)
    app.before_request(lambda: check_request(app, site))
    # --- headers, cookies over HTTPS, a trusted proxy, sign-in limits and session versions ---
    app.session_interface = SecureWhenHttps()
    app.after_request(lambda response: after_request(site, response))
    if behind_proxy:
        app.wsgi_app = TrustedProxy(app.wsgi_app, behind_proxy)
    # ---
    app.context_processor(lambda: {"user": g.get("user"), "csrf_field": csrf_field, "site": site,
                                   "csrf_token": session.get("csrf", "")})
    register_errors(app)
    if not portal_only:
        verify.register_page(app)
    for blueprint in () if verify_only else BLUEPRINTS:
        app.register_blueprint(blueprint)
    if portal_only or not verify_only:
        app.register_blueprint(portal.bp)
    return app


def check_request(app: Flask, site: Site):
    """Run the checks every request goes through; return a response to stop it, or None to go on."""
    if site.loopback and not local_host_header(request.host):
        abort(400, "只接受通过 127.0.0.1 或 localhost 访问")
    if "csrf" not in session:
        session["csrf"] = new_token()
    g.user = None if site.verify_only else current_user(site)  # no staff page to link to
    if request.endpoint == "static":
        return None
    permission = app.config["PERMISSIONS"].get(request.endpoint)
    if permission is None:
        abort(404)  # unknown routes, and any view registered without a permission
    if permission != "public" and g.user is None:
        if request.method == "GET":
            return redirect(url_for("pages.login", next=request.full_path if request.query_string else request.path))
        abort(401)
    if g.user is not None and not g.user.can(permission):
        if request.endpoint == "campaign.home" and g.user.can("review"):  # an expert lands on their reviews
            return redirect(url_for("review.index"))
        abort(403)
    if request.method == "POST":
        limit = site.limits.get(app.config["UPLOAD_LIMITS"].get(request.endpoint, ""))
        if limit:
            request.max_content_length = limit
        elif request.blueprint == "portal":  # a form with no file, open to the internet: never megabytes
            request.max_content_length = PORTAL_FORM_SIZE
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
            abort(403, "请求来源不符")
        given = request.headers.get("X-CSRF-Token") or request.form.get("csrf")
        if not same_token(given, session.get("csrf")):
            abort(400, "表单已过期或来源不明，请刷新页面后重试")
    # --- sign-in limits, equal answer time, sign-out ends every session ---
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    if request.method == "POST" and endpoint == "login" and not site.local:
        return sign_in_gate(site)
    if request.method == "POST" and endpoint == "logout" and g.user is not None and not g.user.local:
        site.store.end_sessions(g.user.name, by=g.user.name)
    # ---
    return None


def current_user(site: Site) -> auth.User | None:
    """Return who makes this request: the local user on 127.0.0.1, else the signed-in account (or None)."""
    if site.local:
        return auth.LOCAL_USER
    name = session.get("user")
    if not name:
        return None
    found = site.store.user(name)
    if found is None or found.get("disabled") or session.get("v") != found.get("session_version"):
        session.pop("user", None)  # a session ended by sign-out, a new password or role, or disabling
        return None
    return auth.User(name=found["name"], role=found["role"])


# --- accounts and transport -----------------------------------------------------------------

#: Scripts and styles only from the page's own files (no inline script anywhere), no framing, no plugins.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin"}


def sign_in_gate(site: Site):
    """Before a sign-in is checked: refuse it while its name or address has spent its failures (429);
    for an unknown or disabled name spend the one password check a real account costs."""
    name = accounts.normal_name(request.form.get("name", ""))
    if site.sign_in_limit.blocked(name, request.remote_addr or ""):
        abort(429, "登录失败次数太多，请 15 分钟后再试")
    found = site.store.user(name)
    if found is None or found.get("disabled"):
        auth.spend_one_check(request.form.get("password", ""))
    elif found.get("totp_secret"):
        # The second factor first: a wrong or used code answers like a wrong password, after one password check.
        step = auth.totp_step(found["totp_secret"], request.form.get("code", ""))
        if step is None or not site.store.use_totp_step(name, step):
            auth.spend_one_check(request.form.get("password", ""))
            site.store.audit({"user": "", "action": "登录失败", "target": name, "detail": "动态验证码不对",
                              "address": request.remote_addr or ""})
            return render_template("login.html", error="用户名、密码或动态验证码不对"), 401
    return None


def after_request(site: Site, response):
    """After every answer: the security headers; after a sign-in, count a failure or tie the new session to
    the account's session version."""
    for header, value in HEADERS.items():
        response.headers.setdefault(header, value)
    if request.method == "POST" and (request.endpoint or "").rsplit(".", 1)[-1] == "login" and not site.local:
        name = accounts.normal_name(request.form.get("name", ""))
        if response.status_code == 401:
            site.sign_in_limit.failed(name, request.remote_addr or "")
        elif session.get("user"):
            found = site.store.user(session["user"])
            session["v"] = found["session_version"] if found else None
    return response


class SecureWhenHttps(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the Secure flag whenever the browser came by HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (request and request.is_secure))


class TrustedProxy:
    """WSGI middleware: believe X-Forwarded-For/-Proto (one proxy) only on requests from the proxy's address."""

    def __init__(self, wsgi_app, proxy: str):
        self.plain, self.proxied = wsgi_app, ProxyFix(wsgi_app, x_for=1, x_proto=1)
        self.proxy = proxy

    def __call__(self, environ, start_response):
        trusted = environ.get("REMOTE_ADDR") == self.proxy
        return (self.proxied if trusted else self.plain)(environ, start_response)


# ---


def csrf_field() -> Markup:
    """Return the hidden input every form carries."""
    return Markup(f'<input type="hidden" name="csrf" value="{session.get("csrf", "")}">')


ERRORS_ZH = {400: "请求无效", 401: "请先登录", 403: "没有权限", 404: "找不到页面", 405: "不支持的操作",
             413: "上传的文件太大", 429: "操作太频繁", 500: "服务器内部错误"}


#: The most a portal form without files may carry (a link's send step, an enterprise's request for a link).
PORTAL_FORM_SIZE = 64_000


def portal_detail(code: int, detail: str) -> str:
    """Given an error's code and its explanation, return what an applicant on the portal should read instead:
    a link that opens nothing may be mistyped, revoked or replaced (the portal never says which: a guessed
    link learns nothing), and an upload too big names the limit and what to do."""
    if code == 404:
        return "链接无效或已作废：请核对链接是否完整，或使用协会最近一次发给您的链接；仍无法打开请联系协会。"
    if code == 413:
        limit = request.max_content_length
        uploads = current_app.config["UPLOAD_LIMITS"].get(request.endpoint)
        if not uploads or (limit and request.content_length and request.content_length <= limit):  # a form field
            return "提交的内容过长，请刷新页面后重新填写。"
        size = (f"（每次最多 {limit / 1_000_000:.0f} MB）" if limit >= 1_000_000 else f"（每次最多 {limit // 1000} KB）"
                ) if limit else ""
        return f"上传的文件超过大小限制{size}：请压缩扫描件或删去无关文件后重新上传。"
    return detail


def register_errors(app: Flask) -> None:
    """Answer every HTTP error with a Chinese page (or JSON for the polling script), never a traceback."""

    def handle(exc):
        if isinstance(exc, UserError):  # the library's own Chinese explanation of what cannot be done
            code = 413 if isinstance(exc, TooMuch) else 400
            return render_template("error.html", code=code, title="无法完成", detail=str(exc)), code
        if app.testing and not isinstance(exc, HTTPException):
            raise exc
        code = getattr(exc, "code", 500) or 500
        detail = getattr(exc, "description", "") if code != 500 else ""
        if not detail or detail.startswith(("The ", "You ", "A ", "This ")):  # werkzeug's English defaults
            detail = {413: "上传的文件超过大小限制，请分批上传。", 403: "当前账号没有权限做这件事。",
                      404: "页面或文件不存在。"}.get(code, "")
        if code == 500:
            detail = "服务器处理时出错，已保存的内容不受影响；请稍后重试。"
        if request.path == "/apply" or request.path.startswith("/apply/"):  # an applicant has no staff to ask
            detail = portal_detail(code, detail)
        if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
            return jsonify(error=ERRORS_ZH.get(code, "错误"), detail=detail), code
        return render_template("error.html", code=code, title=ERRORS_ZH.get(code, "错误"), detail=detail), code

    for code in ERRORS_ZH:
        app.register_error_handler(code, handle)
    app.register_error_handler(Exception, handle)


def site_of(app: Flask) -> Site:
    """Given the application, return its Site."""
    return app.extensions[EXTENSION]
