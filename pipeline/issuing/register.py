"""The certificate register: it hands out numbers and answers "is this genuine?".

It lives in a database, as the tables `certificates` and `certificate_events`: a lone SQLite file
(`--register`, for certificates printed from a winners workbook), or a campaign workspace's own
database (SQLite or PostgreSQL). A certificate is keyed by (program, campaign, category, folded
company name, folded project name), so printing again gives the same number; a new winner takes the
next sequence number of its program, campaign and category. Programs are kept apart: listings and
look-ups can be limited to one program, and each certificate keeps its own title and validity (so
many years, to the end of the title's year, or none when the program sets none). Numbers are taken in
a transaction that holds the write lock from its start (SQLite's BEGIN IMMEDIATE, a table lock on
PostgreSQL) and the number column is UNIQUE, so two runs racing on one register never issue a number
twice. Every issue, renewal and revocation is also kept as a row of `certificate_events`: the history stays.

Each printed certificate carries a check code (an HMAC of its number and how many times it was issued, under
the association's secret): it is stored on the certificate and on its issue or renewal event, so a copy of the
register answers "is this code genuine?" without the secret, and a renewal's new code leaves the old one
answering "已被新证书替代".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from pipeline.common import outputs
from pipeline.common.database import make_engine, sqlite_url
from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path
from pipeline.common.text import fold
from pipeline.common.xlsx import add_sheet, new_workbook, save
from pipeline.definitions.campaign import zh_date
from pipeline.definitions.forms import categories

#: The register index in the user's data folder: campaign id → the register files that issued its numbers.
INDEX_NAME = "registers.json"
#: Set to use another data folder than the user's (a shared drive; tests).
DATA_DIR_ENV = "MANYI_DATA_DIR"
STATES_ZH = {"valid": "有效", "revoked": "已撤销", "expired": "已过期"}
NUMBER_RE = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")

metadata = sa.MetaData()
#: What happens to a certificate: first issue, renewal (复评), revocation, a print of its new term after a renewal.
EVENT_KINDS = ("issued", "renewed", "revoked", "reissued")
EVENT_KINDS_SQL = "(" + ", ".join(f"'{k}'" for k in EVENT_KINDS) + ")"
#: The history table as schema 5 writes it (the kinds checked include 'reissued'); the old rows copied over.
EVENTS_REBUILD = f"""
    CREATE TABLE certificate_events_v5 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        number TEXT NOT NULL REFERENCES certificates(number),
        kind TEXT NOT NULL CONSTRAINT certificate_events_kind CHECK (kind IN {EVENT_KINDS_SQL}),
        on_date TEXT NOT NULL,
        valid_from TEXT,
        valid_to TEXT,
        reason TEXT,
        check_code TEXT
    );
    INSERT INTO certificate_events_v5 (id, number, kind, on_date, valid_from, valid_to, reason, check_code)
    SELECT id, number, kind, on_date, valid_from, valid_to, reason, check_code FROM certificate_events;
    DROP TABLE certificate_events;
    ALTER TABLE certificate_events_v5 RENAME TO certificate_events
