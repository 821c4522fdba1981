"""Review rounds in a workspace: the panel of each round, who scores whom, their scores, the round's close.

The rounds and their sheets are the program's (`program.review_rounds()`); this module keeps what happens in
them, in tables of its own (versioned like the accounts: `review_schema` in `meta`):

- `review_experts`: the panel of a round (name, 推进单位, region). An expert who signs in to the page has an
  account of the reviewer role with the same name.
- `review_conflicts`: what an expert declared (an applicant, or a whole unit) they may not judge.
- `review_assignments`: expert × applicant, with a deadline; a recused assignment stays (state `recused`).
- `review_scores`: the points of each criterion, the comments and the weighted total; one row per expert and
  applicant, replaced while the round is open, every change in the audit log with what it replaced.
- `review_round_state`: when a round was closed and by whom; after that nothing of it changes.

An expert is never given an applicant of their own 推进单位 or region (the round's `exclude`), nor one they
declared a conflict with; assignment goes to the least loaded eligible experts. In a blind round an expert sees
the other experts' scores of an applicant only after submitting their own. Applicants see none of it: nothing
here is part of a notice, a record or the self-check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from pipeline.checking.ranking import Ranked, rank
from pipeline.common.errors import UserError
from pipeline.common.records import company_name
from pipeline.common.text import clean, fold
from pipeline.definitions.stages import CLOSINGS
from pipeline.workspace import db
from pipeline.workspace.core import ZONE, _require_name

metadata = sa.MetaData()

experts = sa.Table(
    "review_experts", metadata,
    sa.Column("round_id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("unit", sa.Text),
    sa.Column("region", sa.Text),
    sa.Column("email", sa.Text),  # where reminders go when the portal's mail is set up
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)
conflicts = sa.Table(
    "review_conflicts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("round_id", sa.String(40), nullable=False),
    sa.Column("expert", sa.String(64), nullable=False),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey(db.applicants.c.id)),  # None: a whole unit
    sa.Column("unit", sa.Text),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)
assignments = sa.Table(
    "review_assignments", metadata,
    sa.Column("round_id", sa.String(40), primary_key=True),
    sa.Column("expert", sa.String(64), primary_key=True),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey(db.applicants.c.id), primary_key=True),
    sa.Column("state", sa.String(12), nullable=False),  # active / recused
    sa.Column("deadline", sa.String(10)),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)
scores = sa.Table(
    "review_scores", metadata,
    sa.Column("round_id", sa.String(40), primary_key=True),
    sa.Column("expert", sa.String(64), primary_key=True),
    sa.Column("applicant_id", sa.Integer, sa.ForeignKey(db.applicants.c.id), primary_key=True),
    sa.Column("points", sa.Text, nullable=False),  # JSON: criterion id → points
    sa.Column("comments", sa.Text, nullable=False),  # JSON: comment id → text
    sa.Column("total", sa.Float, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
)
round_state = sa.Table(
    "review_round_state", metadata,
    sa.Column("round_id", sa.String(40), primary_key=True),
    sa.Column("closed_at", sa.String(32)),
    sa.Column("closed_by", sa.Text),
)

REVIEW_KEY = "review_schema"
#: The review's tables, in the order a dump writes and loads them; the dump's name inside `workspace export`.
TABLES = (experts, conflicts, assignments, scores, round_state)
DUMP = "review.jsonl"


def _add_email(conn) -> None:
    """Within a connection, give the panel its e-mail column (a database made before it had none; one made by
    the first step today already has it)."""
    if "email" not in {c["name"] for c in sa.inspect(conn).get_columns(experts.name)}:
        conn.exec_driver_sql(f"ALTER TABLE {experts.name} ADD COLUMN email TEXT")


MIGRATIONS = [lambda conn: metadata.create_all(conn), _add_email]
ACTIVE, RECUSED = "active", "recused"
STATES = {ACTIVE: "评审中", RECUSED: "已回避"}


def migrate(ws) -> int:
    """Given an open Workspace, create the review tables when missing (backing up a database with a campaign
    first); return the schema version they had."""
    with ws.engine.connect() as conn:
        found = int(db.get_meta(conn, REVIEW_KEY, "0"))
        if not sa.inspect(conn).has_table(scores.name):
            found = 0
        holds = conn.execute(sa.select(sa.func.count()).select_from(db.applicants)).scalar_one() > 0
    if found >= len(MIGRATIONS):
        return found
    if holds:
        ws.backup()
    with ws.engine.begin() as conn:
        for step in MIGRATIONS[found:]:
            step(conn)
        db.set_meta(conn, REVIEW_KEY, str(len(MIGRATIONS)))
    return found


def dump(conn, out) -> dict[str, int]:
    """Given a connection and a text stream, write the review's tables as JSON lines ({"table", "row"}); return rows
    per table (a database without them writes nothing)."""
    inspector = sa.inspect(conn)
    present, counts = set(inspector.get_table_names()), {}
    for table in (t for t in TABLES if t.name in present):
        has = {c["name"] for c in inspector.get_columns(table.name)}  # a backup before a migration lacks new columns
        rows = conn.execute(sa.select(*[c for c in table.columns if c.name in has])
                            .order_by(*table.primary_key.columns)).all()
        for row in rows:
            out.write(json.dumps({"table": table.name, "row": dict(row._mapping)}, ensure_ascii=False) + "\n")
        counts[table.name] = len(rows)
    return counts


def load(conn, lines) -> dict[str, int]:
    """Given a connection to a database being imported (the campaign's rows already loaded) and dump lines, create the
    review's tables and insert the rows; return rows per table. PostgreSQL's id sequence moves past the loaded ids."""
    metadata.create_all(conn)
    batch: dict[str, list] = {}
    for line in lines:
        if line.strip():
            item = json.loads(line)
            batch.setdefault(item["table"], []).append(item["row"])
    for table in TABLES:
        if batch.get(table.name):
            conn.execute(sa.insert(table), batch[table.name])
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{conflicts.name}', 'id'), "
                             f"COALESCE((SELECT MAX(id) FROM {conflicts.name}), 0) + 1, false)")
    db.set_meta(conn, REVIEW_KEY, str(len(MIGRATIONS)))
    return {t.name: len(batch.get(t.name) or []) for t in TABLES}


def _audit(conn, by: str, action: str, applicant_id: int | None, detail: dict) -> None:
    conn.execute(sa.insert(db.audit).values(at=db.now(), by=by, action=action, applicant_id=applicant_id,
                                            detail=json.dumps(detail, ensure_ascii=False)))


def today() -> date:
    """Return today in the association's time zone."""
    return datetime.now(ZONE).date()


def _same(a: str | None, b: str | None) -> bool:
    """Given two unit names, return whether they are one (spaces, full-width forms and case folded)."""
    return bool(a and b) and fold(clean(a)) == fold(clean(b))


# --- the panel and conflicts ---------------------------------------------------------------------


def email_or_none(text: str | None) -> str | None:
    """Given an e-mail address as typed (blank: none), return it trimmed, or raise a UserError saying what is wrong."""
    text = (text or "").strip()
    if not text:
        return None
    local, at, domain = text.partition("@")
    if not (at and local and "." in domain) or any(c.isspace() for c in text) or "@" in domain:
        raise UserError(f"电子邮箱格式不正确：{text}（应如 zhangsan@example.cn）")
    return text


def add_expert(ws, round_id: str, name: str, unit: str | None, region: str | None, by: str,
               email: str | None = None) -> None:
    """Given a round, an expert's name, 推进单位, region and e-mail, put them on the round's panel (again: updated;
    an e-mail not given keeps the one they had)."""
    ws.program.review_round(round_id)
    name, by, email = _require_name(name), _require_name(by), email_or_none(email)
    migrate(ws)
    with ws.engine.begin() as conn:
        had = conn.execute(sa.select(experts.c.email).where(experts.c.round_id == round_id,
                                                             experts.c.name == name)).scalar_one_or_none()
        conn.execute(sa.delete(experts).where(experts.c.round_id == round_id, experts.c.name == name))
        conn.execute(sa.insert(experts).values(round_id=round_id, name=name, unit=(unit or "").strip() or None,
                                               region=(region or "").strip() or None, email=email or had,
                                               by=by, at=db.now()))
        _audit(conn, by, "评审专家", None, {"round": round_id, "expert": name, "unit": unit, "region": region,
                                        "email": email or had})


def panel(ws, round_id: str) -> list[dict]:
    """Given a round, return its experts {name, unit, region, email}, by name."""
    migrate(ws)
    with ws.reader.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(experts.c.name, experts.c.unit, experts.c.region, experts.c.email)
            .where(experts.c.round_id == round_id).order_by(experts.c.name))]


