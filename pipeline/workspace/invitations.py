"""Invitations to the applicants' page: one personal link per enterprise and category, no account.

A link's secret is the HMAC of a random nonce under the workspace's own key (`portal.key`, a file beside
the database, never in it): 192 bits, and only its SHA-256 and the nonce are kept in the database, so a copy of
the database opens no applicant's page, while the workspace itself can write the link again into a later
e-mail (a notice, a reminder). A link is valid until the campaign's last day of corrections
(`valid_until`), can be revoked, and issuing again for the same enterprise and category revokes the link
before (one live link each). A link knows its enterprise by the applicant key receive matches records by
(normalised name | category), so it sees that applicant's versions and notices and nothing else.

The tables are the portal's own (like the accounts'), made on first use by `migrate`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from pipeline.checking.rules.names import company_key
from pipeline.common import xlsx
from pipeline.common.errors import UserError
from pipeline.common.outputs import check_writable, note_written
from pipeline.definitions.campaign import Campaign
from pipeline.issuing.notices import deadline_for
from pipeline.workspace import db
from pipeline.workspace.core import ZONE, Workspace

metadata = sa.MetaData()

invitations = sa.Table(
    "invitations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 of the link's secret
    sa.Column("nonce", sa.String(64), nullable=False),  # the secret is HMAC(portal.key, nonce)
    sa.Column("kind", sa.String(20), nullable=False),  # applicant / unit (a 推进单位's own link)
    sa.Column("company_name", sa.Text, nullable=False),  # the enterprise (or, for a unit link, the 推进单位)
    sa.Column("category", sa.String(40)),
    sa.Column("applicant_key", sa.String(400)),  # normalised name | category, as receive matches records
    sa.Column("promoting_unit", sa.Text),
    sa.Column("contact", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("roster", sa.Text),  # the roster's row (header → text, JSON): what the pre-filled packet holds
    sa.Column("valid_until", sa.String(10), nullable=False),
    sa.Column("revoked_at", sa.String(32)),
    sa.Column("revoked_by", sa.Text),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Index("ix_invitations_key", "applicant_key"),
)

PORTAL_KEY = "portal_schema"
#: PORTAL_MIGRATIONS[n] brings the portal's tables from version n to n+1.
PORTAL_MIGRATIONS = [lambda conn: metadata.create_all(conn)]
APPLICANT, UNIT = "applicant", "unit"
#: The invitation workbook's columns, ready for a mail merge.
HEADER = ["企业名称", "类别", "推进单位", "联系电话", "邮箱", "有效期至", "专属链接"]


#: Databases (by URL) whose portal tables this process has seen up to date: a page asks on every request.
_READY: set[str] = set()


def migrate(ws: Workspace) -> None:
    """Given an open workspace, make the invitation table when it is not there yet."""
    if ws.url in _READY:
        return
    with ws.engine.connect() as conn:
        found = int(db.get_meta(conn, PORTAL_KEY, "0"))
        if found >= len(PORTAL_MIGRATIONS) and sa.inspect(conn).has_table(invitations.name):
            _READY.add(ws.url)
            return
    with ws.engine.begin() as conn:
        for step in PORTAL_MIGRATIONS:
            step(conn)
        db.set_meta(conn, PORTAL_KEY, str(len(PORTAL_MIGRATIONS)))
    _READY.add(ws.url)


def hash_token(token: str) -> str:
    """Given a link's secret, return what is stored of it (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


KEY_FILE = "portal.key"


def portal_key(ws: Workspace) -> bytes:
    """Given a workspace, return the key its links are derived with, made once (readable by its owner only)."""
    import os

    path = ws.root / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # O_EXCL: two processes keep one key
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        return path.read_bytes()


def token_of(ws: Workspace, nonce: str) -> str:
    """Given a workspace and a link's nonce, return the link's secret (URL-safe text of 192 bits)."""
    import base64
    import hmac

    digest = hmac.new(portal_key(ws), nonce.encode("ascii"), hashlib.sha256).digest()[:24]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def new_token(ws: Workspace) -> tuple[str, str]:
    """Given a workspace, return (nonce, secret) of a fresh link."""
    nonce = secrets.token_hex(16)
    return nonce, token_of(ws, nonce)


