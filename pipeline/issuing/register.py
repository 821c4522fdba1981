"""The certificate register: one SQLite file that hands out numbers and answers "is this genuine?".

A certificate is keyed by (program, campaign, category, folded company name, folded project
name), so printing again gives the same number; a new winner takes the next sequence number of
its program, campaign and category. Programs are kept apart: listings and look-ups can be limited
to one program, and each certificate keeps its own title and validity (so many years, to the end
of the title's year, or none when the program sets none). Numbers are taken inside `BEGIN IMMEDIATE` (one writer at a time) and
the number column is UNIQUE, so two runs racing on the same file never issue one twice.
Every issue, renewal and revocation is also kept as a row of `events`: the history stays.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pipeline.common import outputs
from pipeline.common.errors import UserError
from pipeline.common.text import fold
from pipeline.common.xlsx import add_sheet, new_workbook, save
from pipeline.definitions.campaign import zh_date
from pipeline.definitions.forms import categories

DEFAULT_REGISTER = Path("output") / "register.db"
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 60
STATES_ZH = {"valid": "有效", "revoked": "已撤销", "expired": "已过期"}
NUMBER_RE = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")

# Each entry upgrades the schema from version i to i + 1; later versions append here.
MIGRATIONS = [
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
]


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


@contextmanager
def connect(path: Path, create: bool = True):
    """Yield a connection to the register at `path`, created and migrated to the current schema."""
    path = Path(path)
    new = not path.is_file()
    if new:
        if not create:
            raise UserError(f"证书登记簿不存在：{path}（尚未颁发过证书，或用 --register 指定登记簿文件）")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise UserError(f"无法打开证书登记簿 {path}：{exc}") from exc
    if new:
        outputs.note_live(path)  # manyi's own, changed in place by every issue, renewal and revocation
    with closing(conn):
        try:
            migrate(conn)  # before foreign keys are on: a migration may rebuild a referenced table
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise UserError(f"证书登记簿 {path} 无法使用：{exc}") from exc


def migrate(conn: sqlite3.Connection) -> None:
    """Given a connection, bring its schema up to SCHEMA_VERSION (in one write transaction)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError("证书登记簿由更新版本的 manyi 创建，请升级 manyi 后再使用")
        for script in MIGRATIONS[version:]:
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextmanager
def write_transaction(conn: sqlite3.Connection):
    """Run the block as one transaction that holds the write lock from its start."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def format_number(prefix: str, code: str, seq: int) -> str:
    """Given a prefix, a category code and a sequence number, return the number (HLJ2017-CP-0001)."""
    number = f"{prefix}-{code}-{seq:04d}"
    if not NUMBER_RE.match(number):
        raise UserError(f"证书编号 {number} 含有字母、数字、连字符以外的字符：请检查活动文件中的 number_prefix")
    return number


def registered(conn: sqlite3.Connection, winner: Winner, program: str, campaign: str) -> Entry | None:
    """Given a winner of a program's campaign, return its certificate when the register already has one, else None."""
    row = conn.execute("SELECT number FROM certificates WHERE program=? AND campaign=? AND category=? "
                       "AND company_key=? AND project_key=?",
                       (program, campaign, winner.category, key_of(winner.company), key_of(winner.project))).fetchone()
    return lookup(conn, row[0]) if row else None


def assign(conn: sqlite3.Connection, winners: list[Winner], *, program: str, campaign: str, prefix: str,
           codes: dict[str, str], issuer: str, today: date, titles: dict[str, str] | None = None,
           validity_years: int | None = None, terms: Callable[[Winner], Terms] | None = None) -> list[Entry]:
    """Given winners and the campaign's facts, return their entries: existing ones kept, new ones numbered.

    `terms(winner)` gives each new certificate's title and validity; without it, `titles` by
    category and `validity_years` do. All winners are numbered in one transaction, so a run
    either records all of them or none.
    """
    terms = terms or (lambda w: Terms(titles[w.category], validity_years))
    numbers = []
    with write_transaction(conn):
        for w in winners:
            key = (program, campaign, w.category, key_of(w.company), key_of(w.project))
            row = conn.execute("SELECT number FROM certificates WHERE program=? AND campaign=? AND category=? "
                               "AND company_key=? AND project_key=?", key).fetchone()
            if row:
                numbers.append(row[0])
                continue
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM certificates "
                               "WHERE program=? AND campaign=? AND category=?", key[:3]).fetchone()[0]
            number = format_number(prefix, codes[w.category], seq)
            granted = terms(w)
            valid_to = granted.valid_to(today)
            try:
                conn.execute(
                    "INSERT INTO certificates (number, program, campaign, category, tier, seq, company, company_key, "
                    "project, project_key, title, issuer, validity_years, issued_on, valid_from, valid_to) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (number, program, campaign, w.category, w.tier, seq, w.company, key[3], w.project or None,
                     key[4], granted.title, issuer, granted.years, today.isoformat(), today.isoformat(),
                     _iso(valid_to)))
            except sqlite3.IntegrityError:
                holder = conn.execute("SELECT campaign, program FROM certificates WHERE number=?", (number,)).fetchone()
                used_by = f"活动 {holder[0]}（{program_name(holder[1])}）" if holder else "其他活动"
                raise UserError(f"证书编号 {number} 已被{used_by}使用：请在活动文件中为本活动设置不同的 "
                                f"certificate.number_prefix") from None
            _event(conn, number, "issued", today, today, valid_to)
            numbers.append(number)
    return [lookup(conn, n) for n in numbers]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _event(conn, number: str, kind: str, on: date, start: date | None = None, end: date | None = None,
           reason: str | None = None) -> None:
    conn.execute("INSERT INTO events (number, kind, on_date, valid_from, valid_to, reason) VALUES (?,?,?,?,?,?)",
                 (number, kind, on.isoformat(), _iso(start), _iso(end), reason))


