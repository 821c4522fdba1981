"""A load run of the page: staff sessions browsing and deciding while one receive runs through the page.

    python -m benchmarks.load --n 200 --sessions 20 [--postgres URL] [--out benchmarks/results-web.md]

A workspace holds n applicants already (received with `manyi receive`); `manyi serve --sign-in` (one page
server with its worker) or, with --postgres, two page servers (--workers 0) and two `manyi worker` processes on
that database serve it. `sessions` staff accounts sign in and, until the receive ends (bounded in time), each
opens 首页, the list (plain, sorted, searched, another page), an applicant's page and its record, and every fifth
step confirms an open issue of that applicant. Meanwhile n new submissions are uploaded to 收件 and the job is
polled until done. Reported: p50/p95/max page latency, errors (answers other than 2xx/3xx, refused connections),
and the receive's throughput against `manyi receive` of the same new inbox alone into a copy of the workspace.
Latencies are measured in this process (20 client threads on the same 2 cores as the server): they include the
client's own waiting.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from benchmarks import inbox
from benchmarks.web import Page, free_port

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PASSWORD = "load-run password"
#: The load stops at this many seconds even when the receive has not ended (bounded in time).
LIMIT = 900


def manyi(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "pipeline", *map(str, args)], cwd=ROOT, check=True, capture_output=True,
                          text=True, **kwargs)


def make_inbox(folder: Path, n: int, first: int, bases: list[Path]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [inbox.stamp(bases[i % len(bases)], folder / f"{first + i:05d}-申报材料.docx", first + i) for i in range(n)]


def wait_port(port: int, proc: subprocess.Popen) -> None:
    import socket

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"manyi serve on {port} did not start")


class Session:
    """One signed-in staff member."""

    def __init__(self, url: str, name: str):
        self.page = Page(url)
        token = self.page.token("/login")
        body = urllib.parse.urlencode({"name": name, "password": PASSWORD, "csrf": token}).encode()
        self.page.opener.open(urllib.request.Request(url + "/login", data=body, method="POST"), timeout=60).read()
        self.csrf = self.page.token("/")

    def timed(self, path: str, form: dict | None = None) -> tuple[float, bool]:
        start = time.perf_counter()
        try:
            if form is None:
                self.page.get(path)
            else:
                body = urllib.parse.urlencode({**form, "csrf": self.csrf}).encode()
                self.page.opener.open(urllib.request.Request(self.page.url + path, data=body, method="POST"),
                                      timeout=600).read()
            ok = True
        except (urllib.error.URLError, OSError):
            ok = False
        return (time.perf_counter() - start) * 1000, ok


def browse(session: Session, ids: list[int], stop: threading.Event, times: list, errors: list, seed: int) -> None:
    """Until `stop`, open pages as staff do and now and then confirm an open issue; record each answer's time."""
    rng = random.Random(seed)
    step = 0
    while not stop.is_set():
        number = rng.choice(ids)
        paths = ["/", "/applicants", "/applicants?sort=errors&desc=1", "/applicants?q=" + urllib.parse.quote("公司"),
                 f"/applicants?page={rng.randint(1, 4)}", f"/applicants/{number}"]
        for path in paths:
            ms, ok = session.timed(path)
            (times if ok else errors).append(ms)
        step += 1
        if step % 5 == 0:
            try:
                record = json.loads(session.page.get(f"/applicants/{number}/record.json"))
            except (urllib.error.URLError, OSError):
                errors.append(0)
                continue
            issue = next(iter(record.get("issues") or []), None)
            if issue:
                ms, ok = session.timed(f"/applicants/{number}/decide", {
                    "kind": "confirm", "code": issue["code"], "form": issue.get("form") or "",
                    "field": issue.get("field") or "", "note": "负载测试：已人工核对"})
                (times if ok else errors).append(ms)


