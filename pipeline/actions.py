"""What a user does, once, for both front-ends: each action is one function over a `Source` returning a result.

A source is where a campaign's records live: a campaign workspace (`WorkspaceSource`: the latest version of
each applicant, staff decisions applied, what is sent recorded in its database) or a records folder written by
`manyi parse` (`RecordsSource`). The command line opens the source once and presents the result; the web page
calls the same actions. Neither reads, checks, converts or decides anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.records import load_records
from pipeline.definitions.campaign import Campaign, date_out_of_campaign, issue_date, zh_date
from pipeline.definitions.programs import Program, program_of
from pipeline.generating.packets import write_program_packet
from pipeline.issuing.certificates import make_certificates
from pipeline.issuing.notices import make_notices
from pipeline.issuing.register import campaign_register, claim, note_register
from pipeline.issuing.summary_table import make_summary_tables
from pipeline.workspace import Workspace
from pipeline.workspace.outputs import workspace_certificates, workspace_notices, workspace_screen


@dataclass
class RecordsSource:
    """A records folder of `manyi parse` and the campaign it was parsed with."""

    folder: Path
    campaign: Campaign

    @property
    def program(self) -> Program:
        """The campaign's program."""
        return program_of(self.campaign)

    def records(self) -> list[dict]:
        """Return the folder's records."""
        return load_records(self.folder)


@dataclass
class WorkspaceSource:
    """An open campaign workspace."""

    ws: Workspace

    @property
    def campaign(self) -> Campaign:
        """The workspace's campaign (its own copy, which staff may edit)."""
        return self.ws.campaign

    @property
    def program(self) -> Program:
        """The workspace's program."""
        return self.ws.program

    def records(self) -> list[dict]:
        """Return the latest version of every applicant, staff decisions applied."""
        return self.ws.latest_records()


Source = RecordsSource | WorkspaceSource


@dataclass
class Dated:
    """The date an issuing action printed and where that date came from (Chinese)."""

    on: date
    origin: str


@dataclass
class NoticesDone:
    """A notices run: the issuing library's result, the notices recorded (workspace), those already sent, the date."""

    result: object
    dated: Dated
    recorded: list[dict] = field(default_factory=list)
    already_sent: int = 0


def note_override(source, by: str, command: str, on: date | None, override: str | None) -> None:
    """Given a source, who acts, the command, --date and the override reason: when a workspace's date needed
    the override, record date and reason in its audit log (a records folder has no log: the origin line says it)."""
    if not isinstance(source, WorkspaceSource) or on is None or not (override or "").strip():
        return
    why = date_out_of_campaign(source.campaign, command, on)
    if why:
        with source.ws.engine.begin() as conn:
            source.ws._audit(conn, by, "date_override", None,
                             {"command": command, "date": on.isoformat(), "problem": why, "reason": override.strip()})


def packets(campaign: Campaign, out: Path, category: str | None, roster: Path | None = None, pdf: bool = False,
            jobs: int = 1, progress=None):
    """Given the campaign, an output folder, a category (or 'all') and the options, write its program's packet."""
    return write_program_packet(out, category, campaign, roster, pdf=pdf, jobs=jobs, progress=progress)


def notices(source: Source, out: Path, by: str, pdf: bool = False, on: date | None = None,
            deadline: date | None = None, only: set[int] | None = None, override: str | None = None) -> NoticesDone:
    """Given a source, an output folder, who acts and the options, write a 补正通知 per applicant with errors.

    A workspace writes only for latest versions that had none yet (of the applicant ids `only`, when given) and
    records each notice; the date is `on`, else the campaign's notice_date, else a day of the campaign's year
    (`issue_date`). A date outside the campaign is refused unless `override` gives the reason (recorded in a
    workspace's audit log); a reply-by `deadline` before the notice's own date is refused.
    """
    dated = Dated(*issue_date(source.campaign, "notices", on, override))
    if deadline and deadline < dated.on:
        raise UserError(f"补正截止日期 {zh_date(deadline)} 早于通知日期 {zh_date(dated.on)}：请改正 --deadline 或 --date")
    note_override(source, by, "notices", on, override)
    if isinstance(source, WorkspaceSource):
        done = workspace_notices(source.ws, out, by, pdf=pdf, today=dated.on, deadline=deadline, only=only)
        return NoticesDone(done.result, dated, done.recorded, done.already_sent)
    result = make_notices(source.records(), out, source.campaign, pdf=pdf, today=dated.on, deadline=deadline)
    return NoticesDone(result, dated)


