"""The workspace database: its tables (SQLAlchemy Core), engine, schema versions and a portable dump.

Any SQLAlchemy URL works; the default is an SQLite file in the workspace folder (WAL mode, so
readers never wait for a receive run). JSON values (records, issues, comparisons) are stored as
text, so a dump moves between SQLite and PostgreSQL unchanged. The schema version lives in the
`meta` table; `migrate` brings an older database up to date after backing it up.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlalchemy as sa

from pipeline.common.database import make_engine, now, sqlite_url  # noqa: F401  (the workspace's engine)
from pipeline.common.errors import UserError
from pipeline.issuing import register

SCHEMA_VERSION = 6
metadata = sa.MetaData()

meta = sa.Table("meta", metadata, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text))

applicants = sa.Table(
    "applicants", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False, unique=True),  # normalised company name | category
    sa.Column("company_name", sa.Text),
    sa.Column("category", sa.String(40)),
    sa.Column("promoting_unit", sa.Text),
    sa.Column("stage", sa.String(80), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # complete / incomplete: record + decisions
    sa.Column("errors", sa.Integer, nullable=False, default=0),  # open errors after decisions
    sa.Column("warnings", sa.Integer, nullable=False, default=0),
    sa.Column("latest_version_id", sa.Integer),
    sa.Column("version_count", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Index("ix_applicants_stage", "stage"),
    sa.Index("ix_applicants_category", "category"),
    sa.Index("ix_applicants_unit", "promoting_unit"),
)

versions = sa.Table(
    "versions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey("applicants.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # SHA-256 over the entry's files (names and bytes)
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("received_on", sa.String(10)),
    sa.Column("received_at", sa.String(32), nullable=False),
    sa.Column("record", sa.Text, nullable=False),  # the parsed, checked record (per-record rules)
    sa.Column("batch_issues", sa.Text, nullable=False, default="[]"),  # duplicates, lateness over the workspace
    sa.Column("comparison", sa.Text),  # with the version before (None for the first)
    sa.Column("settled", sa.Boolean, nullable=False, default=False),  # compared, batch-checked, staged
    sa.UniqueConstraint("applicant_id", "seq"),
    sa.Index("ix_versions_digest", "digest"),
)

files = sa.Table(
    "files", metadata,
    sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Index("ix_files_version", "version_id"),
)

moves = sa.Table(
    "stage_moves", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey("applicants.id"), nullable=False),
    sa.Column("from_stage", sa.String(80)),
    sa.Column("to_stage", sa.String(80), nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("note", sa.Text),
    sa.Index("ix_moves_applicant", "applicant_id"),
)

decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey("applicants.id"), nullable=False),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id")),
    sa.Column("kind", sa.String(20), nullable=False),  # confirm / waive / opinion
    sa.Column("code", sa.String(80)),  # the issue decided on: code, form, field
    sa.Column("form", sa.String(80)),
    sa.Column("field", sa.String(80)),
    sa.Column("recommend", sa.Boolean),  # an opinion's recommendation (None: not said)
    sa.Column("score", sa.Float),  # an opinion's score, 0-100 (None: not given)
    sa.Column("carried_from", sa.Integer),  # the version a confirmation or waiver was made on (None: this one)
    sa.Column("note", sa.Text),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Index("ix_decisions_applicant", "applicant_id"),
)

notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey("applicants.id"), nullable=False),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False),
    sa.Column("number", sa.String(40), nullable=False, unique=True),
    sa.Column("date", sa.String(10), nullable=False),
    sa.Column("items", sa.Text, nullable=False),  # the errors listed: [{code, form, field, message}]
    sa.Column("deadline", sa.String(10)),  # the reply-by day it printed: the next version is judged against it
    sa.Column("file", sa.Text),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.UniqueConstraint("version_id"),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("applicant_id", sa.Integer),
    sa.Column("detail", sa.Text),
    sa.Index("ix_audit_applicant", "applicant_id"),
)

#: Tables in the order a dump is loaded (referenced tables first); the certificate register's too.
TABLES = (meta, applicants, versions, files, moves, decisions, notices, audit) + register.TABLES

#: A register file that workspaces before schema 2 kept beside the database (now its rows are in the database).
LEGACY_REGISTER = "register.db"


def _register_tables(conn, root: Path | None) -> None:
    """Schema 2: the certificate register moves into the workspace database (from its old file, if any)."""
    register.metadata.create_all(conn)
    if root is not None and (root / LEGACY_REGISTER).is_file():
        register.copy_file_into(root / LEGACY_REGISTER, conn)


#: How the web page of schema 2 wrote a reviewer's score: at the end of the opinion's text.
_SCORE_IN_TEXT = re.compile(r"（评分 (\d+(?:\.\d+)?)）$")


def _decision_columns(conn, root: Path | None) -> None:
    """Schema 3: an opinion's score gets a column of its own, taken out of the text where schema 2 wrote it;
    a decision carried onto a newer version names the version it was made on."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("decisions")}
    for name, kind in (("score", "FLOAT"), ("carried_from", "INTEGER")):
        if name not in have:
            conn.exec_driver_sql(f"ALTER TABLE decisions ADD COLUMN {name} {kind}")
    d = decisions
    for id_, note in conn.execute(sa.select(d.c.id, d.c.note).where(d.c.kind == "opinion", d.c.score.is_(None))).all():
        found = _SCORE_IN_TEXT.search(note or "")
        if found:
            conn.execute(sa.update(d).where(d.c.id == id_).values(note=note[:found.start()],
                                                                  score=float(found.group(1))))