def declared(ws, round_id: str) -> list[dict]:
    """Given a round, return the conflicts declared in it {expert, applicant_id, unit, reason}."""
    with ws.reader.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(conflicts.c.expert, conflicts.c.applicant_id, conflicts.c.unit, conflicts.c.reason)
            .where(conflicts.c.round_id == round_id).order_by(conflicts.c.id))]


def region_of(record: dict, field: str | None) -> str | None:
    """Given a record and the field holding its address (None: none), return that value from any of its forms."""
    if not field:
        return None
    for values in (record.get("forms") or {}).values():
        if isinstance(values, dict) and isinstance(values.get(field), str) and values[field].strip():
            return values[field].strip()
    return None


@dataclass(frozen=True)
class Candidate:
    """An applicant of a round as assignment sees it: id, name, 推进单位, address."""

    id: int
    name: str
    unit: str | None
    region: str | None


def candidates(ws, rnd) -> list[Candidate]:
    """Given a Round, return the applicants in its stage (by id) with their 推进单位 and region."""
    return [Candidate(id=r["applicant_id"], name=company_name(r) or "",
                      unit=ws.program.promoting_unit(r), region=region_of(r, rnd.region_field))
            for r in sorted(ws.latest_records(stage=rnd.stage), key=lambda r: r["applicant_id"])]


