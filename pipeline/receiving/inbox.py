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
from pipeline.common.safety import LIMITS, Budget, LimitExceeded, copy_bounded
from pipeline.common.sniff import BROKEN, ENCRYPTED, sniff


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


#: Names a file of a submission may carry: documents, scans, archives. A file of another name that holds plain
#: text or a web page (readme.txt, 说明.htm) is not a submission; a broken 申请表.docx still is one.
SUBMISSION_SUFFIXES = frozenset({".docx", ".doc", ".docm", ".dotx", ".wps", ".xlsx", ".xls", ".xlsm", ".xlsb", ".et",
                                 ".odt", ".ods", ".rtf", ".pdf", ".zip", ".rar", ".7z", ".jpg", ".jpeg", ".png",
                                 ".tif", ".tiff", ".bmp", ".gif"})
#: Names of notes and links that travel with submissions (an empty readme.txt too): never a submission.
NOTE_SUFFIXES = frozenset({".txt", ".md", ".log", ".ini", ".url", ".htm", ".html", ".json", ".xml"})
NOT_A_FILE = "不是申报材料（{what}），未作为申报处理"
OUT_FOLDER = "是 manyi 写出的结果文件夹，不是申报材料，未作为申报处理；结果文件夹请放在收件箱之外"


def submission_file(path: Path) -> bool:
    """Given a file, return whether it may be (part of) a submission: a document, scan or archive by its name,
    or anything whose bytes are not plain text or a web page."""
    suffix = path.suffix.lower()
    if suffix in SUBMISSION_SUFFIXES:
        return True
    return suffix not in NOTE_SUFFIXES and sniff(path).kind not in ("text", "html")


def is_parse_output(folder: Path) -> bool:
    """Given a folder, return whether `manyi parse` wrote it (its run marks, or records it wrote), not an applicant.
    (A packet folder manyi generated carries a list of the files manyi wrote too, so that alone says nothing.)"""
    return any((folder / name).exists() for name in (".manyi-origins", ".manyi-run", "records/.manyi-files"))


def stray_reason(path: Path) -> str | None:
    """Given an inbox's top-level file or folder, return why it is nobody's submission (a readme.txt, a folder of
    notes only, a manyi output folder), or None when it is one. Empty folders and links stay submissions: their
    own record says what is wrong."""
    if path.is_symlink():
        return None
    if path.is_dir():
        if is_parse_output(path):
            return OUT_FOLDER
        files = folder_files(path)
        if files and not any(submission_file(f) for f in files):
            return NOT_A_FILE.format(what="文件夹中只有说明文字等其他文件")
        return None
    if path.is_file() and not submission_file(path):
        return NOT_A_FILE.format(what="文本或其他非申报文件")
    return None


def strays(paths: list[Path]) -> list[tuple[str, str]]:
    """Given the PATHs of `manyi parse`, return (name, reason) for each top-level entry of an inbox folder that
    is not a submission (for staff; `entries` leaves them out)."""
    out = []
    for raw in paths:
        path = Path(raw)
        path = path.resolve() if path.is_symlink() else path
        if path.is_dir() and not is_parse_output(path):
            for child in sorted(path.iterdir()):
                reason = None if is_hidden(child.name) else stray_reason(child)
                if reason:
                    out.append((readable(child.name), reason))
    return out


def entries(paths: list[Path]) -> list[Entry]:
    """Given the PATHs of `manyi parse`, return one Entry per submission, sorted by source.

    What is nobody's submission (`stray_reason`: a readme.txt, manyi's own output folder) is left out;
    `strays` names it for staff.

    A folder is an inbox whose top-level entries are submissions; a file or zip is one. A symbolic
    link is listed (its record says it was not followed), never resolved. The same file given twice counts once; two different entries whose names read the same (two
    PATHs each holding 华光公司) both stay, the second as '华光公司 (2)'.
    """
    found: dict[str, Path] = {}
    seen: set[Path] = set()

    def add(path: Path) -> None:
        real = path.absolute() if path.is_symlink() else path.resolve()
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
        path = path.resolve() if path.is_symlink() else path  # a PATH given by hand is followed; links inside are not
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if is_hidden(child.name) or stray_reason(child):
                    continue
                add(child)
        else:
            add(path)
    return [Entry(submission_id(source), source, found[source]) for source in sorted(found)]


SYMLINK = "是符号链接（快捷方式），出于安全未跟随读取；请把文件本身（而不是链接）放入收件箱"
EMPTY_FOLDER = "是空文件夹，里面没有任何文件；请确认申报材料已放入该文件夹"
EMPTY_ARCHIVE = "是空压缩包，里面没有任何文件；请重新压缩申报材料后发送"


def entry_problem(entry: Entry) -> str | None:
    """Given an entry, return why it cannot be opened at all (a symbolic link, an empty folder), or None."""
    if entry.path.is_symlink():
        return SYMLINK
    if entry.path.is_dir() and not folder_files(entry.path):
        return EMPTY_FOLDER
    return None


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


#: Archive kinds (from `sniff`) whose members become the submission's files.
ARCHIVES = ("zip", "rar", "7z")


def take_file(sub: Submission, name: str, path: Path, workdir: Path, budget: Budget,
              counter: list[int], depth: int, top: bool = False) -> None:
    """Sniff one file and add it to the submission as a file, a problem, or (archive) its members.

    Members of an archive are named inside it ('inner.zip/表1.docx'), except for the members of an
    archive that is itself the submission.
    """
    found = sniff(path, budget.limits)
    if found.problem:
        sub.problems.append(Problem(name, found.problem))
    elif found.kind in ARCHIVES:
        if depth >= budget.limits["zip_depth"]:
            sub.problems.append(Problem(name, "压缩包嵌套层数过多，请解压后直接发送其中的文件"))
        elif found.kind == "zip":
            unpack(sub, name, path, workdir, budget, counter, depth + 1, "" if top else name + "/")
        else:
            unpack_libarchive(sub, name, path, found.kind, workdir, budget, counter, depth + 1,
                              "" if top else name + "/")
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


