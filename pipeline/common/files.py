"""Writing outputs safely: atomic replacement, and file names made from company names."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import unicodedata
from pathlib import Path

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
MAX_NAME_BYTES = 200


def safe_filename(name: str, fallback: str = "未命名") -> str:
    """Given a company name (or any text), return a file name stem safe on Windows, macOS and Linux.

    Path separators, reserved characters and control characters become '_', white space is folded,
    trailing dots and spaces go, reserved Windows names get a '_' suffix, and the UTF-8 length is
    cut to about 200 bytes on a character boundary. Chinese is kept.
    """
    text = str(name or "").encode("utf-8", errors="replace").decode("utf-8")  # lone surrogates → '?'
    text = _UNSAFE.sub("_", unicodedata.normalize("NFC", text))
    text = re.sub(r"\s+", " ", text).strip().strip(".").strip()
    encoded = text.encode("utf-8")[:MAX_NAME_BYTES]
    text = encoded.decode("utf-8", errors="ignore").rstrip(". ")
    if not text or set(text) <= {"_", "."}:
        text = fallback
    stem, dot, rest = text.partition(".")
    if stem.upper().rstrip() in _WINDOWS_RESERVED:
        # Windows treats COM1.txt as the device COM1 too: the mark goes before the first dot.
        text = f"{stem}_{dot}{rest}"
    return text


def unique_names(stems: list[str]) -> list[str]:
    """Given file name stems in order, return them with ' (2)', ' (3)' … added so none repeats.

    Names are compared case-insensitively, as Windows and macOS file systems do.
    """
    seen: set[str] = set()
    result = []
    for stem in stems:
        candidate, n = stem, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem} ({n})"
        seen.add(candidate.lower())
        result.append(candidate)
    return result


_PART_IDS = itertools.count()


@contextlib.contextmanager
def atomic_path(target: Path, guard: bool = True):
    """Yield a temporary path beside `target`; on success it replaces `target` in one step.

    With `guard` (every output), a `target` that manyi did not write is never replaced (a Chinese
    UserError, `pipeline.common.outputs`) and the new file is listed as manyi's; only the project's
    own templates/ are rebuilt without it.
    An interrupted run leaves the previous file whole, never a half-written one. The temporary
    file is left for the writer to create, so it gets the umask's usual mode (outputs are shared
    documents), and its name is unique per process without a random-name search: a batch writes
    thousands of records.
    """
    from pipeline.common import outputs

    target = Path(target)
    if guard:
        outputs.check_writable([target])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = target.with_name(f".{target.stem[:40]}.{os.getpid()}-{next(_PART_IDS)}{target.suffix}.part")
    try:
        yield tmp_path
        os.replace(tmp_path, target)
        if guard:
            outputs.note_written(target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_text_atomic(target: Path, text: str) -> None:
    """Given a path and text, write the text there atomically as UTF-8."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def output_folder(path: Path) -> Path:
    """Given a folder to write into, create it (and its parents) and return it; a Chinese UserError if it cannot be."""
    from pipeline.common.errors import UserError

    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"无法创建输出目录 {path}：同名的文件已存在，请改名或换一个输出目录") from None
    except OSError as exc:
        raise UserError(f"无法创建输出目录 {path}：{exc}") from exc
    return path
