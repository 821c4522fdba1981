"""What the pages show, computed from what the library returns: small pure functions, plus the calls
that produce the downloads (each a library function over the workspace, run inside a job).
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.definitions.vocabulary import Decision, IssueCode, Severity, Status, label_of
from pipeline.issuing.workbook import form_of, issue_place

#: The audit log's actions in Chinese; a decision is logged under its kind (confirm, waive, opinion).
ACTIONS_ZH = {"init": "建立工作区", "receive": "收件", "move": "移动阶段", **{d.value: d.label for d in Decision},
              "notice": "补正通知", "certificates": "打印证书", "version": "收到新版本",
              "account": "保存账号", "assign": "分配评审", "unassign": "取消评审分配",
              "certificate_revoke": "撤销证书", "certificate_renew": "续期证书", "carry": "沿用上一版的人工处理"}
#: Pages rendered per document for the preview, at most.
PREVIEW_PAGES = 6


def campaign_facts(campaign, program) -> list[tuple[str, str]]:
    """Given the campaign and its program, return (label, value) of the facts 首页 shows."""
    a = campaign.association
    facts = [("评选项目", program.name), ("年度", str(campaign.year)),
             ("申报截止", campaign.context().get("deadline_zh", "")),
             ("协会", a.name), ("地址", f"{a.address}（{a.postcode}）"), ("电话", str(a.phone))]
    for key, label in (("contact", "联系人"), ("email", "电子邮箱")):
        if a.get(key):
            facts.append((label, str(a.get(key))))
    return facts


def activity(entries: list[dict]) -> list[dict]:
    """Given audit log rows (newest first), return them as 首页 lists them: when, who, what, which applicant."""
    shown = []
    for e in entries:
        detail = e.get("detail") or {}
        what = ACTIONS_ZH.get(e["action"], e["action"])
        if e["action"] == "move" and isinstance(detail, dict):
            what = f"移到“{detail.get('to')}”"
        shown.append({"at": (e.get("at") or "").replace("T", " ")[:16], "by": e.get("by"), "what": what,
                      "applicant_id": e.get("applicant_id"), "detail": detail_text(detail)})
    return shown


def detail_text(detail) -> str:
    """Given an audit entry's detail (a dict, text or None), return it as one line."""
    if not detail:
        return ""
    if isinstance(detail, dict):
        return "；".join(f"{k}：{shown_value(v)}" for k, v in detail.items() if v not in (None, "", []))
    return str(detail)


def received_summary(result) -> dict:
    """Given a ReceiveResult, return what 收件 shows: the new, the new versions (each with its status in Chinese),
    the ones already there."""
    def shown(r) -> dict:
        return {**vars(r), "status_zh": label_of(Status, r.status)}

    return {"new": [shown(r) for r in result.stored if r.seq == 1],
            "versions": [shown(r) for r in result.stored if r.seq > 1],
            "unchanged": list(result.unchanged), "entries": result.entries}


def move_many(ws, ids: list[int], to: str, by: str, note: str | None) -> tuple[list[int], list[str]]:
    """Given applicant ids and a stage, move each that the program lets move; return (moved ids, Chinese refusals)."""
    moved, refused = [], []
    for number in ids:
        try:
            ws.move(number, to, by=by, note=note)
            moved.append(number)
        except UserError as exc:
            refused.append(f"{number}：{exc}")
    return moved, refused


def field_groups(record: dict, campaign) -> list[dict]:
    """Given a record, return its forms as printed: [{title, rows: [(group, label, value)]}], in the form's order."""
    groups = []
    for form_id, values in (record.get("forms") or {}).items():
        form = form_of(record, form_id)
        if form is None:
            continue
        if isinstance(values, list):  # 被访者名单: a count, the rows are in the workbook
            groups.append({"id": form_id, "title": form.printed_title(campaign),
                           "rows": [("", "被访者人数", f"{len(values)} 人")]})
            continue
        rows = [(f.group or "", f.plain_label, shown_value(values.get(f.id), f.options)) for f in form.fields.values()
                if f.id in values]
        groups.append({"id": form_id, "title": form.printed_title(campaign), "rows": rows})
    return groups


def shown_value(value, options: dict | None = None) -> str:
    """Given an extracted value and its field's options, return it as a cell shows it: an option by its printed
    label (企业类, not enterprise), lists joined, booleans as 是/否, nothing as —."""
    options = options or {}
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        key = "yes" if value else "no"
        return options.get(key) or ("是" if value else "否")
    if isinstance(value, str) and value in options:
        return str(options[value])
    if isinstance(value, (list, tuple)):
        return "、".join(shown_value(v, options) for v in value)
    if isinstance(value, dict) and set(value) == {"start", "end"}:  # a period
        return f"{shown_value(value['start'])} 至 {shown_value(value['end'])}"
    if isinstance(value, dict):
        return "；".join(f"{k}：{shown_value(v)}" for k, v in value.items())
    return str(value)


