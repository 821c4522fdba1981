"""Certificates for the winners: workbook rows → register numbers → one .docx each (and one PDF of all).

The winners workbook (CONTRACT §1) has a header row with 企业名称 and 类别 and optionally 项目名称
and 等级 (or 称号: 用户满意 / 标杆 …). A program whose winners are people or teams (广东服务明星)
names them in its application form's name column (姓名, 班组名称 or just 班组). Each certificate
carries its program's title for the category and tier, the issuing bodies and the validity of
that title (so many years, to the end of the title's year, or none). Numbers come from the
register; the dates printed are the register's, so a reprint matches the first print. The PDF
is made from ONE document holding every certificate (the template loops over `winners`),
converted by one LibreOffice start.

Each certificate prints its check code (register.check_code, under the association's secret in the keys
folder, `signing.py`) and, when the campaign sets `certificate.verify_url`, a QR code of
`{verify_url}?n=NUMBER&c=CODE` that opens the public verify page. With `--pdf` and a certificate
authority in the keys folder (`manyi register ca init`), each certificate also gets a PDF of its own,
signed.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from pipeline.common import office, outputs
from pipeline.common.errors import UserError, os_reason
from pipeline.common.files import atomic_path, safe_filename, unique_names
from pipeline.common.records import HONOURED_FIELD
from pipeline.common.text import clean, fold
from pipeline.definitions.campaign import Campaign, issue_date, zh_date
from pipeline.definitions.forms import application_form
from pipeline.definitions.programs import Program, load_program, program_of, validity, validity_text
from pipeline.definitions.programs import title_for as program_title
from pipeline.definitions.workbooks import column_names, read_sheet
from pipeline.definitions.workbooks import find_header as staff_header
from pipeline.word.house_templates import certificate_name_size, template
from pipeline.word.render import CompiledTemplate, Picture, compiled
from pipeline.issuing import signing
from pipeline.issuing.register import Entry, Terms, Winner, assign, connect, registered, with_codes
from pipeline.issuing.register import entries as register_entries
from pipeline.issuing.winners import judge

#: Winners workbook columns (CONTRACT §1); 等级/称号 name the tier, for programs with more than one.
COMPANY_COLUMN, CATEGORY_COLUMN, PROJECT_COLUMN = "企业名称", "类别", "项目名称"
TIER_COLUMNS = ("等级", "称号")
#: Program fields printed under a person's or a team's name, when the category has no honoured item.
HOLDER_FIELDS = ("employer",)
PDF_NAME = "全部证书.pdf"
#: The campaign's `certificate:` settings and what they default to.
DEFAULTS = {
    "issuer": None,          # the program's issuing bodies, else the association's name
    "number_prefix": None,   # from the campaign id
    "category_codes": {"enterprise": "EN", "product": "CP", "construction": "CN", "service": "SV"},
    "verify_url": None,      # the public verify page (manyi serve --verify-only), e.g. https://www.example.org.cn/verify
}
#: The QR code's printed side: scanned by a phone from a certificate on a wall.
QR_SIZE_CM = 2.2
PDF_TIMEOUT_S = 600
#: The fewest certificates worth a LibreOffice of their own when the print-ready PDF is made in parts.
PART_FROM = 150
#: Issuing bodies per printed line: a 16 pt line of the landscape page holds about 44 characters;
#: the block stands right of centre, under the seal.
ISSUER_LINE_CHARS = 30


@dataclass
class WinnerRow:
    """A winner as read from the workbook, with its Excel row number."""

    row: int
    company: str
    category: str
    project: str | None = None
    tier: str | None = None
    record: dict | None = None  # the applicant's latest record, when the winner comes from a workspace
    numbered_by_id: bool = False  # `row` is the applicant's number in a workspace, not an Excel row

    @property
    def where(self) -> str:
        """The row as staff find it: 第 3 行 of the workbook, or 编号 12 of a workspace."""
        return f"编号 {self.row}" if self.numbered_by_id else f"第 {self.row} 行"


@dataclass
class Result:
    """What a certificates run did: files written, problems by row, the entries printed."""

    files: list[Path] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pdf: Path | None = None
    contexts: list[dict] = field(default_factory=list)
    signed: list[Path] = field(default_factory=list)  # one signed PDF per certificate, when a CA exists
    skipped: int = 0  # rows not printed because unreadable or refused by the rules (the run then exits nonzero)
    allowed: list[dict] = field(default_factory=list)  # rows let through by --allow, with the rule and reason


def settings(campaign: Campaign) -> dict:
    """Given a campaign, return its certificate settings over DEFAULTS; unknown keys are refused."""
    program = program_of(campaign)
    given = dict(campaign.data.get("certificate") or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        where = f"；证书称号写在项目文件 forms/programs/{program.id}.yaml 中" if "title" in unknown else ""
        raise UserError(f"活动文件 {campaign.path.name} 的 certificate 中有未知设置：{'、'.join(unknown)}"
                        f"（可用：{'、'.join(DEFAULTS)}）{where}")
    result = {**DEFAULTS, **given}
    result["category_codes"] = category_codes(program, {**DEFAULTS["category_codes"],
                                                        **(given.get("category_codes") or {})})
    result["issuer"] = result["issuer"] or "　".join(program.get("issuers") or []) or campaign.association["name"]
    prefix = str(result["number_prefix"] or re.sub(r"[^A-Za-z0-9]+", "", str(campaign.id)).upper())
    if not re.fullmatch(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", prefix):
        raise UserError(f"活动文件 {campaign.path.name} 的 certificate.number_prefix 只能含字母、数字和连字符：{prefix}")
    result["number_prefix"] = prefix
    return result


def category_codes(program: Program, given: dict) -> dict:
    """Given a program and the configured codes, return a code for each of its categories (UN for unit when unset)."""
    codes = {cid: str(given[cid]) for cid in program.categories if cid in given}
    for cid in program.categories:
        if cid not in codes:
            short = re.sub(r"[^A-Za-z0-9]", "", cid).upper()
            codes[cid] = short[:2] if short[:2] not in codes.values() else short
    return codes


def terms_for(program: Program, campaign: Campaign, category: str, tier: str | None) -> Terms:
    """Given a program, campaign, category and tier, return the certificate's title and validity."""
    cat = program.category(category)
    title = program_title(program, category, tier or cat.tiers[0].id, campaign.year)
    info = validity(program, category, campaign)
    if info.get("until") == "year_end":  # 当年度的荣誉: the title's own year
        return Terms(title, last_day=date(int(campaign.year), 12, 31))
    return Terms(title, years=int(info["years"]) if info.get("years") else None)


