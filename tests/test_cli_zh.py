"""Every message and help text staff see is Chinese, click's own words included."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.common import click_zh

#: Click's English that staff must never see.
ENGLISH = re.compile(r"Usage:|Options:|Commands:|Error:|Missing (option|argument|parameter)|Invalid value|"
                     r"Show this message|Show the version|\[required\]|\bPATH\b|\bTEXT\b|\bINTEGER\b|"
                     r"RANGE\b|\bFILE\b|\[OPTIONS\]|COMMAND \[ARGS\]|for help\.|No such (option|command)|default:")


def click_msgids() -> tuple[set[str], set[tuple[str, str]]]:
    """Every constant message click passes to `_()` and every (singular, plural) it passes to `ngettext()`."""
    singles, plurals = set(), set()
    for path in Path(click.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                texts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if node.func.id == "_" and texts:
                    singles.add(texts[0])
                elif node.func.id == "ngettext" and len(texts) >= 2:
                    plurals.add((texts[0], texts[1]))
    return singles, plurals


def test_the_table_covers_every_message_of_the_installed_click():
    singles, plurals = click_msgids()
    assert singles and plurals
    assert singles - set(click_zh.MESSAGES) == set()
    assert plurals - set(click_zh.PLURALS) == set()


def commands(group: click.Group, path=()):
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


@pytest.mark.parametrize("path", [(), *commands(cli)], ids=lambda p: " ".join(p) or "manyi")
def test_help_is_chinese(path):
    run = CliRunner().invoke(cli, [*path, "--help"])
    assert run.exit_code == 0, run.output
    assert not ENGLISH.search(run.output), ENGLISH.search(run.output).group(0)
    assert "用法：" in run.output and "显示本说明后退出。" in run.output


@pytest.mark.parametrize("args,expected", [
    (["register", "revoke", "HLJ2017-CP-0001"], "缺少选项 '--reason'"),
    (["parse", "/没有这个文件夹", "--out", "x"], "'收件箱…' 的值无效：路径 '/没有这个文件夹' 不存在"),
    (["parse", "--out", "x"], "缺少参数 '收件箱…'"),
    (["parse", ".", "--out", "x", "--jobs", "0"], "'--jobs' 的值无效：0 不在范围"),
    (["parse", ".", "--out", "x", "--jobs", "二"], "'二' 不是有效的整数"),
    (["no-such-command"], "没有命令 'no-such-command'"),
    (["notices", "--bogus"], "没有选项 '--bogus'"),
    (["register", "renew"], "缺少参数 '证书编号'"),
])
def test_click_errors_reach_staff_in_chinese(args, expected):
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 2
    assert expected in run.output, run.output
    assert not ENGLISH.search(run.output), run.output


def test_version_is_chinese():
    run = CliRunner().invoke(cli, ["--version"])
    assert run.exit_code == 0 and run.output.startswith("manyi，版本 ")