def why_not(expert: dict, applicant: Candidate, rnd, declared_: list[dict]) -> str | None:
    """Given an expert {name, unit, region}, an applicant, the Round and its declared conflicts, return why the
    expert may not judge the applicant (Chinese), or None when they may."""
    for c in declared_:
        if c["expert"] == expert["name"] and (c["applicant_id"] == applicant.id or _same(c["unit"], applicant.unit)):
            return f"{expert['name']}已声明与该申报存在利益冲突（{c['reason']}）"
    if rnd.exclude_unit and _same(expert.get("unit"), applicant.unit):
        return f"{expert['name']}与该申报同属推进单位“{applicant.unit}”"
    if expert.get("region") and applicant.region and fold(expert["region"]) in fold(applicant.region):
        return f"{expert['name']}与该申报同在{expert['region']}"
    return None


# --- assignments ---------------------------------------------------------------------------------


def _closed(conn, round_id: str) -> str | None:
    """Within a connection, return when a round was closed (None: open)."""
    query = sa.select(round_state.c.closed_at).where(round_state.c.round_id == round_id)
    return conn.execute(query).scalar_one_or_none()


def _refuse_closed(conn, rnd) -> None:
    if _closed(conn, rnd.id):
        raise UserError(f"{rnd.name}已结束，评分已锁定，不能再分配或修改")


def _loads(conn, round_id: str) -> dict[str, int]:
    rows = conn.execute(sa.select(assignments.c.expert, sa.func.count()).where(
        assignments.c.round_id == round_id, assignments.c.state == ACTIVE).group_by(assignments.c.expert))
    return {e: n for e, n in rows}


