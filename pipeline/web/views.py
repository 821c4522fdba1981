"""What the pages show, computed from what the library returns: small pure functions, plus the calls
that produce the downloads (each a library function over the workspace, run inside a job). Nothing here
imports the web application or a page module: the blueprints import this.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.common.zones import shown_time
from pipeline.common.zones import zone_of as zone_named

from pipeline.common import office
from pipeline.common.errors import UserError
from pipeline.common.files import safe_filename
from pipeline.definitions.programs import program_of
from pipeline.definitions.vocabulary import Decision, IssueCode, Severity, Status, label_of
from pipeline.issuing import register
from pipeline.issuing.summary_table import make_summary_tables
from pipeline.issuing.workbook import issue_place
from pipeline.workspace.compare import RESPONDENTS, comparison_lines
from pipeline.workspace.outputs import (notices_due, register_entries, workspace_certificates, workspace_notices, workspace_screen,
                                        workspace_summary)

#: The audit log's actions in Chinese; a decision is logged under its kind (confirm, waive, opinion).
ACTIONS_ZH = {"init": "建立工作区", "receive": "收件", "move": "移动阶段", **{d.value: d.label for d in Decision},
              "notice": "补正通知", "certificates": "打印证书", "version": "收到新版本",
              "account": "保存账号", "assign": "分配评审", "unassign": "取消评审分配",
              "certificate_revoke": "撤销证书", "certificate_renew": "续期证书", "carry": "沿用上一版的人工处理",
              "winner_allowed": "放行获奖者（评选规则）", "undo": "撤销人工处理", "import": "导入工作区",
              "date_override": "使用活动日期以外的日期"}
#: The keys of an audit entry's detail, as staff read them; a key not here is not shown (digests, paths, ids).
DETAIL_ZH = {"from": "从", "to": "到", "note": "说明", "number": "编号", "numbers": "证书编号", "file": "文件",
             "text": "意见", "recommend": "推荐", "score": "评分", "reason": "原因", "version": "版本",
             "source": "材料", "code": "问题", "form": "表格", "field": "栏目", "codes": "问题", "kind": "处理方式",
             "target": "对象", "detail": "说明", "address": "来自", "program": "评选项目",
             "date": "日期", "problem": "情况", "command": "操作"}
#: Web lines that are not work on the campaign: the home page leaves them out.
NOT_WORK = ("登录", "登录失败", "退出", "下载", "下载原件", "下载记录")
def zone_of(campaign) -> ZoneInfo:
    """Given the campaign, return its time zone (its `time_zone:`, else Asia/Shanghai)."""
    return getattr(campaign, "zone", None) or zone_named(None)


def local_time(stamp, zone: ZoneInfo | None = None) -> str:
    """Given a stored time (ISO text, UTC when it names no offset) and a time zone, return it there as
    'YYYY-MM-DD HH:MM' ('' for nothing; a plain date as it is)."""
    return shown_time(str(stamp) if stamp else None, zone or zone_named(None))


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


def activity(entries: list[dict], program=None, campaign=None, names: dict | None = None) -> list[dict]:
    """Given audit log rows (newest first), the program and campaign, and applicant id → name, return them as the
    page lists them: when (in the campaign's time zone), who, what, which applicant (by name), and the detail in
    words."""
    zone = zone_of(campaign) if campaign is not None else None
    shown = []
    for e in entries:
        detail = e.get("detail") or {}
        what = ACTIONS_ZH.get(e["action"], e["action"])
        if e["action"] == "move" and isinstance(detail, dict):
            what = f"移到“{detail.get('to')}”"
        aid = e.get("applicant_id")
        shown.append({"at": local_time(e.get("at"), zone), "by": e.get("by"), "what": what, "action": e["action"],
                      "applicant_id": aid, "applicant": applicant_name(aid, names),
                      "detail": detail_text(detail, program, campaign)})
    return shown


def applicant_names(ws) -> dict[int, str]:
    """Given the workspace, return applicant id → company name (how pages name an applicant, not by number)."""
    return {r.id: r.company_name for r in ws.applicants(sort="id", limit=None).items if r.company_name}


def applicant_name(applicant_id, names: dict | None) -> str:
    """Given an applicant id and id → company name, return how a page names it (never a bare number)."""
    if applicant_id is None:
        return ""
    return (names or {}).get(applicant_id) or f"编号 {applicant_id} 的申报"


def detail_text(detail, program=None, campaign=None) -> str:
    """Given an audit entry's detail (a dict, text or None), return it as one line in words: each key by its
    Chinese name, an issue code by its name, a form and field by their printed title and label; keys with no
    meaning for staff (digests, folders) are left out."""
    if not detail:
        return ""
    if not isinstance(detail, dict):
        return str(detail)
    parts = []
    for key, value in detail.items():
        if key not in DETAIL_ZH or value in (None, "", []):
            continue
        parts.append(f"{DETAIL_ZH[key]}：{detail_value(key, value, detail, program, campaign)}")
    return "；".join(parts)


def detail_value(key: str, value, detail: dict, program, campaign) -> str:
    """Given one key of an audit detail, its value and the whole detail, return the value in words."""
    if key in ("code", "codes"):
        codes = value if isinstance(value, list) else [value]
        return "、".join(label_of(IssueCode, c) for c in codes)
    if key == "kind":
        return label_of(Decision, value)
    if key == "program" and program is not None and value == program.id:
        return program.name
    if key == "version":
        return f"第 {value} 版"
    if key == "recommend":
        return "推荐" if value else "不推荐"
    if key in ("form", "field") and program is not None:
        form = program.form_of({}, detail.get("form"))
        if form is None:
            return "表外内容"
        if key == "form":
            return form.printed_title(campaign) if campaign is not None else form.title
        found = form.fields.get(value)
        return found.plain_label if found else "表外栏目"
    return shown_value(value)


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


def field_groups(record: dict, campaign, changed: set | None = None) -> list[dict]:
    """Given a record and the (form, field) changed since the version before, return its forms as printed:
    [{title, rows: [(group, label, value)], changed: labels of the rows that changed}], in the form's order."""
    changed = changed or set()
    groups = []
    program = program_of(campaign)
    for form_id, values in (record.get("forms") or {}).items():
        form = program.form_of(record, form_id)
        if form is None:
            continue
        if isinstance(values, list):  # a list form (被访者名单, 材料清单): a count, the rows are in the workbook
            label, unit = ("被访者人数", "人") if form_id == RESPONDENTS else ("行数", "行")
            groups.append({"id": form_id, "title": form.printed_title(campaign),
                           "rows": [("", label, f"{len(values)} {unit}")],
                           "changed": {label} if (form_id, None) in changed else set()})
            continue
        fields = [f for f in form.fields.values() if f.id in values]
        rows = [(f.group or "", f.plain_label, shown_value(values.get(f.id), f.options)) for f in fields]
        groups.append({"id": form_id, "title": form.printed_title(campaign), "rows": rows,
                       "changed": {f.plain_label for f in fields if (form_id, f.id) in changed},
                       "scans": scanned_fields(record, form_id, fields)})
    return groups


def scanned_fields(record: dict, form_id: str, fields: list) -> dict[str, dict]:
    """Given a record, a form and its fields shown, return label → {field, confidence} of each value read from a
    scan (the record's `origins`): the page shows the image crop beside it."""
    read = ((record.get("origins") or {}).get(form_id) or {}).get("fields") or {}
    return {f.plain_label: {"field": f.id, "confidence": read[f.id].get("confidence")}
            for f in fields if f.id in read and read[f.id].get("box")}


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
        if form and form == issue.get("form"):  # a form the program does not describe: no id on the page
            form, label = "", ""
        elif label and label == issue.get("field"):
            label = ""
        code_zh = label_of(IssueCode, issue.get("code"), "")
        where = [x for x in (code_zh, form, label, f"依据：{issue['article']}" if issue.get("article") else "") if x]
        rows.append({**issue, "form_title": form, "field_label": label, "where": " · ".join(where),
                     "severity_zh": label_of(Severity, issue.get("severity"), ""), "code_zh": code_zh})
    return rows


def version_rows(versions, label=None) -> list[dict]:
    """Given VersionInfo objects and `label(form, field)` (compare.field_namer), return what the versions table
    shows, newest first: each with the library's own lines on what it fixed against the version before (and which
    notice items it answered), fields named by their printed labels."""
    rows = []
    for v in versions:
        rows.append({"seq": v.seq, "source": v.source, "received_on": v.received_on or "", "status": v.status,
                     "files": v.files, "lines": comparison_lines(v.comparison, label) if v.comparison else []})
    return list(reversed(rows))


def download_stem(detail) -> str:
    """Given an applicant's detail, return a file name stem for its downloads."""
    return safe_filename(f"A{detail.id:05d}-{detail.row.company_name or '未命名'}")


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


# --- register ------------------------------------------------------------------------------------


def register_rows(ws, query: str = "") -> list[dict]:
    """Given the workspace and a search text, return the register's certificates matching it (number or holder)."""
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
    return workspace_summary(ws, folder / "summary.xlsx")


def write_summary_tables(ws, folder: Path) -> tuple[list[Path], list[str]]:
    """Write the 推荐汇总表 of every 推进单位 from the latest records; return (files, warnings)."""
    result = make_summary_tables(ws.latest_records(), folder / "推荐汇总表", ws.campaign)
    return list(result.files), list(result.warnings)


def write_notices(ws, folder: Path, ids: list[int] | None, by: str, pdf: bool) -> tuple[list[Path], str]:
    """Write the 补正通知 due (recorded by the workspace), zipped with notices.xlsx; return (files, message)."""
    out = folder / "补正通知"
    done = workspace_notices(ws, out, by=by, pdf=pdf, only=set(ids) if ids else None)
    message = f"已生成 {len(done.recorded)} 份补正通知" + (f"；{done.already_sent} 份此前已发过" if done.already_sent else "")
    if not out.exists() or not any(out.iterdir()):
        return [], message + "（没有需要新发的补正通知）"
    return [zipped(out, folder / "补正通知.zip")], message


def write_certificates(ws, folder: Path, by: str, allow: str = "") -> tuple[list[Path], str, list[str]]:
    """Print the winners' certificates as one PDF (numbers in the register), the rows `allow` names (one
    “编号:理由” a line) let through the program's rules; return (files, message, problems)."""
    from pipeline.issuing.winners import parse_allow

    pdf = office.available()
    result = workspace_certificates(ws, folder / "证书", by=by, pdf=pdf, allow=parse_allow(line for line in allow.splitlines() if line.strip()))
    files = [result.pdf] if getattr(result, "pdf", None) else list(result.files)
    message = f"已生成 {len(result.files)} 张证书" + ("，合并为一个 PDF" if files and pdf else "（未找到 LibreOffice，只有 Word 文件）")
    if result.skipped:
        message += f"；{result.skipped} 家未颁发（原因见下）"
    return files, message, list(result.problems)


def write_screen(ws, folder: Path):
    """Screen the latest records by the program's criteria into 筛选结果.xlsx; return the library's ScreenResult."""
    return workspace_screen(ws, folder / "筛选结果.xlsx")


def zipped(folder: Path, target: Path, files: list[Path] | None = None) -> Path:
    """Given a folder, a new .zip path and the files to put in (None: every file under the folder but manyi's own
    hidden bookkeeping), write them into it with paths relative to the folder; return the path."""
    import zipfile

    chosen = files if files is not None else sorted(
        p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in chosen:
            archive.write(path, path.relative_to(folder).as_posix())
    return target


# --- what the pages add ------------------------------------------------------------------------------


def staff_todo(ws, runner) -> list[dict]:
    """Given the workspace and the job runner, return what waits on staff, as 首页 lists it: {what, n, link}
    (link: an endpoint and its arguments) for notices still to send, corrections to check and jobs not finished."""
    corrected = ws.flow.roles.get("corrected")
    counts = ws.stage_counts()
    jobs = [j for j in list(getattr(runner, "jobs", {}).values()) if not getattr(j, "finished", True)]
    todo = [{"what": "家需补正、尚未发补正通知", "n": notices_due(ws), "endpoint": "campaign.downloads", "args": {}},
            {"what": f"家已交补正材料，待核对（“{corrected}”）" if corrected else "家已交补正材料，待核对",
             "n": counts.get(corrected, 0) if corrected else 0, "endpoint": "campaign.applicants",
             "args": {"stage": corrected} if corrected else {}},
            {"what": "项任务正在进行或排队", "n": len(jobs), "endpoint": None, "args": {},
             "jobs": [{"id": j.id, "title": j.title} for j in jobs]}]
    return todo


def file_limits() -> dict:
    """Return the library's bounds on one submission that 收件 names: one file's size (MB), files in a package."""
    from pipeline.common.safety import LIMITS, MB

    return {"file_mb": LIMITS["file_size"] // MB, "members": LIMITS["zip_members"],
            "unpacked_mb": LIMITS["zip_total_size"] // MB}


LIST_HEADER = ("编号", "企业名称", "类别", "推进单位", "阶段", "状态", "错误", "警告", "版本数", "最后更新")


def write_list(ws, rows, path: Path) -> Path:
    """Given the workspace, the applicant rows of a filtered list and a new .xlsx path, write the list there
    (through the one workbook writer: text stays text, times are dates); return the path."""
    from pipeline.common.xlsx import add_sheet, new_workbook, save

    names, zone = ws.program.category_names(), zone_of(ws.campaign)
    table = [[r.id, r.company_name or "", names.get(r.category, "类别未知"), r.promoting_unit or "", r.stage,
              label_of(Status, r.status), r.errors, r.warnings, r.version_count, local_moment(r.updated_at, zone)]
             for r in rows]
    book = new_workbook()
    add_sheet(book, "申报列表", list(LIST_HEADER), table)
    save(book, path)
    return path


def local_moment(stamp, zone: ZoneInfo):
    """Given a stored time (ISO), return it as a datetime in the campaign's time zone, without the zone (a cell's
    date and time), or the text when it is not a time."""
    try:
        moment = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).replace(tzinfo=None)


def same_issue(issue: dict, code: str, form: str | None, field: str | None) -> bool:
    """Given an open issue and the code, form and field a form names, return whether they are the issue."""
    return (issue.get("code") == code and (form is None or issue.get("form") == form)
            and (field is None or issue.get("field") == field))


#: How long a download made on request (the list as Excel, notices as one zip) is kept before the next one clears it.
EXPORT_KEEP_S = 3600


def export_path(folder: Path, name: str) -> Path:
    """Given the page's folder of downloads made on request and a file name, return a new path for it there; the
    page's own earlier downloads older than EXPORT_KEEP_S are removed first (each is made afresh when asked)."""
    import secrets
    import time

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*-??????????.*"):
        try:
            if time.time() - old.stat().st_mtime > EXPORT_KEEP_S:
                old.unlink()
        except OSError:
            pass  # in use or gone: tried again next time
    stem, dot, suffix = name.rpartition(".")
    return folder / f"{stem}-{secrets.token_hex(5)}{dot}{suffix}"
