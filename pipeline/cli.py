"""The command line: a thin click layer over the library. Tests call the library directly."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from pipeline import __version__
from pipeline.errors import UserError


def friendly(fn):
    """Turn a UserError into a Chinese message and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            click.secho(f"错误：{exc}", fg="red", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("\n已中断。已写出的文件保持完整。", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="manyi")
def cli():
    """manyi 满意 —— 用户满意工程申报材料：生成、解析校验、补正通知、证书。"""


def main():
    cli(prog_name="manyi")
