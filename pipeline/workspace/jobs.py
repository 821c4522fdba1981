"""The page's jobs as rows of the workspace database, so a job page, its progress and its files outlive the
process that ran it.

A job is a named kind of work and its JSON parameters (what the worker needs to do it again), who asked,
where it is (waiting → running → done | failed | interrupted), how far it got and what it wrote. The queue
library that carries jobs to workers (`pipeline.web.jobs`) only says "job N is waiting": the row is what
counts, and a worker claims it with one conditional UPDATE, so a job delivered twice runs once.

The table has its own schema version (`jobs_schema` in `meta`), like the accounts; like them it stays with
the server it was made on (not in `workspace export`).
"""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa

from pipeline.workspace import db

metadata = sa.MetaData()

jobs = sa.Table(
    "web_jobs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),  # a registered task ('' : work given in-process, not stored)
    sa.Column("params", sa.Text, nullable=False, default="{}"),  # JSON: what the task needs to run again
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False, default=""),
    sa.Column("state", sa.String(20), nullable=False),  # waiting / running / done / failed / interrupted
    sa.Column("done", sa.Integer, nullable=False, default=0),
    sa.Column("total", sa.Integer, nullable=False, default=0),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("result", sa.Text, nullable=False, default="{}"),  # JSON: what the job page shows
    sa.Column("files", sa.Text, nullable=False, default="[]"),  # JSON: paths relative to the workspace folder
    sa.Column("worker", sa.Text),  # who runs (ran) it: host, process, mark
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("started", sa.String(32)),
    sa.Column("finished", sa.String(32)),
    sa.Index("ix_web_jobs_state", "state"),
    sa.Index("ix_web_jobs_created", "created"),
)

JOBS_KEY = "jobs_schema"
#: JOB_MIGRATIONS[n] brings the jobs table from version n to n+1.
JOB_MIGRATIONS = [lambda conn: metadata.create_all(conn, tables=[jobs])]
#: States after which nothing more happens to a job unless staff restart it.
FINISHED = ("done", "failed", "interrupted")


def migrate(ws) -> None:
    """Given an open Workspace, make the jobs table when it is missing (a new table only: nothing to back up)."""
    with ws.engine.begin() as conn:
        found = int(db.get_meta(conn, JOBS_KEY, "0"))
        if not sa.inspect(conn).has_table(jobs.name):
            found = 0
        for step in JOB_MIGRATIONS[found:]:
            step(conn)
        if found < len(JOB_MIGRATIONS):
            db.set_meta(conn, JOBS_KEY, str(len(JOB_MIGRATIONS)))


def new_id() -> str:
    """Return a new job id: unguessable (a job page is reached by it) and safe in a URL and a folder name."""
    return secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")


def add(ws, kind: str, params: dict, title: str, user: str, target: str = "") -> str:
    """Given a job's kind, parameters, title, user and target, store it as waiting; return its id."""
    job_id = new_id()
    with ws.engine.begin() as conn:
        conn.execute(sa.insert(jobs).values(
            id=job_id, kind=kind, params=json.dumps(params, ensure_ascii=False), title=title, user=user,
            target=target, state="waiting", done=0, total=0, message="", result="{}", files="[]", attempts=0,
            created=db.now()))
    return job_id


def get(ws, job_id: str) -> dict | None:
    """Given a job id, return its row with params, result and files decoded, or None."""
    with ws.reader.connect() as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    return decoded(row) if row else None


def decoded(row) -> dict:
    """Given a row of web_jobs, return it as a dict with its JSON columns read."""
    found = dict(row._mapping)
    for key in ("params", "result", "files"):
        found[key] = json.loads(found[key] or ("[]" if key == "files" else "{}"))
    return found


def recent(ws, limit: int = 50) -> list[dict]:
    """Return the latest jobs, newest first."""
    with ws.reader.connect() as conn:
        rows = conn.execute(sa.select(jobs).order_by(jobs.c.created.desc(), jobs.c.id).limit(limit)).all()
    return [decoded(r) for r in rows]


def in_state(ws, *states: str) -> list[dict]:
    """Given states, return the jobs in them, oldest first."""
    with ws.reader.connect() as conn:
        rows = conn.execute(sa.select(jobs).where(jobs.c.state.in_(states)).order_by(jobs.c.created)).all()
    return [decoded(r) for r in rows]


def claim(ws, job_id: str, worker: str) -> bool:
    """Given a waiting job and a worker, mark it running by that worker; return False when someone else has
    it or it is no longer waiting (one conditional UPDATE: a job delivered twice runs once)."""
    with ws.engine.begin() as conn:
        taken = conn.execute(sa.update(jobs).where(jobs.c.id == job_id, jobs.c.state == "waiting").values(
            state="running", worker=worker, started=db.now(), finished=None, attempts=jobs.c.attempts + 1))
    return taken.rowcount == 1


def save(ws, job_id: str, worker: str, **values) -> bool:
    """Given a running job, its worker and new values (done, total, message, result, files, state), store them;
    return False when the job is no longer this worker's (it was taken back as interrupted)."""
    for key in ("result", "files"):
        if key in values:
            values[key] = json.dumps(values[key], ensure_ascii=False)
    if values.get("state") in FINISHED:
        values["finished"] = db.now()
    with ws.engine.begin() as conn:
        changed = conn.execute(sa.update(jobs).where(jobs.c.id == job_id, jobs.c.worker == worker,
                                                     jobs.c.state == "running").values(**values))
    return changed.rowcount == 1


def interrupt(ws, job_id: str, worker: str, message: str) -> bool:
    """Given a running job whose worker is gone, mark it interrupted with a message; False when it had moved on."""
    return save(ws, job_id, worker, state="interrupted", message=message)


def again(ws, job_id: str) -> bool:
    """Given an interrupted or failed job, put it back as waiting (its attempts counted on); False otherwise."""
    with ws.engine.begin() as conn:
        changed = conn.execute(sa.update(jobs).where(jobs.c.id == job_id, jobs.c.state.in_(("interrupted", "failed")))
                               .values(state="waiting", done=0, total=0, message="", result="{}", files="[]", worker=None,
                                       started=None, finished=None))
    return changed.rowcount == 1
