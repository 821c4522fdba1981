"""Database engines for manyi's own databases (the workspace, the certificate register): any SQLAlchemy URL,
an SQLite file by default, set up so that concurrent writers queue instead of failing."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from pipeline.common.errors import UserError


def now() -> str:
    """Return the current UTC time as ISO text (seconds)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def sqlite_url(path: Path) -> str:
    """Given a file path, return its SQLite URL."""
    return f"sqlite:///{Path(path).resolve()}"


def _sqlite_pragmas(dbapi_conn, wal: bool) -> None:
    cur = dbapi_conn.cursor()
    if wal:
        cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor it them
    cur.execute("PRAGMA busy_timeout=60000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str, write: bool = True, wal: bool = True) -> sa.Engine:
    """Given a SQLAlchemy URL, return an engine; raise UserError when the URL is unusable.

    SQLite: WAL (unless `wal` is false: a lone file that may sit on a network share), a long busy
    timeout, and transactions begun by SQLAlchemy itself: a writing engine's with BEGIN IMMEDIATE
    (two writers queue for the lock instead of one failing when it upgrades a read lock), a reading
    one's with a plain BEGIN (a snapshot, never waiting).
    """
    try:
        if not url.startswith("sqlite"):
            return sa.create_engine(url, pool_pre_ping=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise UserError(f"数据库地址无法使用：{url}（{exc}）") from None
    begin = "BEGIN IMMEDIATE" if write else "BEGIN"

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        _sqlite_pragmas(dbapi_conn, wal)
        dbapi_conn.isolation_level = None  # pysqlite's own implicit BEGIN off: the "begin" event below issues it

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(begin)

    return engine
