"""The campaign workspace: a folder holding its settings, a copy of the campaign file, the store of every
file received, and (by default) the SQLite database; any SQLAlchemy URL may hold the database instead.

    ws = Workspace.init(DIR, resolve_campaign("heilongjiang", None))  # or Workspace.open(DIR)
    page = ws.applicants(stage="需补正", search="华光", sort="name", offset=0, limit=50)
    detail = ws.applicant(page.items[0].id)
    ws.decide(detail.id, "survey_too_early", kind=Decision.CONFIRM, note="测评报告已人工核对", by="王敏")
    ws.move(detail.id, "已推荐", by="王敏", note="材料齐全")

Staff decisions are rows of their own, never edits of a parsed record: the status shown is
computed from the latest version's issues and the decisions on them. Every change runs in one
transaction and leaves a line in the audit log (who, when, what).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import yaml

from pipeline.common import resources
from pipeline.common.collation import by_pinyin, name_key
from pipeline.common.errors import UserError
from pipeline.common.records import company_name as record_company
from pipeline.common.records import form_value
from pipeline.common.zones import DEFAULT_ZONE, in_zone
from pipeline.definitions.campaign import Campaign, load_campaign
from pipeline.definitions.programs import load_program, program_of
from pipeline.definitions.stages import ARTICLE, INELIGIBLE, Workflow, workflow_of
from pipeline.definitions.vocabulary import Decision, IssueCode, Severity, Status, label_of, status_of
from pipeline.workspace import db, locking
from pipeline.workspace.compare import field_namer, issue_asked, issue_key, issue_name, pick_issues
from pipeline.workspace.store import Store

CONFIG = "workspace.yaml"
CAMPAIGN_COPY = "campaign.yaml"
DB_FILE = "workspace.db"
STORE = "store"
FORMS = "forms"  # the workspace's own programs/, campaigns/, templates/, over the packaged ones
BACKUPS = "backups"
LOCK = ".receive.lock"
#: Who the workspace names for what it does by itself.
SYSTEM = "系统"
#: Orders `applicants` may sort by.
SORTS = ("name", "category", "stage", "status", "unit", "errors", "versions", "updated", "id")
#: The association's time zone when the campaign names none: the day a move is made on is the day there.
ZONE = ZoneInfo(DEFAULT_ZONE)


def local_day(stamp: str, zone: ZoneInfo = ZONE) -> date:
    """Given a stored time (ISO text, UTC or with its offset), return its day in the association's time zone."""
    return datetime.fromisoformat(stamp).astimezone(zone).date()


def issue_line(issue: dict) -> str:
    """Given an issue, return it as staff read it: its Chinese name and message."""
    return f"{label_of(IssueCode, issue.get('code'))}：{issue.get('message') or issue.get('code')}"


@dataclass
class ApplicantRow:
    """One applicant as a list shows it."""

    id: int
    company_name: str | None
    category: str | None
    promoting_unit: str | None
    stage: str
    status: str
    errors: int
    warnings: int
    version_count: int
    updated_at: str
    waits: str = ""


@dataclass
class Page:
    """A page of applicants: the rows, how many match in all, and where the page starts."""

    items: list[ApplicantRow]
    total: int
    offset: int
    limit: int


@dataclass
class VersionInfo:
    """One received version of an applicant, with its comparison with the version before (None for the first)."""

    id: int
    seq: int
    source: str
    received_on: str | None
    received_at: str
    digest: str
    status: str
    comparison: dict | None
    files: list[dict] = field(default_factory=list)


@dataclass
class ApplicantDetail:
    """An applicant in full: its row, latest record (issues after decisions), versions, stage history,
    decisions, notices sent, and the stages it may move to."""

    row: ApplicantRow
    record: dict
    open_issues: list[dict]
    decided_issues: list[dict]
    versions: list[VersionInfo]
    moves: list[dict]
    decisions: list[dict]
    notices: list[dict]
    next_stages: list[str]

    @property
    def id(self) -> int:
        return self.row.id


def _rows(result) -> list[dict]:
    return [dict(r._mapping) for r in result]


def _require_name(by: str) -> str:
    by = (by or "").strip()
    if not by:
        raise UserError("请写明操作人（--by 姓名）")
    return by


def effective_issues(record: dict, batch_issues: list[dict], decisions: list[dict]) -> tuple[list[dict], list[dict]]:
    """Given a version's record, its batch issues and the decisions on that version, return (open issues,
    decided issues): an issue confirmed or waived by hand (a Decision on an issue) is decided, each decision
    covering one issue."""
    pending = [d for d in decisions if d["kind"] in Decision.on_issues()]
    open_, decided = [], []
    for issue in list(record.get("issues") or []) + list(batch_issues):
        match = next((d for d in pending if (d["code"], d["form"], d["field"]) == issue_key(issue)), None)
        if match is None:
            open_.append(issue)
        else:
            pending.remove(match)
            decided.append({**issue, "decision": match["kind"], "decision_zh": Decision(match["kind"]).label,
                            "decision_id": match.get("id"),
                            "note": match["note"], "by": match["by"], "at": match["at"],
                            "carried_from": match.get("carried_from")})
    return open_, decided


