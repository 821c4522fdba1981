"""Long work off the request, kept in the workspace database and carried to workers by Huey.

A job is a named kind of work (a function registered with `@task("summary")`) and its JSON parameters.
Submitting one stores it (`pipeline.workspace.jobs`: who, what, state, progress, message, files) and puts
its id on Huey's queue: SQLite beside the workspace on one computer (`web/queue.db`), the workspace's own
PostgreSQL database on a shared server (Huey's SQL storage over peewee, tables `huey_*`). A worker
(threads started by `manyi serve`, or `manyi worker` processes on any computer that shares the store
folder) takes the id from the queue and claims the row with one conditional UPDATE, so a job delivered
twice runs once. Its progress, message and files go into the row as it runs: a job page, its progress and
its downloads survive a restart of the page server.

Each worker holds a mark for its life (an advisory lock of the shared database, or a file lock on one
computer); a running job whose worker's mark is free was interrupted by a crash: it is shown as 已中断 and
can be started again. `manyi worker` resumes such a job once by itself (another worker died; what the
library stored stays stored, so a receive picks up where the other left off); `manyi serve` on one
computer leaves the choice to staff, since what stopped the only worker may have been the job itself.

`Runner` is the in-memory queue of before, kept for 申报自检 (nothing of it may be kept) and for work
given as a Python function (`Jobs.submit_work`), which cannot be stored; that work runs in the page
server's own process, and its row is still stored, so its page and files survive too.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import socket
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.workspace import jobs as store
from pipeline.workspace import locking

#: Finished jobs kept in memory by the in-memory Runner, at most.
KEEP = 200
#: The Chinese words of a job's states.
STATES = {"waiting": "排队中", "running": "处理中", "done": "已完成", "failed": "未能完成", "interrupted": "已中断"}
#: How often a worker looks for jobs whose worker is gone (seconds).
SWEEP_SECONDS = 3.0
#: A job resumed by a worker is tried at most this often in all before it stays interrupted.
ATTEMPTS = 2
#: Progress is written at most this often (seconds), and at the end.
SAVE_EVERY = 0.3
INTERRUPTED = ("处理中断：处理它的进程已退出（服务器重启、崩溃或被结束）。已保存的材料和记录不受影响；"
               "可以点击“重新开始”再做一次，已收到的材料不会重复保存。")

#: kind → function(job, folder, ws, **params) returning the job's message.
TASKS: dict = {}


def task(kind: str):
    """Register the decorated function as the job kind `kind`: it is called as fn(job, folder, ws, **params)
    and returns the message the job page shows."""
    def register(fn):
        TASKS[kind] = fn
        return fn
    return register


@dataclass
class Job:
    """One piece of long work: what it is, who asked, how far it got, and what it produced."""

    id: str
    title: str
    user: str
    state: str = "waiting"  # waiting → running → done | failed | interrupted
    done: int = 0
    total: int = 0
    message: str = ""
    result: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    created: float | str = field(default_factory=time.time)
    kind: str = ""
    target: str = ""
    attempts: int = 0

    def progress(self, done: int, total: int) -> None:
        """Given how many of how many are done, record it (called by the library's progress hooks)."""
        self.done, self.total = done, total

    @property
    def percent(self) -> int:
        """Return how far the job is, 0–100 (100 once finished)."""
        if self.state in ("done", "failed"):
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.state in store.FINISHED

    @property
    def state_name(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def restartable(self) -> bool:
        """Whether staff may start it again: interrupted or failed, and stored as a kind a worker knows."""
        return self.state in ("interrupted", "failed") and self.kind in TASKS

    def as_json(self) -> dict:
        """Return what the polling page needs to know."""
        return {"id": self.id, "title": self.title, "state": self.state, "state_name": self.state_name,
                "done": self.done, "total": self.total, "percent": self.percent, "message": self.message,
                "phase": self.result.get("phase", ""), "files": [p.name for p in self.files]}


def failure_message(exc: BaseException, title: str = "") -> str:
    """Given the exception a job raised and the job's title, return what staff read: the library's Chinese
    message, or a plain sentence (the exception's name and traceback go to the server's log, never to staff)."""
    if isinstance(exc, UserError):
        return str(exc)
    what = f"“{title.split('：')[0]}”" if title else "这项任务"
    return (f"{what}未能完成：程序处理时出错。已保存的材料和记录不受影响，可以重试；"
            "如反复出现，请把这条信息和出错时间告知技术支持。")


class Runner:
    """A queue of jobs in memory and the one thread that runs them, in order (申报自检: nothing is kept)."""

    def __init__(self, name: str = "manyi-jobs"):
        self.jobs: dict[str, Job] = {}
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, title: str, user: str, work) -> Job:
        """Given a title, the user and `work(job)`, queue the job and return it at once."""
        job = Job(id=secrets.token_urlsafe(12), title=title, user=user)
        with self._lock:
            self.jobs[job.id] = job
            self._forget_old()
        self._queue.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        """Given a job id, return the job, or None when unknown."""
        return self.jobs.get(job_id)

    def wait(self, job: Job, seconds: float = 120) -> Job:
        """Given a job, return it once finished (tests and the benchmark use this), or after `seconds`."""
        deadline = time.monotonic() + seconds
        while not job.finished and time.monotonic() < deadline:
            time.sleep(0.02)
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.finished]
        for old in sorted(finished, key=lambda j: j.created)[:max(0, len(finished) - KEEP)]:
            del self.jobs[old.id]

    def _loop(self) -> None:
        while True:
            job, work = self._queue.get()
            job.state = "running"
            try:
                outcome = work(job)
                if isinstance(outcome, str):
                    job.message = outcome
                job.state = "done"
            except BaseException as exc:  # noqa: BLE001 - a job never takes the worker down with it
                job.message = failure_message(exc, job.title)
                job.result["detail"] = traceback.format_exception_only(type(exc), exc)[-1].strip()
                job.state = "failed"


