"""An inbox as submissions, and a submission as the files it holds.

`entries` lists what was received (one Entry per submission); `open_submission` turns one
entry into files whose bytes can be read, unpacking zips — GBK names, nested archives,
bombs and path tricks included — into a work folder under generated names only.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.safety import LIMITS, Budget, LimitExceeded, read_member
from pipeline.common.sniff import sniff


@dataclass(frozen=True)
class Entry:
    """One submission: its stable id, where it was found (relative to the PATH given) and its path."""

    submission_id: str
    source: str
    path: Path


@dataclass
class SubmissionFile:
    """One file of a submission: its name as the applicant gave it, where its bytes are, its kind."""

    name: str
    path: Path
    kind: str


@dataclass
class Problem:
    """A file of a submission that was refused, and why (Chinese)."""

    file: str
    reason: str


@dataclass
class Submission:
    """The readable files of a submission and the problems of the refused ones."""

    files: list[SubmissionFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "__macosx", ".localized"}


def is_hidden(name: str) -> bool:
    """Given a file or folder name, return whether it is system clutter rather than a submission."""
    lower = name.lower()
    return lower.startswith((".", "~$", "._")) or lower in _JUNK_NAMES


_CONTROL = re.compile(r"[\x00-\x1f\x7f\ufffe\uffff]")


def decode_name(raw: bytes) -> str | None:
    """Given a name's bytes, return them decoded as UTF-8, else as GB18030 (Chinese Windows), else None."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def readable(name: str) -> str:
    """Given a file name as the OS gave it, return it as text fit for records and workbooks.

    Folders unpacked on Linux from a Chinese Windows zip keep GBK bytes, which Python carries
    as lone surrogates; they are decoded as GB18030 (else shown as �). Control characters go.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in name):
        raw = os.fsencode(name)
        name = decode_name(raw) or raw.decode("utf-8", errors="replace")
    name = name.encode("utf-8", errors="replace").decode("utf-8")  # any other lone surrogate
    return _CONTROL.sub("", name)


def submission_id(source: str) -> str:
    """Given an entry's source, return a filesystem-safe, stable and unique id ('华光公司-1a2b3c4d')."""
    stem = unicodedata.normalize("NFC", source)
    stem = re.sub(r"\.(zip|docx?|xlsx?|pdf)$", "", stem, flags=re.I)
    slug = re.sub(r"[^\w\u4e00-\u9fff-]+", "_", stem).strip("_.")[:60] or "submission"
    digest = hashlib.sha1(source.encode("utf-8", errors="surrogatepass")).hexdigest()[:8]
    return f"{slug}-{digest}"


def entries(paths: list[Path]) -> list[Entry]:
    """Given the PATHs of `manyi parse`, return one Entry per submission, sorted by source.

    A folder is an inbox whose top-level entries are submissions; a file or zip is one. The
    same file given twice counts once; two different entries whose names read the same (two
    PATHs each holding 华光公司) both stay, the second as '华光公司 (2)'.
    """
    found: dict[str, Path] = {}
    seen: set[Path] = set()

    def add(path: Path) -> None:
        real = path.resolve()
        if real in seen:
            return
        seen.add(real)
        name, n = readable(path.name) or "未命名", 1
        source = name
        while source in found:
            n += 1
            source = f"{name} ({n})"
        found[source] = path

    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"找不到路径：{path}")
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if is_hidden(child.name) or child.is_symlink():
                    continue
                add(child)
        else:
            add(path)
    return [Entry(submission_id(source), source, found[source]) for source in sorted(found)]


def open_submission(entry: Entry, workdir: Path, limits: dict = LIMITS) -> Submission:
    """Given an entry, return its files (zips unpacked into `workdir`) and the refused ones.

    A refused file never stops the others; a zip whose bomb is detected keeps the members
    already taken out and reports the rest as one problem.
    """
    workdir = Path(workdir)  # created by `unpack` when a zip needs it: most entries are plain files
    sub = Submission()
    budget = Budget(limits=dict(limits))
    counter = [0]
    if entry.path.is_dir():
        for path in folder_files(entry.path):
            name = "/".join(readable(part) for part in path.relative_to(entry.path).parts)
            take_file(sub, name, path, workdir, budget, counter, depth=0)
    else:
        take_file(sub, readable(entry.path.name), entry.path, workdir, budget, counter, depth=0, top=True)
    sub.files.sort(key=lambda f: f.name)
    return sub


