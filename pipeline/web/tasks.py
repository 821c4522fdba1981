"""The kinds of job the page queues, each a function fn(job, folder, ws, **params) over the library.

Parameters are JSON (paths relative to the workspace folder, dates as text), so a job can be stored,
run by a worker in another process or on another computer sharing the folder, and run again after a
crash. Each returns the message its page shows; files it wrote go in `job.files`.
"""

from __future__ import annotations

import shutil
from datetime import date

from pipeline.generating.packets import write_program_packet
from pipeline.web import views
from pipeline.web.jobs import task
from pipeline.workspace import mail, previews
from pipeline.workspace.core import SYSTEM
from pipeline.workspace.receive import receive as receive_into

RECEIVE_PHASES = {"store": "保存文件", "parse": "解析", "check": "核对"}


@task("receive")
def receive(job, folder, ws, staging: str, entries: list[str], received: str, refused: list | None = None) -> str:
    """Receive the staged entries into the workspace; remove the staging copy once everything is stored."""
    job.result["phase"] = "等待：同一工作区的另一批收件完成后开始"  # shown while the receive lock is held elsewhere
    job.progress(0, 0)

    def progress(phase, done, total):
        job.result["phase"] = RECEIVE_PHASES.get(phase, phase)
        job.progress(done, total)

    result = receive_into(ws, [ws.root / e for e in entries], received=date.fromisoformat(received),
                          progress=progress)
    job.result["received"] = views.received_summary(result)
    job.result["refused"] = refused or []
    # The staging copy goes only once everything is in the store; a failed job keeps it for a retry.
    shutil.rmtree(ws.root / staging, ignore_errors=True)
    return result.line()


@task("preview")
def preview(job, folder, ws, applicant: int) -> str:
    """Render the latest version's documents of one applicant as page images."""
    detail = ws.applicant(int(applicant))
    latest = detail.versions[-1]
    files = [(f["sha256"], f["name"] or latest.source) for f in latest.files]
    return previews.make_previews(ws.store, files, ws.root / "web" / "previews", folder, job.progress)


@task("summary")
def summary(job, folder, ws) -> str:
    job.files = [views.write_summary(ws, folder)]
    return "已生成汇总表 summary.xlsx"


@task("summary_tables")
def summary_tables(job, folder, ws) -> str:
    files, warnings = views.write_summary_tables(ws, folder)
    job.files = files
    job.result["problems"] = warnings
    return f"已生成 {len(files)} 份推荐汇总表（每个推进单位一份）"


@task("notices")
def notices(job, folder, ws, ids: list[int] | None = None, pdf: bool = False) -> str:
    files, message = views.write_notices(ws, folder, ids, job.user, pdf)
    job.files = files
    job.result["notices"] = True  # the job's page links to every notice sent, kept in the workspace
    if mail.settings_of(ws) is not None:  # the letters go to applicants with a link at once
        mail.send_outbox(ws)
    return message


@task("certificates")
def certificates(job, folder, ws, allow: str = "") -> str:
    """Print the winners' certificates; `allow`: 编号:理由 per line, rows let through the program's rules."""
    files, message, problems = views.write_certificates(ws, folder, job.user, allow)
    job.files = files
    job.result["problems"] = problems
    return message


@task("screen")
def screen(job, folder, ws) -> str:
    result = views.write_screen(ws, folder)
    job.files = [result.out]
    job.result["problems"] = list(result.warnings)
    return f"已筛选 {len(result.screenings)} 份申报（筛选结果.xlsx）"


@task("blank_packets")
def blank_packets(job, folder, ws, pdf: bool = False) -> str:
    result = write_program_packet(folder / "空白申报材料", "all", ws.campaign, pdf=pdf)
    files = sorted(result.files + result.pdfs, key=lambda p: p.name)
    # All of them in one zip first (what staff send out), then each file on its own.
    everything = views.zipped(folder / "空白申报材料", folder / f"{ws.campaign.year}年度空白申报材料.zip", files)
    job.files = [everything, *files]
    job.result["problems"] = result.problems
    return result.line()


@task("roster_packets")
def roster_packets(job, folder, ws, staging: str, roster: str) -> str:
    try:
        result = write_program_packet(folder / "预填申报材料", "all", ws.campaign, roster=ws.root / roster,
                                      progress=job.progress)
        job.result["problems"] = result.problems
        job.files = [views.zipped(folder / "预填申报材料", folder / "预填申报材料.zip")]
        return result.line()
    finally:
        shutil.rmtree(ws.root / staging, ignore_errors=True)


@task("send_mail")
def send_mail(job, folder, ws) -> str:
    """Send the e-mails waiting in the outbox (each at most once: mail.send_outbox is idempotent)."""
    return mail.send_outbox(ws, progress=job.progress).line()


def send_mail_soon(runner, ws) -> None:
    """Given the page's job runner and the workspace, queue a send of the outbox when e-mail is on: a receipt,
    an invitation or a notice goes out without anyone pressing a button, through the stored jobs."""
    if runner is not None and mail.settings_of(ws) is not None:
        runner.submit("send_mail", "发送邮件", SYSTEM)
