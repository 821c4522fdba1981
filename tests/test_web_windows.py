"""The serve and receive paths without the POSIX-only parts of Python, as on Windows.

A child Python runs with `fcntl` and `resource` unimportable (a stand-in `msvcrt` with the
Windows locking contract takes the lock), without os.fork, os.killpg and
signal.SIGKILL, and with worker processes spawned rather than forked (Windows' only way); it
serves the page through the test client, receives the bundled sample through an upload (a .doc
included, so LibreOffice is started and stopped without process groups), and runs a self-check.
os.name itself cannot be forced to 'nt' for a whole run on Linux (pathlib would build Windows
paths); the one place that reads it, the demo's hint, sees it forced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

from pipeline.common.resources import SAMPLES

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent('''
    import multiprocessing, os, signal, sys, types
    import asyncio, concurrent.futures, subprocess  # these look for msvcrt to tell Windows: imported before the stand-in
    import fcntl as _posix

    def _locking(fd, mode, nbytes):  # msvcrt.locking's contract (from the current position), on lockf
        flags = {msvcrt.LK_UNLCK: _posix.LOCK_UN, msvcrt.LK_NBLCK: _posix.LOCK_EX | _posix.LOCK_NB}[mode]
        try:
            _posix.lockf(fd, flags, nbytes, 0, os.SEEK_CUR)
        except BlockingIOError:
            raise PermissionError(13, "Permission denied") from None

    msvcrt = types.ModuleType("msvcrt")
    msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK = 0, 1, 2
    msvcrt.locking = _locking
    sys.modules["msvcrt"] = msvcrt
    sys.modules["fcntl"] = None       # import fcntl → ImportError, as on Windows
    sys.modules["resource"] = None
    for name in ("fork", "killpg", "getpgid", "setsid"):
        if hasattr(os, name):
            delattr(os, name)
    del signal.SIGKILL
    if __name__ == "__main__" and sys.argv[1] == "try-lock":  # a second process, as a second receive would be
        from pipeline.common.errors import UserError
        from pipeline.workspace import Workspace
        try:
            with Workspace.open(sys.argv[2]).receive_lock(wait=False):
                print("LOCK not held")
        except UserError as exc:
            print("LOCK held:", exc)
    elif __name__ == "__main__":
        multiprocessing.set_start_method("spawn", force=True)
        import io, re
        from pathlib import Path
        from pipeline.definitions.programs import resolve_campaign
        from pipeline.workspace import Workspace
        from pipeline.web.app import create_app, site_of
        root, samples = Path(sys.argv[1]), Path(sys.argv[2])
        Workspace.init(root, resolve_campaign("heilongjiang", None)).close()
        app = create_app(root, testing=True, self_check=True)
        client = app.test_client()
        page = client.get("/receive").data.decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        files = [(io.BytesIO(p.read_bytes()), p.relative_to(samples).as_posix())
                 for p in sorted((samples / "inbox").rglob("*")) if p.is_file()]
        answer = client.post("/receive", data={"csrf": csrf, "received": "2017-06-18", "files": files})
        site = site_of(app)
        job = site.runner.wait(site.runner.get(answer.location.rsplit("/", 1)[-1]), seconds=300)
        print("RECEIVE", job.state, job.message)
        packet = samples / "inbox" / "冰城家政服务有限公司.docx"
        answer = client.post("/selfcheck", data={"csrf": csrf, "files": [(io.BytesIO(packet.read_bytes()), packet.name)]})
        check = site.checker.wait(site.checker.get(answer.location.rsplit("/", 1)[-1]), seconds=120)
        print("SELFCHECK", check.state, check.result.get("check", {}).get("company"))
        print("LIST", client.get("/applicants").status_code)
        with Workspace.open(root) as ws, ws.receive_lock():
            sys.stdout.flush()
            subprocess.run([sys.executable, __file__, "try-lock", str(root)])
        subprocess.run([sys.executable, __file__, "try-lock", str(root)])
''')


def test_serve_and_receive_without_posix_only_calls(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "ws"), str(SAMPLES)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RECEIVE done 共收到 5 份：新申报 5 家" in out, out + done.stderr[-2000:]
    assert "SELFCHECK done 冰城家政服务有限公司" in out
    assert "LIST 200" in out
    assert "LOCK held: 工作区" in out and "正在接收另一批材料（进程" in out
    assert out.rstrip().endswith("LOCK not held")  # released


def test_the_demo_hint_names_the_windows_venv(monkeypatch, tmp_path):
    from pipeline import demo

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".venv" / "Scripts").mkdir(parents=True)
    (tmp_path / ".venv" / "Scripts" / "manyi.exe").write_bytes(b"")
    monkeypatch.setattr(demo, "os", types.SimpleNamespace(name="nt"))  # os.name as the demo sees it
    assert demo.serve_command(Path("ws")).startswith(str(Path(".venv") / "Scripts" / "manyi") + " serve")


def test_soffice_is_killed_where_there_are_no_process_groups(monkeypatch):
    from pipeline.common import office

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.delattr(os, "killpg")
    office.kill_group(proc)
    assert proc.poll() is not None


def test_soffice_exe_is_found_under_program_files(monkeypatch, tmp_path):
    from pipeline.common import office

    monkeypatch.delenv("MANYI_SOFFICE", raising=False)
    monkeypatch.setattr(office.shutil, "which", lambda name: None)  # not on PATH, as on Windows
    monkeypatch.setattr(office, "_CANDIDATES", ())
    assert office.soffice_path() is None
    program_files = tmp_path / "Program Files"
    exe = program_files / "LibreOffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"")
    monkeypatch.setenv("ProgramFiles", str(program_files))  # D:\\Program Files, say
    assert office.soffice_path() == str(exe)


def test_the_default_windows_places_are_candidates():
    from pipeline.common import office

    assert r"C:\Program Files\LibreOffice\program\soffice.exe" in office._CANDIDATES
    assert r"C:\Program Files (x86)\LibreOffice\program\soffice.exe" in office._CANDIDATES
