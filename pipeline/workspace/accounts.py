"""The web page's accounts and reviewer assignments, kept in the workspace database.

Two tables of their own, versioned like the rest of the schema: `accounts_schema` in the `meta`
table says which of ACCOUNT_MIGRATIONS have run, and the database is backed up before a change
to one that holds data. Passwords arrive hashed (the page hashes them with argon2id); nothing
here sees a password. Web actions go into the workspace's own audit log beside the library's.

Accounts and assignments stay with the server they were made on: `workspace export` carries the
campaign (its TABLES), not who may sign in.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime

import sqlalchemy as sa

from pipeline.common.errors import UserError
from pipeline.workspace import db, locking
from pipeline.workspace.core import SYSTEM

metadata = sa.MetaData()

users = sa.Table(
    "web_users", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),  # admin / staff / reviewer
    sa.Column("password", sa.Text, nullable=False),  # an argon2id hash
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    # Raised by every change that must end the account's sessions; a session cookie carries the
    # version it was signed in under and is refused once it differs (sign-out, password, role, disable).
    sa.Column("session_version", sa.Integer, nullable=False, default=0, server_default="0"),
    # An administrator's second factor: the TOTP secret (base32), and the last time step a code was used for
    # (a code is accepted once: a code seen over a shoulder cannot be used again).
    sa.Column("totp_secret", sa.Text),
    sa.Column("totp_last", sa.BigInteger),
)

assignments = sa.Table(
    "reviewer_assignments", metadata,
    sa.Column("reviewer", sa.String(64), sa.ForeignKey("web_users.name"), primary_key=True),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey(db.applicants.c.id), primary_key=True),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)

ACCOUNTS_KEY = "accounts_schema"
#: ACCOUNT_MIGRATIONS[n] brings the accounts tables from version n to n+1.
def _add_session_version(conn) -> None:
    """Accounts schema 1 → 2: the per-account session version (tables made at 2 have it already)."""
    if "session_version" not in {c["name"] for c in sa.inspect(conn).get_columns(users.name)}:
        conn.execute(sa.text("ALTER TABLE web_users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0"))


def _add_totp(conn) -> None:
    """Accounts schema 2 → 3: an optional second factor (TOTP) per account."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(users.name)}
    for name, kind in (("totp_secret", "TEXT"), ("totp_last", "BIGINT")):
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE web_users ADD COLUMN {name} {kind}"))


ACCOUNT_MIGRATIONS = [lambda conn: metadata.create_all(conn, tables=[users, assignments]), _add_session_version,
                      _add_totp]
#: Names no account may take: they stand for the system, the local user and the command line in the audit log.
RESERVED = frozenset({SYSTEM, "本机用户", "命令行", "（未登录）"})


def reserved(name: str) -> bool:
    """Given a name (normalised), return whether it is one of RESERVED in any spelling."""
    return name in {normal_name(r) for r in RESERVED}


def migrate(ws) -> int:
    """Given an open Workspace, bring its accounts tables up to date (backing the database up first
    when it already holds a campaign); return the version they had. On a shared database, one process at
    a time (page servers and workers may start together)."""
    if ws.url.startswith("sqlite"):
        return _migrate(ws)
    held = locking.DatabaseLock(ws.url, "manyi:schema")
    held.acquire()
    try:
        return _migrate(ws)
    finally:
        held.release()


def _migrate(ws) -> int:
    with ws.engine.connect() as conn:
        found = int(db.get_meta(conn, ACCOUNTS_KEY, "0"))
        if not sa.inspect(conn).has_table(users.name):
            found = 0  # an imported campaign carries the meta line but not these tables
        holds_data = conn.execute(sa.select(sa.func.count()).select_from(db.applicants)).scalar_one() > 0
    if found >= len(ACCOUNT_MIGRATIONS):
        return found
    if holds_data:
        ws.backup()
    with ws.engine.begin() as conn:
        for step in ACCOUNT_MIGRATIONS[found:]:
            step(conn)
        db.set_meta(conn, ACCOUNTS_KEY, str(len(ACCOUNT_MIGRATIONS)))
    return found


