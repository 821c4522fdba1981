"""The web page measured as staff use it: `manyi serve` in its own process, driven over HTTP.

- receive: the same 1000 whole-packet inbox uploaded as one folder through 收件 (multipart POST, then
  the job polled until done) against `manyi receive` of that folder with the same number of workers;
- the list page: GET /applicants (50 rows of 1000) as it is first opened, sorted by errors, and searched.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import socket
import statistics
import subprocess
import threading
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """A browser's session with one served page: cookies kept, the CSRF token read from a form."""

    def __init__(self, url: str):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> bytes:
        with self.opener.open(self.url + path, timeout=600) as answer:
            return answer.read()

    def token(self, path: str = "/receive") -> str:
        return re.search(rb'name="csrf" value="([^"]+)"', self.get(path)).group(1).decode()

    def upload(self, path: str, fields: dict, files: list[tuple[str, Path]]) -> str:
        """POST a multipart form (files named as the browser sends a picked folder); return where it redirected."""
        boundary = secrets.token_hex(16)
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, file in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode("utf-8"))
            parts.append(file.read_bytes() + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        request = urllib.request.Request(self.url + path, data=b"".join(parts), method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with self.opener.open(request, timeout=600) as answer:
            return answer.geturl()


def wait_job(page: Page, job_url: str) -> dict:
    """Poll a job's JSON until it is finished; return it (raise when it failed)."""
    while True:
        state = json.loads(page.get(job_url.replace(page.url, "") + ".json"))
        if state["state"] in ("done", "failed"):
            if state["state"] == "failed":
                raise SystemExit(f"web receive failed: {state['message']}")
            return state
        time.sleep(0.2)


def serve(ws: Path, port: int, py: str, root: Path) -> subprocess.Popen:
    proc = subprocess.Popen([py, "-m", "pipeline", "serve", str(ws), "--port", str(port)], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("manyi serve did not start")


def timed_gets(page: Page, path: str, runs: int) -> list[float]:
    """GET a page `runs` times after one warm-up; return each answer's milliseconds."""
    page.get(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        page.get(path)
        times.append((time.perf_counter() - start) * 1000)
    return times


def web_job(work: Path, conf: dict, helpers) -> list:
    """Receive through the page vs `manyi receive` on the same inbox; then the list page of the result."""
    from benchmarks import inbox

    Row, Run, measure, manyi, targets, tree_rss, py, root = helpers
    n, jobs = conf["n"], conf["jobs"]
    files = inbox.whole_inbox(work / "whole", n, inbox.whole_bases(work / "bases"))
    measure(manyi("workspace", "init", work / "ws-cli"))
    cli = measure(manyi("receive", work / "ws-cli", work / "whole", "--jobs", jobs))
    measure(manyi("workspace", "init", work / "ws-web"))
    port = free_port()
    server = serve(work / "ws-web", port, py, root)
    try:
        page = Page(f"http://127.0.0.1:{port}")
        token = page.token()
        peak, done = [0], threading.Event()

        def sample():
            while not done.wait(0.05):
                peak[0] = max(peak[0], tree_rss(server.pid))

        threading.Thread(target=sample, daemon=True).start()
        start = time.perf_counter()
        job = page.upload("/receive", {"csrf": token, "received": ""},
                          [(f"whole/{p.name}", p) for p in files])
        state = wait_job(page, job)
        seconds = time.perf_counter() - start
        done.set()
        assert f"共收到 {n} 份" in state["message"], state["message"]
        lists = {label: timed_gets(page, path, 20) for label, path in (
            ("first opened", "/applicants"), ("sorted by errors", "/applicants?sort=errors&desc=1&page=7"),
            ("searched", "/applicants?q=" + urllib.request.quote("公司")))}
    finally:
        server.terminate()
        server.wait(timeout=30)
    web_rate, cli_rate = n / seconds, n / cli.seconds
    rows = [Row(f"receive through the page: {n} whole-packet .docx uploaded as one folder to 收件 of `manyi serve`, "
                f"upload and job included", web_rate, "submissions/s", cli_rate,
                f"manyi receive of the same folder, --jobs {jobs}", Run(seconds, peak[0] / 1024, float("nan")),
                *targets(("≥ 80% of receive", web_rate >= 0.8 * cli_rate)))]
    for label, times in lists.items():
        median = statistics.median(times)
        rows.append(Row(f"申报列表 of {n} applicants, 50 a page, {label}: median of 20 GETs over HTTP "
                        f"(max {max(times):.0f} ms)", median, "ms", None, "", Run(sum(times) / 1000, float("nan"),
                                                                                     float("nan")),
                        *targets(("median ≤ 300 ms", median <= 300))))
    return rows