# --- the queue: Huey over the workspace's database ------------------------------------------------------------


def huey_of(ws):
    """Given a workspace, return the Huey that carries its jobs: SQLite in `web/queue.db` for a workspace on
    SQLite, the workspace's own PostgreSQL database (tables huey_*) for a shared one."""
    if ws.url.startswith("sqlite"):
        from huey import SqliteHuey

        folder = ws.root / "web"
        folder.mkdir(exist_ok=True)
        return SqliteHuey(name="manyi", filename=str(folder / "queue.db"), results=False, timeout=60)
    import sqlalchemy as sa
    from huey.contrib.sql_huey import SqlHuey, SqlStorage
    from playhouse.postgres_ext import Psycopg3Database

    class PrefixedStorage(SqlStorage):
        """Huey's SQL storage with its tables named huey_* (the workspace database has tables of its own)."""

        def create_models(self):
            models = super().create_models()
            for model in models:
                model._meta.set_table_name("huey_" + model._meta.table_name)
            task_model = models[2]  # its index was made on the old name: made again on the new one
            task_model._meta.indexes = []
            task_model.add_index(task_model.priority.desc(), task_model.id)
            return models

    url = sa.engine.make_url(ws.url)
    database = Psycopg3Database(url.database, user=url.username, password=url.password, host=url.host,
                                port=url.port, autoconnect=True)
    huey = SqlHuey(name="manyi", database=database, results=False, storage_class=PrefixedStorage,
                   create_tables=False)
    # Page servers and workers start together: one at a time makes the tables (CREATE ... IF NOT EXISTS races).
    held = locking.DatabaseLock(ws.url, "manyi:schema")
    held.acquire()
    try:
        huey.storage.create_tables()
    finally:
        held.release()
    return huey


