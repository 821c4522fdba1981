"""The issue a reader raises about a submission (the contract's issue dict), for every module of the stage."""

from __future__ import annotations


def make_issue(severity: str, code: str, message: str, form: str | None = None, field: str | None = None,
               **extra) -> dict:
    """Given an issue's parts, return the contract's issue dict (extra keys such as file, article kept)."""
    out = {"severity": severity, "code": code, "form": form, "field": field, "message": message}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out
