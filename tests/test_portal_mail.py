"""E-mail to applicants against a local SMTP server (aiosmtpd on loopback, a free port): invitations
with their links, the receipt of a packet sent on the page, a notice with its letter attached; each message
once, even when the sender runs again after a restart or was cut off mid-way; a refused address is recorded
as failed for staff; mail stays off until staff set it up."""

from __future__ import annotations

import email
import email.policy
import io
import re
import socket
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import resolve_campaign

sys.path.insert(0, str(Path(__file__).parent))
from test_portal import BEFORE, COMPANY, csrf, filled, upload  # noqa: E402

REFUSED = "bc@bcjz.cn"  # 冰城家政's address in the sample roster: this server refuses it


class Inbox:
    """What the local SMTP server received (parsed messages), refusing one address."""

    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()


@pytest.fixture
def clock():
    from pipeline.workspace import invitations

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(invitations, "today", lambda: BEFORE)
        yield


def links_in(message) -> list[str]:
    return re.findall(r"https://sb\.example\.cn/apply/[A-Za-z0-9_-]+", message.get_body(("plain",)).get_content())


def test_mail_is_off_by_default(tmp_path, clock):
    from pipeline.workspace import Workspace, invitations, mail

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)) as ws:
        issued = invitations.issue_links(ws, invitations.roster_targets(SAMPLES / "企业名单.xlsx")[0], by="王敏")
        assert mail.queue_invitation(ws, invitations.find(ws, issued[0].token)) is False
        assert mail.listing(ws) == []
        with pytest.raises(Exception, match="未开启邮件发送"):
            mail.send_outbox(ws)


def test_invitations_receipt_and_notice_each_once(tmp_path, smtp, clock):
    from pipeline.web.app import create_app
    from pipeline.workspace import Workspace, db, invitations, mail
    from pipeline.workspace.outputs import workspace_notices

    port, received = smtp
    root = tmp_path / "ws"
    with Workspace.init(root, resolve_campaign("heilongjiang", None)) as ws:
        mail.save_settings(ws, mail.Settings(host="127.0.0.1", port=port, security="none", sender="xh@example.cn",
                                             portal_url="https://sb.example.cn", password="秘密"), by="王敏")
        issued = invitations.issue_links(ws, invitations.roster_targets(SAMPLES / "企业名单.xlsx")[0], by="王敏")
        for one in issued:
            mail.queue_invitation(ws, invitations.find(ws, one.token))
        mail.queue_invitation(ws, invitations.find(ws, issued[0].token))  # queued twice: one message
        result = mail.send_outbox(ws)
    assert "秘密" not in (root / "campaign.yaml").read_text(encoding="utf-8")
    assert (root / mail.SECRET_FILE).stat().st_mode & 0o077 == 0
    assert result.sent == 3 and len(result.failed) == 1 and REFUSED in result.failed[0]
    tokens = {one.target.email: one.token for one in issued}
    got = {m["To"]: links_in(m) for m in received.messages}
    assert got == {addr: [f"https://sb.example.cn/apply/{tok}"] for addr, tok in tokens.items() if addr != REFUSED}

    # The applicant sends a packet with a field missing on its page: a receipt; staff send a notice: the letter.
    app = create_app(root, testing=True, workers=0)  # no worker here: the sends below are this test's own
    client = app.test_client()
    token = tokens["zl@hec.com.cn"]
    shown = upload(client, token, filled(tmp_path / "v1", COMPANY, application__legal_representative=None))
    draft = re.search(r'name="draft" value="([^"]+)"', shown.data.decode()).group(1)
    assert client.post(f"/apply/{token}/send", data={"csrf": csrf(client), "draft": draft}).status_code == 302
    with Workspace.open(root) as ws:
        done = workspace_notices(ws, tmp_path / "notices", by="王敏", today=date(2017, 6, 12))
        assert len(done.recorded) == 1
        result = mail.send_outbox(ws)
        assert result.sent == 2 and result.failed == []
        rows = mail.listing(ws)
    assert [r["status_zh"] for r in rows if r["to_addr"] == REFUSED] == ["发送失败"]
    receipt, notice = received.messages[3:]
    assert "已收到" in receipt["Subject"] and "第 1 版" in receipt.get_body(("plain",)).get_content()
    assert "实施用户满意工程情况的报告.docx" in receipt.get_body(("plain",)).get_content()
    assert notice["Subject"].startswith(f"补正通知 {done.recorded[0]['number']}")
    assert links_in(notice) == [f"https://sb.example.cn/apply/{token}"]
    attached = list(notice.iter_attachments())
    assert [a.get_filename() for a in attached] == [done.recorded[0]["file"]]
    import docx

    letter = docx.Document(io.BytesIO(attached[0].get_content()))
    text = "\n".join(p.text for p in letter.paragraphs) + "".join(
        c.text for t in letter.tables for r in t.rows for c in r.cells)
    assert COMPANY in text and "法定代表人" in text

    # A restart: nothing is sent again; a message cut off mid-way is never resent by itself.
    with Workspace.open(root) as ws:
        assert mail.send_outbox(ws).sent == 0
        mail.queue_reminder(ws, invitations.find(ws, token), "test", "2017-06-13", "请尽快补正。")
        with ws.engine.begin() as conn:  # what a sender killed between its claim and the server's answer leaves
            conn.execute(sa.update(mail.outbox).where(mail.outbox.c.status == "pending").values(
                status="sending", claimed_at="2017-06-13T08:00:00+00:00"))
        mail.queue_reminder(ws, invitations.find(ws, token), "test", "2017-06-14", "请尽快补正。")
        with ws.engine.begin() as conn:  # what another sender, busy right now, holds
            conn.execute(sa.update(mail.outbox).where(mail.outbox.c.status == "pending").values(
                status="sending", claimed_at=db.now()))
    with Workspace.open(root) as ws:
        again = mail.send_outbox(ws)
        assert again.sent == 0 and again.unknown == 1
        assert [r["status"] for r in mail.listing(ws)][:2] == ["sending", "unknown"]
        refused = next(r for r in mail.listing(ws) if r["to_addr"] == REFUSED)
        mail.retry(ws, refused["id"], by="王敏")  # staff put a failed message back: it is tried once more
        retried = mail.send_outbox(ws)
        assert retried.sent == 0 and len(retried.failed) == 1
    assert len(received.messages) == 5
    ids = [m["Message-ID"] for m in received.messages]
    assert len(set(ids)) == 5


