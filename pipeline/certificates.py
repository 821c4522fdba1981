"""Certificates for the winners: workbook rows → register numbers → one .docx each (and one PDF of all).

The winners workbook (CONTRACT §1) has a header row with 企业名称 and 类别 and optionally 项目名称.
Numbers come from the register; the dates printed are the register's, so a reprint matches the
first print. The PDF is made from ONE document holding every certificate (the template loops
over `winners`), converted by one LibreOffice start.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline import office
from pipeline.campaign import Campaign, zh_date
from pipeline.errors import UserError
from pipeline.files import safe_filename, unique_names
from pipeline.forms import application_form, categories, category_id
from pipeline.house_templates import template
from pipeline.records_io import HONOURED_FIELD
from pipeline.register import Entry, Winner, assign, connect
from pipeline.render import compiled
from pipeline.text import clean, fold

#: Winners workbook columns (CONTRACT §1).
COMPANY_COLUMN, CATEGORY_COLUMN, PROJECT_COLUMN = "企业名称", "类别", "项目名称"
HEADER_SCAN_ROWS = 10
PDF_NAME = "全部证书.pdf"
#: The campaign's `certificate:` settings and what they default to.
DEFAULTS = {
    "title": "{year}年度 用户满意工程先进单位（{category}）",
    "issuer": None,          # the association's name
    "number_prefix": None,   # from the campaign id
    "category_codes": {"enterprise": "EN", "product": "CP", "construction": "CN", "service": "SV"},
}
PDF_TIMEOUT_S = 600


@dataclass
class WinnerRow:
    """A winner as read from the workbook, with its Excel row number."""

    row: int
    company: str
    category: str
    project: str | None = None


@dataclass
class Result:
    """What a certificates run did: files written, problems by row, the entries printed."""

    files: list[Path] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pdf: Path | None = None


def settings(campaign: Campaign) -> dict:
    """Given a campaign, return its certificate settings over DEFAULTS; unknown keys are refused."""
    given = dict(campaign.data.get("certificate") or {})
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise UserError(f"活动文件 {campaign.path.name} 的 certificate 中有未知设置：{'、'.join(unknown)}"
                        f"（可用：{'、'.join(DEFAULTS)}）")
    result = {**DEFAULTS, **given}
    result["category_codes"] = {**DEFAULTS["category_codes"], **(given.get("category_codes") or {})}
    result["issuer"] = result["issuer"] or campaign.association["name"]
    prefix = str(result["number_prefix"] or re.sub(r"[^A-Za-z0-9]+", "", str(campaign.id)).upper())
    if not re.fullmatch(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", prefix):
        raise UserError(f"活动文件 {campaign.path.name} 的 certificate.number_prefix 只能含字母、数字和连字符：{prefix}")
    result["number_prefix"] = prefix
    return result


def title_for(pattern: str, campaign: Campaign, category: str) -> str:
    """Given the campaign's title pattern and a category id, return the printed title ({year}, {category} filled)."""
    values = {"year": str(campaign.year), "category": categories()[category]}
    return re.sub(r"\{(year|category)\}", lambda m: values[m.group(1)], pattern)


def read_winners(path: Path) -> tuple[list[WinnerRow], list[str]]:
    """Given the winners workbook, return its usable rows and the problems of the others (by Excel row)."""
    from openpyxl import load_workbook

    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到获奖名单：{path}")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UserError(f"获奖名单 {path.name} 无法打开（应为 .xlsx 工作簿）：{exc}") from exc
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    header_at, columns = find_header(rows)
    winners, problems = [], []
    for n, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        cell = lambda name: clean(row[columns[name]]) if name in columns and columns[name] < len(row) else None
        company, kind, project = cell(COMPANY_COLUMN), cell(CATEGORY_COLUMN), cell(PROJECT_COLUMN)
        if not (company or kind or project):
            continue
        category = category_id(kind or "")
        if not company:
            problems.append(f"第 {n} 行：企业名称为空，已跳过")
        elif not category:
            allowed = "/".join(categories().values())
            problems.append(f"第 {n} 行（{company}）：类别“{kind or ''}”无法识别（应为 {allowed}），已跳过")
        else:
            winners.append(WinnerRow(n, company, category, project))
    return winners, problems