def folder_files(folder: Path) -> list[Path]:
    """Given a submission folder, return its files in name order, hidden files and symlinks skipped."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if any(is_hidden(part) for part in rel) or path.is_symlink() or not path.is_file():
            continue
        out.append(path)
    return out


def take_file(sub: Submission, name: str, path: Path, workdir: Path, budget: Budget,
              counter: list[int], depth: int, top: bool = False) -> None:
    """Sniff one file and add it to the submission as a file, a problem, or (zip) its members.

    Members of a zip are named inside it ('inner.zip/表1.docx'), except for the members of a
    zip that is itself the submission.
    """
    found = sniff(path, budget.limits)
    if found.problem:
        sub.problems.append(Problem(name, found.problem))
    elif found.kind == "zip":
        if depth >= budget.limits["zip_depth"]:
            sub.problems.append(Problem(name, "压缩包嵌套层数过多"))
        else:
            unpack(sub, name, path, workdir, budget, counter, depth + 1, "" if top else name + "/")
    else:
        sub.files.append(SubmissionFile(name, path, found.kind))


def member_name(info: zipfile.ZipInfo) -> str:
    """Given a zip member, return its name decoded as the applicant's system wrote it.

    Without the UTF-8 flag (bit 11) zipfile decodes as cp437; the raw bytes are recovered
    and tried as UTF-8, then GBK (zips made on Chinese Windows), before cp437 is kept.
    """
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = None
        if raw is not None:
            name = decode_name(raw) or name
    return name


def safe_parts(name: str) -> list[str]:
    """Given a member name, return its path parts with separators unified and '..', '.', drives dropped."""
    parts = []
    for part in readable(name).replace("\\", "/").split("/"):
        part = part.strip()
        if part in ("", ".", "..") or re.fullmatch(r"[A-Za-z]:", part):
            continue
        parts.append(part)
    return parts


def is_symlink(info: zipfile.ZipInfo) -> bool:
    """Given a zip member, return whether it is a symbolic link (Unix mode in the external attributes)."""
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def unpack(sub: Submission, name: str, path: Path, workdir: Path, budget: Budget,
           counter: list[int], depth: int, prefix: str) -> None:
    """Copy the members of the zip `path` (named `name` in the submission) into `workdir` and take each."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        sub.problems.append(Problem(name, f"文件已损坏或不完整（{exc}）"))
        return
    with zf:
        workdir.mkdir(parents=True, exist_ok=True)
        infos = zf.infolist()
        if len(infos) + budget.members > budget.limits["zip_members"]:
            sub.problems.append(Problem(name, f"压缩炸弹（压缩包内文件过多：{len(infos)} 个）"))
            return
        for info in infos:
            parts = safe_parts(member_name(info))
            if info.is_dir() or info.filename.endswith("\\") or not parts or is_symlink(info):
                continue
            if any(is_hidden(part) for part in parts):
                continue
            inner = prefix + "/".join(parts)
            try:
                budget.count_member()
            except LimitExceeded as exc:
                sub.problems.append(Problem(name, str(exc)))
                return
            if info.flag_bits & 0x1:
                sub.problems.append(Problem(inner, "文件已加密/设有密码"))
                continue
            counter[0] += 1
            suffix = Path(parts[-1]).suffix.lower()
            suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""
            target = workdir / f"m{counter[0]:04d}{suffix}"
            try:
                with open(target, "wb") as out:
                    read_member(zf, info, budget, sink=out)
            except LimitExceeded as exc:
                target.unlink(missing_ok=True)
                sub.problems.append(Problem(inner, str(exc)))
                if "总量" in str(exc):
                    return  # the submission's budget is spent; nothing more can be taken
                continue
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError) as exc:
                target.unlink(missing_ok=True)
                sub.problems.append(Problem(inner, f"文件已损坏或不完整（{exc}）"))
                continue
            take_file(sub, inner, target, workdir, budget, counter, depth)


def cleanup(workdir: Path) -> None:
    """Remove a work folder made by `open_submission`."""
    shutil.rmtree(workdir, ignore_errors=True)