def link_of(ws: Workspace, invitation: dict, base: str) -> str:
    """Given an invitation and the page's public address, return its link (for an e-mail). Raise a Chinese
    UserError when this workspace's key did not make it (imported without `portal.key`): a wrong link mailed
    would open nothing."""
    token = token_of(ws, invitation["nonce"])
    if hash_token(token) != invitation["token_hash"]:
        raise UserError(f"无法写出 {invitation['company_name']} 的链接：本工作区没有发出这些链接时的密钥（portal.key，"
                        "导入时未带密钥）。已发出的链接仍可打开；要在邮件中写出链接，请重新发邀请链接，"
                        "或用 manyi workspace export --with-secrets 重新导出后导入")
    return f"{base.rstrip('/')}/apply/{token}"


def today() -> date:
    """Return today's date in the association's time zone (the server's date there)."""
    return datetime.now(ZONE).date()


def valid_until(campaign: Campaign) -> date:
    """Given a campaign, return the last day a link is good for: the day corrections to a notice sent on the
    deadline (or on the campaign's notice_date, when later) are due."""
    last = max(d for d in (campaign.deadline, campaign.data.get("notice_date")) if isinstance(d, date))
    return deadline_for(campaign, last)


@dataclass
class Target:
    """Whom a link is for: an enterprise and category, with what the association knows of it."""

    company_name: str
    category: str
    promoting_unit: str | None = None
    contact: str | None = None
    email: str | None = None
    roster: dict | None = None  # header → text of its roster row

    @property
    def key(self) -> str:
        return f"{company_key(self.company_name)}|{self.category}"


@dataclass
class Issued:
    """A link just issued: its row id, whom it is for, the secret (shown once) and its last day."""

    id: int
    target: Target
    token: str
    valid_until: date

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/apply/{self.token}"


def roster_targets(path: Path, program=None) -> tuple[list[Target], list[str]]:
    """Given a roster workbook (the one `manyi packet --roster` reads) and the program, return a Target per good
    row and the Chinese problem lines of the bad rows. Only a program that prints its forms reads a roster (as
    `manyi packet --roster`); the others invite the applicants of their workspace."""
    from pipeline.definitions.program_forms import entry_kinds
    from pipeline.generating.packet import applicants, read_roster

    if program is not None and "printed" not in entry_kinds(program):
        raise UserError(f"按名单邀请（--roster）只适用于印有申报表的项目；{program.name}请用 --all 或企业名称邀请"
                        f"工作区中的申报单位")

    rows = read_roster(Path(path))
    people, problems = applicants(rows)
    by_row = dict(rows)
    targets = []
    for person in people:
        values = person.values
        application = values.get("application") or {}
        targets.append(Target(company_name=person.name, category=person.category,
                              promoting_unit=(values.get("cover") or {}).get("promoting_unit"),
                              contact=application.get("phone") or (values.get("contract") or {}).get("phone"),
                              email=application.get("email"), roster=by_row.get(person.row)))
    return targets, problems


def workspace_targets(ws: Workspace, names: list[str] | None = None) -> list[Target]:
    """Given a workspace and names (None: every applicant it holds), return a Target per enterprise: a name is
    looked up among the enterprises invited before (their roster row and contacts kept), then among the
    applicants (an id, a full name or part of one, as `ws.find` takes it)."""
    if not names:
        return [Target(r.company_name, r.category, r.promoting_unit) for r in ws.applicants(limit=None).items
                if r.company_name and r.category]
    migrate(ws)
    targets: dict[str, Target] = {}
    for name in names:
        found = _invited(ws, name)
        if not found:
            row = ws.applicant(ws.find(name)).row
            found = [Target(row.company_name, row.category, row.promoting_unit)] if row.company_name else []
        for target in found:
            targets.setdefault(target.key, target)
    return list(targets.values())


