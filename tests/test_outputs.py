"""Nothing the user has is lost: manyi replaces only what it wrote, runs of one out folder never overlap,
two inboxes parsed into one folder both stay, and an interrupted run is said to be one."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import parse as parse_mod
from pipeline.cli import cli
from pipeline.common import outputs
from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path, write_text_atomic
from pipeline.common.records import load_records
from pipeline.parse import parse_inbox
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign

HLJ = load_campaign(DEFAULT_CAMPAIGN)  # the seed's campaign: 黑龙江 2017

STAFF = "我的笔记.txt"


def staff_file(folder: Path, name: str = STAFF, text: str = "工作人员自己的文件") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def dead_pid() -> int:
    """The id of a process of this computer that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- the manifest ---------------------------------------------------------------------------------


def test_a_file_manyi_did_not_write_is_never_replaced(tmp_path):
    mine = staff_file(tmp_path, "summary.xlsx", "staff")
    with pytest.raises(UserError, match="不是 manyi 写出的") as caught:
        write_text_atomic(mine, "manyi")
    assert str(mine) in str(caught.value)
    assert mine.read_text(encoding="utf-8") == "staff"


def test_manyi_replaces_its_own_file_but_not_once_staff_edited_it(tmp_path):
    target = tmp_path / "notice.docx"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second")  # its own: replaced
    assert target.read_text(encoding="utf-8") == "second"
    target.write_text("staff's edit", encoding="utf-8")
    with pytest.raises(UserError, match="写出后被修改过"):
        write_text_atomic(target, "third")
    assert target.read_text(encoding="utf-8") == "staff's edit"
    assert outputs.remove_own(target) is False and target.exists()