def find_header(rows: list[tuple]) -> tuple[int, dict[str, int]]:
    """Given a sheet's rows, return the header row's index and column name → index."""
    wanted = (COMPANY_COLUMN, CATEGORY_COLUMN, PROJECT_COLUMN)
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns = {}
        for j, value in enumerate(row):
            for name in wanted:
                if value is not None and fold(str(value)) == fold(name) and name not in columns:
                    columns[name] = j
        if COMPANY_COLUMN in columns and CATEGORY_COLUMN in columns:
            return i, columns
    raise UserError(f"获奖名单第一个工作表中找不到表头行（须含“{COMPANY_COLUMN}”和“{CATEGORY_COLUMN}”两列）")


def drop_repeats(winners: list[WinnerRow]) -> tuple[list[WinnerRow], list[str]]:
    """Given winners, return them without rows that repeat an earlier one, and a note for each repeat."""
    seen: dict[tuple, int] = {}
    kept, notes = [], []
    for w in winners:
        key = (w.category, fold(w.company), fold(w.project or ""))
        if key in seen:
            notes.append(f"第 {w.row} 行（{w.company}）与第 {seen[key]} 行重复，已跳过")
        else:
            seen[key] = w.row
            kept.append(w)
    return kept, notes


def certificate_context(entry: Entry) -> dict:
    """Given a register entry, return what the template prints for it (`w`)."""
    field_id = HONOURED_FIELD.get(entry.category)
    label = application_form(entry.category).fields[field_id].plain_label if field_id else ""
    return {
        "company": entry.company, "item_label": label, "item": entry.project if field_id else None,
        "title": entry.title, "issuer": entry.issuer, "date": zh_date(entry.valid_from),
        "valid_to": zh_date(entry.valid_to), "number": entry.number, "category": categories()[entry.category],
    }


def make_certificates(winners_path: Path, out: Path, campaign: Campaign, register_path: Path,
                      pdf: bool = False, today: date | None = None) -> Result:
    """Given the winners workbook, write one certificate .docx per winner (and one PDF); return the Result."""
    winners, problems = read_winners(winners_path)
    winners, repeats = drop_repeats(winners)
    result = Result(problems=problems + repeats)
    if not winners:
        raise UserError("获奖名单中没有可颁发证书的行" + ("：" + "；".join(result.problems) if result.problems else ""))
    conf = settings(campaign)
    titles = {cid: title_for(conf["title"], campaign, cid) for cid in categories()}
    with connect(register_path) as conn:
        result.entries = assign(
            conn, [Winner(w.company, w.category, w.project) for w in winners], program=str(campaign.program),
            campaign=str(campaign.id), prefix=conf["number_prefix"], codes=conf["category_codes"], titles=titles,
            issuer=conf["issuer"], validity_years=int(campaign.validity_years), today=today or date.today())
    tpl = compiled(template("certificate.docx"))
    contexts = [certificate_context(e) for e in result.entries]
    out = Path(out)
    stems = unique_names([safe_filename(f"{e.company}_{e.number}") for e in result.entries])
    for stem, ctx in zip(stems, contexts):
        result.files.append(tpl.render({"c": campaign.context(), "winners": [ctx]}, out / f"{stem}.docx"))
    if pdf:
        result.pdf = combined_pdf(tpl, campaign, contexts, out / PDF_NAME)
        pages = page_count(result.pdf)
        if pages != len(contexts):
            result.problems.append(f"{PDF_NAME} 有 {pages} 页而证书有 {len(contexts)} 张：有证书内容过长超出一页，"
                                   f"请缩短名称或调整模板 certificate.docx")
    return result


def page_count(path: Path) -> int:
    """Given a PDF, return its number of pages."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def combined_pdf(tpl, campaign: Campaign, contexts: list[dict], target: Path) -> Path:
    """Given the compiled template and every certificate's context, write one PDF of them all; return it."""
    with tempfile.TemporaryDirectory(prefix="manyi-certs-") as tmp:
        combined = tpl.render({"c": campaign.context(), "winners": contexts}, Path(tmp) / "certificates.docx")
        converted = office.convert([combined], "pdf", Path(tmp) / "pdf", timeout=PDF_TIMEOUT_S)[combined]
        if isinstance(converted, str):
            raise UserError(f"证书 PDF 生成失败：{converted}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(converted), str(target))
    return target
