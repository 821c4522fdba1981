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
