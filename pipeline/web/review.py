"""The review rounds' pages (blueprint `review`): staff run a round (panel, assignment, progress, ranking,
close, documents); an expert sees only their own assignments, scores each on the program's sheet beside
the applicant's documents, extracted fields and staff's decisions, and declares a conflict.

Nothing here decides anything: every view asks `pipeline.workspace.review` (and the workspace) and shows the
answer. An applicant not assigned to the signed-in expert is "not found" (404), as on every other page.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from pipeline.common.errors import UserError
from pipeline.web import views
from pipeline.web.context import route, site, start_job, user_name, ws
from pipeline.workspace import previews
from pipeline.workspace import review as rv

PAGE_SIZE = 20

bp = Blueprint("review", __name__)


def round_or_404(round_id: str):
    """Given a round id from the URL, return the program's Round, or abort 404."""
    try:
        return ws().program.review_round(round_id)
    except UserError:
        abort(404)


def page_of(rows: list, number: str | None) -> tuple[list, int, int]:
    """Given rows and the page asked for, return (that page's rows, the page, how many pages)."""
    try:
        page = max(1, int(number or 1))
    except ValueError:
        page = 1
    pages = max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(page, pages)
    return rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], page, pages


def assigned_or_404(rnd, number) -> int:
    """Given a Round and an applicant id from the URL, return it when it is assigned to the signed-in expert in
    that round (and not recused), else abort 404."""
    try:
        aid = int(number)
    except (TypeError, ValueError):
        abort(404)
    mine = {a["applicant_id"] for a in rv.assignments_of(ws(), rnd.id, user_name()) if a["state"] == rv.ACTIVE}
    if aid not in mine:
        abort(404)
    return aid


# --- every round -----------------------------------------------------------------------------------


def index():
    """Staff: each round with its experts' progress. An expert: their assignments in each round, paged, by stage."""
    w = ws()
    rounds = w.program.review_rounds()
    if g.user.can("tally"):
        return render_template("review/index.html", rounds=[
            {"round": r, "progress": rv.progress(w, r.id), "closed": rv.closed(w, r.id)} for r in rounds])
    rows_by_id = {r.id: r for r in w.applicants(limit=None).items}
    stage = request.args.get("stage") or ""
    mine = []
    for r in rounds:
        for a in rv.assignments_of(w, r.id, user_name()):
            row = rows_by_id.get(a["applicant_id"])
            if a["state"] == rv.ACTIVE and row and (not stage or row.stage == stage):
                mine.append({"round": r, "row": row, **a})
    shown, page, pages = page_of(mine, request.args.get("page"))
    progress = [{"round": r, "closed": rv.closed(w, r.id),
                 "p": next((p for p in rv.progress(w, r.id) if p["expert"] == user_name()), None)} for r in rounds]
    return render_template("review/mine.html", rows=shown, page=page, pages=pages, stage=stage,
                           stages=sorted({r.stage for r in rounds}), progress=progress,
                           categories=w.program.category_names(), today=rv.today().isoformat())


# --- one round, for staff ---------------------------------------------------------------------------


def round_page(round_id):
    """A round: its sheet, panel, per-expert progress, assignments (paged, by stage) and ranking."""
    w = ws()
    rnd = round_or_404(round_id)
    rows = w.applicants(limit=None).items
    by_applicant: dict[int, list] = {}
    for a in rv.assignments_of(w, rnd.id):
        by_applicant.setdefault(a["applicant_id"], []).append(a)
    stage = request.args.get("stage", rnd.stage)
    listed = [r for r in sorted(rows, key=lambda r: r.id)
              if (not stage or r.stage == stage) or (stage == rnd.stage and r.id in by_applicant)]
    shown, page, pages = page_of(listed, request.args.get("page"))
    return render_template("review/round.html", rnd=rnd, closed=rv.closed(w, rnd.id), panel=rv.panel(w, rnd.id),
                           progress=rv.progress(w, rnd.id), reminders=rv.reminders(w, rnd.id), rows=shown,
                           page=page, pages=pages, stage=stage,
                           stages=w.flow.names(), assigned=by_applicant, ranking=rv.ranking(w, rnd.id),
                           names={r.id: r.company_name for r in rows}, conflicts=rv.declared(w, rnd.id),
                           reviewers=[u["name"] for u in site().store.users() if u["role"] == "reviewer"])


