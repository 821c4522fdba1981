"""`manyi receive`: an inbox into the workspace, each entry a version of an applicant.

Each entry's files are hashed and kept in the store first. An entry whose files are byte-identical
to a stored version is recognised and not parsed again; the others go through parse's own
pipeline (gate, readers, rules, one LibreOffice batch: `parse.parse_all`), and each record is
stored in its own transaction the moment it arrives, so a receive killed half way keeps what it
stored and a rerun parses only the rest. Then the workspace is *settled* in one transaction:
batch rules (one application per enterprise, lateness) over the latest version of every
applicant, each new version compared with the one before, and the applicants moved among the
automatic stages. Unsettled versions left by a killed run are settled by the next one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from pipeline import parse
from pipeline.checking import rules
from pipeline.checking.rules import batch
from pipeline.checking.rules.names import company_key
from pipeline.common.errors import UserError
from pipeline.definitions.vocabulary import Decision, Status
from pipeline.reading.extract import prepare
from pipeline.receiving import inbox
from pipeline.workspace import db
from pipeline.workspace.compare import compare, issue_key
from pipeline.workspace.core import SYSTEM, Workspace, applicant_facts, effective_issues
from pipeline.workspace.store import entry_digest, file_sha256

WORK = ".work"


@dataclass
class Received:
    """One version stored by a receive run."""

    applicant_id: int
    company_name: str | None
    seq: int
    source: str
    status: str


@dataclass
class ReceiveResult:
    """What a receive run did: entries seen, versions stored, entries already stored (not parsed again)."""

    entries: int = 0
    stored: list[Received] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    new_applicants: int = 0
    #: Top-level inbox entries that are nobody's submission (inbox.strays): "name reason", for staff.
    skipped: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return the Chinese line printed at the end of a run."""
        corrected = sum(r.seq > 1 for r in self.stored)
        skipped = "".join(f"\n  {line}" for line in self.skipped)
        return (f"共收到 {self.entries} 份：新申报 {self.new_applicants} 家，新版本（补正）{corrected} 份，"
                f"与已存版本完全相同 {len(self.unchanged)} 份（未重新解析）；"
                f"其中{Status.INCOMPLETE.label} {sum(r.status == Status.INCOMPLETE for r in self.stored)} 份。{skipped}")


def entry_files(entry) -> list[tuple[str, Path]]:
    """Given an inbox entry, return (name within the entry, path) of each file it holds; a single file's name is ''.

    A symbolic link holds nothing: it is never followed (its record says so)."""
    if entry.path.is_symlink():
        return []
    if entry.path.is_dir():
        return [("/".join(inbox.readable(p) for p in path.relative_to(entry.path).parts), path)
                for path in inbox.folder_files(entry.path)]
    return [("", entry.path)]


def entry_of(todo: dict, source: str) -> tuple:
    """Given the entries being parsed by source and a record's source, return its entry's (entry, digest, files):
    the record of one company inside an archive of several names its inner folder ('批次.zip/华光公司/')."""
    if source in todo:
        return todo[source]
    return next(v for k, v in todo.items() if source.startswith(k.rstrip("/") + "/"))


def applicant_key(record: dict) -> str:
    """Given a record, return the key its applicant is matched by: normalised company name | category
    (a record without a company name stands alone, keyed by its source)."""
    name = company_key(batch.company_of(record))
    if not name:
        return f"?{record.get('source')}|{record.get('category') or ''}"
    return f"{name}|{record.get('category') or ''}"


def _known_digests(conn) -> set[str]:
    return {r[0] for r in conn.execute(sa.select(db.versions.c.digest))}


_t, _v = db.applicants, db.versions
# Statements built once (see core): receive runs them for every version.
_FIND = sa.select(_t.c.id, _t.c.version_count).where(_t.c.key == sa.bindparam("key"))
_INSERT_APPLICANT = sa.insert(_t)
_INSERT_VERSION = sa.insert(_v)
_INSERT_FILES = sa.insert(db.files)
_SET_LATEST = (sa.update(_t).where(_t.c.id == sa.bindparam("aid"))
               .values(latest_version_id=sa.bindparam("vid"), version_count=sa.bindparam("seq"),
                       updated_at=sa.bindparam("at")))
_SET_FACTS = (sa.update(_t).where(_t.c.id == sa.bindparam("aid"))
              .values(company_name=sa.bindparam("company_name"), category=sa.bindparam("category"),
                      promoting_unit=sa.bindparam("promoting_unit")))
_SET_BATCH = sa.update(_v).where(_v.c.id == sa.bindparam("vid")).values(batch_issues=sa.bindparam("issues"))
_SETTLE = (sa.update(_v).where(_v.c.id == sa.bindparam("vid"))
           .values(settled=True, comparison=sa.bindparam("comparison")))