def member_target(workdir: Path, counter: list[int], parts: list[str]) -> Path:
    """Given a member's path parts, return the generated path its bytes are copied to (m0001.docx …)."""
    counter[0] += 1
    suffix = Path(parts[-1]).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""
    return workdir / f"m{counter[0]:04d}{suffix}"


def place(sub: Submission, archive: str, inner: str, chunks, compressed: int, workdir: Path, budget: Budget,
          counter: list[int], parts: list[str]) -> Path | None | bool:
    """Copy one member's chunks under the limits; return its path, None when refused, False when the
    submission's budget is spent (nothing more can be taken)."""
    target = member_target(workdir, counter, parts)
    try:
        with open(target, "wb") as out:
            copy_bounded(chunks, compressed, budget, sink=out)
    except LimitExceeded as exc:
        target.unlink(missing_ok=True)
        sub.problems.append(Problem(inner, str(exc)))
        return False if "总量" in str(exc) else None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError):
        target.unlink(missing_ok=True)
        sub.problems.append(Problem(inner, BROKEN))
        return None
    return target


def unpack(sub: Submission, name: str, path: Path, workdir: Path, budget: Budget,
           counter: list[int], depth: int, prefix: str) -> None:
    """Copy the members of the zip `path` (named `name` in the submission) into `workdir` and take each."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        sub.problems.append(Problem(name, BROKEN))
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
                sub.problems.append(Problem(inner, ENCRYPTED))
                continue
            try:
                stream = zf.open(info)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError):
                sub.problems.append(Problem(inner, BROKEN))
                continue
            with stream:
                chunks = iter(lambda: stream.read(budget.limits["chunk"]), b"")
                target = place(sub, name, inner, chunks, info.compress_size, workdir, budget, counter, parts)
            if target is False:
                return
            if target is not None:
                take_file(sub, inner, target, workdir, budget, counter, depth)


def libarchive_name(raw) -> str:
    """Given a member name as libarchive gave it (text, or bytes it could not decode), return it as text.

    RAR and 7-Zip store Unicode names; an old RAR made on Chinese Windows stores GBK bytes.
    """
    if isinstance(raw, bytes):
        return decode_name(raw) or raw.decode("utf-8", errors="replace")
    return raw or ""


def archive_format(path: Path, kind: str) -> str:
    """Given a .rar or .7z and its sniffed kind, return libarchive's name of its format (rar, rar5, 7zip).

    Named, not guessed: libarchive's guess would read a stored .docx inside a RAR as the zip it is.
    """
    if kind == "7z":
        return "7zip"
    with open(path, "rb") as handle:
        return "rar5" if handle.read(8) == b"Rar!\x1a\x07\x01\x00" else "rar"


def unpack_libarchive(sub: Submission, name: str, path: Path, kind: str, workdir: Path, budget: Budget,
                      counter: list[int], depth: int, prefix: str) -> None:
    """Copy the members of a .rar or .7z (libarchive) into `workdir` and take each, under the zip limits.

    These formats keep no compressed size per member that libarchive reports, so each member's
    ratio is judged against the size of the whole archive.
    """
    try:
        import libarchive
        from libarchive.exception import ArchiveError
    except ImportError:  # pragma: no cover - libarchive-c is a dependency; libarchive13 a system package
        sub.problems.append(Problem(name, "本机缺少 libarchive，无法解压 RAR/7z 压缩包；请改用 .zip 压缩后发送"))
        return
    workdir.mkdir(parents=True, exist_ok=True)
    compressed = path.stat().st_size
    taken: list[tuple[str, Path]] = []
    try:
        with libarchive.file_reader(str(path), format_name=archive_format(path, kind)) as archive:
            for entry in archive:
                parts = safe_parts(libarchive_name(entry.pathname))
                if not entry.isfile or not parts or any(is_hidden(part) for part in parts):
                    continue
                inner = prefix + "/".join(parts)
                try:
                    budget.count_member()
                except LimitExceeded as exc:
                    sub.problems.append(Problem(name, str(exc)))
                    break
                try:
                    target = place(sub, name, inner, entry.get_blocks(budget.limits["chunk"]), compressed,
                                   workdir, budget, counter, parts)
                except ArchiveError as exc:
                    encrypted = any(w in str(exc).lower() for w in ("passphrase", "encrypt", "password"))
                    sub.problems.append(Problem(inner, ENCRYPTED if encrypted else BROKEN))
                    if encrypted:
                        continue
                    break  # a damaged solid archive cannot go on past a broken member
                if target is False:
                    break
                if target is not None:
                    taken.append((inner, target))
    except ArchiveError as exc:
        message = str(exc).lower()
        if any(w in message for w in ("passphrase", "encrypt", "password")):
            sub.problems.append(Problem(name, ENCRYPTED))
        elif not taken:
            sub.problems.append(Problem(name, f"{BROKEN}（也可能是本程序无法解压的 RAR/7z 变体，可改用 .zip 压缩）"))
        else:
            sub.problems.append(Problem(name, f"压缩包后半部分已损坏，只取出了前 {len(taken)} 个文件；请重新压缩后发送"))
    for inner, target in taken:
        take_file(sub, inner, target, workdir, budget, counter, depth)


def cleanup(workdir: Path) -> None:
    """Remove a work folder made by `open_submission`."""
    shutil.rmtree(workdir, ignore_errors=True)
