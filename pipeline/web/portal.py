"""The applicants' page (`/apply/<link>`) and the staff page that invites them (`/invitations`).

Blueprint `portal` is what `manyi serve --portal-only` serves alone: an enterprise opens its personal
link (no account), downloads its pre-filled packet, uploads the filled one, sees at once what the checks
find (the items a 补正通知 lists, with form and field), and sends it: the upload becomes a version through
`workspace.receive` (the same gate, readers, rules and store as an inbox entry; received on the server's
date in the association's time zone). It sees its stage and status as an applicant should (never
reviewers' opinions or staff notes), reads its notices and answers them within their window. Any link that
is not a live invitation, and any id not its own, answers 404. Blueprint `invitations` is the staff side
(issue, revoke, the outbox); it is registered only with the staff pages.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
from datetime import date
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for

from pipeline.checking.rules.batch import company_of
from pipeline.checking.rules.names import company_key
from pipeline.common.errors import UserError
from pipeline.definitions.vocabulary import IssueCode, Severity, member_of
from pipeline.issuing.notices import find_field, letter_issues, needed, reply_by
from pipeline.common.safety import LIMITS as GATE_LIMITS
from pipeline.common.sniff import UNKNOWN, sniff
from pipeline.web import tasks
from pipeline.web.context import EXTENSION, audit, route, site, staged, start_job, user_name, ws
from pipeline.web.security import RateLimit
from pipeline.workspace import invitations, mail
from pipeline.workspace.receive import receive

bp = Blueprint("portal", __name__)
staff_bp = Blueprint("invitations", __name__)

PORTAL_DIR = "portal"  # drafts (checked uploads not yet sent) under the page's folder of the workspace
#: Checks per link and per address per hour: enough for an applicant correcting a packet, little for a flood
#: (an address may be an office's NAT in front of many enterprises: its budget is larger). `create_app(limits=)`
#: may set `portal_per_link` / `portal_per_address`.
LIMITS = {"per_link": 30, "per_address": 200}
DRAFT = re.compile(r"^\d+-[0-9a-f]{16}$")
LIMITS_KEY = "manyi-portal-limits"


#: One upload of a packet: all its files together within what the inbox gate takes of one file (scans and
#: stamped PDFs are large), and a packet's worth of files; `create_app(limits=)` may set others.
UPLOAD = {"portal_size": GATE_LIMITS["file_size"], "portal_files": 100}


def _upload_limits(state) -> None:
    """When the blueprint is registered: the portal's upload limits join the Site's (unless set already)."""
    for name, value in UPLOAD.items():
        state.app.extensions[EXTENSION].limits.setdefault(name, value)


bp.record(_upload_limits)


def today() -> date:
    """Return the server's date in the association's time zone (what a sent packet is received on)."""
    return invitations.today()


def _limits() -> dict:
    found = current_app.extensions.get(LIMITS_KEY)
    if found is None:
        limits = site().limits
        found = current_app.extensions[LIMITS_KEY] = {k: RateLimit(int(limits.get(f"portal_{k}", v)))
                                                      for k, v in LIMITS.items()}
    return found


def _audit(invitation: dict, action: str, applicant_id: int | None = None, detail: dict | None = None) -> None:
    """Record an applicant's action in the workspace's audit log, under its enterprise's name."""
    from pipeline.workspace import accounts

    accounts.log(ws(), f"申报单位：{invitation['company_name']}", action, applicant_id,
                 {"invitation": invitation["id"], "address": request.remote_addr or "", **(detail or {})})


def _invitation(token: str) -> dict:
    """Given a link's secret, return its live invitation, or answer 404 (unknown, revoked: never a hint which)."""
    found = invitations.find(ws(), token)
    if found is None:
        abort(404)
    return found


def _own_notices(applicant_id: int | None) -> list[dict]:
    if applicant_id is None:
        return []
    return ws().applicant(applicant_id).notices


