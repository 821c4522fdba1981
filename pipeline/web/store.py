"""The page's view of the accounts, reviewer assignments and audit log, all kept in the workspace
database by `pipeline.workspace.accounts` (its tables come with their own migration)."""

from __future__ import annotations

from pathlib import Path

from pipeline.workspace import accounts, junk

#: Who `manyi user add` names in the audit log.
COMMAND_LINE = "命令行"


class Store:
    """Accounts, assignments and the audit log of one open workspace."""

    def __init__(self, ws):
        self.ws = ws
        accounts.migrate(ws)
        junk.migrate(ws)

    def user(self, name: str) -> dict | None:
        """Given a user name, return its row (name, role, password hash, disabled), or None."""
        return accounts.user(self.ws, name)

    def users(self) -> list[dict]:
        return accounts.all_users(self.ws)

    def add_user(self, name: str, role: str, password_hash: str, by: str = COMMAND_LINE) -> str:
        """Add a new account (a name taken or reserved is refused in Chinese); return the name as kept."""
        return accounts.add_user(self.ws, name, role, password_hash, by)

    def set_password(self, name: str, password_hash: str, by: str) -> None:
        accounts.set_password(self.ws, name, password_hash, by)

    def set_role(self, name: str, role: str, by: str) -> None:
        accounts.set_role(self.ws, name, role, by)

    def set_disabled(self, name: str, disabled: bool, by: str) -> None:
        accounts.set_disabled(self.ws, name, disabled, by)

    def delete_user(self, name: str, by: str) -> None:
        accounts.delete_user(self.ws, name, by)

    def set_totp(self, name: str, secret: str | None, by: str) -> None:
        accounts.set_totp(self.ws, name, secret, by)

    def use_totp_step(self, name: str, step: int) -> bool:
        return accounts.use_totp_step(self.ws, name, step)

    def end_sessions(self, name: str, by: str) -> None:
        accounts.end_sessions(self.ws, name, by)

    def assign(self, reviewer: str, applicant_ids: list[int], by: str, on: bool = True) -> None:
        accounts.assign(self.ws, reviewer, [int(i) for i in applicant_ids], by, on)

    def assigned(self, reviewer: str) -> set[int]:
        return accounts.assigned(self.ws, reviewer)

    def reviewers_of(self) -> dict[int, list[str]]:
        return accounts.reviewers_by_applicant(self.ws)

    def audit(self, entry: dict) -> None:
        """Given an entry made by `app.audit_line`, add it to the workspace's audit log."""
        detail = {k: entry[k] for k in ("target", "detail", "address") if entry.get(k)}
        accounts.log(self.ws, entry["user"] or "（未登录）", entry["action"], entry.get("applicant_id"), detail or None)

    def audit_log(self, limit: int = 300) -> list[dict]:
        return self.ws.audit_log(limit=limit)


def add_user(root: Path, name: str, role: str, password: str) -> None:
    """Given a workspace folder, add a new account; raise UserError for a bad, reserved or taken name, a bad
    role or password."""
    from pipeline.web.auth import check_new_user, hash_password
    from pipeline.workspace import Workspace

    name = accounts.normal_name(name)
    check_new_user(name, role, password)
    with Workspace.open(root) as ws:  # a workspace, or the library's Chinese error
        Store(ws).add_user(name, role, hash_password(password))
