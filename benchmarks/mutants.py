"""`make mutants`: mutation testing of the rules and the normalisers with mutmut, and its report.

Runs `mutmut run` (configured in pyproject.toml's [tool.mutmut]: pipeline/checking/rules/,
pipeline/reading/values.py and pipeline/common/text.py against their fast targeted tests) from a clean
`mutants/` folder, then writes the score, the run time and every surviving mutant into the results
part of benchmarks/mutants.md. The explanations of the survivors judged equivalent are the
hand-written part of that file, above the results; they are kept, and the results name every function
with survivors that they do not name.

    python -m benchmarks.mutants [--max-children 2] [--keep] [--report-only]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "benchmarks" / "mutants.md"
MUTMUT = [sys.executable, "-m", "mutmut"]
NUMBERED = re.compile(r"__mutmut_\d+$")
BEGIN, END = "<!-- results: written by `make mutants` -->", "<!-- /results -->"
EQUIVALENTS = ("<!-- equivalents: hand-written, kept by `make mutants` -->", "<!-- /equivalents -->")


def mutmut(*args: str, quiet: bool = False) -> str:
    """Given mutmut's arguments, run it in the repository and return its output (a failure stops here)."""
    proc = subprocess.run([*MUTMUT, *args], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None)
    if proc.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(args)} failed ({proc.returncode})")
    return proc.stdout or ""


def survivors(results: str) -> list[str]:
    """Given `mutmut results` output, return the names of the surviving mutants."""
    return [line.split(":")[0].strip() for line in results.splitlines() if line.strip().endswith(": survived")]


def module_of(name: str) -> str:
    """Given a mutant name (pipeline.common.text.x_clean__mutmut_3), return its module and function."""
    module, _, rest = name.rpartition(".x_")
    return f"{module}.{NUMBERED.sub('', rest)}"


def equivalents_text() -> str:
    """Return the hand-written section of the report that explains the equivalent survivors ('' when none)."""
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
    begin, end = EQUIVALENTS
    return text.split(begin, 1)[1].split(end, 1)[0] if begin in text and end in text else ""


def explained(where: str, equivalents: str) -> bool:
    """Given a survivor's module and function (pipeline.common.text.is_phone) and the equivalents section,
    return whether that section explains the function's survivors (it names `text.is_phone`)."""
    module, _, function = where.rpartition(".")
    return f"`{module.rpartition('.')[2]}.{function}`" in equivalents


def results_section(stats: dict, seconds: float | None, names: list[str], max_children: int,
                    equivalents: str = "") -> str:
    """Given mutmut's counts, the run time, the survivors and the equivalents section, return the report's
    results part."""
    tested = stats["killed"] + stats["survived"] + stats["timeout"] + stats["suspicious"] + stats["segfault"]
    score = 100 * (tested - stats["survived"]) / tested if tested else 0.0
    untested = stats["total"] - tested - stats["no_tests"] - stats["skipped"]
    when = f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {max_children} processes"
    lines = [
        BEGIN,
        f"Last run: {when}, {seconds / 60:.1f} minutes." if seconds is not None else f"Report of {when}.",
        "",
        "| mutants | killed | timeout (killed) | survived | no test | not yet run | score (killed / tested) |",
        "|---|---|---|---|---|---|---|",
        f"| {stats['total']} | {stats['killed']} | {stats['timeout']} | {stats['survived']} | "
        f"{stats['no_tests']} | {untested} | {score:.1f} % |",
        "",
    ]
    if untested:
        lines += [f"The run was stopped before {untested} mutants were tried: this is the score of the others.", ""]
    if names:
        counts = sorted(Counter(map(module_of, names)).items())
        unexplained = [where for where, _ in counts if not explained(where, equivalents)]
        lines += [f"Functions with survivors that the equivalents above do not name: {len(unexplained)}"
                  + (f" ({', '.join(f'`{w}`' for w in unexplained)}); each survivor there needs a test, or its "
                     f"reason above." if unexplained else ".") + " Survivors of a named function are checked "
                  "against its entry by reading them (`mutmut show NAME`).", ""]
        lines += ["Survivors by function (`mutmut show NAME` shows each):", ""]
        lines += [f"- `{where}`: {count}" + ("" if explained(where, equivalents) else " (not explained)")
                  for where, count in counts]
        lines += ["", "<details><summary>every survivor</summary>", ""]
        lines += [f"- `{n}`" for n in names] + ["", "</details>"]
    else:
        lines.append("No mutant survived.")
    return "\n".join(lines + [END])


def write_report(section: str) -> None:
    """Given the results part, put it into benchmarks/mutants.md in place of the previous one."""
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else f"# Mutation testing\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    REPORT.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ from a previous run (only changed code reruns)")
    parser.add_argument("--report-only", action="store_true", help="write the report of the mutants/ there is, run nothing")
    args = parser.parse_args(argv)
    seconds = None
    if not args.report_only:
        if not args.keep:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        start = time.monotonic()
        mutmut("run", "--max-children", str(args.max_children))
        seconds = time.monotonic() - start
    mutmut("export-cicd-stats", quiet=True)
    stats = json.loads((ROOT / "mutants" / "mutmut-cicd-stats.json").read_text(encoding="utf-8"))
    names = survivors(mutmut("results", quiet=True))
    equivalents = equivalents_text()
    write_report(results_section(stats, seconds, names, args.max_children, equivalents))
    unexplained = {module_of(n) for n in names if not explained(module_of(n), equivalents)}
    print(f"{stats['survived']} of {stats['total']} mutants survived; {len(unexplained)} functions with survivors "
          f"not named among the equivalents; report: {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
