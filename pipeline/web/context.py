"""What every blueprint of the page shares, and the only web module they import: the Site (the workspace,
its job runners and limits), the request's user, route registration with a permission, jobs and the
audit log.

The blueprints (`pages`, `campaign_pages`) import this module and the library, never each other or
`app`; `app` builds the Flask application and registers them. Like datasette's views, a view reaches
the application through the request (`current_app`), not by importing it.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, current_app, g, redirect, request, url_for

from pipeline.web import auth
from pipeline.web.jobs import Jobs, Runner
from pipeline.web.security import WEB_LIMITS, RateLimit, SignInLimit, TooMuch, is_loopback, save_uploads
from pipeline.workspace import Workspace

WEB_DIR = "web"  # the page's own files inside the workspace: secret key, outputs of jobs, previews
#: The Flask extension key the Site is kept under.
EXTENSION = "manyi"


@dataclass
class Site:
    """What the pages share: the workspace, the campaign, the job runners and the limits."""

    root: Path
    host: str = "127.0.0.1"
    self_check: bool = False
    verify_only: bool = False  # only the public verify page (and static files): no staff page, no sign-in
    limits: dict = field(default_factory=lambda: dict(WEB_LIMITS))
    runner: Jobs | None = None  # the workspace's stored jobs (made once the workspace is open)
    checker: Runner | None = None  # 申报自检 runs in its own queue: applicants never wait for staff work
    selfcheck_rate: RateLimit | None = None
    sign_in_limit: SignInLimit = field(default_factory=SignInLimit)
    lock: threading.Lock = field(default_factory=threading.Lock)
    store: object = None  # pipeline.web.store.Store, once the workspace is open
    _ws: Workspace | None = None

    sign_in: bool = False  # accounts even on 127.0.0.1 (`manyi serve --sign-in`: a PC several staff share)

    @property
    def loopback(self) -> bool:
        """Whether only this computer can reach the page."""
        return is_loopback(self.host)

    @property
    def local(self) -> bool:
        """Whether the page has its one local user and no sign-in: loopback, unless accounts were asked for."""
        return self.loopback and not self.sign_in

    @property
    def web_dir(self) -> Path:
        path = self.root / WEB_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def previews(self) -> Path:
        """The folder the page images of stored files are cached in (by SHA-256)."""
        return self.web_dir / "previews"

    @property
    def ws(self) -> Workspace:
        """The workspace, opened once (its database brought up to date, backed up first, by the library)."""
        with self.lock:
            if self._ws is None:
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


def site() -> Site:
    """Return the Site of the application answering this request."""
    return current_app.extensions[EXTENSION]


def ws() -> Workspace:
    """Return the workspace the page serves."""
    return site().ws


def user_name() -> str:
    """Return the name of who makes this request ('' when nobody is signed in)."""
    return g.user.name if g.get("user") else ""


def audit_line(user: auth.User | None, action: str, target: str = "", detail: str = "") -> dict:
    """Given who did what to what, return the audit entry (time in UTC, ISO)."""
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "user": user.name if user else "",
            "action": action, "target": target, "detail": detail,
            "address": request.remote_addr if request else ""}


def audit(action: str, target: str = "", detail: str = "", applicant_id: int | None = None) -> None:
    """Record who did what in the workspace's audit log (what the library does, it records itself)."""
    site().store.audit({**audit_line(g.get("user"), action, target, detail), "applicant_id": applicant_id})


def route(bp: Blueprint, rule: str, permission: str, methods=("GET",), upload: str | None = None):
    """Register a view of blueprint `bp` under `rule` needing `permission` (checked before every request);
    `upload` names the limit (of `WEB_LIMITS`) a POST's body may not exceed."""
    if permission not in auth.PERMISSIONS:
        raise ValueError(f"unknown permission {permission}")

    def register(view):
        bp.add_url_rule(rule, view.__name__, view, methods=list(methods))
        endpoint = f"{bp.name}.{view.__name__}"

        def record(state):  # run when the blueprint is registered on an application
            state.app.config["PERMISSIONS"][endpoint] = permission
            if upload:
                state.app.config["UPLOAD_LIMITS"][endpoint] = upload

        bp.record(record)
        return view

    return register


def start_job(kind: str, title=None, target: str = "", **params):
    """Queue a job and return the redirect to its page; record it in the audit log.

    `start_job(kind, title, target, **params)`: a registered kind (`pipeline.web.tasks`) with JSON parameters,
    stored, run by any worker, restartable after a crash. The older `start_job(title, work, target)` with
    `work(job, folder)` a function still works: that work runs in this process (it cannot be stored), its row,
    progress and files are stored all the same."""
    s = site()
    if callable(title):
        title, work = kind, title
        job = s.runner.submit_work(title, user_name(), work, target)
    else:
        job = s.runner.submit(kind, title, user_name(), target, params)
    audit(title, target)
    return redirect(url_for("pages.job_page", job_id=job.id))


def relative(path: Path) -> str:
    """Given a path inside the workspace folder (a staged upload), return it relative to the folder, as a job's
    parameters keep it (a worker on another computer has the folder elsewhere)."""
    return Path(path).resolve().relative_to(site().root.resolve()).as_posix()


def staged(files, limit_size: str, limit_files: str):
    """Given uploaded files, save them in a new staging folder of the workspace; return Saved (or raise TooMuch)."""
    s = site()
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=s.web_dir))
    try:
        return save_uploads(files, folder / "inbox", s.limits[limit_size], s.limits[limit_files])
    except TooMuch:
        shutil.rmtree(folder, ignore_errors=True)
        raise