# --- the winners workbook ------------------------------------------------------------------------


def _label(program: Program, field_id: str | None) -> str | None:
    spec = (program.get("fields") or {}).get(field_id) if field_id else None
    return clean(spec.get("label")) if isinstance(spec, dict) and spec.get("label") else None


def name_columns(program: Program, category: str) -> list[str]:
    """Given a program and category, return the columns that may name a winner, in order (姓名 for a person)."""
    cat = program.category(category)
    own = _label(program, program.applicant_field(category)) if cat.fields else None
    if cat.subject != "organisation" and own:
        return [own]  # a person's 企业名称 is their employer, never the holder
    return list(dict.fromkeys(c for c in (own, COMPANY_COLUMN) if c))


def item_field(program: Program, category: str) -> str | None:
    """Given a program and category, return the field printed under the holder: product, project, service or employer."""
    form = program.forms.get(f"application.{category}")
    fields = form.fields if form else {}
    return next((f for f in (HONOURED_FIELD.get(category), *HOLDER_FIELDS) if f and f in fields), None)


def item_label(program: Program, category: str) -> str | None:
    """Given a program and category, return the printed label of its item line (产品名称, 工作单位 …), or None."""
    fid = item_field(program, category)
    return program.forms[f"application.{category}"].fields[fid].plain_label if fid else None


def category_of(program: Program, text: str | None) -> str | None:
    """Given a program and the 类别 cell (企业类, 产品, 服务明星, star …), return the category id, or None."""
    return program.find_category(text)


def tier_of(program: Program, category: str, text: str | None) -> str | None:
    """Given a category and the 等级 or 称号 cell (标杆, benchmark, the title itself, empty …), return the tier id.

    None when the text names none of the category's tiers.
    """
    tiers = program.category(category).tiers
    if not clean(text):
        return tiers[0].id
    key = fold(text)
    named = next((t.id for t in tiers if key in (fold(t.id), fold(t.name))), None)
    if named:
        return named
    # A title as printed, with or without its year: the longest title the text ends with.
    titled = [(len(tail), t.id) for t in tiers
              if (tail := fold(re.sub(r"^\{year\}(年度)?", "", t.title))) and key.endswith(tail)]
    return max(titled)[1] if titled else None


