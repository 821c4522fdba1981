"""Staff's own programs, campaigns and templates in a folder they choose (`--forms DIR`, MANYI_FORMS, or a
workspace's forms/ folder), layered over the packaged ones and never written into the package."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.common import resources

PACKAGED_PROGRAMS = sorted(p.stem for p in resources.PACKAGED["programs"].glob("*.yaml") if not p.name.startswith("_"))


@pytest.fixture(autouse=True)
def no_layers():
    """Each test starts, and leaves, with the packaged files alone (the layers are per process)."""
    resources.clear_forms_layers()
    yield
    resources.clear_forms_layers()


def package_digest() -> str:
    """Return one digest of every packaged program, campaign and template file (name and bytes)."""
    digest = hashlib.sha256()
    for kind, folder in sorted(resources.PACKAGED.items()):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(f"{kind}/{path.relative_to(folder)}".encode() + path.read_bytes())
    return digest.hexdigest()


def staff_folder(root: Path) -> Path:
    """A staff folder with a program of their own (辽宁's rules renamed 沈阳) and its campaign, written by hand."""
    source = (resources.PACKAGED["programs"] / "liaoning.yaml").read_text(encoding="utf-8")
    program = re.sub(r"(?m)^id: liaoning$", "id: shenyang", source)
    program = re.sub(r"(?m)^name: .*$", "name: 沈阳市用户满意称号推荐评定", program, count=1)
    program = re.sub(r"(?m)^campaign: liaoning-2021$", "campaign: shenyang-2025", program)
    campaign = (resources.PACKAGED["campaigns"] / "liaoning-2021.yaml").read_text(encoding="utf-8")
    campaign = re.sub(r"(?m)^id: liaoning-2021$", "id: shenyang-2025", campaign)
    campaign = re.sub(r"(?m)^program: liaoning$", "program: shenyang", campaign)
    folder = root / "我的 表单"
    (folder / "programs").mkdir(parents=True)
    (folder / "campaigns").mkdir()
    (folder / "programs" / "shenyang.yaml").write_text(program, encoding="utf-8")
    (folder / "campaigns" / "shenyang-2025.yaml").write_text(campaign, encoding="utf-8")
    return folder


def test_programs_lists_the_five_and_the_staff_folders_own(tmp_path):
    folder = staff_folder(tmp_path)
    before = package_digest()
    plain = CliRunner().invoke(cli, ["programs"])
    assert plain.exit_code == 0 and f"共 {len(PACKAGED_PROGRAMS)} 个项目" in plain.output
    assert "沈阳市用户满意称号推荐评定" not in plain.output
    layered = CliRunner().invoke(cli, ["programs", "--forms", str(folder)])
    assert layered.exit_code == 0, layered.output
    assert len(PACKAGED_PROGRAMS) == 5 and "共 6 个项目，项目文件检查通过" in layered.output
    assert "沈阳市用户满意称号推荐评定" in layered.output
    assert package_digest() == before  # nothing written into the package


def test_the_environment_names_the_folder_too(tmp_path):
    folder = staff_folder(tmp_path)
    run = CliRunner().invoke(cli, ["programs"], env={"MANYI_FORMS": str(folder)})
    assert run.exit_code == 0 and "共 6 个项目" in run.output


def test_a_staff_campaign_of_the_same_name_replaces_the_packaged_one(tmp_path):
    from pipeline.definitions.programs import campaign_for, resolve_campaign

    folder = tmp_path / "forms"
    (folder / "campaigns").mkdir(parents=True)
    text = (resources.PACKAGED["campaigns"] / "liaoning-2021.yaml").read_text(encoding="utf-8")
    (folder / "campaigns" / "liaoning-2021.yaml").write_text(
        re.sub(r"(?m)^name: .*$", "name: 2021年度辽宁省用户满意（本会修订）", text, count=1), encoding="utf-8")
    assert resolve_campaign("liaoning", None).data["name"] != "2021年度辽宁省用户满意（本会修订）"
    resources.use_forms(folder)
    assert campaign_for("liaoning") == folder / "campaigns" / "liaoning-2021.yaml"
    assert resolve_campaign("liaoning", None).data["name"] == "2021年度辽宁省用户满意（本会修订）"
    assert resolve_campaign(None, "liaoning-2021").path == folder / "campaigns" / "liaoning-2021.yaml"  # by id


def test_a_staff_template_is_used_before_the_packaged_one_and_build_writes_where_asked(tmp_path):
    from pipeline.word.build import build_all, template_path
    from pipeline.word.house_templates import template

    folder = tmp_path / "forms"
    (folder / "templates").mkdir(parents=True)
    own = folder / "templates" / "certificate.docx"
    own.write_bytes((resources.TEMPLATES / "certificate.docx").read_bytes())
    packaged = resources.TEMPLATES / "commitment.docx"
    assert template_path("commitment") == packaged
    assert template("certificate.docx") == resources.TEMPLATES / "certificate.docx"
    resources.use_forms(folder)
    assert template("certificate.docx") == own
    assert template_path("commitment") == packaged  # no staff copy: the packaged one
    (folder / "templates" / "commitment.docx").write_bytes(packaged.read_bytes())
    assert template_path("commitment") == folder / "templates" / "commitment.docx"
    built = build_all(tmp_path / "built")
    assert built and all(p.parent == tmp_path / "built" for p in built)


def test_a_packet_of_the_staff_program_and_a_workspace_that_keeps_it(tmp_path):
    folder = staff_folder(tmp_path)
    out = tmp_path / "申报材料"
    run = CliRunner().invoke(cli, ["packet", "--forms", str(folder), "--program", "shenyang", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert list(out.rglob("*.docx"))
    ws = tmp_path / "工作 区"
    run = CliRunner().invoke(cli, ["workspace", "init", str(ws), "--forms", str(folder), "--program", "shenyang"])
    assert run.exit_code == 0, run.output
    assert (ws / "forms" / "programs" / "shenyang.yaml").is_file()
    resources.clear_forms_layers()  # a later run without --forms: the workspace's own forms/ folder answers
    from pipeline.workspace import Workspace

    with_ws = Workspace.open(ws)
    try:
        assert with_ws.program.id == "shenyang" and with_ws.program.name == "沈阳市用户满意称号推荐评定"
    finally:
        with_ws.close()


def test_a_folder_with_nothing_to_layer_is_refused_in_chinese(tmp_path):
    (tmp_path / "空").mkdir()
    run = CliRunner().invoke(cli, ["programs", "--forms", str(tmp_path / "空")])
    assert run.exit_code == 2 and "programs、campaigns 或 templates" in run.output


def test_no_programs_at_all_is_an_error(monkeypatch, tmp_path):
    empty = tmp_path / "programs"
    empty.mkdir()
    monkeypatch.setitem(resources.PACKAGED, "programs", empty)
    run = CliRunner().invoke(cli, ["programs"])
    assert run.exit_code == 1 and "没有找到任何评选项目" in run.output and "检查通过" not in run.output
