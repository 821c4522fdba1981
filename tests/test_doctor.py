"""`manyi doctor` says what is missing with the install command of the system, and `manyi programs` never passes
a check of nothing."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from pipeline import doctor
from pipeline.cli import cli
from pipeline.workspace import Workspace
from pipeline.definitions.programs import resolve_campaign


def test_this_machine_is_ready():
    """The test machine has LibreOffice and the SC fonts (make system): every check passes, exit 0."""
    run = CliRunner().invoke(cli, ["doctor"])
    assert run.exit_code == 0, run.output
    assert "[正常] LibreOffice" in run.output and "[正常] 中文字体" in run.output and "一切就绪" in run.output


def test_libreoffice_missing_names_the_install_command(monkeypatch):
    monkeypatch.setenv("MANYI_SOFFICE", "/没有/soffice")
    run = CliRunner().invoke(cli, ["doctor"])
    assert run.exit_code == 1
    assert "[缺少] LibreOffice" in run.output and "MANYI_SOFFICE" in run.output
    assert "apt-get install -y libreoffice-writer-nogui" in run.output  # this machine is Debian


def test_each_system_gets_its_own_command(monkeypatch):
    monkeypatch.setenv("MANYI_SOFFICE", "/没有/soffice")
    assert "winget install --id TheDocumentFoundation.LibreOffice" in doctor.check_libreoffice("windows").fix
    assert "brew install --cask libreoffice" in doctor.check_libreoffice("macos").fix
    assert doctor.system_of("win32") == "windows" and doctor.system_of("darwin") == "macos"


def test_fonts_need_a_song_face_and_a_hei_face():
    assert doctor.check_fonts({"Noto Serif CJK SC", "Noto Sans CJK SC", "DejaVu Sans"}, "debian").ok
    only_sans = doctor.check_fonts({"Noto Sans CJK SC"}, "debian")
    assert not only_sans.ok and "宋体类" in only_sans.detail and "黑体类" not in only_sans.detail
    assert "fonts-noto-cjk" in only_sans.fix
    assert not doctor.check_fonts({"Noto Serif CJK JP", "Noto Sans CJK JP"}, "macos").ok  # Japanese faces are not SC


def test_windows_fonts_are_found_in_the_fonts_folder(tmp_path, monkeypatch):
    """On Windows the faces are the files of %WINDIR%\\Fonts: SimSun and SimHei make it ready."""
    (tmp_path / "Fonts").mkdir()
    monkeypatch.setenv("WINDIR", str(tmp_path))
    assert doctor.font_families("windows") == set()
    assert "中文(简体，中国)" in doctor.check_fonts(set(), "windows").fix
    for name in ("simsun.ttc", "simhei.ttf"):
        (tmp_path / "Fonts" / name).write_bytes(b"")
    assert doctor.check_fonts(doctor.font_families("windows"), "windows").ok


def test_a_workspace_database_that_cannot_be_reached(tmp_path):
    ws = tmp_path / "工作 区"
    Workspace.init(ws, resolve_campaign("heilongjiang", None)).close()
    run = CliRunner().invoke(cli, ["doctor", str(ws)])
    assert run.exit_code == 0 and "[正常] 工作区数据库" in run.output, run.output
    config = yaml.safe_load((ws / "workspace.yaml").read_text(encoding="utf-8"))
    config["db"] = "postgresql+psycopg://manyi@127.0.0.1:9/none"  # port 9 (discard): refused at once
    (ws / "workspace.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    run = CliRunner().invoke(cli, ["doctor", str(ws)])
    assert run.exit_code == 1 and "[缺少] 工作区数据库" in run.output and "无法连接" in run.output, run.output


def test_no_programs_is_an_error(monkeypatch):
    import pipeline.definitions.programs as programs

    monkeypatch.setattr(programs, "all_programs", lambda: [])
    run = CliRunner().invoke(cli, ["programs"])
    assert run.exit_code == 1 and "没有找到任何评选项目" in run.output and "检查通过" not in run.output


def test_the_data_root_is_a_real_folder_inside_the_package():
    from pipeline.common import resources

    assert isinstance(resources.DATA, Path) and resources.DATA.parent == Path(doctor.__file__).parent
    assert (resources.FORMS / "programs").is_dir() and (resources.TEMPLATES / "certificate.docx").is_file()
    assert (resources.SAMPLES / "inbox").is_dir() and resources.FONTCONF.is_file()
