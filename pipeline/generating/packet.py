"""`manyi packet`: blank application packets per category, or one pre-filled packet per roster row.

A packet is the category's forms (pipeline.definitions.forms.packet_forms) rendered in one document. Each
form keeps its own Word template, so staff edit a form's wording once; for speed the category's
templates are joined into one template per process (`packet_template`) and compiled once, and
each form is rendered with its own values: `{%p with v = forms['cover'] %}` … `{%p endwith %}`.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from lxml import etree

from pipeline.common.errors import UserError
from pipeline.common.files import output_folder, safe_filename, unique_names
from pipeline.common.text import clean, fold
from pipeline.definitions import forms as forms_mod
from pipeline.definitions.campaign import load_campaign
from pipeline.definitions.workbooks import column_names, find_header, header_key, read_sheet, roster_label
from pipeline.word import TEMPLATES_DIR
from pipeline.word.build import template_path
from pipeline.word.render import compiled
from pipeline.word.templates_check import stop_on_broken

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CHUNK = 8  # roster rows per task when several processes share the work


@dataclass
class PacketResult:
    """What a packet run wrote: the files, the PDFs, one Chinese line per problem, packets per category."""

    out: Path
    files: list = field(default_factory=list)
    pdfs: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    extras: list = field(default_factory=list)
    #: category id → printed name, for the summary line.
    names: dict = field(default_factory=dict)

    def summary(self) -> str:
        """Return the one-line Chinese summary printed at the end of a run: `line()` and the output folder."""
        return f"{self.line()}；输出目录：{self.out}"

    def line(self) -> str:
        """Return what was written, in one Chinese line, without the output folder (the web page's job message)."""
        parts = "、".join(f"{self.names.get(c, c)} {n} 份" for c, n in self.counts.items() if n)
        text = f"已生成 {sum(self.counts.values())} 份申报材料（{parts or '无'}）"
        if self.extras:  # blank: 推荐汇总表.docx …; roster: a folder of each kind
            kinds = Counter(p.stem if p.parent == self.out else p.parent.name for p in self.extras)
            text += "，另有" + "、".join(f"{k} {n} 份" for k, n in kinds.items())
        if self.pdfs:
            text += f"，PDF {len(self.pdfs)} 份"
        if self.problems:
            text += f"，{len(self.problems)} 个问题"
        return text


# --- the packet template -------------------------------------------------------------------------


def _w(tag: str) -> str:
    return f"{{{W}}}{tag}"


def tag_paragraph(tag: str) -> etree._Element:
    """Given a docxtpl paragraph tag ('{%p … %}'), return a w:p holding it (docxtpl drops the paragraph)."""
    p = etree.Element(_w("p"), nsmap={"w": W})
    etree.SubElement(etree.SubElement(p, _w("r")), _w("t")).text = tag
    return p


def page_break() -> etree._Element:
    """Return a w:p holding a page break."""
    p = etree.Element(_w("p"), nsmap={"w": W})
    etree.SubElement(etree.SubElement(p, _w("r")), _w("br")).set(_w("type"), "page")
    return p


def break_before(element: etree._Element) -> bool:
    """Given a form's first body element, make it start a new page if it is a paragraph; return whether it could.

    A page break paragraph of its own could spill onto an empty page after a full-page form.
    """
    if element.tag != _w("p"):
        return False
    ppr = element.find(_w("pPr"))
    if ppr is None:
        ppr = etree.SubElement(element, _w("pPr"))
        element.insert(0, ppr)
    if ppr.find(_w("pageBreakBefore")) is None:
        before = [c for c in ppr if c.tag in (_w("pStyle"), _w("keepNext"), _w("keepLines"))]
        ppr.insert(ppr.index(before[-1]) + 1 if before else 0, etree.Element(_w("pageBreakBefore")))
    return True


def read_body(path: Path) -> tuple[dict, etree._Element]:
    """Given a .docx, return its parts and the parsed w:document root."""
    try:
        with zipfile.ZipFile(path) as zf:
            parts = {info.filename: zf.read(info) for info in zf.infolist()}
        root = etree.fromstring(parts["word/document.xml"], etree.XMLParser(resolve_entities=False))
    except (OSError, zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        raise UserError(f"模板 {path.name} 无法打开：{exc}") from exc
    return parts, root


def join_templates(paths: list[Path], scopes: list[str], out: Path) -> Path:
    """Given form templates and the form id each renders with, write one template holding them all.

    The first template gives the package (styles, page set-up); the bodies follow each other with
    a page break between forms, each wrapped in `{%p with v = forms['<id>'] %}`.
    """
    parts, root = read_body(paths[0])
    body = root.find(_w("body"))
    sect = body.find(_w("sectPr"))
    for child in list(body):
        if child is not sect:
            body.remove(child)
    for n, (path, scope) in enumerate(zip(paths, scopes)):
        children = [c for c in read_body(path)[1].find(_w("body")) if c.tag != _w("sectPr")]
        if n and not (children and break_before(children[0])):
            sect.addprevious(page_break())
        sect.addprevious(tag_paragraph(f"{{%p with v = forms[{scope!r}] %}}"))
        for child in children:
            sect.addprevious(child)
        sect.addprevious(tag_paragraph("{%p endwith %}"))
    parts["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out


@functools.lru_cache(maxsize=1)
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="manyi-packet-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@functools.lru_cache(maxsize=16)
def _packet_template(category: str, directory: str, stamp: tuple) -> Path:
    forms = forms_mod.packet_forms(category)
    paths = [template_path(form, Path(directory)) for form in forms]
    return join_templates(paths, [form.id for form in forms], _scratch() / f"packet.{category}.docx")


def packet_template(category: str, directory: Path = TEMPLATES_DIR) -> Path:
    """Given a category, return the joined template of its packet (built once per process, again after edits)."""
    paths = [template_path(form, directory) for form in forms_mod.packet_forms(category)]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"找不到模板：{'、'.join(missing)}（在 {directory}）。请先运行 manyi templates build")
    stamp = tuple(p.stat().st_mtime_ns for p in paths)
    return _packet_template(category, str(Path(directory).resolve()), stamp)


# --- values --------------------------------------------------------------------------------------


def cell_text(value) -> str | None:
    """Given a spreadsheet cell value, return it as the text a form shows (2017-05-09, 12, 95.5), or None."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean(value)


def field_for(form, header: str):
    """Given a form and a column header, return the field whose label (or alias) folds equal to it, or None.

    A remark in brackets after the header (企业名称（盖章）) is ignored. A field outside side-labelled
    groups wins over one inside (电话 is the contact's, not the project's).
    """
    keys = {fold(header), header_key(header)}
    matches = [f for f in form.fields.values() if keys & set(f.keys)]
    matches.sort(key=lambda f: (f.group is not None, f.occurrence))
    return matches[0] if matches else None


@functools.lru_cache(maxsize=1)
def shared_fields() -> frozenset:
    """Return the field ids every 申请表 has (企业名称, 电话, 邮编 …): the same fact wherever a form holds one."""
    ids = [set(forms_mod.application_form(cid).fields) for cid in forms_mod.categories()]
    return frozenset(set.intersection(*ids))


@functools.lru_cache(maxsize=256)
def column_fields(header: str) -> dict[str, str]:
    """Given a roster column header, return form key → field id of every form the column fills.

    A column fills the field its label or an alias names on each form; a column naming a field every
    申请表 shares (联系人电话 → phone) fills that field on every form that has it (the 电话 of the
    product, construction and service forms, the contract's).
    """
    forms = {key: form for key, form in forms_mod.load_forms().items() if not form.get("rows")}  # no list form
    header = roster_label(header)  # 手机, E-mail, 法人代表 … (definitions.workbooks.ROSTER_SYNONYMS)
    direct = {key: fld.id for key, form in forms.items() if (fld := field_for(form, header)) is not None}
    shared = [fid for fid in dict.fromkeys(direct.values()) if fid in shared_fields()]
    for key, form in forms.items():
        if key not in direct:
            fid = next((f for f in shared if f in form.fields), None)
            if fid:
                direct[key] = fid
    return direct


def choice_key(field, value: str):
    """Given a choice field and a typed value, return the option key it names, or the value unchanged."""
    for key, text in field.options.items():
        if fold(value) in (fold(key), fold(text)):
            return key
    return value


def form_values(row: dict, form, category: str) -> dict:
    """Given a roster row (header → text), a form and the row's category, return the form's values."""
    values = {}
    for header, value in row.items():
        fid = column_fields(header).get(form.key) if value is not None else None
        if fid is not None and fid not in values:
            fld = form.fields[fid]
            values[fid] = choice_key(fld, value) if fld.type == "choice" else value
    if "category" in form.fields and form.fields["category"].type == "choice":
        values["category"] = category
    elif "category" in form.fields and category and not values.get("category"):
        values["category"] = forms_mod.categories().get(category, category)  # 推荐意见表's 推荐类别: 产品类
    return values


def packet_context(campaign_ctx: dict, values_by_form: dict, category: str) -> dict:
    """Given the campaign context and each form's values, return the context a packet renders with."""
    respondents = forms_mod.load_forms()["respondents"]
    rows = list(values_by_form.get("respondents", {}).get("respondents") or [])
    rows += [{}] * max(0, int(respondents.get("blank_rows") or 0) - len(rows))
    return {
        "c": campaign_ctx,
        "v": {},
        "forms": {form.id: values_by_form.get(form.id, {}) for form in forms_mod.packet_forms(category)},
        "rows": rows,
    }


def render_packet(category: str, values_by_form: dict, out: Path, campaign_ctx: dict,
                  directory: Path = TEMPLATES_DIR) -> Path:
    """Given a category, each form's values and an output path, write the packet .docx and return the path."""
    context = packet_context(campaign_ctx, values_by_form, category)
    return compiled(packet_template(category, directory)).render(context, out)


def render_form(form_key: str, out: Path, campaign_ctx: dict, values: dict | None = None,
                directory: Path = TEMPLATES_DIR) -> Path:
    """Given a standalone form (推荐汇总表, 合同书) and an output path, write it filled with `values`."""
    context = {"c": campaign_ctx, "v": dict(values or {}), "rows": []}
    return compiled(template_path(form_key, directory)).render(context, out)


# --- the roster ----------------------------------------------------------------------------------


@dataclass
class Applicant:
    """One good roster row: its Excel row number, company name, category and every form's values."""

    row: int
    name: str
    category: str
    values: dict


def roster_columns() -> dict[str, tuple]:
    """Return the roster's key columns (company, category) → the names staff head them with (forms/)."""
    return {"company": column_names("cover", "company_name"), "category": column_names("cover", "category")}


def read_roster(path: Path) -> list[tuple[int, dict]]:
    """Given a roster workbook, return (Excel row number, header → text) for each non-blank row of its first sheet.

    The header row is found within the first rows (a title above it, two header rows with merged
    cells); no header naming the company and the category is a UserError naming those columns.
    """
    rows = read_sheet(path, "名单文件")
    header = find_header(rows, roster_columns(), ("company", "category"), "名单文件",
                         known=lambda text: bool(column_fields(text)))
    result = []
    for number, cells in enumerate(rows[header.row + 1:], header.row + 2):
        texts = [cell_text(v) for v in cells]
        if any(texts):
            result.append((number, {h: t for h, t in zip(header.texts, texts) if h}))
    return result


def unused_columns(rows: list[tuple[int, dict]]) -> list[str]:
    """Given roster rows, return a warning naming the columns that fill no field of any form, if any."""
    headers = dict.fromkeys(h for _, row in rows for h in row)
    unused = [h for h in headers if not column_fields(h)]
    if not unused:
        return []
    return [f"名单中的列 {'、'.join(f'“{h}”' for h in unused)} 不对应申报材料中的任何栏目，未填入"]


def applicants(rows: list[tuple[int, dict]]) -> tuple[list[Applicant], list[str]]:
    """Given roster rows, return the applicants and a Chinese problem line per bad row (naming its row)."""
    cover = forms_mod.load_forms()["cover"]
    names = "/".join(forms_mod.categories().values())
    good, problems = [], unused_columns(rows)
    seen: dict[tuple, int] = {}
    for number, row in rows:
        name = form_values(row, cover, "").get("company_name")
        label = next((h for h in row if column_fields(h).get("cover") == "category"), None)
        raw = row.get(label) if label else None
        category = forms_mod.category_id(raw) if raw else None
        if not name:
            problems.append(f"第 {number} 行：缺少{cover.fields['company_name'].label}，未生成")
        elif not raw:
            problems.append(f"第 {number} 行（{name}）：缺少{cover.fields['category'].label}（应为 {names}），未生成")
        elif not category:
            problems.append(f"第 {number} 行（{name}）：{cover.fields['category'].label}“{raw}”无法识别（应为 {names}），未生成")
        else:
            first = seen.setdefault((fold(name), category), number)
            if first != number:
                problems.append(f"第 {number} 行与第 {first} 行是同一企业（{name}）的同一类别，两行都已生成"
                                f"（后一份文件名带序号），请核对是否重复")
            forms = [*forms_mod.packet_forms(category), forms_mod.load_forms()["contract"]]
            values = {form.id: form_values(row, form, category) for form in forms}
            good.append(Applicant(number, name, category, values))
    return good, problems


def _render_many(tasks: list[tuple], campaign_ctx: dict, directory: str) -> list[tuple[int, str | None]]:
    """Render (row, category, values, out, contract out) tasks here: each applicant's packet and
    技术服务委托合同书 (甲方 filled in); return (row, error or None) each."""
    done = []
    for number, category, values, out, contract_out in tasks:
        try:
            render_packet(category, values, Path(out), campaign_ctx, Path(directory))
            render_form("contract", Path(contract_out), campaign_ctx, values.get("contract"), Path(directory))
            done.append((number, None))
        except UserError as exc:
            done.append((number, str(exc)))
    return done


# --- the job -------------------------------------------------------------------------------------


def chosen_categories(category: str) -> list[str]:
    """Given 'all' or a category id (or its Chinese name), return the category ids to write."""
    if category in (None, "", "all"):
        return list(forms_mod.categories())
    cid = forms_mod.category_id((category or "").strip())
    if not cid:
        raise UserError(f"类别“{category}”无法识别，应为 all 或 {'/'.join(forms_mod.categories())}")
    return [cid]


def file_stem(kind: str, category: str | None = None) -> str:
    """Given 'packet' (with a category), 'summary_table' or 'contract', return its file name stem (packet.yaml)."""
    pattern = forms_mod.packet_spec()["file_names"][kind]
    return pattern.format(category_zh=forms_mod.categories().get(category, "")) if category else pattern


def write_blank(out: Path, cats: list[str], campaign_ctx: dict, directory: Path, result: PacketResult) -> None:
    """Write one blank packet per category plus the standalone documents (推荐汇总表, 合同书)."""
    for cid in cats:
        path = render_packet(cid, {}, out / f"{file_stem('packet', cid)}.docx", campaign_ctx, directory)
        result.files.append(path)
        result.counts[cid] = result.counts.get(cid, 0) + 1
    for key in forms_mod.packet_spec()["standalone"]:
        path = render_form(key, out / f"{file_stem(key)}.docx", campaign_ctx, directory=directory)
        result.files.append(path)
        result.extras.append(path)


def write_roster(out: Path, roster: Path, cats: list[str], campaign_ctx: dict, directory: Path,
                 jobs: int, progress, result: PacketResult) -> None:
    """Write one pre-filled packet per good roster row of the chosen categories, with its contract
    (folder 技术服务委托合同书) and a 推荐汇总表 per 推进单位 listing them (folder 推荐汇总表); report the bad rows."""
    people, problems = applicants(read_roster(roster))
    result.problems += problems
    people = [p for p in people if p.category in cats]
    stems = unique_names([safe_filename(p.name) for p in people])
    contracts = out / file_stem("contract")
    tasks = [(p.row, p.category, p.values, str(out / f"{stem}.docx"), str(contracts / f"{stem}.docx"))
             for p, stem in zip(people, stems)]
    if tasks:
        output_folder(contracts)
    by_row = {p.row: p for p in people}
    chunks = [tasks[i: i + CHUNK] for i in range(0, len(tasks), CHUNK)]
    if jobs > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_render_many, chunk, campaign_ctx, str(directory)) for chunk in chunks]
            outcomes = []
            for future in futures:
                outcomes += future.result()
                if progress:
                    progress(len(outcomes), len(tasks))
    else:
        outcomes = []
        for chunk in chunks:
            outcomes += _render_many(chunk, campaign_ctx, str(directory))
            if progress:
                progress(len(outcomes), len(tasks))
    paths = {number: (Path(packet), Path(contract)) for number, _c, _v, packet, contract in tasks}
    written = []
    for number, error in outcomes:
        person = by_row[number]
        if error:
            result.problems.append(f"第 {number} 行（{person.name}）：{error}")
        else:
            result.files.append(paths[number][0])
            result.extras.append(paths[number][1])
            result.counts[person.category] = result.counts.get(person.category, 0) + 1
            written.append(person)
    result.extras += roster_summary_tables(written, out / file_stem("summary_table"), campaign_ctx, directory)
    result.problems += unnamed_items(written)


def unnamed_items(people: list[Applicant]) -> list[str]:
    """Given the applicants written, return a Chinese warning per category whose 推荐汇总表 lines can show
    only the company: the roster gave no name for the product, project or service put forward."""
    from pipeline.common.records import HONOURED_FIELD
    from pipeline.common.text import listed
    from pipeline.issuing.summary_table import FORM_ID, LIST_OF

    lists = forms_mod.load_forms()[FORM_ID].fields
    out = []
    for category, field_id in HONOURED_FIELD.items():
        rows = [p.row for p in people if p.category == category
                and not clean((p.values.get("application") or {}).get(field_id))]
        if rows:
            label = forms_mod.application_form(category).fields[field_id].plain_label
            out.append(f"名单中 {len(rows)} 行没有{label}（行号 {listed(rows)}）：推荐汇总表“{lists[LIST_OF[category]].plain_label}”"
                       f"一栏暂列企业名称，请在名单中加“{label}”一列后重新生成，或在表上补填")
    return out


def roster_summary_tables(people: list[Applicant], out: Path, campaign_ctx: dict, directory: Path) -> list[Path]:
    """Given the applicants written, write a 推荐汇总表 per 推进单位 listing them; return the files."""
    from pipeline.issuing.summary_table import printed_summary_tables

    if not people:
        return []
    output_folder(out)
    records = [{"source": p.name, "company_name": p.name, "category": p.category, "status": "complete",
                "forms": p.values} for p in people]
    return printed_summary_tables(records, out, campaign_ctx, template=template_path("summary_table", directory)).files


def add_pdfs(result: PacketResult) -> None:
    """Convert every written .docx to a PDF beside it in one LibreOffice batch; note each failure."""
    from pipeline.common import office

    if not office.available():
        raise UserError(office.INSTALL_HINT)
    sources = list(dict.fromkeys(result.files + result.extras))
    converted = {}
    for folder in dict.fromkeys(p.parent for p in sources):  # each PDF beside its .docx
        converted.update(office.convert([p for p in sources if p.parent == folder], "pdf", folder))
    for source in sources:
        outcome = converted.get(source, office.FAILED_ZH)
        if isinstance(outcome, Path):
            result.pdfs.append(outcome)
        else:
            result.problems.append(f"{source.name}：PDF {outcome}")


def used_templates(cats: list[str], directory: Path) -> list[Path]:
    """Given the categories and the templates folder, return the form templates a packet run fills."""
    keys = dict.fromkeys(f.key for cid in cats for f in forms_mod.packet_forms(cid))
    return [template_path(key, directory) for key in (*keys, "summary_table", "contract")
            if template_path(key, directory).is_file()]


def write_packets(out: Path, category: str, campaign, roster: Path | None = None,
                  pdf: bool = False, jobs: int = 1, progress=None,
                  templates: Path | None = None) -> PacketResult:
    """Given an output folder, 'all' or a category, the Campaign and options, write the seed's printed packets
    (blank, or one per roster row) and return what was written.

    `progress(done, total)` is called as roster packets are written.
    """
    directory = Path(templates) if templates else TEMPLATES_DIR
    out = Path(out)
    cats = chosen_categories(category)
    output_folder(out)
    result = PacketResult(out=out, counts={cid: 0 for cid in cats}, names=forms_mod.categories())
    context = campaign.context()
    # A template edited in Word into a wrong or missing tag would print wrong or blank names: stop first.
    stop_on_broken(used_templates(cats, directory), campaign)
    if roster:
        write_roster(out, Path(roster), cats, context, directory, max(1, int(jobs)), progress, result)
    else:
        write_blank(out, cats, context, directory, result)
    if pdf:
        add_pdfs(result)
    return result


def stderr_progress():
    """Return (progress callback, finish) drawing a click progress bar on stderr when it is a terminal."""
    import click

    if not sys.stderr.isatty():
        return None, lambda: None
    state = {}

    def progress(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label="生成申报材料", file=sys.stderr)
            state["bar"].__enter__()
        bar = state["bar"]
        bar.update(done - bar.pos)

    def finish() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return progress, finish
