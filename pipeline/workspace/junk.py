"""Taking junk out of a campaign without losing anything else: staff withdraw a received entry (a version), which
is recorded and can be undone; an administrator purges the stored bytes of a file that is no submission's (only
in withdrawn entries, or in no entry at all), which is recorded in the audit log and touches nothing else.

A withdrawn entry stays in the database (its record, its files' names and digests); its applicant falls back to
its latest entry not withdrawn, and an applicant left with none moves to 撤回 (and back where it was when the
entry is restored). Two tables of their own with their own schema version (`junk_schema` in `meta`).
"""

from __future__ import annotations

import os
import stat

import sqlalchemy as sa

from pipeline.common.errors import UserError
from pipeline.definitions.stages import WITHDRAWN
from pipeline.workspace import db, locking

metadata = sa.MetaData()

withdrawn = sa.Table(
    "withdrawn_entries", metadata,
    sa.Column("version_id", sa.Integer, primary_key=True),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("moved_from", sa.String(80)),  # the stage its applicant left for 撤回, when this was its last entry
)

purged = sa.Table(
    "purged_files", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

JUNK_KEY = "junk_schema"
JUNK_MIGRATIONS = [lambda conn: metadata.create_all(conn, tables=[withdrawn, purged])]


def migrate(ws) -> None:
    """Given an open Workspace, make the two tables when missing (new tables only: nothing to back up); on a
    shared database one process at a time (page servers and workers may start together)."""
    held = None if ws.url.startswith("sqlite") else locking.DatabaseLock(ws.url, "manyi:schema")
    if held:
        held.acquire()
    try:
        _migrate(ws)
    finally:
        if held:
            held.release()


def _migrate(ws) -> None:
    with ws.engine.begin() as conn:
        found = int(db.get_meta(conn, JUNK_KEY, "0"))
        if not sa.inspect(conn).has_table(withdrawn.name):
            found = 0
        for step in JUNK_MIGRATIONS[found:]:
            step(conn)
        if found < len(JUNK_MIGRATIONS):
            db.set_meta(conn, JUNK_KEY, str(len(JUNK_MIGRATIONS)))


def _latest_kept(conn, applicant_id: int) -> int | None:
    """Within a transaction, return the id of the applicant's latest version not withdrawn (None: none is left)."""
    v = db.versions
    return conn.execute(sa.select(sa.func.max(v.c.id)).where(
        v.c.applicant_id == applicant_id, v.c.id.not_in(sa.select(withdrawn.c.version_id)))).scalar()


def withdraw(ws, version_id: int, by: str, note: str) -> None:
    """Given a received entry (version id), who and why, withdraw it: its applicant falls back to its latest entry
    not withdrawn, or moves to 撤回 when none is left; recorded, undone by `restore`."""
    note = (note or "").strip()
    if not by or not note:
        raise UserError("撤回收件须写明操作人和原因")
    with ws.engine.begin() as conn:
        version = conn.execute(sa.select(db.versions.c.applicant_id, db.versions.c.source)
                               .where(db.versions.c.id == version_id)).first()
        if version is None:
            raise UserError(f"没有编号为 {version_id} 的收件")
        if conn.execute(sa.select(withdrawn.c.version_id).where(withdrawn.c.version_id == version_id)).first():
            raise UserError(f"收件“{version.source}”已经撤回")
        aid = version.applicant_id
        stage = conn.execute(sa.select(db.applicants.c.stage).where(db.applicants.c.id == aid)).scalar_one()
        conn.execute(sa.insert(withdrawn).values(version_id=version_id, by=by, at=db.now(), note=note))
        latest = _latest_kept(conn, aid)
        if latest is None:
            if stage != WITHDRAWN:
                ws._move(conn, aid, stage, WITHDRAWN, by, f"收件已撤回：{note}")
                conn.execute(sa.update(withdrawn).where(withdrawn.c.version_id == version_id)
                             .values(moved_from=stage))
        else:
            conn.execute(sa.update(db.applicants).where(db.applicants.c.id == aid).values(latest_version_id=latest))
            ws.refresh(conn, aid, by)
        ws._audit(conn, by, "撤回收件", aid, {"version": version_id, "source": version.source, "note": note})


def restore(ws, version_id: int, by: str) -> None:
    """Given a withdrawn entry, take it back: its applicant's latest entry is again the newest not withdrawn, and
    an applicant this entry had moved to 撤回 goes back to the stage it came from; recorded."""
    with ws.engine.begin() as conn:
        row = conn.execute(sa.select(withdrawn).where(withdrawn.c.version_id == version_id)).first()
        if row is None:
            raise UserError(f"编号为 {version_id} 的收件没有撤回")
        if conn.execute(sa.select(db.files.c.sha256).where(db.files.c.version_id == version_id,
                                                          db.files.c.sha256.in_(sa.select(purged.c.sha256)))).first():
            raise UserError("这次收件的文件已被清除，不能恢复；请重新收取这份材料")
        aid = conn.execute(sa.select(db.versions.c.applicant_id).where(db.versions.c.id == version_id)).scalar_one()
        conn.execute(sa.delete(withdrawn).where(withdrawn.c.version_id == version_id))
        conn.execute(sa.update(db.applicants).where(db.applicants.c.id == aid)
                     .values(latest_version_id=_latest_kept(conn, aid)))
        stage = conn.execute(sa.select(db.applicants.c.stage).where(db.applicants.c.id == aid)).scalar_one()
        if row.moved_from and stage == WITHDRAWN:
            ws._move(conn, aid, WITHDRAWN, row.moved_from, by, "恢复撤回的收件")
        ws.refresh(conn, aid, by)
        ws._audit(conn, by, "恢复收件", aid, {"version": version_id})


def entries(ws, limit: int = 200) -> list[dict]:
    """Return the latest received entries, newest first: id, applicant, source, when, size, withdrawn (who, why)."""
    v, f, a = db.versions, db.files, db.applicants
    size = sa.select(sa.func.coalesce(sa.func.sum(f.c.size), 0)).where(f.c.version_id == v.c.id).scalar_subquery()
    query = (sa.select(v.c.id, v.c.applicant_id, v.c.source, v.c.received_at, v.c.seq, a.c.company_name,
                       size.label("size"), withdrawn.c.by.label("withdrawn_by"), withdrawn.c.note)
             .join(a, a.c.id == v.c.applicant_id).outerjoin(withdrawn, withdrawn.c.version_id == v.c.id)
             .order_by(v.c.id.desc()).limit(limit))
    with ws.reader.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def purgeable(ws) -> list[dict]:
    """Return the stored files that are no submission's, largest first: those only in withdrawn entries (with
    their names) and those in no entry at all (left by a receive that stopped before recording them)."""
    f = db.files
    with ws.reader.connect() as conn:
        live = {r[0] for r in conn.execute(sa.select(f.c.sha256).where(
            f.c.version_id.not_in(sa.select(withdrawn.c.version_id))))}
        named: dict[str, set] = {}
        v = db.versions
        for sha, name, source in conn.execute(sa.select(f.c.sha256, f.c.name, v.c.source)
                                              .join(v, v.c.id == f.c.version_id)):
            named.setdefault(sha, set()).add(name or source)  # a file sent alone is named by its entry
    found = []
    for path in ws.store.root.glob("*/*.bin"):
        sha = path.stem
        if sha in live:
            continue
        found.append({"sha256": sha, "size": path.stat().st_size, "names": sorted(named.get(sha, ())),
                      "why": "只在已撤回的收件中" if sha in named else "不属于任何收件"})
    return sorted(found, key=lambda x: (-x["size"], x["sha256"]))


def purge(ws, sha: str, by: str, reason: str) -> dict:
    """Given the SHA-256 of a stored file that is no submission's, who and why, remove its bytes from the store
    and record it (name, size, digest) in the audit log; return what was purged. Anything else is refused."""
    reason = (reason or "").strip()
    if not by or not reason:
        raise UserError("清除文件须写明操作人和原因")
    found = next((x for x in purgeable(ws) if x["sha256"] == sha), None)
    if found is None:
        raise UserError("只能清除不属于任何有效申报的已存文件（先撤回含有它的收件）；这个文件不能清除")
    path = ws.store.path(sha)
    with ws.engine.begin() as conn:
        conn.execute(sa.delete(purged).where(purged.c.sha256 == sha))  # purged before, received again since
        conn.execute(sa.insert(purged).values(sha256=sha, size=found["size"], by=by, at=db.now(), reason=reason))
        ws._audit(conn, by, "清除文件", None, {"sha256": sha, "size": found["size"], "names": found["names"],
                                              "reason": reason})
        os.chmod(path, stat.S_IWRITE | stat.S_IREAD)  # stored read-only (Windows will not remove it otherwise)
        path.unlink()
    return found
