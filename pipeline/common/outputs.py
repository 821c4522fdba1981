"""What manyi may do in an output folder: which files it may replace, who is writing there, which run did not finish.

- The manifest: every folder manyi writes into holds `.manyi-files`, one line per file written there
  (name, size, SHA-1), appended as each file is written. A file may be replaced or removed only when
  it is listed and still holds what manyi wrote; anything else there is the staff's own and stays.
  `files.atomic_path` asks `check_writable` before every replacement, so no writer can forget.
- The lock: `.manyi-lock` in the out folder names the run that holds it (pid, host, start time).
  It is created with O_EXCL (any OS); a lock left by a process that died on this computer is taken over.
- The run marker: `.manyi-run` lists the entries a run is about to write; it goes when the run
  finishes, so an interrupted run stays visible to the commands that read its records.
- The origins: `.manyi-origins` says which inbox and which run each record came from.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.common.errors import UserError

MANIFEST = ".manyi-files"
LOCK = ".manyi-lock"
RUN = ".manyi-run"  # not *.json: record folders are globbed for *.json
ORIGINS = ".manyi-origins"
#: manyi's own bookkeeping files: never an output, never foreign.
CONTROL = frozenset({MANIFEST, LOCK, RUN, ORIGINS})
#: The manifest's mark for a file manyi changes in place (a database), instead of its SHA-1.
LIVE = "live"
#: Files named in one refusal, at most.
SHOWN = 5
POLL_S = 0.5
#: A lock file still empty after this long was left by a process that died while creating it.
EMPTY_LOCK_S = 10.0


# --- the manifest --------------------------------------------------------------------------------


def digest(path: Path) -> str:
    """Given a file, return the SHA-1 of its bytes (hex)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# folder → (manifest size read so far, name → (size, sha1)); a manifest only grows between runs,
# so a second look reads only the lines appended since.
_CACHE: dict[Path, tuple[int, dict[str, tuple[int, str]]]] = {}