def test_the_project_templates_are_rebuilt_without_the_guard(tmp_path):
    target = staff_file(tmp_path, "cover.docx", "old template")
    with atomic_path(target, guard=False) as tmp:
        tmp.write_text("new template", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new template"
    assert not (tmp_path / outputs.MANIFEST).exists()


def test_demo_writes_beside_foreign_files_in_a_fresh_subfolder(tmp_path):
    from pipeline.demo import FRESH, demo_folder

    assert demo_folder(tmp_path / "new") == tmp_path / "new"
    write_text_atomic(tmp_path / "own" / "a.txt", "manyi's")
    assert demo_folder(tmp_path / "own") == tmp_path / "own"  # only manyi's files: a re-run writes there again
    staff_file(tmp_path / "work")
    lines = []
    assert demo_folder(tmp_path / "work", lines.append) == tmp_path / "work" / FRESH
    assert FRESH in lines[0] and "不会改动" in lines[0]
    staff_file(tmp_path / "work" / FRESH, "x.txt")
    assert demo_folder(tmp_path / "work") == tmp_path / "work" / f"{FRESH} (2)"


def test_demo_out_dot_keeps_the_staff_file_even_when_it_fails(tmp_path, monkeypatch):
    """`manyi demo --out .` in a working folder: the staff's file stays, and so does the promise made."""
    import pipeline.demo as demo

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(demo.office, "available", lambda: False)
    monkeypatch.setattr(demo, "parse_inbox", broken)
    mine = staff_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(cli, ["demo", "--out", "."])
    assert run.exit_code == 3, run.output
    assert mine.read_text(encoding="utf-8") == "工作人员自己的文件"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([STAFF, demo.FRESH])
    assert "已写出的文件保持完整" in run.output and "Traceback" not in run.output
    assert any((tmp_path / demo.FRESH / "1-空白申报材料").glob("*.docx"))


def test_notices_refuse_to_overwrite_a_staff_file_of_the_same_name(tmp_path):
    from test_outputs_safety import DOCX_RECORDS

    from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
    from pipeline.issuing.notices import SUFFIX, make_notices

    records = DOCX_RECORDS[:1]
    name = f"{records[0]['company_name']}{SUFFIX}.docx"
    mine = staff_file(tmp_path, name, "已手工改好的通知")
    with pytest.raises(UserError, match="不是 manyi 写出的"):
        make_notices(records, tmp_path, load_campaign(DEFAULT_CAMPAIGN))
    assert mine.read_text(encoding="utf-8") == "已手工改好的通知"
    make_notices(records, tmp_path / "fresh", load_campaign(DEFAULT_CAMPAIGN))
    make_notices(records, tmp_path / "fresh", load_campaign(DEFAULT_CAMPAIGN))  # its own notice: written again


# --- parse: two inboxes, --replace ---------------------------------------------------------------


@pytest.fixture
def two_inboxes(tmp_path, corpus):
    inbox, _ = corpus
    first, second = tmp_path / "第一批", tmp_path / "第二批"
    shutil.copytree(inbox / "tpl-enterprise", first / "tpl-enterprise")
    shutil.copytree(inbox / "tpl-service", first / "tpl-service")
    shutil.copytree(inbox / "tpl-product", second / "tpl-product")
    return first, second


def test_a_second_inbox_keeps_the_first_ones_records_and_the_summary_lists_both(tmp_path, two_inboxes):
    from openpyxl import load_workbook

    first, second = two_inboxes
    out = tmp_path / "out"
    parse_inbox([first], out, HLJ, jobs=1)
    result = parse_inbox([second], out, HLJ, jobs=1)
    assert [r["source"] for r in result.records] == ["tpl-product"]
    assert {r["source"] for r in load_records(out / "records")} == {"tpl-enterprise", "tpl-service", "tpl-product"}
    assert result.others == 2 and "另有其他收件箱的 2 份记录" in result.line()
    rows = list(load_workbook(result.summary, read_only=True)["汇总"].iter_rows(values_only=True))
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    assert set(body) == {"tpl-enterprise", "tpl-service", "tpl-product"}
    inbox, run = header.index("收件箱"), header.index("解析时间")
    assert body["tpl-enterprise"][inbox] == str(first) and body["tpl-product"][inbox] == str(second)
    assert body["tpl-service"][run] == body["tpl-enterprise"][run] and body["tpl-product"][run]
    respondents = {row[0] for row in load_workbook(result.summary, read_only=True)["被访者"].iter_rows(values_only=True)}
    assert {"tpl-enterprise", "tpl-product"} <= respondents

    again = parse_inbox([second], out, HLJ, jobs=1, replace=True)
    assert again.removed == 2 and "已删除不在本次收件箱中的 2 份旧记录" in again.line()
    assert [r["source"] for r in load_records(out / "records")] == ["tpl-product"]


def test_replace_never_removes_a_record_file_staff_put_there(tmp_path, two_inboxes):
    first, _ = two_inboxes
    out = tmp_path / "out"
    mine = staff_file(out / "records", "手工记录.json", json.dumps({"source": "手工", "forms": {}}, ensure_ascii=False))
    result = parse_inbox([first], out, HLJ, jobs=1, replace=True)
    assert mine.exists() and result.removed == 0
    assert any("不是 manyi 写出的，未删除" in note for note in result.notes)


def test_parse_refuses_before_writing_when_summary_xlsx_is_the_staffs(tmp_path, two_inboxes):
    first, _ = two_inboxes
    out = tmp_path / "out"
    mine = staff_file(out, "summary.xlsx", "staff workbook")
    with pytest.raises(UserError, match="summary.xlsx"):
        parse_inbox([first], out, HLJ, jobs=1)
    assert mine.read_text(encoding="utf-8") == "staff workbook"
    assert not list((out / "records").glob("*.json"))


# --- the lock -------------------------------------------------------------------------------------


def hold_lock(out: Path, pid: int, host: str | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / outputs.LOCK).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                                "started": "2017-06-18 09:30:05", "command": "manyi parse 收件箱"}),
                                    encoding="utf-8")


def test_a_second_run_names_the_run_holding_the_folder_and_exits_non_zero(tmp_path, two_inboxes):
    first, _ = two_inboxes
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        hold_lock(out, holder.pid)
        run = CliRunner().invoke(cli, ["parse", str(first), "--out", str(out), "--jobs", "1"])
    finally:
        holder.kill()
        holder.wait()
    assert run.exit_code == 2, run.output
    assert f"进程 {holder.pid}" in run.output and socket.gethostname() in run.output
    assert "2017-06-18 09:30:05" in run.output and "--wait" in run.output
    assert not (out / "records").exists() or not list((out / "records").glob("*.json"))


