"""Earlier registers read for the conditions of history (`checking.history`): a register (a lone file or a
workspace's database, through a connection) or the workbook `manyi register list --xlsx` writes."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from pipeline.checking.history import Held
from pipeline.common.errors import UserError
from pipeline.common.text import clean, to_date
from pipeline.definitions.programs import load_program, program_ids
from pipeline.definitions.workbooks import find_header, read_sheet
from pipeline.issuing import register

#: The listing's columns this reader needs (register.LIST_HEADER): holder, category, program, dates, revocation.
NEEDED = {"company": "企业名称", "category": "类别", "program": "评选项目", "valid_from": "有效期自",
          "valid_to": "有效期至", "revoked_on": "撤销日期", "reason": "撤销原因", "issued_on": "颁发日期"}


def held_in_register(conn, name: str) -> list[Held]:
    """Given a connection to a register and the name staff know it by, return its titles as Held rows."""
    return [Held(e.company, e.program, e.category, e.issued_on, e.valid_to, e.revoked_on, e.revoke_reason or "", name)
            for e in register.entries(conn)]


def _day(value, path: Path, row: int, what: str) -> date | None:
    """Given a cell (a date, an ISO text, 2019年8月31日, empty or 未规定), return the date or None; a UserError when unreadable."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean(value)
    if not text or text == register.NO_END:
        return None
    try:
        return date.fromisoformat(str(to_date(text)))
    except ValueError:
        raise UserError(f"登记簿工作簿 {path.name} 第 {row} 行的{what}“{text}”无法识别（应为 YYYY-MM-DD）") from None


def _programs_by_name() -> dict[str, object]:
    programs = {}
    for pid in program_ids():
        program = load_program(pid)
        programs[program.name] = programs[pid] = program
    return programs


def held_in_workbook(path: Path) -> list[Held]:
    """Given a workbook written by `manyi register list --xlsx` (an earlier year's register), return its titles."""
    path = Path(path)
    rows = read_sheet(path, "登记簿工作簿")
    header = find_header(rows, {k: (v,) for k, v in NEEDED.items()}, ("company", "category", "program", "valid_from"),
                         f"登记簿工作簿 {path.name} ")
    programs = _programs_by_name()
    held = []
    for n, row in enumerate(rows[header.row + 1:], start=header.row + 2):
        def cell(key, row=row):
            i = header.columns.get(key)
            return row[i] if i is not None and i < len(row) else None

        company = clean(cell("company"))
        if not company:
            continue
        program = programs.get(clean(cell("program")) or "")
        if program is None:
            raise UserError(f"登记簿工作簿 {path.name} 第 {n} 行的评选项目“{clean(cell('program')) or ''}”不是已知项目")
        category = program.find_category(clean(cell("category")))
        if category is None:
            raise UserError(f"登记簿工作簿 {path.name} 第 {n} 行的类别“{clean(cell('category')) or ''}”不属于{program.name}")
        start = _day(cell("valid_from"), path, n, "有效期自")
        issued = _day(cell("issued_on"), path, n, "颁发日期") or start
        held.append(Held(company, program.id, category, issued, _day(cell("valid_to"), path, n, "有效期至"),
                         _day(cell("revoked_on"), path, n, "撤销日期"), clean(cell("reason")) or "", path.name))
    return held
