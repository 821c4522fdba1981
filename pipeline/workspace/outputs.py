"""What a workspace gives out, through the same library as a records folder: 补正通知 (recorded: number, date,
items), the summary workbook, the 推荐汇总表, certificates for the winning stage, the screening workbook."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from pipeline.common.files import safe_filename
from pipeline.common.records import HONOURED_FIELD, company_name, honoured_name
from pipeline.common.xlsx import write_cells
from pipeline.definitions.vocabulary import Decision, Severity, Status, label_of
from pipeline.issuing.notices import deadline_for, has_errors, letter_issues, make_notices
from pipeline.issuing.workbook import write_summary
from pipeline.workspace import db
from pipeline.workspace.core import Workspace, _require_name

#: The folder of the workspace the notices sent are kept in, one folder per number (notices/BZ2017-0001/…):
#: a notice is downloaded again from here whenever asked, after a restart too.
NOTICES = "notices"
WORKSPACE_SHEET = "工作区"
WORKSPACE_HEADER = ("编号", "企业名称", "类别", "推进单位", "阶段", "状态", "版本数", "补正通知", "审定意见")


def notice_items(record: dict, program) -> list[dict]:
    """Given a record (issues after decisions) and its program, return the items a notice lists for it: its errors
    the applicant can act on (notices.letter_issues)."""
    return [{k: i.get(k) for k in ("code", "form", "field", "message")}
            for i in letter_issues(record, program) if i.get("severity") == Severity.ERROR]


def notice_number(campaign, seq: int) -> str:
    """Given the campaign and a sequence number, return a notice number (BZ2017-0001)."""
    return f"BZ{campaign.year}-{seq:04d}"


@dataclass
class NoticesResult:
    """A notices run over a workspace: the issuing library's Result and the notices recorded."""

    result: object
    recorded: list[dict]
    already_sent: int


def workspace_notices(ws: Workspace, out: Path, by: str, pdf: bool = False, today: date | None = None,
                      deadline: date | None = None, only: set[int] | None = None) -> NoticesResult:
    """Given a workspace, write a 补正通知 for each applicant whose latest version has errors and has not had
    one for that version (of the applicant ids `only`, when given), and record each (number, date, items).
    Returns what was written and recorded."""
    by = _require_name(by)
    today = today or ws.campaign.data.get("notice_date") or date.today()
    records = ws.latest_records()
    n = db.notices
    with ws.reader.connect() as conn:
        sent = {r[0] for r in conn.execute(sa.select(n.c.version_id))}
    failing = [r for r in records if has_errors(r, ws.program) and (only is None or r["applicant_id"] in only)]
    due = [r for r in failing if r["version_id"] not in sent]
    with ws.reader.connect() as conn:
        first = conn.execute(sa.select(sa.func.count()).select_from(n)).scalar_one() + 1
    # The numbers the letters print (文号) are the ones recorded below.
    numbers = [notice_number(ws.campaign, seq) for seq in range(first, first + len(due))]
    result = make_notices(due, out, ws.campaign, pdf=pdf, today=today, deadline=deadline, references=numbers)
    reply_by = deadline_for(ws.campaign, today, deadline)  # the day each letter prints: its answer is judged by it
    recorded = []
    pdfs = {p.stem: p for p in result.pdfs}
    for path, number in zip(result.files, numbers):  # kept before they are recorded: a recorded notice has its file
        keep_notice_files(ws, number, [path] + ([pdfs[path.stem]] if path.stem in pdfs else []))
    if due:
        with ws.engine.begin() as conn:
            for record, path, number in zip(due, result.files, numbers):
                row = {"applicant_id": record["applicant_id"], "version_id": record["version_id"],
                       "number": number, "date": today.isoformat(), "deadline": reply_by.isoformat(),
                       "items": json.dumps(notice_items(record, ws.program), ensure_ascii=False), "file": path.name,
                       "by": by, "at": db.now()}
                conn.execute(sa.insert(n).values(**row))
                ws._audit(conn, by, "notice", record["applicant_id"], {"number": row["number"], "file": path.name})
                recorded.append(row)
    return NoticesResult(result=result, recorded=recorded, already_sent=len(failing) - len(due))


def notice_folder(ws: Workspace, number: str) -> Path:
    """Given a workspace and a notice number, return the folder its files are kept in."""
    return ws.root / NOTICES / safe_filename(number)