#: The file in a workspace that starts its page on Windows (double-click it, or send it to the desktop as a shortcut).
LAUNCHER = "打开页面.bat"
#: Its text: ASCII only (cmd.exe reads a .bat in the system's code page, so no Chinese inside), CRLF line ends;
#: it serves the folder it sits in, wherever the folder is moved, and keeps the window open on an error.
LAUNCHER_TEXT = (
    "@echo off\r\n"
    "rem manyi: open the page of the campaign workspace this file is in. Double-click it, or right-click it and\r\n"
    "rem choose Send to > Desktop (create shortcut). Closing this window stops the page.\r\n"
    "cd /d \"%~dp0\"\r\n"
    "manyi serve \"%~dp0.\" --open\r\n"
    "if errorlevel 1 pause\r\n"
)


def write_launcher(root: Path) -> Path:
    """Given a workspace folder, write its Windows launcher (LAUNCHER) there; return it."""
    path = Path(root) / LAUNCHER
    path.write_bytes(LAUNCHER_TEXT.encode("ascii"))
    return path


def dump_other_tables(conn, out) -> dict[str, int]:
    """Given a connection and a text stream, write the rows of every table that is not the campaign's own
    (`db.TABLES`: the review rounds', the outbox and whatever a later module adds) as JSON lines ({"table", "row"}),
    read as the database has them (a backup is taken before their migrations too); return rows per table."""
    found = sa.MetaData()
    found.reflect(conn)
    own = {t.name for t in db.TABLES}
    counts = {}
    for name in sorted(set(found.tables) - own):
        table = found.tables[name]
        order = list(table.primary_key.columns) or list(table.columns)
        rows = conn.execute(sa.select(table).order_by(*order)).all()
        for row in rows:
            out.write(json.dumps({"table": name, "row": dict(row._mapping)}, ensure_ascii=False, default=str) + "\n")
        counts[name] = len(rows)
    return counts


