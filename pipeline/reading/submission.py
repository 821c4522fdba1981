"""One submission → its contract record (before the rules add their issues).

Files are read one at a time and dropped once their forms are extracted, so a worker never
holds more than one document. A .docx is read and extracted in a child bounded in time and
memory (PDF and Excel readers bound themselves): a few MB of zipped XML can hold millions
of paragraphs. Every text of the record is made XML-safe here, once, so no output (workbook,
Word document) can be broken by what a PDF or a file name carried. Besides the contract's
keys a record carries `forms_found` (the form keys detected, 'application.product' …) so
rules can compare the cover's category with the 申请表 variants present.
"""

from __future__ import annotations

from pipeline.common.safety import LIMITS, ChildFailed, Timeout, run_bounded
from pipeline.common.text import clean, fold, xml_safe
from pipeline.definitions.forms import Form, load_forms
from pipeline.definitions.vocabulary import status_of
from pipeline.reading import readers
from pipeline.reading.extract import extract_form, split_forms
from pipeline.reading.issues import make_issue
from pipeline.reading.readers.docx import docx_document, main_part
from pipeline.receiving.attachments import attachment
from pipeline.receiving.inbox import submission_id

# What XML 1.0 (so openpyxl, lxml, Word) refuses: C0 controls but tab/LF/CR, U+FFFE/U+FFFF, lone surrogates.

#: The forms whose company name is the record's, in order of trust.
NAME_FORMS = ("cover", "application", "commitment", "implementation_status", "recommendation", "site_inspection")
#: Fields naming a person or a team on a program's 申请表, when no form names a company.
APPLICANT_FIELDS = ("name", "team_name")
#: The field of a person's or a team's 申请表 naming their employer (工作单位).
EMPLOYER_FIELDS = ("employer",)


def unreadable_issue(file: str, reason: str) -> dict:
    """Given a file name and the Chinese reason, return its `unreadable_file` error."""
    return make_issue("error", "unreadable_file", f"文件“{file}”无法读取：{reason}", file=file)


def read_file(file, limits: dict = LIMITS, forms: dict | None = None
              ) -> tuple[list[tuple[Form, object]], dict | None, dict | None]:
    """Given a SubmissionFile (and the program's forms, default the seed's), return (its forms with values,
    its attachment entry, an unreadable issue)."""
    forms = forms or load_forms()
    if file.kind != "docx":
        return read_here(file, forms=forms)
    try:  # an ordinary packet is read here: a child process per file would cost more than the reading
        xml = main_part(file.path, limits, at_most=limits["docx_inline_xml"])
    except readers.Unreadable as exc:
        return [], None, unreadable_issue(file.name, str(exc))
    if xml is not None:
        return read_here(file, xml=xml, forms=forms)
    try:
        found, extra, problem = run_bounded(read_here, file, True, None, forms, seconds=limits["docx_seconds"],
                                            memory=limits["docx_memory"])
    except (Timeout, ChildFailed) as exc:
        # Time and memory are one budget: which of them runs out first depends on how busy the computer is, so
        # the applicant is told the same thing either way (a rerun gives the same record).
        if isinstance(exc, ChildFailed) and "内存" not in str(exc):
            return [], None, unreadable_issue(file.name, f"Word 文件无法解析（解析出错）：{readers.DAMAGED}")
        return [], None, unreadable_issue(file.name, readers.TOO_MUCH)
    except Exception:  # noqa: BLE001 - whatever the child re-raised
        return [], None, unreadable_issue(file.name, f"读取时出错：{readers.DAMAGED}")
    return [(forms[key], values) for key, values in found], extra, problem