def _invited(ws: Workspace, name: str) -> list[Target]:
    """Given a name (whole or part), return the enterprises invited before under it, from their latest link;
    raise UserError when the part names several enterprises."""
    inv = invitations
    text = name.strip()
    with ws.reader.connect() as conn:
        rows = conn.execute(sa.select(inv).where(inv.c.kind == APPLICANT, inv.c.company_name.contains(text, autoescape=True))
                            .order_by(inv.c.id.desc())).all()
    exact = [r for r in rows if r.company_name == text]
    latest = {}
    for r in exact or rows:
        latest.setdefault(r.applicant_key, r)
    names = {r.company_name for r in latest.values()}
    if len(names) > 1:
        raise UserError(f"“{text}”对应多家企业：{'、'.join(sorted(names))}。请写全称")
    return [Target(r.company_name, r.category, r.promoting_unit, r.contact, r.email,
                   json.loads(r.roster) if r.roster else None) for r in latest.values()]


def issue_links(ws: Workspace, targets: list[Target], by: str) -> list[Issued]:
    """Given a workspace, whom to invite and who does it, issue one new link per target (the live link before
    for the same enterprise and category is revoked); return the links, each secret shown only here."""
    by = (by or "").strip()
    if not by:
        raise UserError("请写明操作人（--by 姓名）")
    if not targets:
        raise UserError("没有要邀请的企业：请给出名单（--roster）、--all 或企业名称")
    migrate(ws)
    until = valid_until(ws.campaign)
    if until < today():
        raise UserError(f"本届活动的补正期已于 {until.isoformat()} 结束，不能再发邀请链接")
    done, stamp, inv = [], db.now(), invitations
    with ws.engine.begin() as conn:
        for target in targets:
            conn.execute(sa.update(inv).where(inv.c.applicant_key == target.key, inv.c.kind == APPLICANT,
                                              inv.c.revoked_at.is_(None)).values(revoked_at=stamp, revoked_by=by))
            nonce, token = new_token(ws)
            new_id = conn.execute(sa.insert(inv).values(
                token_hash=hash_token(token), nonce=nonce, kind=APPLICANT, company_name=target.company_name,
                category=target.category, applicant_key=target.key, promoting_unit=target.promoting_unit,
                contact=target.contact, email=target.email,
                roster=json.dumps(target.roster, ensure_ascii=False) if target.roster else None,
                valid_until=until.isoformat(), created_at=stamp, by=by)).inserted_primary_key[0]
            ws._audit(conn, by, "invite", None, {"invitation": new_id, "company": target.company_name,
                                                 "category": target.category})
            done.append(Issued(new_id, target, token, until))
    return done


def issue_unit(ws: Workspace, unit: str, by: str) -> Issued:
    """Given a workspace, a 推进单位's name and who does it, issue that unit's own link (revoking its one before)."""
    migrate(ws)
    unit = (unit or "").strip()
    if not unit:
        raise UserError("请写明推进单位名称")
    until, stamp, inv = valid_until(ws.campaign), db.now(), invitations
    nonce, token = new_token(ws)
    with ws.engine.begin() as conn:
        conn.execute(sa.update(inv).where(inv.c.kind == UNIT, inv.c.company_name == unit, inv.c.revoked_at.is_(None))
                     .values(revoked_at=stamp, revoked_by=by))
        new_id = conn.execute(sa.insert(inv).values(
            token_hash=hash_token(token), nonce=nonce, kind=UNIT, company_name=unit, promoting_unit=unit,
            valid_until=until.isoformat(), created_at=stamp, by=by)).inserted_primary_key[0]
        ws._audit(conn, by, "invite", None, {"invitation": new_id, "unit": unit})
    return Issued(new_id, Target(unit, "", unit), token, until)


