"""The campaign's pages over the workspace library (blueprint `campaign`): 首页, 收件, 申报列表, 申报详情, 评审,
获奖与证书, 下载.

Nothing here reads, checks or decides by itself: each view asks `pipeline.workspace` and shows
the answer; every change goes through the library, which records it with the user's name.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for

from pipeline.common.errors import UserError
from pipeline.definitions.vocabulary import Decision, Status, labels
from pipeline.web import views
from pipeline.web.context import audit, relative, route, site, staged, start_job, user_name, ws
from pipeline.workspace import opinions, previews
from pipeline.workspace import review as review_rounds
from pipeline.workspace.compare import changed_fields, field_namer
from pipeline.workspace.core import SORTS
from pipeline.workspace.outputs import notices_archive, register_change, sent_notices

PAGE_SIZE = 50

bp = Blueprint("campaign", __name__)



def applicant_id_or_404(value) -> int:
    """Given an applicant id from the URL or a form, return it as int when the user may see it, else abort 404.

    A reviewer sees only the applicants assigned to them: any other id is 'not found' for them.
    """
    try:
        number = int(value)
    except (TypeError, ValueError):
        abort(404)
    if not g.user.can("read") and number not in assigned_ids():
        abort(404)
    return number


def assigned_ids() -> set[int]:
    """Return the ids of the applicants assigned to the signed-in reviewer."""
    return site().store.assigned(user_name()) | review_rounds.assigned_ids(ws(), user_name())  # rounds too


def detail_or_404(number: int):
    try:
        return ws().applicant(number)
    except UserError:
        abort(404)


# --- 首页 ----------------------------------------------------------------------------------------


@bp.app_template_filter("local")
def local_filter(stamp) -> str:
    """A stored time as the page shows it: in the campaign's time zone, 'YYYY-MM-DD HH:MM'."""
    return views.local_time(stamp, views.zone_of(ws().campaign))


def home():
    w = ws()
    campaign = w.campaign
    work = [e for e in w.audit_log(limit=60) if e["action"] not in views.NOT_WORK][:15]
    return render_template("home.html", campaign=campaign, program=w.program, counts=w.stage_counts(),
                           waiting=w.waiting(), todo=views.staff_todo(w, site().runner),
                           activity=views.activity(work, w.program, campaign, views.applicant_names(w)),
                           facts=views.campaign_facts(campaign, w.program))


# --- 收件 ----------------------------------------------------------------------------------------


def receive():
    return render_template("receive.html", today=date.today().isoformat(), limits=site().limits,
                           file_limits=views.file_limits())


def receive_post():
    """Save the uploaded files and folders in a staging folder; receive them in a job; show new / new version / same."""
    try:
        received = date.fromisoformat(request.form.get("received") or date.today().isoformat())
    except ValueError:
        raise UserError("收件日期无法识别，请写作 YYYY-MM-DD") from None
    saved = staged(request.files.getlist("files"), "upload_size", "upload_files")
    if not saved.entries:
        shutil.rmtree(saved.folder.parent, ignore_errors=True)
        raise UserError("没有可收取的文件" + (f"（{len(saved.refused)} 个文件名无效，已忽略）" if saved.refused else ""))
    return start_job("receive", f"收件：{saved.count} 个文件（收件日期 {received.isoformat()}）",
                     staging=relative(saved.folder.parent), entries=[relative(e) for e in saved.entries],
                     received=received.isoformat(), refused=saved.refused)


# --- 申报列表 ------------------------------------------------------------------------------------


def list_filters(args) -> dict:
    """Given the query string, return the library's filters (only known values pass)."""
    w = ws()
    stage = args.get("stage") or None
    return {"category": args.get("category") if args.get("category") in w.program.categories else None,
            "stage": stage if stage in w.flow.names() else None,
            "status": args.get("status") if args.get("status") in labels(Status) else None,
            "unit": args.get("unit") or None, "search": (args.get("q") or "").strip()[:100] or None}