def read_here(file, by_key: bool = False, xml: bytes | None = None, forms: dict | None = None):
    """Given a SubmissionFile (and a .docx's main part when already read, and the program's forms), read it in
    this process; return what `read_file` returns (forms by key if asked)."""
    try:
        try:
            doc = readers.read(file) if xml is None else docx_document(xml, file.name)
        except readers.Rejected:
            doc = read_through_office(file)
    except readers.Unreadable as exc:
        return [], None, unreadable_issue(file.name, str(exc))
    except MemoryError:
        return [], None, unreadable_issue(file.name, readers.TOO_MUCH)
    except Exception:  # noqa: BLE001 - one broken file must not stop the others
        return [], None, unreadable_issue(file.name, f"读取时出错：{readers.DAMAGED}")
    found = split_forms(doc, forms)
    if not found:
        extra = attachment(file.name, doc.text)
        if is_scan(doc):
            extra["scan"] = True  # read by `scan_issue`; an image or a PDF without a text layer
            if doc.text.strip():
                extra["source"] = "scan"
        return [], extra, None
    got = [(f, extract_form(f)) for f in found]
    extra = scan_origins(got, file.name, doc) if doc.scan else None
    return [(f.form.key if by_key else f.form, values) for f, values in got], extra, None


def scan_origins(got: list, file: str, doc) -> dict:
    """Given the forms found in a Document read by OCR with their values, return the file's `origins`
    (form id → where its values came from) and the issues reading the scan raised. A form on the text pages of
    a PDF that has some scanned pages came from no scan: it gets no origin."""
    from pipeline.reading.scans import form_origin, read_parts

    origins, issues = {}, []
    for found, values in got:
        if not read_parts(found.blocks):
            continue
        origin, raised = form_origin(found, values, file, doc.scan.get("seals", {}))
        origins.setdefault(found.form.id, origin)
        issues += raised
    return {"origins": origins, "issues": issues}


def read_through_office(file):
    """Given a SubmissionFile our reader refused (an .xlsx openpyxl rejects), return its Document as
    read from LibreOffice's re-saved copy; re-raise the refusal when LibreOffice cannot open it either."""
    import tempfile
    from dataclasses import replace
    from pathlib import Path

    from pipeline.common import office

    if not office.available():
        raise readers.Unreadable(f"Excel 文件无法读取（未安装 LibreOffice，无法再试）：{readers.DAMAGED}")
    with tempfile.TemporaryDirectory(prefix="manyi-retry-") as tmp:
        out = office.convert([file.path], file.kind, Path(tmp) / "out").get(file.path)
        if not isinstance(out, Path):
            raise readers.Unreadable(f"Excel 文件无法读取（LibreOffice 也无法打开）：{readers.DAMAGED}")
        return readers.read(replace(file, path=out))


def is_scan(doc) -> bool:
    """Given a Document, return whether it is a photo or a scan: an image, or a PDF with no text layer
    (read by OCR or not)."""
    return doc.kind == "image" or doc.scan is not None or (doc.kind == "pdf" and not doc.text.strip())


#: The one issue of a submission whose forms came only as scans or photos (instead of a missing form each).
SCANNED = "scanned_forms"


def scan_issue(extracted: list, attachments: list[dict]) -> dict | None:
    """Given what a submission's files gave, return the `scanned_forms` error when no form could be read
    and every file read is a scan or a photo, else None."""
    if extracted or not attachments or not all(a.get("scan") for a in attachments):
        return None
    names = "、".join(a["file"] for a in attachments[:5]) + (" 等" if len(attachments) > 5 else "")
    return make_issue(
        "error", SCANNED,
        f"申报表格只有扫描件或照片（{names}），无法读取其中填写的内容；"
        "请在盖章扫描件之外，同时提交可编辑的 Word 电子版（.docx）申报材料")


def merged(first, later):
    """Given a form's values found twice, return the first with its empty fields filled from the later.

    Respondent lists: a list whose 序号 go on from the other's last is its continuation (a register
    photographed page by page, one file a page) and they are joined; otherwise the longer list wins (a blank
    register beside a filled .xlsx).
    """
    if isinstance(first, list):
        if continues(first, later):
            return first + later
        if continues(later, first):
            return later + first
        return later if len(later) > len(first) else first
    return {k: v if v not in (None, [], "") else later.get(k) for k, v in first.items()}


