"""What the pages show, computed from what the library returns: small pure functions, plus the calls
that produce the downloads (each a library function over the workspace, run inside a job). Nothing here
imports the web application or a page module: the blueprints import this.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.common import office
from pipeline.common.errors import UserError
from pipeline.common.files import safe_filename
from pipeline.definitions.programs import program_of
from pipeline.definitions.vocabulary import Decision, IssueCode, Severity, Status, label_of
from pipeline.issuing import register
from pipeline.issuing.summary_table import make_summary_tables
from pipeline.issuing.workbook import issue_place
from pipeline.workspace.compare import comparison_lines
from pipeline.workspace.outputs import (register_entries, workspace_certificates, workspace_notices, workspace_screen,
                                        workspace_summary)

#: The audit log's actions in Chinese; a decision is logged under its kind (confirm, waive, opinion).
ACTIONS_ZH = {"init": "建立工作区", "receive": "收件", "move": "移动阶段", **{d.value: d.label for d in Decision},
              "notice": "补正通知", "certificates": "打印证书", "version": "收到新版本",
              "account": "保存账号", "assign": "分配评审", "unassign": "取消评审分配",
              "certificate_revoke": "撤销证书", "certificate_renew": "续期证书", "carry": "沿用上一版的人工处理",
              "winner_allowed": "放行获奖者（评选规则）", "date_override": "使用活动年度外的日期"}


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
    program = program_of(campaign)
    for form_id, values in (record.get("forms") or {}).items():
        form = program.form_of(record, form_id)
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
    rows = []
    for v in versions:
        rows.append({"seq": v.seq, "source": v.source, "received_on": v.received_on or "", "status": v.status,
                     "files": v.files, "lines": comparison_lines(v.comparison) if v.comparison else []})
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


def zipped(folder: Path, target: Path) -> Path:
    """Given a folder and a new .zip path, write every file under the folder into it (paths relative to it);
    return the path."""
    return Path(shutil.make_archive(str(target.with_suffix("")), "zip", root_dir=folder))
