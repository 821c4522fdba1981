"""Limits and guarded primitives for reading files that strangers sent us.

Every bound the reading layer enforces is a key of `LIMITS`; code never hard-codes a bound.
Three guarded primitives live here: `parse_xml` (no entities, no DTD, no network),
`read_member` (a zip member read in chunks under running caps, declared sizes not trusted)
and `run_bounded` (a function run in a forked child under a time and memory bound).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import time
import zipfile
from dataclasses import dataclass, field

from lxml import etree

MB = 1024 * 1024

#: The one table of bounds. Tests and callers may pass a modified copy where a function takes `limits`.
LIMITS = {
    "file_size": 200 * MB,  # one file of a submission, as received
    "zip_members": 2000,  # members of one submission, nested zips included
    "zip_member_size": 200 * MB,  # one member once inflated
    "zip_total_size": 1024 * MB,  # all members of one submission once inflated
    "zip_ratio": 100,  # inflated / compressed, checked once a member passes zip_ratio_floor
    "zip_ratio_floor": 8 * MB,  # small members may compress well (XML), so only big ones are judged
    "zip_depth": 3,  # zips inside zips
    "ooxml_part_size": 100 * MB,  # one XML part of a docx/xlsx once inflated
    "ooxml_total_size": 500 * MB,  # all parts of a docx/xlsx once inflated (declared sizes)
    "xlsx_cells": 200_000,  # cells of one sheet inside its used range
    "pdf_pages": 300,
    # Memory bounds are address space a reading child may add to what it inherits: a few MB of
    # zipped XML within every size limit can still ask a parser for gigabytes.
    "pdf_seconds": 60.0,
    "pdf_memory": 768 * MB,
    "xlsx_seconds": 60.0,
    "xlsx_memory": 768 * MB,
    "xlsx_inline": 2 * MB,  # a workbook whose parts inflate to no more is read in the worker; larger ones in a bounded child
    "docx_inline_xml": 8 * MB,  # a main part this small is read in the worker; larger ones in a bounded child
    "docx_seconds": 60.0,
    "docx_memory": 768 * MB,
    "ocr_page_seconds": 30.0,  # a scanned page read by OCR: about 2 s on a quiet 2-core machine
    "ocr_memory": 1536 * MB,  # the recognition model and one page image at 200 dpi
    "soffice_batch": 200,  # files per soffice start
    "chunk": 1 * MB,  # read size when streaming members
}


class LimitExceeded(Exception):
    """A bound of `LIMITS` was hit; the message is the Chinese reason."""


# --- XML -----------------------------------------------------------------------------------------


def xml_parser() -> etree.XMLParser:
    """Return an lxml parser that resolves no entity, loads no DTD and touches no network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
        collect_ids=False,  # no ID lookups are made; collecting them costs a quarter of the parse
    )


def parse_xml(data: bytes) -> etree._Element:
    """Given XML bytes, return the root element; raise ValueError for entity declarations or bad XML.

    A DOCTYPE that declares entities is refused outright: Office never writes one, so it can
    only be an attack (billion laughs, XXE).
    """
    head = data[:4096] if len(data) > 4096 else data
    if b"<!DOCTYPE" in head or b"<!doctype" in head:
        # Entities can only be declared before the root element; look at the whole prolog.
        prolog_end = data.find(b"]>")
        prolog = data[: prolog_end + 2] if prolog_end >= 0 else head
        if b"<!ENTITY" in prolog:
            raise ValueError("XML 中含有实体声明（可能是恶意文件）")
    try:
        root = etree.fromstring(data, xml_parser())
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"XML 格式错误：{exc}") from exc
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and list(dtd.iterentities()):
        raise ValueError("XML 中含有实体声明（可能是恶意文件）")
    return root


# --- zip members ---------------------------------------------------------------------------------


@dataclass
class Budget:
    """Running totals of what one submission (or one document) has inflated so far."""

    limits: dict = field(default_factory=lambda: dict(LIMITS))
    members: int = 0
    total: int = 0

    def count_member(self) -> None:
        """Count one more member; raise LimitExceeded past `zip_members`."""
        self.members += 1
        if self.members > self.limits["zip_members"]:
            raise LimitExceeded(f"压缩包内文件过多（超过 {self.limits['zip_members']} 个）")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, sink=None,
                max_size: int | None = None) -> bytes | int:
    """Given a zip member, return its bytes (or, with `sink`, write them there and return the size).

    Reads in chunks and checks, as it goes, the member size, the submission total and the
    compression ratio against the *compressed size in the central directory* — the only size
    zipfile itself bounds reading by — so a bomb stops after a few megabytes, not at the end.
    """
    with zf.open(info) as stream:
        return copy_bounded(iter(lambda: stream.read(budget.limits["chunk"]), b""), info.compress_size, budget,
                            sink, max_size)