def revoke(ws: Workspace, invitation_id: int, by: str) -> dict:
    """Given a workspace, an invitation id and who does it, revoke the link (it answers as not found from now
    on); return its row. Raise UserError when there is no such live link."""
    migrate(ws)
    inv = invitations
    with ws.engine.begin() as conn:
        row = conn.execute(sa.select(inv).where(inv.c.id == invitation_id)).first()
        if row is None:
            raise UserError(f"没有编号为 {invitation_id} 的邀请链接")
        if row.revoked_at:
            raise UserError(f"{row.company_name} 的这条链接已于 {row.revoked_at[:10]} 作废")
        conn.execute(sa.update(inv).where(inv.c.id == invitation_id).values(revoked_at=db.now(), revoked_by=by))
        ws._audit(conn, by, "revoke_invitation", None, {"invitation": invitation_id, "company": row.company_name})
    return dict(row._mapping)


def find(ws: Workspace, token: str) -> dict | None:
    """Given a link's secret, return its live invitation (not revoked), or None for any other text."""
    if not token or len(token) > 100:
        return None
    migrate(ws)
    inv = invitations
    with ws.reader.connect() as conn:
        row = conn.execute(sa.select(inv).where(inv.c.token_hash == hash_token(token), inv.c.kind != REQUEST,
                                                inv.c.revoked_at.is_(None))).first()
    return dict(row._mapping) if row else None


def listing(ws: Workspace) -> list[dict]:
    """Return every invitation (newest first), without secrets: for the staff page."""
    migrate(ws)
    inv = invitations
    with ws.reader.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(inv).order_by(inv.c.id.desc()))]


def applicant_id(ws: Workspace, invitation: dict) -> int | None:
    """Given an invitation, return the id of the applicant its enterprise became in the workspace (None: it has
    sent nothing yet)."""
    t = db.applicants
    with ws.reader.connect() as conn:
        return conn.execute(sa.select(t.c.id).where(t.c.key == invitation["applicant_key"])).scalar_one_or_none()


def write_workbook(issued: list[Issued], out: Path, base: str, program) -> Path:
    """Given links just issued, the workbook path, the page's address and the program, write the invitation
    workbook (name, category, 推进单位, contact, e-mail, last day, link); return its path."""
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise UserError(f"邀请名单须写成 .xlsx 文件：{out.name}")
    check_writable([out])
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [[i.target.company_name, program.category_name(i.target.category) if i.target.category else "",
             i.target.promoting_unit or "", i.target.contact or "", i.target.email or "",
             i.valid_until.isoformat(), i.url(base)] for i in issued]
    book = xlsx.new_workbook()
    xlsx.add_sheet(book, "邀请链接", HEADER, rows, widths={7: 80})
    xlsx.save(book, out)
    note_written(out)
    return out


def roster_row(invitation: dict) -> dict:
    """Given an invitation, return the roster row its packet is pre-filled with (name and category when it
    came from the workspace rather than a roster)."""
    if invitation.get("roster"):
        return json.loads(invitation["roster"])
    from pipeline.generating.packet import roster_columns

    columns = roster_columns()
    from pipeline.definitions import forms as forms_mod

    return {columns["company"][0]: invitation["company_name"],
            columns["category"][0]: forms_mod.categories().get(invitation["category"], invitation["category"])}


def prefills(ws: Workspace, invitation: dict) -> bool:
    """Given an invitation, return whether its packet comes pre-filled (the program prints its forms and the
    link keeps a roster row); else it is the category's blank packet, and the page must not say otherwise."""
    from pipeline.definitions.program_forms import entry_kinds

    return "printed" in entry_kinds(ws.program) and bool(invitation.get("roster"))