def store_version(ws: Workspace, record: dict, digest: str, hashed: list[tuple[str, str, int]],
                  received: date | None) -> Received:
    """Given a parsed record, its entry's digest and files, store it as a new version (a new applicant when
    its company and category are new) in one transaction; return what was stored."""
    key = applicant_key(record)
    facts = applicant_facts(record, ws.program)
    stamp = db.now()
    with ws.engine.begin() as conn:
        row = conn.execute(_FIND, {"key": key}).first()
        if row is None:
            applicant_id = conn.execute(_INSERT_APPLICANT, {
                "key": key, "stage": ws.flow.role("start"), "status": record.get("status") or "incomplete",
                "errors": 0, "warnings": 0, "version_count": 0, "created_at": stamp, "updated_at": stamp,
                **facts}).inserted_primary_key[0]
            ws._move(conn, applicant_id, None, ws.flow.role("start"), SYSTEM, "收到申报材料")
            seq = 1
        else:
            applicant_id, seq = row[0], row[1] + 1
            if all(facts.values()):
                conn.execute(_SET_FACTS, {"aid": applicant_id, **facts})
        vid = conn.execute(_INSERT_VERSION, {
            "applicant_id": applicant_id, "seq": seq, "digest": digest, "source": record.get("source") or "",
            "received_on": received.isoformat() if received else None, "received_at": stamp,
            "record": parse.compact_json(record), "batch_issues": "[]", "comparison": None,
            "settled": False}).inserted_primary_key[0]
        if hashed:
            conn.execute(_INSERT_FILES, [{"version_id": vid, "name": n, "sha256": s, "size": z} for n, s, z in hashed])
        conn.execute(_SET_LATEST, {"aid": applicant_id, "vid": vid, "seq": seq, "at": stamp})
        ws._audit(conn, SYSTEM, "receive", applicant_id, {"version": seq, "source": record.get("source"),
                                                          "digest": digest})
    return Received(applicant_id, facts["company_name"], seq, record.get("source") or "", record.get("status"))


def batch_stub(vid: int, record: dict) -> dict:
    """Given a version id and its record, return the little the batch rules read: id, source, names."""
    forms = {fid: {"company_name": form.get("company_name")} for fid, form in (record.get("forms") or {}).items()
             if isinstance(form, dict) and "company_name" in form}
    return {"submission_id": str(vid), "source": record.get("source"), "company_name": record.get("company_name"),
            "category": record.get("category"), "forms": forms}


def workspace_batch_issues(latest: list[tuple[dict, str | None]], campaign,
                           answered: dict[str, tuple[date, str]] | None = None) -> dict[int, list[dict]]:
    """Given (batch stub, received on) of every applicant's latest version, return version id → batch issues:
    duplicates over all of them, lateness by each version's own received date, judged for a version that answers
    a 补正通知 (`answered`: version id as text → the notice's deadline and number) by that notice's deadline."""
    stubs = [stub for stub, _ in latest]
    found: dict[str, list] = {}
    for sid, issues in rules.duplicate_issues(stubs, campaign).items():
        found.setdefault(sid, []).extend(issues)
    by_day: dict[str, list] = {}
    for stub, day in latest:
        if day:
            by_day.setdefault(day, []).append(stub)
    for day, group in by_day.items():
        for sid, issues in rules.late_issues(group, campaign, date.fromisoformat(day), answered).items():
            found.setdefault(sid, []).extend(issues)
    return {int(sid): issues for sid, issues in found.items()}


def answered_notices(conn, latest: dict[int, int]) -> dict[str, tuple[date, str]]:
    """Given applicant id → its latest version id, return version id (text) → (deadline, number) of the last
    补正通知 sent on an earlier version of the same applicant (the notice the latest version answers)."""
    n = db.notices
    found: dict[str, tuple[date, str]] = {}
    rows = conn.execute(sa.select(n.c.applicant_id, n.c.version_id, n.c.deadline, n.c.number)
                        .where(n.c.deadline.is_not(None)).order_by(n.c.id))
    for applicant_id, version_id, deadline, number in rows:
        vid = latest.get(applicant_id)
        if vid is not None and version_id != vid:
            found[str(vid)] = (date.fromisoformat(deadline), number)
    return found


