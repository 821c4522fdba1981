"""The certificate register: one SQLite file that hands out numbers and answers "is this genuine?".

A certificate is keyed by (campaign, category, folded company name, folded project name), so
printing again gives the same number; a new winner takes the next sequence number of its
campaign and category. Numbers are taken inside `BEGIN IMMEDIATE` (one writer at a time) and
the number column is UNIQUE, so two runs racing on the same file never issue one twice.
Every issue, renewal and revocation is also kept as a row of `events`: the history stays.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from pipeline.campaign import zh_date
from pipeline.errors import UserError
from pipeline.forms import categories
from pipeline.text import fold
from pipeline.xlsx import add_sheet, new_workbook, save

DEFAULT_REGISTER = Path("output") / "register.db"
SCHEMA_VERSION = 1
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
]


@dataclass(frozen=True)
class Winner:
    """One winner to number: the campaign facts come with it so the register needs no campaign file."""

    company: str
    category: str
    project: str | None = None


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
    validity_years: int
    issued_on: date
    valid_from: date
    valid_to: date
    revoked_on: date | None
    revoke_reason: str | None

    def state(self, today: date | None = None) -> str:
        """Return 'revoked', 'expired' or 'valid' as of `today`."""
        if self.revoked_on:
            return "revoked"
        return "expired" if self.valid_to < (today or date.today()) else "valid"


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
    if not path.is_file():
        if not create:
            raise UserError(f"证书登记簿不存在：{path}（尚未颁发过证书，或用 --register 指定登记簿文件）")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise UserError(f"无法打开证书登记簿 {path}：{exc}") from exc
    with closing(conn):
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
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


def assign(conn: sqlite3.Connection, winners: list[Winner], *, program: str, campaign: str, prefix: str,
           codes: dict[str, str], titles: dict[str, str], issuer: str, validity_years: int,
           today: date) -> list[Entry]:
    """Given winners and the campaign's facts, return their entries: existing ones kept, new ones numbered.

    All winners are numbered in one transaction, so a run either records all of them or none.
    """
    numbers = []
    with write_transaction(conn):
        for w in winners:
            key = (campaign, w.category, key_of(w.company), key_of(w.project))
            row = conn.execute("SELECT number FROM certificates WHERE campaign=? AND category=? "
                               "AND company_key=? AND project_key=?", key).fetchone()
            if row:
                numbers.append(row[0])
                continue
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM certificates WHERE campaign=? AND category=?",
                               key[:2]).fetchone()[0]
            number = format_number(prefix, codes[w.category], seq)
            valid_to = valid_until(today, validity_years)
            try:
                conn.execute(
                    "INSERT INTO certificates (number, program, campaign, category, seq, company, company_key, "
                    "project, project_key, title, issuer, validity_years, issued_on, valid_from, valid_to) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (number, program, campaign, w.category, seq, w.company, key[2], w.project or None, key[3],
                     titles[w.category], issuer, validity_years, today.isoformat(), today.isoformat(),
                     valid_to.isoformat()))
            except sqlite3.IntegrityError:
                raise UserError(f"证书编号 {number} 已被其他活动使用：请在活动文件中为本活动设置不同的 "
                                f"certificate.number_prefix") from None
            _event(conn, number, "issued", today, today, valid_to)
            numbers.append(number)
    return [lookup(conn, n) for n in numbers]


def _event(conn, number: str, kind: str, on: date, start: date | None = None, end: date | None = None,
           reason: str | None = None) -> None:
    conn.execute("INSERT INTO events (number, kind, on_date, valid_from, valid_to, reason) VALUES (?,?,?,?,?,?)",
                 (number, kind, on.isoformat(), start and start.isoformat(), end and end.isoformat(), reason))


_COLUMNS = ("number, program, campaign, category, company, project, title, issuer, validity_years, "
            "issued_on, valid_from, valid_to, revoked_on, revoke_reason")


def _entry(row) -> Entry:
    values = list(row)
    for i in (9, 10, 11, 12):
        values[i] = date.fromisoformat(values[i]) if values[i] else None
    return Entry(*values)


def lookup(conn: sqlite3.Connection, number: str) -> Entry | None:
    """Given a certificate number (any case, spaces around), return its entry or None."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM certificates WHERE number = ? COLLATE NOCASE",
                       ((number or "").strip(),)).fetchone()
    return _entry(row) if row else None


def entries(conn: sqlite3.Connection, campaign: str | None = None) -> list[Entry]:
    """Given a connection (and optionally a campaign id), return the entries by campaign, category, sequence."""
    sql = f"SELECT {_COLUMNS} FROM certificates"
    args: tuple = ()
    if campaign:
        sql += " WHERE campaign = ?"
        args = (campaign,)
    return [_entry(r) for r in conn.execute(sql + " ORDER BY campaign, category, seq", args)]


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
        end = valid_until(today, entry.validity_years)
        conn.execute("UPDATE certificates SET valid_from=?, valid_to=? WHERE number=?",
                     (today.isoformat(), end.isoformat(), entry.number))
        _event(conn, entry.number, "renewed", today, today, end)
    return lookup(conn, entry.number)


LIST_HEADER = ("证书编号", "企业名称", "类别", "项目名称", "称号", "有效期自", "有效期至", "状态", "撤销日期", "撤销原因")


def category_name(category: str) -> str:
    """Given a category id, return its printed name (产品类), or the id itself when unknown."""
    return categories().get(category, category)


def list_row(entry: Entry, today: date | None = None) -> list:
    """Given an entry, return its row of the register listing (LIST_HEADER order)."""
    return [entry.number, entry.company, category_name(entry.category), entry.project or "", entry.title,
            entry.valid_from.isoformat(), entry.valid_to.isoformat(), STATES_ZH[entry.state(today)],
            entry.revoked_on.isoformat() if entry.revoked_on else "", entry.revoke_reason or ""]


def describe(entry: Entry, today: date | None = None) -> list[str]:
    """Given an entry, return the lines `register verify` prints, in Chinese."""
    state = entry.state(today)
    lines = [f"证书编号：{entry.number}", f"持有单位：{entry.company}", f"称　　号：{entry.title}",
             f"类　　别：{category_name(entry.category)}"]
    if entry.project:
        lines.append(f"项　　目：{entry.project}")
    lines += [f"颁发单位：{entry.issuer}", f"有 效 期：{zh_date(entry.valid_from)} 至 {zh_date(entry.valid_to)}",
              f"状　　态：{STATES_ZH[state]}"]
    if state == "revoked":
        lines += [f"撤销日期：{zh_date(entry.revoked_on)}", f"撤销原因：{entry.revoke_reason}"]
    return lines


def save_list(entries_: list[Entry], path: Path, today: date | None = None) -> Path:
    """Given entries, write the register listing as a workbook at `path`; return the path."""
    book = new_workbook()
    add_sheet(book, "证书登记簿", list(LIST_HEADER), [list_row(e, today) for e in entries_])
    save(book, Path(path))
    return Path(path)