def prefilled_packet(ws: Workspace, invitation: dict, folder: Path) -> Path:
    """Given an invitation and an empty folder, write its packet there, pre-filled with the roster's fields where
    the program prints its forms (else the program's blank packet of its category, zipped); return the file."""
    import zipfile

    from pipeline.definitions.program_forms import entry_kinds
    from pipeline.generating.packet import applicants, render_packet
    from pipeline.generating.packets import write_program_packet
    from pipeline.common.files import safe_filename

    campaign, program = ws.campaign, ws.program
    stem = safe_filename(invitation["company_name"]) or "申报材料"
    if "printed" in entry_kinds(program):
        people, _ = applicants([(2, roster_row(invitation))])
        if people:
            return render_packet(people[0].category, people[0].values, folder / f"{stem}_申报材料.docx",
                                 campaign.context())
    write_program_packet(folder / "packet", invitation["category"], campaign)
    target = folder / f"{stem}_申报材料.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((folder / "packet").rglob("*")):
            if path.is_file() and not path.name.startswith("."):  # manyi's own manifest stays out
                archive.write(path, path.relative_to(folder / "packet").as_posix())
    return target


def unit_links(ws: Workspace, units: list[str], by: str) -> list[Issued]:
    """Given a workspace, 推进单位 names and who does it, issue each unit's own link; return them."""
    names = list(dict.fromkeys(u.strip() for u in units if u and u.strip()))
    if not names:
        raise UserError("没有推进单位：名单或工作区中的企业都未写推进单位")
    return [issue_unit(ws, name, by) for name in names]


def unit_enterprises(ws: Workspace, invitation: dict) -> list[dict]:
    """Given a 推进单位's invitation, return the enterprises it recommends: those invited naming it and the
    applicants naming it, each {name, category, applicant_id, stage} (applicant_id None: nothing sent yet)."""
    unit = invitation["company_name"]
    inv = invitations
    with ws.reader.connect() as conn:
        invited = conn.execute(sa.select(inv.c.company_name, inv.c.category, inv.c.applicant_key).where(
            inv.c.kind == APPLICANT, inv.c.promoting_unit == unit, inv.c.revoked_at.is_(None))).all()
        rows = conn.execute(sa.select(db.applicants.c.id, db.applicants.c.key, db.applicants.c.company_name,
                                      db.applicants.c.category, db.applicants.c.stage)
                            .where(db.applicants.c.promoting_unit == unit)).all()
        keys = {r.key: r for r in conn.execute(sa.select(db.applicants.c.id, db.applicants.c.key,
                                                         db.applicants.c.stage))}
    found = {r.key: {"name": r.company_name, "category": r.category, "applicant_id": r.id, "stage": r.stage}
             for r in rows}
    for r in invited:
        if r.applicant_key not in found:
            known = keys.get(r.applicant_key)
            found[r.applicant_key] = {"name": r.company_name, "category": r.category,
                                      "applicant_id": known.id if known else None,
                                      "stage": known.stage if known else ""}
    return sorted(found.values(), key=lambda e: (e["name"] or "", e["category"] or ""))


def with_files(ws: Workspace, applicant_id: int, added: list[Path], folder: Path) -> Path:
    """Given an applicant, files to add (a 推进单位's 推荐意见表) and an empty folder, write there an inbox holding
    one entry: the latest version's files with the added ones (a file of the same name replaced); return the
    inbox. Received, it is the applicant's next version."""
    detail = ws.applicant(applicant_id)
    latest = detail.versions[-1]
    entry = folder / "inbox" / (detail.row.company_name or f"申报{applicant_id}")
    entry.mkdir(parents=True)
    names = {p.name for p in added}
    for f in latest.files:
        name = f["name"] or Path(latest.source).name
        if Path(name).name in names:
            continue
        target = entry / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ws.store.path(f["sha256"]), target)
    for path in added:
        shutil.copyfile(path, entry / path.name)
    return folder / "inbox"


def keep_unit_files(ws: Workspace, invitation: dict, files: list[Path]) -> list[str]:
    """Given a 推进单位's invitation and the files it sent (its 推荐汇总表), keep them in the store and log each
    (name, SHA-256) in the audit log under the unit; return their names."""
    from pipeline.workspace.store import file_sha256

    kept = []
    with ws.engine.begin() as conn:
        for path in files:
            sha, size = file_sha256(path)
            ws.store.put(path, sha)
            ws._audit(conn, f"推进单位：{invitation['company_name']}", "unit_file", None,
                      {"invitation": invitation["id"], "name": path.name, "sha256": sha, "size": size})
            kept.append(path.name)
    return kept