def window(invitation: dict, applicant_id: int | None, day: date) -> tuple[bool, str, dict | None]:
    """Given an invitation, its applicant and the day, return (may upload, why not in Chinese, the open notice):
    up to the deadline anything; after it only the correction a notice of its latest version asks for, within
    that notice's window."""
    campaign = ws().campaign
    open_notice = None
    if applicant_id is not None:
        detail = ws().applicant(applicant_id)
        latest = detail.versions[-1].id
        for notice in detail.notices:
            due = reply_by(campaign, notice)
            if notice["version_id"] == latest and day <= due:
                open_notice = {**notice, "due": due.isoformat()}
    if day <= campaign.deadline or open_notice:
        return True, "", open_notice
    if applicant_id is None:
        return False, f"申报已于 {campaign.deadline.isoformat()} 截止，不再接收新的申报材料。", None
    return False, (f"申报已于 {campaign.deadline.isoformat()} 截止；截止后只接收补正通知要求的补正材料，"
                   f"且须在通知的补正期限内上传。"), None


def status_view(applicant_id: int | None) -> dict | None:
    """Given the applicant's id, return what the applicant may see: stage, status, versions and notices (no
    reviewer's opinion, no staff note, no decision's reason)."""
    if applicant_id is None:
        return None
    from pipeline.definitions.vocabulary import Status

    detail = ws().applicant(applicant_id)
    campaign = ws().campaign
    status = member_of(Status, detail.row.status)
    return {
        "stage": detail.row.stage, "status": status.label if status else detail.row.status,
        "versions": [{"seq": v.seq, "received_on": v.received_on, "files": [f["name"] for f in v.files]}
                     for v in detail.versions],
        "notices": [{"id": n["id"], "number": n["number"], "date": n["date"],
                     "due": reply_by(campaign, n).isoformat(),
                     "items": [i.get("message") for i in n["items"]]} for n in detail.notices],
    }


def items_of(record: dict) -> list[dict]:
    """Given a checked record, return the items a 补正通知 would list for it, each with its severity in the
    applicant's words, the form's title and the field's printed label, and what to do."""
    campaign, program = ws().campaign, ws().program
    out = []
    for issue in letter_issues(record, program):
        severity = member_of(Severity, issue.get("severity"))
        form = program.form_of(record, issue.get("form")) if issue.get("form") else None
        field = find_field(record, issue.get("form"), issue.get("field"), campaign)
        out.append({"severity": issue.get("severity"), "label": severity.applicant_label if severity else "提示",
                    "form": form.printed_title(campaign) if form is not None else "",
                    "field": field.label if field is not None else "",
                    "message": issue.get("message") or "", "needed": needed(issue, record, campaign)})
    out.sort(key=lambda i: i["severity"] != Severity.ERROR)
    return out