def continues(rows: list, more: list) -> bool:
    """Given two lists of rows, return whether `more` goes on where `rows` ends: its first 序号 is one past
    the last 序号 of `rows`."""
    def seq(row):
        value = row.get("seq") if isinstance(row, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    last, first = (seq(rows[-1]) if rows else None), (seq(more[0]) if more else None)
    return last is not None and first is not None and first == last + 1


def category_of(cover: dict | None, variants: list[str]) -> str | None:
    """Given the cover's values and the 申请表 variants found, return the category id or None."""
    ticked = (cover or {}).get("category")
    if isinstance(ticked, str):
        return ticked
    return variants[0] if len(set(variants)) == 1 else None


def company_of(forms: dict) -> str | None:
    """Given a record's forms, return the applicant's name: the company named on the cover, else on the 申请表,
    else on any form; for a person or a team (广东服务明星), the name on its 申请表."""
    for form_id in NAME_FORMS:
        found = forms.get(form_id)
        name = clean(found.get("company_name")) if isinstance(found, dict) else None
        if name:
            return name
    application = forms.get("application")
    for fid in APPLICANT_FIELDS if isinstance(application, dict) else ():
        if clean(application.get(fid)):
            return clean(application[fid])
    return None


def applicant_of(forms: dict) -> dict:
    """Given a record's forms, return who applies: {kind, name, employer}.

    A 申请表 that names a person (姓名) or a team (班组名称) makes the applicant that person or team, with the
    employer of their own (工作单位); otherwise the applicant is the organisation `company_of` names.
    """
    application = forms.get("application") if isinstance(forms.get("application"), dict) else {}
    for fid, kind in zip(APPLICANT_FIELDS, ("person", "team")):
        if fid in application:
            employer = next((clean(application.get(f)) for f in EMPLOYER_FIELDS if clean(application.get(f))), None)
            return {"kind": kind, "name": clean(application.get(fid)), "employer": employer}
    return {"kind": "organisation", "name": company_of(forms), "employer": None}


def assemble(entry, extracted: list[tuple[Form, object]], attachments: list[dict], issues: list[dict]) -> dict:
    """Given an entry and what its files gave, return the record in the contract's shape."""
    by_key: dict[str, object] = {}
    for form, values in extracted:
        by_key[form.key] = merged(by_key[form.key], values) if form.key in by_key else values
    variants = [k.split(".", 1)[1] for k in by_key if k.startswith("application.")]
    # A program's other forms are per category too (自评表, 推荐意见): without the 申请表 they tell the category.
    variants = variants or [k.split(".", 1)[1] for k in by_key if "." in k]
    category = category_of(by_key.get("cover"), variants)
    forms: dict[str, object] = {}
    for key, values in by_key.items():
        form_id = key.split(".", 1)[0]
        if form_id == "application":
            chosen = f"application.{category}" if f"application.{category}" in by_key else f"application.{variants[0]}"
            if key != chosen:
                continue
        forms[form_id] = values
    return xml_safe({
        "submission_id": entry.submission_id,
        "source": entry.source,
        "category": category,
        "company_name": company_of(forms),
        "applicant": applicant_of(forms),
        "forms": forms,
        "forms_found": list(by_key),
        "attachments": attachments,
        "issues": issues,
        "status": status_of(issues),
    })


def submission_record(entry, files: list, problems: list, forms: dict | None = None) -> dict:
    """Given an entry, its readable files and refused ones (inbox.Problem) and the program's forms (default the
    seed's), return its record."""
    forms = forms or load_forms()  # cached: one parse of forms/ per process
    read = [(file.name, *read_file(file, forms=forms)) for file in files]
    return record_of(entry, read, problems)


def record_of(entry, read: list[tuple], problems: list) -> dict:
    """Given an entry, what each of its files gave (name, forms, attachment, issue) and the refused files,
    return its record."""
    extracted: list[tuple[Form, object]] = []
    attachments: list[dict] = []
    issues = [unreadable_issue(p.file, p.reason) for p in problems]
    origins: dict = {}
    for _, found, extra, problem in read:
        extracted.extend(found)
        if extra and "origins" in extra:  # forms read from a scan: where their values came from
            for form_id, origin in extra["origins"].items():
                origins.setdefault(form_id, origin)
            issues.extend(extra["issues"])
        elif extra:
            attachments.append(extra)
        if problem:
            issues.append(problem)
    scanned = scan_issue(extracted, attachments)
    if scanned:
        issues.append(scanned)
    attachments = [{k: v for k, v in a.items() if k != "scan"} for a in attachments]
    record = assemble(entry, extracted, attachments, issues)
    if origins:
        record["origins"] = xml_safe(origins)
    return record


def submission_records(entry, files: list, problems: list, forms: dict | None = None) -> list[dict]:
    """Given an entry, its readable files and refused ones, return its records: one, or one per company
    when the entry is a batch (a 推进单位's archive or folder of several companies' packets).

    A batch is an entry of which two or more top-level parts (sub-folders, or files) each hold a
    packet (`is_packet`) of a different company; each part becomes a submission whose source names
    it ('批次.zip/公司A/'), and its record carries `batch` (the entry's source). A packet split over
    several files, or a company name spelt two ways, never splits an entry.
    """
    forms = forms or load_forms()  # the program's forms, default the seed's
    read = [(file.name, *read_file(file, forms=forms)) for file in files]
    parts = batch_parts([name for name, *_ in read] + [p.file for p in problems])
    if parts is None:
        return [record_of(entry, read, problems)]
    groups: dict[str, tuple[list, list]] = {}
    for item in read:
        groups.setdefault(parts[item[0]], ([], []))[0].append(item)
    for problem in problems:
        groups.setdefault(parts[problem.file], ([], []))[1].append(problem)
    packets = {part: company_of(forms) for part, (items, _) in groups.items()
               if is_packet(forms := {form.id: values for form, values in _forms(items)})}
    if len({fold(n) for n in packets.values() if n}) < 2:
        return [record_of(entry, read, problems)]
    records = []
    for part, (items, refused) in sorted(groups.items()):
        source = f"{entry.source}/{part}"
        sub_entry = type(entry)(submission_id(source), source, entry.path)
        record = record_of(sub_entry, items, refused)
        record["batch"] = entry.source
        records.append(record)
    return records


#: Forms of which a part must hold this many, one a 申请表, to be a whole packet rather than a stray form.
PACKET_FORMS = 3


def is_packet(forms: dict) -> bool:
    """Given the forms (id → values) a part of an entry holds, return whether they are a whole packet."""
    return "application" in forms and len(forms) >= PACKET_FORMS


def _forms(items: list[tuple]):
    for _, forms, _, _ in items:
        yield from forms


def batch_parts(names: list[str]) -> dict[str, str] | None:
    """Given the names of an entry's files ('公司A/申请表.docx' …), return each name's top-level part
    ('公司A/', or the file's own name for a file at the top), one shared wrapping folder skipped;
    None when there are fewer than two parts."""
    if len(names) < 2:
        return None
    split = [name.split("/") for name in names]
    skip = 0
    while all(len(parts) > skip + 1 for parts in split) and len({parts[skip] for parts in split}) == 1:
        skip += 1
    prefix = "/".join(split[0][:skip]) + "/" if skip else ""
    out = {}
    for name, parts in zip(names, split):
        rest = parts[skip:]
        out[name] = prefix + (rest[0] + "/" if len(rest) > 1 else rest[0])
    return out if len(set(out.values())) > 1 else None


def error_record(entry, message: str) -> dict:
    """Given an entry whose parsing failed outright, return a record holding only that error."""
    issue = make_issue("error", "unreadable_file", message, file=entry.source)
    return xml_safe({
        "submission_id": entry.submission_id, "source": entry.source, "category": None, "company_name": None,
        "applicant": {"kind": "organisation", "name": None, "employer": None}, "forms": {}, "forms_found": [], "attachments": [], "issues": [issue], "status": "incomplete",
    })