_COLUMNS = ("number, program, campaign, category, company, project, title, issuer, validity_years, "
            "issued_on, valid_from, valid_to, revoked_on, revoke_reason, tier")


def _entry(row) -> Entry:
    values = list(row)
    for i in (9, 10, 11, 12):
        values[i] = date.fromisoformat(values[i]) if values[i] else None
    return Entry(*values)


def lookup(conn: sqlite3.Connection, number: str, program: str | None = None) -> Entry | None:
    """Given a certificate number (any case, spaces around) and optionally a program id, return its entry or None."""
    sql = f"SELECT {_COLUMNS} FROM certificates WHERE number = ? COLLATE NOCASE"
    args: tuple = ((number or "").strip(),)
    if program:
        sql += " AND program = ?"
        args += (program,)
    row = conn.execute(sql, args).fetchone()
    return _entry(row) if row else None


def entries(conn: sqlite3.Connection, campaign: str | None = None, program: str | None = None) -> list[Entry]:
    """Given a connection (optionally a campaign id and a program id), return the entries in number order."""
    wanted = {"campaign": campaign, "program": program}
    where = [f"{column} = ?" for column, value in wanted.items() if value]
    sql = f"SELECT {_COLUMNS} FROM certificates" + (" WHERE " + " AND ".join(where) if where else "")
    args = tuple(value for value in wanted.values() if value)
    return [_entry(r) for r in conn.execute(sql + " ORDER BY program, campaign, category, seq", args)]


def history(conn: sqlite3.Connection, number: str) -> list[dict]:
    """Given a number, return its events oldest first (kind, on_date, valid_from, valid_to, reason)."""
    rows = conn.execute("SELECT kind, on_date, valid_from, valid_to, reason FROM events "
                        "WHERE number = ? COLLATE NOCASE ORDER BY id", ((number or "").strip(),))
    return [dict(zip(("kind", "on_date", "valid_from", "valid_to", "reason"), r)) for r in rows]


def _require(conn, number: str) -> Entry:
    entry = lookup(conn, number)
    if entry is None:
        raise UserError(f"登记簿中没有证书编号 {number}")
    return entry


def revoke(conn: sqlite3.Connection, number: str, reason: str, today: date | None = None) -> Entry:
    """Given a number and a reason, mark the title withdrawn (第十六条、第十八条) and return the entry."""
    reason = (reason or "").strip()
    if not reason:
        raise UserError("撤销证书须写明原因（--reason）")
    today = today or date.today()
    with write_transaction(conn):
        entry = _require(conn, number)
        if entry.revoked_on:
            raise UserError(f"证书 {entry.number} 已于 {entry.revoked_on.isoformat()} 撤销")
        conn.execute("UPDATE certificates SET revoked_on=?, revoke_reason=? WHERE number=?",
                     (today.isoformat(), reason, entry.number))
        _event(conn, entry.number, "revoked", today, reason=reason)
    return lookup(conn, entry.number)


def renew(conn: sqlite3.Connection, number: str, today: date | None = None) -> Entry:
    """Given a number re-confirmed after re-evaluation (第十四条复评), start a new validity today; return the entry."""
    today = today or date.today()
    with write_transaction(conn):
        entry = _require(conn, number)
        if entry.revoked_on:
            raise UserError(f"证书 {entry.number} 已撤销（{entry.revoke_reason}），不能续期")
        if not entry.validity_years:
            kind = "只在当年度有效" if entry.valid_to else "没有规定有效期"
            raise UserError(f"证书 {entry.number} 的称号{kind}，不能续期")
        end = valid_until(today, entry.validity_years)
        conn.execute("UPDATE certificates SET valid_from=?, valid_to=? WHERE number=?",
                     (today.isoformat(), end.isoformat(), entry.number))
        _event(conn, entry.number, "renewed", today, today, end)
    return lookup(conn, entry.number)


LIST_HEADER = ("证书编号", "企业名称", "类别", "项目名称", "称号", "有效期自", "有效期至", "状态", "撤销日期", "撤销原因",
               "评选项目")
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
            program_name(entry.program)]


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
    lines += [f"颁发单位：{entry.issuer}", f"有 效 期：{validity_line(entry)}", f"状　　态：{STATES_ZH[state]}"]
    if state == "revoked":
        lines += [f"撤销日期：{zh_date(entry.revoked_on)}", f"撤销原因：{entry.revoke_reason}"]
    return lines


def save_list(entries_: list[Entry], path: Path, today: date | None = None) -> Path:
    """Given entries, write the register listing as a workbook at `path`; return the path."""
    book = new_workbook()
    add_sheet(book, "证书登记簿", list(LIST_HEADER), [list_row(e, today) for e in entries_])
    save(book, Path(path))
    return Path(path)
