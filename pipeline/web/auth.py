"""Accounts and roles: who may do what on the page.

Passwords are hashed with argon2id (argon2-cffi's defaults follow RFC 9106). Every route names
the permission it needs; a route without one is refused (deny by default, see `app.route`).
On 127.0.0.1 the one local user is an administrator without a login.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import pyotp

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.common.errors import UserError

#: Role → the permissions it has. `review`: enter 审定意见 for one's own applicants.
ROLES = {
    "admin": frozenset({"read", "staff", "admin", "review", "tally"}),
    "staff": frozenset({"read", "staff", "tally"}),
    "reviewer": frozenset({"review"}),
}
#: In the order the account form offers them: the first, the default, is the least powerful.
ROLE_NAMES = {"reviewer": "评审专家", "staff": "工作人员", "admin": "管理员"}
#: Permissions a route may name beside the roles': `public` needs no account (login page, 申报自检).
PERMISSIONS = frozenset().union(*ROLES.values()) | {"public", "user"}

_HASHER = PasswordHasher()
#: Checked against when the name is unknown or disabled, so every sign-in costs one argon2 check and
#: the answer time does not tell which names exist.
_DUMMY_HASH = _HASHER.hash("manyi: no such account")


@dataclass(frozen=True)
class User:
    """A signed-in person: name and role (the local user of 127.0.0.1 is an admin)."""

    name: str
    role: str
    local: bool = False

    def can(self, permission: str) -> bool:
        """Given a permission, return whether this user has it ('user': any signed-in account)."""
        return permission in ("public", "user") or permission in ROLES.get(self.role, ())

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


LOCAL_USER = User(name="本机用户", role="admin", local=True)


def hash_password(password: str) -> str:
    """Given a password, return its argon2id hash (salted; the text encodes the parameters)."""
    return _HASHER.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Given a stored hash and a typed password, return whether they match."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def spend_one_check(password: str) -> None:
    """Given the password typed for an unknown or disabled name, verify it against a dummy hash (always false),
    so that answer takes as long as one for a real account."""
    password_matches(_DUMMY_HASH, password)


def check_new_user(name: str, role: str, password: str) -> None:
    """Given a new account's name, role and password, raise a Chinese UserError unless they are usable."""
    if role not in ROLES:
        raise UserError(f"没有角色“{role}”，可用：{'、'.join(ROLES)}")
    if not name or len(name) > 64 or any(ch.isspace() or ord(ch) < 32 for ch in name):
        raise UserError("用户名不能为空、不能含空格，最长 64 个字符")
    if len(password) < 8:
        raise UserError("密码至少 8 个字符")


# --- a second factor for administrators: TOTP (RFC 6238, what authenticator apps speak) -----------------------

#: Codes of the step before and after now are accepted too (a phone's clock a little off).
TOTP_WINDOW = 1


def new_totp_secret() -> str:
    """Return a new random TOTP secret (base32, 160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, name: str, issuer: str = "manyi") -> str:
    """Given a secret and the account, return the otpauth:// address an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


def totp_step(secret: str, code: str, now: float | None = None) -> int | None:
    """Given a secret and a typed code, return the time step the code belongs to (within TOTP_WINDOW of now),
    or None when it is no code of this secret."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp, now = pyotp.TOTP(secret), time.time() if now is None else now
    current = totp.timecode(_utc(now))
    for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(current + offset), code):
            return current + offset
    return None


def _utc(stamp: float):
    from datetime import datetime, timezone

    return datetime.fromtimestamp(stamp, timezone.utc)