def _check_codes(conn, root: Path | None) -> None:
    """Schema 4: the register keeps each certificate's check code (current, and per issue or renewal)."""
    for table in register.TABLES:
        if "check_code" not in {c["name"] for c in sa.inspect(conn).get_columns(table.name)}:
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN check_code TEXT")


def _notice_deadlines(conn, root: Path | None) -> None:
    """Schema 5: each 补正通知 keeps its reply-by day (a corrected version is late only after it)."""
    if "deadline" not in {c["name"] for c in sa.inspect(conn).get_columns(notices.name)}:
        conn.exec_driver_sql(f"ALTER TABLE {notices.name} ADD COLUMN deadline VARCHAR(10)")


def _reissue_events(conn, root: Path | None) -> None:
    """Schema 6: the register's history may hold 'reissued' (a renewed title's certificate printed again)."""
    if conn.dialect.name == "sqlite":
        for statement in filter(str.strip, register.EVENTS_REBUILD.split(";")):
            conn.exec_driver_sql(statement)
        return
    for check in sa.inspect(conn).get_check_constraints(register.events.name):
        conn.exec_driver_sql(f'ALTER TABLE {register.events.name} DROP CONSTRAINT "{check["name"]}"')
    conn.exec_driver_sql(f"ALTER TABLE {register.events.name} ADD CONSTRAINT certificate_events_kind "
                         f"CHECK (kind IN {register.EVENT_KINDS_SQL})")


#: MIGRATIONS[n] brings a version-n database to version n+1 (version 0: empty); each step gets the
#: connection and the workspace folder.
MIGRATIONS = [lambda conn, root: metadata.create_all(conn), _register_tables, _decision_columns, _check_codes,
              _notice_deadlines, _reissue_events]


def schema_version(conn) -> int:
    """Given a connection, return the database's schema version (0 when it has no tables)."""
    if not sa.inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def migrate(engine: sa.Engine, backup=None, root: Path | None = None) -> int:
    """Given an engine (and the workspace folder), bring its schema to SCHEMA_VERSION; return the version it had.

    `backup()` is called first when an existing (non-empty) database is to be changed.
    """
    with engine.connect() as conn:
        found = schema_version(conn)
    if found > SCHEMA_VERSION:
        raise UserError("工作区数据库由更新版本的 manyi 创建，请升级 manyi 后再使用")
    if found == SCHEMA_VERSION:
        return found
    if found and backup:
        backup()
    with engine.begin() as conn:
        for step in MIGRATIONS[found:]:
            step(conn, root)
        set_meta(conn, "schema_version", str(SCHEMA_VERSION))
    return found


def set_meta(conn, key: str, value: str) -> None:
    """Given a connection, a key and a value, store the value in `meta` (replacing the old one)."""
    conn.execute(sa.delete(meta).where(meta.c.key == key))
    conn.execute(sa.insert(meta).values(key=key, value=value))


def get_meta(conn, key: str, default: str | None = None) -> str | None:
    """Given a connection and a key, return its value in `meta`, or `default`."""
    row = conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).first()
    return row[0] if row else default


# --- a portable dump -------------------------------------------------------------------------------


def dump(conn, out, tables=TABLES) -> dict[str, int]:
    """Given a connection, a text stream (and the tables, by default the campaign's), write every table as JSON
    lines ({"table", "row"}); return rows per table."""
    counts = {}
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names())  # a backup taken before a migration lacks the newer tables
    for table in (t for t in tables if t.name in present):
        n = 0
        has = {c["name"] for c in inspector.get_columns(table.name)}  # and the newer columns
        order = [c for c in table.primary_key.columns] or list(table.columns)
        for row in conn.execute(sa.select(*[c for c in table.columns if c.name in has]).order_by(*order)):
            out.write(json.dumps({"table": table.name, "row": dict(row._mapping)}, ensure_ascii=False) + "\n")
            n += 1
        counts[table.name] = n
    return counts


def load(conn, lines, tables=TABLES) -> dict[str, int]:
    """Given a connection to an empty, migrated database and dump lines (and the tables they may hold, made
    already), insert the rows; return rows per table.

    PostgreSQL's id sequences are moved past the loaded ids, so new rows get new ids.
    """
    by_name = {t.name: t for t in tables}
    counts: dict[str, int] = {}
    batch: dict[str, list] = {}
    for line in lines:
        if not line.strip():
            continue
        item = json.loads(line)
        batch.setdefault(item["table"], []).append(item["row"])
    conn.execute(sa.delete(meta))
    for table in tables:
        rows = batch.get(table.name) or []
        if rows:
            conn.execute(sa.insert(by_name[table.name]), rows)
        counts[table.name] = len(rows)
    if conn.dialect.name == "postgresql":
        for table in tables:
            if "id" in table.c and table.c.id.autoincrement is True:
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)")
    return counts