"""

certificates = sa.Table(
    "certificates", metadata,
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("program", sa.Text, nullable=False),
    sa.Column("campaign", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("tier", sa.Text),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("company", sa.Text, nullable=False),
    sa.Column("company_key", sa.Text, nullable=False),
    sa.Column("project", sa.Text),
    sa.Column("project_key", sa.Text, nullable=False, default=""),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("issuer", sa.Text, nullable=False),
    sa.Column("validity_years", sa.Integer),  # None: a fixed last day (valid_to) or no end at all
    sa.Column("issued_on", sa.Text, nullable=False),  # dates as ISO text, the same in every database
    sa.Column("valid_from", sa.Text, nullable=False),
    sa.Column("valid_to", sa.Text),
    sa.Column("revoked_on", sa.Text),
    sa.Column("revoke_reason", sa.Text),
    sa.Column("check_code", sa.Text),  # the code printed on the current certificate (None until printed)
    sa.PrimaryKeyConstraint("program", "campaign", "category", "company_key", "project_key"),
    sa.UniqueConstraint("program", "campaign", "category", "seq"),
    sa.Index("certificates_by_program", "program", "campaign", "category", "seq"),
)

events = sa.Table(
    "certificate_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("number", sa.Text, sa.ForeignKey("certificates.number"), nullable=False),
    sa.Column("kind", sa.Text, sa.CheckConstraint(f"kind IN {EVENT_KINDS_SQL}", name="certificate_events_kind"),
              nullable=False),
    sa.Column("on_date", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Text),
    sa.Column("valid_to", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("check_code", sa.Text),  # the code printed on the certificate this issue or renewal made
)

#: The register's tables, referenced ones first (a workspace creates, dumps and loads them with its own).
TABLES = (certificates, events)

# A register file's schema, by `PRAGMA user_version`: FILE_MIGRATIONS[i] upgrades version i to i + 1.
# A new file runs them all, so a new file and an upgraded one are the same; later versions append here.
FILE_MIGRATIONS = [
    """
    CREATE TABLE certificates (
        number TEXT NOT NULL UNIQUE,
        program TEXT NOT NULL,
        campaign TEXT NOT NULL,
        category TEXT NOT NULL,
        seq INTEGER NOT NULL,
        company TEXT NOT NULL,
        company_key TEXT NOT NULL,
        project TEXT,
        project_key TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL,
        issuer TEXT NOT NULL,
        validity_years INTEGER NOT NULL,
        issued_on TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_to TEXT NOT NULL,
        revoked_on TEXT,
        revoke_reason TEXT,
        PRIMARY KEY (campaign, category, company_key, project_key),
        UNIQUE (campaign, category, seq)
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        number TEXT NOT NULL REFERENCES certificates(number),
        kind TEXT NOT NULL CHECK (kind IN ('issued', 'renewed', 'revoked')),
        on_date TEXT NOT NULL,
        valid_from TEXT,
        valid_to TEXT,
        reason TEXT
    );
    """,
    # 2: programs apart (key and sequence per program), a tier, and validity that may have no end.
    # SQLite cannot drop NOT NULL in place, so the table is rebuilt (foreign keys are off meanwhile).
    """
    CREATE TABLE certificates_v2 (
        number TEXT NOT NULL UNIQUE,
        program TEXT NOT NULL,
        campaign TEXT NOT NULL,
        category TEXT NOT NULL,
        tier TEXT,
        seq INTEGER NOT NULL,
        company TEXT NOT NULL,
        company_key TEXT NOT NULL,
        project TEXT,
        project_key TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL,
        issuer TEXT NOT NULL,
        validity_years INTEGER,
        issued_on TEXT NOT NULL,
        valid_from TEXT NOT NULL,
        valid_to TEXT,
        revoked_on TEXT,
        revoke_reason TEXT,
        PRIMARY KEY (program, campaign, category, company_key, project_key),
        UNIQUE (program, campaign, category, seq)
    );
    INSERT INTO certificates_v2 (number, program, campaign, category, seq, company, company_key, project,
        project_key, title, issuer, validity_years, issued_on, valid_from, valid_to, revoked_on, revoke_reason)
    SELECT number, program, campaign, category, seq, company, company_key, project, project_key, title, issuer,
        validity_years, issued_on, valid_from, valid_to, revoked_on, revoke_reason FROM certificates;
    DROP TABLE certificates;
    ALTER TABLE certificates_v2 RENAME TO certificates;
    CREATE INDEX certificates_by_program ON certificates (program, campaign, category, seq)
    """,
    # 3: the history's table named as in a workspace database, where it sits beside the workspace's own tables.
    "ALTER TABLE events RENAME TO certificate_events",
    # 4: check codes on the current certificate and on each issue or renewal (so replaced codes still answer).
    "ALTER TABLE certificates ADD COLUMN check_code TEXT; ALTER TABLE certificate_events ADD COLUMN check_code TEXT",
    # 5: a renewed title's certificate printed again with its new term is an event of its own ('reissued').
    EVENTS_REBUILD,
]
SCHEMA_VERSION = len(FILE_MIGRATIONS)


@dataclass(frozen=True)
class Winner:
    """One winner to number: the campaign facts come with it so the register needs no campaign file."""

    company: str
    category: str
    project: str | None = None
    tier: str | None = None


@dataclass(frozen=True)
class Terms:
    """What a certificate grants: its title, and validity of so many years, to a fixed last day, or without end."""

    title: str
    years: int | None = None
    last_day: date | None = None

    def valid_to(self, start: date) -> date | None:
        """Given the first valid day, return the last one (None: the program sets no end)."""
        return valid_until(start, self.years) if self.years else self.last_day


@dataclass(frozen=True)
class Entry:
    """One certificate as the register holds it."""

    number: str
    program: str
    campaign: str
    category: str
    company: str
    project: str | None
    title: str
    issuer: str
    validity_years: int | None  # None: a fixed last day (valid_to) or no end at all
    issued_on: date
    valid_from: date
    valid_to: date | None  # None: the program sets no validity
    revoked_on: date | None
    revoke_reason: str | None
    tier: str | None = None
    check_code: str | None = None

    def state(self, today: date | None = None) -> str:
        """Return 'revoked', 'expired' or 'valid' as of `today`."""
        if self.revoked_on:
            return "revoked"
        return "expired" if self.valid_to and self.valid_to < (today or date.today()) else "valid"


def valid_until(start: date, years: int) -> date:
    """Given the first day and a validity in years, return the last valid day (2017-09-01, 2 → 2019-08-31)."""
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28) + timedelta(days=1)
    return end - timedelta(days=1)


def key_of(text: str | None) -> str:
    """Given a company or project name, return the key it is registered under (width, spaces, brackets folded)."""
    return fold(text or "")


# --- where the register lives -----------------------------------------------------------------------


@contextmanager
def connect(target: Path | sa.Engine, create: bool = True, write: bool = True):
    """Given a register file (or a workspace database's engine), yield a connection in one transaction,
    committed when the block ends; a file is created and brought to the current schema first.

    With `write` (the default) the transaction holds SQLite's write lock from its start, so the
    numbers read inside it are still free when they are written.
    """
    if isinstance(target, sa.Engine):
        engine, shown = target, "（工作区数据库）"
    else:
        engine, shown = open_file(Path(target), create, write), f" {target}"
    try:
        with engine.begin() as conn:
            yield conn
    except sa.exc.IntegrityError:
        raise
    except (sa.exc.OperationalError, sa.exc.DatabaseError) as exc:
        raise UserError(f"证书登记簿{shown}无法使用：{getattr(exc, 'orig', exc)}") from None
    finally:
        if engine is not target:
            engine.dispose()


def open_file(path: Path, create: bool = True, write: bool = True) -> sa.Engine:
    """Given a register file's path, return an engine on it, the file created or upgraded to SCHEMA_VERSION."""
    new = not path.is_file()
    if new:
        if not create:
            raise UserError(f"证书登记簿不存在：{path}（尚未颁发过证书，或用 --register 指定登记簿文件）")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(str(path), timeout=60, isolation_level=None)) as conn:
            if new:
                outputs.note_live(path)  # manyi's own, changed in place by every issue, renewal and revocation
            upgrade_file(conn)
    except sqlite3.DatabaseError as exc:
        raise UserError(f"证书登记簿 {path} 无法使用：{exc}") from None
    # No WAL: a lone register file may sit on a shared folder, where WAL does not work.
    return make_engine(sqlite_url(path), write=write, wal=False)