def summary_tables(source: Source, out: Path, include_incomplete: bool = False):
    """Given a source and an output folder, write one 推荐汇总表 per 推进单位; return the files and warnings."""
    return make_summary_tables(source.records(), out, source.campaign, include_incomplete)


def read_history(paths: list[Path]) -> tuple[list, list[str]] | None:
    """Given earlier registers (workspace folders, register files, `register list` workbooks), return their titles
    (`checking.history.Held`) and the registers' names; None when no path is given."""
    from pipeline.issuing import register as reg
    from pipeline.issuing.history import held_in_register, held_in_workbook

    if not paths:
        return None
    held, names = [], []
    for path in map(Path, paths):
        if path.is_dir():
            with Workspace.open(path) as ws, reg.connect(ws.reader, write=False) as conn:
                held += held_in_register(conn, path.name)
        elif path.suffix.lower() in (".xlsx", ".xls", ".ods", ".et"):
            held += held_in_workbook(path)
        elif path.is_file():
            with reg.connect(path, create=False, write=False) as conn:
                held += held_in_register(conn, path.name)
        else:
            raise UserError(f"找不到以往年度的登记簿：{path}（应为工作区文件夹、登记簿文件或 register list 导出的 .xlsx）")
        names.append(path.name)
    return held, names


def screen(source: Source, out: Path, facts: Path | None = None, history: list[Path] | None = None):
    """Given a source, an output workbook, an optional facts workbook and earlier registers (`read_history`),
    screen every record by its program."""
    from pipeline.checking.screen import screen as screen_folder

    held = read_history(history or [])
    if isinstance(source, WorkspaceSource):
        return workspace_screen(source.ws, out, facts, None, history=held)
    return screen_folder(source.campaign, source.folder, out, facts, history=held)


@dataclass
class CertificatesDone:
    """A certificates run: the issuing library's result and the issue date."""

    result: object
    dated: Dated
    register: Path | None = None  # the register file numbered in (None: the workspace's database)


#: Said when a winners workbook is printed without the campaign's records: membership was not checked.
UNCHECKED_APPLICANTS = ("未用 --records 指定本活动的申报记录（manyi parse 的输出文件夹）：未核对获奖名单中的单位是否申报过本活动、"
                        "材料是否齐全")


def certificates(source: Source | Campaign, out: Path, by: str, pdf: bool = False, on: date | None = None,
                 winners: Path | None = None, register: Path | None = None,
                 override: str | None = None, allow: dict[str, str] | None = None) -> CertificatesDone:
    """Given a workspace source (its winning stage), or a winners workbook with a campaign (or a records source:
    the campaign's applicants) and a register file, print and register the certificates; return what was printed
    and the issue date.

    The date is `on` (refused outside the campaign's year or before its deadline unless `override` gives the
    reason, recorded in a workspace's audit log), else the campaign's award_date, else `issue_date`'s default.
    New winners follow the program's rules (`issuing.winners`); `allow` (row or applicant number → reason) lets
    a refused one through, its reason kept on the certificate's issue event (and in a workspace's audit log)."""
    campaign = source if isinstance(source, Campaign) else source.campaign
    dated = Dated(*issue_date(campaign, "certificates", on, override))
    note_override(source, by, "certificates", on, override)
    if isinstance(source, WorkspaceSource):
        return CertificatesDone(workspace_certificates(source.ws, out, by, pdf=pdf, today=dated.on, allow=allow),
                                dated)
    if winners is None:
        raise UserError("请用 --winners 指定获奖名单，或用 --workspace 指定工作区")
    register = Path(register) if register else campaign_register(str(campaign.id))
    claim(str(campaign.id), register)  # one register per campaign: never a second HLJ2017-EN-0001
    records = source.records() if isinstance(source, RecordsSource) else None
    result = make_certificates(winners, out, campaign, register, pdf=pdf, today=dated.on, records=records,
                               allow=allow)
    if records is None:
        result.problems.insert(0, UNCHECKED_APPLICANTS)
    if result.entries:
        note_register(str(campaign.id), register)
    return CertificatesDone(result, dated, register)