def run(work: Path, n: int, sessions: int, postgres: str | None) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bases = inbox.whole_bases(work / "bases")
    first, second = work / "first", work / "second"
    make_inbox(first, n, 0, bases)
    make_inbox(second, n, 10000, bases)
    ws, alone = work / "ws", work / "ws-alone"
    db_args = ["--db", postgres] if postgres else []
    manyi("workspace", "init", ws, *db_args)
    manyi("receive", ws, first, "--jobs", "2")
    alone_args = ["--db", postgres.rsplit("/", 1)[0] + "/manyi_load_alone"] if postgres else []
    if postgres:
        import sqlalchemy as sa

        engine = sa.create_engine(postgres.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("DROP DATABASE IF EXISTS manyi_load_alone")
            conn.exec_driver_sql("CREATE DATABASE manyi_load_alone")
        engine.dispose()
    manyi("workspace", "init", alone, *alone_args)
    manyi("receive", alone, first, "--jobs", "2")
    start = time.perf_counter()
    manyi("receive", alone, second, "--jobs", "2")
    alone_seconds = time.perf_counter() - start
    names = [f"员工{i:02d}" for i in range(sessions)]
    for name in names:
        manyi("user", "add", name, "--role", "staff", "--workspace", ws, "--password", PASSWORD)

    ports = [free_port()] if not postgres else [free_port(), free_port()]
    procs = []
    try:
        for port in ports:
            extra = ["--workers", "0"] if postgres else []
            procs.append(subprocess.Popen([PY, "-m", "pipeline", "serve", ws, "--port", str(port), "--sign-in",
                                           *extra], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_port(port, procs[-1])
        if postgres:
            for _ in range(2):
                procs.append(subprocess.Popen([PY, "-m", "pipeline", "worker", ws], cwd=ROOT,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        people = [Session(urls[i % len(urls)], name) for i, name in enumerate(names)]
        ids = list(range(1, n + 1))
        stop, times, errors = threading.Event(), [], []
        threads = [threading.Thread(target=browse, args=(s, ids, stop, times, errors, i), daemon=True)
                   for i, s in enumerate(people)]
        for t in threads:
            t.start()
        uploader = Session(urls[0], names[0])
        start = time.perf_counter()
        job = uploader.page.upload("/receive", {"csrf": uploader.csrf, "received": ""},
                                   [(f"second/{p.name}", p) for p in sorted(second.iterdir())])
        state = {}
        while time.perf_counter() - start < LIMIT:
            state = json.loads(uploader.page.get(urllib.parse.urlparse(job).path + ".json"))
            if state["state"] not in ("waiting", "running"):
                break
            time.sleep(0.5)
        page_seconds = time.perf_counter() - start
        stop.set()
        for t in threads:
            t.join(timeout=120)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
    ordered = sorted(times)
    return {"n": n, "sessions": sessions, "servers": len(ports), "workers": 2 if postgres else 1,
            "database": "PostgreSQL" if postgres else "SQLite", "state": state.get("state"),
            "message": state.get("message", ""), "page_seconds": page_seconds, "alone_seconds": alone_seconds,
            "requests": len(times) + len(errors), "errors": len(errors),
            "p50": statistics.median(ordered) if ordered else float("nan"),
            "p95": ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan"),
            "max": ordered[-1] if ordered else float("nan")}


def line(r: dict) -> str:
    page_rate, alone_rate = r["n"] / r["page_seconds"], r["n"] / r["alone_seconds"]
    return (f"| {r['database']}: {r['servers']} page server(s), {r['workers']} worker(s); {r['sessions']} staff "
            f"sessions; receive of {r['n']} through 收件 | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['max']:.0f} ms | "
            f"{r['requests']} | {r['errors']} | {page_rate:.1f}/s ({r['page_seconds']:.0f} s, job {r['state']}) | "
            f"{alone_rate:.1f}/s ({r['alone_seconds']:.0f} s) | {100 * page_rate / alone_rate:.0f} % |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--postgres", default=None, help="an empty PostgreSQL database's URL: the shared variant")
    parser.add_argument("--work", type=Path, default=ROOT / "output" / "bench-load")
    args = parser.parse_args()
    result = run(args.work, args.n, args.sessions, args.postgres)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print(line(result))


if __name__ == "__main__":
    main()