def applicants():
    w = ws()
    filters = list_filters(request.args)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "name"
    descending = request.args.get("desc") == "1"
    try:
        page_no = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_no = 1
    page = w.applicants(**filters, sort=sort, descending=descending, offset=(page_no - 1) * PAGE_SIZE,
                        limit=PAGE_SIZE)
    pages = max(1, -(-page.total // PAGE_SIZE))
    return render_template("applicants.html", page=page, page_no=page_no, pages=pages, filters=filters, sort=sort,
                           descending=descending, categories=ws().program.category_names(), stages=w.flow.names(),
                           units=w.units(), statuses=labels(Status), args=request.args)


def applicants_export():
    """Download the list as filtered (every page, in the list's order) as an Excel workbook."""
    w = ws()
    filters = list_filters(request.args)
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "name"
    rows = w.applicants(**filters, sort=sort, descending=request.args.get("desc") == "1", limit=None).items
    target = views.write_list(w, rows, views.export_path(site().web_dir / "exports", "申报列表.xlsx"))
    audit("下载", "申报列表.xlsx", f"{len(rows)} 份")
    return send_file(target, as_attachment=True, download_name="申报列表.xlsx")


def applicants_bulk():
    """Move the selected applicants to a stage, or write notices for them (in a job)."""
    ids = sorted({applicant_id_or_404(x) for x in request.form.getlist("ids")})
    if not ids:
        raise UserError("请先勾选申报")
    action = request.form.get("action")
    if action == "move":
        to, note = request.form.get("to", ""), request.form.get("note") or None
        moved, refused = views.move_many(ws(), ids, to, user_name(), note)
        flash(f"已把 {len(moved)} 份申报移到“{to}”。" + (f"未移动 {len(refused)} 份：" + "；".join(refused[:5])
                                                          if refused else ""))
        return redirect(request.form.get("back") or url_for("campaign.applicants"))
    if action == "notices":
        return notices_job(ids)
    raise UserError("未知的批量操作")


# --- 申报详情 ------------------------------------------------------------------------------------


def applicant(applicant_id):
    number = applicant_id_or_404(applicant_id)
    detail = detail_or_404(number)
    campaign, latest = ws().campaign, detail.versions[-1]
    label = field_namer(ws().program, detail.record, campaign)
    return render_template("applicant.html", d=detail, scan_seq=latest.seq,
                           groups=views.field_groups(detail.record, campaign, changed_fields(latest.comparison)),
                           issues=views.issue_rows(detail.record, detail.open_issues, campaign),
                           decided=views.issue_rows(detail.record, detail.decided_issues, campaign),
                           versions=views.version_rows(detail.versions, label),
                           categories=ws().program.category_names(),
                           notices=sent_notices(ws(), number), decisions=labels_of_decisions(),
                           opinions=[d for d in detail.decisions if d["kind"] == Decision.OPINION],
                           previews=previews.previews_of(site().previews, latest.files, latest.source),
                           statuses=labels(Status),
                           issue_decisions=[(d.value, d.action) for d in Decision.on_issues()])


def labels_of_decisions() -> dict[str, str]:
    """Return decision kind → what the page says of an issue so decided."""
    return {d.value: d.done for d in Decision}


def applicant_decide(applicant_id):
    """Confirm or waive one open issue of the latest version, with a note."""
    number = applicant_id_or_404(applicant_id)
    kind = request.form.get("kind")
    code = request.form.get("code", "")
    form, field = request.form.get("form") or None, request.form.get("field") or None
    note = (request.form.get("note") or "").strip() or None
    if kind == Decision.WAIVE and not note:
        raise UserError("豁免须写明理由：请在说明栏写明为什么不要求申报单位补正此项")
    if not any(views.same_issue(i, code, form, field) for i in detail_or_404(number).open_issues):
        raise UserError("该问题已处理过，或已不在最新版本中：请刷新页面后再看")
    ws().decide(number, code, kind=kind, note=note, by=user_name(), form=form, field=field)
    flash("已记录对该问题的处理。")
    return redirect(url_for("campaign.applicant", applicant_id=number))


def applicant_undo(applicant_id):
    """Take back one decision on an issue of the latest version: the issue is open again (recorded)."""
    number = applicant_id_or_404(applicant_id)
    try:
        decision_id = int(request.form.get("decision", ""))
    except ValueError:
        abort(404)
    ws().undo(number, decision_id, by=user_name(), note=(request.form.get("note") or "").strip() or None)
    flash("已撤销该项处理，问题重新列为未处理。")
    return redirect(url_for("campaign.applicant", applicant_id=number))


def applicant_move(applicant_id):
    number = applicant_id_or_404(applicant_id)
    to = request.form.get("to", "")
    ws().move(number, to, by=user_name(), note=(request.form.get("note") or "").strip() or None)
    flash(f"已移到“{to}”。")
    return redirect(url_for("campaign.applicant", applicant_id=number))


def applicant_record(applicant_id):
    """Download the latest record (JSON, issues after decisions) of one applicant."""
    number = applicant_id_or_404(applicant_id)
    detail = detail_or_404(number)
    folder = site().web_dir / "records"
    folder.mkdir(exist_ok=True)
    target = folder / f"A{number:05d}-v{detail.versions[-1].seq}.json"
    target.write_text(json.dumps(detail.record, ensure_ascii=False, indent=1), encoding="utf-8")
    audit("下载记录", applicant_id=number)
    return send_file(target, as_attachment=True, download_name=f"{views.download_stem(detail)}.json")


def applicant_file(applicant_id, sha):
    """Download one original file of one of the applicant's versions, by its SHA-256 (never a path)."""
    number = applicant_id_or_404(applicant_id)
    detail = detail_or_404(number)
    found = next((f for v in detail.versions for f in v.files if f["sha256"] == sha), None)
    if found is None or not ws().store.has(sha):
        abort(404)
    audit("下载原件", found["name"], applicant_id=number)
    name = found["name"] or detail.versions[0].source
    return send_file(ws().store.path(sha), as_attachment=True, download_name=Path(name).name or "原件")


def applicant_preview(applicant_id, sha, page):
    """One page of a document rendered as PNG (made by the preview job)."""
    number = applicant_id_or_404(applicant_id)
    detail = detail_or_404(number)
    if not any(f["sha256"] == sha for v in detail.versions for f in v.files):
        abort(404)
    path = previews.preview_path(site().previews, sha, page)
    if path is None:
        abort(404)
    return send_file(path, mimetype="image/png", max_age=3600)


def applicant_scan(applicant_id, seq, form, field):
    """The part of the stored original a value of the latest version was read from by OCR, as PNG (its origin's
    page and box): staff compare the value with what the applicant's paper says."""
    import tempfile

    number = applicant_id_or_404(applicant_id)
    detail = detail_or_404(number)
    latest = detail.versions[-1]
    origin = ((detail.record.get("origins") or {}).get(form) or {})
    where = (origin.get("fields") or {}).get(field)
    if latest.seq != seq or not where or not where.get("box"):
        abort(404)
    with tempfile.TemporaryDirectory(prefix="manyi-crop-") as tmp:
        png = previews.scan_crop(ws().store, latest.files, latest.source, origin.get("file", ""), where["page"],
                                 where["box"], Path(tmp))
    if png is None:
        abort(404)
    return send_file(io.BytesIO(png), mimetype="image/png", max_age=3600)


def applicant_previews(applicant_id):
    """Render the latest version's documents as page images, in a job."""
    number = applicant_id_or_404(applicant_id)
    detail = detail_or_404(number)
    name = views.applicant_name(number, {number: detail.row.company_name})
    return start_job("preview", f"生成预览：{name}", name, applicant=number)


# --- 评审 ----------------------------------------------------------------------------------------


TALLY_PAGE = 50


def tally_page(w, s):
    """Staff: the opinions per applicant, a page at a time and by stage, each reviewer's progress, and (where the
    program has review rounds) the way to the rounds."""
    stage = request.args.get("stage") or ""
    try:
        page_no = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page_no = 1
    found = w.applicants(stage=stage or None, sort="id", offset=(page_no - 1) * TALLY_PAGE, limit=TALLY_PAGE)
    pages = max(1, -(-found.total // TALLY_PAGE))
    if page_no > pages:
        found = w.applicants(stage=stage or None, sort="id", offset=(pages - 1) * TALLY_PAGE, limit=TALLY_PAGE)
        page_no = pages
    reviewers = [u for u in s.store.users() if u["role"] == "reviewer"]
    rounds = w.program.review_rounds()
    return render_template("review_tally.html", rows=opinions.tally(w, found.items), store=s.store,
                           reviewers=reviewers, assigned=s.store.reviewers_of(), total=found.total,
                           page_no=page_no, pages=pages, stage=stage, stages=w.flow.names(),
                           progress=opinions.progress(w, {u["name"]: s.store.assigned(u["name"]) for u in reviewers}),
                           rounds=[{"round": r, "progress": review_rounds.progress(w, r.id)} for r in rounds])


def review():
    """Reviewers: the applicants assigned to them. Staff: the tally of opinions per applicant, and assignments."""
    w, s = ws(), site()
    if g.user.can("tally"):
        return tally_page(w, s)
    rows = [r for r in w.applicants(limit=None).items if r.id in assigned_ids()]
    mine = opinions.opinions_of(w, user_name(), [r.id for r in rows])
    return render_template("review.html", rows=rows, mine=mine, categories=ws().program.category_names())


def review_one(applicant_id):
    """A reviewer's 审定意见, recommendation and optional score for one assigned applicant."""
    number = applicant_id_or_404(applicant_id)
    if request.method == "POST":
        text = request.form.get("opinion", "")
        recommend = {"yes": True, "no": False}.get(request.form.get("recommend", ""))
        score = views.score_value(request.form.get("score"))
        ws().opinion(number, text, by=user_name(), recommend=recommend, score=score)
        flash("已保存审定意见。")
        return redirect(url_for("campaign.review"))
    detail = detail_or_404(number)
    campaign = ws().campaign
    return render_template("review_one.html", d=detail, groups=views.field_groups(detail.record, campaign),
                           issues=views.issue_rows(detail.record, detail.open_issues, campaign),
                           mine=[o for o in detail.decisions if o["kind"] == Decision.OPINION and o["by"] == user_name()],
                           categories=ws().program.category_names())


def review_assign():
    """Assign (or unassign) a reviewer to the selected applicants."""
    reviewer = request.form.get("reviewer", "")
    found = site().store.user(reviewer)
    if not found or found["role"] != "reviewer":
        raise UserError("请选择评审专家账号")
    ids = [applicant_id_or_404(x) for x in request.form.getlist("ids")]
    site().store.assign(reviewer, ids, user_name(), on=request.form.get("action") != "unassign")
    flash(f"已为 {reviewer} 更新 {len(ids)} 份申报的分配。")
    return redirect(url_for("campaign.review"))


# --- 获奖与证书 ----------------------------------------------------------------------------------


def awards():
    w = ws()
    winning = w.flow.role("winning")
    before = [name for name in w.flow.names() if winning in w.flow.stage(name).next]
    return render_template("awards.html", winners=w.winners(), winning=winning,
                           candidates=w.applicants(stage=before, limit=None).items if before else [],
                           register=views.register_rows(w, request.args.get("q", "")), q=request.args.get("q", ""),
                           categories=ws().program.category_names())


def awards_certificates():
    """Print the certificates of every winner as one PDF (a job); numbers go into the register."""
    return certificates_job()


def register_action():
    """Revoke (with a reason) or renew one certificate of the register."""
    number, action = request.form.get("number", ""), request.form.get("action")
    reason = (request.form.get("reason") or "").strip()
    register_change(ws(), number, action, user_name(), reason)  # the library records it in the audit log
    flash(f"证书 {number} 已{'撤销' if action == 'revoke' else '续期'}。")
    return redirect(url_for("campaign.awards", q=number))


# --- 下载 ----------------------------------------------------------------------------------------


def downloads():
    return render_template("downloads.html")


def download_summary():
    return start_job("summary", "生成汇总表 summary.xlsx")


def download_tables():
    return start_job("summary_tables", "生成推荐汇总表")


def notices_job(ids: list[int] | None = None):
    return start_job("notices", "生成补正通知" + (f"（选中的 {len(ids)} 份）" if ids else ""), ids=ids,
                     pdf=request.form.get("pdf") == "1")


def download_notices():
    return notices_job(None)


def notices():
    """Every notice sent, newest first, each downloadable again (kept in the workspace)."""
    return render_template("notices.html", notices=sent_notices(ws()))


def notice_file(number: str, n: int):
    """Download one kept file (the letter, or its PDF) of one notice sent, by its number and index."""
    found = next((r for r in sent_notices(ws()) if r["number"] == number), None)
    if found is None or not 0 <= n < len(found["files"]):
        abort(404)
    applicant_id_or_404(found["applicant_id"])
    path = found["files"][n]
    audit("下载", path.name, f"补正通知 {number}", applicant_id=found["applicant_id"])
    return send_file(path, as_attachment=True, download_name=path.name)


def notices_all():
    """Download every notice sent (or those of one applicant: ?applicant=id) as one zip."""
    w = ws()
    rows = sent_notices(w)
    if request.args.get("applicant"):
        number = applicant_id_or_404(request.args["applicant"])
        rows = [r for r in rows if r["applicant_id"] == number]
    if not any(r["files"] for r in rows):
        raise UserError("还没有保存下来的补正通知可以下载")
    target = notices_archive(w, views.export_path(site().web_dir / "exports", "补正通知.zip"), [r["number"] for r in rows])
    audit("下载", "补正通知.zip", f"{len(rows)} 份")
    return send_file(target, as_attachment=True, download_name="补正通知.zip")


def certificates_job():
    return start_job("certificates", "打印证书", allow=request.form.get("allow", ""))  # 编号:理由 per line


def download_screen():
    """Screen the latest version of every applicant by the program's criteria, into a workbook (a job)."""
    return start_job("screen", "按评选条件筛选")


def certificates_job_view():
    return certificates_job()


route(bp, "/", "read")(home)
route(bp, "/receive", "read")(receive)
route(bp, "/receive", "staff", ("POST",), upload="upload_size")(receive_post)
route(bp, "/applicants", "read")(applicants)
route(bp, "/applicants/bulk", "staff", ("POST",))(applicants_bulk)
route(bp, "/applicants.xlsx", "read")(applicants_export)
route(bp, "/applicants/<applicant_id>/undo", "staff", ("POST",))(applicant_undo)
route(bp, "/notices", "read")(notices)
route(bp, "/notices.zip", "read")(notices_all)
route(bp, "/notices/<number>/<int:n>", "read")(notice_file)
route(bp, "/applicants/<applicant_id>", "read")(applicant)
route(bp, "/applicants/<applicant_id>/decide", "staff", ("POST",))(applicant_decide)
route(bp, "/applicants/<applicant_id>/move", "staff", ("POST",))(applicant_move)
route(bp, "/applicants/<applicant_id>/record.json", "user")(applicant_record)  # a reviewer's own applicants
route(bp, "/applicants/<applicant_id>/files/<sha>", "user")(applicant_file)
route(bp, "/applicants/<applicant_id>/previews", "staff", ("POST",))(applicant_previews)
route(bp, "/applicants/<applicant_id>/preview/<sha>/<int:page>.png", "user")(applicant_preview)
route(bp, "/applicants/<applicant_id>/scan/<int:seq>/<form>/<field>.png", "user")(applicant_scan)
route(bp, "/review", "user")(review)
route(bp, "/review/assign", "staff", ("POST",))(review_assign)
route(bp, "/review/<applicant_id>", "review", ("GET", "POST"))(review_one)
route(bp, "/awards", "read")(awards)
route(bp, "/awards/certificates", "staff", ("POST",))(awards_certificates)
route(bp, "/awards/register", "staff", ("POST",))(register_action)
route(bp, "/downloads", "read")(downloads)
route(bp, "/downloads/summary", "staff", ("POST",))(download_summary)
route(bp, "/downloads/notices", "staff", ("POST",))(download_notices)
route(bp, "/downloads/tables", "staff", ("POST",))(download_tables)
route(bp, "/downloads/screen", "staff", ("POST",))(download_screen)
route(bp, "/downloads/certificates", "staff", ("POST",))(certificates_job_view)