def test_with_wait_the_second_run_starts_when_the_first_is_done(tmp_path, two_inboxes):
    first, _ = two_inboxes
    out = tmp_path / "out"
    hold_lock(out, os.getpid())  # held by a live process (this one) until the timer lets go
    release = threading.Timer(1.0, lambda: (out / outputs.LOCK).unlink())
    release.start()
    lines = []
    try:
        result = parse_inbox([first], out, HLJ, jobs=1, wait=True, echo=lines.append)
    finally:
        release.join()
    assert len(result.records) == 2 and "等待它结束" in lines[0]
    assert not (out / outputs.LOCK).exists()


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path, two_inboxes):
    first, _ = two_inboxes
    out = tmp_path / "out"
    hold_lock(out, dead_pid())
    result = parse_inbox([first], out, HLJ, jobs=1)
    assert len(result.records) == 2
    assert any("没有正常结束" in note for note in result.notes)
    assert not (out / outputs.LOCK).exists()


def test_a_lock_of_another_computer_is_respected(tmp_path):
    hold_lock(tmp_path, dead_pid(), host="另一台电脑")
    with pytest.raises(UserError, match="另一台电脑"):
        with outputs.locked(tmp_path, "manyi parse"):
            pass


# --- an interrupted run ---------------------------------------------------------------------------


def test_an_interrupted_parse_is_marked_and_readers_name_the_missing_entries(tmp_path, two_inboxes, monkeypatch):
    first, _ = two_inboxes
    out = tmp_path / "out"
    real = parse_mod.submission_records

    def interrupted(entry, *rest):
        if entry.source == "tpl-service":
            raise KeyboardInterrupt
        return real(entry, *rest)

    monkeypatch.setattr(parse_mod, "submission_records", interrupted)
    with pytest.raises(KeyboardInterrupt):
        parse_inbox([first], out, HLJ, jobs=1)
    assert (out / outputs.RUN).exists() and not (out / outputs.LOCK).exists()
    warnings = []
    assert [r["source"] for r in load_records(out / "records", warnings.append)] == ["tpl-enterprise"]
    assert len(warnings) == 1 and "没有完成" in warnings[0] and "tpl-service" in warnings[0]
    assert "tpl-enterprise" not in warnings[0]

    run = CliRunner().invoke(cli, ["summary-table", "--records", str(out), "--out", str(tmp_path / "tables")])
    assert "没有完成" in run.output and "tpl-service" in run.output
    monkeypatch.setattr(parse_mod, "submission_records", real)
    parse_inbox([first], out, HLJ, jobs=1)  # run again to its end: the mark goes
    warnings.clear()
    assert len(load_records(out, warnings.append)) == 2 and warnings == []


def test_a_later_run_of_another_inbox_keeps_the_warning_of_the_unfinished_one(tmp_path, two_inboxes, monkeypatch):
    first, second = two_inboxes
    out = tmp_path / "out"
    real = parse_mod.submission_records

    def interrupted(entry, *rest):
        if entry.source == "tpl-service":
            raise KeyboardInterrupt
        return real(entry, *rest)

    monkeypatch.setattr(parse_mod, "submission_records", interrupted)
    with pytest.raises(KeyboardInterrupt):
        parse_inbox([first], out, HLJ, jobs=1)
    monkeypatch.setattr(parse_mod, "submission_records", real)
    parse_inbox([second], out, HLJ, jobs=1)  # finishes, but does not redo the first inbox's missing entry
    warnings = []
    load_records(out, warnings.append)
    assert len(warnings) == 1 and "tpl-service" in warnings[0] and "tpl-product" not in warnings[0]
    parse_inbox([first], out, HLJ, jobs=1)
    warnings.clear()
    load_records(out, warnings.append)
    assert warnings == [] and not (out / outputs.RUN).exists()
