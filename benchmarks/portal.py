"""The applicants' page under load (issue 31): N applicants upload whole packets at once to one portal server.

    python -m benchmarks.portal [--n 100] [--threads 16] [--keep DIR]

A workspace is made with this year's copy of the sample campaign (the deadline moved to the end of the
current year, so uploads are taken), N enterprises are invited from a roster written here, and two
`manyi serve` processes run on loopback: `--portal-only` for the applicants and the staff page. N client
threads (bounded: `--threads` at a time) each upload their whole-packet .docx to /apply/<link>/check (the time
until the check's answer is back is measured) and send it; meanwhile a staff client GETs /applicants.
Reported: p50/p95 of upload → check shown (goal p95 ≤ 5 s), errors, versions stored (nothing lost: N), and
the staff list's p50/p95 during the load (goal p95 ≤ 300 ms). Nothing here is a test: no assertion on time.
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from benchmarks import inbox
from benchmarks.web import Page, free_port, serve

ROOT = Path(__file__).resolve().parent.parent
CATEGORY_ZH = {"enterprise": "企业类", "product": "产品类", "construction": "建筑工程类", "service": "服务类"}


class PortalPage(Page):
    """A browser's session on the portal: multipart and form POSTs that return the page answered."""

    def post_multipart(self, path: str, fields: dict, files: list[tuple[str, Path]]) -> str:
        boundary = secrets.token_hex(16)
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        for name, file in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                         f"Content-Type: application/octet-stream\r\n\r\n".encode("utf-8") + file.read_bytes() + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        request = urllib.request.Request(self.url + path, data=b"".join(parts), method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
        with self.opener.open(request, timeout=600) as answer:
            return answer.read().decode("utf-8")

    def post_form(self, path: str, fields: dict) -> str:
        request = urllib.request.Request(self.url + path, data=urllib.parse.urlencode(fields).encode(), method="POST")
        with self.opener.open(request, timeout=600) as answer:
            return answer.read().decode("utf-8")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def this_year_campaign(ws: Path) -> None:
    """Move the workspace's campaign copy to this year (dates within it, the deadline on 31 December)."""
    path = ws / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    year = date.today().year
    for key, value in (("year", str(year)), ("data_year", str(year - 1)), ("deadline", f"{year}-12-31"),
                       ("announcement_date", f"{year}-01-05"), ("survey_start_min", f"{year - 1}-12-01")):
        text = re.sub(rf"^{key}: .*$", f"{key}: {value}", text, flags=re.M)
    path.write_text(text, encoding="utf-8")


def roster(path: Path, names: list[tuple[str, str]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "类别", "推进单位"])
    for name, category in names:
        sheet.append([name, CATEGORY_ZH[category], "哈尔滨市质量协会"])
    book.save(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args(argv)
    from pipeline.definitions.programs import resolve_campaign
    from pipeline.workspace import Workspace, invitations

    work = Path(args.keep or tempfile.mkdtemp(prefix="manyi-bench-portal-"))
    files = inbox.whole_inbox(work / "whole", args.n, inbox.whole_bases(work / "bases"))
    names = [(inbox.company(inbox.CATEGORIES[i % 4]).replace(inbox.MARK, inbox.code(i)), inbox.CATEGORIES[i % 4])
             for i in range(args.n)]
    roster(work / "名单.xlsx", names)
    ws_dir = work / "ws"
    Workspace.init(ws_dir, resolve_campaign("heilongjiang", None)).close()
    this_year_campaign(ws_dir)
    with Workspace.open(ws_dir) as ws:
        targets, problems = invitations.roster_targets(work / "名单.xlsx")
        tokens = {i.target.company_name: i.token for i in invitations.issue_links(ws, targets, by="基准测试")}
    portal_port, staff_port = free_port(), free_port()
    portal = serve_portal(ws_dir, portal_port)
    staff = serve(ws_dir, staff_port, sys.executable, ROOT)
    checks, sends, errors, lists = [], [], [], []
    done = threading.Event()
    try:
        def applicant(i: int) -> None:
            page = PortalPage(f"http://127.0.0.1:{portal_port}")
            path = f"/apply/{tokens[names[i][0]]}"
            try:
                token = page.token(path)
                start = time.perf_counter()
                answer = page.post_multipart(f"{path}/check", {"csrf": token}, [(f"{i:04d}.docx", files[i])])
                checks.append(time.perf_counter() - start)
                draft = re.search(r'name="draft" value="([^"]+)"', answer).group(1)
                start = time.perf_counter()
                page.post_form(f"{path}/send", {"csrf": token, "draft": draft})
                sends.append(time.perf_counter() - start)
            except Exception as exc:  # counted and shown: the run goes on
                errors.append(f"{names[i][0]}: {exc!r}")

        def staff_list() -> None:
            page = Page(f"http://127.0.0.1:{staff_port}")
            page.get("/applicants")
            while not done.is_set():
                start = time.perf_counter()
                page.get("/applicants")
                lists.append((time.perf_counter() - start) * 1000)
                time.sleep(0.1)

        watcher = threading.Thread(target=staff_list, daemon=True)
        watcher.start()
        began = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(applicant, range(args.n)))
        wall = time.perf_counter() - began
        done.set()
        watcher.join(timeout=30)
    finally:
        for proc in (portal, staff):
            proc.terminate()
            proc.wait(timeout=30)
    with Workspace.open(ws_dir) as ws:
        stored = sum(r.version_count for r in ws.applicants(limit=None).items)
    print(f"{args.n} applicants, {args.threads} at a time, {wall:.1f} s in all")
    if checks:
        print(f"upload → check shown: p50 {statistics.median(checks):.2f} s, p95 {p95(checks):.2f} s (goal ≤ 5 s)")
    if sends:
        print(f"send (a receive each): p50 {statistics.median(sends):.2f} s, p95 {p95(sends):.2f} s")
    if lists:
        print(f"staff list during the load: p50 {statistics.median(lists):.0f} ms, p95 {p95(lists):.0f} ms "
              f"(goal ≤ 300 ms, {len(lists)} GETs)")
    print(f"errors {len(errors)}; versions stored {stored} of {args.n}")
    for line in errors[:10]:
        print("  ", line)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def serve_portal(ws: Path, port: int):
    import socket
    import subprocess

    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(ws), "--portal-only", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("manyi serve --portal-only did not start")


if __name__ == "__main__":
    main()
