"""manyi where the code asks which system it runs on, with the answer forced to Windows.

Every module is imported in a child Python that says it is Windows (os.name 'nt', sys.platform 'win32',
no fcntl/resource, a stand-in msvcrt), so an import-time POSIX-only call or a Windows branch that fails to import
shows here. The branches themselves (the workspace's launcher, the workers' parent-death signal, a process's
liveness, the doctor's system, LibreOffice under Program Files, SimSun/SimHei) run with the check forced.
Paths have Chinese names and spaces, as on a staff member's PC.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pipeline

ROOT = Path(__file__).resolve().parents[1]

IMPORT_ALL = textwrap.dedent('''
    import os, sys, types, importlib, pkgutil
    import pipeline
    names = sorted(m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline.")
                   if not m.name.endswith("__main__"))  # `python -m pipeline` runs the command line when imported
    for name in names:  # first as this system imports them: the standard library and the dependencies are then loaded
        importlib.import_module(name)
    for name in [n for n in sys.modules if n == "pipeline" or n.startswith("pipeline.")]:
        del sys.modules[name]  # manyi's own modules forgotten, to be imported again as on Windows
    msvcrt = types.ModuleType("msvcrt")
    msvcrt.LK_UNLCK, msvcrt.LK_LOCK, msvcrt.LK_NBLCK = 0, 1, 2
    msvcrt.locking = lambda fd, mode, n: None
    sys.modules["msvcrt"] = msvcrt
    sys.modules["fcntl"] = None       # import fcntl → ImportError, as on Windows
    sys.modules["resource"] = None
    class WindowsOs(types.ModuleType):
        """os as manyi's modules see it: named nt, without the POSIX-only calls. pathlib keeps the real os (it
        was loaded before), so paths stay this system's while every `import os` in manyi gets this one."""
        def __getattr__(self, attr):
            if attr in ("fork", "killpg", "getpgid", "setsid", "getuid", "geteuid"):
                raise AttributeError(attr)
            return getattr(real_os, attr)
    real_os = os
    nt_os = WindowsOs("os")
    nt_os.name = "nt"
    sys.modules["os"] = nt_os
    sys.platform = "win32"
    import pipeline
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    print("IMPORTED", sum(1 for n in names if n in sys.modules))
    print("FAILED", failed)
    from pipeline.doctor import system_of
    print("SYSTEM", system_of())
    from pipeline import demo
    print("OS", demo.os.name)
''')


def test_every_module_imports_as_on_windows(tmp_path):
    expected = sorted(m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline.") if not m.name.endswith("__main__"))
    script = tmp_path / "导入 全部.py"
    script.write_text(IMPORT_ALL, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert len(expected) > 100 and lines["IMPORTED"] == str(len(expected))
    assert lines["FAILED"] == "[]"
    assert lines["SYSTEM"] == "windows" and lines["OS"] == "nt"  # the switch reached manyi's own checks


def test_a_new_workspace_on_windows_gets_its_launcher(tmp_path, monkeypatch):
    from pipeline.definitions.programs import resolve_campaign
    from pipeline.workspace import Workspace, core

    root = tmp_path / "满意 工程" / "2017 活动"
    monkeypatch.setattr(core, "os", types.SimpleNamespace(name="nt"))
    Workspace.init(root, resolve_campaign("heilongjiang", None)).close()
    data = (root / "打开页面.bat").read_bytes()
    data.decode("ascii")  # cmd.exe reads it in the system's code page: ASCII reads the same in all of them
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)  # CRLF throughout
    assert b'manyi serve "%~dp0." --open' in lines and b'cd /d "%~dp0"' in lines
    monkeypatch.setattr(core, "os", types.SimpleNamespace(name="posix"))
    Workspace.init(tmp_path / "linux", resolve_campaign("heilongjiang", None)).close()
    assert not (tmp_path / "linux" / "打开页面.bat").exists()


def test_workers_skip_the_linux_parent_death_signal_on_windows(monkeypatch):
    import ctypes

    from pipeline import parse

    def no_libc(*_args, **_kwargs):
        raise AssertionError("prctl is Linux's")

    monkeypatch.setattr(parse.sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert parse.die_with_parent(os.getppid()) is None


def test_a_process_is_asked_after_through_the_windows_api(monkeypatch):
    import ctypes

    from pipeline.common import outputs

    asked = []

    class Kernel32:
        def OpenProcess(self, access, inherit, pid):
            asked.append(pid)
            return 7 if pid == 4242 else 0

        def GetLastError(self):
            return 87  # ERROR_INVALID_PARAMETER: no such process

        def GetExitCodeProcess(self, handle, code):
            code._obj.value = 259  # STILL_ACTIVE, written through the byref() it was given

        def CloseHandle(self, handle):
            return 1

    monkeypatch.setattr(outputs.sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", types.SimpleNamespace(kernel32=Kernel32()), raising=False)
    monkeypatch.setattr(os, "kill", lambda *a: (_ for _ in ()).throw(AssertionError("os.kill sends CTRL_C on Windows")))
    assert outputs.pid_alive(4242) is True
    assert outputs.pid_alive(4243) is False
    assert asked == [4242, 4243]


def test_doctor_on_windows_names_the_windows_commands_and_fonts(tmp_path, monkeypatch):
    from pipeline import doctor

    monkeypatch.setattr(doctor.sys, "platform", "win32")
    assert doctor.system_of() == "windows"
    fonts = tmp_path / "Windows" / "Fonts"
    fonts.mkdir(parents=True)
    for name in ("simsun.ttc", "simhei.ttf", "msyh.ttc"):
        (fonts / name).write_bytes(b"")
    monkeypatch.setenv("WINDIR", str(tmp_path / "Windows"))
    found = doctor.font_families("windows")
    assert {"SimSun", "SimHei", "Microsoft YaHei"} <= found
    assert doctor.check_fonts(found, "windows").ok
    assert doctor.check_font_mapping("windows") is None  # 宋体 is SimSun itself there


def test_libreoffice_under_program_files_with_a_space_and_chinese_user_folder(tmp_path, monkeypatch):
    from pipeline.common import office

    monkeypatch.delenv("MANYI_SOFFICE", raising=False)
    monkeypatch.setattr(office.shutil, "which", lambda name: None)
    monkeypatch.setattr(office, "_CANDIDATES", ())
    program_files = tmp_path / "用户 张三" / "Program Files"
    exe = program_files / "LibreOffice" / "program" / "soffice.exe"
    exe.parent.mkdir(parents=True)
    exe.write_bytes(b"")
    monkeypatch.setenv("ProgramFiles", str(program_files))
    assert office.soffice_path() == str(exe)