def column_synonyms(name: str) -> tuple[str, ...]:
    """Given a winners column (企业名称, 类别, 姓名, 产品名称 …), return the names staff head it with:
    the cover's label and aliases for 企业名称 and 类别 (forms/), else the name with and without 名称."""
    if name == COMPANY_COLUMN:
        return column_names("cover", "company_name")
    if name == CATEGORY_COLUMN:
        return column_names("cover", "category")
    return tuple(dict.fromkeys((name, name.removesuffix("名称") or name)))


def find_header(rows: list[tuple], names: tuple = (COMPANY_COLUMN,), others: tuple = ()) -> tuple[int, dict[str, int]]:
    """Given a sheet's rows, the winner-name columns and the other columns, return the header row's index and name → index."""
    wanted = dict.fromkeys((*names, CATEGORY_COLUMN, PROJECT_COLUMN, *TIER_COLUMNS, *others))
    header = staff_header(rows, {n: column_synonyms(n) for n in wanted}, (tuple(names), CATEGORY_COLUMN), "获奖名单")
    return header.row, header.columns


def read_winners(path: Path, program: Program) -> tuple[list[WinnerRow], list[str]]:
    """Given the winners workbook and the program, return its usable rows and the problems of the others (by Excel row)."""
    rows = read_sheet(path, "获奖名单")
    names = {cid: name_columns(program, cid) for cid in program.categories}
    items = {cid: item_label(program, cid) for cid in program.categories}
    all_names = tuple(dict.fromkeys(n for ns in names.values() for n in ns))
    header_at, columns = find_header(rows, all_names, tuple(filter(None, items.values())))
    winners, problems = [], []
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        def cell(name, row=row):
            return clean(row[columns[name]]) if name in columns and columns[name] < len(row) else None

        kind = cell(CATEGORY_COLUMN)
        category = category_of(program, kind)
        wanted = names[category] if category else all_names
        if category and program.category(category).subject != "person" and not any(n in columns for n in wanted):
            # One name column for every holder (姓名/工作单位/类别): a team's or an enterprise's name stands in it.
            wanted = [n for n in all_names if n in columns] or wanted
        company = next((v for v in map(cell, wanted) if v), None)
        project = cell(PROJECT_COLUMN) or (cell(items[category]) if category and items[category] else None)
        tier_text = next((v for v in map(cell, TIER_COLUMNS) if v), None)
        if not (company or kind or project or any(map(cell, all_names))):
            continue
        if not company:
            problems.append(f"第 {n} 行：{wanted[0]}为空，已跳过")
        elif not category:
            allowed = "/".join(c.name for c in program.categories.values())
            problems.append(f"第 {n} 行（{company}）：类别“{kind or ''}”无法识别（应为 {allowed}），已跳过")
        elif not tier_of(program, category, tier_text):
            allowed = "/".join(t.name for t in program.category(category).tiers)
            problems.append(f"第 {n} 行（{company}）：等级“{tier_text}”无法识别（应为 {allowed}），已跳过")
        else:
            winners.append(WinnerRow(n, company, category, project, tier_of(program, category, tier_text)))
    return winners, problems


def drop_repeats(winners: list[WinnerRow]) -> tuple[list[WinnerRow], list[str]]:
    """Given winners, return them without rows that repeat an earlier one, and a note for each repeat."""
    seen: dict[tuple, int] = {}
    kept, notes = [], []
    for w in winners:
        key = (w.category, fold(w.company), fold(w.project or ""))
        if key in seen:
            notes.append(f"{w.where}（{w.company}）与第 {seen[key]} 行重复，已跳过")
        else:
            seen[key] = w.row
            kept.append(w)
    return kept, notes


# --- printing -------------------------------------------------------------------------------------


def certificate_template() -> CompiledTemplate:
    """Return the certificate template (templates/certificate.docx), compiled once per process."""
    return compiled(template("certificate.docx"))


def issuer_lines(issuer: str, width: int = ISSUER_LINE_CHARS) -> str:
    """Given the issuing bodies (space-separated), return them wrapped between bodies, never inside one."""
    lines: list[str] = []
    for body in issuer.split():
        if lines and len(lines[-1]) + 1 + len(body) <= width:
            lines[-1] += "　" + body
        else:
            lines.append(body)
    return "\n".join(lines)


def verify_link(verify_url: str, number: str, code: str) -> str:
    """Given the verify page's address, a number and its check code, return the address the QR code opens."""
    return f"{verify_url}{'&' if '?' in verify_url else '?'}{urllib.parse.urlencode({'n': number, 'c': code})}"


