"""Long work off the request: one worker thread per workspace runs jobs one after another.

A request submits a job and answers at once with the job's page; the page polls `/jobs/<id>`
for its progress. A job that fails keeps its message in Chinese; what the library had stored
before the failure stays stored (the library writes once and commits per entry).
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.errors import UserError

#: Finished jobs kept in memory, at most (the oldest are forgotten first; their files stay on disk).
KEEP = 200


@dataclass
class Job:
    """One piece of long work: what it is, who asked, how far it got, and what it produced."""

    id: str
    title: str
    user: str
    state: str = "waiting"  # waiting → running → done | failed
    done: int = 0
    total: int = 0
    message: str = ""
    result: dict = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    created: float = field(default_factory=time.time)

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
        return self.state in ("done", "failed")

    def as_json(self) -> dict:
        """Return what the polling page needs to know."""
        return {"id": self.id, "title": self.title, "state": self.state, "done": self.done, "total": self.total,
                "percent": self.percent, "message": self.message, "phase": self.result.get("phase", ""),
                "files": [p.name for p in self.files]}


def failure_message(exc: BaseException) -> str:
    """Given the exception a job raised, return what staff read: the library's Chinese message, or a plain one."""
    if isinstance(exc, UserError):
        return str(exc)
    return (f"内部错误（{type(exc).__name__}）。已保存的材料和记录不受影响，可以重新提交；"
            "如反复出现，请把这条信息告知技术支持。")


class Runner:
    """A queue of jobs and the one thread that runs them, in order (one parse queue per workspace)."""

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
                job.message = failure_message(exc)
                job.result["detail"] = traceback.format_exception_only(type(exc), exc)[-1].strip()
                job.state = "failed"
