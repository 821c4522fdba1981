"""Certificates anyone can verify, at campaign size: 1000 winners printed with check codes, QR codes and a
PAdES-signed PDF each, as staff run it (one `manyi certificates --pdf` subprocess, process start included).
The phases are timed inside one profiled run as well, so a slow run says where its time goes. Writes
benchmarks/results-certificates.md.

    python -m benchmarks.certificates [--n 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
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


def timed(command: list[str]) -> float:
    """Given a command, run it from the repository; return its wall seconds (a failure stops the benchmark)."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds


def profiled(work: Path, winners: Path, campaign: Path) -> tuple[float, str]:
    """Given the work folder, winners and campaign, print the certificates again in this process under cProfile
    (a register of its own); return its seconds and the top of the cumulative profile."""
    from pipeline.definitions.campaign import load_campaign
    from pipeline.issuing import signing
    from pipeline.issuing.certificates import make_certificates

    register = work / "profiled.db"
    signing.init_ca(signing.keys_folder_of(register), "黑龙江省质量协会")
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    result = make_certificates(winners, work / "profiled", load_campaign(campaign), register, pdf=True)
    profile.disable()
    seconds = time.perf_counter() - start
    assert len(result.signed) == len(result.entries), result.problems[:3]
    out = tempfile.SpooledTemporaryFile(mode="w+")
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats(18)
    out.seek(0)
    return seconds, out.read()


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
        winners = winners_xlsx(work / "winners.xlsx", args.n)
        campaign = campaign_file(work)
        timed(manyi("register", "ca", "init", "--name", "黑龙江省质量协会", "--register", work / "register.db"))
        seconds = timed(manyi("certificates", "--winners", winners, "--out", work / "certs", "--pdf",
                              "--campaign", campaign, "--register", work / "register.db"))
        signed = len(list((work / "certs").glob("*.pdf"))) - 1  # each certificate's signed PDF, plus the combined one
        docx = len(list((work / "certs").glob("*.docx")))
        profile = "" if args.no_profile else "\n".join(profiled(work, winners, campaign)[1].splitlines()[:40])
    verdict = "met" if seconds <= GOAL_S else "NOT met"
    text = f"""# Benchmark: certificates with check codes, QR codes and signed PDFs

Run {datetime.now():%Y-%m-%d %H:%M} on {platform.platform()}, Python {platform.python_version()},
{os.cpu_count()} CPUs (shared with other work while measured). `python -m benchmarks.certificates --n {args.n}`.

| job | result | goal |
|---|---|---|
| `manyi certificates --pdf` of {args.n} winners: {docx} .docx (check code + QR code each), one print-ready PDF, {signed} PAdES-signed PDFs | {seconds:.1f} s ({args.n / seconds:.1f} certificates/s) | ≤ {GOAL_S} s: {verdict} |

Where the time goes (one run of the same job inside Python, cProfile, cumulative):

```
{profile.strip()}
```
"""
    (HERE / "results-certificates.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