def settle(ws: Workspace, progress=None) -> int:
    """Settle the workspace in one transaction (see the module docstring); return how many versions were settled.

    Each latest record is read once and only its names and issues are kept, so memory stays small
    for thousands of applicants; only applicants whose batch issues changed or that have a new
    version are written.
    """
    t, v, d = db.applicants, db.versions, db.decisions
    campaign = ws.campaign
    with ws.engine.begin() as conn:
        latest = []
        for row in conn.execute(sa.select(v.c.id, v.c.received_on, v.c.record, v.c.batch_issues, v.c.applicant_id,
                                          v.c.seq, v.c.settled, t.c.stage).join(t, t.c.latest_version_id == v.c.id)):
            record = json.loads(row.record)
            latest.append((row, batch_stub(row.id, record), record.get("issues") or []))
        answered = answered_notices(conn, {row.applicant_id: row.id for row, _, _ in latest})
        issues = workspace_batch_issues([(stub, row.received_on) for row, stub, _ in latest], campaign, answered)
        carry_decisions(ws, conn, {row.id: own + issues.get(row.id, []) for row, _, own in latest if not row.settled})
        decided: dict[int, list] = {}
        for dec in conn.execute(sa.select(d).where(d.c.kind.in_(Decision.on_issues()))):
            decided.setdefault(dec.version_id, []).append(dict(dec._mapping))
        for row, _, own in latest:
            new = parse.compact_json(issues.get(row.id, []))
            if new != row.batch_issues:
                conn.execute(_SET_BATCH, {"vid": row.id, "issues": new})
            if new != row.batch_issues or not row.settled:
                open_, _ = effective_issues({"issues": own}, issues.get(row.id, []), decided.get(row.id, []))
                ws.apply_status(conn, row.applicant_id, row.stage, open_, new_version=not row.settled and row.seq > 1)
        del latest
        pending = conn.execute(sa.select(v.c.id, v.c.applicant_id, v.c.seq).where(v.c.settled == sa.false())
                               .order_by(v.c.applicant_id, v.c.seq)).all()
        for done, (vid, applicant_id, seq) in enumerate(pending, 1):
            comparison = compare_with_previous(ws, conn, applicant_id, seq) if seq > 1 else None
            conn.execute(_SETTLE, {"vid": vid, "comparison": parse.compact_json(comparison) if comparison else None})
            if progress:
                progress("check", done, len(pending))
    return len(pending)


def carry_decisions(ws: Workspace, conn, latest_issues: dict[int, list[dict]]) -> None:
    """Within settle's transaction, give every new version the confirmations and waivers of the version before
    it whose issue it still has word for word (the same finding, already judged by staff: no second 补正 for
    it); `latest_issues` holds the new latest versions' issues."""
    v, d = db.versions, db.decisions
    new = conn.execute(sa.select(v.c.id, v.c.applicant_id, v.c.seq, v.c.record, v.c.batch_issues)
                       .where(v.c.settled == sa.false(), v.c.seq > 1).order_by(v.c.applicant_id, v.c.seq)).all()
    for vid, applicant_id, seq, record, batch_issues in new:  # in order: a decision goes on from version to version
        before = conn.execute(sa.select(v.c.id, v.c.record, v.c.batch_issues)
                              .where(v.c.applicant_id == applicant_id, v.c.seq == seq - 1)).first()
        decisions = conn.execute(sa.select(d).where(d.c.version_id == before.id,
                                                    d.c.kind.in_(Decision.on_issues())).order_by(d.c.id)).all()
        if not decisions:
            continue
        judged = _messages_by_key(_issues_of(before.record, before.batch_issues))
        now = latest_issues.get(vid)
        still = _messages_by_key(now if now is not None else _issues_of(record, batch_issues))
        kept = []
        for dec in decisions:  # the n-th decision on a key judged the n-th issue with that key (effective_issues)
            key = (dec.code, dec.form, dec.field)
            message = judged[key].pop(0) if judged.get(key) else None
            if message is not None and message in still.get(key, []):
                still[key].remove(message)
                kept.append(dec)
        for dec in kept:
            conn.execute(sa.insert(d).values(applicant_id=applicant_id, version_id=vid, kind=dec.kind, code=dec.code,
                                             form=dec.form, field=dec.field, note=dec.note, by=dec.by, at=db.now(),
                                             carried_from=dec.carried_from or before.id))
        if kept:
            ws._audit(conn, SYSTEM, "carry", applicant_id, {"codes": [dec.code for dec in kept], "version": seq})


def _issues_of(record: str, batch_issues: str) -> list[dict]:
    return list(json.loads(record).get("issues") or []) + json.loads(batch_issues or "[]")


def _messages_by_key(issues: list[dict]) -> dict[tuple, list[str]]:
    found: dict[tuple, list[str]] = {}
    for issue in issues:
        found.setdefault(issue_key(issue), []).append(issue.get("message"))
    return found


