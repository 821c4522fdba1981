"""Jobs kept in the workspace database: their pages, progress and files survive a restart of the page server;
a job whose server was killed shows 已中断 and runs again from its page; on PostgreSQL two page servers and two
workers share the jobs, and a worker killed in the middle of a receive leaves the job to the other: nothing
lost, nothing stored twice."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from test_server_faults import answers, free_port, post_receive, session_members, until
from test_workspace import fresh_database, packet_folder, postgres  # noqa: F401 - the session's PostgreSQL cluster
from pipeline.definitions.programs import resolve_campaign

pytestmark = pytest.mark.xdist_group("server-jobs")

ROOT = Path(__file__).resolve().parents[1]
COUNT = 60  # packets: enough that a kill lands while the receive still has work, on a busy machine too


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """An inbox of COUNT clean packets (.docx), one folder each."""
    folder = tmp_path_factory.mktemp("jobs") / "inbox"
    for n in range(COUNT):
        company = f"任务{n:02d}机械有限公司"
        packet_folder(folder / company, "enterprise", company)
    return folder


def new_workspace(path: Path, url: str | None = None) -> Path:
    from pipeline.workspace import Workspace

    with Workspace.init(path, resolve_campaign("heilongjiang", None), db_url=url):
        pass
    return path


def app_of(ws: Path, workers: int):
    from pipeline.web.app import create_app

    return create_app(ws, testing=True, workers=workers)


def token(client, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).data.decode()).group(1)


def counts(url: str) -> dict:
    """Given a database URL, return what a receive left there: versions, distinct digests, applicants, and
    the most versions one applicant has."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            one = lambda sql: conn.execute(sa.text(sql)).scalar_one()  # noqa: E731
            return {"versions": one("SELECT COUNT(*) FROM versions"),
                    "digests": one("SELECT COUNT(DISTINCT digest) FROM versions"),
                    "applicants": one("SELECT COUNT(*) FROM applicants"),
                    "most": one("SELECT COALESCE(MAX(version_count), 0) FROM applicants")}
    finally:
        engine.dispose()