def upgrade_file(conn: sqlite3.Connection) -> None:
    """Given a connection to a register file, bring its schema up to SCHEMA_VERSION (in one write transaction).

    Foreign keys are off here (a new sqlite3 connection's default): a migration may rebuild a referenced table.
    """
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError("证书登记簿由更新版本的 manyi 创建，请升级 manyi 后再使用")
        for script in FILE_MIGRATIONS[version:]:
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def copy_file_into(path: Path, conn) -> int:
    """Given a register file and a connection to a database holding the register's (empty) tables, copy every
    certificate and its history into it; return the number of certificates. The file itself is not changed:
    an older one is upgraded in a temporary copy."""
    with tempfile.TemporaryDirectory(prefix="manyi-register-") as tmp:
        copy = Path(tmp) / "register.db"
        shutil.copyfile(path, copy)
        engine = open_file(copy, create=False, write=False)
        try:
            with engine.connect() as source:
                rows = {t.name: [dict(r._mapping) for r in source.execute(sa.select(t).order_by(*t.primary_key))]
                        for t in TABLES}
        finally:
            engine.dispose()
    for table in TABLES:
        if rows[table.name]:
            conn.execute(sa.insert(table), [{k: v for k, v in r.items() if k != "id"} for r in rows[table.name]])
    return len(rows[certificates.name])


def data_dir() -> Path:
    """Return manyi's data folder: $MANYI_DATA_DIR, else the user's data folder for manyi (platformdirs)."""
    import os

    import platformdirs

    return Path(os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("manyi", appauthor=False))