def copy_bounded(chunks, compressed: int, budget: Budget, sink=None, max_size: int | None = None) -> bytes | int:
    """Given a member's inflated chunks and its compressed size, return its bytes (or, with `sink`, write
    them there and return the size), checking as it goes the member size, the submission total and the
    ratio to `compressed`: any archive format's member is held to the limits of a zip member."""
    limits = budget.limits
    cap = min(max_size or limits["zip_member_size"], limits["zip_member_size"])
    ratio_cap = max(limits["zip_ratio_floor"], limits["zip_ratio"] * max(compressed, 1))
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        budget.total += len(chunk)
        if size > ratio_cap:
            raise LimitExceeded("压缩炸弹（压缩比异常）")
        if size > cap:
            raise LimitExceeded("文件过大")
        if budget.total > limits["zip_total_size"]:
            raise LimitExceeded("压缩炸弹（解压后总量过大）")
        if sink is None:
            parts.append(chunk)
        else:
            sink.write(chunk)
    return b"".join(parts) if sink is None else size


def check_declared(infos: list[zipfile.ZipInfo], limits: dict = LIMITS) -> str | None:
    """Given an OOXML package's members, return a Chinese reason when the declared sizes are a bomb.

    zipfile never inflates more than a member's declared size (it stops and fails the CRC),
    so declared sizes bound what openpyxl and our own readers can be made to inflate.
    """
    if len(infos) > limits["zip_members"]:
        return "压缩炸弹（文件内部条目过多）"
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > limits["ooxml_part_size"]:
            return "压缩炸弹（内部文件过大）"
        if info.file_size > limits["zip_ratio_floor"] and info.file_size > limits["zip_ratio"] * max(info.compress_size, 1):
            return "压缩炸弹（压缩比异常）"
    if total > limits["ooxml_total_size"]:
        return "压缩炸弹（解压后总量过大）"
    return None


# --- bounded child -------------------------------------------------------------------------------


class Timeout(Exception):
    """The bounded child ran out of time."""


class ChildFailed(Exception):
    """The bounded child died (out of memory, crash) or raised; the message says which."""


def run_bounded(fn, *args, seconds: float, memory: int | None = None):
    """Given a picklable-result function, return fn(*args) computed in a forked child.

    The child may grow its address space by `memory` bytes over what it inherited (RLIMIT_AS)
    and is killed after `seconds`; its exception is re-raised here (or, if it cannot be pickled,
    becomes ChildFailed(str)); a timeout raises Timeout. Where fork is unavailable, fn runs in-process.
    """
    if not hasattr(os, "fork"):
        return fn(*args)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        status = 0
        try:
            os.close(read_fd)
            if memory:
                import resource

                limit = address_space() + memory
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            try:
                payload = pickle.dumps(("ok", fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                payload = pickle.dumps(("error", "内存不足"))
            except BaseException as exc:  # noqa: BLE001 - everything must reach the parent
                try:  # the exception itself when it pickles (a reader's Unreadable), else its text
                    payload = pickle.dumps(("raise", exc))
                    pickle.loads(payload)
                except Exception:  # noqa: BLE001
                    payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            with os.fdopen(write_fd, "wb") as out:
                out.write(payload)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    done = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                raise Timeout()
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                done = True
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        _reap(pid, kill=not done)
    if not chunks:
        raise ChildFailed("子进程异常退出（可能内存不足）")
    try:
        status, value = pickle.loads(b"".join(chunks))
    except Exception as exc:  # noqa: BLE001 - a truncated pickle means the child died mid-write
        raise ChildFailed("子进程异常退出") from exc
    if status == "raise":
        raise value
    if status == "error":
        raise ChildFailed(value)
    return value


def address_space() -> int:
    """Return this process's virtual memory size in bytes (0 where /proc is unavailable)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _reap(pid: int, kill: bool) -> None:
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
