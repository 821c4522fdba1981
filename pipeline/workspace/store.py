"""The content-addressed store: every file received, kept once under its SHA-256, never changed or removed.

`store/ab/abcdef….bin` holds the bytes whose SHA-256 is `abcdef…`. A file is written to a
temporary name in the same folder and linked into place, so a half-written file never has a
hash name and a second writer of the same bytes simply finds it there. Files are not fsynced one
by one (a killed process loses nothing the kernel holds; 1000 fsyncs cost a third of a receive).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: Path) -> tuple[str, int]:
    """Given a file, return (SHA-256 hex, size in bytes)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def entry_digest(parts: list[tuple[str, str]]) -> str:
    """Given (name, SHA-256) of each file of an inbox entry, return the entry's SHA-256 (names and bytes, any order)."""
    digest = hashlib.sha256()
    for name, sha in sorted(parts):
        digest.update(name.encode("utf-8", errors="surrogatepass") + b"\0" + sha.encode() + b"\n")
    return digest.hexdigest()


class Store:
    """The store folder of a workspace."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        """Given a SHA-256, return where its bytes live."""
        return self.root / sha[:2] / f"{sha}.bin"

    def has(self, sha: str) -> bool:
        """Given a SHA-256, return whether the store holds those bytes."""
        return self.path(sha).is_file()

    def put(self, source: Path, sha: str) -> Path:
        """Given a file and its SHA-256, store its bytes (once) and return the stored path. An existing file is never touched."""
        target = self.path(sha)
        if target.is_file():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{sha}.{os.getpid()}.tmp"
        try:
            with open(source, "rb") as src, open(tmp, "wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, target)  # fails if another writer got there first: theirs are the same bytes
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
        return target

    def size(self) -> int:
        """Return the bytes the store holds."""
        return sum(p.stat().st_size for p in self.root.rglob("*.bin"))