def issue_rows(record: dict, issues: list[dict], campaign) -> list[dict]:
    """Given a record and issues, return each with its severity and what it is about (its code's name) in Chinese,
    and where it is (that name, form title, field label, article: the line under the message)."""
    rows = []
    for issue in issues:
        form, label = issue_place(record, issue, campaign)
        code_zh = label_of(IssueCode, issue.get("code"), "")
        where = [x for x in (code_zh, form, label, f"依据：{issue['article']}" if issue.get("article") else "") if x]
        rows.append({**issue, "form_title": form, "field_label": label, "where": " · ".join(where),
                     "severity_zh": label_of(Severity, issue.get("severity"), ""), "code_zh": code_zh})
    return rows


def version_rows(versions) -> list[dict]:
    """Given VersionInfo objects, return what the versions table shows, newest first: each with the library's
    own lines on what it fixed against the version before (and which notice items it answered)."""
    from pipeline.workspace.compare import comparison_lines

    rows = []
    for v in versions:
        rows.append({"seq": v.seq, "source": v.source, "received_on": v.received_on or "", "status": v.status,
                     "files": v.files, "lines": comparison_lines(v.comparison) if v.comparison else []})
    return list(reversed(rows))


def download_stem(detail) -> str:
    """Given an applicant's detail, return a file name stem for its downloads."""
    from pipeline.common.files import safe_filename

    return safe_filename(f"A{detail.id:05d}-{detail.row.company_name or '未命名'}")


# --- previews -------------------------------------------------------------------------------------


def preview_dir(site, sha: str) -> Path:
    return site.web_dir / "previews" / sha[:2] / sha


def preview_path(site, sha: str, page: int) -> Path | None:
    """Given a file's SHA-256 and a page number, return its rendered PNG, or None when not rendered."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        return None
    path = preview_dir(site, sha) / f"{int(page)}.png"
    return path if path.is_file() else None


def previews_of(site, detail) -> list[dict]:
    """Given an applicant's detail, return the rendered pages of its latest version's files."""
    shown = []
    for f in detail.versions[-1].files if detail.versions else []:
        folder = preview_dir(site, f["sha256"])
        pages = sorted(int(p.stem) for p in folder.glob("*.png")) if folder.is_dir() else []
        shown.append({"name": f["name"] or detail.versions[-1].source, "sha": f["sha256"], "pages": pages})
    return shown


def make_previews(site, store, files: list[tuple[str, str]], progress, work: Path) -> str:
    """Given (sha, name) of stored files, render the first pages of each as PNG; return a Chinese line.

    A zip is opened through the inbox's own gate and its documents shown one after another. PDFs
    are rendered directly (pypdfium2, which pdfplumber already brings); Word and Excel files are
    turned into PDF by LibreOffice first, in one batch for all.
    """
    import shutil

    from pipeline.common import office
    from pipeline.common.sniff import sniff
    from pipeline.receiving import inbox

    documents: dict[str, list[tuple[Path, str]]] = {}  # stored sha → (path, kind) of the documents it holds
    for n, (sha, name) in enumerate(files):
        kind = sniff(store.path(sha)).kind
        staged = work / f"f{n}.{kind}"
        shutil.copyfile(store.path(sha), staged)
        if kind == "zip":
            opened = inbox.open_submission(inbox.Entry("preview", name, staged), work / f"z{n}")
            documents[sha] = [(f.path, f.kind) for f in opened.files]
        else:
            documents[sha] = [(staged, kind)]
    convert = [p for docs in documents.values() for p, kind in docs if kind in office.ACCEPTS["pdf"]]
    pdfs = {}
    if convert:
        if not office.available():
            raise UserError(office.INSTALL_HINT)
        pdfs = {source: out for source, out in office.to_pdf(convert, work / "pdf").items() if isinstance(out, Path)}
    pages = skipped = 0
    for n, (sha, docs) in enumerate(documents.items(), 1):
        rendered = [p if kind == "pdf" else pdfs.get(p) for p, kind in docs]
        skipped += sum(r is None for r in rendered)
        pages += render_pages([r for r in rendered if r is not None], preview_dir(site, sha))
        progress(n, len(documents))
    return f"已生成 {pages} 页预览" + (f"；{skipped} 个文件无法预览（图片或无法转换）" if skipped else "")


def render_pages(pdfs: list[Path], folder: Path) -> int:
    """Given PDFs, render their first pages (PREVIEW_PAGES each) as 1.png, 2.png … in `folder`; return how many."""
    import pypdfium2

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):  # ours, from an earlier rendering of the same file
        old.unlink()
    count = 0
    for path in pdfs:
        document = pypdfium2.PdfDocument(str(path))
        try:
            for page_no in range(min(PREVIEW_PAGES, len(document))):
                count += 1
                image = document[page_no].render(scale=0.9).to_pil()
                image.convert("L").save(folder / f"{count}.png", optimize=True)
        finally:
            document.close()
    return count


# --- review -------------------------------------------------------------------------------------

def score_value(text: str | None) -> float | None:
    """Given the score field as typed, return the number (0–100), None when empty; raise UserError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"评分应为 0 到 100 的数字：{text}") from None
    if not 0 <= value <= 100:
        raise UserError(f"评分应为 0 到 100 的数字：{text}")
    return value