def round_expert(round_id):
    rnd = round_or_404(round_id)
    rv.add_expert(ws(), rnd.id, request.form.get("name", ""), request.form.get("unit"), request.form.get("region"),
                  by=user_name(), email=request.form.get("email"))
    flash(f"已将 {request.form.get('name', '').strip()} 加入{rnd.name}专家组。")
    return redirect(url_for("review.round_page", round_id=rnd.id))


def round_assign(round_id):
    """Assign automatically, or one expert to the selected applicants by hand."""
    rnd = round_or_404(round_id)
    if request.form.get("auto"):
        short = rv.auto_assign(ws(), rnd.id, by=user_name())
        flash("已自动分配。" + ("；".join(short) if short else "每份申报都有足够的专家。"))
    else:
        ids = []
        for x in request.form.getlist("ids"):
            try:
                ids.append(int(x))
            except ValueError:
                raise UserError(f"申报编号应为数字：{x}") from None
        if not ids:
            raise UserError("请勾选要分配的申报")
        rv.assign(ws(), rnd.id, request.form.get("expert", ""), ids, by=user_name())
        flash(f"已分配 {len(ids)} 份申报给 {request.form.get('expert')}。")
    return redirect(url_for("review.round_page", round_id=rnd.id))


def round_remind(round_id):
    """Mail the round's reminders (one per expert a day) and send them in a job; without mail, say so (the page
    shows the texts to paste)."""
    rnd = round_or_404(round_id)
    workspace = ws()
    mailed, unmailed = rv.mail_reminders(workspace, rnd.id)
    if not mailed:
        from pipeline.workspace import mail

        if not unmailed:
            flash("没有逾期或即将到期仍未评分的专家，无需提醒。")
        elif mail.settings_of(workspace) is None:
            flash("邮件发送尚未开启（管理员可用 manyi mail setup 开启）：请复制下方的提醒文字发给专家。")
        else:
            flash(f"{'、'.join(m['expert'] for m in unmailed)}还没有邮箱：请在专家组中填写，或复制下方的提醒文字发给专家。")
        return redirect(url_for("review.round_page", round_id=rnd.id, show="reminders", _anchor="reminders"))
    flash(f"已安排评分提醒邮件：{'、'.join(m['expert'] for m in mailed)}（每位专家每天一封）"
          + (f"；{'、'.join(m['expert'] for m in unmailed)}没有邮箱，请复制提醒文字发送。" if unmailed else "。"))

    def work(job, folder):
        from pipeline.workspace import mail

        return mail.send_outbox(workspace, progress=job.progress).line()

    return start_job(f"发送{rnd.name}评分提醒", work, rnd.id)


def round_close(round_id):
    rnd = round_or_404(round_id)
    rv.close(ws(), rnd.id, by=user_name())
    flash(f"{rnd.name}已结束，评分已锁定。")
    return redirect(url_for("review.round_page", round_id=rnd.id))


def round_reports(round_id):
    """Write the round's ranking workbook, 评审结果汇总表, reports, 公示名单 and 审定记录, in a job."""
    rnd = round_or_404(round_id)
    workspace = ws()

    def work(job, folder):
        job.files = rv.round_reports(workspace, rnd.id, folder) + rv.decision_documents(workspace, folder)
        return f"已生成{rnd.name}的 {len(job.files)} 份文书"

    return start_job(f"生成{rnd.name}文书", work, rnd.id)


