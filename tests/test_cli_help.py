"""Every command's help: Chinese value names, no word of code broken over a line, no ASCII full stop after Chinese."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import cli


def commands(command=cli, path=()):
    """Every command and group under the CLI, as its path of names."""
    yield list(path)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from commands(sub, (*path, name))


PATHS = list(commands())
#: A run of ASCII (an option, a command, a path, a setting name): what a help line must never break inside.
ASCII_WORD = re.compile(r"[!-~]+")


def help_text(path: list[str], width: int) -> str:
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=width)
    assert result.exit_code == 0, (path, result.output)
    return result.output


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "manyi")
def test_help_never_breaks_a_word_and_ends_chinese_sentences_with_chinese_stops(path):
    wide = help_text(path, 10_000)
    words = set(ASCII_WORD.findall(wide))
    for width in (50, 64, 80, 100):
        text = help_text(path, width)
        # Every ASCII word of a narrow help is one of the wide help's (servi / ce is not), unless it is longer
        # than a line could ever hold.
        # (a group's list of commands cuts a long summary short with click's "...")
        printed = {w.removesuffix("...") for w in ASCII_WORD.findall(text)} - {""}
        broken = {w for w in printed if w not in words} - {
            piece for w in words if len(w) > width - 30 for piece in ASCII_WORD.findall(w)}
        long_ones = [w for w in words if len(w) > width - 30]
        broken = {w for w in broken if not any(w in long for long in long_ones)}
        assert not broken, (path, width, broken)
    assert not re.search(r"[\u4e00-\u9fff）”》][.](?![\w.])", wide), path  # 。 after Chinese, not .
    assert not re.search(r"\b(DIRECTORY|DIR|PATH|FILE|TEXT|INTEGER)\b", wide), path


def test_summary_help_names_only_its_own_options():
    text = help_text(["summary"], 10_000)
    own = {opt for p in cli.commands["summary"].params for opt in getattr(p, "opts", [])}
    mentioned = set(re.findall(r"--[a-z][a-z-]+", text))
    assert mentioned <= own | {"--help"}, mentioned - own