def qr_png(text: str) -> bytes:
    """Given a text (the verify link), return a QR code of it as PNG bytes (error correction M, quiet zone 2)."""
    import segno

    out = io.BytesIO()
    # A fixed mask (any of the eight is valid and decodes alike) skips segno's search for the best one, which was
    # most of a certificate's QR time at a thousand certificates (benchmarks/results-certificates.md).
    segno.make(text, error="m", micro=False, mask=0).save(out, kind="png", scale=8, border=2)
    return out.getvalue()


def certificate_context(entry: Entry, program: Program | None = None, verify_url: str | None = None) -> dict:
    """Given a register entry (and its program, and the verify page's address), return what the template
    prints for it (`w`): the check code, and the QR code when there is a verify page."""
    program = program or load_program(entry.program)
    label = item_label(program, entry.category)
    return {
        "company": entry.company, "name_size": certificate_name_size(entry.company), "item_label": label or "", "item": entry.project if label else None,
        "title": entry.title, "issuer": issuer_lines(entry.issuer), "date": zh_date(entry.valid_from),
        "valid_to": zh_date(entry.valid_to) if entry.valid_to else "", "number": entry.number,
        "category": program.category(entry.category).name, "code": entry.check_code or "",
        "qr": Picture(qr_png(verify_link(verify_url, entry.number, entry.check_code)), QR_SIZE_CM)
        if verify_url and entry.check_code else None,
    }


def expired_on_issue(program: Program, campaign: Campaign, w: WinnerRow, issued: date) -> str | None:
    """Given a new winner and the issue date, return why its certificate would be expired that day (Chinese), or None."""
    terms = terms_for(program, campaign, w.category, w.tier)
    end = terms.valid_to(issued)
    if end is None or end >= issued:
        return None
    rule = validity_text(validity(program, w.category, campaign))
    return (f"{w.where}（{w.company}）：{program.name}规定{program.category(w.category).name}称号{rule}，"
            f"有效期至 {zh_date(end)}，颁发日期 {zh_date(issued)} 时已经过期，未颁发证书；"
            f"请用 --date 写明有效期内的颁发日期，或核对活动文件 {campaign.path.name} 的年度")


def allowed_reason(allowed: dict) -> str:
    """Given a row let through by --allow, return what its issue event keeps: the rule set aside and the reason."""
    return f"经工作人员放行：{allowed['rule']}；理由：{allowed['reason']}"


def revoked_note(w: WinnerRow, entry: Entry) -> str:
    """Given a winner row and its revoked certificate, return why it is not printed (Chinese)."""
    return (f"{w.where}（{w.company}）：证书 {entry.number} 已于 {zh_date(entry.revoked_on)}撤销"
            f"（{entry.revoke_reason}），不再打印")


def make_certificates(winners_path: Path, out: Path, campaign: Campaign, register_path: Path,
                      pdf: bool = False, today: date | None = None, records: list[dict] | None = None,
                      allow: dict[str, str] | None = None) -> Result:
    """Given the winners workbook, write one certificate .docx per winner (and one PDF); return the Result.

    The campaign's program (its `program:`) gives the categories, titles, issuers and validity.
    `today` is the issue date of new certificates, validity counting from it (default: the campaign's
    award_date, else today). A revoked certificate
    is never printed again, and a new one that would be expired on its issue date is not issued:
    both rows are named in the problems. The winners follow the program's rules (`issuing.winners`: applicants
    of `records` when given, complete, one per enterprise, the yearly quota) unless `allow` lets a row through.
    """
    program = program_of(campaign)
    winners, problems = read_winners(winners_path, program)
    return certificates_for(winners, out, campaign, register_path, pdf=pdf, today=today, problems=problems,
                            records=records, allow=allow, skipped=len(problems))