def decisions():
    """Write the 公示名单, the 审定记录 and the approving body's opinions on the program's form, in a job."""
    workspace = ws()

    def work(job, folder):
        job.files = rv.decision_documents(workspace, folder)
        return f"已生成 {len(job.files)} 份公示与审定文书"

    return start_job("生成公示名单与审定文书", work)


# --- one applicant, for its expert -----------------------------------------------------------------


def score(round_id, applicant_id):
    """The scoring sheet of one assigned applicant, beside its documents, fields and staff's decisions."""
    w = ws()
    rnd = round_or_404(round_id)
    aid = assigned_or_404(rnd, applicant_id)
    if request.method == "POST":
        points = {c.id: request.form.get(f"p-{c.id}") for c in rnd.sheet.criteria}
        comments = {m.id: request.form.get(f"c-{m.id}") for m in rnd.sheet.comments}
        total = rv.submit(w, rnd.id, user_name(), aid, points, comments, by=user_name())
        flash(f"已保存评分：总分 {total:g}。")
        return redirect(url_for("review.score", round_id=rnd.id, applicant_id=aid))
    detail = w.applicant(aid)
    campaign, latest = w.campaign, detail.versions[-1]
    mine, others = rv.visible_scores(w, rnd.id, user_name(), aid)
    return render_template("review/score.html", rnd=rnd, d=detail, mine=mine, others=others,
                           closed=rv.closed(w, rnd.id), groups=views.field_groups(detail.record, campaign),
                           issues=views.issue_rows(detail.record, detail.open_issues, campaign),
                           decided=views.issue_rows(detail.record, detail.decided_issues, campaign),
                           files=latest.files, source=latest.source,
                           previews=previews.previews_of(site().previews, latest.files, latest.source),
                           categories=w.program.category_names())


def score_previews(round_id, applicant_id):
    """The signed-in expert has the latest version's documents of an assigned applicant rendered as page images,
    in a job (as staff do on the applicant's page); another applicant is not found."""
    rnd = round_or_404(round_id)
    aid = assigned_or_404(rnd, applicant_id)
    detail = ws().applicant(aid)
    cache, store, latest = site().previews, ws().store, detail.versions[-1]
    files = [(f["sha256"], f["name"] or latest.source) for f in latest.files]

    def work(job, folder):
        return previews.make_previews(store, files, cache, folder, job.progress) + "。请回到评分页查看。"

    return start_job(f"生成预览：{detail.row.company_name}", work, detail.row.company_name)


def conflict(round_id, applicant_id):
    """The signed-in expert declares a conflict with an assigned applicant; another expert takes it."""
    rnd = round_or_404(round_id)
    aid = assigned_or_404(rnd, applicant_id)
    other = rv.declare_conflict(ws(), rnd.id, user_name(), aid, request.form.get("reason", ""), by=user_name())
    flash("已登记利益冲突并回避该申报" + ("，已改由其他专家评审。" if other else "；活动办公室将另行安排。"))
    return redirect(url_for("review.index"))


route(bp, "/rounds", "user")(index)
route(bp, "/rounds/documents", "staff", ("POST",))(decisions)
route(bp, "/rounds/<round_id>", "tally")(round_page)
route(bp, "/rounds/<round_id>/experts", "staff", ("POST",))(round_expert)
route(bp, "/rounds/<round_id>/assign", "staff", ("POST",))(round_assign)
route(bp, "/rounds/<round_id>/remind", "staff", ("POST",))(round_remind)
route(bp, "/rounds/<round_id>/close", "staff", ("POST",))(round_close)
route(bp, "/rounds/<round_id>/reports", "staff", ("POST",))(round_reports)
route(bp, "/rounds/<round_id>/score/<applicant_id>", "review", ("GET", "POST"))(score)
route(bp, "/rounds/<round_id>/previews/<applicant_id>", "review", ("POST",))(score_previews)
route(bp, "/rounds/<round_id>/conflict/<applicant_id>", "review", ("POST",))(conflict)
