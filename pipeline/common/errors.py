"""The one exception a user ever sees: a plain Chinese message, no traceback; and file-system errors said in Chinese."""

import os
from pathlib import Path


class UserError(Exception):
    """A problem with the user's input or set-up, explained in Chinese."""


def shown_path(name) -> str:
    """Given a file name from an OSError, return the path staff know: a temporary file manyi was writing
    (.名称.123-4.docx.part) is shown as its folder."""
    path = Path(os.fsdecode(name))
    return str(path.parent) if path.name.startswith(".") and path.name.endswith(".part") else str(path)


def os_error_message(exc: OSError) -> str | None:
    """Given an OSError about a path given on the command line (or under it), return a Chinese message of what
    to do, or None for one that is not about the user's paths (then it is a bug of ours)."""
    if exc.filename is None:
        return None
    where = shown_path(exc.filename)
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        return f"“{where}”（或其上一级）是一个文件，不是文件夹：请给出一个文件夹（如 --out 新文件夹）"
    if isinstance(exc, IsADirectoryError):
        return f"“{where}”是一个文件夹，这里需要一个文件名"
    if isinstance(exc, PermissionError):
        return f"没有权限写入或读取“{where}”：请换一个有写入权限的文件夹，或请管理员修改其权限"
    if isinstance(exc, FileNotFoundError):
        return f"找不到“{where}”：请检查路径是否正确"
    if exc.errno == 28:  # ENOSPC
        return f"磁盘空间不足，无法写入“{where}”：请腾出空间后重试"
    return None


def os_reason(exc: OSError) -> str:
    """Given any OSError, return what went wrong in Chinese: `os_error_message`'s words, else the error's number
    (the system's own text, exc.strerror, is English)."""
    return os_error_message(exc) or f"系统拒绝了这次读写（错误号 {exc.errno or '未知'}）"