def campaign_register(campaign_id: str) -> Path:
    """Given a campaign id, return where its register lives outside a workspace (never the current folder)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(campaign_id))
    return data_dir() / "registers" / safe / "register.db"


def _index() -> tuple[Path, dict]:
    path = data_dir() / INDEX_NAME
    try:
        return path, json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return path, {}


def _issued_in(path: Path, campaign_id: str) -> bool:
    """Given a register file and a campaign id, return whether the file holds numbers of that campaign."""
    if not path.is_file():
        return False
    with connect(path, create=False, write=False) as conn:
        return bool(conn.execute(sa.select(sa.func.count()).where(certificates.c.campaign == campaign_id)).scalar())


def first_register(campaign_id: str, path: Path) -> Path | None:
    """Given a campaign id and the register a run would use, return another register file that already issued
    numbers of the campaign (from the index), or None when `path` is its register or there is no other."""
    path = Path(path).resolve()
    if _issued_in(path, campaign_id):
        return None
    return next((Path(p) for p in _index()[1].get(str(campaign_id), [])
                 if Path(p) != path and _issued_in(Path(p), campaign_id)), None)


def claim(campaign_id: str, path: Path) -> None:
    """Given a campaign id and the register a run is about to number in, refuse (UserError naming the first)
    when another register already issued numbers of the campaign."""
    first = first_register(campaign_id, path)
    if first:
        raise UserError(f"活动 {campaign_id} 已在登记簿 {first} 中颁发过证书编号；为免同一编号发给两家，"
                        f"请用 --register {first} 继续使用该登记簿")


def note_register(campaign_id: str, path: Path) -> None:
    """Given a campaign id and a register that issued its numbers, add it to the index in the data folder."""
    index_path, index = _index()
    known = index.setdefault(str(campaign_id), [])
    if str(Path(path).resolve()) not in known:
        known.append(str(Path(path).resolve()))
        index_path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(index_path) as part:
            Path(part).write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")


def indexed_registers() -> list[Path]:
    """Return every register file the index lists that still exists."""
    return [Path(p) for paths in _index()[1].values() for p in paths if Path(p).is_file()]


# --- numbers, look-ups, changes -----------------------------------------------------------------------


def format_number(prefix: str, code: str, seq: int) -> str:
    """Given a prefix, a category code and a sequence number, return the number (HLJ2017-CP-0001)."""
    number = f"{prefix}-{code}-{seq:04d}"
    if not NUMBER_RE.match(number):
        raise UserError(f"证书编号 {number} 含有字母、数字、连字符以外的字符：请检查活动文件中的 number_prefix")
    return number


def _key_is(winner: Winner, program: str, campaign: str):
    c = certificates.c
    return sa.and_(c.program == program, c.campaign == campaign, c.category == winner.category,
                   c.company_key == key_of(winner.company), c.project_key == key_of(winner.project))


def registered(conn, winner: Winner, program: str, campaign: str) -> Entry | None:
    """Given a winner of a program's campaign, return its certificate when the register already has one, else None."""
    number = conn.execute(sa.select(certificates.c.number).where(_key_is(winner, program, campaign))).scalar()
    return lookup(conn, number) if number else None


def _hold_numbers(conn) -> None:
    """Take the register's write lock for the rest of the transaction (SQLite's BEGIN IMMEDIATE already holds it)."""
    if conn.dialect.name == "postgresql":
        # Blocks other numbering runs and changes, not readers: two runs never read the same next number.
        conn.exec_driver_sql(f"LOCK TABLE {certificates.name} IN SHARE ROW EXCLUSIVE MODE")


def assign(conn, winners: list[Winner], *, program: str, campaign: str, prefix: str,
           codes: dict[str, str], issuer: str, today: date, titles: dict[str, str] | None = None,
           validity_years: int | None = None, terms: Callable[[Winner], Terms] | None = None,
           reasons: list[str | None] | None = None) -> list[Entry]:
    """Given winners and the campaign's facts, return their entries: existing ones kept, new ones numbered.

    `terms(winner)` gives each new certificate's title and validity; without it, `titles` by
    category and `validity_years` do. All winners are numbered in the connection's one transaction,
    so a run records all of them or none. `reasons[i]` (why winner i was issued against a rule, --allow) is
    kept on its issue event.
    """
    terms = terms or (lambda w: Terms(titles[w.category], validity_years))
    c = certificates.c
    _hold_numbers(conn)
    numbers = []
    reasons = reasons or [None] * len(winners)
    for w, reason in zip(winners, reasons):
        found = conn.execute(sa.select(c.number).where(_key_is(w, program, campaign))).scalar()
        if found:
            numbers.append(found)
            continue
        seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(c.seq), 0) + 1).where(
            c.program == program, c.campaign == campaign, c.category == w.category)).scalar()
        number = format_number(prefix, codes[w.category], seq)
        holder = conn.execute(sa.select(c.campaign, c.program).where(c.number == number)).first()
        if holder:
            raise UserError(f"证书编号 {number} 已被活动 {holder[0]}（{program_name(holder[1])}）使用："
                            f"请在活动文件中为本活动设置不同的 certificate.number_prefix")
        granted = terms(w)
        valid_to = granted.valid_to(today)
        conn.execute(sa.insert(certificates).values(
            number=number, program=program, campaign=campaign, category=w.category, tier=w.tier, seq=seq,
            company=w.company, company_key=key_of(w.company), project=w.project or None,
            project_key=key_of(w.project), title=granted.title, issuer=issuer, validity_years=granted.years,
            issued_on=today.isoformat(), valid_from=today.isoformat(), valid_to=_iso(valid_to)))
        _event(conn, number, "issued", today, today, valid_to, reason=reason)
        numbers.append(number)
    return [lookup(conn, n) for n in numbers]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _event(conn, number: str, kind: str, on: date, start: date | None = None, end: date | None = None,
           reason: str | None = None) -> None:
    conn.execute(sa.insert(events).values(number=number, kind=kind, on_date=on.isoformat(), valid_from=_iso(start),
                                          valid_to=_iso(end), reason=reason))


