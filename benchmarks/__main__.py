"""`make bench`: each batch job timed as staff run it (a `manyi` subprocess, process start included)
against a baseline measured in the same run, with peak memory; the table is printed and written to
benchmarks/results.md.

    python -m benchmarks [--n 1000] [--jobs 2] [--parse-runs 3] [--only parse,old,packets,certificates,workspace] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
DEFAULTS = {"n": 1000, "jobs": 2, "parse_runs": 3, "docx2python_sample": 40, "doc": 16, "xls": 4, "roster": 200,
            "docxtpl_sample": 40, "winners": 1000, "cert_sample": 5}


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class Run:
    """One timed command: wall seconds, peak RSS of its whole process tree and of its largest process (MB),
    and when a watched folder first held `watch_count` .json files (seconds from the start, or None)."""

    seconds: float
    tree_mb: float
    largest_mb: float
    reached: float | None = None
    reached_mb: float | None = None


def _tree_rss(pid: int) -> int:
    """Given a pid, return the resident kB of it and all its descendants (0 once gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def _count_json(folder: Path) -> int:
    try:
        return sum(name.endswith(".json") for name in os.listdir(folder))
    except OSError:
        return 0


def measure(cmd: list[str], cwd: Path = ROOT, watch: Path | None = None, watch_count: int = 0) -> Run:
    """Given a command, run it to completion; return its Run. A failing command stops the benchmark.

    With `watch`, the time its records/ folder is complete is noted: parse's records phase ends
    there, and what follows (batch rules, summary.xlsx) is the rest of the wall time.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0]
    reached: list[tuple] = []
    done = threading.Event()

    def sample():
        tick = 0
        while not done.wait(0.05):  # often enough for memory that grows over seconds, rarely enough not to slow the run
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            tick += 1
            if watch and not reached and tick % 2 == 0 and _count_json(watch) >= watch_count:
                reached.append((time.perf_counter() - start, peak[0] / 1024))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if proc.returncode:
        sys.stdout.write(output.decode(errors="replace")[-3000:])
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(map(str, cmd))[:300]}")
    return Run(seconds, peak[0] / 1024, usage.ru_maxrss / 1024, *(reached[0] if reached else (None, None)))


def manyi(*args) -> list[str]:
    return [PY, "-m", "pipeline", *map(str, args)]


def baseline(*args) -> list[str]:
    return [PY, "-m", "benchmarks.baselines", *map(str, args)]


@dataclass
class Row:
    """One line of the table: a job, its rate and the baseline's (items/s), and the target."""

    job: str
    rate: float
    unit: str
    base_rate: float | None
    base_how: str
    run: Run
    target: str
    met: bool | None


def targets(*checks: tuple[str, bool]) -> tuple[str, bool]:
    """Given (target, met) pairs, return the target column with a mark after each, and whether all are met."""
    return ", ".join(f"{text} {MARK[met]}" for text, met in checks), all(met for _, met in checks)


MARK = {True: "✔", False: "✘"}


# --- jobs ----------------------------------------------------------------------------------------


def parse_job(work: Path, conf: dict) -> list[Row]:
    from benchmarks import inbox

    bases = inbox.whole_bases(work / "bases")
    files = inbox.whole_inbox(work / "whole", conf["n"], bases)
    runs = []
    for _ in range(conf["parse_runs"]):  # a shared machine's speed drifts: the median run is reported
        shutil.rmtree(work / "parsed", ignore_errors=True)
        runs.append(measure(manyi("parse", work / "whole", "--out", work / "parsed", "--jobs", conf["jobs"]),
                            watch=work / "parsed" / "records", watch_count=conf["n"]))
    run = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    spread = (f"; median of {len(runs)} runs, {conf['n'] / max(r.seconds for r in runs):.0f}–"
              f"{conf['n'] / min(r.seconds for r in runs):.0f}/s" if len(runs) > 1 else "")
    sample = files[: conf["docx2python_sample"]]
    base = measure(baseline("docx2python", conf["jobs"], *sample))
    rate, base_rate = conf["n"] / run.seconds, len(sample) / base.seconds
    rows = [Row(f"parse: {conf['n']} whole-packet .docx (14–18 pages), --jobs {conf['jobs']}{spread}", rate, "submissions/s",
                base_rate, f"docx2python, {len(sample)} of the same files, {conf['jobs']} processes", run,
                *targets(("≥ 100/s", rate >= 100), ("≥ 20× baseline", rate >= 20 * base_rate),
                         ("≤ 300 MB", run.tree_mb <= 300)))]
    if run.reached:
        rows.append(Row(f"  of which: the {conf['n']} records written (start → last record; then batch rules and "
                        f"summary.xlsx take {run.seconds - run.reached:.1f} s)", conf["n"] / run.reached,
                        "submissions/s", base_rate, "docx2python, as above", Run(run.reached, run.reached_mb,
                                                                              float("nan")), "≥ 100/s",
                        conf["n"] / run.reached >= 100))
    n_mixed = max(20, conf["n"] // 5)
    inbox.mixed_inbox(work / "mixed", n_mixed, bases, work / "bases")
    mixed = measure(manyi("parse", work / "mixed", "--out", work / "parsed-mixed", "--jobs", conf["jobs"]))
    rows.append(Row(f"parse: {n_mixed} mixed entries (whole .docx, split folders + .xlsx list, 5% with .doc)",
                    n_mixed / mixed.seconds, "submissions/s", None, "", mixed, "", None))
    return rows


def old_job(work: Path, conf: dict) -> list[Row]:
    from benchmarks import inbox

    files = inbox.old_format_inbox(work / "old", conf["doc"], conf["xls"], work / "old-scratch")
    run = measure(manyi("parse", work / "old", "--out", work / "parsed-old", "--jobs", conf["jobs"]))
    docs = [f for f in files if f.suffix == ".doc"]
    xls = [f for f in files if f.suffix == ".xls"]
    t0 = measure(baseline("soffice-each", "docx", work / "each-doc", *docs))
    t1 = measure(baseline("soffice-each", "xlsx", work / "each-xls", *xls))
    base = Run(t0.seconds + t1.seconds, max(t0.tree_mb, t1.tree_mb), max(t0.largest_mb, t1.largest_mb))
    rate, base_rate = len(files) / run.seconds, len(files) / base.seconds
    return [Row(f"old formats: {len(docs)} .doc + {len(xls)} .xls parsed (one LibreOffice start per target)",
                rate, "files/s", base_rate, "one LibreOffice start per file (conversion only)", run,
                "> baseline", rate > base_rate)]


def roster_xlsx(path: Path, n: int) -> Path:
    """Given a path and n, write a roster of n applicants over the four categories."""
    from openpyxl import Workbook

    names = ["企业类", "产品类", "建筑工程类", "服务类"]
    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "类别", "所属行业", "所在地区", "推进单位", "法定代表人姓名", "联系人电话", "邮箱", "通信地址"])
    for i in range(n):
        sheet.append([f"哈尔滨第{i:04d}实业有限公司", names[i % 4], "制造业", "哈尔滨市", "哈尔滨市质量协会", "王建国",
                      "0451-87654321", "zhiliang@example.cn", "哈尔滨市南岗区学府路88号"])
    book.save(path)
    return path


