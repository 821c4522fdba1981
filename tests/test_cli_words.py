"""The command line speaks the campaign's words: every command staff use is run (click's CliRunner) on a
workspace of each program (the packets of tests/test_cli_programs.py, plus a corrected version so `show` and
`receive` print a comparison), and what it prints, on stdout and stderr, holds no identifier of the code: no form
field id, no issue code or other vocabulary value, no exception class name, no English stage or status word. The
forbidden words are computed from the code (tests/test_web_words.py's `forbidden`), not listed by hand.

Bad inputs (a missing workspace, an applicant that does not exist, a file where a folder is wanted, a read-only
folder) give a Chinese message and the documented exit code (README, 退出码: 2 for a bad input), never a
traceback or an exception's name."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import load_program
from pipeline.definitions.vocabulary import IssueCode
from program_packets import write_filled
from test_cli_programs import INCOMPLETE, PROGRAMS, incomplete_change, inbox_of, stage_path
from test_web_words import NEW_REPRESENTATIVE, corrected_packet, forbidden, leaks

#: Exit code of a bad input (README, 退出码).
BAD_INPUT = 2


def run(*args, env: dict | None = None):
    """Run a manyi command as staff do (click's own exception handling: a traceback would show as one);
    return (exit code, everything printed on stdout and stderr)."""
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    text = result.output  # click 8.2+: stdout and stderr as the terminal shows them
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += f"\n{type(result.exception).__name__}: {result.exception}"  # an escaped exception is a leak too
    return result.exit_code, text


def plain(text: str, root: Path, names: list[str]) -> str:
    """Given printed text, the test's folder and the names applicants gave their files, return the text without
    them (paths and file names are allowed: they are the staff's and the applicants' own words)."""
    text = text.replace(str(root), " ")
    for name in names:
        text = text.replace(name, " ")
    # the commands and options staff type are the command line's own words (`manyi confirm`, `--waive`)
    return re.sub(r"manyi(?: [a-z][a-z-]*)+|--[a-z][a-z-]*", " ", text)


def sent_names(ws_dir: Path) -> list[str]:
    """Given a workspace folder, return the names applicants gave their files and folders, longest first."""
    from pipeline.workspace import Workspace

    names = set()
    with Workspace.open(ws_dir) as ws:
        for row in ws.applicants(limit=None).items:
            for version in ws.applicant(row.id).versions:
                names.add(version.source)
                for f in version.files:
                    names |= {f["name"], *re.split(r"[/\\]", f["name"] or "")}
    return sorted((n for n in names if n), key=len, reverse=True)


def rows_of(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if "\t" in line]


def open_issues(ws_dir: Path, name: str) -> list[dict]:
    from pipeline.workspace import Workspace

    with Workspace.open(ws_dir) as ws:
        return ws.applicant(ws.find(name)).open_issues


#: An applicant that lacks a form and is never corrected: its issues stay open for confirm, waive and undo.
LACKING = "缺表二号有限公司"


def lacking_packet(pid: str, folder: Path) -> Path:
    """Given a program and a folder, write there a packet of its first category that lacks its last form, by
    LACKING; return the folder."""
    program = load_program(pid)
    first = next(iter(program.categories))
    field, drop = program.applicant_field(first), incomplete_change(pid, first)

    def change(form_id, text):
        text = drop(form_id, text)
        return {**text, field: LACKING} if isinstance(text, dict) and field in text else text

    write_filled(pid, first, folder / "lacking", change=change)
    return folder


def session_of(pid: str, root: Path) -> dict[str, tuple[int, str]]:
    """Given a program and a folder, run every command staff use on a workspace of that program there; return
    command → (exit code, printed text)."""
    said: dict[str, tuple[int, str]] = {}
    ws = root / "ws"
    said["init"] = run("workspace", "init", ws, "--program", pid, "--by", "测试")
    deadline = re.search(r"deadline: *(\S+)", (ws / "campaign.yaml").read_text(encoding="utf-8")).group(1)
    inboxes = [inbox_of(pid, root), lacking_packet(pid, root / "extra")]
    if pid == "heilongjiang":  # the sample inbox has no applicant lacking a form: add the one the correction fixes
        first = next(iter(load_program(pid).categories))
        write_filled(pid, first, root / "extra" / "incomplete", change=incomplete_change(pid, first))
    said["receive"] = run("receive", ws, *inboxes, "--received", deadline, "--jobs", "1")
    said["receive (corrected)"] = run("receive", ws, corrected_packet(pid, root / "inbox2"), "--received", deadline,
                                      "--jobs", "1")
    said["status"] = run("status", ws)
    said["list"] = run("list", ws)
    said["list incomplete"] = run("list", ws, "--status", "需补正")
    for row in rows_of(said["list"][1]):
        said[f"show {row[0]}"] = run("show", ws, row[0])
    counts = {row[1]: sum(int(n) for n in re.findall(r"(?:错误|警告) (\d+)", "\t".join(row[4:6])))
              for row in rows_of(said["list"][1])}
    target = max(counts, key=counts.get)  # the applicant with the most open issues is the one staff decide on
    issues = open_issues(ws, target)
    said["confirm by number"] = run("confirm", ws, target, "1", "--note", "已电话核实", "--by", "测试")
    said["show (decided)"] = run("show", ws, target)
    if len(issues) > 1:
        name = IssueCode(issues[1]["code"]).label
        twice = sum(IssueCode(i["code"]).label == name for i in issues[1:]) > 1
        said["waive by name"] = run("confirm", ws, target, "1" if twice else name, "--waive", "--note", "无需补正",
                                    "--by", "测试")
    said["confirm (no such issue)"] = run("confirm", ws, target, "99", "--note", "x", "--by", "测试")
    said["undo"] = run("undo", ws, target, "1", "--by", "测试")
    said[f"show {target}"] = run("show", ws, target)
    said[f"show {INCOMPLETE}"] = run("show", ws, INCOMPLETE)
    said["notices"] = run("notices", "--workspace", ws, "--out", root / "notices", "--by", "测试")
    said["summary"] = run("summary", "--workspace", ws, "--out", root / "汇总.xlsx")
    said["screen"] = run("screen", "--workspace", ws, "--out", root / "筛选.xlsx")
    complete = [r for r in rows_of(run("list", ws, "--status", "材料齐全")[1]) if r[1] not in (INCOMPLETE, LACKING)]
    from pipeline.workspace import Workspace

    with Workspace.open(ws) as opened:
        winning, publicity, day = opened.flow.role("winning"), opened.flow.publicity, opened.campaign.deadline
    with open(ws / "campaign.yaml", "a", encoding="utf-8") as copy:  # the award date within the titles' validity
        copy.write(f"\naward_date: {deadline}\n")
    for stage in stage_path(ws, complete[0][3], winning):
        said[f"stage {stage}"] = run("stage", ws, complete[0][0], "--to", stage, "--by", "测试", "--date",
                                     day.isoformat())
        if publicity and stage == publicity.stage:
            day += timedelta(days=60)
    said["certificates"] = run("certificates", "--workspace", ws, "--out", root / "certs", "--by", "测试")
    said["register list"] = run("register", "list", "--workspace", ws)
    number = next(line.split()[0] for line in said["register list"][1].splitlines() if complete[0][1] in line)
    said["register verify"] = run("register", "verify", number, "--workspace", ws)
    said["register expiring"] = run("register", "expiring", "--workspace", ws, "--within", "10y", "--as-of", deadline)
    said["renewals letters"] = run("renewals", "letters", "--workspace", ws, "--out", root / "letters",
                                   "--within", "10y", "--as-of", deadline)
    said["opinion"] = run("opinion", ws, LACKING, "材料基本齐全，建议补正后推荐", "--by", "测试")
    for rnd in load_program(pid).review_rounds():
        said[f"review progress {rnd.id}"] = run("review", "progress", ws, rnd.id)
        said[f"review rank {rnd.id}"] = run("review", "rank", ws, rnd.id)
    said["invite"] = run("invite", ws, "--all", "--out", root / "邀请.xlsx", "--url", "https://sb.example.cn",
                         "--by", "测试")
    return said


@pytest.fixture(scope="module", params=[pytest.param(p, marks=pytest.mark.xdist_group(f"cliw-{p}"))
                                        for p in PROGRAMS])
def session(request, tmp_path_factory):
    """(program, folder, command → (exit code, text)) of each program's workspace after every command."""
    pid = request.param
    root = tmp_path_factory.mktemp(f"cliw-{pid}")
    return pid, root, session_of(pid, root)


#: Commands a campaign may refuse in words: invitations once the correction period is over, renewal letters when
#: no title of the program expires (the exit code of a refusal is 2 like any bad input).
REFUSALS = {"invite", "renewals letters"}


def test_every_command_runs(session):
    pid, root, said = session
    listed_incomplete = rows_of(said["list incomplete"][1])  # --status takes the status as staff say it
    assert listed_incomplete and LACKING in {row[1] for row in listed_incomplete}
    assert all(row[0].isdigit() for row in listed_incomplete)
    # invite may be refused (the campaign's correction period is long over): a refusal in words, exit code 2
    failed = {name: text for name, (code, text) in said.items()
              if code != 0 and "(no such issue)" not in name and not (name in REFUSALS and code == BAD_INPUT)}
    assert not failed, failed
    assert said["confirm (no such issue)"][0] == BAD_INPUT


def test_no_command_prints_an_identifier_of_the_code(session):
    pid, root, said = session
    words = forbidden(pid)
    assert {"late_submission", "company_name", "ValueError", "incomplete"} & words  # not empty by mistake
    names = sent_names(root / "ws")
    found = {name: sorted(leaked) for name, (_, text) in said.items()
             if (leaked := leaks(plain(text, root, names), words))}
    assert not found, found


def test_show_names_the_comparison_and_issues_as_staff_read_them(session):
    """The corrected version's changed legal representative is named by its form title and field label, and the
    open issues by their Chinese names, numbered for `confirm`."""
    pid, root, said = session
    program = load_program(pid)
    first = next(iter(program.categories))
    form = program.forms[f"application.{first}"] if f"application.{first}" in program.forms else None
    shown = said[f"show {INCOMPLETE}"][1]
    changes = [line for line in shown.splitlines() if "改动：" in line]
    assert changes and all("《" in line for line in changes), shown  # every changed field under its form's title
    if form is not None and "legal_representative" in form.fields:
        change = next(line for line in changes if NEW_REPRESENTATIVE in line)
        assert form.fields["legal_representative"].plain_label in change
    decided = said["show (decided)"][1]
    assert re.search(r"^  1\. \[已人工确认\] ", decided, re.M)  # numbered, as undo takes them
    assert re.search(r"^  1\. \[(错误|警告)\] ", "".join(t for n, (_, t) in said.items() if n.startswith("show")), re.M)


def test_a_decision_names_issues_by_their_chinese_names(session):
    pid, root, said = session
    code, text = said["confirm (no such issue)"]
    assert "第 99 项" in text and "未处理的问题：" in text
    confirmed = said["confirm by number"][1]
    assert "已人工确认“" in confirmed


def test_screen_runs_without_program():
    """`manyi screen --records` takes the default program like every other command (it used to demand --program)."""
    code, text = run("screen", "--records", SAMPLES / "no-such-records", "--out", "x.xlsx")
    assert "--program" not in text


def test_the_issue_is_found_by_number_name_or_code():
    from pipeline.workspace.compare import issue_asked, pick_issues

    issues = [{"code": "late_submission"}, {"code": "missing_field"}, {"code": "late_submission"}]
    assert pick_issues(issues, "2") == [issues[1]]
    assert pick_issues(issues, "0") == [] and pick_issues(issues, "4") == []
    assert pick_issues(issues, IssueCode("missing_field").label) == [issues[1]]
    assert pick_issues(issues, "late_submission") == [issues[0], issues[2]]
    assert issue_asked("late_submission") == IssueCode("late_submission").label
    assert issue_asked("3") == "第 3 项"


# --- bad inputs: Chinese, the documented exit code, never a traceback ------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A workspace of the sample inbox, a file and a read-only folder beside it."""
    root = tmp_path_factory.mktemp("cliw-bad")
    ws = root / "ws"
    assert run("workspace", "init", ws, "--by", "测试")[0] == 0
    assert run("receive", ws, SAMPLES / "inbox", "--jobs", "1")[0] == 0
    (root / "a-file.txt").write_text("x", encoding="utf-8")
    locked = root / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    yield root, ws, read_only(locked)
    locked.chmod(0o700)


def read_only(locked: Path) -> Path:
    """Given a folder made read-only, return a folder no one may write into: it, or for root (whom the mode does
    not bind) the kernel's /sys, where even root may not create a file."""
    if hasattr(os, "geteuid") and os.geteuid() == 0 and Path("/sys/kernel").is_dir():
        return Path("/sys")
    return locked


#: `register verify` answers "not verified" with 1 whatever the cause (its help and README); the rest say 2.
EXPECTED = {"register verify unknown": 1}


def bad_inputs(root: Path, ws: Path, locked: Path) -> dict[str, list]:
    missing, a_file = root / "没有这个工作区", root / "a-file.txt"
    return {
        "show missing workspace": ["show", missing, "1"],
        "list missing workspace": ["list", missing],
        "status a file": ["status", a_file],
        "show wrong applicant": ["show", ws, "99999"],
        "show unknown name": ["show", ws, "没有这家公司"],
        "confirm wrong applicant": ["confirm", ws, "99999", "1", "--note", "x", "--by", "测试"],
        "confirm wrong issue": ["confirm", ws, "1", "没有这个问题", "--note", "x", "--by", "测试"],
        "undo nothing decided": ["undo", ws, "1", "1", "--by", "测试"],
        "notices out is a file": ["notices", "--workspace", ws, "--out", a_file, "--by", "测试"],
        "notices read-only out": ["notices", "--workspace", ws, "--out", locked / "n", "--by", "测试"],
        "summary missing workspace": ["summary", "--workspace", missing, "--out", root / "s.xlsx"],
        "summary read-only out": ["summary", "--workspace", ws, "--out", locked / "s.xlsx"],
        "screen out is a file's child": ["screen", "--workspace", ws, "--out", a_file / "x.xlsx"],
        "certificates out is a file": ["certificates", "--workspace", ws, "--out", a_file, "--by", "测试"],
        "register list missing workspace": ["register", "list", "--workspace", missing],
        "register verify unknown": ["register", "verify", "HLJ2017-9999", "--workspace", missing],
        "renewals letters out is a file": ["renewals", "letters", "--workspace", ws, "--out", a_file],
        "review progress missing workspace": ["review", "progress", missing, "material"],
        "invite read-only out": ["invite", ws, "--all", "--out", locked / "i.xlsx", "--url", "https://sb.example.cn",
                                 "--by", "测试"],
        "init in a file": ["workspace", "init", a_file / "ws", "--by", "测试"],
        "receive missing workspace": ["receive", missing, SAMPLES / "inbox"],
    }


def test_bad_inputs_are_refused_in_chinese_with_the_documented_code(small):
    root, ws, locked = small
    words = forbidden("heilongjiang") | {"Traceback", "Error", "Exception"}
    wrong = {}
    for name, args in bad_inputs(root, ws, locked).items():
        code, text = run(*args)
        leaked = leaks(plain(text, root, []), words)
        chinese = re.search(r"[\u4e00-\u9fff]", text)
        if code != EXPECTED.get(name, BAD_INPUT) or leaked or not chinese or "Traceback" in text:
            wrong[name] = (code, sorted(leaked), text[-300:])
    assert not wrong, wrong


def test_the_detector_finds_what_the_command_line_used_to_print(tmp_path):
    """What `show` printed before (an issue's code, a field's dotted id) is found; commands, options, paths and
    file names are not."""
    words = forbidden("heilongjiang")
    old = ("  [错误] below_threshold（未达到申报条件） application.floor_area：建筑面积未达到\n"
           f"  改动：application.legal_representative：（空） → 赵国栋\n请运行 manyi confirm {tmp_path}/ws --waive")
    assert leaks(plain(old, tmp_path, []), words) == {"below_threshold", "application.floor_area",
                                                      "application.legal_representative"}
