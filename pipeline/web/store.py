"""The page's own rows — accounts, reviewer assignments, the audit log — kept beside the workspace.

Placeholder storage until the workspace database gains these tables through its migrations.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL,
    created TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS web_assignments (reviewer TEXT NOT NULL, applicant TEXT NOT NULL,
    PRIMARY KEY (reviewer, applicant));
CREATE TABLE IF NOT EXISTS web_audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, user TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL, address TEXT NOT NULL);
"""


class Store:
    """Accounts, assignments and the audit log of one workspace."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.row_factory = sqlite3.Row
        return conn

    def _run(self, sql: str, args=()) -> list[dict]:
        with self._lock, self._connect() as conn:
            return [dict(r) for r in conn.execute(sql, args).fetchall()]

    def user(self, name: str) -> dict | None:
        """Given a user name, return its row (name, role, password hash, disabled), or None."""
        rows = self._run("SELECT * FROM web_users WHERE name = ?", (name,))
        return rows[0] if rows else None

    def users(self) -> list[dict]:
        return self._run("SELECT name, role, created, disabled FROM web_users ORDER BY name")

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        """Add an account, or give an existing one its new role and password."""
        self._run("INSERT INTO web_users (name, role, password, created) VALUES (?, ?, ?, ?) "
                  "ON CONFLICT(name) DO UPDATE SET role = excluded.role, password = excluded.password, disabled = 0",
                  (name, role, password_hash, time.strftime("%Y-%m-%d %H:%M:%S")))

    def assign(self, reviewer: str, applicant: str, on: bool = True) -> None:
        if on:
            self._run("INSERT OR IGNORE INTO web_assignments VALUES (?, ?)", (reviewer, applicant))
        else:
            self._run("DELETE FROM web_assignments WHERE reviewer = ? AND applicant = ?", (reviewer, applicant))

    def assigned(self, reviewer: str) -> set[str]:
        """Given a reviewer, return the ids of the applicants assigned to them."""
        return {r["applicant"] for r in self._run("SELECT applicant FROM web_assignments WHERE reviewer = ?",
                                                  (reviewer,))}

    def reviewers_of(self) -> dict[str, list[str]]:
        """Return applicant id → its reviewers."""
        found: dict[str, list[str]] = {}
        for r in self._run("SELECT reviewer, applicant FROM web_assignments ORDER BY reviewer"):
            found.setdefault(r["applicant"], []).append(r["reviewer"])
        return found

    def audit(self, entry: dict) -> None:
        self._run("INSERT INTO web_audit (time, user, action, target, detail, address) VALUES (?, ?, ?, ?, ?, ?)",
                  (entry["time"], entry["user"], entry["action"], entry["target"], entry["detail"],
                   entry["address"] or ""))

    def audit_log(self, limit: int = 200) -> list[dict]:
        return self._run("SELECT * FROM web_audit ORDER BY id DESC LIMIT ?", (limit,))


def open_store(root: Path) -> Store:
    """Given the workspace folder, return its page store."""
    folder = Path(root) / "web"
    folder.mkdir(parents=True, exist_ok=True)
    return Store(folder / "web.db")


def add_user(root: Path, name: str, role: str, password: str) -> None:
    """Given a workspace folder, add (or update) an account; raise UserError for a bad name, role or password."""
    from pipeline.web.auth import check_new_user, hash_password
    from pipeline.workspace import Workspace

    name = (name or "").strip()
    check_new_user(name, role, password)
    Workspace.open(root).close()  # a workspace, or the library's Chinese error
    open_store(root).add_user(name, role, hash_password(password))
