"""Faults of the page server and of `manyi receive`: a parent killed with -9 leaves no worker behind, its
lock is free and its port can be served again; a second server on a busy port says so before it starts."""

from __future__ import annotations

import fcntl
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from test_workspace import packet_folder
from pipeline.definitions.programs import resolve_campaign

pytestmark = pytest.mark.xdist_group("server-faults")

ROOT = Path(__file__).resolve().parents[1]
COUNT = 60  # packets: enough that the kill lands while the workers still have work


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """An inbox of COUNT clean packets (.docx), one folder each."""
    folder = tmp_path_factory.mktemp("faults") / "inbox"
    for n in range(COUNT):
        company = f"测试{n:02d}机械有限公司"
        packet_folder(folder / company, "enterprise", company)
    return folder


def new_workspace(path: Path) -> Path:
    from pipeline.workspace import Workspace

    with Workspace.init(path, resolve_campaign("heilongjiang", None)):
        pass
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_members(sid: int) -> list[int]:
    """Given a session id, return the ids of the live (not zombie) processes in that session, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (name)": state ppid pgrp session …
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def stored_versions(ws: Path) -> int:
    engine = sa.create_engine(f"sqlite:///{ws / 'workspace.db'}")
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM versions")).scalar_one()
    finally:
        engine.dispose()


def until(condition, tries: int = 3000, pause: float = 0.02):
    """Poll `condition` until it is true (at most tries × pause seconds); return its last value."""
    for _ in range(tries):
        value = condition()
        if value:
            return value
        time.sleep(pause)
    return condition()


def kill_parent_mid_receive(proc: subprocess.Popen, ws: Path) -> list[int]:
    """Given a process receiving into `ws`, wait until its workers run and some versions are stored; kill -9
    the parent alone (not its group: that is what a crash or the task manager does); return who was left."""
    until(lambda: stored_versions(ws) >= 3 and len(session_members(proc.pid)) >= 3 or proc.poll() is not None)
    workers = [pid for pid in session_members(proc.pid) if pid != proc.pid]
    assert workers and proc.poll() is None, "the receive ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    until(lambda: not session_members(proc.pid), tries=500)
    return session_members(proc.pid)


def lock_is_free(ws: Path) -> bool:
    with open(ws / ".receive.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_workers_of_a_killed_receive_die_with_it_and_free_the_lock(tmp_path, inbox):
    ws = new_workspace(tmp_path / "ws")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "receive", str(ws), str(inbox), "--jobs", "2"],
                            cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        left = kill_parent_mid_receive(proc, ws)
        assert left == [], f"parse workers outlived their parent: {left}"
        assert lock_is_free(ws)
        assert 3 <= stored_versions(ws) < COUNT
    finally:
        for pid in session_members(proc.pid):
            os.kill(pid, signal.SIGKILL)


def serve(ws: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "serve", str(ws), "--port", str(port)], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def answers(port: int) -> int | None:
    """Given a port on 127.0.0.1, return the HTTP status of its home page, or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
            return reply.status
    except OSError:
        return None


def post_receive(port: int, inbox: Path) -> str:
    """Send every file of `inbox` to the page's 收件 form (as a dropped folder), with the session's CSRF token;
    return the address of the job page it leads to."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"http://127.0.0.1:{port}/receive", timeout=10).read().decode()
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    boundary = uuid.uuid4().hex
    body = [f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{token}\r\n'.encode()]
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        name = path.relative_to(inbox.parent).as_posix()
        body.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                    f"Content-Type: application/octet-stream\r\n\r\n".encode() + path.read_bytes() + b"\r\n")
    body.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(f"http://127.0.0.1:{port}/receive", data=b"".join(body), method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    reply = opener.open(request, timeout=60)
    assert reply.status == 200
    return reply.geturl()


def test_a_server_killed_during_a_receive_job_leaves_no_worker_and_its_port_serves_again(tmp_path, inbox):
    ws, port = new_workspace(tmp_path / "ws"), free_port()
    first = serve(ws, port)
    again = None
    try:
        assert until(lambda: answers(port) == 200 or first.poll() is not None) and first.poll() is None
        post_receive(port, inbox)
        left = kill_parent_mid_receive(first, ws)
        assert left == [], f"parse workers outlived the page server: {left}"
        assert lock_is_free(ws)
        again = serve(ws, port)
        until(lambda: answers(port) == 200 or again.poll() is not None)
        assert answers(port) == 200, again.poll() and again.communicate()
    finally:
        for proc in (first, again):
            if proc is not None:
                for pid in session_members(proc.pid):
                    os.kill(pid, signal.SIGKILL)
                proc.wait()


def test_a_second_server_on_a_busy_port_says_so_before_it_starts(tmp_path):
    ws, port = new_workspace(tmp_path / "ws"), free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        second = serve(ws, port)
        out, err = second.communicate(timeout=120)
    assert second.returncode != 0
    assert f"端口 {port} 已被占用" in err and "页面已启动" not in out, (out, err)