def tally(ws, rows) -> list[dict]:
    """Given the applicants, return per applicant its opinions: count, recommended, not, mean score."""
    import sqlalchemy as sa

    from pipeline.workspace import db

    d = db.decisions
    by_applicant: dict[int, list] = {}
    with ws.reader.connect() as conn:
        for r in conn.execute(sa.select(d.c.applicant_id, d.c.score, d.c.recommend, d.c.by)
                              .where(d.c.kind == Decision.OPINION).order_by(d.c.id)):
            by_applicant.setdefault(r[0], []).append(r)
    out = []
    for row in rows:
        latest = {}
        for _, score, recommend, by in by_applicant.get(row.id, []):
            latest[by] = (score, recommend)  # a reviewer's last word counts
        scores = [s for s, _ in latest.values() if s is not None]
        out.append({"row": row, "opinions": len(latest), "yes": sum(r is True for _, r in latest.values()),
                    "no": sum(r is False for _, r in latest.values()),
                    "score": round(sum(scores) / len(scores), 1) if scores else None,
                    "by": sorted(latest)})
    return out


def my_opinions(ws, rows, reviewer: str) -> dict[int, dict]:
    """Given applicants and a reviewer, return applicant id → that reviewer's last opinion (text, recommend, score)."""
    found = {}
    for t in tally_rows(ws, [r.id for r in rows]):
        if t["by"] == reviewer:
            found[t["applicant_id"]] = {"text": t["note"], "recommend": t["recommend"], "score": t["score"]}
    return found


def tally_rows(ws, ids: list[int]) -> list[dict]:
    import sqlalchemy as sa

    from pipeline.workspace import db

    d = db.decisions
    if not ids:
        return []
    with ws.reader.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(d.c.applicant_id, d.c.note, d.c.recommend, d.c.score, d.c.by)
            .where(d.c.kind == Decision.OPINION, d.c.applicant_id.in_(ids)).order_by(d.c.id))]


# --- register ------------------------------------------------------------------------------------


def register_rows(ws, query: str = "") -> list[dict]:
    """Given the workspace and a search text, return the register's certificates matching it (number or holder)."""
    from pipeline.issuing import register
    from pipeline.workspace.outputs import register_entries

    query = (query or "").strip().lower()
    rows = []
    for e in register_entries(ws):
        if query and query not in e.number.lower() and query not in (e.company or "").lower():
            continue
        rows.append({"entry": e, "row": register.list_row(e), "lines": register.describe(e),
                     "state": e.state()})
    return rows


# --- downloads -------------------------------------------------------------------------------------


def write_summary(ws, folder: Path) -> Path:
    from pipeline.workspace.outputs import workspace_summary

    return workspace_summary(ws, folder / "summary.xlsx")


def write_summary_tables(ws, folder: Path) -> tuple[list[Path], list[str]]:
    """Write the 推荐汇总表 of every 推进单位 from the latest records; return (files, warnings)."""
    from pipeline.generating.summary_table import make_summary_tables

    result = make_summary_tables(ws.latest_records(), folder / "推荐汇总表", ws.campaign)
    return list(result.files), list(result.warnings)


def write_notices(ws, folder: Path, ids: list[int] | None, by: str, pdf: bool) -> tuple[list[Path], str]:
    """Write the 补正通知 due (recorded by the workspace), zipped with notices.xlsx; return (files, message)."""
    from pipeline.web.pages import zip_folder
    from pipeline.workspace.outputs import workspace_notices

    out = folder / "补正通知"
    done = workspace_notices(ws, out, by=by, pdf=pdf, only=set(ids) if ids else None)
    message = f"已生成 {len(done.recorded)} 份补正通知" + (f"；{done.already_sent} 份此前已发过" if done.already_sent else "")
    if not out.exists() or not any(out.iterdir()):
        return [], message + "（没有需要新发的补正通知）"
    return [zip_folder(out, folder / "补正通知.zip")], message


def write_certificates(ws, folder: Path, by: str) -> tuple[list[Path], str]:
    """Print the winners' certificates as one PDF (numbers in the register); return (files, message)."""
    from pipeline.common import office
    from pipeline.workspace.outputs import workspace_certificates

    pdf = office.available()
    result = workspace_certificates(ws, folder / "证书", by=by, pdf=pdf)
    files = [result.pdf] if getattr(result, "pdf", None) else list(result.files)
    return files, f"已生成 {len(result.files)} 张证书" + ("，合并为一个 PDF" if files and pdf else "（未找到 LibreOffice，只有 Word 文件）")