def packets_job(work: Path, conf: dict) -> list[Row]:
    roster = roster_xlsx(work / "roster.xlsx", conf["roster"])
    run = measure(manyi("packet", "--roster", roster, "--out", work / "packets", "--jobs", conf["jobs"]))
    n = conf["docxtpl_sample"]
    base = measure(baseline("docxtpl", conf["jobs"], work / "docxtpl", "product", n))
    rate, base_rate = conf["roster"] / run.seconds, n / base.seconds
    return [Row(f"packets: {conf['roster']} pre-filled from a roster (each with its contract, plus the 推荐汇总表), --jobs {conf['jobs']}", rate, "packets/s",
                base_rate, f"plain DocxTemplate per applicant, {n} packets, {conf['jobs']} processes", run,
                "≥ 20/s", rate >= 20)]


def winners_xlsx(path: Path, n: int) -> Path:
    """Given a path and n, write a winners workbook of n rows over the four categories."""
    from openpyxl import Workbook

    names = ["企业类", "产品类", "建筑工程类", "服务类"]
    book = Workbook()
    sheet = book.active
    sheet.append(["企业名称", "类别", "项目名称"])
    for i in range(n):
        sheet.append([f"哈尔滨第{i:04d}实业有限公司", names[i % 4], None if i % 4 == 0 else f"第{i}号项目"])
    book.save(path)
    return path


