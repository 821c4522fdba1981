"""`manyi parse`: an inbox in, one JSON record per submission and summary.xlsx out.

inbox entries → their files in one work folder → submissions parsed in a pool of `jobs`
processes as soon as they are opened, each record checked by the rules and written by its worker
→ (those holding a .doc/.xls wait for ONE LibreOffice batch per target, after the last entry is
opened) → batch rules (duplicates, lateness) → the records they touched rewritten → summary.xlsx.

Only the small records stay in memory; documents live inside one worker for one submission.
Records are keyed by inbox entry: those of other entries already in `out` (an earlier inbox) stay
and summary.xlsx lists them too, with the inbox and run each came from; `replace` removes them.
The out folder is locked for the run and marked while it is under way (`pipeline.common.outputs`).
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from json.encoder import c_make_encoder, encode_basestring
from pathlib import Path

from pipeline.checking.rules import check_batch, check_record
from pipeline.common import office, outputs
from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path
from pipeline.definitions.campaign import load_campaign
from pipeline.definitions.forms import load_forms
from pipeline.definitions.programs import program_of
from pipeline.definitions.vocabulary import Severity, Status, status_of
from pipeline.reading.extract import prepare
from pipeline.reading.submission import error_record, submission_records
from pipeline.receiving import inbox

#: Formats converted by LibreOffice before reading, to the format their reader takes: old Office and
#: WPS (.doc/.xls/.wps/.et, RTF), OpenDocument (.odt/.ott/.ods) and binary Excel (.xlsb).
CONVERT = {"doc": "docx", "odt": "docx", "xls": "xlsx", "ods": "xlsx", "xlsb": "xlsx"}
#: Entries handed to a worker at a time, at most.
HANDFUL = 8
WORK = ".work"


@dataclass
class ParseResult:
    """What a parse run wrote: the records (sorted by source), where, and the counts staff read."""

    out: Path
    records: list[dict] = field(default_factory=list)
    summary: Path | None = None
    others: int = 0  # records of other entries kept in the folder (earlier inboxes), in summary.xlsx too
    removed: int = 0  # records of other entries removed (--replace)
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> int:
        return sum(r["status"] == Status.COMPLETE for r in self.records)

    @property
    def incomplete(self) -> int:
        return len(self.records) - self.complete

    def count(self, severity: str) -> int:
        """Given 'error' or 'warning', return how many issues of that severity the run found."""
        return sum(i.get("severity") == severity for r in self.records for i in r["issues"])

    def batches(self) -> dict[str, int]:
        """Return each batch entry (an archive or folder of several companies) → how many submissions it gave."""
        out: dict[str, int] = {}
        for record in self.records:
            if record.get("batch"):
                out[record["batch"]] = out.get(record["batch"], 0) + 1
        return out

    def line(self) -> str:
        """Return the one Chinese line printed at the end of a run."""
        batches = self.batches()
        split = "".join(f"“{name}”含 {n} 家企业的申报材料，已拆分为 {n} 份；" for name, n in sorted(batches.items()))
        return (f"共解析 {len(self.records)} 份申报：{split}{Status.COMPLETE.label} {self.complete} 份，"
                f"{Status.INCOMPLETE.label} {self.incomplete} 份；{Severity.ERROR.label} {self.count(Severity.ERROR)} 条，"
                f"{Severity.WARNING.label} {self.count(Severity.WARNING)} 条。"
                + (f"文件夹中另有其他收件箱的 {self.others} 份记录，一并列入汇总表。" if self.others else "")
                + (f"已删除不在本次收件箱中的 {self.removed} 份旧记录。" if self.removed else "")
                + f"记录在 {self.out / 'records'}，汇总表 {self.summary}")


# --- opening and converting ----------------------------------------------------------------------


def open_entry(entry, work: Path) -> tuple:
    """Given an entry and its own work folder, return (entry, files, problems), zips unpacked there."""
    problem = inbox.entry_problem(entry)
    if problem:
        return entry, None, problem
    try:
        sub = inbox.open_submission(entry, work)
    except Exception:  # noqa: BLE001 - a broken entry becomes its own error record
        return entry, None, "无法打开，可能已损坏；请检查后重新发送"
    if not sub.files and not sub.problems and entry.path.is_file():
        return entry, None, inbox.EMPTY_ARCHIVE
    return entry, sub.files, sub.problems


def needs_conversion(opened: tuple) -> bool:
    """Given an opened submission, return whether it holds a .doc or .xls to convert first."""
    return any(f.kind in CONVERT for f in opened[1] or ())


def convert_old_formats(opened: list[tuple], work: Path) -> list[tuple]:
    """Given opened submissions, return them with every file of a kind in CONVERT replaced by its conversion.

    One `office.convert` call per target for all of them; a file that does not convert
    becomes a problem of its submission.
    """
    for target in dict.fromkeys(CONVERT.values()):
        paths = [f.path for _, files, _ in opened if files for f in files if CONVERT.get(f.kind) == target]
        if not paths:
            continue
        try:
            done = office.convert(paths, target, work / f"converted-{target}")
        except Exception as exc:  # noqa: BLE001 - no LibreOffice: those files are reported, the rest parsed
            reason = exc.args[0] if isinstance(exc, UserError) and exc.args else office.MISSING_ZH
            done = {p: str(reason) for p in paths}
        for _, files, problems in opened:
            if not files:
                continue
            for f in [f for f in files if CONVERT.get(f.kind) == target]:
                result = done.get(f.path, office.FAILED_ZH)
                if isinstance(result, Path):
                    f.path, f.kind = result, target
                else:
                    files.remove(f)
                    problems.append(inbox.Problem(f.name, office.conversion_problem(result)))
    return opened


def opened_submissions(entries: list, work: Path):
    """Given the entries, yield each opened submission, ready to parse.

    Plain ones come as soon as they are opened, so workers start at once; those holding a
    .doc/.xls wait for the one LibreOffice batch that converts them all, after the last entry.
    """
    waiting = []
    for n, entry in enumerate(entries):
        opened = open_entry(entry, work / f"e{n:05d}")
        if needs_conversion(opened):
            waiting.append(opened)
        else:
            yield opened
    yield from convert_old_formats(waiting, work)


# --- one submission (runs in a worker) -----------------------------------------------------------


def parse_one(entry, files, problems, campaign, records_dir: Path) -> list[dict]:
    """Given an opened submission, return its checked records, written to `records_dir`: one, or one
    per company of a batch (`submission_records`).

    Any failure becomes an error record. Workers write their own records, so the main process
    stays free to hand out work.
    """
    try:
        if files is None:
            records = [error_record(entry, f"申报材料“{entry.source}”{problems}")]
        else:
            records = submission_records(entry, files, problems, campaign_forms(campaign))
            for record in records:
                record["issues"].extend(check_record(record, campaign))
                record["status"] = status_of(record["issues"])
    except Exception:  # noqa: BLE001 - never crash the run, never drop the entry
        records = [error_record(entry, f"申报材料“{entry.source}”解析时出错，请人工检查")]
    for record in records:
        write_record(records_dir, record)
    return records


def record_json(value, depth: int = 0) -> str:
    """Given a record, return its JSON: one line per key, form, issue and respondent.

    json.dumps(indent=…) runs the pure-Python encoder (5 ms for a 200-respondent record); the
    C encoder writes each leaf compactly and only the outer levels are laid out here.
    """
    pad = "  " * (depth + 1)
    if isinstance(value, dict) and value and depth < 2:
        items = (f"{pad}{_leaf_json(k)}: {record_json(v, depth + 1)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + "  " * depth + "}"
    if isinstance(value, list) and value and depth < 3 and all(isinstance(v, dict) for v in value):
        return "[\n" + ",\n".join(pad + _leaf_json(v) for v in value) + "\n" + "  " * depth + "]"
    return _leaf_json(value)


def _not_json(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def compact_json(value) -> str:
    """Given a JSON value, return it as json.dumps(value, ensure_ascii=False) would."""
    return "".join(_ENCODE(value, 0))


# json.dumps builds its C encoder anew at every call, which costs as much as encoding a small
# leaf, and a record has a hundred of them; the C encoder is built once here (as
# JSONEncoder.iterencode builds it) when this Python has one.
if c_make_encoder is not None:
    _ENCODE = c_make_encoder(None, _not_json, encode_basestring, None, ": ", ", ", False, False, True)
    _leaf_json = compact_json
else:  # pragma: no cover - CPython always has it
    _leaf_json = json.JSONEncoder(ensure_ascii=False).encode


def write_record(records_dir: Path, record: dict) -> None:
    """Given the records folder and a record, write records/<submission_id>.json atomically.

    A record that is already there as it is now (a re-run after corrections came in for others)
    is left alone: replacing a file makes the file system flush it, which costs more than reading.
    """
    path = records_dir / f"{record['submission_id']}.json"
    data = (record_json(record) + "\n").encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass  # not there yet
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def campaign_forms(campaign) -> dict:
    """Given a campaign, return the forms of its program (黑龙江: the seed's forms/*.yaml; the others: generated)."""
    return program_of(campaign).forms


#: Linux prctl option: the signal a process gets when the thread that started it ends (<linux/prctl.h>).
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Given the id of the process that started this worker, make this worker end when that process ends.

    A worker left behind by a killed parent (kill -9, a crash) would keep the parent's listening socket
    and workspace lock, and wait forever for work. On Linux the kernel sends SIGKILL to the worker when
    its parent dies (prctl PR_SET_PDEATHSIG); a parent that died before the call was made is caught by
    the check after it. Elsewhere this does nothing (Windows and macOS import and run as before).
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # not permitted here (an unusual sandbox): workers then live as they did before
    if os.getppid() != parent:
        os._exit(1)


def _pool_init(parent: int | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    prepare(load_forms())  # a no-op after fork; needed where workers are spawned


def parse_several(opened: list[tuple], campaign, records_dir: Path) -> list[list[dict]]:
    """Given opened submissions, return each one's records, written (one pool task: a handful of entries)."""
    return [parse_one(entry, files, problems, campaign, records_dir) for entry, files, problems in opened]


def handfuls(items, size: int):
    """Given an iterable and a size, yield lists of up to `size` items, in order."""
    it = iter(items)
    while handful := list(itertools.islice(it, size)):
        yield handful


class InOrder:
    """Records arriving in any order, passed on to `sink` in the order of their entries' sources.

    Workers finish in their own order, and entries holding a .doc/.xls come last of all; each
    record waits here only until those before it have arrived. An entry's records (several for
    a batch, each with `batch` naming the entry) arrive together, as one list.
    """

    def __init__(self, sources: list[str], sink):
        self.sources, self.sink = sources, sink
        self.next = 0  # index in `sources` of the next entry to pass on
        self.waiting: dict[str, list[dict]] = {}

    def __call__(self, records: dict | list[dict]) -> None:
        records = [records] if isinstance(records, dict) else records
        self.waiting[records[0].get("batch") or records[0]["source"]] = records
        while self.next < len(self.sources) and self.sources[self.next] in self.waiting:
            for record in self.waiting.pop(self.sources[self.next]):
                self.sink(record)
            self.next += 1


def parse_all(entries: list, campaign, jobs: int, records_dir: Path, work: Path, progress=None,
              arrived=None, entry_done=None) -> list[dict]:
    """Given the entries, return their records (sorted by source), each written as it completes.

    Entries are opened in this process (zips unpacked under `work`) and parsed in a pool of
    `jobs` processes while the next ones are opened, a handful per task: one task per entry
    cost the pool as much as a tenth of the parsing. Small inboxes go one entry per task, so
    every worker gets its share. `arrived(record)` is called for each record as it comes in, and
    `entry_done(records)` with each entry's records (several for a batch), together.
    """
    total = len(entries)
    records = []
    count = [0]

    def done(found: list[dict]) -> None:
        records.extend(found)
        count[0] += 1
        for record in found if arrived else ():
            arrived(record)
        if entry_done:
            entry_done(found)
        if progress:
            progress(count[0], total)

    if jobs <= 1 or total <= 1:
        for entry, files, problems in opened_submissions(entries, work):
            done(parse_one(entry, files, problems, campaign, records_dir))
        return sorted(records, key=lambda r: r["source"])
    size = max(1, min(HANDFUL, total // (jobs * HANDFUL)))
    # Forked workers are this process's children: they die with it (under another start method their
    # parent is the fork server, which itself ends with this process).
    forked = multiprocessing.get_start_method() == "fork"
    with ProcessPoolExecutor(max_workers=jobs, initializer=_pool_init,
                             initargs=(os.getpid() if forked else None,)) as pool:
        futures = {pool.submit(parse_several, handful, campaign, records_dir): handful
                   for handful in handfuls(opened_submissions(entries, work), size)}
        for future in as_completed(futures):
            try:
                found = future.result()
            except Exception:  # noqa: BLE001 - a worker that died (killed, out of memory) breaks the
                # pool: what it had not finished becomes error records to check by hand; the run goes on
                found = [[error_record(entry, f"申报材料“{entry.source}”解析时出错（处理进程意外退出），请人工检查")]
                         for entry, _, _ in futures[future]]
                for (record,) in found:
                    write_record(records_dir, record)
            for entry_records in found:
                done(entry_records)
    return sorted(records, key=lambda r: r["source"])


# --- the batch -----------------------------------------------------------------------------------


def apply_batch_rules(records: list[dict], campaign, received: date | None) -> list[dict]:
    """Given all records, add the cross-submission issues; return the records that changed."""
    extra = check_batch(records, campaign, received)
    changed = []
    for record in records:
        issues = extra.get(record["submission_id"]) or []
        if issues:
            record["issues"].extend(issues)
            record["status"] = status_of(record["issues"])
            changed.append(record)
    return changed


def terminal_progress(label: str = "解析申报材料"):
    """Return (progress callback, finish): a click progress bar on stderr when it is a terminal, else (None, no-op)."""
    import sys

    import click

    if not sys.stderr.isatty():
        return None, lambda: None
    state = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["bar"].pos)

    def finish() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return progress, finish


def remove_stale(records_dir: Path, keep: set[str]) -> tuple[int, list[str]]:
    """Given the records folder and this run's ids, remove manyi's records of other entries; return (removed, kept foreign names)."""
    removed, foreign = 0, []
    for path in sorted(records_dir.glob("*.json")):
        if path.stem not in keep:
            if outputs.remove_own(path):
                removed += 1
            elif path.exists():
                foreign.append(path.name)
    return removed, foreign


def other_records(records_dir: Path, this_run: set[str]) -> list[dict]:
    """Given the records folder and this run's ids, return the records there of other entries (earlier inboxes)."""
    from pipeline.common.records import read_record

    found = []
    for path in sorted(records_dir.glob("*.json")):
        if path.stem not in this_run:
            try:
                found.append(read_record(path))
            except ValueError:
                continue  # not a record: left alone, and not in the summary
    return found


def inbox_of(entry, paths: list[Path]) -> str:
    """Given an entry and the PATHs given, return the PATH it was found in, as given."""
    for path in paths:
        if entry.path == path or entry.path.parent == path:
            return str(path)
    return str(entry.path.parent)


def parse_inbox(paths: list[Path], out: Path, campaign, received: date | None = None,
                jobs: int | None = None, progress=None, replace: bool = False, wait: bool = False,
                echo=None) -> ParseResult:
    """Given inbox PATHs and an output folder, parse every submission; return what was written.

    `progress(done, total)` is called as records complete. Output is the same for any `jobs`.
    Records of other entries already in `out` stay and are in summary.xlsx too; `replace` removes
    them. One run at a time holds `out` (`wait` for it, else a UserError naming the holder).
    """
    out, paths = Path(out), [Path(p) for p in paths]
    skipped = [f"{name} {reason}" for name, reason in inbox.strays(paths)]
    if not inbox.entries(paths):  # said before anything is created, the out folder included
        shown = "、".join(str(p) for p in paths)
        raise UserError(f"收件箱 {shown} 中没有任何申报材料（没有文件或文件夹），未解析任何内容；请确认路径是否正确"
                        + "".join(f"\n  {line}" for line in skipped))
    with outputs.locked(out, "manyi parse " + " ".join(map(str, paths)), wait=wait, echo=echo) as notes:
        result = _parse_locked(paths, out, campaign, received, jobs, progress, replace)
    result.notes[:0] = notes + skipped
    return result


def entry_key(record: dict) -> str:
    """Given a record, return the source of the inbox entry it came from (the batch entry for one of several companies)."""
    return record.get("batch") or record["source"]


def _parse_locked(paths: list[Path], out: Path, campaign, received, jobs, progress, replace) -> ParseResult:
    from pipeline.issuing.workbook import Summary

    entries = inbox.entries(paths)
    records_dir = out / "records"
    records_dir.mkdir(parents=True, exist_ok=True)
    ids, sources = {e.submission_id for e in entries}, {e.source for e in entries}
    # Refused before anything is written: a record or summary.xlsx manyi did not write (or that was edited).
    outputs.check_writable([records_dir / f"{sid}.json" for sid in sorted(ids)] + [out / "summary.xlsx"])
    earlier = [] if replace else other_records(records_dir, ids)
    others = [r for r in earlier if entry_key(r) not in sources]  # records of entries this run does not redo
    work = out / WORK
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()  # zips unpack and old formats convert in here; present while a run is under way
    prepare(campaign_forms(campaign))  # forms parsed, label keys derived once here, inherited by forked workers
    # The 被访者 sheet of summary.xlsx is laid out while the workers parse, not after them.
    origins = outputs.origins(out)
    summary = Summary(out / "summary.xlsx", campaign, origins)
    kept: dict[str, list[dict]] = {}
    for record in others:
        kept.setdefault(entry_key(record), []).append(record)
    relay = InOrder(sorted(sources | set(kept)), summary.add)
    for group in kept.values():
        relay(group)
    mark = outputs.start_run(out, "manyi parse " + " ".join(map(str, paths)),
                             {e.submission_id: e.source for e in entries})
    finished_entries: set[str] = set()

    def entry_done(records: list[dict]) -> None:
        finished_entries.add(entry_key(records[0]))
        relay(records)

    finished = False
    try:
        records = parse_all(entries, campaign, max(1, jobs or os.cpu_count() or 1), records_dir, work, progress,
                            entry_done=entry_done)
        for record in apply_batch_rules(records, campaign, received):
            write_record(records_dir, record)
        produced = {r["submission_id"] for r in records}
        result = ParseResult(out=out, records=records, others=len(others))
        # An entry parsed again replaces all its records: those it no longer gives go (manyi's own only).
        for record in earlier:
            if entry_key(record) in sources and record["submission_id"] not in produced:
                outputs.remove_own(records_dir / f"{record['submission_id']}.json")
        if replace:
            result.removed, foreign = remove_stale(records_dir, produced)
            if foreign:
                result.notes.append(f"records 中有 {len(foreign)} 个文件不是 manyi 写出的，未删除：{'、'.join(foreign[:5])}")
        run, by_source = mark["started"], {e.source: e for e in entries}
        origins = {sid: origins[sid] for sid in origins if (records_dir / f"{sid}.json").exists()}
        # [inbox, run started, the day received (--received) when given]: 汇总's 收件箱, 解析时间 and 收件日期
        origins.update({r["submission_id"]: [inbox_of(by_source[entry_key(r)], paths), run,
                                             *([received.isoformat()] if received else [])] for r in records
                        if entry_key(r) in by_source})
        summary.origins = origins
        result.summary = summary.finish(sorted([*records, *others], key=lambda r: r["source"]))
        outputs.finish_run(out, origins, mark)
        finished = True
    finally:
        summary.discard()
        shutil.rmtree(work, ignore_errors=True)
        if not finished:
            outputs.stop_run(out, mark, [e.submission_id for e in entries if e.source in finished_entries])
    return result
