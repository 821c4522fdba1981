"""Certificates anyone can verify, at campaign size: 1000 winners printed with check codes, QR codes and a
PAdES-signed PDF each, as staff run it (one `manyi certificates --pdf` subprocess, process start included).
The phases are timed inside a second run in this process as well, so a slow run says where its time goes. Writes
benchmarks/results-certificates.md.

    python -m benchmarks.certificates [--n 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOAL_S = 60


def campaign_file(folder: Path) -> Path:
    """Given a folder, write the bundled 黑龙江 2017 campaign with a verify page address (so each certificate
    carries a QR code); return its path."""
    from pipeline.definitions.campaign import DEFAULT_CAMPAIGN

    data = yaml.safe_load(Path(DEFAULT_CAMPAIGN).read_text(encoding="utf-8"))
    data["certificate"]["verify_url"] = "https://verify.example.org.cn/verify"
    path = folder / "campaign.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def manyi(*args) -> list[str]:
    return [sys.executable, "-m", "pipeline", *map(str, args)]


def children_cpu() -> float:
    """Return the CPU seconds (user + system) of this process's finished children so far (0 where unknown)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> tuple[float, float]:
    """Given a command, run it from the repository; return its wall seconds and the CPU seconds of it and every
    process it waited for (LibreOffice, the signing workers): the figure that does not depend on the machine's
    other load. A failure stops the benchmark."""
    start, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds, children_cpu() - cpu


def phases(work: Path, winners: Path, campaign: Path) -> tuple[float, dict[str, float]]:
    """Given the work folder, winners and campaign, print the certificates again in this process (a register of its
    own) with each phase's wall time taken around the library's own functions; return the total and the phases.
    (Wall time, not cProfile: a profiler set in this process would follow into the forked signing workers.)"""
    from pipeline.definitions.campaign import load_campaign
    from pipeline.issuing import certificates, signing

    spent: dict[str, float] = {}

    def timed_call(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start
        return wrapper

    names = {"certificate_context": "check codes' QR codes and the certificates' contexts",
             "print_each": "one .docx per certificate (docxtpl)",
             "combined_pdf": "the print-ready PDF (LibreOffice, the run in parts, one per CPU at once)",
             "signed_pdfs": "each page cut out (pikepdf) and signed (pyHanko, a process per CPU)"}
    originals = {name: getattr(certificates, name) for name in names}
    register = work / "phases.db"
    signing.init_ca(signing.keys_folder_of(register), "黑龙江省质量协会")
    try:
        for name, function in originals.items():
            setattr(certificates, name, timed_call(names[name], function))
        start = time.perf_counter()
        result = certificates.make_certificates(winners, work / "phases", load_campaign(campaign), register, pdf=True)
        total = time.perf_counter() - start
    finally:
        for name, function in originals.items():
            setattr(certificates, name, function)
    assert len(result.signed) == len(result.entries), result.problems[:3]
    return total, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    from benchmarks.__main__ import winners_xlsx

    with tempfile.TemporaryDirectory(prefix="manyi-bench-certs-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        # The registers' index of its own: a benchmark's registers are nobody's campaign.
        os.environ["MANYI_DATA_DIR"] = str(work / "data")
        winners = winners_xlsx(work / "winners.xlsx", args.n)
        campaign = campaign_file(work)
        timed(manyi("register", "ca", "init", "--name", "黑龙江省质量协会", "--register", work / "register.db"))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        seconds, cpu = timed(manyi("certificates", "--winners", winners, "--out", work / "certs", "--pdf",
                              "--campaign", campaign, "--register", work / "register.db"))
        signed = len(list((work / "certs").glob("*.pdf"))) - 1  # each certificate's signed PDF, plus the combined one
        docx = len(list((work / "certs").glob("*.docx")))
        total, spent = (0.0, {}) if args.no_profile else phases(work, winners, campaign)
    verdict = "met" if seconds <= GOAL_S else "NOT met"
    text = f"""# Benchmark: certificates with check codes, QR codes and signed PDFs

Run {datetime.now():%Y-%m-%d %H:%M} on {platform.platform()}, Python {platform.python_version()},
{os.cpu_count()} CPUs (shared with other work while measured). `python -m benchmarks.certificates --n {args.n}`.

| job | result | goal |
|---|---|---|
| `manyi certificates --pdf` of {args.n} winners: {docx} .docx (check code + QR code each), one print-ready PDF, {signed} PAdES-signed PDFs | {seconds:.1f} s wall ({args.n / seconds:.1f} certificates/s); {cpu:.0f} CPU-seconds in all its processes (on {os.cpu_count()} idle CPUs the wall time would lie between {cpu / (os.cpu_count() or 1):.0f} and {cpu:.0f} s) | ≤ {GOAL_S} s: {verdict} |

The machine's load average was {load:.1f} when the run started ({os.cpu_count()} CPUs): other work had most of the
CPUs, so the wall time is an upper bound; the CPU-seconds are this job's own.

Where the time goes (the same job again inside Python, {total:.1f} s, each phase's wall time):

| phase | seconds | share |
|---|---|---|
""" + "".join(f"| {name} | {sec:.1f} | {sec / total:.0%} |\n" for name, sec in spent.items() if total) + f"""| the rest (reading the workbook, numbering in the register) | {total - sum(spent.values()):.1f} | |
"""
    (HERE / "results-certificates.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