def compare_with_previous(ws: Workspace, conn, applicant_id: int, seq: int) -> dict:
    """Within a transaction, return the comparison of an applicant's version `seq` with version `seq - 1`
    (the documents' own issues, staff decisions aside: an issue confirmed by hand on the earlier version and
    still in the new one is still open in the documents; and the notice sent for the earlier one, when one was)."""
    v, n = db.versions, db.notices
    rows = {r.seq: r for r in conn.execute(sa.select(v).where(v.c.applicant_id == applicant_id, v.c.seq.in_([seq - 1, seq])))}
    before, after = rows[seq - 1], rows[seq]
    old_record = json.loads(before.record)
    old_open = list(old_record.get("issues") or []) + json.loads(before.batch_issues)
    new_record = json.loads(after.record)
    new_all = list(new_record.get("issues") or []) + json.loads(after.batch_issues)
    sent = conn.execute(sa.select(n).where(n.c.version_id == before.id)).first()
    notice = {"number": sent.number, "date": sent.date, "items": json.loads(sent.items)} if sent else None
    return compare({**old_record, "issues": old_open}, {**new_record, "issues": new_all}, notice)


def settle_left_over(ws: Workspace) -> int:
    """Given a workspace, settle the versions a killed receive stored but never checked (their campaign-wide
    checks not run, their status only the record's own), unless a receive is running now (it settles them at
    its end); return how many were settled. Called when a page server or a worker starts, so an interrupted
    receive never leaves an applicant shown as complete before every check has run."""
    with ws.reader.connect() as conn:
        if not conn.execute(sa.select(db.versions.c.id).where(db.versions.c.settled == sa.false()).limit(1)).first():
            return 0
    try:
        with ws.receive_lock(wait=False):
            return settle(ws)
    except UserError:
        return 0


def receive(ws: Workspace, paths: list[Path], received: date | None = None, jobs: int | None = None,
            progress=None, wait: bool = True) -> ReceiveResult:
    """Given a workspace and inbox PATHs (as `manyi parse` takes them), store every entry as a version; return
    what was done. `progress(phase, done, total)` is called as work advances: phase "store" (files hashed and
    kept), "parse" (records in), "check" (versions settled). One receive at a time per workspace: a second waits
    (wait=False: raises UserError). Safe to call from a background thread or worker of a web server."""
    result = ReceiveResult()
    with ws.receive_lock(wait):
        campaign = ws.campaign
        settle(ws)  # what a killed run left unsettled
        entries = inbox.entries([Path(p) for p in paths])
        result.entries = len(entries)
        result.skipped = [f"{name} {reason}" for name, reason in inbox.strays([Path(p) for p in paths])]
        with ws.reader.connect() as conn:
            known = _known_digests(conn)
        todo: dict[str, tuple] = {}
        for done, entry in enumerate(entries, 1):
            hashed = []
            for name, path in entry_files(entry):
                sha, size = file_sha256(path)
                ws.store.put(path, sha)
                hashed.append((name, sha, size))
            digest = entry_digest([(n, s) for n, s, _ in hashed])
            if digest in known:
                result.unchanged.append(entry.source)
            else:
                known.add(digest)
                todo[entry.source] = (entry, digest, hashed)
            if progress:
                progress("store", done, len(entries))
        work = ws.root / WORK / f"receive-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        (work / "records").mkdir(parents=True)
        before = _applicant_count(ws)
        try:
            if todo:
                prepare(parse.campaign_forms(campaign))  # the program's forms, parsed once here, inherited by the workers

                def arrived(record: dict) -> None:
                    _, digest, hashed = entry_of(todo, record["source"])
                    result.stored.append(store_version(ws, record, digest, hashed, received))

                ws.engine.dispose()  # no open connection is inherited by the forked workers (a PostgreSQL
                ws.reader.dispose()  # socket shared with a child is closed under the parent's feet when it exits)
                parse.parse_all([e for e, _, _ in todo.values()], campaign, max(1, jobs or os.cpu_count() or 1),
                                work / "records", work / "open",
                                progress=(lambda d, total: progress("parse", d, total)) if progress else None,
                                arrived=arrived)
            settle(ws, progress)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        result.new_applicants = _applicant_count(ws) - before
        statuses = {}
        with ws.reader.connect() as conn:
            ids = [r.applicant_id for r in result.stored]
            if ids:
                statuses = dict(conn.execute(sa.select(db.applicants.c.id, db.applicants.c.status)
                                             .where(db.applicants.c.id.in_(ids))).all())
        for r in result.stored:
            r.status = statuses.get(r.applicant_id, r.status)
    return result


def _applicant_count(ws: Workspace) -> int:
    with ws.reader.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(db.applicants)).scalar_one()
