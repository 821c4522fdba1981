"""The reviewers' 审定意见 of a workspace, read back: each reviewer's last word on an applicant counts.

An opinion is a row of the `decisions` table (kind `opinion`); a reviewer may write again, and then
only the newest of their rows is their opinion. The tally (how many reviewers, recommended or not,
the mean score) is computed over those last words.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipeline.workspace import db


def last_opinions(ws, ids: list[int] | None = None) -> dict[int, dict[str, dict]]:
    """Given a workspace (and applicant ids, None for all), return applicant id → reviewer → their last opinion
    {text, recommend, score}."""
    d = db.decisions
    query = (sa.select(d.c.applicant_id, d.c.note, d.c.recommend, d.c.score, d.c.by)
             .where(d.c.kind == "opinion").order_by(d.c.id))
    if ids is not None:
        if not ids:
            return {}
        query = query.where(d.c.applicant_id.in_(list(ids)))
    found: dict[int, dict[str, dict]] = {}
    with ws.reader.connect() as conn:
        for aid, note, recommend, score, by in conn.execute(query):
            # rows come oldest first: a later row of the same reviewer replaces the earlier one
            found.setdefault(aid, {})[by] = {"text": note, "recommend": recommend, "score": score}
    return found


def tally(ws, rows) -> list[dict]:
    """Given a workspace and applicant rows, return per row its reviewers' last words counted: {row, opinions,
    yes, no, score (mean, one decimal, or None), by (reviewers, sorted)}."""
    latest = last_opinions(ws)
    out = []
    for row in rows:
        words = latest.get(row.id, {})
        scores = [w["score"] for w in words.values() if w["score"] is not None]
        out.append({"row": row, "opinions": len(words),
                    "yes": sum(w["recommend"] is True for w in words.values()),
                    "no": sum(w["recommend"] is False for w in words.values()),
                    "score": round(sum(scores) / len(scores), 1) if scores else None, "by": sorted(words)})
    return out


def opinions_of(ws, reviewer: str, ids: list[int]) -> dict[int, dict]:
    """Given a workspace, a reviewer and applicant ids, return applicant id → that reviewer's last opinion."""
    return {aid: words[reviewer] for aid, words in last_opinions(ws, ids).items() if reviewer in words}


def progress(ws, assigned: dict[str, set[int]]) -> list[dict]:
    """Given reviewer → the applicant ids assigned to them, return per reviewer {reviewer, assigned, done, left}:
    done counts the assigned applicants they have given an opinion on (by name)."""
    latest = last_opinions(ws)
    out = []
    for name in sorted(assigned):
        done = sum(1 for aid in assigned[name] if name in latest.get(aid, {}))
        out.append({"reviewer": name, "assigned": len(assigned[name]), "done": done,
                    "left": len(assigned[name]) - done})
    return out
