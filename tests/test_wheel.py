"""The package, not the checkout: build the sdist, build the wheel from the sdist (as `pip install manyi` does
from a source release), install it into a fresh virtual environment outside the repository, and run manyi from
an empty folder there, as a user who typed `pipx install manyi` would.

The sdist and the wheel must carry every file the program reads (pipeline/data/, the page's templates and
static files); installed, `manyi programs` lists the five programs, `manyi doctor` passes, `manyi demo` writes
the same files with the same records as from the checkout, the bundled sample parses, and `manyi serve`
answers on loopback. Everything is built once per session.
"""

from __future__ import annotations

import os
import shutil
import socket
import json
import tarfile
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("wheel")

REPO = Path(__file__).resolve().parents[1]
#: What the source tree holds that is not the package's source (a sdist leaves them out too).
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "output", "mutants", "build", "dist", "*.egg-info",
                                    "__pycache__", ".pytest_cache", ".hypothesis")
DEMO_TIMEOUT = 900


def shipped_files() -> set[str]:
    """Return the wheel paths of every data file the program reads, listed from the source tree."""
    roots = [REPO / "pipeline" / "data", REPO / "pipeline" / "web" / "templates", REPO / "pipeline" / "web" / "static"]
    return {p.relative_to(REPO).as_posix() for root in roots for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def clean_env(home: Path) -> dict:
    """Return an environment without the checkout on the import path, the venv's own tools first."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PATH"] = os.pathsep.join([str(home), env.get("PATH", "")])
    return env


def demo_files(folder: Path) -> set[str]:
    """Given a demo's output folder, return its files' relative paths (the workspace's database aside: its
    journal files come and go)."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith("workspace.db")}


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """Build the wheel from a copy of the source tree, install it in a fresh venv; return (wheel, bin folder,
    empty working folder, the checkout's demo process and its output folder)."""
    base = tmp_path_factory.mktemp("wheel")
    # The checkout's own demo runs meanwhile: its files are what the installed demo must write.
    checkout_out = base / "checkout-demo"
    checkout_demo = subprocess.Popen([sys.executable, "-m", "pipeline", "demo", "--out", str(checkout_out)],
                                     cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        source = base / "source"
        shutil.copytree(REPO, source, ignore=NOT_SOURCE)
        dist = base / "dist"
        # The sdist, with the setuptools already installed (no isolated build: quick); then the wheel from it.
        subprocess.run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.build_sdist({str(dist)!r})"],
                       cwd=source, check=True, timeout=600, capture_output=True)
        sdist = next(dist.glob("manyi-*.tar.gz"))
        unpacked = base / "sdist"
        with tarfile.open(sdist) as tar:
            tar.extractall(unpacked, filter="data")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist),
                        str(next(unpacked.iterdir()))], check=True, timeout=600, capture_output=True)
        wheel = next(dist.glob("manyi-*.whl"))
        venv = base / "虚拟 环境"  # a space and Chinese characters in the path, as on a staff member's PC
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        home = venv / ("Scripts" if os.name == "nt" else "bin")
        subprocess.run([str(home / "python"), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"),
                        str(wheel)], check=True, timeout=900, capture_output=True)
        work = base / "空文件夹"
        work.mkdir()
        yield wheel, home, work, checkout_demo, checkout_out, sdist
    finally:
        if checkout_demo.poll() is None:
            checkout_demo.kill()
            checkout_demo.wait()


def manyi(installed, *args, timeout=300):
    """Run the installed manyi from the empty folder; return the completed process."""
    _wheel, home, work, *_ = installed
    return subprocess.run([str(home / "manyi"), *args], cwd=work, env=clean_env(home), capture_output=True,
                          text=True, timeout=timeout)


def test_the_wheel_carries_every_file_the_program_reads(installed):
    wheel = installed[0]
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = shipped_files()
    assert {"pipeline/data/forms/programs/liaoning.yaml", "pipeline/data/templates/certificate.docx",
            "pipeline/data/fonts/30-manyi-zh-cn.conf", "pipeline/data/samples/企业名单.xlsx",
            "pipeline/web/static/app.js"} <= expected  # the listing itself sees the data
    assert not expected - names, sorted(expected - names)