def job_row(url: str, job_id: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT * FROM web_jobs WHERE id = :i"), {"i": job_id}).one()._mapping)
    finally:
        engine.dispose()


def sqlite(ws: Path) -> str:
    return f"sqlite:///{ws / 'workspace.db'}"


def stop_all(*procs) -> None:
    for proc in procs:
        if proc is None:
            continue
        for pid in session_members(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.wait()


def test_a_job_page_its_progress_and_its_files_survive_a_restart_of_the_page(tmp_path):
    ws = new_workspace(tmp_path / "ws")
    first = app_of(ws, workers=1)
    client = first.test_client()
    answer = client.post("/downloads/summary", data={"csrf": token(client, "/downloads")})
    job_id = answer.location.rsplit("/", 1)[-1]
    done = first.extensions["manyi"].runner.wait(first.extensions["manyi"].runner.get(job_id))
    assert done.state == "done", done.message
    stored = job_row(sqlite(ws), job_id)
    assert (stored["kind"], stored["state"], json.loads(stored["files"])) == (
        "summary", "done", [f"web/jobs/{job_id}/summary.xlsx"])
    first.extensions["manyi"].runner.stop()
    del first, client

    again = app_of(ws, workers=0).test_client()  # a new server on the same workspace: nothing in memory
    page = again.get(f"/jobs/{job_id}").data.decode()
    assert "已完成。" in page and "summary.xlsx" in page
    status = again.get(f"/jobs/{job_id}.json").get_json()
    assert (status["state"], status["percent"], status["files"]) == ("done", 100, ["summary.xlsx"])
    download = again.get(f"/jobs/{job_id}/files/0")
    assert download.status_code == 200 and download.data[:2] == b"PK"  # the workbook written before the restart
    assert again.get("/jobs/nothing-like-it").status_code == 404


def upload(client, inbox: Path) -> str:
    """Given a page's test client, send the inbox to 收件 as a dropped folder; return the job id."""
    files = [(io.BytesIO(p.read_bytes()), p.relative_to(inbox.parent).as_posix())
             for p in sorted(inbox.rglob("*")) if p.is_file()]
    answer = client.post("/receive", data={"csrf": token(client, "/receive"), "received": "2017-06-18",
                                           "files": files})
    assert answer.status_code == 302, answer.data[:500]
    return answer.location.rsplit("/", 1)[-1]


def test_a_receive_whose_server_was_killed_shows_interrupted_and_runs_again_from_its_page(tmp_path, inbox):
    ws = new_workspace(tmp_path / "ws")
    page = app_of(ws, workers=0).test_client()  # the page takes the upload; the server below runs the job
    job_id = upload(page, inbox)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(ws), "--port", str(port)], cwd=ROOT,
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        until(lambda: server.poll() is not None or (
            counts(sqlite(ws))["versions"] >= 3 and page.get(f"/jobs/{job_id}.json").get_json()["done"] >= 1))
        assert server.poll() is None, "the server ended before it could be killed"
        progress = page.get(f"/jobs/{job_id}.json").get_json()
        assert progress["state"] == "running", progress
        os.kill(server.pid, signal.SIGKILL)  # the server alone, as a crash would
        server.wait()
        until(lambda: not session_members(server.pid), tries=500)
        assert session_members(server.pid) == []
    finally:
        stop_all(server)
    before = counts(sqlite(ws))
    assert 3 <= before["versions"] < COUNT, (before, progress)

    restarted = app_of(ws, workers=1)  # starting its worker, it finds the job whose worker is gone
    client = restarted.test_client()
    shown = client.get(f"/jobs/{job_id}").data.decode()
    assert "已中断" in shown and "重新开始" in shown
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["state"] == "interrupted" and status["done"] >= 1, status  # its progress when it stopped, kept
    assert list((ws / "web").glob("upload-*")), "the upload must be kept for the second run"

    answer = client.post(f"/jobs/{job_id}/restart", data={"csrf": token(client, f"/jobs/{job_id}")})
    assert answer.status_code == 302
    runner = restarted.extensions["manyi"].runner
    done = runner.wait(runner.get(job_id), seconds=600)
    runner.stop()
    assert done.state == "done", done.message
    after = counts(sqlite(ws))
    # Nothing lost, nothing twice: every packet once, the ones stored before the kill not again.
    assert after == {"versions": COUNT, "digests": COUNT, "applicants": COUNT, "most": 1}
    assert job_row(sqlite(ws), job_id)["attempts"] == 2
    assert len(done.result["received"]["unchanged"]) >= before["versions"]
    assert not list((ws / "web").glob("upload-*"))  # removed once everything was stored
    assert "重新开始任务" in client.get("/audit").data.decode()


def worker_pid(row: dict) -> int:
    """Given a job row, return the process id of the worker that has it (its id is host:pid:mark)."""
    return int(row["worker"].split(":")[-2])


def test_two_page_servers_and_two_workers_on_postgresql_finish_a_receive_whose_worker_was_killed(
        tmp_path, inbox, postgres):  # noqa: F811 - the fixture imported above
    url = fresh_database(postgres)
    ws = new_workspace(tmp_path / "ws", url)

    logs = tmp_path / "logs"
    logs.mkdir()

    def start(*args):
        with open(logs / f"{len(list(logs.iterdir()))}.log", "w") as log:
            return subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=ROOT, start_new_session=True,
                                    stdout=log, stderr=subprocess.STDOUT)

    def said() -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(logs.iterdir()))

    ports = [free_port(), free_port()]
    servers = [start("serve", str(ws), "--port", str(p), "--workers", "0") for p in ports]
    workers = []
    try:
        for port, server in zip(ports, servers):
            assert until(lambda: answers(port) == 200 or server.poll() is not None) and server.poll() is None, said()
        workers = [start("worker", str(ws)) for _ in range(2)]
        job_id = post_receive(ports[0], inbox).rsplit("/", 1)[-1]

        def running() -> dict | None:
            row = job_row(url, job_id)
            return row if row["state"] == "running" and row["done"] >= 3 and counts(url)["versions"] >= 3 else None

        row = until(running)
        assert row, (job_row(url, job_id), said())
        assert row["attempts"] == 1  # its first run: the worker's mark held all along, parse workers and all
        victim = next(w for w in workers if w.pid == worker_pid(row))
        other = next(w for w in workers if w is not victim)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        until(lambda: not session_members(victim.pid), tries=500)
        assert session_members(victim.pid) == []  # its parse workers died with it
        stored_before = counts(url)["versions"]

        finished = until(lambda: status(ports[1], job_id)["state"] in ("done", "failed"), tries=6000, pause=0.1)
        assert finished, (status(ports[1], job_id), said())
        final = job_row(url, job_id)
        assert final["state"] == "done", (final["message"], said())
        assert worker_pid(final) == other.pid and final["attempts"] == 2  # the other worker resumed it, once
        assert counts(url) == {"versions": COUNT, "digests": COUNT, "applicants": COUNT, "most": 1}
        assert len(json.loads(final["result"])["received"]["unchanged"]) >= stored_before
        assert "已完成" in page(ports[0], f"/jobs/{job_id}")  # the page server that took the upload shows it too
    finally:
        stop_all(*servers, *workers)


def status(port: int, job_id: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/jobs/{job_id}.json", timeout=10) as reply:
        return json.loads(reply.read())


def page(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
        return reply.read().decode()


def test_receives_of_a_shared_workspace_wait_on_a_lock_of_the_database_not_a_file(tmp_path, postgres):  # noqa: F811
    from pipeline.common.errors import UserError
    from pipeline.workspace import Workspace, locking
    from pipeline.workspace.receive import receive

    url = fresh_database(postgres)
    root = new_workspace(tmp_path / "ws", url)
    empty = tmp_path / "empty"
    empty.mkdir()
    other = locking.DatabaseLock(url, "manyi:receive")  # another process, on any computer, receiving now
    assert other.acquire(wait=False)
    with Workspace.open(root) as ws:
        try:
            with pytest.raises(UserError, match="正在接收另一批材料"):
                receive(ws, [empty], wait=False)
        finally:
            other.release()
        assert receive(ws, [empty], wait=False).entries == 0  # free again once the other has finished
    assert not (root / ".receive.lock").exists()


def test_work_given_as_a_function_still_runs_and_its_row_and_files_are_kept(tmp_path):
    ws = new_workspace(tmp_path / "ws")
    first = app_of(ws, workers=0)  # no worker thread: the function runs in the page's own process all the same
    runner = first.extensions["manyi"].runner

    def work(job, folder):
        (folder / "说明.txt").write_text("由函数写出", encoding="utf-8")
        job.files = [folder / "说明.txt"]
        job.progress(1, 1)
        return "好了"

    done = runner.wait(runner.submit_work("旧式任务", "王敏", work))
    assert (done.state, done.message, [p.name for p in done.files]) == ("done", "好了", ["说明.txt"])
    again = app_of(ws, workers=0).extensions["manyi"].runner.get(done.id)
    assert (again.state, again.done, again.total, again.files[0].read_text(encoding="utf-8")) == (
        "done", 1, 1, "由函数写出")
    assert not again.restartable  # a function cannot be stored: such a job is submitted again from its page