def keep_notice_files(ws: Workspace, number: str, paths: list[Path]) -> None:
    """Given a workspace, a notice number and the files written for it (docx, and PDF when made), copy them into
    the notice's folder of the workspace (each through a temporary name, so a copy is whole or absent)."""
    folder = notice_folder(ws, number)
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        part = folder / f".{path.name}.part"
        shutil.copyfile(path, part)
        os.replace(part, folder / path.name)


def notice_files(ws: Workspace, number: str) -> list[Path]:
    """Given a workspace and a notice number, return the files kept for it: the letter (.docx) first, then its
    PDF; [] for a notice sent before notices were kept."""
    folder = notice_folder(ws, number)
    if not folder.is_dir():
        return []
    kept = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    return sorted(kept, key=lambda p: (p.suffix.lower() != ".docx", p.name))


def sent_notices(ws: Workspace, applicant_id: int | None = None) -> list[dict]:
    """Given a workspace (and an applicant id), return the notices sent, newest first: number, date, applicant id,
    company name, items, who, when (UTC, ISO) and the files kept."""
    n, t = db.notices, db.applicants
    query = (sa.select(n.c.number, n.c.date, n.c.applicant_id, n.c["items"], n.c.by, n.c.at, t.c.company_name)
             .join(t, t.c.id == n.c.applicant_id).order_by(n.c.id.desc()))
    if applicant_id is not None:
        query = query.where(n.c.applicant_id == applicant_id)
    with ws.reader.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:
        row["items"] = json.loads(row["items"] or "[]")
        row["files"] = notice_files(ws, row["number"])
    return rows


def notices_archive(ws: Workspace, target: Path, numbers: list[str] | None = None) -> Path:
    """Given a workspace, a new .zip path and notice numbers (None: every notice sent), write the kept files of
    those notices into the zip, each under its number's folder; return the path."""
    rows = sent_notices(ws)
    chosen = [r for r in rows if numbers is None or r["number"] in numbers]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in reversed(chosen):  # in the order they were sent
            for path in row["files"]:
                archive.write(path, f"{safe_filename(row['number'])}/{path.name}")
    return target


def workspace_rows(ws: Workspace, records: list[dict]) -> list[list]:
    """Given the workspace's latest records, return the 工作区 sheet's rows: stage, versions, notices, opinions."""
    n, d = db.notices, db.decisions
    with ws.reader.connect() as conn:
        sent: dict[int, list[str]] = {}
        for row in conn.execute(sa.select(n.c.applicant_id, n.c.number, n.c.date).order_by(n.c.id)):
            sent.setdefault(row[0], []).append(f"{row[1]}（{row[2]}）")
        opinions: dict[int, list[str]] = {}
        for aid, note, score, by in conn.execute(sa.select(d.c.applicant_id, d.c.note, d.c.score, d.c.by)
                                                  .where(d.c.kind == Decision.OPINION).order_by(d.c.id)):
            opinions.setdefault(aid, []).append(f"{note}（{'' if score is None else f'评分 {score:g}，'}{by}）")
    names = ws.program.category_names()
    return [[r["applicant_id"], company_name(r) or "", names.get(r.get("category"), r.get("category") or ""),
             ws.program.promoting_unit(r) or "", r["stage"],
             label_of(Status, r["status"]), r["version_count"], "；".join(sent.get(r["applicant_id"], [])),
             "；".join(opinions.get(r["applicant_id"], []))] for r in records]


def workspace_summary(ws: Workspace, path: Path) -> Path:
    """Given a workspace and a path, write the summary workbook (one row per applicant, latest version) with a
    工作区 sheet (stage, status, versions, notices, opinions); return the path."""
    from openpyxl import load_workbook

    records = ws.latest_records()
    write_summary(records, path, ws.campaign)
    book = load_workbook(path)  # the 工作区 sheet added to the workbook the issuing library wrote
    sheet = book.create_sheet(WORKSPACE_SHEET, 0)
    write_cells(sheet, [list(WORKSPACE_HEADER), *workspace_rows(ws, records)])
    book.save(path)
    return path


def winner_rows(ws: Workspace):
    """Return the winners (applicants in the winning stage) as the certificates library reads them."""
    from pipeline.issuing.certificates import WinnerRow

    rows = []
    for record in ws.latest_records(stage=ws.flow.role("winning")):
        category = record.get("category")
        project = honoured_name(record) if category in HONOURED_FIELD else None
        rows.append(WinnerRow(row=record["applicant_id"], company=company_name(record) or record.get("source") or "",
                              category=category, project=project if project != company_name(record) else None,
                              record=record, numbered_by_id=True))
    return rows


