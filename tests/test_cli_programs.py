"""Every command of a campaign for every program, on the command line: a workspace and a records folder each.

Each program's filled packets (the sample inbox for 黑龙江; for the others one packet per category plus one
that lacks a form) go through `workspace init`, `receive`, `list` per category, `show`, `notices`,
`summary-table`, `screen`, stage moves to the winning stage and `certificates`; and through `parse`,
`notices`, `summary-table` and `screen` on a records folder. What each must give is read from the program
file and the typed values, never from the code under test.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import load_program
from program_packets import TYPED, packet_forms, write_filled

PROGRAMS = ("heilongjiang", "liaoning", "national", "guangzhou", "guangdong-stars")
INCOMPLETE = "缺表示范有限公司"


def invoke(*args) -> object:
    """Run a manyi command; return click's result."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def incomplete_change(pid: str, cid: str):
    """Given a program and a category, return the `change` that renames the applicant and drops the last form."""
    dropped = packet_forms(pid, cid)[-1].id
    field = load_program(pid).applicant_field(cid)

    def change(form_id, text):
        if form_id == dropped:
            return None
        return {**text, field: INCOMPLETE} if isinstance(text, dict) and field in text else text

    return change


def inbox_of(pid: str, root: Path) -> Path:
    """Given a program and a folder, return an inbox of its filled packets."""
    if pid == "heilongjiang":
        return SAMPLES / "inbox"
    inbox = root / "inbox"
    program = load_program(pid)
    for cid in program.categories:
        write_filled(pid, cid, inbox / cid)
    first = next(iter(program.categories))
    write_filled(pid, first, inbox / "incomplete", change=incomplete_change(pid, first))
    return inbox


@pytest.fixture(scope="module", params=[pytest.param(p, marks=pytest.mark.xdist_group(f"cli-{p}")) for p in PROGRAMS])
def campaign(request, tmp_path_factory):
    """(program id, workspace folder, inbox) of a received workspace of each program."""
    pid = request.param
    root = tmp_path_factory.mktemp(f"cli-{pid}")
    inbox = inbox_of(pid, root)
    ws = root / "ws"
    made = invoke("workspace", "init", ws, "--program", pid, "--by", "测试")
    assert made.exit_code == 0, made.output
    deadline = re.search(r"deadline: *(\S+)", (ws / "campaign.yaml").read_text(encoding="utf-8")).group(1)
    got = invoke("receive", ws, inbox, "--received", deadline, "--jobs", "1")
    assert got.exit_code == 0, got.output
    return pid, ws, inbox


def listed(ws: Path, *args) -> list[list[str]]:
    """Given a workspace and `list` options, return its rows split by tab."""
    run = invoke("list", ws, *args)
    assert run.exit_code == 0, run.output
    return [line.split("\t") for line in run.output.splitlines() if "\t" in line]


def test_list_offers_each_category_of_the_program(campaign):
    pid, ws, _ = campaign
    program = load_program(pid)
    everyone = listed(ws)
    assert everyone
    for cid, cat in program.categories.items():
        rows = listed(ws, "--category", cid)
        assert rows, f"{pid}: no applicant listed for {cid}"
        assert {row[2] for row in rows} == {cat.name}  # the program's own printed category name


def test_show_names_the_program_words(campaign):
    pid, ws, _ = campaign
    first = listed(ws)[0]
    run = invoke("show", ws, first[0])
    assert run.exit_code == 0, run.output
    assert first[1] in run.output


def test_notices_go_to_the_applicants_with_errors(campaign, tmp_path):
    pid, ws, _ = campaign
    run = invoke("notices", "--workspace", ws, "--out", tmp_path / "n", "--by", "测试")
    assert run.exit_code == 0, run.output
    needing = listed(ws, "--status", "incomplete")
    written = [p.name for p in (tmp_path / "n").glob("*.docx")]
    assert needing and len(written) == len(needing)  # one letter per applicant whose latest version has errors
    if pid != "heilongjiang":
        assert any(name.startswith(INCOMPLETE) for name in written)


def test_summary_tables_are_named_by_the_programs_unit(campaign, tmp_path):
    pid, ws, _ = campaign
    run = invoke("summary-table", "--workspace", ws, "--out", tmp_path / "s", "--include-incomplete")
    assert run.exit_code == 0, run.output
    names = {p.name for p in (tmp_path / "s").glob("*.docx")}
    assert names and not any(n.startswith("未注明") for n in names)
    if pid != "heilongjiang":
        units = {TYPED["recommending_unit"], TYPED["promoting_unit"]}
        assert any(unit in name for name in names for unit in units), names


def test_screen_lists_every_applicant(campaign, tmp_path):
    pid, ws, _ = campaign
    run = invoke("screen", "--workspace", ws, "--out", tmp_path / "筛选.xlsx")
    assert run.exit_code == 0, run.output
    assert (tmp_path / "筛选.xlsx").is_file()
    assert f"已筛选 {len(listed(ws))} 个申报" in run.output


def stage_path(ws: Path, src: str, dst: str) -> list[str]:
    """Given a workspace folder, a stage and a target, return the stages between them by the program's `next`."""
    from pipeline.workspace import Workspace

    with Workspace.open(ws) as opened:
        flow = opened.flow
        before, queue = {src: None}, deque([src])
        while queue:
            here = queue.popleft()
            for there in flow.stage(here).next:
                if there not in before:
                    before[there] = here
                    queue.append(there)
    path, at = [], dst
    while at != src:
        path.append(at)
        at = before[at]
    return path[::-1]


def test_a_winner_moved_stage_by_stage_gets_a_certificate(campaign, tmp_path):
    from pipeline.workspace import Workspace

    pid, ws, _ = campaign
    complete = [row for row in listed(ws, "--status", "complete") if row[1] != INCOMPLETE]
    assert complete
    row = complete[0]
    with Workspace.open(ws) as opened:
        winning, deadline = opened.flow.role("winning"), opened.campaign.deadline
    with open(ws / "campaign.yaml", "a", encoding="utf-8") as copy:  # the award date within the titles' validity
        copy.write(f"\naward_date: {deadline.isoformat()}\n")
    with Workspace.open(ws) as opened:
        publicity = opened.flow.publicity
    day = deadline
    for stage in stage_path(ws, row[3], winning):
        moved = invoke("stage", ws, row[0], "--to", stage, "--by", "测试", "--date", day.isoformat())
        assert moved.exit_code == 0, moved.output
        if publicity and stage == publicity.stage:  # the next move waits for the period to end (two months is ample)
            day += timedelta(days=60)
    run = invoke("certificates", "--workspace", ws, "--out", tmp_path / "c", "--by", "测试")
    assert run.exit_code == 0, run.output
    assert len(list((tmp_path / "c").glob("*.docx"))) == 1
    assert row[1] in run.output


def test_a_records_folder_runs_the_same_commands(campaign, tmp_path):
    pid, ws, inbox = campaign
    parsed = invoke("parse", inbox, "--out", tmp_path / "r", "--program", pid, "--jobs", "1")
    assert parsed.exit_code == 0, parsed.output
    records = tmp_path / "r" / "records"
    for command, out in (("notices", tmp_path / "n"), ("summary-table", tmp_path / "s")):
        run = invoke(command, "--records", records, "--program", pid, "--out", out)
        assert run.exit_code == 0, run.output
    run = invoke("screen", "--records", records, "--program", pid, "--out", tmp_path / "筛选.xlsx")
    assert run.exit_code == 0, run.output
    # the records folder and the workspace hold the same applicants
    assert f"已筛选 {len(listed(ws))} 个申报" in run.output