def check_upload(folder: Path) -> dict:
    """Given the staging inbox of one applicant's upload, return its checked record (the same steps as a
    receive: gate, LibreOffice batch, readers, rules); nothing is stored."""
    from pipeline.parse import campaign_forms, convert_old_formats, open_entry, parse_one
    from pipeline.reading.extract import prepare
    from pipeline.receiving import inbox

    campaign = ws().campaign
    entry = inbox.entries([folder])[0]
    work = Path(tempfile.mkdtemp(prefix="manyi-portal-work-"))
    try:
        prepare(campaign_forms(campaign))
        opened = convert_old_formats([open_entry(entry, work / "e")], work)[0]
        return parse_one(*opened, campaign, work)[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def one_entry(saved) -> None:
    """Given the uploaded files, make them one inbox entry: several files (or folders) sent together go into
    one folder, so they are one applicant's submission."""
    if len(saved.entries) <= 1:
        return
    target = saved.folder / "申报材料"
    target.mkdir()
    for path in saved.entries:
        path.rename(target / path.name)
    saved.entries[:] = [target]


def _drafts() -> Path:
    return site().web_dir / PORTAL_DIR


#: A checked upload not sent within this many seconds is removed (the applicant uploads it again).
DRAFT_LIFE = 24 * 3600


def sweep_drafts(folder: Path, now: float | None = None) -> None:
    """Given the drafts' folder, remove the drafts older than DRAFT_LIFE (checked, never sent)."""
    import time

    now = time.time() if now is None else now
    for path in folder.glob("*-*") if folder.is_dir() else ():
        if DRAFT.match(path.name) and now - path.stat().st_mtime > DRAFT_LIFE:
            shutil.rmtree(path, ignore_errors=True)


def _draft(invitation: dict, draft: str) -> Path:
    """Given an invitation and a draft's id, return the draft's folder, or answer 404 (another link's, unknown)."""
    if not DRAFT.match(draft or "") or not draft.startswith(f"{invitation['id']}-"):
        abort(404)
    folder = _drafts() / draft
    if not (folder / "check.json").is_file():
        abort(404)
    return folder


def matches(invitation: dict, record: dict) -> str:
    """Given an invitation and the record of its upload, return '' when the packet is its enterprise's and
    category's, else why it cannot be sent through this link (Chinese)."""
    name = company_of(record) or ""  # as receive matches a record to its applicant
    if not company_key(name):
        if any(member_of(IssueCode, i.get("code")) is IssueCode.UNREADABLE_FILE for i in record.get("issues") or []):
            return "上传的文件无法读取（原因见下表）：请换成能打开的 Word、Excel 或 PDF 文件后重新上传。"
        return "材料中没有读出企业名称：请在申报表中填写企业名称后重新上传。"
    if company_key(name) != company_key(invitation["company_name"]):
        return f"材料中的企业名称“{name}”与本链接的企业“{invitation['company_name']}”不一致：请上传本企业的材料。"
    program = ws().program
    if not record.get("category"):
        return (f"材料中没有读出申报类别：请上传完整的申报材料（本链接的类别："
                f"{program.category_name(invitation['category'])}）。")
    if record["category"] != invitation["category"]:
        return (f"材料的申报类别“{program.category_name(record['category'])}”与本链接的类别"
                f"“{program.category_name(invitation['category'])}”不一致。")
    return ""


# --- the applicant's pages --------------------------------------------------------------------------


def apply_home(token):
    invitation = _invitation(token)
    if invitation["kind"] == invitations.UNIT:
        _audit(invitation, "portal_open")
        day = today()
        return render_template("portal/unit.html", invitation=invitation, token=token, program=ws().program,
                               rows=invitations.unit_enterprises(ws(), invitation),
                               may=day <= ws().campaign.deadline, campaign=ws().campaign)
    aid = invitations.applicant_id(ws(), invitation)
    day = today()
    may, why, open_notice = window(invitation, aid, day)
    expired = day > date.fromisoformat(invitation["valid_until"]) and open_notice is None
    _audit(invitation, "portal_open", aid)
    return render_template("portal/home.html", invitation=invitation, token=token, may=may and not expired,
                           why=why or ("本链接已过有效期。" if expired else ""), status=status_view(aid),
                           open_notice=open_notice, campaign=ws().campaign, program=ws().program, today=day,
                           prefilled=invitations.prefills(ws(), invitation))


def apply_packet(token):
    invitation = _invitation(token)
    folder = Path(tempfile.mkdtemp(prefix="packet-", dir=site().web_dir))
    try:
        path = invitations.prefilled_packet(ws(), invitation, folder)
        data = path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _audit(invitation, "portal_packet", invitations.applicant_id(ws(), invitation))
    import io

    return send_file(io.BytesIO(data), as_attachment=True, download_name=path.name)


def apply_check(token):
    invitation = _invitation(token)
    limits = _limits()
    if not limits["per_link"].allow(str(invitation["id"])) or not limits["per_address"].allow(request.remote_addr or ""):
        abort(429, "上传检查次数太多，请一小时后再试")
    aid = invitations.applicant_id(ws(), invitation)
    may, why, _ = window(invitation, aid, today())
    if not may:
        _audit(invitation, "portal_refused", aid, {"why": why})
        raise UserError(why)
    saved = staged(request.files.getlist("files"), "portal_size", "portal_files")
    if not saved.entries:
        shutil.rmtree(saved.folder.parent, ignore_errors=True)
        raise UserError("请选择申报材料文件（Word、Excel、PDF、文件夹或压缩包）")
    one_entry(saved)
    try:
        record = check_upload(saved.folder)
    except Exception:
        shutil.rmtree(saved.folder.parent, ignore_errors=True)
        raise
    sweep_drafts(_drafts())
    draft = f"{invitation['id']}-{secrets.token_hex(8)}"
    target = _drafts() / draft
    target.parent.mkdir(parents=True, exist_ok=True)
    saved.folder.parent.rename(target)
    problem = matches(invitation, record)
    items = items_of(record)
    (target / "check.json").write_text(json.dumps({"problem": problem, "items": items}, ensure_ascii=False),
                                       encoding="utf-8")
    _audit(invitation, "portal_check", aid, {"files": [p.name for p in saved.entries],
                                             "errors": sum(i["severity"] == Severity.ERROR for i in items)})
    page = render_template("portal/checked.html", invitation=invitation, token=token, draft=draft, items=items,
                           problem=problem, ignored=saved.refused,
                           errors=sum(i["severity"] == Severity.ERROR for i in items),
                           files=sorted(p.relative_to(target / "inbox").as_posix()
                                        for p in (target / "inbox").rglob("*") if p.is_file()))
    return page, (422 if problem else 200)  # a packet that cannot be sent through this link is refused


def apply_send(token):
    invitation = _invitation(token)
    folder = _draft(invitation, request.form.get("draft", ""))
    checked = json.loads((folder / "check.json").read_text(encoding="utf-8"))
    if checked["problem"]:
        raise UserError(checked["problem"])
    aid = invitations.applicant_id(ws(), invitation)
    day = today()
    may, why, _ = window(invitation, aid, day)
    if not may:
        raise UserError(why)
    try:
        result = receive(ws(), [folder / "inbox"], received=day, jobs=1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    aid = invitations.applicant_id(ws(), invitation)
    if result.stored:
        stored = result.stored[0]
        _audit(invitation, "portal_send", stored.applicant_id, {"version": stored.seq})
        version = ws().applicant(stored.applicant_id).versions[-1]
        mail.queue_receipt(ws(), invitation, stored.applicant_id, stored.seq, day.isoformat(),
                           [f["name"] or version.source for f in version.files])
        tasks.send_mail_soon(site().runner, ws())
        flash(f"已收到第 {stored.seq} 版申报材料（{day.isoformat()}）。")
    else:
        _audit(invitation, "portal_send_same", aid)
        flash("这份材料与已收到的一份完全相同，未重复保存。")
    return redirect(url_for("portal.apply_home", token=token))


def apply_notice(token, notice_id):
    invitation = _invitation(token)
    aid = invitations.applicant_id(ws(), invitation)
    notice = next((n for n in _own_notices(aid) if n["id"] == notice_id), None)
    if notice is None:
        abort(404)  # another enterprise's notice answers as if there were none
    folder = Path(tempfile.mkdtemp(prefix="notice-", dir=site().web_dir))
    try:
        path = mail.notice_letter(ws(), notice, folder)
        data = path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _audit(invitation, "portal_notice", aid, {"notice": notice["number"]})
    import io

    return send_file(io.BytesIO(data), as_attachment=True, download_name=path.name)


def apply_recommendation(token, applicant_id):
    """A 推进单位 sends its 推荐意见表 for one of its enterprises: the enterprise's next version is its latest
    files with the form added, received like any entry (checked, compared, staged)."""
    invitation = _invitation(token)
    if invitation["kind"] != invitations.UNIT:
        abort(404)
    mine = {e["applicant_id"] for e in invitations.unit_enterprises(ws(), invitation) if e["applicant_id"]}
    if applicant_id not in mine:
        abort(404)  # not an enterprise this unit recommends: as if there were none
    day = today()
    if day > ws().campaign.deadline:
        raise UserError(f"申报已于 {ws().campaign.deadline.isoformat()} 截止，不再接收推荐意见表。")
    if not _limits()["per_link"].allow(f"u{invitation['id']}") or not _limits()["per_address"].allow(
            request.remote_addr or ""):
        abort(429, "上传次数太多，请一小时后再试")
    saved = staged(request.files.getlist("files"), "portal_size", "portal_files")
    files = [p for p in saved.folder.rglob("*") if p.is_file()]
    work = Path(tempfile.mkdtemp(prefix="unit-", dir=site().web_dir))
    try:
        if not files:
            raise UserError("请选择推荐意见表文件（Word 或 PDF）")
        result = receive(ws(), [invitations.with_files(ws(), applicant_id, files, work)], received=day, jobs=1)
    finally:
        shutil.rmtree(saved.folder.parent, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    seq = result.stored[0].seq if result.stored else None
    _audit(invitation, "portal_recommendation", applicant_id, {"files": [p.name for p in files], "version": seq})
    flash(f"已收到推荐意见表（该企业第 {seq} 版材料）。" if seq else "这份推荐意见表与已收到的完全相同，未重复保存。")
    return redirect(url_for("portal.apply_home", token=token))


#: What a 推进单位 may send as its 推荐汇总表 (by the bytes): documents, spreadsheets, PDF, a scan.
SUMMARY_KINDS = {"docx", "xlsx", "doc", "xls", "odt", "ods", "pdf", "image"}


def apply_summary(token):
    """A 推进单位 sends its 推荐汇总表: kept in the workspace's store and listed for staff."""
    invitation = _invitation(token)
    if invitation["kind"] != invitations.UNIT:
        abort(404)
    saved = staged(request.files.getlist("files"), "portal_size", "portal_files")
    try:
        files = [p for p in saved.folder.rglob("*") if p.is_file()]
        if not files:
            raise UserError("请选择推荐汇总表文件（Word、Excel 或 PDF）")
        for path in files:  # staff open these files: only documents, read from their bytes, never by name
            found = sniff(path)
            if found.problem or found.kind not in SUMMARY_KINDS:
                raise UserError(f"《{path.name}》不能作为推荐汇总表：{found.problem or UNKNOWN}")
        kept = invitations.keep_unit_files(ws(), invitation, files)
    finally:
        shutil.rmtree(saved.folder.parent, ignore_errors=True)
    _audit(invitation, "portal_summary", None, {"files": kept})
    flash(f"已收到推荐汇总表：{'、'.join(kept)}")
    return redirect(url_for("portal.apply_home", token=token))


def apply_request():
    """An enterprise never invited asks for its link (only when the campaign takes open applications)."""
    workspace = ws()
    if not invitations.open_applications(workspace.campaign):
        abort(404)
    done = None
    if request.method == "POST":
        if not _limits()["per_address"].allow(request.remote_addr or ""):
            abort(429, "操作太频繁，请一小时后再试")
        form = request.form
        new_id = invitations.request_link(workspace, form.get("name", ""), form.get("category", ""),
                                          form.get("email", ""), form.get("contact", ""), form.get("unit", ""))
        from pipeline.workspace import accounts

        accounts.log(workspace, f"申请：{form.get('name', '').strip()}", "portal_request", None,
                     {"invitation": new_id, "address": request.remote_addr or ""})
        done = form.get("email", "").strip()
    return render_template("portal/request.html", program=workspace.program, campaign=workspace.campaign, done=done)


route(bp, "/apply", "public", ("GET", "POST"))(apply_request)
route(bp, "/apply/<token>", "public")(apply_home)
route(bp, "/apply/<token>/recommendation/<int:applicant_id>", "public", ("POST",),
      upload="portal_size")(apply_recommendation)
route(bp, "/apply/<token>/summary", "public", ("POST",), upload="portal_size")(apply_summary)
route(bp, "/apply/<token>/packet", "public")(apply_packet)
route(bp, "/apply/<token>/check", "public", ("POST",), upload="portal_size")(apply_check)
route(bp, "/apply/<token>/send", "public", ("POST",))(apply_send)
route(bp, "/apply/<token>/notices/<int:notice_id>", "public")(apply_notice)


# --- the staff's page: invitations and the outbox ------------------------------------------------


def invitations_page():
    workspace = ws()
    rows = invitations.listing(workspace)
    return render_template("portal/invitations.html", rows=rows, outbox=mail.listing(workspace),
                           unit_files=invitations.unit_files(workspace),
                           mail_on=mail.settings_of(workspace) is not None, program=workspace.program)


def invitations_issue():
    """Issue links: for every applicant of the workspace, or for a roster uploaded here; the workbook comes back."""
    workspace, by = ws(), user_name()
    roster = request.files.get("roster")
    base = request.host_url
    saved = None
    if roster and roster.filename:
        saved = staged([roster], "roster_size", "selfcheck_files")
        if not saved.entries or saved.entries[0].suffix.lower() != ".xlsx":
            shutil.rmtree(saved.folder.parent, ignore_errors=True)
            raise UserError("企业名单须为 .xlsx 文件")
        try:
            targets, problems = invitations.roster_targets(saved.entries[0], workspace.program)
        except UserError:
            shutil.rmtree(saved.folder.parent, ignore_errors=True)
            raise
    else:
        targets, problems = invitations.workspace_targets(workspace), []

    units = request.form.get("units") == "1"
    runner = site().runner

    def work(job, folder):
        try:
            if units:
                issued = invitations.unit_links(workspace, [t.promoting_unit for t in targets], by)
            else:
                issued = invitations.issue_links(workspace, targets, by)
                for one in issued:
                    mail.queue_invitation(workspace, invitations.find(workspace, one.token))
            job.result["problems"] = problems
            job.files = [invitations.write_workbook(issued, folder / "邀请链接.xlsx", base, workspace.program)]
            tasks.send_mail_soon(runner, workspace)
            return f"已为 {len(issued)} 家{'推进单位' if units else '企业'}生成专属链接（原有链接已作废）"
        finally:
            if saved:
                shutil.rmtree(saved.folder.parent, ignore_errors=True)

    return start_job("生成邀请链接", work)


def invitations_revoke(invitation_id):
    row = invitations.revoke(ws(), int(invitation_id), user_name())
    flash(f"已作废 {row['company_name']} 的链接")
    return redirect(url_for("invitations.invitations_page"))


def invitations_approve(invitation_id):
    workspace = ws()
    issued = invitations.approve(workspace, int(invitation_id), user_name())
    queued = mail.queue_invitation(workspace, invitations.find(workspace, issued.token))
    tasks.send_mail_soon(site().runner, workspace)
    flash(f"已为 {issued.target.company_name} 生成专属链接：{issued.url(request.host_url)}"
          + ("（邀请邮件待发送）" if queued else "（邮件未开启：请把链接发给该企业）"))
    return redirect(url_for("invitations.invitations_page"))


def invitations_send_mail():
    return start_job("send_mail", "发送邮件")


def invitations_unit_file(sha):
    """Download a file a 推进单位 sent on its page (its 推荐汇总表), by its SHA-256 (never a path), under the name
    it was sent with."""
    workspace = ws()
    found = next((f for f in invitations.unit_files(workspace) if f["sha256"] == sha), None)
    if found is None or not workspace.store.has(sha):
        abort(404)
    audit("下载推进单位材料", f"{found['unit']}：{found['name']}")
    return send_file(workspace.store.path(sha), as_attachment=True, download_name=Path(found["name"]).name or "推荐汇总表")


route(staff_bp, "/invitations", "read")(invitations_page)
route(staff_bp, "/invitations/unit-files/<sha>", "read")(invitations_unit_file)
route(staff_bp, "/invitations/issue", "staff", ("POST",), upload="roster_size")(invitations_issue)
route(staff_bp, "/invitations/<invitation_id>/revoke", "staff", ("POST",))(invitations_revoke)
route(staff_bp, "/invitations/<invitation_id>/approve", "staff", ("POST",))(invitations_approve)
def invitations_mail_retry(outbox_id):
    mail.retry(ws(), int(outbox_id), user_name())
    flash("该邮件已放回待发送，下次发送时会再发一次")
    return redirect(url_for("invitations.invitations_page"))


route(staff_bp, "/invitations/mail", "staff", ("POST",))(invitations_send_mail)
route(staff_bp, "/invitations/mail/<outbox_id>/retry", "staff", ("POST",))(invitations_mail_retry)