def manifest(folder: Path) -> dict[str, tuple[int, str]]:
    """Given a folder, return name → (size, sha1) of the files manyi wrote there (the latest line per name)."""
    path = Path(folder) / MANIFEST
    try:
        size = path.stat().st_size
    except OSError:
        _CACHE.pop(Path(folder), None)
        return {}
    read, known = _CACHE.get(Path(folder), (0, {}))
    if size < read:  # rewritten shorter: read it all again
        read, known = 0, {}
    if size > read:
        with open(path, "rb") as f:
            f.seek(read)
            tail = f.read(size - read)
        end = tail.rfind(b"\n") + 1  # a line still being appended is read next time
        known = dict(known)
        for line in tail[:end].decode("utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError, TypeError):
                name, length, sha = json.loads(line)
                known[str(name)] = (int(length), str(sha))
        read += end
    _CACHE[Path(folder)] = (read, known)
    return known


def written_by_manyi(path: Path) -> bool:
    """Given a path, return whether manyi wrote it and it still holds what manyi wrote (an absent file: True)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return True
    if path.name in CONTROL:
        return True
    listed = manifest(path.parent).get(path.name)
    if listed and listed[1] == LIVE:
        return True
    return bool(listed) and listed[0] == size and listed[1] == digest(path)


def foreign(paths) -> list[Path]:
    """Given paths manyi is about to write, return those holding a file manyi did not write (or that was changed since)."""
    return [Path(p) for p in paths if not written_by_manyi(Path(p))]


def refusal(found: list[Path]) -> str:
    """Given foreign files, return the Chinese message refusing to replace them."""
    shown = "、".join(str(p) for p in found[:SHOWN]) + (f" 等 {len(found)} 个文件" if len(found) > SHOWN else "")
    return (f"未覆盖 {shown}：这些文件不是 manyi 写出的，或写出后被修改过。为免丢失您的文件，manyi 不会覆盖它们；"
            f"请换一个输出文件夹（--out），或先把这些文件移走")


def check_writable(paths) -> None:
    """Given paths manyi is about to write, raise a Chinese UserError naming those it may not replace."""
    found = foreign(paths)
    if found:
        raise UserError(refusal(found))


def _append(folder: Path, line: str) -> None:
    """Given a folder and a manifest line, append it: one write of one short line, so workers never interleave.

    Opened and closed each time: a manifest kept open would stop Windows from deleting the folder.
    """
    with open(folder / MANIFEST, "ab", buffering=0) as f:
        f.write(line.encode("utf-8"))


def note_written(path: Path) -> None:
    """Given a file manyi has just written, list it in its folder's manifest."""
    path = Path(path)
    _append(path.parent, json.dumps([path.name, path.stat().st_size, digest(path)], ensure_ascii=False) + "\n")


def note_live(path: Path) -> None:
    """Given a file manyi keeps and changes in place (the certificate register), list it as manyi's whatever it holds."""
    path = Path(path)
    if manifest(path.parent).get(path.name, (0, ""))[1] != LIVE:
        _append(path.parent, json.dumps([path.name, -1, LIVE], ensure_ascii=False) + "\n")


def remove_own(path: Path) -> bool:
    """Given a file, remove it when manyi wrote it (and it is unchanged); return whether it was removed."""
    path = Path(path)
    if not path.exists() or path.name in CONTROL or not written_by_manyi(path):
        return False
    path.unlink()
    return True


def foreign_files(root: Path, limit: int | None = None) -> list[Path]:
    """Given a folder, return the files under it that manyi did not write (its bookkeeping aside), up to `limit`."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name not in CONTROL and not written_by_manyi(Path(folder) / name):
                found.append(Path(folder) / name)
                if limit and len(found) >= limit:
                    return found
    return sorted(found)


# --- the lock ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """The run holding an out folder's lock."""

    pid: int
    host: str
    started: str
    command: str = ""

    def describe(self) -> str:
        """Return the holder as staff read it."""
        what = f"“{self.command}”" if self.command else "另一次运行"
        return f"{what}（进程 {self.pid}，计算机 {self.host}，开始于 {self.started}）"


def now_text() -> str:
    """Return the current local time as runs are dated (2017-06-18 09:30:05)."""
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def this_process(command: str) -> Holder:
    """Given the command line, return this process as a lock holder."""
    return Holder(os.getpid(), socket.gethostname(), now_text(), command)


def pid_alive(pid: int) -> bool:
    """Given a process id on this computer, return whether that process is still running."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would send CTRL_C there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path: Path) -> Holder | None:
    """Given a lock file, return its holder, or None when it cannot be read (being written, or broken)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), str(data["started"]), str(data.get("command", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def stale(path: Path, holder: Holder | None) -> bool:
    """Given a lock file and its holder, return whether the holder is gone (a process of this computer that died)."""
    if holder is None:
        try:
            return time.time() - Path(path).stat().st_mtime > EMPTY_LOCK_S
        except OSError:
            return False
    return holder.host == socket.gethostname() and not pid_alive(holder.pid)


def _take(path: Path, me: Holder) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(me.__dict__, f, ensure_ascii=False)
    return True


@contextlib.contextmanager
def locked(folder: Path, command: str, wait: bool = False, echo=None):
    """Hold `folder`'s lock for the block; yield notes for staff (a lock taken over from a dead run).

    When another run holds it: wait for it with `wait`, else a UserError naming that run.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path, me, notes, told = folder / LOCK, this_process(command), [], False
    while not _take(path, me):
        before = path.read_bytes() if path.exists() else b""
        holder = read_holder(path)
        if stale(path, holder):
            # Taken over only if it is still the dead run's file (another run may have done so already).
            with contextlib.suppress(OSError):
                if path.read_bytes() == before:
                    path.unlink()
                    notes.append(f"上次运行{holder.describe() if holder else ''}没有正常结束，已接管其留下的锁")
            continue
        if not wait:
            raise UserError(f"输出文件夹 {folder} 正被{holder.describe() if holder else '另一次运行'}使用。"
                            f"两次运行同时写一个文件夹会互相破坏结果：请等它结束后再运行，或加 --wait 排队等待")
        if echo and not told:
            echo(f"输出文件夹 {folder} 正被{holder.describe() if holder else '另一次运行'}使用，等待它结束 …")
            told = True
        time.sleep(POLL_S)
    try:
        yield notes
    finally:
        if read_holder(path) == me:
            with contextlib.suppress(OSError):
                path.unlink()


# --- runs ----------------------------------------------------------------------------------------


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def start_run(folder: Path, command: str, entries: dict[str, str]) -> dict:
    """Given the out folder, the command and id → source of the entries about to be written, mark the run begun; return the mark.

    The mark of an earlier run that did not finish is kept inside it, for the entries this run does not redo.
    """
    me = this_process(command)
    earlier = _read_json(Path(folder) / RUN)
    if isinstance(earlier, dict) and isinstance(earlier.get("entries"), dict):
        earlier = {**earlier, "entries": {k: v for k, v in earlier["entries"].items() if k not in entries}}
        earlier = earlier if earlier["entries"] else None
    else:
        earlier = None
    mark = {**me.__dict__, "entries": entries, "done": None, "earlier": earlier}
    _write_json(Path(folder) / RUN, mark)
    return mark


def stop_run(folder: Path, mark: dict, done: list[str]) -> None:
    """Given the mark of a run that stopped before its end and the ids it finished, record them in the mark."""
    _write_json(Path(folder) / RUN, {**mark, "done": sorted(done)})


def finish_run(folder: Path, origins: dict[str, list[str]], mark: dict | None = None) -> None:
    """Given the out folder, id → [inbox, run] of every record now there (and the run's mark), record the origins
    and clear the mark; an earlier unfinished run's mark stays for the entries this run did not redo."""
    _write_json(Path(folder) / ORIGINS, origins)
    earlier = (mark or {}).get("earlier")
    if earlier:
        _write_json(Path(folder) / RUN, earlier)
        return
    with contextlib.suppress(FileNotFoundError):
        (Path(folder) / RUN).unlink()


def origins(folder: Path) -> dict[str, list[str]]:
    """Given an out folder, return id → [inbox, run started] of the records its finished runs wrote."""
    data = _read_json(Path(folder) / ORIGINS)
    return data if isinstance(data, dict) else {}


def unfinished(folder: Path, present: set[str]) -> tuple[dict, list[str]] | None:
    """Given an out folder and the ids of the records in it, return (mark, sources missing) of a run that did not finish.

    None when every run finished. Missing: the entries the run did not finish (when it could say),
    else those of its entries that have no record at all.
    """
    mark = _read_json(Path(folder) / RUN)
    if not isinstance(mark, dict) or not isinstance(mark.get("entries"), dict):
        return None
    missing = []
    for run in (mark, mark.get("earlier")):
        if isinstance(run, dict) and isinstance(run.get("entries"), dict):
            done = set(run["done"]) if isinstance(run.get("done"), list) else present
            missing += [src for sid, src in run["entries"].items() if sid not in done]
    return mark, sorted(missing)


def unfinished_warning(folder: Path, present: set[str]) -> str | None:
    """Given an out folder and the ids of its records, return the Chinese warning about an unfinished run, or None."""
    found = unfinished(folder, present)
    if not found:
        return None
    mark, missing = found
    holder = Holder(int(mark.get("pid") or 0), str(mark.get("host", "")), str(mark.get("started", "")),
                    str(mark.get("command", "")))
    stopped = isinstance(mark.get("done"), list)  # it said so itself; else it may still be running
    running = not stopped and holder.host == socket.gethostname() and pid_alive(holder.pid)
    state = "正在进行，尚未结束" if running else "没有完成（被中断）"
    shown = "、".join(missing[:SHOWN * 2]) + (f" 等 {len(missing)} 份" if len(missing) > SHOWN * 2 else "")
    lacking = f"以下申报没有本次解析的记录：{shown}；" if missing else ""
    return (f"{folder} 中的解析{holder.describe()}{state}：记录和汇总表不完整，{lacking}"
            f"批次检查（重复申报、逾期）也未进行。请重新运行 manyi parse 后再使用这些记录")