def certificates_job(work: Path, conf: dict) -> list[Row]:
    winners = winners_xlsx(work / "winners.xlsx", conf["winners"])
    run = measure(manyi("certificates", "--winners", winners, "--out", work / "certs", "--pdf",
                        "--register", work / "register.db"))
    k = conf["cert_sample"]
    base = measure(baseline("certificate-each", work / "certs-each", winners_xlsx(work / "few.xlsx", k), k))
    rate, base_rate = conf["winners"] / run.seconds, k / base.seconds
    return [Row(f"certificates: {conf['winners']} winners → one print-ready PDF", rate, "certificates/s", base_rate,
                f"one LibreOffice start per certificate: {k} measured, {conf['winners']} extrapolated to "
                f"{conf['winners'] / base_rate:.0f} s", run, "≤ 60 s in all", run.seconds <= 60)]


def _du(path: Path) -> float:
    """Given a file or folder, return its size in MB."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def changed_copy(src: Path, dest: Path) -> Path:
    """Given a .docx, write `dest`: the same document in different bytes (a zip comment), as a resent packet is."""
    import zipfile

    shutil.copyfile(src, dest)
    with zipfile.ZipFile(dest, "a") as zf:
        zf.comment = b"resent"
    return dest


def workspace_job(work: Path, conf: dict) -> list[Row]:
    """receive vs parse on the same inbox and --jobs (alternating, best of `parse_runs` each); re-receive of the
    inbox with 20 entries changed vs receiving those 20 alone; database and store sizes."""
    from benchmarks import inbox

    n, jobs = conf["n"], conf["jobs"]
    bases = inbox.whole_bases(work / "bases")
    files = inbox.whole_inbox(work / "whole", n, bases)
    parses, receives = [], []
    for k in range(max(1, conf["parse_runs"] - 1)):
        shutil.rmtree(work / "parsed", ignore_errors=True)
        parses.append(measure(manyi("parse", work / "whole", "--out", work / "parsed", "--jobs", jobs)))
        ws = work / f"ws{k}"
        shutil.rmtree(ws, ignore_errors=True)
        measure(manyi("workspace", "init", ws))
        receives.append(measure(manyi("receive", ws, work / "whole", "--jobs", jobs)))
    parse_run, receive_run = min(parses, key=lambda r: r.seconds), min(receives, key=lambda r: r.seconds)
    ws = work / "ws0"
    db_mb, store_mb = _du(ws / "workspace.db") + _du(ws / "workspace.db-wal"), _du(ws / "store")
    changed = work / "changed"
    changed.mkdir()
    step = max(1, n // 20)
    for path in files[::step][:20]:
        changed_copy(path, changed / path.name)
        shutil.copyfile(changed / path.name, path)  # the inbox now holds the 20 resent packets
    again = measure(manyi("receive", ws, work / "whole", "--jobs", jobs))
    alone_ws = work / "ws-alone"
    measure(manyi("workspace", "init", alone_ws))
    alone = measure(manyi("receive", alone_ws, changed, "--jobs", jobs))
    rate, parse_rate = n / receive_run.seconds, n / parse_run.seconds
    ratio = again.seconds / alone.seconds
    return [
        Row(f"receive: {n} whole-packet .docx into a new workspace (SQLite), --jobs {jobs}; best of {len(receives)}, "
            f"alternating with parse; database {db_mb:.0f} MB, store {store_mb:.0f} MB", rate, "submissions/s",
            parse_rate, f"manyi parse of the same inbox, --jobs {jobs}, best of {len(parses)}", receive_run,
            *targets(("≥ 80% of parse", rate >= 0.8 * parse_rate), ("≤ 300 MB", receive_run.tree_mb <= 300))),
        Row(f"re-receive: the same {n} with 20 resent (new bytes), {n - 20} recognised unchanged; "
            f"{again.seconds / alone.seconds:.1f}× receiving the 20 alone ({alone.seconds:.1f} s)", n / again.seconds,
            "entries/s", 20 / alone.seconds, "receive of the 20 alone into a new workspace", again,
            *targets(("≤ 3× the 20 alone", ratio <= 3), ("≤ 300 MB", again.tree_mb <= 300))),
    ]


def web_job(work: Path, conf: dict) -> list[Row]:
    """Receive through the page vs `manyi receive`; the list page of 1000 applicants (benchmarks/web.py)."""
    from benchmarks.web import web_job as run

    return run(work, conf, (Row, Run, measure, manyi, targets, _tree_rss, PY, ROOT))


JOBS = {"parse": parse_job, "old": old_job, "packets": packets_job, "certificates": certificates_job,
        "workspace": workspace_job, "web": web_job}


# --- output --------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    """Given the rows, return the results as a Markdown table."""
    lines = ["| job | figure | wall time | baseline | ratio | peak memory (tree / largest process) | target |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        base = f"{r.base_rate:.2f} {r.unit} ({r.base_how})" if r.base_rate else "—"
        ratio = f"{r.rate / r.base_rate:.1f}×" if r.base_rate else "—"
        met = "" if r.met is None or MARK[r.met] in r.target else f" {MARK[r.met]}"
        lines.append(f"| {r.job} | **{r.rate:.1f} {r.unit}** | {r.run.seconds:.1f} s | {base} | {ratio} | "
                     f"{r.run.tree_mb:.0f} MB / {'—' if r.run.largest_mb != r.run.largest_mb else f'{r.run.largest_mb:.0f} MB'} | {r.target}{met} |")
    return "\n".join(lines)


def machine() -> str:
    """Return one line describing where the numbers were measured."""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} × {cpu}, Python {platform.python_version()}, "
            f"load average {load:.1f} at the end")


def install_requirements() -> None:
    """Install the baselines' pinned packages (benchmarks/requirements.txt) into this interpreter."""
    subprocess.run([PY, "-m", "pip", "install", "-q", "-r", str(HERE / "requirements.txt")], check=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    for key, value in DEFAULTS.items():
        ap.add_argument(f"--{key.replace('_', '-')}", type=int, default=value)
    ap.add_argument("--only", default=",".join(JOBS), help="comma-separated: " + ",".join(JOBS))
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    ap.add_argument("--no-install", action="store_true", help="do not pip install benchmarks/requirements.txt")
    ap.add_argument("--results", type=Path, default=HERE / "results.md")
    args = ap.parse_args(argv)
    conf = {k: getattr(args, k) for k in DEFAULTS}
    if not args.no_install:
        install_requirements()
    work = args.keep or Path(tempfile.mkdtemp(prefix="manyi-bench-"))
    if args.keep:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    started = time.perf_counter()
    try:
        for name in args.only.split(","):
            print(f"· {name} …", flush=True)
            t = time.perf_counter()
            (work / name).mkdir(parents=True, exist_ok=True)
            try:
                rows += JOBS[name.strip()](work / name, conf)
            except (SystemExit, Exception) as exc:  # noqa: BLE001 - one broken job must not lose the others' figures
                print(f"  FAILED: {exc}", flush=True)
                continue
            print(f"  done in {time.perf_counter() - t:.0f} s (generation included)", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = table(rows)
    print()
    print(text)
    if args.results:
        args.results.write_text(
            "# Benchmark results (last `make bench` run)\n\n"
            f"Measured {machine()}; whole run {time.perf_counter() - started:.0f} s.\n"
            "Each figure is a `manyi` command run as a subprocess (process start, validation and output "
            "writing included); each baseline is measured in the same run. Peak memory is sampled from "
            "/proc for the whole process tree (every worker summed) and, for the largest single process, "
            "taken from wait4's ru_maxrss.\n\n" + text + "\n", encoding="utf-8")
        print(f"\nwritten to {args.results}")


if __name__ == "__main__":
    main()