_COLUMNS = [certificates.c[name] for name in (
    "number", "program", "campaign", "category", "company", "project", "title", "issuer", "validity_years",
    "issued_on", "valid_from", "valid_to", "revoked_on", "revoke_reason", "tier", "check_code")]


def _entry(row) -> Entry:
    values = list(row)
    for i in (9, 10, 11, 12):
        values[i] = date.fromisoformat(values[i]) if values[i] else None
    return Entry(*values)


def _number_is(column, number: str | None):
    """Match a number in any case, spaces around it ignored (numbers are letters, digits and hyphens)."""
    return sa.func.lower(column) == (number or "").strip().lower()


def lookup(conn, number: str, program: str | None = None) -> Entry | None:
    """Given a certificate number (any case, spaces around) and optionally a program id, return its entry or None."""
    query = sa.select(*_COLUMNS).where(_number_is(certificates.c.number, number))
    if program:
        query = query.where(certificates.c.program == program)
    row = conn.execute(query).first()
    return _entry(row) if row else None


def entries(conn, campaign_id: str | None = None, program: str | None = None) -> list[Entry]:
    """Given a connection (optionally a campaign id and a program id), return the entries in number order."""
    c = certificates.c
    query = sa.select(*_COLUMNS).order_by(c.program, c.campaign, c.category, c.seq)
    if campaign_id:
        query = query.where(c.campaign == campaign_id)
    if program:
        query = query.where(c.program == program)
    return [_entry(r) for r in conn.execute(query)]


def history(conn, number: str) -> list[dict]:
    """Given a number, return its events oldest first (kind, on_date, valid_from, valid_to, reason)."""
    e = events.c
    rows = conn.execute(sa.select(e.kind, e.on_date, e.valid_from, e.valid_to, e.reason)
                        .where(_number_is(e.number, number)).order_by(e.id))
    return [dict(r._mapping) for r in rows]


def _require(conn, number: str) -> Entry:
    entry = lookup(conn, number)
    if entry is None:
        raise UserError(f"登记簿中没有证书编号 {number}")
    return entry


def revoke(conn, number: str, reason: str, today: date | None = None) -> Entry:
    """Given a number and a reason, mark the title withdrawn (第十六条、第十八条) and return the entry."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("撤销证书须写明原因")
    today = today or date.today()
    _hold_numbers(conn)
    entry = _require(conn, number)
    if entry.revoked_on:
        raise UserError(f"证书 {entry.number} 已于 {zh_date(entry.revoked_on)} 撤销（{entry.revoke_reason}）")
    if today < entry.issued_on:
        raise UserError(f"撤销日期 {zh_date(today)} 早于证书 {entry.number} 的颁发日期 {zh_date(entry.issued_on)}")
    if today > date.today():  # a revocation is a decision already made: it is recorded, never scheduled
        raise UserError(f"撤销日期 {zh_date(today)} 晚于今天（{zh_date(date.today())}）：只能登记已经作出的撤销决定")
    conn.execute(sa.update(certificates).where(certificates.c.number == entry.number)
                 .values(revoked_on=today.isoformat(), revoke_reason=reason))
    _event(conn, entry.number, "revoked", today, reason=reason)
    return lookup(conn, entry.number)


def renew(conn, number: str, today: date | None = None) -> Entry:
    """Given a number re-confirmed after re-evaluation (第十四条复评), start a new validity on `today`; return the entry."""
    today = today or date.today()
    _hold_numbers(conn)
    entry = _require(conn, number)
    if entry.revoked_on:
        raise UserError(f"证书 {entry.number} 已撤销（{entry.revoke_reason}），不能续期")
    if not entry.validity_years:
        kind = "只在当年度有效" if entry.valid_to else "没有规定有效期"
        raise UserError(f"证书 {entry.number} 的称号{kind}，不能续期")
    why = renewal_date_problem(entry, today)
    if why:
        raise UserError(why)
    end = valid_until(today, entry.validity_years)
    conn.execute(sa.update(certificates).where(certificates.c.number == entry.number)
                 .values(valid_from=today.isoformat(), valid_to=end.isoformat(), check_code=None))
    _event(conn, entry.number, "renewed", today, today, end)
    return lookup(conn, entry.number)


#: A renewal (复评) may come this long after the term ended (a late review), never years after it.
RENEW_GRACE = timedelta(days=366)


def renewal_date_problem(entry: Entry, day: date) -> str | None:
    """Given a certificate and a renewal date, return why the date cannot renew it (Chinese), or None: not
    before the certificate's issue or current term, not more than RENEW_GRACE after its term ended."""
    if day < entry.issued_on:
        return f"续期日期 {zh_date(day)} 早于证书 {entry.number} 的颁发日期 {zh_date(entry.issued_on)}"
    if day < entry.valid_from:
        return f"续期日期 {zh_date(day)} 早于证书 {entry.number} 本期有效期的开始 {zh_date(entry.valid_from)}"
    if entry.valid_to and day > entry.valid_to + RENEW_GRACE:
        return (f"续期日期 {zh_date(day)} 距证书 {entry.number} 有效期届满（{zh_date(entry.valid_to)}）已超过一年："
                f"称号已过期，应重新申报")
    return None