def normal_name(name: str) -> str:
    """Given a name as typed, return it as accounts are kept: NFKC (full-width letters and spaces folded),
    without surrounding spaces, so "张评审 " and "张评审" are one name."""
    return unicodedata.normalize("NFKC", name or "").strip()


def user(ws, name: str) -> dict | None:
    """Given a user name, return its row (name, role, password hash, created_at, disabled, session_version),
    or None."""
    with ws.reader.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == normal_name(name))).first()
    return dict(row._mapping) if row else None


def all_users(ws) -> list[dict]:
    """Return every account without its hash, by name, with `created` (when it was added, local time)."""
    with ws.reader.connect() as conn:
        rows = conn.execute(sa.select(users.c.name, users.c.role, users.c.created_at, users.c.disabled,
                                      users.c.totp_secret.is_not(None).label("totp")).order_by(users.c.name))
        return [{**r._mapping, "created": local_time(r.created_at)} for r in rows]


def local_time(stamp: str | None) -> str:
    """Given a stored UTC stamp (ISO), return it in this computer's time as staff read it (2017-06-18 09:30)."""
    if not stamp:
        return ""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stamp


def add_user(ws, name: str, role: str, password_hash: str, by: str) -> str:
    """Given a new name, a role and a password hash, add the account and return its kept name; raise a
    Chinese UserError for a reserved name or one already taken (a password or role is changed on its own)."""
    name = normal_name(name)
    if reserved(name):
        raise UserError(f"“{name}”是系统保留的名字（日志中用来表示系统或本机），请换一个用户名")
    with ws.engine.begin() as conn:
        if conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
            raise UserError(f"账号“{name}”已存在；修改密码或角色请用相应的操作，不会新建同名账号")
        conn.execute(sa.insert(users).values(name=name, role=role, password=password_hash, created_at=db.now(),
                                             disabled=False, session_version=0))
        record(conn, by, "account", None, {"name": name, "role": role})
    return name


def set_password(ws, name: str, password_hash: str, by: str) -> None:
    """Given an account and a new password hash, change it and end the account's sessions; recorded."""
    _change(ws, name, {"password": password_hash}, by, "修改密码", {"name": normal_name(name)})


def set_role(ws, name: str, role: str, by: str) -> None:
    """Given an account and a role, change its role and end its sessions; the last administrator keeps theirs."""
    _change(ws, name, {"role": role}, by, "修改角色", {"name": normal_name(name), "role": role},
            drops_admin=role != "admin")


def set_disabled(ws, name: str, disabled: bool, by: str) -> None:
    """Given an account, disable it (its sessions end) or enable it again; the last administrator stays enabled."""
    _change(ws, name, {"disabled": disabled}, by, "停用账号" if disabled else "启用账号", {"name": normal_name(name)},
            drops_admin=disabled)


def set_totp(ws, name: str, secret: str | None, by: str) -> None:
    """Given an account and a TOTP secret (None: take the second factor away), keep it and end the account's
    sessions; recorded."""
    _change(ws, name, {"totp_secret": secret, "totp_last": None}, by,
            "启用二次验证" if secret else "重置二次验证", {"name": normal_name(name)})


def use_totp_step(ws, name: str, step: int) -> bool:
    """Given an account and the time step of a code just checked, record it as used; return False when that
    step (or a later one) was used already (a code counts once)."""
    with ws.engine.begin() as conn:
        done = conn.execute(sa.update(users).where(users.c.name == normal_name(name),
                                                   sa.or_(users.c.totp_last.is_(None), users.c.totp_last < step))
                            .values(totp_last=step))
    return done.rowcount == 1


def end_sessions(ws, name: str, by: str) -> None:
    """Given an account, end every session signed in with it (sign-out ends them all); recorded."""
    _change(ws, name, {}, by, "退出所有会话", {"name": normal_name(name)})


