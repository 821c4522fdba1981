"""One process at a time: an exclusive lock on an open file, on POSIX (flock) and on Windows (msvcrt).

Windows locks a byte range from the file's position and makes a locked range unreadable to
others, so the lock is taken on one byte far past the text the file holds (who holds it): a
waiting process can still read that text to say who it waits for.
"""

from __future__ import annotations

import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

#: Where the Windows lock byte lies: past any text the lock file holds.
OFFSET = 1 << 30
#: How often a waiting Windows process tries again (msvcrt has no blocking lock without a time limit).
RETRY = 0.2


def lock(handle, wait: bool = True) -> None:
    """Given an open file, lock it exclusively; wait for it, or raise BlockingIOError when held and wait=False."""
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        return
    while True:
        position = handle.tell()
        handle.seek(OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return
        except OSError:
            if not wait:
                raise BlockingIOError("locked") from None
            time.sleep(RETRY)
        finally:
            handle.seek(position)


def unlock(handle) -> None:
    """Given a file locked by `lock`, release it."""
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        return
    position = handle.tell()
    handle.seek(OFFSET)
    try:
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    finally:
        handle.seek(position)


# --- locks a shared database holds: PostgreSQL's advisory locks -------------------------------------------

def advisory_key(name: str) -> int:
    """Given a lock's name, return the signed 64-bit key PostgreSQL's advisory locks take (stable across
    processes and machines, unlike hash())."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


class DatabaseLock:
    """An exclusive lock held by a connection of its own to a PostgreSQL database (a session advisory lock):
    every process and machine on that database sees it, and it ends when its holder's connection does, so a
    killed holder never leaves it behind."""

    def __init__(self, url: str, name: str):
        import sqlalchemy as sa

        # Its own engine without a pool: the workspace's engine is disposed before parse workers fork, and
        # this connection must stay open exactly as long as the lock is held.
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.key = advisory_key(name)
        self.conn = None

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock (waiting for it, or returning False at once when held and wait=False)."""
        import sqlalchemy as sa

        self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if wait:
            self.conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            return True
        if self.conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar_one():
            return True
        self.release()
        return False

    def release(self) -> None:
        """Give the lock back (closing the connection ends it in any case)."""
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None
                self.engine.dispose()

    def held_by_someone(self) -> bool:
        """Return whether some connection holds the lock now (taking it for a moment when nobody does)."""
        if not self.acquire(wait=False):
            return True
        self.release()
        return False


class FileMark:
    """The same idea on one computer: an exclusive lock on a file, held for a process's life and gone with it."""

    def __init__(self, path):
        self.path = path
        self.handle = None

    def acquire(self, wait: bool = True) -> bool:
        self.handle = open(self.path, "a+")
        try:
            lock(self.handle, wait)
            return True
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            return False

    def release(self) -> None:
        if self.handle is not None:
            try:
                unlock(self.handle)
            finally:
                self.handle.close()
                self.handle = None

    def held_by_someone(self) -> bool:
        if not self.acquire(wait=False):
            return True
        self.release()
        return False