def _active(conn, round_id: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for e, a, s in conn.execute(sa.select(assignments.c.expert, assignments.c.applicant_id, assignments.c.state)
                                .where(assignments.c.round_id == round_id)):
        found.setdefault(a, set())
        if s == ACTIVE:
            found[a].add(e)
    return found


def _recused(conn, round_id: str) -> set[tuple[str, int]]:
    return {(e, a) for e, a in conn.execute(sa.select(assignments.c.expert, assignments.c.applicant_id).where(
        assignments.c.round_id == round_id, assignments.c.state == RECUSED))}


def deadline_of(rnd, start: date | None = None) -> date:
    """Given a Round (and the day assignment starts, today by default), return the day scores are due."""
    return (start or today()) + timedelta(days=rnd.deadline_days)


def auto_assign(ws, round_id: str, by: str, per: int | None = None, deadline: date | None = None) -> list[str]:
    """Given a round, give every applicant in its stage `per` experts (the round's number by default), each time
    the eligible expert with the fewest assignments (then by name), never one excluded or recused; return a
    Chinese line per applicant that could not get enough experts (empty: all did)."""
    rnd = ws.program.review_round(round_id)
    by, per = _require_name(by), per or rnd.experts_per_applicant
    people, conflicts_ = panel(ws, round_id), declared(ws, round_id)
    if not people:
        raise UserError(f"{rnd.name}还没有评审专家：请先添加（manyi review expert）")
    due = (deadline or deadline_of(rnd)).isoformat()
    short = []
    with ws.engine.begin() as conn:
        _refuse_closed(conn, rnd)
        loads, active, recused = _loads(conn, round_id), _active(conn, round_id), _recused(conn, round_id)
        added = []
        for applicant in candidates(ws, rnd):
            have = active.get(applicant.id, set())
            pool = sorted((p for p in people if p["name"] not in have and (p["name"], applicant.id) not in recused
                           and why_not(p, applicant, rnd, conflicts_) is None),
                          key=lambda p: (loads.get(p["name"], 0), p["name"]))
            for p in pool[: max(0, per - len(have))]:
                _put(conn, round_id, p["name"], applicant.id, due, by)
                loads[p["name"]] = loads.get(p["name"], 0) + 1
                added.append([p["name"], applicant.id])
            got = len(have) + len(pool[: max(0, per - len(have))])
            if got < per:
                short.append(f"{applicant.name}：只有 {got} 位可分配的专家（需要 {per} 位）")
        _audit(conn, by, "自动分配评审", None, {"round": round_id, "added": added, "short": short})
    return short


def _put(conn, round_id: str, expert: str, applicant_id: int, due: str | None, by: str) -> None:
    conn.execute(sa.delete(assignments).where(assignments.c.round_id == round_id, assignments.c.expert == expert,
                                              assignments.c.applicant_id == applicant_id))
    conn.execute(sa.insert(assignments).values(round_id=round_id, expert=expert, applicant_id=applicant_id,
                                               state=ACTIVE, deadline=due, by=by, at=db.now()))


def assign(ws, round_id: str, expert: str, applicant_ids: list[int], by: str, deadline: date | None = None) -> None:
    """Given a round, an expert of its panel and applicants, assign them by hand; refused (in Chinese, nothing
    assigned) when the expert may not judge one of them."""
    rnd = ws.program.review_round(round_id)
    by = _require_name(by)
    person = next((p for p in panel(ws, round_id) if p["name"] == expert), None)
    if person is None:
        raise UserError(f"“{expert}”不是{rnd.name}的评审专家")
    found = {c.id: c for c in candidates(ws, rnd)}
    refusals = []
    for aid in applicant_ids:
        if aid not in found:
            refusals.append(f"编号 {aid} 的申报不在“{rnd.stage}”阶段")
        else:
            reason = why_not(person, found[aid], rnd, declared(ws, round_id))
            if reason:
                refusals.append(f"{found[aid].name}：{reason}")
    if refusals:
        raise UserError("不能分配：" + "；".join(refusals))
    due = (deadline or deadline_of(rnd)).isoformat()
    with ws.engine.begin() as conn:
        _refuse_closed(conn, rnd)
        for aid in applicant_ids:
            _put(conn, round_id, expert, aid, due, by)
        _audit(conn, by, "分配评审", None, {"round": round_id, "expert": expert, "applicants": applicant_ids})


def declare_conflict(ws, round_id: str, expert: str, applicant_id: int | None, reason: str, by: str,
                     unit: str | None = None) -> str | None:
    """Given a round, an expert, an applicant (or a unit) and the reason, record the conflict; when the expert was
    assigned that applicant, recuse them and give it to the least loaded eligible expert. Return the replacement's
    name (None: none was needed, or none was free: then staff assign by hand)."""
    rnd = ws.program.review_round(round_id)
    by = _require_name(by)
    if not (reason or "").strip():
        raise UserError("请写明利益冲突的原因（如：曾在该单位任职）")
    if applicant_id is None and not (unit or "").strip():
        raise UserError("请指明存在利益冲突的申报或单位")
    with ws.engine.begin() as conn:
        _refuse_closed(conn, rnd)
        conn.execute(sa.insert(conflicts).values(round_id=round_id, expert=expert, applicant_id=applicant_id,
                                                 unit=(unit or "").strip() or None, reason=reason.strip(), by=by,
                                                 at=db.now()))
        _audit(conn, by, "声明利益冲突", applicant_id, {"round": round_id, "expert": expert, "unit": unit,
                                                   "reason": reason.strip()})
        hit = [a for a, in conn.execute(sa.select(assignments.c.applicant_id).where(
            assignments.c.round_id == round_id, assignments.c.expert == expert, assignments.c.state == ACTIVE))
            if a == applicant_id or unit]
        if unit:
            found = {c.id: c for c in candidates(ws, rnd)}
            hit = [a for a in hit if a in found and _same(found[a].unit, unit)]
        for aid in hit:
            conn.execute(sa.update(assignments).where(assignments.c.round_id == round_id,
                                                      assignments.c.expert == expert,
                                                      assignments.c.applicant_id == aid).values(state=RECUSED))
            conn.execute(sa.delete(scores).where(scores.c.round_id == round_id, scores.c.expert == expert,
                                                 scores.c.applicant_id == aid))
    if not hit:
        return None
    before = {aid: set(e) for aid, e in _active_now(ws, round_id).items()}
    auto_assign(ws, round_id, by)
    after = _active_now(ws, round_id)
    new = sorted(set().union(*(after.get(aid, set()) - before.get(aid, set()) for aid in hit)))
    return "、".join(new) or None


def _active_now(ws, round_id: str) -> dict[int, set[str]]:
    with ws.reader.connect() as conn:
        return _active(conn, round_id)


def assignments_of(ws, round_id: str, expert: str | None = None) -> list[dict]:
    """Given a round (and an expert: only theirs), return its assignments {expert, applicant_id, state, deadline,
    scored (bool)}, by applicant and expert."""
    migrate(ws)
    a, s = assignments, scores
    query = (sa.select(a.c.expert, a.c.applicant_id, a.c.state, a.c.deadline, s.c.total)
             .select_from(a.outerjoin(s, sa.and_(s.c.round_id == a.c.round_id, s.c.expert == a.c.expert,
                                                 s.c.applicant_id == a.c.applicant_id)))
             .where(a.c.round_id == round_id).order_by(a.c.applicant_id, a.c.expert))
    if expert is not None:
        query = query.where(a.c.expert == expert)
    with ws.reader.connect() as conn:
        return [{"expert": e, "applicant_id": aid, "state": st, "deadline": dl, "scored": total is not None,
                 "total": total} for e, aid, st, dl, total in conn.execute(query)]


def assigned_ids(ws, expert: str) -> set[int]:
    """Given an expert, return the applicants they are assigned (not recused) in any round: what they may open."""
    migrate(ws)
    with ws.reader.connect() as conn:
        return {a for a, in conn.execute(sa.select(assignments.c.applicant_id).where(
            assignments.c.expert == expert, assignments.c.state == ACTIVE))}


def progress(ws, round_id: str, on: date | None = None) -> list[dict]:
    """Given a round (and a day, today by default), return per expert {expert, assigned, done, left, overdue,
    deadline}: what the page and the reminders show."""
    day = (on or today()).isoformat()
    found: dict[str, dict] = {}
    for row in assignments_of(ws, round_id):
        if row["state"] != ACTIVE:
            continue
        p = found.setdefault(row["expert"], {"expert": row["expert"], "assigned": 0, "done": 0, "overdue": 0,
                                             "deadline": row["deadline"]})
        p["assigned"] += 1
        p["done"] += row["scored"]
        p["overdue"] += (not row["scored"]) and bool(row["deadline"]) and row["deadline"] < day
        p["deadline"] = min(filter(None, (p["deadline"], row["deadline"])), default=None)
    for p in found.values():
        p["left"] = p["assigned"] - p["done"]
    return sorted(found.values(), key=lambda p: p["expert"])


def reminders(ws, round_id: str, on: date | None = None, within: int = 3) -> list[dict]:
    """Given a round (a day, today by default, and how many days ahead count as due soon), return one reminder per
    expert with unscored applicants that are overdue or due within those days: {expert, overdue, soon, text}; the
    text is what staff send (there is no mail server here: they paste it or the portal's mail sends it)."""
    rnd = ws.program.review_round(round_id)
    day = on or today()
    names = {r.id: r.company_name for r in ws.applicants(limit=None).items}
    found: dict[str, dict] = {}
    for a in assignments_of(ws, round_id):
        if a["state"] != ACTIVE or a["scored"] or not a["deadline"]:
            continue
        due = date.fromisoformat(a["deadline"])
        if due > day + timedelta(days=within):
            continue
        item = found.setdefault(a["expert"], {"expert": a["expert"], "overdue": [], "soon": []})
        item["overdue" if due < day else "soon"].append((names.get(a["applicant_id"]), due))
    for item in found.values():
        lines = [f"{item['expert']}专家：您好！{ws.program.name}{rnd.name}（{rnd.article}）尚有以下申报未提交评分："]
        lines += [f"  {name}（截止 {due.isoformat()}，已逾期）" for name, due in item["overdue"]]
        lines += [f"  {name}（截止 {due.isoformat()}）" for name, due in item["soon"]]
        lines.append("请登录评审页面完成评分。如与某份申报存在利益冲突，请在该申报的评分页声明并回避。")
        item["text"] = "\n".join(lines)
    return sorted(found.values(), key=lambda i: i["expert"])


def mail_reminders(ws, round_id: str, on: date | None = None, within: int = 3) -> tuple[list[dict], list[dict]]:
    """Given a round (a day and how many days ahead count, as `reminders`), put one e-mail per expert to remind
    into the portal's outbox (keyed by round, expert and day: a second call that day adds nothing); return
    (the reminders queued now or already queued today, those that could not be mailed: no address, or mail
    not set up). `mail.send_outbox` sends them."""
    from pipeline.workspace import mail  # mail is optional: its tables are made only when it is used

    day = (on or today()).isoformat()
    addresses = {p["name"]: p["email"] for p in panel(ws, round_id)}
    on_mail = mail.settings_of(ws) is not None
    rnd = ws.program.review_round(round_id)
    mailed, unmailed = [], []
    for item in reminders(ws, round_id, on, within):
        to = addresses.get(item["expert"])
        if not (on_mail and to):
            unmailed.append(item)
            continue
        mail.queue(ws, f"review-remind:{round_id}:{item['expert']}:{day}", "remind", to,
                   f"{ws.campaign.name}{rnd.name}评分提醒（{item['expert']}）", item["text"] + mail._signature(ws))
        mailed.append({**item, "email": to})
    return mailed, unmailed


# --- scores --------------------------------------------------------------------------------------


def submit(ws, round_id: str, expert: str, applicant_id: int, points: dict, comments: dict, by: str) -> float:
    """Given a round, an expert, an assigned applicant, the points of each criterion and the comments, keep the
    score (replacing the expert's earlier one) and return the weighted total; the change (old and new) goes to
    the audit log. Refused when the round is closed, the applicant is not assigned to the expert, or the sheet is
    not filled as it says."""
    rnd = ws.program.review_round(round_id)
    by = _require_name(by)
    if closed(ws, round_id):  # said first: a locked round is the answer, whatever the sheet holds
        raise UserError(f"{rnd.name}已结束，评分已锁定，不能再分配或修改")
    kept, texts = rnd.sheet.check(points, comments)
    total = rnd.sheet.total(kept)
    with ws.engine.begin() as conn:
        _refuse_closed(conn, rnd)
        state = conn.execute(sa.select(assignments.c.state).where(
            assignments.c.round_id == round_id, assignments.c.expert == expert,
            assignments.c.applicant_id == applicant_id)).scalar_one_or_none()
        if state != ACTIVE:
            raise UserError(f"编号 {applicant_id} 的申报没有分配给 {expert}（或已回避），不能评分")
        old = conn.execute(sa.select(scores.c.points, scores.c.comments, scores.c.total).where(
            scores.c.round_id == round_id, scores.c.expert == expert, scores.c.applicant_id == applicant_id)).first()
        conn.execute(sa.delete(scores).where(scores.c.round_id == round_id, scores.c.expert == expert,
                                             scores.c.applicant_id == applicant_id))
        conn.execute(sa.insert(scores).values(round_id=round_id, expert=expert, applicant_id=applicant_id,
                                              points=json.dumps(kept), comments=json.dumps(texts, ensure_ascii=False),
                                              total=total, at=db.now()))
        _audit(conn, by, "修改评分" if old else "评分", applicant_id, {
            "round": round_id, "expert": expert, "points": kept, "comments": texts, "total": total,
            "before": {"points": json.loads(old.points), "comments": json.loads(old.comments), "total": old.total}
            if old else None})
    return total


def scores_of(ws, round_id: str, applicant_id: int | None = None) -> list[dict]:
    """Given a round (and an applicant), return its submitted scores {expert, applicant_id, points, comments, total,
    at}, by applicant and expert."""
    migrate(ws)
    query = sa.select(scores).where(scores.c.round_id == round_id).order_by(scores.c.applicant_id, scores.c.expert)
    if applicant_id is not None:
        query = query.where(scores.c.applicant_id == applicant_id)
    with ws.reader.connect() as conn:
        return [{**r._mapping, "points": json.loads(r.points), "comments": json.loads(r.comments)}
                for r in conn.execute(query)]


def visible_scores(ws, round_id: str, expert: str, applicant_id: int) -> tuple[dict | None, list[dict]]:
    """Given a round, an expert and an applicant, return (the expert's own score or None, the other experts'
    scores they may see): in a blind round none before their own is submitted."""
    rnd = ws.program.review_round(round_id)
    every = scores_of(ws, round_id, applicant_id)
    mine = next((s for s in every if s["expert"] == expert), None)
    others = [s for s in every if s["expert"] != expert]
    return mine, (others if mine is not None or not rnd.blind else [])


def close(ws, round_id: str, by: str) -> None:
    """Given a round, close it: from now on no score, assignment or conflict of it changes."""
    rnd = ws.program.review_round(round_id)
    by = _require_name(by)
    migrate(ws)
    with ws.engine.begin() as conn:
        _refuse_closed(conn, rnd)
        conn.execute(sa.delete(round_state).where(round_state.c.round_id == round_id))
        conn.execute(sa.insert(round_state).values(round_id=round_id, closed_at=db.now(), closed_by=by))
        _audit(conn, by, "结束评审轮次", None, {"round": round_id})


def closed(ws, round_id: str) -> bool:
    """Given a round, return whether it is closed (its scores locked)."""
    migrate(ws)
    with ws.reader.connect() as conn:
        return bool(_closed(conn, round_id))


def ranking(ws, round_id: str) -> list[Ranked]:
    """Given a round, return its applicants ranked (`checking.ranking.rank`) over the submitted scores, with the
    round's outlier gap and how many it keeps."""
    rnd = ws.program.review_round(round_id)
    assigned: dict[int, list[str]] = {}
    for row in assignments_of(ws, round_id):
        assigned.setdefault(row["applicant_id"], [])
        if row["state"] == ACTIVE:
            assigned[row["applicant_id"]].append(row["expert"])
    every = [(s["applicant_id"], s["expert"], s["total"]) for s in scores_of(ws, round_id)]
    return rank(every, assigned, rnd.sheet.outlier_points, rnd.keep)


# --- documents -----------------------------------------------------------------------------------


def entries(ws) -> dict:
    """Return applicant id → Entry (number, name, category's printed name, 推进单位) for the review's documents."""
    from pipeline.issuing.review_documents import Entry

    return {r.id: Entry(id=r.id, name=r.company_name or f"A{r.id:05d}", category=ws.program.category_name(r.category),
                        unit=r.promoting_unit or "") for r in ws.applicants(limit=None).items}


def round_reports(ws, round_id: str, out, day: date | None = None) -> list:
    """Given a round and a folder, write its ranking workbook, its 评审结果汇总表 and the reports the round names
    (反馈报告 for those not kept, 现场评审报告 for each visited); return the paths."""
    from pathlib import Path

    from pipeline.issuing import review_documents as docs

    rnd = ws.program.review_round(round_id)
    ranked, every, named = ranking(ws, round_id), scores_of(ws, round_id), entries(ws)
    folder = Path(out)
    paths = [docs.ranking_workbook(folder / f"{rnd.name}评分排名.xlsx", ws.program, rnd, ranked, named, every),
             docs.summary_document(folder / f"评审结果汇总表-{rnd.name}.docx", ws.program, rnd, ranked, named,
                                   closed(ws, round_id))]
    if "feedback" in rnd.reports:
        paths += docs.feedback_reports(folder / "反馈报告", ws.program, rnd, ranked, named, every, day or today())
    if "site" in rnd.reports:
        paths += docs.site_reports(folder / "现场评审报告", ws.program, rnd, ranked, named, every)
    return paths


def decision_documents(ws, out, start: date | None = None) -> list:
    """Given a folder (and the first day of publicity, today by default), write the 公示名单 of the applicants in
    the program's publicity stage with its period, and the 审定记录 (winning stage: 审定通过; publicity: 待审定);
    return the paths (none for a program without publicity or approval body)."""
    from pathlib import Path

    from pipeline.issuing import review_documents as docs

    flow, program, named = ws.flow, ws.program, entries(ws)
    start, paths = start or today(), []
    rows = ws.applicants(limit=None).items
    if flow.publicity:
        shown = [named[r.id] for r in rows if r.stage == flow.publicity.stage]
        paths.append(docs.publicity_list(Path(out) / "公示名单.docx", program, shown, start,
                                         flow.publicity.end(start), flow.publicity.describe(), flow.publicity.article))
    approval = program.get("review_approval")
    if approval and approval.get("form"):
        paths += approval_forms(ws, approval, Path(out) / "审定意见", start)
    if approval:
        winning = flow.role("winning")
        waiting = flow.publicity.stage if flow.publicity else None
        decided = [(named[r.id], "审定通过" if r.stage == winning else "待审定") for r in rows
                   if r.stage in (winning, waiting)]
        paths.append(docs.approval_record(Path(out) / "审定记录.docx", program, decided, start, approval["body"],
                                          approval.get("article", "")))
    return paths


def approval_forms(ws, approval: dict, folder, day: date) -> list:
    """Given the program's `review_approval` with the form holding the approving body's opinion, a folder and the
    day, write that form of every decided applicant (winning stage: `passed`; a closing stage: `refused`) with the
    opinion filled in from the decision; return the paths."""
    from pipeline.issuing import review_documents as docs

    flow, named = ws.flow, entries(ws)
    winning = flow.role("winning")
    closing = [s for s in flow.names() if flow.closing(s) and s not in CLOSINGS]  # 未获奖, not 撤回
    decided = []
    for record in ws.latest_records(stage=[winning, *closing]):
        text = approval["passed"] if record["stage"] == winning else approval["refused"]
        decided.append((named[record["applicant_id"]], (record.get("forms") or {}).get(approval["form"]), text))
    return docs.approval_forms(folder, ws.campaign.context(), approval["form"], decided, approval["field"],
                               approval.get("date_field"), day)