def delete_user(ws, name: str, by: str) -> None:
    """Given an account, delete it and its reviewer assignments (its audit lines stay); the last
    administrator cannot be deleted."""
    name = normal_name(name)
    with ws.engine.begin() as conn:
        row = _locked_row(conn, name)
        _keep_an_admin(conn, row, True)
        conn.execute(sa.delete(assignments).where(assignments.c.reviewer == name))
        conn.execute(sa.delete(users).where(users.c.name == name))
        record(conn, by, "删除账号", None, {"name": name, "role": row.role})


def _locked_row(conn, name: str):
    """Within a transaction, return an account's row, locked for the change (PostgreSQL: FOR UPDATE)."""
    row = conn.execute(sa.select(users).where(users.c.name == name).with_for_update()).first()
    if row is None:
        raise UserError(f"没有账号“{name}”")
    return row


def _keep_an_admin(conn, row, drops_admin: bool) -> None:
    """Within a transaction, raise a Chinese UserError when a change would leave no enabled administrator."""
    if not drops_admin or row.role != "admin" or row.disabled:
        return
    admins = conn.execute(sa.select(users.c.name).where(users.c.role == "admin", sa.not_(users.c.disabled))
                          .with_for_update()).all()
    if len(admins) <= 1:
        raise UserError(f"“{row.name}”是唯一的管理员：请先添加或启用另一位管理员，再停用、删除或降级这个账号")


def _change(ws, name: str, values: dict, by: str, action: str, detail: dict, drops_admin: bool = False) -> None:
    """Within one transaction: change an account's columns, end its sessions (a new session version) and
    record the action."""
    name = normal_name(name)
    with ws.engine.begin() as conn:
        row = _locked_row(conn, name)
        _keep_an_admin(conn, row, drops_admin)
        conn.execute(sa.update(users).where(users.c.name == name)
                     .values(**values, session_version=row.session_version + 1))
        record(conn, by, action, None, detail)


def assign(ws, reviewer: str, applicant_ids: list[int], by: str, on: bool = True) -> None:
    """Given a reviewer and applicants, assign them (or, with on=False, take them back); record who did it."""
    with ws.engine.begin() as conn:
        for applicant_id in applicant_ids:
            conn.execute(sa.delete(assignments).where(assignments.c.reviewer == reviewer,
                                                      assignments.c.applicant_id == applicant_id))
            if on:
                conn.execute(sa.insert(assignments).values(reviewer=reviewer, applicant_id=applicant_id, by=by,
                                                           at=db.now()))
        record(conn, by, "assign" if on else "unassign", None, {"reviewer": reviewer, "applicants": applicant_ids})


def assigned(ws, reviewer: str) -> set[int]:
    """Given a reviewer, return the ids of the applicants assigned to them."""
    with ws.reader.connect() as conn:
        return {r[0] for r in conn.execute(sa.select(assignments.c.applicant_id)
                                           .where(assignments.c.reviewer == reviewer))}


def reviewers_by_applicant(ws) -> dict[int, list[str]]:
    """Return applicant id → the reviewers assigned to it, by name."""
    found: dict[int, list[str]] = {}
    with ws.reader.connect() as conn:
        for reviewer, applicant_id in conn.execute(sa.select(assignments.c.reviewer, assignments.c.applicant_id)
                                                   .order_by(assignments.c.reviewer)):
            found.setdefault(applicant_id, []).append(reviewer)
    return found


def record(conn, by: str, action: str, applicant_id: int | None, detail: dict | None) -> None:
    """Within a transaction, add a line to the workspace's audit log."""
    conn.execute(sa.insert(db.audit).values(at=db.now(), by=by, action=action, applicant_id=applicant_id,
                                            detail=json.dumps(detail, ensure_ascii=False) if detail else None))


def log(ws, by: str, action: str, applicant_id: int | None = None, detail: dict | None = None) -> None:
    """Add a line to the workspace's audit log in its own transaction (sign-ins, downloads)."""
    with ws.engine.begin() as conn:
        record(conn, by, action, applicant_id, detail)
