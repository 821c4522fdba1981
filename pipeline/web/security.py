"""What stands between the network and the workspace: who may connect, CSRF tokens, rates, uploads.

Uploaded files are written under names made here (the client's name is kept only as the path
inside a staging folder, cut into safe parts as zip members are); the library's own gate
(`receiving.inbox`: sniffing, sizes, bombs) then reads them exactly as `manyi parse` would.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.files import safe_filename
from pipeline.common.safety import MB
from pipeline.receiving.inbox import is_hidden, safe_parts

#: The web page's own bounds, beside the library's LIMITS (which still apply to every file).
WEB_LIMITS = {
    "upload_size": 2048 * MB,  # one request of 收件, all files together
    "upload_files": 5000,  # files in one request of 收件
    "roster_size": 20 * MB,
    "selfcheck_size": 30 * MB,  # one packet sent to 申报自检
    "selfcheck_files": 30,
    "selfcheck_per_hour": 20,  # 申报自检 runs per client address per hour
}


def is_loopback(host: str) -> bool:
    """Given the --host to bind (or a Host header's name), return whether it is this computer alone: localhost,
    or an address in 127.0.0.0/8 or ::1, in any spelling the system accepts (127.1, 0x7f.1, ::ffff:127.0.0.1).
    Names are never looked up: a name that resolves to 127.0.0.1 is how DNS rebinding starts."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:  # the system's own parse of a numeric address, as binding it would read it (127.1 = 127.0.0.1)
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return False
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    return bool(addresses) and all(a.is_loopback or getattr(a, "ipv4_mapped", None) and a.ipv4_mapped.is_loopback
                                   for a in addresses)


def local_host_header(value: str) -> bool:
    """Given a request's Host header, return whether it names this computer (no DNS rebinding)."""
    host = value.rsplit(":", 1)[0] if not value.endswith("]") else value
    if value.startswith("["):
        host = value[1:].split("]", 1)[0]
    return host in ("localhost", "127.0.0.1", "::1") or is_loopback(host)


def new_token() -> str:
    """Return a fresh unguessable token (CSRF, job and self-check ids)."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Given the token a form sent and the session's, return whether they match (constant time)."""
    return bool(given) and bool(expected) and hmac.compare_digest(given, expected)


class RateLimit:
    """At most `count` events per `seconds` for each key (a client address)."""

    def __init__(self, count: int, seconds: float = 3600):
        self.count, self.seconds = count, seconds
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Given a key, record one event and return True, or return False when its budget is spent."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] > self.seconds:
                events.popleft()
            if len(events) >= self.count:
                return False
            events.append(now)
            return True

    def spent(self, key: str, now: float | None = None) -> bool:
        """Given a key, return whether its budget is spent now (records nothing)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.get(key, ())
            return sum(1 for t in events if now - t <= self.seconds) >= self.count


class SignInLimit:
    """Failed sign-ins counted per name and per client address over a window: once either has spent its
    budget, every sign-in for it (even with the right password) is refused until the window moves on."""

    def __init__(self, per_name: int = 10, per_address: int = 30, seconds: float = 15 * 60):
        self.names = RateLimit(per_name, seconds)
        self.addresses = RateLimit(per_address, seconds)

    def blocked(self, name: str, address: str) -> bool:
        """Given a name and a client address, return whether a sign-in must be refused now."""
        return self.names.spent(name) or self.addresses.spent(address)

    def failed(self, name: str, address: str) -> None:
        """Given a failed sign-in's name and address, count it against both."""
        self.names.allow(name)
        self.addresses.allow(address)


@dataclass
class Saved:
    """Uploaded files written to a staging folder: the inbox entries there and the names refused."""

    folder: Path
    entries: list[Path]
    refused: list[str]
    size: int
    count: int = 0  # files written


class TooMuch(UserError):
    """An upload over the web page's size or count limit (answered 413); the message is Chinese."""


def upload_parts(filename: str) -> list[str]:
    """Given the name a browser sent (maybe 'folder/sub/a.docx', maybe '../../x'), return its safe path parts.

    Folders dropped or picked keep their relative path; anything that would climb out of the
    staging folder ('..', drives, absolute paths) is dropped, as for zip members.
    """
    parts = safe_parts(filename or "")
    if not parts or any(is_hidden(p) for p in parts):
        return []
    return [safe_filename(p) for p in parts]


def save_uploads(files, folder: Path, max_size: int, max_files: int) -> Saved:
    """Given werkzeug FileStorage objects and an empty staging folder, write them there; return the entries.

    The entries are what `manyi receive` is given: a file (or zip) sent alone is one submission, a
    folder sent (picked or dropped) is an inbox of submissions. Raises TooMuch over a limit.
    """
    files = [f for f in files if f and f.filename]
    if len(files) > max_files:
        raise TooMuch(f"一次最多上传 {max_files} 个文件，本次 {len(files)} 个；请分批上传。")
    folder.mkdir(parents=True, exist_ok=True)
    refused, size, tops = [], 0, {}
    for upload in files:
        parts = upload_parts(upload.filename)
        if not parts:
            refused.append(upload.filename)
            continue
        target = free_path(folder.joinpath(*parts))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a folder of the same name as a file sent before it
            refused.append(upload.filename)
            continue
        size += copy_limited(upload.stream, target, max_size - size)
        tops.setdefault(folder / target.relative_to(folder).parts[0], None)
    return Saved(folder, sorted(tops), refused, size, len(files) - len(refused))


def free_path(path: Path) -> Path:
    """Given a wanted path, return it, or 'name (2).ext' … when taken (two uploads of one name both stay)."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
    return candidate


def copy_limited(stream, target: Path, budget: int, chunk: int = MB) -> int:
    """Given an upload stream, copy it to `target`; return its size, or raise TooMuch past `budget` bytes."""
    written = 0
    with open(target, "xb") as out:  # never replace a file: names are unique in the staging folder
        while block := stream.read(chunk):
            written += len(block)
            if written > budget:
                raise TooMuch("上传的文件超过大小限制；请分批上传。")
            out.write(block)
    return written