class Jobs:
    """The jobs of one workspace: stored in its database, carried by Huey, run by this process's workers."""

    def __init__(self, ws):
        self.ws = ws
        held = None if ws.url.startswith("sqlite") else locking.DatabaseLock(ws.url, "manyi:schema")
        if held:
            held.acquire()  # several processes may open a shared database at once
        try:
            store.migrate(ws)
        finally:
            if held:
                held.release()
        self.huey = huey_of(ws)
        self.run_task = self.huey.task(name="run_job")(self.run)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"
        self._mark = None
        self._mark_lock = threading.Lock()
        self._local: Runner | None = None
        self._works: dict[str, object] = {}  # job id → work given as a function, run in this process
        self.consumer = None
        self.resume = False
        self._stop = threading.Event()

    # --- submitting and reading ---------------------------------------------------------------------------

    def submit(self, kind: str, title: str, user: str, target: str = "", params: dict | None = None) -> Job:
        """Given a registered kind, a title, the user, the target and JSON parameters, store the job and queue it."""
        if kind not in TASKS:
            raise ValueError(f"unknown job kind {kind}")
        job_id = store.add(self.ws, kind, params or {}, title, user, target)
        self.run_task(job_id)
        return self.get(job_id)

    def submit_work(self, title: str, user: str, work, target: str = "") -> Job:
        """Given a title, the user and `work(job, folder)` (a function: it cannot be stored), store the job and
        run it in this process; its row, progress and files are kept like any job's."""
        job_id = store.add(self.ws, "", {}, title, user, target)
        with self._mark_lock:
            if self._local is None:
                self._local = Runner("manyi-local-jobs")
        self._local.submit(title, user, lambda _job: self.execute(job_id, work))
        return self.get(job_id)

    def get(self, job_id: str) -> Job | None:
        """Given a job id, return the job as stored now, or None when unknown."""
        row = store.get(self.ws, job_id)
        return self.job_of(row) if row else None

    def job_of(self, row: dict) -> Job:
        """Given a stored row, return the Job the pages show."""
        return Job(id=row["id"], title=row["title"], user=row["user"], state=row["state"], done=row["done"],
                   total=row["total"], message=row["message"], result=row["result"],
                   files=[self.ws.root / p for p in row["files"]], created=row["created"], kind=row["kind"],
                   target=row["target"], attempts=row["attempts"])

    def wait(self, job: Job, seconds: float = 120) -> Job:
        """Given a job, return it as stored once finished (tests and the benchmark), or after `seconds`."""
        deadline = time.monotonic() + seconds
        found = self.get(job.id) or job
        while not found.finished and time.monotonic() < deadline:
            time.sleep(0.05)
            found = self.get(job.id) or found
        return found

    def restart(self, job_id: str) -> bool:
        """Given an interrupted or failed job of a stored kind, queue it again; False when it cannot be."""
        found = self.get(job_id)
        if found is None or not found.restartable or not store.again(self.ws, job_id):
            return False
        self.run_task(job_id)
        return True

    # --- running ------------------------------------------------------------------------------------------

    def run(self, job_id: str) -> None:
        """Run a queued job here when it is still waiting (Huey calls this in a worker)."""
        self.hold_mark()
        if not store.claim(self.ws, job_id, self.worker_id):
            return
        row = store.get(self.ws, job_id)
        fn = TASKS.get(row["kind"])
        if fn is None:
            store.save(self.ws, job_id, self.worker_id, state="failed", message="这个版本的 manyi 不认识这种任务")
            return
        self.execute(job_id, lambda job, folder: fn(job, folder, self.ws, **row["params"]), claimed=True)

    def execute(self, job_id: str, work, claimed: bool = False) -> None:
        """Given a job and `work(job, folder)`, run it in a fresh output folder, writing its progress, message
        and files into its row as it goes."""
        self.hold_mark()
        if not claimed and not store.claim(self.ws, job_id, self.worker_id):
            return
        job = self.get(job_id)
        folder = self.ws.root / "web" / "jobs" / job_id
        shutil.rmtree(folder, ignore_errors=True)  # a restarted job's earlier outputs (manyi wrote them)
        folder.mkdir(parents=True)
        stop = threading.Event()
        # Progress is written by a thread of its own: the library may call its progress hook inside its own
        # write transaction (settling a receive), which a write from the same thread would wait on forever.
        saver = threading.Thread(target=self._save_progress, args=(job, stop), daemon=True)
        saver.start()
        try:
            outcome = work(job, folder)
            stop.set()
            saver.join()
            store.save(self.ws, job_id, self.worker_id, state="done", done=job.done, total=job.total,
                       message=outcome if isinstance(outcome, str) else job.message, result=job.result,
                       files=[self.relative(p) for p in job.files])
        except BaseException as exc:  # noqa: BLE001 - a job never takes the worker down with it
            stop.set()
            saver.join()
            job.result["detail"] = traceback.format_exception_only(type(exc), exc)[-1].strip()
            if not isinstance(exc, UserError):
                traceback.print_exc()  # for whoever reads the server's log; staff read the Chinese message
            store.save(self.ws, job_id, self.worker_id, state="failed", message=failure_message(exc, job.title),
                       result=job.result, files=[self.relative(p) for p in job.files])

    def _save_progress(self, job: Job, stop: threading.Event) -> None:
        """Until `stop` is set, write the job's progress into its row whenever it changed (every SAVE_EVERY s)."""
        written = None
        while not stop.wait(SAVE_EVERY):
            try:
                now = (job.done, job.total, json.dumps(job.result, ensure_ascii=False, default=str))
                if now != written:
                    store.save(self.ws, job.id, self.worker_id, done=now[0], total=now[1], result=json.loads(now[2]))
                    written = now
            except Exception:  # noqa: BLE001 - busy database, a dict changing as it is read: next time
                continue

    def relative(self, path: Path) -> str:
        """Given a file a job wrote, return its path relative to the workspace folder (as stored)."""
        return Path(path).resolve().relative_to(self.ws.root.resolve()).as_posix()

    # --- workers and who is alive -------------------------------------------------------------------------

    def mark_of(self, worker_id: str):
        """Given a worker id, return the lock it holds while alive (not taken)."""
        if self.ws.url.startswith("sqlite"):
            folder = self.ws.root / "web" / "workers"
            folder.mkdir(parents=True, exist_ok=True)
            return locking.FileMark(folder / f"{worker_id.rsplit(':', 1)[-1]}.lock")
        return locking.DatabaseLock(self.ws.url, f"manyi:worker:{worker_id}")

    def hold_mark(self) -> None:
        """Take this process's mark once, before it runs any job (others tell by it that it is alive)."""
        with self._mark_lock:
            if self._mark is None:
                mark = self.mark_of(self.worker_id)
                mark.acquire()
                self._mark = mark

    def sweep(self) -> list[str]:
        """Find running jobs whose worker is gone: mark them interrupted (and, when this worker resumes jobs,
        queue them again once); return their ids."""
        found = []
        for row in store.in_state(self.ws, "running"):
            if row["worker"] == self.worker_id or not row["worker"]:
                continue
            mark = self.mark_of(row["worker"])
            if mark.held_by_someone():
                continue
            if not store.interrupt(self.ws, row["id"], row["worker"], INTERRUPTED):
                continue
            found.append(row["id"])
            if isinstance(mark, locking.FileMark):
                Path(mark.path).unlink(missing_ok=True)  # the mark file of a dead worker (manyi wrote it)
            if self.resume and row["kind"] in TASKS and row["attempts"] < ATTEMPTS:
                self.restart(row["id"])
        return found

    def requeue_waiting(self) -> None:
        """Put every waiting job on the queue again (one submitted just before a crash, or a queue file lost);
        a job delivered twice runs once."""
        for row in store.in_state(self.ws, "waiting"):
            if row["kind"] in TASKS:
                self.run_task(row["id"])

    def start_worker(self, threads: int = 1, resume: bool = False, foreground: bool = False) -> None:
        """Start this process's worker: `threads` Huey worker threads and a sweeper. `resume`: queue again, once,
        a job another worker left interrupted. `foreground`: run until interrupted (`manyi worker`)."""
        self.resume = resume
        self.hold_mark()
        self.sweep()
        self.requeue_waiting()
        self.consumer = self.huey.create_consumer(workers=threads, worker_type="thread", periodic=False,
                                                  initial_delay=0.05, backoff=1.5, max_delay=1.0,
                                                  check_worker_health=False)
        threading.Thread(target=self._sweep_loop, name="manyi-sweeper", daemon=True).start()
        if foreground:
            self.consumer.run()  # Huey's own loop and signal handling (Ctrl+C stops it)
            return
        # Not Consumer.start(): it would take the page server's signal handlers.
        for _, thread in self.consumer.worker_threads:
            thread.start()

    def stop(self) -> None:
        """Stop this process's workers (the job running now is left to the next start's sweep)."""
        self._stop.set()
        if self.consumer is not None:
            self.consumer.stop(graceful=False)

    def _sweep_loop(self) -> None:
        while not self._stop.wait(SWEEP_SECONDS):
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the sweeper
                traceback.print_exc()