def workspace_certificates(ws: Workspace, out: Path, by: str, pdf: bool = False, today: date | None = None,
                           allow: dict[str, str] | None = None):
    """Given a workspace, print a certificate for each applicant in the winning stage that the program's rules
    allow (or `allow` lets through: applicant number → reason), numbered in the workspace's register; record
    the run and each row let through in the audit log; return the certificates Result."""
    from pipeline.common.errors import UserError
    from pipeline.issuing.certificates import certificates_for

    by = _require_name(by)
    winners = winner_rows(ws)
    if not winners:
        raise UserError(f"没有处于“{ws.flow.role('winning')}”阶段的申报：请先用 manyi stage 把获奖单位移到该阶段")
    result = certificates_for(winners, out, ws.campaign, ws.engine, pdf=pdf,
                              today=today or ws.campaign.data.get("award_date"), keys=keys_folder(ws), allow=allow)
    with ws.engine.begin() as conn:
        ws._audit(conn, by, "certificates", None, {"numbers": [e.number for e in result.entries], "out": str(out)})
        for allowed in result.allowed:
            ws._audit(conn, by, "winner_allowed", int(allowed["key"]),
                      {"rule": allowed["rule"], "reason": allowed["reason"]})
    return result


def keys_folder(ws: Workspace) -> Path:
    """Given a workspace, return the folder of its association's keys (check-code secret, signing CA)."""
    from pipeline.issuing.signing import keys_folder_of

    return keys_folder_of(workspace=ws.root)


def register_entries(ws: Workspace, number: str | None = None) -> list:
    """Given a workspace (and a certificate number), return the certificates of its register (that one only)."""
    from pipeline.issuing import register

    with register.connect(ws.reader, write=False) as conn:
        if number is None:
            return register.entries(conn)
        found = register.lookup(conn, number)
        return [found] if found else []


def register_change(ws: Workspace, number: str, action: str, by: str, reason: str = "", today: date | None = None):
    """Given a certificate number of the workspace's register, revoke it (with a reason) or renew it, as `by`,
    on `today`; record it in the audit log and return the changed entry."""
    from pipeline.issuing import register

    by = _require_name(by)
    with register.connect(ws.engine) as conn:
        entry = register.change(conn, number, action, reason, today)
        ws._audit(conn, by, f"certificate_{action}", None, {"number": entry.number, "reason": reason or None})
    return entry


def status_lines(ws: Workspace) -> list[str]:
    """Given a workspace, return what `manyi status` prints: counts per stage, and what waits on whom."""
    counts = ws.stage_counts()
    total = sum(counts.values())
    lines = [f"工作区 {ws.root}：{ws.program.name}，活动 {ws.campaign.id}；共 {total} 家申报"]
    lines += [f"  {stage}：{n}" for stage, n in counts.items()]
    waiting = ws.waiting()
    if waiting:
        lines.append("等待处理：")
        lines += [f"  {n} 家在“{stage}”，等待{who}" for stage, who, n in waiting]
    unsent = notices_due(ws)
    if unsent:
        lines.append(f"  {unsent} 家需补正而尚未发补正通知（manyi notices --workspace {ws.root} --out 文件夹）")
    return lines


def notices_due(ws: Workspace) -> int:
    """Given a workspace, return how many applicants need 补正 and have had no notice for their latest version."""
    return sum(1 for r in ws.latest_records(stage=ws.flow.role("incomplete")) if has_errors(r, ws.program)
               and not _notice_sent(ws, r["version_id"]))


def _notice_sent(ws: Workspace, version_id: int) -> bool:
    n = db.notices
    with ws.reader.connect() as conn:
        return conn.execute(sa.select(n.c.id).where(n.c.version_id == version_id)).first() is not None


def workspace_screen(ws: Workspace, out: Path, facts: Path | None = None, program: str | None = None,
                     history: tuple[list, list[str]] | None = None):
    """Given a workspace, an output workbook, an optional facts workbook (and earlier registers' titles), screen
    the latest version of every applicant by the workspace's program; return the ScreenResult."""
    from pipeline.checking.screen import ScreenResult, read_facts_workbook, screen_records, write_workbook
    from pipeline.common.errors import UserError

    if program and program != ws.program.id:
        raise UserError(f"工作区属于项目“{ws.program.id}”，与 --program {program} 不一致")
    warnings: list[str] = []
    table, more = read_facts_workbook(facts, ws.program) if facts else ({}, [])
    warnings += more
    screenings = screen_records(ws.campaign, ws.latest_records(), table, warn=warnings.append, history=history)
    return ScreenResult(write_workbook(screenings, out), screenings, warnings)