class Workspace:
    """A campaign workspace (see the module docstring). Open one with `Workspace.open` or make one with `Workspace.init`."""

    def __init__(self, root: Path, config: dict):
        self.root = Path(root)
        self.config = config
        self.url = config.get("db") or db.sqlite_url(self.root / DB_FILE)
        self.engine = db.make_engine(self.url, write=True)
        self.reader = db.make_engine(self.url, write=False) if self.url.startswith("sqlite") else self.engine
        self.store = Store(self.root / STORE)
        if any((self.root / FORMS / kind).is_dir() for kind in resources.PACKAGED):
            resources.use_forms(self.root / FORMS)  # the workspace's own programs, campaigns and templates first
        self.program = load_program(config["program"])
        self.flow: Workflow = workflow_of(self.program)

    # --- making and opening ------------------------------------------------------------------------

    @classmethod
    def init(cls, root: Path, chosen: Campaign, db_url: str | None = None, by: str = SYSTEM) -> "Workspace":
        """Given a new (or empty) folder, the campaign (`definitions.programs.resolve_campaign`) and a database URL
        (None: SQLite in the folder), make the workspace there and return it. The campaign file is copied into the
        folder for staff to edit."""
        root = Path(root)
        if (root / CONFIG).exists():
            raise UserError(f"{root} 已经是工作区（有 {CONFIG}）；请换一个文件夹，或直接使用它")
        if root.exists() and any(root.iterdir()):
            raise UserError(f"文件夹 {root} 不是空的：工作区须建在新的或空的文件夹中")
        prog = program_of(chosen)
        workflow_of(prog)  # a program without stages cannot have a workspace: say so before anything is written
        root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chosen.path, root / CAMPAIGN_COPY)
        if prog.path.parent != resources.PACKAGED["programs"]:  # a staff folder's program: the workspace keeps a copy
            (root / FORMS / "programs").mkdir(parents=True)
            shutil.copyfile(prog.path, root / FORMS / "programs" / prog.path.name)
        (root / STORE).mkdir()
        config = {"program": prog.id, "campaign": CAMPAIGN_COPY, "campaign_id": str(chosen.id)}
        if db_url:
            config["db"] = db_url
        try:
            ws = cls(root, config)
            with reachable(ws.url), ws.engine.connect() as conn:
                if db.schema_version(conn):
                    raise UserError(f"数据库 {_shown_url(ws.url)} 已有工作区数据：请为新工作区使用空数据库")
            db.migrate(ws.engine)
            with ws.engine.begin() as conn:
                db.set_meta(conn, "program", prog.id)
                db.set_meta(conn, "campaign_id", str(chosen.id))
                ws._audit(conn, by, "init", None, {"program": prog.id, "campaign": str(chosen.id)})
        except Exception:
            shutil.rmtree(root / STORE, ignore_errors=True)
            shutil.rmtree(root / FORMS, ignore_errors=True)
            (root / CAMPAIGN_COPY).unlink(missing_ok=True)
            (root / DB_FILE).unlink(missing_ok=True)
            raise
        (root / CONFIG).write_text(
            "# manyi 工作区设置（请勿手工修改 db；活动设置请改 campaign.yaml）\n"
            + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
        if os.name == "nt":  # staff on a Windows PC start the page by double-clicking (or a desktop shortcut to it)
            write_launcher(root)
        return ws

    @classmethod
    def open(cls, root: Path) -> "Workspace":
        """Given a workspace folder, return the Workspace, its database brought to the current schema (backed up first)."""
        root = Path(root)
        path = root / CONFIG
        if not path.is_file():
            raise UserError(f"{root} 不是工作区（没有 {CONFIG}）：请先运行 manyi workspace init {root}")
        try:
            config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise UserError(f"工作区设置 {path} 无法读取：{exc}") from None
        ws = cls(root, config)
        with reachable(ws.url):
            found = db.migrate(ws.engine, backup=ws.backup, root=root)
        legacy = root / db.LEGACY_REGISTER
        if found < 2 and legacy.is_file():  # its certificates are in the database now: keep the file among the backups
            (root / BACKUPS).mkdir(exist_ok=True)
            legacy.rename(root / BACKUPS / f"register-{time.strftime('%Y%m%d-%H%M%S')}.db")
        return ws

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()
        if self.reader is not self.engine:
            self.reader.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def campaign(self):
        """The campaign, read from the workspace's own copy (staff may edit it)."""
        return load_campaign(self.root / self.config.get("campaign", CAMPAIGN_COPY))

    @property
    def zone(self) -> ZoneInfo:
        """The association's time zone (the campaign's time_zone, Asia/Shanghai by default)."""
        return self.campaign.zone or ZONE

    def backup(self) -> Path:
        """Write a dump of the whole database to backups/ and return its path (before a migration): the campaign's
        tables, then every other table the database holds (the review rounds', the outbox…). Each line carries its
        table's name, so `db.load` and `review.load` each take theirs from the one file, as from an export."""
        folder = self.root / BACKUPS
        folder.mkdir(exist_ok=True)
        stamp, n = time.strftime('%Y%m%d-%H%M%S'), 1
        while True:  # two migrations in one second (campaign, then review) must not overwrite the first backup
            target = folder / (f"db-{stamp}.jsonl" if n == 1 else f"db-{stamp}-{n}.jsonl")
            try:
                out = open(target, "x", encoding="utf-8")
                break
            except FileExistsError:
                n += 1
        with self.reader.connect() as conn, out:
            db.dump(conn, out)
            dump_other_tables(conn, out)
        return target

    @contextmanager
    def receive_lock(self, wait: bool = True):
        """Hold the workspace's one parse queue: a second receive waits (or, with wait=False, raises UserError).
        On a shared database (PostgreSQL) the lock is the database's own (an advisory lock), seen by every page
        server and worker on every machine; on SQLite, a lock on `.receive.lock` beside the database."""
        if not self.url.startswith("sqlite"):
            held = locking.DatabaseLock(self.url, "manyi:receive")
            if not held.acquire(wait):
                raise UserError(f"工作区 {self.root} 正在接收另一批材料（另一个收件任务），请稍后再试")
            try:
                yield
            finally:
                held.release()
            return
        with open(self.root / LOCK, "a+") as handle:
            try:
                locking.lock(handle, wait)
            except BlockingIOError:
                handle.seek(0)
                raise UserError(f"工作区 {self.root} 正在接收另一批材料（{handle.read().strip() or '另一进程'}），请稍后再试") from None
            try:
                handle.seek(0)
                handle.truncate()
                handle.write(f"进程 {__import__('os').getpid()}，开始于 {db.now()}")
                handle.flush()
                yield
            finally:
                locking.unlock(handle)

    # --- reading -------------------------------------------------------------------------------------

    def _row(self, r: dict) -> ApplicantRow:
        stage = r["stage"]
        waits = self.flow.stage(stage).waits if stage in self.flow.names() else ""
        return ApplicantRow(id=r["id"], company_name=r["company_name"], category=r["category"],
                            promoting_unit=r["promoting_unit"], stage=stage, status=r["status"], errors=r["errors"],
                            warnings=r["warnings"], version_count=r["version_count"], updated_at=r["updated_at"],
                            waits=waits)

    def _filtered(self, query, category=None, stage=None, status=None, unit=None, search=None):
        t = db.applicants
        if category:
            query = query.where(t.c.category == category)
        if stage:
            query = query.where(t.c.stage.in_([stage] if isinstance(stage, str) else list(stage)))
        if status:
            query = query.where(t.c.status == status)
        if unit:
            query = query.where(t.c.promoting_unit == unit)
        if search:
            query = query.where(sa.func.lower(t.c.company_name).contains(search.strip().lower(), autoescape=True))
        return query

    def applicants(self, category: str | None = None, stage: str | list | None = None, status: str | None = None,
                   unit: str | None = None, search: str | None = None, sort: str = "name", descending: bool = False,
                   offset: int = 0, limit: int | None = 50) -> Page:
        """Given filters (category id, stage or stages, status complete/incomplete, 推进单位, part of the name),
        an order (SORTS) and a page, return that page of applicants; counting and paging run in the database."""
        t = db.applicants
        if sort not in SORTS:
            raise UserError(f"无法按“{sort}”排序，可用：{'、'.join(SORTS)}")
        order_index = sa.case({name: n for n, name in enumerate(self.flow.names())}, value=t.c.stage, else_=999)
        column = {"name": t.c.company_name, "category": t.c.category, "stage": order_index, "status": t.c.status,
                  "unit": t.c.promoting_unit, "errors": t.c.errors, "versions": t.c.version_count,
                  "updated": t.c.updated_at, "id": t.c.id}[sort]
        filters = dict(category=category, stage=stage, status=status, unit=unit, search=search)
        if sort == "name":
            return self._by_pinyin(filters, descending, offset, limit)
        query = self._filtered(sa.select(t), **filters)
        query = query.order_by(column.desc() if descending else column.asc(), t.c.id).offset(max(0, offset))
        if limit is not None:
            query = query.limit(limit)
        with self.reader.connect() as conn:
            total = conn.execute(self._filtered(sa.select(sa.func.count()).select_from(t), **filters)).scalar_one()
            items = [self._row(r) for r in _rows(conn.execute(query))]
        return Page(items=items, total=total, offset=offset, limit=limit or total)

    def _by_pinyin(self, filters: dict, descending: bool, offset: int, limit: int | None) -> Page:
        """Given the list's filters and a page, return that page ordered by the names' pinyin (`collation.name_key`):
        the database filters, the names (one short column) are ordered here, the page's rows fetched by id."""
        t = db.applicants
        with self.reader.connect() as conn:
            names = conn.execute(self._filtered(sa.select(t.c.id, t.c.company_name), **filters)).all()
            ordered = sorted(names, key=lambda r: (name_key(r[1]), r[0]), reverse=descending)
            start = max(0, offset)
            ids = [r[0] for r in ordered[start:None if limit is None else start + limit]]
            found = {r["id"]: r for r in _rows(conn.execute(sa.select(t).where(t.c.id.in_(ids))))} if ids else {}
        items = [self._row(found[i]) for i in ids]
        return Page(items=items, total=len(names), offset=offset, limit=limit or len(names))

    def units(self) -> list[str]:
        """Return the 推进单位 that applicants name, sorted (for a filter's choices)."""
        t = db.applicants
        with self.reader.connect() as conn:
            return by_pinyin(r[0] for r in conn.execute(sa.select(t.c.promoting_unit).distinct()) if r[0])

    def stage_counts(self) -> dict[str, int]:
        """Return stage → number of applicants, every stage of the program in order (0 included)."""
        t = db.applicants
        with self.reader.connect() as conn:
            found = dict(conn.execute(sa.select(t.c.stage, sa.func.count()).group_by(t.c.stage)).all())
        counts = {name: found.pop(name, 0) for name in self.flow.names()}
        counts.update(found)  # a stage no longer in the program file still shows
        return counts

    def find(self, name_or_id: str) -> int:
        """Given an applicant's id, full name or part of it, return its id; raise UserError when none or several match."""
        text = str(name_or_id).strip()
        t = db.applicants
        with self.reader.connect() as conn:
            if text.isdigit():
                row = conn.execute(sa.select(t.c.id).where(t.c.id == int(text))).first()
                if row:
                    return row[0]
            exact = conn.execute(sa.select(t.c.id, t.c.company_name, t.c.category).where(t.c.company_name == text)).all()
            found = exact or conn.execute(sa.select(t.c.id, t.c.company_name, t.c.category).where(
                t.c.company_name.contains(text, autoescape=True)).order_by(t.c.id).limit(20)).all()
        if len(found) == 1:
            return found[0][0]
        if not found:
            raise UserError(f"工作区中没有申报单位“{text}”（可用 manyi status 查看，或写编号）")
        names = "；".join(f"{r[0]} {r[1]}（{self.program.category_name(r[2])}）" for r in found)
        raise UserError(f"“{text}”对应多个申报：{names}。请写编号")

    def _versions(self, conn, applicant_id: int) -> list[dict]:
        v = db.versions
        return _rows(conn.execute(sa.select(v).where(v.c.applicant_id == applicant_id).order_by(v.c.seq)))

    def _decisions(self, conn, applicant_id: int) -> list[dict]:
        d = db.decisions
        return _rows(conn.execute(sa.select(d).where(d.c.applicant_id == applicant_id).order_by(d.c.id)))

    def applicant(self, applicant_id: int) -> ApplicantDetail:
        """Given an applicant id, return its ApplicantDetail; raise UserError when there is none."""
        t, m, n, f = db.applicants, db.moves, db.notices, db.files
        with self.reader.connect() as conn:
            found = conn.execute(sa.select(t).where(t.c.id == applicant_id)).first()
            if not found:
                raise UserError(f"工作区中没有编号为 {applicant_id} 的申报")
            row = self._row(dict(found._mapping))
            versions = self._versions(conn, applicant_id)
            decisions = self._decisions(conn, applicant_id)
            moves = _rows(conn.execute(sa.select(m).where(m.c.applicant_id == applicant_id).order_by(m.c.id)))
            sent = _rows(conn.execute(sa.select(n).where(n.c.applicant_id == applicant_id).order_by(n.c.id)))
            files = _rows(conn.execute(sa.select(f).where(f.c.version_id.in_([v["id"] for v in versions]))))
        infos = []
        for v in versions:
            record = json.loads(v["record"])
            mine = [d for d in decisions if d["version_id"] == v["id"]]
            open_, _ = effective_issues(record, json.loads(v["batch_issues"]), mine)
            infos.append(VersionInfo(
                id=v["id"], seq=v["seq"], source=v["source"], received_on=v["received_on"], received_at=v["received_at"],
                digest=v["digest"], status=status_of(open_),
                comparison=json.loads(v["comparison"]) if v["comparison"] else None,
                files=[{"name": x["name"], "sha256": x["sha256"], "size": x["size"]} for x in files
                       if x["version_id"] == v["id"]]))
        latest = versions[-1]
        record = json.loads(latest["record"])
        open_, decided = effective_issues(record, json.loads(latest["batch_issues"]),
                                          [d for d in decisions if d["version_id"] == latest["id"]])
        record = {**record, "issues": open_, "status": status_of(open_)}
        for notice in sent:
            notice["items"] = json.loads(notice["items"])
        zone = self.zone  # every time staff read is in the association's time zone, never the stored UTC
        for item in (*moves, *decisions, *decided, *sent):
            if "at" in item:
                item["at"] = in_zone(item["at"], zone)
        for info in infos:
            info.received_at = in_zone(info.received_at, zone)
        return ApplicantDetail(row=row, record=record, open_issues=open_, decided_issues=decided, versions=infos,
                               moves=moves, decisions=decisions, notices=sent,
                               next_stages=list(self.flow.stage(row.stage).next) if row.stage in self.flow.names() else [])

    def latest_records(self, stage: str | list | None = None) -> list[dict]:
        """Return the latest record of every applicant (optionally of some stages), issues after decisions,
        sorted by name; each carries `applicant_id`, `stage` and `version_count` beside the record's own keys,
        and a `submission_id` unique in the workspace (A00012)."""
        t, v = db.applicants, db.versions
        query = (sa.select(t.c.id, t.c.stage, t.c.version_count, v.c.id.label("vid"), v.c.record, v.c.batch_issues,
                           v.c.received_on, v.c.received_at)
                 .join(v, v.c.id == t.c.latest_version_id).order_by(t.c.company_name, t.c.id))
        query = self._filtered(query, stage=stage)
        d = db.decisions
        with self.reader.connect() as conn:
            rows = _rows(conn.execute(query))
            decided = _rows(conn.execute(sa.select(d).where(d.c.kind.in_(Decision.on_issues()))))
        by_version: dict[int, list] = {}
        for dec in decided:
            by_version.setdefault(dec["version_id"], []).append(dec)
        out = []
        for r in rows:
            record = json.loads(r["record"])
            open_, _ = effective_issues(record, json.loads(r["batch_issues"]), by_version.get(r["vid"], []))
            record.update(issues=open_, status=status_of(open_), submission_id=f"A{r['id']:05d}",
                          applicant_id=r["id"], stage=r["stage"], version_count=r["version_count"], version_id=r["vid"],
                          received_on=r["received_on"] or (local_day(r["received_at"]).isoformat()
                                                           if r["received_at"] else None))
            out.append(record)
        return out

    def audit_log(self, applicant_id: int | None = None, offset: int = 0, limit: int = 100) -> list[dict]:
        """Return the audit log, newest first (optionally of one applicant): at, by, action, applicant_id, detail."""
        a = db.audit
        query = sa.select(a).order_by(a.c.id.desc()).offset(offset).limit(limit)
        if applicant_id is not None:
            query = query.where(a.c.applicant_id == applicant_id)
        with self.reader.connect() as conn:
            rows = _rows(conn.execute(query))
        zone = self.zone
        for row in rows:
            row["detail"] = json.loads(row["detail"]) if row["detail"] else None
            row["at"] = in_zone(row["at"], zone)  # shown in the association's time zone, never UTC
        return rows

    def winners(self) -> list[ApplicantRow]:
        """Return the applicants in the program's winning stage (获奖), by name."""
        return self.applicants(stage=self.flow.role("winning"), limit=None).items

    def waiting(self) -> list[tuple[str, str, int]]:
        """Return (stage, who it waits on, count) for each stage that holds applicants and waits on someone."""
        return [(name, self.flow.stage(name).waits, n) for name, n in self.stage_counts().items()
                if n and name in self.flow.names() and self.flow.stage(name).waits]

    # --- changing ------------------------------------------------------------------------------------

    def _audit(self, conn, by: str, action: str, applicant_id: int | None, detail: dict | None) -> None:
        conn.execute(_INSERT_AUDIT, {"at": db.now(), "by": by, "action": action, "applicant_id": applicant_id,
                                     "detail": json.dumps(detail, ensure_ascii=False) if detail else None})

    def _move(self, conn, applicant_id: int, src: str | None, dst: str, by: str, note: str | None,
              on: date | None = None) -> None:
        """Within a transaction, move an applicant from `src` to `dst` (the row must still be at `src`) and record it;
        a move on a given day (`on`) is recorded at noon of that day in the association's time zone."""
        stamp = db.now() if on is None else datetime(on.year, on.month, on.day, 12, tzinfo=self.zone).isoformat()
        if src is not None:
            done = conn.execute(_MOVE_STAGE, {"aid": applicant_id, "src": src, "dst": dst, "at": stamp}).rowcount
            if done != 1:
                raise UserError("该申报的阶段刚被他人修改，请刷新后重试")
        conn.execute(_INSERT_MOVE, {"applicant_id": applicant_id, "from_stage": src, "to_stage": dst, "by": by,
                                    "at": stamp, "note": note})
        self._audit(conn, by, "move", applicant_id, {"from": src, "to": dst, "note": note})

    def _stage_of(self, conn, applicant_id: int) -> str:
        t = db.applicants
        row = conn.execute(sa.select(t.c.stage).where(t.c.id == applicant_id)).first()
        if not row:
            raise UserError(f"工作区中没有编号为 {applicant_id} 的申报")
        return row[0]

    def move(self, applicant_id: int, to: str, by: str, note: str | None = None, on: date | None = None) -> str:
        """Given an applicant, the stage to move it to, who and why, and the day of the move (None: today in the
        association's time zone), move it when the program's stages allow it (see `definitions.stages`); return
        the stage it came from. Raise UserError with the reason otherwise."""
        by = _require_name(by)
        day = on or datetime.now(self.zone).date()
        with self.engine.begin() as conn:
            src = self._stage_of(conn, applicant_id)
            if src == to:
                raise UserError(f"该申报已在“{to}”阶段")
            self.flow.check_move(src, to)
            if to == INELIGIBLE and not ARTICLE.search(note or ""):
                raise UserError(f"移到“{INELIGIBLE}”须在说明中写明不符合的条款（如：不符合第四条第1款）")
            if self.flow.needs_complete(to):
                errors = [i for i in self._open_issues(conn, applicant_id) if i.get("severity") == Severity.ERROR]
                if errors:
                    raise UserError(f"不能移到“{to}”：还有 {len(errors)} 项{Severity.ERROR.label}未处理（"
                                    + "；".join(issue_line(i) for i in errors)
                                    + "）。请先补正，或逐项人工确认/豁免（manyi confirm）")
            self._check_publicity(conn, applicant_id, src, to, day)
            self._move(conn, applicant_id, src, to, by, note, on)
        return src

    def _open_issues(self, conn, applicant_id: int) -> list[dict]:
        """Within a transaction, return the open issues of an applicant's latest version (after decisions)."""
        t, v = db.applicants, db.versions
        vid = conn.execute(sa.select(t.c.latest_version_id).where(t.c.id == applicant_id)).scalar_one()
        latest = conn.execute(sa.select(v.c.record, v.c.batch_issues).where(v.c.id == vid)).first()
        mine = [d for d in self._decisions(conn, applicant_id) if d["version_id"] == vid]
        return effective_issues(json.loads(latest.record), json.loads(latest.batch_issues), mine)[0]

    def _check_publicity(self, conn, applicant_id: int, src: str, to: str, day: date) -> None:
        """Within a transaction, raise a Chinese UserError when `src` is the program's publicity stage, `to` goes on
        (not a closing stage) and the period that began the day the applicant entered `src` has not ended by `day`."""
        period = self.flow.publicity
        if period is None or src != period.stage or self.flow.closing(to):
            return
        m = db.moves
        entered = conn.execute(sa.select(m.c.at).where(m.c.applicant_id == applicant_id, m.c.to_stage == src)
                               .order_by(m.c.id.desc()).limit(1)).scalar_one()
        start = local_day(entered, self.zone)
        end = period.end(start)
        if day <= end:
            article = f"（{period.article}）" if period.article else ""
            raise UserError(f"公示期未满：{start.isoformat()} 起公示 {period.describe()}{article}，至 {end.isoformat()} "
                            f"止；{(end + timedelta(days=1)).isoformat()} 起才能移到“{to}”（本次日期 {day.isoformat()}）")
    def refresh(self, conn, applicant_id: int, by: str = SYSTEM, new_version: bool = False) -> str:
        """Within a transaction, recompute an applicant's status from its latest version and decisions, and move it
        among the automatic stages (需补正 / 已补正 / 材料齐全) when parsing or decisions changed where it belongs;
        return its status."""
        t, v = db.applicants, db.versions
        app = conn.execute(sa.select(t.c.stage, t.c.latest_version_id).where(t.c.id == applicant_id)).first()
        latest = conn.execute(sa.select(v.c.record, v.c.batch_issues).where(v.c.id == app.latest_version_id)).first()
        mine = [d for d in self._decisions(conn, applicant_id) if d["version_id"] == app.latest_version_id]
        open_, _ = effective_issues(json.loads(latest.record), json.loads(latest.batch_issues), mine)
        return self.apply_status(conn, applicant_id, app.stage, open_, by, new_version)

    def apply_status(self, conn, applicant_id: int, stage: str, open_issues: list[dict], by: str = SYSTEM,
                     new_version: bool = False) -> str:
        """Within a transaction, given an applicant, its stage and its open issues, store its status and counts and
        move it among the automatic stages as its status asks; return the status."""
        status = status_of(open_issues)
        errors = sum(i.get("severity") == Severity.ERROR for i in open_issues)
        conn.execute(_SET_STATUS, {"aid": applicant_id, "status": status, "errors": errors,
                                   "warnings": len(open_issues) - errors, "at": db.now()})
        if stage in self.flow.names() and self.flow.stage(stage).auto:
            roles = self.flow.roles
            path = []
            if new_version and stage == roles["incomplete"]:
                path.append(roles["corrected"])
            target = roles["incomplete"] if status == Status.INCOMPLETE else roles["complete"]
            if (path[-1] if path else stage) != target:
                path.append(target)
            for dst in path:
                if self.flow.allowed(stage, dst):
                    self._move(conn, applicant_id, stage, dst, by, "解析结果" if by == SYSTEM else "处理问题后")
                    stage = dst
        return status

    def decide(self, applicant_id: int, code: str, kind: str = Decision.CONFIRM, note: str | None = None, by: str = "",
               form: str | None = None, field: str | None = None) -> dict:
        """Given an applicant, an open issue of its latest version (its code, its Chinese name or its number in
        `manyi show`'s list; form/field narrow a name that occurs more than once), `confirm` (checked by hand) or
        `waive`, a note and who, record the decision; return the issue. Errors name issues as staff do, never by code."""
        by = _require_name(by)
        if kind not in Decision.on_issues():
            raise UserError(f"处理方式应为 {'、'.join(d.label for d in Decision.on_issues())}")
        if kind == Decision.WAIVE and not (note or "").strip():
            raise UserError(f"{Decision.WAIVE.label}须写明理由（为什么不要求申报单位补正此项）")
        with self.engine.begin() as conn:
            self._stage_of(conn, applicant_id)
            t, v = db.applicants, db.versions
            vid = conn.execute(sa.select(t.c.latest_version_id).where(t.c.id == applicant_id)).scalar_one()
            latest = conn.execute(sa.select(v).where(v.c.id == vid)).first()._mapping
            mine = [d for d in self._decisions(conn, applicant_id) if d["version_id"] == vid]
            latest_record = json.loads(latest["record"])
            open_, _ = effective_issues(latest_record, json.loads(latest["batch_issues"]), mine)
            named = field_namer(self.program, latest_record, self.campaign)
            matches = [i for i in pick_issues(open_, code) if (form is None or i.get("form") == form)
                       and (field is None or i.get("field") == field)]
            if not matches:
                listed = "；".join(f"{n}. {issue_name(i, named)}"
                                  for n, i in enumerate(open_, 1)) or "无"
                raise UserError(f"最新版本没有未处理的问题“{issue_asked(code)}”。未处理的问题：{listed}")
            if len({issue_key(i) for i in matches}) > 1:
                numbers = "、".join(f"{n}（{issue_name(i, named)}）" for n, i in enumerate(open_, 1)
                                   if any(i is m for m in matches))
                raise UserError(f"问题“{issue_asked(code)}”有多处，请用 manyi show 列出的编号指明其中一处：{numbers}")
            issue = matches[0]
            conn.execute(sa.insert(db.decisions).values(
                applicant_id=applicant_id, version_id=vid, kind=kind, code=issue.get("code"), form=issue.get("form"),
                field=issue.get("field"), note=note, by=by, at=db.now()))
            self._audit(conn, by, kind, applicant_id, {"code": issue.get("code"), "form": issue.get("form"),
                                                       "field": issue.get("field"), "note": note})
            self.refresh(conn, applicant_id, by=by)
        return issue

    def undo(self, applicant_id: int, decision_id: int, by: str, note: str | None = None) -> dict:
        """Given an applicant, one of its decisions on an issue of its latest version, who and why, take the
        decision back: the issue is open again (status and automatic stage follow) and the audit log records what
        was undone. Return the decision taken back; raise UserError when there is no such decision."""
        by = _require_name(by)
        d = db.decisions
        with self.engine.begin() as conn:
            self._stage_of(conn, applicant_id)
            vid = conn.execute(sa.select(db.applicants.c.latest_version_id)
                               .where(db.applicants.c.id == applicant_id)).scalar_one()
            found = conn.execute(sa.select(d).where(d.c.id == decision_id, d.c.applicant_id == applicant_id)).first()
            if found is None or found.kind not in Decision.on_issues():
                raise UserError("没有这项人工处理（可能已被撤销），请刷新页面")
            if found.version_id != vid:
                raise UserError("这项人工处理属于较早的版本，最新版本不受它影响，无需撤销")
            decision = dict(found._mapping)
            conn.execute(sa.delete(d).where(d.c.id == decision_id))
            self._audit(conn, by, "undo", applicant_id, {"kind": decision["kind"], "code": decision["code"],
                                                         "form": decision["form"], "field": decision["field"],
                                                         "note": note, "reason": decision["note"]})
            self.refresh(conn, applicant_id, by=by)
        return decision

    def opinion(self, applicant_id: int, text: str, by: str, recommend: bool | None = None,
                score: float | None = None) -> None:
        """Given an applicant, a reviewer's 审定意见, who, whether it is recommended (None: not said) and a score
        (0-100, None: not given), record it. Refused once the applicant is in a final stage (the decision is made)."""
        by = _require_name(by)
        if not (text or "").strip():
            raise UserError("审定意见不能为空")
        if score is not None and not 0 <= score <= 100:
            raise UserError(f"评分应为 0 到 100 的数字：{score:g}")
        with self.engine.begin() as conn:
            vid = conn.execute(sa.select(db.applicants.c.latest_version_id)
                               .where(db.applicants.c.id == applicant_id)).scalar_one_or_none()
            if vid is None:
                raise UserError(f"工作区中没有编号为 {applicant_id} 的申报")
            stage = self._stage_of(conn, applicant_id)
            if stage in self.flow.names() and self.flow.stage(stage).final:
                raise UserError(f"该申报已在“{stage}”阶段，评审决定已作出，审定意见已锁定，不能再记录或修改")
            conn.execute(sa.insert(db.decisions).values(applicant_id=applicant_id, version_id=vid, kind=Decision.OPINION,
                                                        note=text.strip(), recommend=recommend, score=score, by=by,
                                                        at=db.now()))
            self._audit(conn, by, Decision.OPINION, applicant_id, {"text": text.strip(), "recommend": recommend,
                                                            "score": score})


# Statements built once: building a statement costs SQLAlchemy more than running it, and receive runs these per version.
_t = db.applicants
_INSERT_AUDIT = sa.insert(db.audit)
_INSERT_MOVE = sa.insert(db.moves)
_MOVE_STAGE = (sa.update(_t).where(_t.c.id == sa.bindparam("aid"), _t.c.stage == sa.bindparam("src"))
               .values(stage=sa.bindparam("dst"), updated_at=sa.bindparam("at")))
_SET_STATUS = (sa.update(_t).where(_t.c.id == sa.bindparam("aid"))
               .values(status=sa.bindparam("status"), errors=sa.bindparam("errors"), warnings=sa.bindparam("warnings"),
                       updated_at=sa.bindparam("at")))


@contextmanager
def reachable(url: str):
    """Run the block, a database that cannot be reached (refused, wrong password, no such database) a UserError."""
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise UserError(f"无法连接工作区数据库 {_shown_url(url)}：{reason}") from None


def _shown_url(url: str) -> str:
    """Given a database URL, return it with any password hidden."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def applicant_facts(record: dict, program) -> dict:
    """Given a record, return the columns an applicant is listed by: company name, category, 推进单位."""
    return {"company_name": record_company(record), "category": record.get("category"),
            "promoting_unit": program.promoting_unit(record)}
