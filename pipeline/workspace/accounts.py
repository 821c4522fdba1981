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

import sqlalchemy as sa

from pipeline.workspace import db

metadata = sa.MetaData()

users = sa.Table(
    "web_users", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),  # admin / staff / reviewer
    sa.Column("password", sa.Text, nullable=False),  # an argon2id hash
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
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
ACCOUNT_MIGRATIONS = [lambda conn: metadata.create_all(conn, tables=[users, assignments])]


def migrate(ws) -> int:
    """Given an open Workspace, bring its accounts tables up to date (backing the database up first
    when it already holds a campaign); return the version they had."""
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


def user(ws, name: str) -> dict | None:
    """Given a user name, return its row (name, role, password hash, created_at, disabled), or None."""
    with ws.reader.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    return dict(row._mapping) if row else None


def all_users(ws) -> list[dict]:
    """Return every account without its hash, by name."""
    with ws.reader.connect() as conn:
        rows = conn.execute(sa.select(users.c.name, users.c.role, users.c.created_at, users.c.disabled)
                            .order_by(users.c.name))
        return [dict(r._mapping) for r in rows]


def save_user(ws, name: str, role: str, password_hash: str, by: str) -> None:
    """Add an account, or give an existing one a new role and password; record who did it."""
    with ws.engine.begin() as conn:
        exists = conn.execute(sa.select(users.c.name).where(users.c.name == name)).first()
        if exists:
            conn.execute(sa.update(users).where(users.c.name == name)
                         .values(role=role, password=password_hash, disabled=False))
        else:
            conn.execute(sa.insert(users).values(name=name, role=role, password=password_hash, created_at=db.now(),
                                                 disabled=False))
        record(conn, by, "account", None, {"name": name, "role": role})


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