def certificates_for(winners: list[WinnerRow], out: Path, campaign: Campaign, register: Path | sa.Engine,
                     pdf: bool = False, today: date | None = None, problems: list[str] | None = None,
                     keys: Path | None = None, records: list[dict] | None = None,
                     allow: dict[str, str] | None = None, skipped: int = 0) -> Result:
    """Given the winners (from a workbook or a campaign workspace), write their certificates as
    `make_certificates` does, numbered in `register` (a register file, or a workspace database's
    engine, whose `keys` folder must then be given); `problems` (of `skipped` unreadable rows) are carried
    into the Result. New winners are judged by `issuing.winners.judge` against `records` and the register."""
    if keys is None:
        if isinstance(register, sa.Engine):
            raise ValueError("a workspace's register needs its keys folder")
        keys = signing.keys_folder_of(Path(register))
    program = program_of(campaign)
    issued = today or issue_date(campaign, "certificates")[0]
    winners, repeats = drop_repeats(winners)
    problems = list(problems or [])
    result = Result(problems=problems + repeats, skipped=skipped)
    unknown = sorted(set(allow or {}) - {str(w.row) for w in winners}, key=int)
    if unknown:
        raise UserError(f"--allow 中的 {'、'.join(unknown)} 不是获奖名单的行号（或工作区的编号）：请核对")
    if not winners:
        raise UserError("获奖名单中没有可颁发证书的行" + ("：" + "；".join(result.problems) if result.problems else ""))
    conf = settings(campaign)
    with connect(register) as conn:
        def winner(w):
            return Winner(w.company, w.category, w.project, w.tier)

        fresh = [w for w in winners if registered(conn, winner(w), program.id, str(campaign.id)) is None]
        titles = [e for e in register_entries(conn, str(campaign.id), program.id) if not e.revoked_on]
        judged = judge(fresh, program, campaign, records=records, titles=titles, allow=allow)
        result.allowed = judged.allowed
        let_through = {a["key"]: allowed_reason(a) for a in judged.allowed}
        refused = {id(w) for w in fresh} - {id(w) for w in judged.kept}
        result.problems += judged.refused
        expired = {id(w): why for w in judged.kept if (why := expired_on_issue(program, campaign, w, issued))}
        result.problems += list(expired.values())
        refused |= set(expired)
        result.skipped += len(refused)
        winners = [w for w in winners if id(w) not in refused]
        if not winners:
            raise UserError("获奖名单中没有可颁发证书的行：" + "；".join(result.problems))
        entries = assign(
            conn, [winner(w) for w in winners], program=program.id,
            campaign=str(campaign.id), prefix=conf["number_prefix"], codes=conf["category_codes"],
            issuer=conf["issuer"], today=issued,
            terms=lambda w: terms_for(program, campaign, w.category, w.tier),
            reasons=[let_through.get(str(w.row)) for w in winners])
        entries = with_codes(conn, entries, signing.secret(keys))
        for w, entry in zip(winners, entries):
            if entry.revoked_on:
                result.problems.append(revoked_note(w, entry))
            else:
                result.entries.append(entry)
        result.contexts = [certificate_context(e, program, conf["verify_url"]) for e in result.entries]
        stems = unique_names([safe_filename(f"{e.company}_{e.number}") for e in result.entries])
        # Printed inside the numbering transaction: a run that cannot write its certificates registers nothing.
        result.files = print_each(result.contexts, stems, Path(out), campaign)
    out = Path(out)
    if pdf and result.contexts:
        result.pdf = combined_pdf(result.contexts, out / PDF_NAME, campaign)
        pages = page_count(result.pdf)
        if pages != len(result.contexts):
            result.problems.append(f"{PDF_NAME} 有 {pages} 页而证书有 {len(result.contexts)} 张：有证书内容过长超出一页，"
                                   f"请缩短名称或调整模板 certificate.docx")
        elif signing.has_ca(keys):
            result.signed = signed_pdfs(result.pdf, result.entries, [out / f"{stem}.pdf" for stem in stems], keys)
    return result


def reissue(conn, number: str, out: Path, campaign: Campaign, keys: Path, today: date) -> Result:
    """Given a register connection, a certificate number (renewed after 复评), an output folder, its campaign,
    the keys folder and the day, print the certificate again with its current term and the code of that term,
    and keep the print as a 'reissued' event (in the connection's transaction: a failed print records nothing)."""
    from pipeline.issuing import register

    entry = register.lookup(conn, number)
    if entry is None:
        raise UserError(f"登记簿中没有证书编号 {number}")
    if entry.revoked_on:
        raise UserError(f"证书 {entry.number} 已撤销（{entry.revoke_reason}），不能换发")
    if entry.campaign != str(campaign.id):
        raise UserError(f"证书 {entry.number} 属于活动 {entry.campaign}，不是 {campaign.id}：请用 --campaign 指定该活动的活动文件")
    program = program_of(campaign)
    (entry,) = with_codes(conn, [entry], signing.secret(keys))
    register.record_reissue(conn, entry, today)
    conf = settings(campaign)
    result = Result(entries=[entry], contexts=[certificate_context(entry, program, conf["verify_url"])])
    stem = safe_filename(f"{entry.company}_{entry.number}_{entry.valid_from.isoformat()}")
    result.files = print_each(result.contexts, [stem], Path(out), campaign)
    return result