def renewal_letters(conn, out: Path, campaign: Campaign, today: date, within: timedelta):
    """Given a register connection, an output folder, the campaign that signs, the day and a window, write a
    复评通知 per holder whose title's term ends within the window; return the letters."""
    from pipeline.issuing.renewals import renewal_letters as write

    return write(titles_due(conn, today, within), out, campaign, today)


def titles_due(conn, today: date, within: timedelta) -> list:
    """Given a register connection, the day and a window, return the titles due for 复评 (in force, term ending
    within the window); when there are none but some already lapsed, raise UserError saying where they are."""
    from pipeline.issuing.register import expiring, lapsed_note

    due = expiring(conn, today, within)
    lapsed = lapsed_note(conn, today, within)
    if not due and lapsed:  # say where the titles are (already past their term), not only that none is due
        raise UserError(f"没有需要复评的称号（有效期均不在所查期限内）。{lapsed}")
    return due


def renewal_roster(conn, out: Path, today: date, within: timedelta):
    """Given a register connection, the roster's path, the day and a window, write the roster of the titles due
    for 复评 (a 复评 campaign starts from it); return (the titles, the roster's path)."""
    from pipeline.issuing.renewals import renewal_roster as write

    due = titles_due(conn, today, within)
    return due, write(due, out)


@dataclass
class Renewed:
    """A renewal: the certificate's entry with its new term, and the re-issued certificate when one was printed."""

    entry: object
    reissued: object = None  # the certificates Result of the print


def renew(number: str, by: str, on: date | None = None, ws: Workspace | None = None, register: Path | None = None,
          out: Path | None = None, campaign: Campaign | None = None) -> Renewed:
    """Given a certificate number re-confirmed by 复评, who acts, the day, a workspace or a register file (and an
    output folder to print its new certificate, with the campaign it belongs to when a register file is used),
    renew it and, with `out`, print the certificate again with its new term: one transaction, recorded in the
    register's history (and a workspace's audit log)."""
    from pipeline.issuing import register as reg
    from pipeline.issuing import signing
    from pipeline.issuing.certificates import reissue
    from pipeline.workspace.outputs import keys_folder

    from pipeline.workspace.core import _require_name

    today = on or date.today()
    by = _require_name(by) if ws is not None else by  # a workspace's log names who acted
    target = ws.engine if ws is not None else register
    with reg.connect(target) as conn:
        entry = reg.change(conn, number, "renew", "", today)
        printed = None
        if out is not None:
            chosen = ws.campaign if ws is not None else (campaign or campaign_of_entry(entry))
            keys = keys_folder(ws) if ws is not None else signing.keys_folder_of(Path(register))
            printed = reissue(conn, entry.number, out, chosen, keys, today)
            entry = printed.entries[0]
        if ws is not None:
            ws._audit(conn, by, "certificate_renew", None, {"number": entry.number, "reissued": bool(printed)})
    return Renewed(entry, printed)


def campaign_of_entry(entry) -> Campaign:
    """Given a register entry, return its campaign's file when it is the program's own campaign; else ask for it."""
    from pipeline.definitions.programs import resolve_campaign

    found = resolve_campaign(entry.program, None)
    if str(found.id) != entry.campaign:
        raise UserError(f"证书 {entry.number} 属于活动 {entry.campaign}：请用 --campaign 指定该活动的活动文件")
    return found