def unit_files(ws: Workspace) -> list[dict]:
    """Return the files 推进单位 sent on their page (newest first): unit, name, SHA-256, size, when."""
    a = db.audit
    with ws.reader.connect() as conn:
        rows = conn.execute(sa.select(a).where(a.c.action == "unit_file").order_by(a.c.id.desc())).all()
    return [{"unit": r.by.split("：", 1)[-1], "at": r.at, **json.loads(r.detail)} for r in rows]


# --- open applications: an enterprise never invited asks for a link, staff approve ---------------------

REQUEST = "request"


def open_applications(campaign: Campaign) -> bool:
    """Given a campaign, return whether enterprises never invited may ask for a link (`open_applications: true`)."""
    return bool(campaign.data.get("open_applications"))


def request_link(ws: Workspace, name: str, category: str, email: str, contact: str = "", unit: str = "") -> int:
    """Given what an enterprise never invited types (name, category id, e-mail, phone, 推进单位), record its
    request for staff to approve; return its id. Raise a Chinese UserError when the campaign takes no such
    requests, a field is wrong, or the enterprise has a link or a request already."""
    if not open_applications(ws.campaign):
        raise UserError("本届活动只接受受邀企业申报，请与协会联系")
    name, email = (name or "").strip(), (email or "").strip()
    if not name or len(name) > 100:
        raise UserError("请填写企业全称（100 字以内）")
    if category not in ws.program.categories:
        raise UserError(f"请选择申报类别：{'、'.join(ws.program.category_names().values())}")
    if "@" not in email or len(email) > 200 or any(c.isspace() for c in email):
        raise UserError(f"邮箱地址无效：{email or '（空）'}")
    if until_passed(ws):
        raise UserError("本届活动已截止，不再接受申请")
    migrate(ws)
    target = Target(name, category, (unit or "").strip() or None, (contact or "").strip()[:60] or None, email)
    inv = invitations
    with ws.engine.begin() as conn:
        if conn.execute(sa.select(inv.c.id).where(inv.c.applicant_key == target.key, inv.c.revoked_at.is_(None),
                                                  inv.c.kind.in_([APPLICANT, REQUEST]))).first():
            raise UserError("该企业已有专属链接或已提交申请：请查看邮箱，或与协会联系")
        new_id = conn.execute(sa.insert(inv).values(
            token_hash=hash_token(secrets.token_hex(32)), nonce="", kind=REQUEST, company_name=name,
            category=category, applicant_key=target.key, promoting_unit=target.promoting_unit,
            contact=target.contact, email=email, valid_until=valid_until(ws.campaign).isoformat(),
            created_at=db.now(), by=f"申请：{name}")).inserted_primary_key[0]
        ws._audit(conn, f"申请：{name}", "link_request", None, {"invitation": new_id, "category": category})
    return new_id


def until_passed(ws: Workspace) -> bool:
    """Given a workspace, return whether its links' last day has passed."""
    return valid_until(ws.campaign) < today()


def approve(ws: Workspace, request_id: int, by: str) -> Issued:
    """Given a pending request and who approves it, issue the enterprise's link (the request is closed); return it."""
    inv = invitations
    with ws.reader.connect() as conn:
        row = conn.execute(sa.select(inv).where(inv.c.id == request_id, inv.c.kind == REQUEST,
                                                inv.c.revoked_at.is_(None))).first()
    if row is None:
        raise UserError(f"没有待处理的第 {request_id} 号申请")
    issued = issue_links(ws, [Target(row.company_name, row.category, row.promoting_unit, row.contact, row.email)], by)
    with ws.engine.begin() as conn:
        conn.execute(sa.update(inv).where(inv.c.id == request_id).values(revoked_at=db.now(), revoked_by=by))
    return issued[0]
