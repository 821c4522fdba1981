"""E-mail to applicants, optional and off by default: an outbox table and one idempotent sender.

Staff turn mail on with the SMTP settings (`save_settings`: server, port, STARTTLS or SSL, user, sender, the
page's public address); the settings live in the database's `meta` table and the password in `mail.secret`
beside it (never in the campaign file, never in a dump). Every message (an invitation, a receipt, a notice
with its letter attached, a reminder) is first a row of `outbox` under a key saying what it is for
(`notice:12`), unique, so queueing the same message twice adds nothing. `send_outbox` sends the pending
rows one by one: a row is claimed (`pending` → `sending`) in its own transaction before the SMTP
conversation and marked `sent` or `failed` after it, so no row is sent twice, even across a restart: a
row still `sending` long after its claim (CUT_OFF) was cut off mid-way and becomes `unknown` (staff see
it and decide), never resent by itself.
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date as _date
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

import sqlalchemy as sa

from pipeline.common.errors import UserError
from pipeline.workspace import db, invitations
from pipeline.workspace.core import Workspace

metadata = sa.MetaData()

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),  # what it is for: one message per key
    sa.Column("purpose", sa.String(20), nullable=False),  # invite / receipt / notice / remind
    sa.Column("to_addr", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("attachments", sa.Text, nullable=False, default="[]"),  # [[name, path]]
    sa.Column("applicant_id", sa.Integer),
    sa.Column("invitation_id", sa.Integer),
    sa.Column("status", sa.String(20), nullable=False),  # pending / sending / sent / failed / unknown
    sa.Column("result", sa.Text),  # the server's answer or the error, in Chinese
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("claimed_at", sa.String(32)),  # when a sender took it (a row `sending` long since: cut off)
    sa.Column("sent_at", sa.String(32)),
    sa.Index("ix_outbox_status", "status"),
)

MAIL_KEY = "mail_schema"
SETTINGS_KEY = "smtp"
SECRET_FILE = "mail.secret"
SECURITY = {"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": "不加密（仅限本机测试）"}
#: Seconds after which a row still `sending` was cut off (one message takes at most the SMTP timeout, 30 s).
CUT_OFF = 600
STATUS_ZH = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败", "unknown": "状态不明（发送中断）"}


#: Databases (by URL) whose outbox this process has seen up to date.
_READY: set[str] = set()


def migrate(ws: Workspace) -> None:
    """Given an open workspace, make the outbox table when it is not there yet."""
    if ws.url in _READY:
        return
    with ws.engine.connect() as conn:
        if db.get_meta(conn, MAIL_KEY) == "1" and sa.inspect(conn).has_table(outbox.name):
            _READY.add(ws.url)
            return
    with ws.engine.begin() as conn:
        metadata.create_all(conn)
        db.set_meta(conn, MAIL_KEY, "1")
    _READY.add(ws.url)


@dataclass
class Settings:
    """How mail is sent: the server, its security, the account, the sender and the page's public address."""

    host: str
    port: int
    security: str = "starttls"
    user: str = ""
    sender: str = ""
    portal_url: str = ""
    enabled: bool = True
    cafile: str = ""  # a private mail server's CA certificate (PEM); empty: the system's trusted CAs
    password: str = field(default="", repr=False)


def save_settings(ws: Workspace, settings: Settings, by: str) -> None:
    """Given a workspace, SMTP settings and who sets them, store them (password in mail.secret, owner-only)."""
    if settings.security not in SECURITY:
        raise UserError(f"加密方式应为 {'、'.join(f'{k}（{v}）' for k, v in SECURITY.items())}")
    if not settings.host or not 0 < int(settings.port) < 65536:
        raise UserError("请给出发信服务器地址和端口（如 smtp.example.cn 465）")
    if "@" not in (settings.sender or ""):
        raise UserError(f"发件人地址无效：{settings.sender or '（空）'}")
    if settings.cafile and not Path(settings.cafile).is_file():
        raise UserError(f"找不到 CA 证书文件：{settings.cafile}")
    plain = {k: v for k, v in settings.__dict__.items() if k != "password"}
    with ws.engine.begin() as conn:
        db.set_meta(conn, SETTINGS_KEY, json.dumps(plain, ensure_ascii=False))
        ws._audit(conn, by, "mail_settings", None, {k: v for k, v in plain.items() if k != "user"})
    path = ws.root / SECRET_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(settings.password or "")