def test_remind_not_submitted_queues_one_per_day(tmp_path, smtp, clock):
    from pipeline.workspace import Workspace, invitations, mail

    port, received = smtp
    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)) as ws:
        mail.save_settings(ws, mail.Settings(host="127.0.0.1", port=port, security="none", sender="xh@example.cn",
                                             portal_url="https://sb.example.cn"), by="王敏")
        invitations.issue_links(ws, invitations.roster_targets(SAMPLES / "企业名单.xlsx")[0], by="王敏")
        assert mail.remind(ws, True, False, BEFORE) == 4
        assert mail.remind(ws, True, False, BEFORE) == 0  # the same day: nothing more
        assert mail.send_outbox(ws).sent == 3
    assert all("尚未提交" in m.get_body(("plain",)).get_content() for m in received.messages)


def certificate(folder: Path) -> tuple[Path, Path]:
    """Given a folder, write a self-signed certificate for 127.0.0.1 and its key (PEM); return their paths."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp.pem", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_mail_goes_over_starttls_and_ssl_with_a_login(tmp_path, clock, security):
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from pipeline.workspace import Workspace, invitations, mail

    cert, key = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"xh", b"mi-mi-2017")
        logins.append(ok)
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    inbox = Inbox()
    options = {"tls_context": context, "require_starttls": True} if security == "starttls" else {
        "ssl_context": context}
    # With implicit TLS aiosmtpd does not count the connection as TLS for AUTH: it is encrypted all the same.
    # PLAIN only: smtplib then tries no second mechanism after a refusal.
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=security == "starttls", auth_exclude_mechanism=["LOGIN"], **options)
    controller.start()
    try:
        with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)) as ws:
            settings = mail.Settings(host="127.0.0.1", port=controller.port, security=security, user="xh",
                                     sender="xh@example.cn", portal_url="https://sb.example.cn", password="mi-mi-2017",
                                     cafile=str(cert))
            mail.save_settings(ws, settings, by="王敏")
            issued = invitations.issue_links(ws, invitations.roster_targets(SAMPLES / "企业名单.xlsx")[0][:1], by="王敏")
            mail.queue_invitation(ws, invitations.find(ws, issued[0].token))
            assert mail.send_outbox(ws).sent == 1
            mail.save_settings(ws, mail.Settings(**{**settings.__dict__, "password": "wrong-pw"}), by="王敏")
            mail.queue_reminder(ws, invitations.find(ws, issued[0].token), "x", "2017-06-11", "提醒")
            failed = mail.send_outbox(ws).failed
            assert len(failed) == 1 and "发信账号或密码错误" in failed[0]
    finally:
        controller.stop()
    assert logins == [True, False]
    assert [m["To"] for m in inbox.messages] == ["zl@hec.com.cn"]


def test_manyi_mail_setup_remind_and_send(tmp_path, smtp, clock):
    from click.testing import CliRunner

    from pipeline.cli import cli
    from pipeline.workspace import Workspace

    port, received = smtp
    root = tmp_path / "ws"
    Workspace.init(root, resolve_campaign("heilongjiang", None)).close()
    run = CliRunner().invoke
    answer = run(cli, ["remind", str(root), "--not-submitted"])
    assert answer.exit_code == 2 and "未开启邮件发送" in answer.output
    answer = run(cli, ["mail", "setup", str(root), "--host", "127.0.0.1", "--port", str(port), "--security", "none",
                       "--sender", "xh@example.cn", "--url", "https://sb.example.cn", "--password", "pw-2017",
                       "--by", "王敏"])
    assert answer.exit_code == 0, answer.output
    assert "pw-2017" not in (root / "campaign.yaml").read_text(encoding="utf-8")
    answer = run(cli, ["invite", str(root), "--roster", str(SAMPLES / "企业名单.xlsx"), "--out",
                       str(tmp_path / "邀请.xlsx"), "--url", "https://sb.example.cn", "--by", "王敏"])
    assert answer.exit_code == 0 and "4 封邀请邮件待发送" in answer.output, answer.output
    answer = run(cli, ["mail", "send", str(root)])
    assert answer.exit_code == 0 and "已发送 3 封邮件，失败 1 封" in answer.output, answer.output
    answer = run(cli, ["remind", str(root)])
    assert answer.exit_code == 2 and "--not-submitted" in answer.output
    answer = run(cli, ["remind", str(root), "--not-submitted"])
    assert answer.exit_code == 0 and "新加入 4 封提醒邮件" in answer.output and "已发送 3 封" in answer.output
    answer = run(cli, ["remind", str(root), "--not-submitted"])
    assert "新加入 0 封提醒邮件" in answer.output and "已发送 0 封" in answer.output
    assert len(received.messages) == 6


def test_a_receipt_goes_out_through_the_stored_jobs_without_anyone_pressing_send(tmp_path, smtp, clock):
    """With e-mail on, the applicant's send queues its receipt and a send job; the page's own worker sends it."""
    import time

    from pipeline.web.app import create_app
    from pipeline.workspace import Workspace, invitations, mail

    port, received = smtp
    root = tmp_path / "ws"
    with Workspace.init(root, resolve_campaign("heilongjiang", None)) as ws:
        mail.save_settings(ws, mail.Settings(host="127.0.0.1", port=port, security="none", sender="xh@example.cn",
                                             portal_url="https://sb.example.cn", password=""), by="王敏")
        issued = invitations.issue_links(ws, invitations.roster_targets(SAMPLES / "企业名单.xlsx")[0], by="王敏")
    token = {one.target.email: one.token for one in issued}["zl@hec.com.cn"]
    app = create_app(root, testing=True)  # the page's worker runs the stored jobs
    try:
        client = app.test_client()
        shown = upload(client, token, filled(tmp_path / "v1", COMPANY))
        draft = re.search(r'name="draft" value="([^"]+)"', shown.data.decode()).group(1)
        assert client.post(f"/apply/{token}/send", data={"csrf": csrf(client), "draft": draft}).status_code == 302
        deadline = time.monotonic() + 60  # a bound on waiting for the worker, not a claim about speed
        while not received.messages and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        app.extensions["manyi"].runner.stop()
    assert [m["To"] for m in received.messages] == ["zl@hec.com.cn"]
    assert "已收到" in received.messages[0]["Subject"]
    with Workspace.open(root) as ws:
        assert [r["status"] for r in mail.listing(ws)] == ["sent"]