def test_the_sdist_carries_every_file_the_program_reads(installed):
    from pipeline import __version__

    sdist = installed[5]
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    expected = shipped_files()
    assert "pipeline/data/samples/获奖名单.xlsx" in expected and sdist.name == f"manyi-{__version__}.tar.gz"
    assert not expected - names, sorted(expected - names)
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "constraints.txt", "deploy/manyi.service"} <= names


def records_of(folder: Path) -> dict[str, dict]:
    """Given a demo's output folder, return its parsed records by file name."""
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (folder / "3-解析结果" / "records").glob("*.json")}


def test_the_installed_package_is_the_one_that_runs(installed):
    _wheel, home, work, *_ = installed
    where = subprocess.run([str(home / "python"), "-c", "import pipeline, pipeline.common.resources as r; "
                            "print(pipeline.__file__); print(r.SAMPLES)"],
                           cwd=work, env=clean_env(home), capture_output=True, text=True, timeout=120)
    package, samples = where.stdout.splitlines()
    assert Path(package).is_relative_to(home.parent) and Path(samples).is_relative_to(home.parent), where.stdout


def test_version_programs_and_doctor(installed):
    from pipeline import __version__

    version = manyi(installed, "--version")
    assert version.returncode == 0 and __version__ in version.stdout
    programs = manyi(installed, "programs")
    assert programs.returncode == 0, programs.stdout + programs.stderr
    assert "共 5 个项目" in programs.stdout and "检查通过" in programs.stdout
    doctor = manyi(installed, "doctor")
    assert doctor.returncode == 0 and "一切就绪" in doctor.stdout, doctor.stdout


def test_the_bundled_sample_parses(installed):
    _wheel, home, work, *_ = installed
    samples = subprocess.run([str(home / "python"), "-c", "from pipeline.common.resources import SAMPLES; print(SAMPLES)"],
                             cwd=work, env=clean_env(home), capture_output=True, text=True, timeout=120).stdout.strip()
    out = work / "解析结果"
    run = manyi(installed, "parse", str(Path(samples) / "inbox"), "--out", str(out), "--jobs", "2", timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (out / "summary.xlsx").is_file() and len(list((out / "records").glob("*.json"))) == 5


def test_demo_writes_what_the_checkout_writes_and_its_workspace_is_served(installed):
    _wheel, home, work, checkout_demo, checkout_out, _sdist = installed
    out = work / "演示"
    run = manyi(installed, "demo", "--out", str(out), timeout=DEMO_TIMEOUT)
    assert run.returncode == 0, run.stdout + run.stderr
    _out, err = checkout_demo.communicate(timeout=DEMO_TIMEOUT)
    assert checkout_demo.returncode == 0, err
    assert demo_files(out) == demo_files(checkout_out)
    installed_records, checkout_records = records_of(out), records_of(checkout_out)
    assert len(checkout_records) == 5 and installed_records == checkout_records  # same names, same values
    assert any(p.suffix == ".pdf" for p in out.rglob("*")) and (out / "7-工作区" / "workspace.yaml").is_file()

    with socket.socket() as s:  # a free loopback port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(home / "manyi"), "serve", str(out / "7-工作区"), "--port", str(port)],
                              cwd=work, env=clean_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        page = None
        for _ in range(300):  # up to about a minute: the server imports Flask and opens the workspace first
            if server.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/applicants", timeout=5) as answer:
                    page = answer.read().decode("utf-8")
                    break
            except OSError:
                time.sleep(0.2)
        assert page is not None, server.stderr.read().decode("utf-8", "replace") if server.poll() is not None else ""
        assert "哈尔滨电机厂有限责任公司" in page  # the demo's applicants, listed by the installed page
    finally:
        server.kill()
        server.wait()