def settings_of(ws: Workspace) -> Settings | None:
    """Given a workspace, return its mail settings when mail is on, else None (mail is off by default)."""
    with ws.reader.connect() as conn:
        raw = db.get_meta(conn, SETTINGS_KEY)
    if not raw:
        return None
    found = Settings(**json.loads(raw))
    if not found.enabled:
        return None
    secret = ws.root / SECRET_FILE
    found.password = secret.read_text(encoding="utf-8") if secret.is_file() else ""
    return found


# --- queueing ---------------------------------------------------------------------------------------


def queue(ws: Workspace, key: str, kind: str, to_addr: str | None, subject: str, body: str,
          attachments: list[tuple[str, Path]] = (), applicant_id: int | None = None,
          invitation_id: int | None = None) -> bool:
    """Given what one message is for (`key`), its kind, address, subject, text and attachments, add it to the
    outbox when mail is on, it has an address and that key is not queued yet; return whether it was added."""
    if settings_of(ws) is None or not (to_addr or "").strip() or "@" not in to_addr:
        return False
    migrate(ws)
    with ws.engine.begin() as conn:
        if conn.execute(sa.select(outbox.c.id).where(outbox.c.key == key)).first():
            return False
        conn.execute(sa.insert(outbox).values(
            key=key, purpose=kind, to_addr=to_addr.strip(), subject=subject, body=body,
            attachments=json.dumps([[n, str(p)] for n, p in attachments], ensure_ascii=False),
            applicant_id=applicant_id, invitation_id=invitation_id, status="pending", created_at=db.now()))
    return True


def _link(ws: Workspace, invitation: dict, required: bool = False) -> str:
    """Given an invitation, return its link for an e-mail's text. A workspace moved without its portal.key cannot
    write a link made before the move: an invitation (the link is its point) raises the Chinese UserError, any
    other message says to use the link received before (a receipt must not fail a send already stored)."""
    settings = settings_of(ws)
    try:
        return invitations.link_of(ws, invitation, settings.portal_url if settings else "")
    except UserError:
        if required:
            raise
        return "（请使用协会此前发给您的专属链接）"


def _queued(ws: Workspace, key: str) -> bool:
    """Given a message's key, return whether it is in the outbox already."""
    migrate(ws)
    with ws.reader.connect() as conn:
        return conn.execute(sa.select(outbox.c.id).where(outbox.c.key == key)).first() is not None


def _signature(ws: Workspace) -> str:
    campaign = ws.campaign
    association = campaign.data.get("association") or {}
    return f"\n\n{association.get('name') or ''}\n（本邮件由系统发送，请勿直接回复）"


def queue_invitation(ws: Workspace, invitation: dict) -> bool:
    """Given an invitation, queue its e-mail (the personal link in the text)."""
    if _queued(ws, f"invite:{invitation['id']}"):  # before writing the link: a moved workspace may not be able to
        return False
    name = ws.program.category_name(invitation["category"]) if invitation.get("category") else ""
    body = (f"{invitation['company_name']}：\n\n您好！{ws.campaign.name}现已开始申报。请通过下面的专属链接"
            f"下载已预填的申报材料、上传填好的材料并查看审核进度和补正通知（{name}，"
            f"链接有效期至 {invitation['valid_until']}，请勿转发）：\n\n{_link(ws, invitation, required=True)}\n\n"
            f"申报截止日期：{ws.campaign.deadline.isoformat()}。" + _signature(ws))
    return queue(ws, f"invite:{invitation['id']}", "invite", invitation.get("email"),
                 f"{ws.campaign.name}申报邀请（{invitation['company_name']}）", body, invitation_id=invitation["id"])


def queue_receipt(ws: Workspace, invitation: dict, applicant_id: int, seq: int, received_on: str,
                  files: list[str]) -> bool:
    """Given an invitation and the version it just sent, queue the receipt confirmation."""
    listed = "\n".join(f"  · {f}" for f in files)
    body = (f"{invitation['company_name']}：\n\n我们已于 {received_on} 收到您的申报材料（第 {seq} 版），文件：\n{listed}\n\n"
            f"审核进度和补正通知请在专属链接查看：\n{_link(ws, invitation)}" + _signature(ws))
    return queue(ws, f"receipt:{applicant_id}:{seq}", "receipt", invitation.get("email"),
                 f"申报材料已收到（{invitation['company_name']}，第 {seq} 版）", body, applicant_id=applicant_id,
                 invitation_id=invitation["id"])