def record_reissue(conn, entry: Entry, today: date) -> None:
    """Given a certificate about to be printed again with its current term (after a renewal) and the day, keep
    the print as a 'reissued' event with that term and the code it carries."""
    if today < entry.valid_from:
        raise UserError(f"换发日期 {zh_date(today)} 早于证书 {entry.number} 本期有效期的开始 {zh_date(entry.valid_from)}")
    conn.execute(sa.insert(events).values(number=entry.number, kind="reissued", on_date=today.isoformat(),
                                          valid_from=_iso(entry.valid_from), valid_to=_iso(entry.valid_to),
                                          check_code=entry.check_code))


def change(conn, number: str, action: str, reason: str = "", today: date | None = None) -> Entry:
    """Given a number and an action ('revoke', with a reason, or 'renew'), do it on `today`; return the entry."""
    if action == "revoke":
        return revoke(conn, number, reason, today)
    if action == "renew":
        return renew(conn, number, today)
    raise UserError("未知的登记簿操作")


LIST_HEADER = ("证书编号", "企业名称", "类别", "项目名称", "称号", "有效期自", "有效期至", "状态", "撤销日期", "撤销原因",
               "评选项目", "颁发日期")
#: Printed where a certificate has no last day.
NO_END = "未规定"


def _program(program_id: str):
    """Given a program id, return its Program, or None when no program file has it (an old or foreign register)."""
    from pipeline.definitions.programs import load_program

    try:
        return load_program(program_id)
    except UserError:
        return None


def program_name(program_id: str) -> str:
    """Given a program id, return the program's name, or the id itself when no program file has it."""
    program = _program(program_id)
    return program.name if program else program_id


def category_name(category: str, program_id: str | None = None) -> str:
    """Given a category id (and its program), return its printed name (产品类, 服务明星), or the id when unknown."""
    program = _program(program_id) if program_id else None
    if program and category in program.categories:
        return program.categories[category].name
    return categories().get(category, category)


def list_row(entry: Entry, today: date | None = None) -> list:
    """Given an entry, return its row of the register listing (LIST_HEADER order)."""
    return [entry.number, entry.company, category_name(entry.category, entry.program), entry.project or "",
            entry.title, entry.valid_from.isoformat(), _iso(entry.valid_to) or NO_END, STATES_ZH[entry.state(today)],
            entry.revoked_on.isoformat() if entry.revoked_on else "", entry.revoke_reason or "",
            program_name(entry.program), entry.issued_on.isoformat()]


def validity_line(entry: Entry) -> str:
    """Given an entry, return its validity as `register verify` prints it."""
    if entry.valid_to:
        return f"{zh_date(entry.valid_from)} 至 {zh_date(entry.valid_to)}"
    return f"{NO_END}（{zh_date(entry.valid_from)}颁发）"


#: What `register verify` calls the holder, by the subject of the certificate's category.
HOLDER_ZH = {"organisation": "持有单位", "team": "获奖班组", "person": "获 奖 人"}


def holder_label(entry: Entry) -> str:
    """Given an entry, return what its holder is called: 持有单位, or 获奖班组 / 获 奖 人 for a team or a person."""
    program = _program(entry.program) if entry.program else None
    category = program.categories.get(entry.category) if program else None
    return HOLDER_ZH.get(category.subject if category else "organisation", HOLDER_ZH["organisation"])


