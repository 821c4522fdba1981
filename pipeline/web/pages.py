"""The page's own pages (blueprint `pages`): sign-in, jobs, 申报材料, 申报自检, accounts and the audit log.

Each view is a few lines over the library: it reads the request, calls the library (directly, or in a
job for long work), records the audit entry and renders a template. It reaches the workspace through
`context`, never through another page module.
"""

from __future__ import annotations

import shutil

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, send_file, session, url_for

from pipeline.common.errors import UserError
from pipeline.web import auth, views
from pipeline.web.context import audit, audit_line, relative, route, site, staged, start_job, user_name
from pipeline.web.security import new_token
from pipeline.web.selfcheck import check_packet

bp = Blueprint("pages", __name__)


# --- sign-in -------------------------------------------------------------------------------------


def login():
    """The sign-in page (only on a non-loopback host; the local user never signs in)."""
    s = site()
    if s.local:
        return redirect(url_for("campaign.home"))
    error = None
    if request.method == "POST":
        name, password = request.form.get("name", "").strip(), request.form.get("password", "")
        found = s.store.user(name)
        if found and not found.get("disabled") and auth.password_matches(found["password"], password):
            session.clear()
            session["user"] = found["name"]
            session["csrf"] = new_token()  # a new token with the new identity
            g.user = auth.User(found["name"], found["role"])
            audit("登录")
            target = request.args.get("next") or ""
            return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("campaign.home"))
        error = "用户名或密码不对"
        s.store.audit(audit_line(None, "登录失败", name))
    return render_template("login.html", error=error), (401 if error else 200)


def logout():
    audit("退出")
    session.clear()
    return redirect(url_for("pages.login"))


# --- jobs ----------------------------------------------------------------------------------------


def job_or_404(job_id: str):
    """Given a job id, return the job when this user may see it, else abort 404."""
    job = site().runner.get(job_id)
    if job is None or (job.user != user_name() and not g.user.can("staff")):
        abort(404)
    return job


def job_page(job_id: str):
    return render_template("job.html", job=job_or_404(job_id))


def job_status(job_id: str):
    return jsonify(job_or_404(job_id).as_json())


def job_restart(job_id: str):
    """Start an interrupted or failed job again (same page, same parameters); recorded."""
    job = job_or_404(job_id)
    if not site().runner.restart(job.id):
        raise UserError("这个任务不能重新开始（它还在进行，或是需要从原页面重新提交的任务）")
    audit("重新开始任务", job.title)
    return redirect(url_for("pages.job_page", job_id=job.id))


def job_file(job_id: str, n: int):
    """Download the n-th file a job wrote: by its index, never by a path from the client."""
    job = job_or_404(job_id)
    if not job.finished or not 0 <= n < len(job.files):
        abort(404)
    audit("下载", job.files[n].name, job.title)
    return send_file(job.files[n], as_attachment=True, download_name=job.files[n].name)


# --- 申报材料 ------------------------------------------------------------------------------------


def packets():
    return render_template("packets.html", categories=site().ws.program.category_names())


def packets_blank():
    """Write the blank packets of every category (docx, and PDF when asked), the 推荐汇总表 and the contract."""
    pdf = request.form.get("pdf") == "1"
    return start_job("blank_packets", "生成空白申报材料" + ("（含 PDF）" if pdf else ""), pdf=pdf)


def packets_roster():
    """Take a roster .xlsx; in a job, write a pre-filled packet per good row, zipped, and list the bad rows."""
    upload = request.files.get("roster")
    if not upload or not upload.filename:
        raise UserError("请选择企业名单 .xlsx 文件")
    saved = staged([upload], "roster_size", "selfcheck_files")
    if not saved.entries or saved.entries[0].suffix.lower() != ".xlsx":
        shutil.rmtree(saved.folder.parent, ignore_errors=True)
        raise UserError("企业名单须为 .xlsx 文件")
    return start_job("roster_packets", "按名单生成预填申报材料", upload.filename,
                     staging=relative(saved.folder.parent), roster=relative(saved.entries[0]))


# --- 申报自检 ------------------------------------------------------------------------------------


def selfcheck():
    s = site()
    if not s.self_check:
        abort(404)
    return render_template("selfcheck.html", limits=s.limits)


def selfcheck_post():
    """Take one applicant's packet; check it in the self-check queue; nothing of it is kept."""
    s = site()
    if not s.self_check:
        abort(404)
    if not s.selfcheck_rate.allow(request.remote_addr or ""):
        abort(429, "自检次数太多，请一小时后再试")
    saved = staged(request.files.getlist("files"), "selfcheck_size", "selfcheck_files")
    if not saved.entries:
        shutil.rmtree(saved.folder.parent, ignore_errors=True)
        raise UserError("请选择申报材料文件（Word、Excel、PDF 或压缩包）")
    campaign = s.campaign()

    def work(job):
        try:
            job.result["check"] = check_packet(saved.folder, campaign)
        finally:
            shutil.rmtree(saved.folder.parent, ignore_errors=True)

    job = s.checker.submit("申报自检", "", work)
    return redirect(url_for("pages.selfcheck_result", job_id=job.id))


def selfcheck_result(job_id: str):
    s = site()
    job = s.checker.get(job_id) if s.self_check else None
    if job is None:
        abort(404)
    if request.path.endswith(".json"):
        return jsonify(job.as_json())
    return render_template("selfcheck_result.html", job=job)


# --- accounts and the audit log ------------------------------------------------------------------


def users():
    s = site()
    if request.method == "POST":
        name, role, password = (request.form.get(k, "") for k in ("name", "role", "password"))
        auth.check_new_user(name.strip(), role, password)
        s.store.add_user(name.strip(), role, auth.hash_password(password), by=user_name())
        flash(f"已添加账号 {name.strip()}（{auth.ROLE_NAMES[role]}）")
        return redirect(url_for("pages.users"))
    return render_template("users.html", users=s.store.users(), roles=auth.ROLE_NAMES)


def selfcheck_result_json(job_id: str):
    return selfcheck_result(job_id)


def audit_page():
    w = site().ws
    return render_template("audit.html", entries=views.activity(site().store.audit_log(), w.program, w.campaign,
                                                                views.applicant_names(w)))


route(bp, "/login", "public", ("GET", "POST"))(login)
route(bp, "/logout", "user", ("POST",))(logout)
route(bp, "/jobs/<job_id>", "user")(job_page)
route(bp, "/jobs/<job_id>.json", "user")(job_status)
route(bp, "/jobs/<job_id>/files/<int:n>", "user")(job_file)
route(bp, "/jobs/<job_id>/restart", "staff", ("POST",))(job_restart)
route(bp, "/packets", "read")(packets)
route(bp, "/packets/blank", "staff", ("POST",))(packets_blank)
route(bp, "/packets/roster", "staff", ("POST",), upload="roster_size")(packets_roster)
route(bp, "/selfcheck", "public")(selfcheck)
route(bp, "/selfcheck", "public", ("POST",), upload="selfcheck_size")(selfcheck_post)
route(bp, "/selfcheck/<job_id>", "public")(selfcheck_result)
route(bp, "/selfcheck/<job_id>.json", "public")(selfcheck_result_json)
route(bp, "/users", "admin", ("GET", "POST"))(users)
route(bp, "/audit", "admin")(audit_page)