def queue_notice(ws: Workspace, invitation: dict, notice: dict, letter: Path | None, due: str) -> bool:
    """Given an invitation, a notice sent to its enterprise, the letter's file and the reply-by date, queue the
    notice's e-mail (the letter attached, the link in the text)."""
    items = "\n".join(f"  {n}. {i.get('message')}" for n, i in enumerate(notice.get("items") or [], 1))
    body = (f"{invitation['company_name']}：\n\n您的申报材料需要补正（{notice['number']}，{notice['date']}），"
            f"请于 {due} 前通过专属链接上传补正后的材料：\n{_link(ws, invitation)}\n\n需补正的事项：\n{items}\n\n"
            f"补正通知书见附件。" + _signature(ws))
    attached = [(letter.name, letter)] if letter and letter.is_file() else []
    return queue(ws, f"notice:{notice['id']}", "notice", invitation.get("email"),
                 f"补正通知 {notice['number']}（{invitation['company_name']}）", body, attached,
                 applicant_id=notice["applicant_id"], invitation_id=invitation["id"])


def queue_reminder(ws: Workspace, invitation: dict, what: str, day: str, text: str) -> bool:
    """Given an invitation, what the reminder is about (its key part), the day and its text, queue it (one per
    invitation, subject and day)."""
    body = f"{invitation['company_name']}：\n\n{text}\n\n专属链接：\n{_link(ws, invitation)}" + _signature(ws)
    return queue(ws, f"remind:{what}:{invitation['id']}:{day}", "remind", invitation.get("email"),
                 f"{ws.campaign.name}提醒（{invitation['company_name']}）", body, invitation_id=invitation["id"])


# --- sending ----------------------------------------------------------------------------------------


@dataclass
class SendResult:
    """One sender run: messages sent, failed (with the reason) and found cut off by an earlier run."""

    sent: int = 0
    failed: list[str] = field(default_factory=list)
    unknown: int = 0

    def line(self) -> str:
        failed = "".join(f"\n  {line}" for line in self.failed)
        cut = f"，{self.unknown} 封上次发送中断、状态不明（未重发，请核实）" if self.unknown else ""
        return f"已发送 {self.sent} 封邮件，失败 {len(self.failed)} 封{cut}。{failed}"


def message_of(row, settings: Settings) -> EmailMessage:
    """Given an outbox row and the settings, return the e-mail (its Message-ID fixed by the row)."""
    message = EmailMessage()
    message["From"] = formataddr(("", settings.sender)) if settings.sender else settings.user
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(idstring=f"manyi-outbox-{row.id}", domain=settings.sender.split("@")[-1])
    message.set_content(row.body)
    for name, path in json.loads(row.attachments or "[]"):
        data = Path(path).read_bytes()
        kind = (mimetypes.guess_type(name)[0] or "application/octet-stream").split("/", 1)
        message.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=name)
    return message


def connect(settings: Settings, timeout: float = 30) -> smtplib.SMTP:
    """Given the settings, return a logged-in SMTP connection (SSL, STARTTLS or plain as set)."""
    context = ssl.create_default_context(cafile=settings.cafile or None)
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        if settings.security == "starttls":
            smtp.starttls(context=context)
    if settings.user:
        smtp.login(settings.user, settings.password)
    return smtp


