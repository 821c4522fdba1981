"""LibreOffice as a batch converter: .doc/.xls in, .docx/.xlsx/.pdf out, many files per start.

Starting soffice costs seconds, so `convert` hands it up to `LIMITS['soffice_batch']` files at
once. Each start gets a fresh throw-away profile, its own process group and a deadline that
kills the whole group. soffice converts its arguments in order, so after a timeout the first
file without a valid output is the one that hung: it alone is reported, the rest go again.

No network: when the kernel allows it, soffice runs in an empty network namespace
(`unshare -rn`); in any case its profile is set to never update links, to block untrusted
referer links and to run no macros.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from pipeline.common import outputs
from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path, unique_names
from pipeline.common.safety import LIMITS
from pipeline.common.sniff import sniff

TIMEOUT_ZH = "转换超时"
FAILED_ZH = "转换失败"
MISSING_ZH = "未安装 LibreOffice，无法转换"

INSTALL_HINT = (
    "需要 LibreOffice 才能处理 .doc/.xls 文件或导出 PDF，但本机未找到 soffice。"
    "请安装：Debian/Ubuntu 执行 sudo apt-get install libreoffice-writer-nogui libreoffice-calc-nogui "
    "fonts-noto-cjk；Windows/macOS 从 https://www.libreoffice.org 下载安装，并确保 soffice 在 PATH 中"
    "（或设置环境变量 MANYI_SOFFICE 指向 soffice 程序）。"
)

# Passed as one argv item, so no shell quotes around the filter names.
FILTERS = {"docx": "docx:MS Word 2007 XML", "xlsx": "xlsx:Calc MS Excel 2007 XML", "pdf": "pdf",
           "doc": "doc:MS Word 97", "xls": "xls:MS Excel 97",
           "odt": "odt:writer8", "ods": "ods:calc8", "rtf": "rtf:Rich Text Format"}
ACCEPTS = {"docx": {"doc", "docx", "odt"}, "xlsx": {"xls", "xlsx", "ods", "xlsb"},
           "pdf": {"doc", "docx", "xls", "xlsx", "odt", "ods"},
           "doc": {"docx", "doc"}, "xls": {"xlsx", "xls"},
           "odt": {"docx", "doc", "odt"}, "ods": {"xlsx", "xls", "ods"}, "rtf": {"docx", "doc"}}
#: The kind `sniff` gives a target's output, where it is not the target's own name (RTF reads as a .doc).
SNIFFED_AS = {"rtf": "doc"}

_CANDIDATES = (
    "/usr/bin/soffice", "/usr/local/bin/soffice", "/opt/libreoffice/program/soffice",
    "/Applications/LibreOffice.app/Contents/MacOS/soffice",
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)

# Writer counts link modes NEVER=0, Calc counts LM_NEVER=1; both mean "never update".
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


def soffice_path() -> str | None:
    """Return the path of the soffice program, or None when LibreOffice is not installed."""
    override = os.environ.get("MANYI_SOFFICE")
    if override:
        return override if Path(override).exists() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return next((str(c) for c in (*_CANDIDATES, *windows_candidates()) if Path(c).exists()), None)


def windows_candidates() -> list[Path]:
    """Return where the LibreOffice installer puts soffice.exe under the Program Files folders Windows names
    (they need not be on drive C:); empty elsewhere."""
    folders = [os.environ.get(k) for k in ("ProgramFiles", "ProgramW6432", "ProgramFiles(x86)")]
    return [Path(f) / "LibreOffice" / "program" / "soffice.exe" for f in dict.fromkeys(folders) if f]


def available() -> bool:
    """Return whether LibreOffice can be used for conversions."""
    return soffice_path() is not None


def require() -> str:
    """Return the soffice path, or raise the Chinese UserError that says how to install it."""
    path = soffice_path()
    if path is None:
        raise UserError(INSTALL_HINT)
    return path


@functools.lru_cache(maxsize=1)
def _no_network_prefix() -> tuple[str, ...]:
    """Return the command prefix that gives soffice an empty network namespace, if the kernel lets us."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    try:
        ok = subprocess.run([unshare, "-rn", "true"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=5).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return (unshare, "-rn") if ok else ()


def convert(paths: list[Path], target: str, outdir: Path, timeout: float = 300,
            limits: dict = LIMITS) -> dict[Path, Path | str]:
    """Given Word/Excel files, return for each its converted file in `outdir` or a Chinese error.

    `target` is 'docx', 'xlsx' or 'pdf' ('doc'/'xls'/'odt'/'ods'/'rtf' too, which tests use to make
    the files applicants send). Inputs are sniffed first: bytes that are not really
    a Word/Excel document are refused without reaching LibreOffice. `timeout` bounds each
    soffice start.
    """
    if target not in FILTERS:
        raise ValueError(f"unknown target {target!r}")
    outdir = Path(outdir)
    results: dict[Path, Path | str] = {}
    todo: list[tuple[Path, str]] = []
    for path in map(Path, paths):
        found = sniff(path, limits)
        if found.problem:
            results[path] = found.problem
        elif found.kind not in ACCEPTS[target]:
            results[path] = f"{FAILED_ZH}：不是 Word/Excel 文档（实际为 {found.kind}）"
        else:
            todo.append((path, found.kind))
    if not todo:
        return results
    soffice = require()
    outdir.mkdir(parents=True, exist_ok=True)
    names = output_names([p for p, _ in todo], target)
    outputs.check_writable(outdir / name for name in names)  # before LibreOffice starts, not half-way
    with tempfile.TemporaryDirectory(prefix="manyi-soffice-") as tmp:
        staged = stage_inputs(todo, Path(tmp) / "in")
        pending = list(range(len(todo)))
        while pending:
            batch = pending[: limits["soffice_batch"]]
            pending = pending[len(batch):]
            done, timed_out = run_soffice(soffice, [staged[i] for i in batch], target, Path(tmp), timeout)
            last = max((k for k, out in enumerate(done) if out), default=-1)
            for k, i in enumerate(batch):
                source = todo[i][0]
                if done[k]:
                    final = outdir / names[i]
                    with atomic_path(final) as part:  # across file systems a move is a copy: never a half file
                        shutil.move(str(done[k]), part)
                    results[source] = final
                elif not timed_out:
                    results[source] = FAILED_ZH
                elif k <= last + 1:
                    # Before the last output: refused by soffice; right after it: the one that hung.
                    results[source] = TIMEOUT_ZH if k == last + 1 else FAILED_ZH
            if timed_out:
                # Files after the one that hung were never tried: they go again, first.
                pending = [i for k, i in enumerate(batch) if k > last + 1] + pending
    return results


def conversion_problem(result: str) -> str:
    """Given the reason `convert` gave for a file (its own or the sniffer's), return what staff read.

    LibreOffice opens every file Word, Excel and WPS save; one it cannot open is damaged, or in a
    format too old or too rare: the applicant should save it again as .docx / .xlsx.
    """
    again = "请用 Word、WPS 或 Excel 打开后另存为 .docx 或 .xlsx 重新发送"
    if result == FAILED_ZH:
        return f"文件无法打开（LibreOffice 转换失败，文件可能已损坏或格式过旧）；{again}"
    if result == TIMEOUT_ZH:
        return f"文件打开超时（LibreOffice 转换超时，文件可能已损坏）；{again}"
    if result.startswith(FAILED_ZH) or result in (MISSING_ZH, INSTALL_HINT):
        return f"文件需用 LibreOffice 转换后读取，但未能转换（{result}）"
    return result


def to_pdf(docx_paths: list[Path], outdir: Path, timeout: float = 300) -> dict[Path, Path | str]:
    """Given .docx (or .xlsx) files, return for each its PDF in `outdir` or a Chinese error."""
    return convert(docx_paths, "pdf", outdir, timeout=timeout)


def output_names(paths: list[Path], target: str) -> list[str]:
    """Given inputs, return distinct output file names '<stem>.<target>' ('<stem> (2).<target>' on clashes)."""
    return [f"{stem}.{target}" for stem in unique_names([p.stem for p in paths])]


def stage_inputs(todo: list[tuple[Path, str]], folder: Path) -> list[Path]:
    """Given inputs and their sniffed kinds, return copies named f0001.<kind> so no two stems clash."""
    folder.mkdir(parents=True)
    staged = []
    for n, (path, kind) in enumerate(todo, 1):
        target = folder / f"f{n:04d}.{kind}"
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
        staged.append(target)
    return staged


def write_profile(folder: Path) -> Path:
    """Given an empty folder, write a LibreOffice user profile that never fetches links, and return it."""
    user = folder / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
    return folder


def run_soffice(soffice: str, inputs: list[Path], target: str, tmp: Path,
                timeout: float) -> tuple[list[Path | None], bool]:
    """Run one soffice start over `inputs`; return each input's valid output (or None) and whether it timed out."""
    run_dir = Path(tempfile.mkdtemp(dir=tmp, prefix="run-"))
    profile = write_profile(run_dir / "profile")
    out = run_dir / "out"
    out.mkdir()
    cmd = [*_no_network_prefix(), soffice, "--headless", "--invisible", "--norestore", "--nolockcheck",
           "--nodefault", "--nologo", f"-env:UserInstallation={profile.as_uri()}",
           "--convert-to", FILTERS[target], "--outdir", str(out), *map(str, inputs)]
    env = dict(os.environ, SAL_USE_VCLPLUGIN="svp", HOME=str(run_dir))
    timed_out = False
    with open(run_dir / "log.txt", "wb") as log:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    start_new_session=True)
        except OSError:
            return [None] * len(inputs), False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            kill_group(proc)
    outputs = []
    for path in inputs:
        produced = out / f"{path.stem}.{target}"
        valid = produced.is_file() and produced.stat().st_size > 0 and _valid_output(produced, target)
        outputs.append(produced if valid else None)
    return outputs, timed_out


def _valid_output(path: Path, target: str) -> bool:
    found = sniff(path)
    return found.problem is None and found.kind == SNIFFED_AS.get(target, target)


def kill_group(proc: subprocess.Popen) -> None:
    """Kill the process group of `proc` (soffice and the soffice.bin it forks) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    except AttributeError:  # Windows: no process groups; soffice itself is killed (soffice.bin may outlive it)
        proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    # soffice.bin may linger a moment after oosplash is reaped; give the group time to vanish.
    for _ in range(50):
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError, AttributeError):
            return
        time.sleep(0.02)
