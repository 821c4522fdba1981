"""`manyi demo`: the whole campaign, end to end, on the bundled sample (pipeline/data/samples/).

Each step calls the same library function its command calls, so the demo shows exactly what
staff get: packets, parsed records and summary, correction notices, summary tables, certificates.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from pipeline.common import office, outputs
from pipeline.common.errors import UserError
from pipeline.common.records import load_records
from pipeline.common.resources import SAMPLES
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
from pipeline.definitions.vocabulary import Status
from pipeline.generating.packets import write_program_packet
from pipeline.issuing.summary_table import make_summary_tables
from pipeline.issuing.certificates import make_certificates
from pipeline.issuing.notices import make_notices
from pipeline.issuing.register import connect, describe, lookup
from pipeline.parse import parse_inbox
from pipeline.workspace import Workspace
from pipeline.workspace.receive import receive



#: Where the demo goes when the folder given holds files of the staff's own.
FRESH = "manyi演示"


def demo_folder(out: Path, echo=print) -> Path:
    """Given the folder asked for, return where the demo writes: it, unless it holds files manyi did not write.

    Nothing is ever deleted: a folder holding other files (`--out .` in a working folder) gets
    the demo in a fresh subfolder beside them; a previous demo's own files are simply rewritten.
    """
    if not outputs.foreign_files(out, limit=1):
        return out
    n, fresh = 1, out / FRESH
    while fresh.exists() and outputs.foreign_files(fresh, limit=1):
        n += 1
        fresh = out / f"{FRESH} ({n})"
    echo(f"提示：{out} 中已有其他文件，演示不会改动它们，输出写到新的子文件夹 {fresh}")
    return fresh


def serve_command(workspace: Path) -> str:
    """Given the demo's workspace, return the command that serves its page (the venv's manyi when there is one)."""
    venv = Path(".venv") / ("Scripts" if os.name == "nt" else "bin") / "manyi"
    program = str(venv) if venv.exists() or venv.with_suffix(".exe").exists() else "manyi"
    return f"{program} serve {workspace} --open"


def run_demo(out: Path, echo=print, samples: Path = SAMPLES) -> dict[str, Path]:
    """Given an output folder, run every job on the sample and return step name → its output folder."""
    inbox, roster, winners = samples / "inbox", samples / "企业名单.xlsx", samples / "获奖名单.xlsx"
    if not inbox.is_dir():
        raise UserError(f"找不到样例收件箱：{inbox}")
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    pdf = office.available()
    if not pdf:
        echo("提示：未找到 LibreOffice，本次演示不生成 PDF（安装后重新运行 make demo 即可）。")
    out = demo_folder(Path(out), echo)
    steps = {name: out / name for name in
             ("1-空白申报材料", "2-预填申报材料", "3-解析结果", "4-补正通知", "5-推荐汇总表", "6-证书",
                            "7-工作区")}

    echo(f"【1/7】生成四类空白申报材料{'（含 PDF）' if pdf else ''} …")
    echo("    " + write_program_packet(steps["1-空白申报材料"], "all", campaign, pdf=pdf).summary())
    echo(f"【2/7】按企业名单 {roster.name} 生成预填申报材料 …")
    echo("    " + write_program_packet(steps["2-预填申报材料"], "all", campaign, roster=roster, jobs=2).summary())

    echo(f"【3/7】解析样例收件箱 {inbox.name}/ 中退回的申报材料 …")
    received = campaign.deadline - timedelta(days=2)
    echo("    " + parse_inbox([inbox], steps["3-解析结果"], campaign, received=received, jobs=2).line())

    records = load_records(steps["3-解析结果"] / "records")
    echo("【4/7】为需补正的申报生成补正通知 …")
    notices = make_notices(records, steps["4-补正通知"], campaign, pdf=pdf)
    echo(f"    已生成 {len(notices.files)} 份补正通知，另有邮寄名单 {notices.mail_list.name if notices.mail_list else '（无）'}")
    echo("【5/7】按推进单位填写推荐汇总表 …")
    tables = make_summary_tables(records, steps["5-推荐汇总表"], campaign)
    for warning in tables.warnings:
        echo(f"    提示：{warning}")
    echo(f"    已生成 {len(tables.files)} 份推荐汇总表（只列{Status.COMPLETE.label}的申报）")

    echo(f"【6/7】按获奖名单 {winners.name} 打印证书 …")
    register = steps["6-证书"] / "register.db"
    # The winners are judged against the records parsed in step 3, as `certificates --records` judges them:
    # the demo shows the rules at work, never a way round them.
    result = make_certificates(winners, steps["6-证书"], campaign, register, pdf=pdf, records=records)
    echo(f"    已生成 {len(result.files)} 张证书{'，合并 PDF：' + result.pdf.name if result.pdf else ''}"
         f"（获奖者均已按第 3 步的申报记录核对：申报过本活动、材料齐全、每个企业一项）")
    for problem in result.problems:
        echo(f"    提示：{problem}")
    if result.entries:
        with connect(register, create=False) as conn:
            entry = lookup(conn, result.entries[0].number)
        echo(f"    查验第一张证书（manyi register verify {entry.number} --register {register}）：")
        for line in describe(entry):
            echo(f"      {line}")
    echo("【7/7】建立活动工作区并收取样例收件箱（manyi workspace init、manyi receive）…")
    with Workspace.init(steps["7-工作区"], campaign) as ws:
        echo("    " + receive(ws, [inbox], received=received, jobs=2).line())
    echo("    在浏览器中处理这个活动：运行下面的命令，然后打开 http://127.0.0.1:8000/")
    echo(f"      {serve_command(steps['7-工作区'])}")
    echo(f"演示完成，全部输出在 {out}")
    return steps