def _why(exc: Exception) -> str:
    """Given what went wrong in an SMTP conversation, return it in Chinese for staff (no exception's name)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "收件地址被邮件服务器拒绝（退信）"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "发信账号或密码错误"
    if isinstance(exc, UnicodeEncodeError):
        return "发信账号或密码含有中文等字符，邮件服务器无法接受：请改用英文字母、数字和符号"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "发信服务器不支持所设的加密方式或登录：请核对加密方式（STARTTLS / SSL）和端口"
    if isinstance(exc, ssl.SSLError):
        return "与发信服务器的加密连接失败（证书不受信任或加密方式不符）：请核对加密方式、端口和 CA 证书"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"邮件服务器拒绝发送（代码 {exc.smtp_code}）"
    if isinstance(exc, (ConnectionError, OSError, smtplib.SMTPException)):
        return "无法连接发信服务器：请核对服务器地址和端口，或稍后重试"
    if isinstance(exc, FileNotFoundError):
        return "附件文件已不存在"
    return "发送失败：请核对发信设置后重试"


def send_outbox(ws: Workspace, limit: int | None = None, progress=None) -> SendResult:
    """Given a workspace, send its pending e-mails (at most `limit`); return what happened. Idempotent: each row
    is claimed before it is sent and never sent twice; a row cut off by an earlier run (claimed more than CUT_OFF
    seconds ago, still sending) is marked unknown; one another sender has just claimed is left to it."""
    result = SendResult()
    settings = settings_of(ws)
    if settings is None:
        raise UserError("未开启邮件发送：请先用 manyi mail setup 设置发信服务器")
    migrate(ws)
    queue_new_notices(ws)  # a notice staff sent since the last run goes out with this one
    o = outbox
    cut_off = (datetime.now(timezone.utc) - timedelta(seconds=CUT_OFF)).replace(microsecond=0).isoformat()
    with ws.engine.begin() as conn:  # a row another sender is sending now is left to it
        result.unknown = conn.execute(sa.update(o).where(o.c.status == "sending", o.c.claimed_at < cut_off).values(
            status="unknown", result="上次发送中途中断，无法确定是否已发出；为免重复未自动重发")).rowcount
        query = sa.select(o.c.id).where(o.c.status == "pending").order_by(o.c.id)
        ids = [r[0] for r in conn.execute(query.limit(limit) if limit else query)]
    smtp = None
    try:
        for done, row_id in enumerate(ids, 1):
            with ws.engine.begin() as conn:  # the claim: committed before the server hears of the message
                if conn.execute(sa.update(o).where(o.c.id == row_id, o.c.status == "pending")
                                .values(status="sending", claimed_at=db.now())).rowcount != 1:
                    continue  # another sender took it
                row = conn.execute(sa.select(o).where(o.c.id == row_id)).first()
            try:
                message = message_of(row, settings)
                if smtp is None:
                    smtp = connect(settings)
                refused = smtp.send_message(message)
                status, answer = ("failed", "部分收件地址被拒绝") if refused else ("sent", "已发送")
            except Exception as exc:  # recorded for staff; the other messages still go
                status, answer = "failed", _why(exc)
                if smtp is not None and not isinstance(exc, smtplib.SMTPRecipientsRefused):
                    smtp = _close(smtp)
            with ws.engine.begin() as conn:
                conn.execute(sa.update(o).where(o.c.id == row_id).values(
                    status=status, result=answer, sent_at=db.now() if status == "sent" else None))
            if status == "sent":
                result.sent += 1
            else:
                result.failed.append(f"{row.to_addr}：{row.subject}——{answer}")
            if progress:
                progress(done, len(ids))
    finally:
        _close(smtp)
    return result


def _close(smtp):
    if smtp is not None:
        try:
            smtp.quit()
        except Exception:  # the connection is gone already: nothing to close
            pass
    return None


def retry(ws: Workspace, outbox_id: int, by: str) -> None:
    """Given a failed or unknown message, put it back to be sent (staff decided it was not received)."""
    migrate(ws)
    with ws.engine.begin() as conn:
        done = conn.execute(sa.update(outbox).where(outbox.c.id == outbox_id,
                                                    outbox.c.status.in_(["failed", "unknown"]))
                            .values(status="pending", result=None)).rowcount
        if not done:
            raise UserError(f"第 {outbox_id} 封邮件不是发送失败或状态不明的邮件")
        ws._audit(conn, by, "mail_retry", None, {"outbox": outbox_id})


def listing(ws: Workspace, limit: int = 200) -> list[dict]:
    """Return the outbox, newest first, each row with its status in Chinese (for staff)."""
    migrate(ws)
    with ws.reader.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(outbox).order_by(outbox.c.id.desc()).limit(limit))]
    for row in rows:
        row["status_zh"] = STATUS_ZH.get(row["status"], row["status"])
    return rows


def notice_letter(ws: Workspace, notice: dict, folder: Path) -> Path:
    """Given a notice the workspace recorded (its row) and an empty folder, write its letter again there, as it
    was sent (the version's record, the notice's number, date and items); return the file."""
    from pipeline.issuing.notices import make_notices
    from pipeline.workspace.compare import issue_key

    v = db.versions
    with ws.reader.connect() as conn:
        row = conn.execute(sa.select(v.c.record, v.c.batch_issues).where(v.c.id == notice["version_id"])).first()
    record = json.loads(row.record)
    items = notice["items"] if isinstance(notice["items"], list) else json.loads(notice["items"])
    listed = {issue_key(i) for i in items}
    issues = list(record.get("issues") or []) + json.loads(row.batch_issues or "[]")
    record["issues"] = [i for i in issues if issue_key(i) in listed or i.get("severity") != "error"]
    result = make_notices([record], folder, ws.campaign, today=_date.fromisoformat(notice["date"]),
                          references=[notice["number"]])
    return result.files[0]


MAIL_DIR = "mail"  # letters attached to queued e-mails, kept until sent (under the workspace folder)


def _live_invitation(ws: Workspace, applicant_key: str) -> dict | None:
    inv = invitations.invitations
    with ws.reader.connect() as conn:
        row = conn.execute(sa.select(inv).where(inv.c.applicant_key == applicant_key, inv.c.kind == invitations.APPLICANT,
                                                inv.c.revoked_at.is_(None)).order_by(inv.c.id.desc())).first()
    return dict(row._mapping) if row else None


def queue_new_notices(ws: Workspace) -> int:
    """Given a workspace with mail on, queue the e-mail of every recorded notice not queued yet whose enterprise
    has a live link (the letter attached); return how many were queued."""
    from pipeline.issuing.notices import deadline_for

    if settings_of(ws) is None:
        return 0
    migrate(ws)
    invitations.migrate(ws)
    n, t = db.notices, db.applicants
    with ws.reader.connect() as conn:
        queued = {r[0] for r in conn.execute(sa.select(outbox.c.key).where(outbox.c.purpose == "notice"))}
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(n, t.c.key.label("applicant_key")).join(t, t.c.id == n.c.applicant_id).order_by(n.c.id))]
    count = 0
    for notice in rows:
        if f"notice:{notice['id']}" in queued:
            continue
        invitation = _live_invitation(ws, notice["applicant_key"])
        if invitation is None or not invitation.get("email"):
            continue
        notice["items"] = json.loads(notice["items"])
        folder = ws.root / MAIL_DIR / f"notice-{notice['id']}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        letter = notice_letter(ws, notice, folder)
        due = deadline_for(ws.campaign, _date.fromisoformat(notice["date"])).isoformat()
        count += queue_notice(ws, invitation, notice, letter, due)
    return count


def remind(ws: Workspace, not_submitted: bool, notice_unanswered: bool, day: _date) -> int:
    """Given a workspace, which reminders and the day, queue them (one per enterprise, kind and day): to every
    live link whose enterprise has sent nothing before the deadline, and/or to every enterprise whose latest
    version has a notice still within its window; return how many were queued."""
    from pipeline.issuing.notices import deadline_for

    if settings_of(ws) is None:
        raise UserError("未开启邮件发送：请先用 manyi mail setup 设置发信服务器")
    if not (not_submitted or notice_unanswered):
        raise UserError("请指明提醒哪些企业：--not-submitted 或 --notice-unanswered")
    invitations.migrate(ws)
    inv, t, n = invitations.invitations, db.applicants, db.notices
    campaign, count = ws.campaign, 0
    with ws.reader.connect() as conn:
        live = [dict(r._mapping) for r in conn.execute(sa.select(inv).where(
            inv.c.kind == invitations.APPLICANT, inv.c.revoked_at.is_(None)))]
        keys = {r.key: (r.id, r.latest_version_id) for r in conn.execute(sa.select(t.c.key, t.c.id, t.c.latest_version_id))}
        notices = {r.version_id: r for r in conn.execute(sa.select(n))}
    for invitation in live:
        found = keys.get(invitation["applicant_key"])
        if not_submitted and found is None and day <= campaign.deadline:
            count += queue_reminder(ws, invitation, "not-submitted", day.isoformat(),
                                    f"贵单位尚未提交申报材料，申报将于 {campaign.deadline.isoformat()} 截止，请尽快通过专属链接上传。")
        if notice_unanswered and found is not None and found[1] in notices:
            notice = notices[found[1]]
            due = deadline_for(campaign, _date.fromisoformat(notice.date))
            if day <= due:
                count += queue_reminder(ws, invitation, f"notice-{notice.id}", day.isoformat(),
                                        f"补正通知 {notice.number} 要求的补正材料尚未收到，补正期限为 {due.isoformat()}，"
                                        f"请尽快通过专属链接上传。")
    return count