def describe(entry: Entry, today: date | None = None) -> list[str]:
    """Given an entry, return the lines `register verify` prints, in Chinese."""
    state = entry.state(today)
    lines = [f"证书编号：{entry.number}", f"评选项目：{program_name(entry.program)}", f"{holder_label(entry)}：{entry.company}",
             f"称　　号：{entry.title}", f"类　　别：{category_name(entry.category, entry.program)}"]
    if entry.project:
        lines.append(f"项　　目：{entry.project}")
    lines += [f"颁发单位：{entry.issuer}", f"颁发日期：{zh_date(entry.issued_on)}", f"有 效 期：{validity_line(entry)}",
              f"状　　态：{STATES_ZH[state]}"]
    if state == "revoked":
        lines += [f"撤销日期：{zh_date(entry.revoked_on)}", f"撤销原因：{entry.revoke_reason}"]
    return lines


EVENT_ZH = {"issued": "颁发", "renewed": "续期", "revoked": "撤销", "reissued": "换发新证书"}


def history_lines(events_: list[dict]) -> list[str]:
    """Given a certificate's events (`history`), return one Chinese line each: first issue, renewals, revocation,
    with dates, terms and reasons."""
    lines = []
    for e in events_:
        line = f"{zh_date(date.fromisoformat(e['on_date']))} {EVENT_ZH[e['kind']]}"
        if e.get("valid_from"):
            end = f"至 {zh_date(date.fromisoformat(e['valid_to']))}" if e.get("valid_to") else f"（{NO_END}期限）"
            line += f"，有效期 {zh_date(date.fromisoformat(e['valid_from']))} {end}"
        if e.get("reason"):
            line += f"，原因：{e['reason']}"
        lines.append(line)
    return lines


def expiring(conn, today: date, within: timedelta) -> list[Entry]:
    """Given a connection, a day and a window, return the certificates in force whose term ends within the
    window from that day (oldest end first): the titles due for 复评."""
    due = [e for e in entries(conn) if e.state(today) == "valid" and e.valid_to and e.valid_to <= today + within]
    return sorted(due, key=lambda e: (e.valid_to, e.number))


def lapsed_note(conn, today: date, within: timedelta) -> str | None:
    """Given a connection, the day and the window of a 复评 listing, return a Chinese line on the titles whose term
    already ended before that day without renewal (they are not in the listing, which is of titles still in
    force), naming a day from which the listing holds them; None when there are none."""
    lapsed = [e for e in entries(conn) if e.state(today) == "expired"]
    if not lapsed:
        return None
    first = min(e.valid_to for e in lapsed)
    since = max(first - within + timedelta(days=1), min(e.valid_from for e in lapsed))
    last = max(e.valid_to for e in lapsed)
    when = zh_date(first) if first == last else f"{zh_date(first)} 至 {zh_date(last)}"
    return (f"另有 {len(lapsed)} 个称号的有效期已于 {when} "
            f"届满，未续期也未撤销，不算“即将届满”；要列出它们届满前的名单（最早届满的在内），请加 --as-of {since.isoformat()}")


def save_list(entries_: list[Entry], path: Path, today: date | None = None) -> Path:
    """Given entries, write the register listing as a workbook at `path`; return the path."""
    book = new_workbook()
    add_sheet(book, "证书登记簿", list(LIST_HEADER), [list_row(e, today) for e in entries_])
    save(book, Path(path))
    return Path(path)


# --- check codes --------------------------------------------------------------------------------------

#: Letters and digits a check code is written in (base32); what people mistype for them is read as them.
_MISREAD = str.maketrans({"0": "O", "1": "I", "8": "B"})
CODE_LENGTH = 10  # 50 bits: guessing is hopeless behind the verify page's rate limit


def check_code(secret: bytes, number: str, issue: int) -> str:
    """Given the association's secret, a certificate number and its issue (1, then 2 after a renewal …),
    return the check code printed on it: HMAC-SHA256 in base32, in two groups (ABCDE-FGHJK)."""
    digest = hmac.new(secret, f"{number}\n{issue}".encode(), hashlib.sha256).digest()
    code = base64.b32encode(digest).decode()[:CODE_LENGTH]
    return f"{code[:5]}-{code[5:]}"


def _code_key(code: str | None) -> str:
    """Given a code as typed (any case, spaces, hyphens, 0 for O …), return it as stored, without the hyphen."""
    return re.sub(r"[^A-Z2-7]", "", (code or "").upper().translate(_MISREAD))