def print_each(contexts: list[dict], stems: list[str], out: Path, campaign: Campaign) -> list[Path]:
    """Given certificates' contexts, their file stems, the output folder and the campaign, write one .docx each
    into a temporary folder and only then move them all into `out`; return the files (UserError when `out`
    cannot take them, nothing left half-written there)."""
    tpl = certificate_template()
    with tempfile.TemporaryDirectory(prefix="manyi-certs-") as tmp:
        drafts = [tpl.render({"c": campaign.context(), "winners": [ctx]}, Path(tmp) / f"{stem}.docx")
                  for stem, ctx in zip(stems, contexts)]
        targets = [out / d.name for d in drafts]
        try:
            outputs.check_writable(targets)
            out.mkdir(parents=True, exist_ok=True)
            for draft, target in zip(drafts, targets):
                with atomic_path(target) as part:
                    shutil.move(str(draft), part)
        except OSError as exc:
            raise UserError(f"证书无法写入 {out}：{os_reason(exc)}；本次未登记任何证书编号") from None
    return targets


def signed_pdfs(combined: Path, entries: list[Entry], targets: list[Path], keys: Path) -> list[Path]:
    """Given the one PDF of all certificates (a page each), their entries and a target per certificate, write
    each page as a PDF of its own signed with the association's key (its number in the signature); return them."""
    import pikepdf

    with pikepdf.open(combined) as source, tempfile.TemporaryDirectory(prefix="manyi-sign-") as tmp:
        # LibreOffice gives all pages one resource dictionary naming every page's QR image: a page copied alone
        # would carry the images of the whole run (10 MB a certificate at 1000). Each page keeps what it draws.
        source.remove_unreferenced_resources()
        unsigned = []
        for page in range(len(entries)):
            single = pikepdf.new()
            single.pages.append(source.pages[page])
            unsigned.append(Path(tmp) / f"{page}.pdf")
            single.save(unsigned[-1])
        signing.sign_all(list(zip(unsigned, targets, [e.number for e in entries])), keys)
    return targets


def page_count(path: Path) -> int:
    """Given a PDF, return its number of pages."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def print_run(contexts: list[dict], target: Path, campaign: Campaign) -> Path:
    """Given certificates' contexts, a target and the campaign, write them as one document, a page each; return it."""
    return certificate_template().render({"c": campaign.context(), "winners": contexts}, target)


def combined_pdf(contexts: list[dict], target: Path, campaign: Campaign, parts: int | None = None) -> Path:
    """Given every certificate's context, write one PDF of them all, in order; return it.

    A long run is cut into `parts` (default: one per CPU) of at least PART_FROM certificates, each a document
    converted by its own LibreOffice at the same time (LibreOffice converts on one core), the PDFs then joined
    with pikepdf; a short run is one document and one LibreOffice start."""
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack

    import pikepdf

    parts = max(1, min(parts or os.cpu_count() or 1, len(contexts) // PART_FROM))
    size = -(-len(contexts) // parts)
    with tempfile.TemporaryDirectory(prefix="manyi-certs-") as tmp:
        documents = [print_run(contexts[i:i + size], Path(tmp) / f"certificates-{i}.docx", campaign)
                     for i in range(0, len(contexts), size)]

        def to_pdf(document: Path) -> Path:
            converted = office.convert([document], "pdf", Path(tmp) / f"pdf-{document.stem}",
                                       timeout=PDF_TIMEOUT_S)[document]
            if isinstance(converted, str):
                raise UserError(f"证书 PDF 生成失败：{converted}")
            return converted

        with ThreadPoolExecutor(max_workers=len(documents)) as pool:
            pdfs = list(pool.map(to_pdf, documents))
        joined = pdfs[0]
        if len(pdfs) > 1:
            joined = Path(tmp) / "joined.pdf"
            with ExitStack() as stack, pikepdf.new() as whole:
                for path in pdfs:
                    whole.pages.extend(stack.enter_context(pikepdf.open(path)).pages)
                whole.save(joined)
        with atomic_path(target) as part:  # never a half PDF, never over a file manyi did not write
            shutil.move(str(joined), part)
    return target
