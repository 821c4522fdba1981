"""The Flask application: one workspace, its pages, and the checks every request goes through.

Every request passes, in order: the Host check (on 127.0.0.1 only a local name is accepted, so
a web page elsewhere cannot reach the workspace through DNS rebinding), the sign-in (none for
the one local user of 127.0.0.1), the route's permission (a route without one is refused), and
for a POST the CSRF token of the session and the Origin. Pages are in `pages.py`.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, abort, g, jsonify, redirect, render_template, request, session, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from pipeline.common.errors import UserError
from pipeline.web import auth
from pipeline.web.jobs import Runner
from pipeline.web.security import WEB_LIMITS, TooMuch, RateLimit, is_loopback, local_host_header, new_token, same_token

PACKAGE = Path(__file__).resolve().parent
WEB_DIR = "web"  # the page's own files inside the workspace: secret key, outputs of jobs, previews


@dataclass
class Site:
    """What the pages share: the workspace, the campaign, the job runners and the limits."""

    root: Path
    host: str = "127.0.0.1"
    self_check: bool = False
    verify_only: bool = False  # only the public verify page (and static files): no staff page, no sign-in
    limits: dict = field(default_factory=lambda: dict(WEB_LIMITS))
    runner: Runner = field(default_factory=Runner)
    checker: Runner | None = None  # 申报自检 runs in its own queue: applicants never wait for staff work
    selfcheck_rate: RateLimit | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    store: object = None  # pipeline.web.store.Store, once the workspace is open
    _ws: object = None

    @property
    def local(self) -> bool:
        """Whether only this computer can reach the page (no sign-in then)."""
        return is_loopback(self.host)

    @property
    def web_dir(self) -> Path:
        path = self.root / WEB_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def ws(self):
        """The workspace, opened once (its database brought up to date, backed up first, by the library)."""
        with self.lock:
            if self._ws is None:
                from pipeline.workspace import Workspace

                self._ws = Workspace.open(self.root)
            return self._ws

    def campaign(self):
        """Return the workspace's campaign (the copy staff may edit), read afresh."""
        return self.ws.campaign

    def job_dir(self, job_id: str) -> Path:
        """Given a job id, return the folder its outputs go in (created; never reused)."""
        path = self.web_dir / "jobs" / job_id
        path.mkdir(parents=True, exist_ok=False)
        return path


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


def route(app: Flask, rule: str, permission: str, methods=("GET",)):
    """Register a view under `rule` needing `permission`; the permission is checked before every request."""
    if permission not in auth.PERMISSIONS:
        raise ValueError(f"unknown permission {permission}")

    def register(view):
        app.add_url_rule(rule, view.__name__, view, methods=list(methods))
        app.config["PERMISSIONS"][view.__name__] = permission
        return view

    return register


def create_app(root: Path, host: str = "127.0.0.1", self_check: bool = False, limits: dict | None = None,
               testing: bool = False, verify_only: bool = False) -> Flask:
    """Given a workspace folder and how it is served, return the Flask application."""
    from pipeline.web import pages, store, verify

    site = Site(root=Path(root), host=host, self_check=self_check and not verify_only, verify_only=verify_only,
                limits={**WEB_LIMITS, **(limits or {})})
    site.ws  # a workspace, or the library's Chinese error, before anything is written in the folder
    if site.self_check:
        site.checker = Runner("manyi-selfcheck")
        site.selfcheck_rate = RateLimit(site.limits["selfcheck_per_hour"])
    app = Flask("pipeline.web", template_folder=str(PACKAGE / "templates"), static_folder=str(PACKAGE / "static"))
    app.config.update(
        SECRET_KEY=secret_key(site.web_dir), SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="manyi_session", MAX_CONTENT_LENGTH=site.limits["upload_size"],
        MAX_FORM_PARTS=site.limits["upload_files"] + 50, PERMISSIONS={}, TESTING=testing,
        SEND_FILE_MAX_AGE_DEFAULT=0, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.json.ensure_ascii = False  # Chinese messages stay readable in the polling answers
    app.extensions["manyi"] = site
    site.store = store.Store(site.ws)
    app.before_request(lambda: check_request(app, site))
    app.context_processor(lambda: {"user": g.get("user"), "csrf_field": csrf_field, "site": site,
                                   "csrf_token": session.get("csrf", "")})
    register_errors(app)
    verify.register_page(app)
    if not verify_only:
        route(app, "/login", "public", ("GET", "POST"))(pages.login)
        pages.register(app, site)
    return app


def check_request(app: Flask, site: Site):
    """Run the checks every request goes through; return a response to stop it, or None to go on."""
    if site.local and not local_host_header(request.host):
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
            return redirect(url_for("login", next=request.full_path if request.query_string else request.path))
        abort(401)
    if g.user is not None and not g.user.can(permission):
        abort(403)
    if request.method == "POST":
        limit = site.limits.get(app.config.get("UPLOAD_LIMITS", {}).get(request.endpoint, ""))
        if limit:
            request.max_content_length = limit
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
            abort(403, "请求来源不符")
        given = request.headers.get("X-CSRF-Token") or request.form.get("csrf")
        if not same_token(given, session.get("csrf")):
            abort(400, "表单已过期或来源不明（缺少 CSRF 令牌），请刷新页面后重试")
    return None


def current_user(site: Site) -> auth.User | None:
    """Return who makes this request: the local user on 127.0.0.1, else the signed-in account (or None)."""
    if site.local:
        return auth.LOCAL_USER
    name = session.get("user")
    if not name:
        return None
    found = site.store.user(name)
    if found is None or found.get("disabled"):
        session.pop("user", None)
        return None
    return auth.User(name=found["name"], role=found["role"])


def csrf_field() -> Markup:
    """Return the hidden input every form carries."""
    return Markup(f'<input type="hidden" name="csrf" value="{session.get("csrf", "")}">')


ERRORS_ZH = {400: "请求无效", 401: "请先登录", 403: "没有权限", 404: "找不到页面", 405: "不支持的操作",
             413: "上传的文件太大", 429: "操作太频繁", 500: "服务器内部错误"}


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
        if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
            return jsonify(error=ERRORS_ZH.get(code, "错误"), detail=detail), code
        return render_template("error.html", code=code, title=ERRORS_ZH.get(code, "错误"), detail=detail), code

    for code in ERRORS_ZH:
        app.register_error_handler(code, handle)
    app.register_error_handler(Exception, handle)


def site_of(app: Flask) -> Site:
    """Given the application, return its Site."""
    return app.extensions["manyi"]


def audit_line(user: auth.User | None, action: str, target: str = "", detail: str = "") -> dict:
    """Given who did what to what, return the audit entry (time in UTC, ISO)."""
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "user": user.name if user else "",
            "action": action, "target": target, "detail": detail,
            "address": request.remote_addr if request else ""}