def with_codes(conn, entries_: list[Entry], secret: bytes) -> list[Entry]:
    """Given entries about to be printed and the association's secret, give each without a code the code of
    its latest issue or renewal (kept on the certificate and on that event); return the entries with codes."""
    done = []
    for entry in entries_:
        if entry.check_code is None:
            e = events.c
            latest = conn.execute(sa.select(e.id).where(e.number == entry.number, e.kind.in_(("issued", "renewed")))
                                  .order_by(e.id.desc())).first()
            issues = conn.execute(sa.select(sa.func.count()).where(
                e.number == entry.number, e.kind.in_(("issued", "renewed")))).scalar()
            code = check_code(secret, entry.number, max(issues, 1))
            conn.execute(sa.update(certificates).where(certificates.c.number == entry.number).values(check_code=code))
            if latest:
                conn.execute(sa.update(events).where(e.id == latest[0]).values(check_code=code))
            entry = lookup(conn, entry.number)
        done.append(entry)
    return done


@dataclass(frozen=True)
class Checked:
    """What a number and a check code prove: the certificate, and whether the code is of its current print."""

    entry: Entry
    current: bool
    renewed_on: date | None = None  # the last renewal, when there was one


def check(conn, number: str, code: str) -> Checked | None:
    """Given a number and a check code as typed, return what they prove, or None when no certificate has both
    (a wrong number and a wrong code look the same)."""
    entry = lookup(conn, number)
    given = _code_key(code)
    if entry is None or not given:
        return None
    e = events.c
    renewed = conn.execute(sa.select(sa.func.max(e.on_date)).where(e.number == entry.number, e.kind == "renewed")).scalar()
    renewed_on = date.fromisoformat(renewed) if renewed else None
    if entry.check_code and hmac.compare_digest(_code_key(entry.check_code), given):
        return Checked(entry, True, renewed_on)
    earlier = conn.execute(sa.select(e.check_code).where(e.number == entry.number, e.check_code.is_not(None))).scalars()
    if any(hmac.compare_digest(_code_key(old), given) for old in earlier):
        return Checked(entry, False, renewed_on)
    return None


#: The statuses the public check shows.
REPLACED = "已被新证书替代"


def public_lines(found: Checked, today: date | None = None) -> list[tuple[str, str]]:
    """Given a checked certificate, return what anyone may see of it as (label, value): holder, title,
    category, year, term and status; nothing else (no reviewer, score or contact)."""
    entry = found.entry
    lines = [("证书编号", entry.number), (holder_label(entry).replace(" ", ""), entry.company), ("称号", entry.title),
             ("类别", category_name(entry.category, entry.program)), ("颁发年份", f"{entry.issued_on.year}年"),
             ("有效期", validity_line(entry))]
    if not found.current:
        return lines + [("状态", REPLACED)]
    return lines + [("状态", public_status(entry, found.renewed_on, today))]


def public_status(entry: Entry, renewed_on: date | None, today: date | None = None) -> str:
    """Given an entry and its last renewal (or None), return its status as the public sees it: 有效 (已续期),
    已过期 with the last day, 已撤销 with the date and reason."""
    state = entry.state(today)
    if state == "revoked":
        return f"已撤销（{zh_date(entry.revoked_on)}撤销，原因：{entry.revoke_reason}）"
    if state == "expired":
        return f"已过期（有效期至{zh_date(entry.valid_to)}）"
    return STATES_ZH[state] + (f"（已于{zh_date(renewed_on)}续期）" if renewed_on else "")


# --- the register the association publishes ------------------------------------------------------------

#: The columns of the published register: what anyone may know of a title, no number (the verify page does not
#: tell which numbers exist), no contact, no reviewer, no score.
PUBLIC_HEADER = ("持有单位（获奖人）", "项目名称", "称号", "类别", "颁发年份", "有效期", "状态")


def public_register(conn, today: date | None = None) -> list[list[str]]:
    """Given a register, return one row per certificate as the association may publish it (PUBLIC_HEADER), by
    year (newest first), title and holder."""
    e = events.c
    renewals = dict(conn.execute(sa.select(e.number, sa.func.max(e.on_date)).where(e.kind == "renewed")
                                 .group_by(e.number)).all())
    rows = []
    for entry in entries(conn):
        renewed = renewals.get(entry.number)
        rows.append([entry.company, entry.project or "", entry.title, category_name(entry.category, entry.program),
                     f"{entry.issued_on.year}年", validity_line(entry),
                     public_status(entry, date.fromisoformat(renewed) if renewed else None, today)])
    return sorted(rows, key=lambda r: (-int(r[4][:-1]), r[2], r[0], r[1]))


def save_public(rows: list[list[str]], path: Path) -> Path:
    """Given the published register's rows, write them as a workbook at `path`; return the path."""
    book = new_workbook()
    add_sheet(book, "证书名录", list(PUBLIC_HEADER), rows)
    save(book, Path(path))
    return Path(path)
