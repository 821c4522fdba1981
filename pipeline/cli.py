"""The command line: a thin click layer over the library. Tests call the library directly."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click

from pipeline import __version__
from pipeline.common import click_zh
from pipeline.common.errors import UserError

click_zh.install(click.Group())  # click's own messages in Chinese, before any command is built


class Commands(click.Group):
    """manyi's group: every command below it shows Chinese usage and value names (click_zh)."""

    def make_context(self, *args, **kwargs):
        click_zh.localise(self)  # commands added to the group anywhere in this module are covered too
        return super().make_context(*args, **kwargs)


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
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as exc:  # a bug of ours: say so plainly; MANYI_DEBUG=1 shows the traceback
            if os.environ.get("MANYI_DEBUG"):
                raise
            click.secho(f"内部错误：{type(exc).__name__}：{exc}。已写出的文件保持完整；"
                        f"请把这条信息和所用的文件告知技术支持（设置 MANYI_DEBUG=1 可查看详细信息）。", fg="red", err=True)
            sys.exit(3)

    return wrapper


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="manyi", message="%(prog)s，版本 %(version)s", help="显示版本号后退出。")
def cli():
    """manyi 满意 —— 用户满意工程申报材料：生成、解析校验、补正通知、证书。"""


_REGISTER_OPTION = click.option("--register", "register_path", type=click.Path(path_type=Path),
                                default=Path("output") / "register.db", show_default=True, help="证书登记簿文件")


_PROGRAM_OPTION = click.option("--program", help="项目编号（见 manyi programs），如 liaoning；默认黑龙江，或 --campaign 所属的项目")


def _campaign(program: str | None, campaign: Path | None):
    """Given --program and --campaign, return the Campaign (pipeline.definitions.programs.resolve_campaign)."""
    from pipeline.definitions.programs import resolve_campaign

    return resolve_campaign(program, campaign)


def _date_option(value: str | None):
    """Given a --deadline text (2017-06-30, 2017年6月30日 …), return the date, or None."""
    from datetime import date

    from pipeline.common.text import to_date

    if not value:
        return None
    try:
        return date.fromisoformat(str(to_date(value)))
    except ValueError:
        raise UserError(f"日期无法识别：{value}（请写作 YYYY-MM-DD）") from None


@cli.command()
@click.option("--records", "records_dir", required=True, type=click.Path(path_type=Path), help="manyi parse 写出的记录文件夹")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--pdf", is_flag=True, help="同时生成 PDF")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@click.option("--deadline", help="补正截止日期（默认通知日期加活动文件的 correction_days 天）")
@click.option("--date", "issue_on", help="通知落款日期 YYYY-MM-DD（默认：活动文件的 notice_date，未写则为今天）")
@_PROGRAM_OPTION
@friendly
def notices(records_dir, out, pdf, campaign, deadline, issue_on, program):
    """为每份有错误的申报写一份补正通知，并写出 notices.xlsx 发送清单。"""
    from pipeline.common.records import load_records
    from pipeline.definitions.campaign import issue_date, zh_date
    from pipeline.issuing.notices import make_notices

    chosen = _campaign(program, campaign)
    dated, origin = issue_date(chosen, "notices", _date_option(issue_on))
    result = make_notices(load_records(records_dir), out, chosen, pdf=pdf, today=dated,
                          deadline=_date_option(deadline))
    for problem in result.problems:
        click.secho(f"警告：{problem}", fg="yellow", err=True)
    click.echo(f"已写出 {len(result.files)} 份补正通知" + (f"、{len(result.pdfs)} 份 PDF" if pdf else "")
               + f"到 {out}（通知日期 {zh_date(dated)}，{origin}）；{result.without_errors} 份申报无需补正。")


@cli.command("summary-table")
@click.option("--records", "records_dir", required=True, type=click.Path(path_type=Path), help="manyi parse 写出的记录文件夹")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--include-incomplete", is_flag=True, help="材料不齐全的申报也列入")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认黑龙江 2017）")
@friendly
def summary_table(records_dir, out, include_incomplete, campaign):
    """按推进单位填写推荐汇总表。"""
    from pipeline.common.records import load_records
    from pipeline.definitions.campaign import load_campaign
    from pipeline.generating.summary_table import make_summary_tables

    result = make_summary_tables(load_records(records_dir), out, load_campaign(campaign), include_incomplete)
    for warning in result.warnings:
        click.secho(f"警告：{warning}", fg="yellow", err=True)
    click.echo(f"已写出 {len(result.files)} 份推荐汇总表到 {out}。")


@cli.command()
@click.option("--winners", required=True, type=click.Path(path_type=Path),
              help="获奖名单 .xlsx（企业名称或姓名/班组、类别，可选项目名称、等级）")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--pdf", is_flag=True, help="另生成一份包含全部证书的 PDF")
@_REGISTER_OPTION
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@click.option("--date", "issue_on", help="颁发日期 YYYY-MM-DD，有效期从这天算起（默认：活动文件的 award_date，未写则为今天）")
@_PROGRAM_OPTION
@friendly
def certificates(winners, out, pdf, register_path, campaign, issue_on, program):
    """为获奖名单中的每个单位（个人、班组）生成该项目的证书（称号、颁发单位、有效期）并登记编号。

    已撤销的证书不再打印；颁发当天就已过期的证书不予颁发；两种情况都会指出是名单的哪一行。
    """
    from pipeline.definitions.campaign import issue_date, zh_date
    from pipeline.issuing.certificates import make_certificates

    chosen = _campaign(program, campaign)
    dated, origin = issue_date(chosen, "certificates", _date_option(issue_on))
    result = make_certificates(winners, out, chosen, register_path, pdf=pdf, today=dated)
    for problem in result.problems:
        click.secho(f"警告：{problem}", fg="yellow", err=True)
    for entry in result.entries:
        click.echo(f"{entry.number}  {entry.company}" + (f"  {entry.project}" if entry.project else ""))
    click.echo(f"已生成 {len(result.files)} 张证书到 {out}" + (f"，PDF：{result.pdf}" if result.pdf else "")
               + f"；新颁发的证书日期为 {zh_date(dated)}（{origin}），有效期从这天算起"
               + (f"；另有 {len(result.problems)} 条警告（未打印的行及原因），见上" if result.problems else "") + "。")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path), metavar="收件箱…")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹（records/ 与 summary.xlsx）")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@click.option("--received", help="收到材料的日期 YYYY-MM-DD（晚于截止日期则提示）")
@click.option("--jobs", type=click.IntRange(1, 64), help="并行进程数（默认：CPU 核数）")
@click.option("--replace", is_flag=True, help="删除输出文件夹中不属于本次收件箱的旧记录（默认保留，并列入汇总表）")
@click.option("--wait", is_flag=True, help="输出文件夹正被另一次运行使用时，等它结束再开始（默认立即退出）")
@_PROGRAM_OPTION
@friendly
def parse(paths, out, campaign, received, jobs, replace, wait, program):
    """解析并校验收到的申报材料，写出 records/*.json 与 summary.xlsx。

    --program 决定所用的活动设置（如最低满意度）；材料须为黑龙江式申报表，其他项目由 manyi packet 生成的申报表、自评表暂不能解析。
    """
    from pipeline.parse import parse_inbox, terminal_progress

    progress, finish = terminal_progress()
    try:
        result = parse_inbox(list(paths), out, _campaign(program, campaign), _date_option(received), jobs, progress,
                             replace=replace, wait=wait, echo=lambda line: click.echo(line, err=True))
    finally:
        finish()
    for note in result.notes:
        click.secho(f"提示：{note}", fg="yellow", err=True)
    click.echo(result.line())


@cli.group()
def register():
    """证书登记簿：查验、列表、撤销、续期。"""


@register.command()
@click.argument("number", metavar="证书编号")
@_REGISTER_OPTION
@friendly
def verify(number, register_path):
    """查验证书编号：评选项目、持有单位（或获奖人、获奖班组）、称号、有效期、状态。未登记时退出码为 1。"""
    from pipeline.issuing import register as reg

    if not register_path.is_file():
        click.secho(f"证书登记簿不存在：{register_path}，无法查验证书编号 {number}。请用 --register 指定颁发证书时所用的登记簿文件"
                    f"（manyi certificates 的 --register；make demo 的登记簿在 output/demo/6-证书/register.db）",
                    fg="red", err=True)
        sys.exit(1)
    with reg.connect(register_path, create=False) as conn:
        entry = reg.lookup(conn, number)
    if entry is None:
        click.secho(f"查无此证：登记簿 {register_path} 中没有证书编号 {number}", fg="red", err=True)
        sys.exit(1)
    click.echo("\n".join(reg.describe(entry)))


@register.command("list")
@click.option("--campaign", "campaign_id", help="只列出此活动编号（如 heilongjiang-2017）")
@click.option("--program", "program_id", help="只列出此项目（如 liaoning，见 manyi programs）")
@click.option("--xlsx", type=click.Path(path_type=Path), help="另存为 Excel 工作簿")
@_REGISTER_OPTION
@friendly
def register_list(campaign_id, program_id, xlsx, register_path):
    """列出登记簿中的证书。"""
    from pipeline.definitions.programs import load_program
    from pipeline.issuing import register as reg

    program_id = load_program(program_id).id if program_id else None  # an unknown program: the valid ones
    with reg.connect(register_path, create=False) as conn:
        found = reg.entries(conn, campaign_id, program_id)
    for entry in found:
        click.echo("\t".join(map(str, reg.list_row(entry)[:8])))
    if xlsx:
        reg.save_list(found, xlsx)
    click.echo(f"共 {len(found)} 张证书" + (f"，已写入 {xlsx}" if xlsx else "") + "。")


@register.command()
@click.argument("number", metavar="证书编号")
@click.option("--reason", required=True, help="撤销原因")
@_REGISTER_OPTION
@friendly
def revoke(number, reason, register_path):
    """撤销证书（称号被取消时）。"""
    from pipeline.issuing import register as reg

    with reg.connect(register_path, create=False) as conn:
        entry = reg.revoke(conn, number, reason)
    click.echo(f"已撤销证书 {entry.number}（{entry.company}）：{entry.revoke_reason}")


@register.command()
@click.argument("number", metavar="证书编号")
@_REGISTER_OPTION
@friendly
def renew(number, register_path):
    """复评合格后续期：有效期从今天起重新计算。"""
    from pipeline.definitions.campaign import zh_date
    from pipeline.issuing import register as reg

    with reg.connect(register_path, create=False) as conn:
        entry = reg.renew(conn, number)
    click.echo(f"证书 {entry.number}（{entry.company}）已续期，有效期至 {zh_date(entry.valid_to)}")


@cli.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--category", default="all", show_default=True,
              help="申报类别：all，或该项目的类别编号（见 manyi programs）")
@_PROGRAM_OPTION
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@click.option("--roster", type=click.Path(path_type=Path), help="申报单位名单 .xlsx：每行生成一份预填的申报材料")
@click.option("--pdf", is_flag=True, help="同时生成 PDF（需要 LibreOffice）")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64), help="并行进程数")
@friendly
def packet(out, category, program, campaign, roster, pdf, jobs):
    """生成申报材料：每类一份空白材料，另有推荐汇总表、技术服务委托合同书；
    按名单（--roster）则每个单位一份预填材料和合同书，每个推进单位一份推荐汇总表。

    其他项目（--program）生成每类的申报表与申报条件自评表。
    """
    from pipeline.generating.packet import stderr_progress
    from pipeline.generating.program_forms import write_program_packet

    chosen = _campaign(program, campaign)
    progress, finish = stderr_progress()
    try:
        result = write_program_packet(out, category, chosen, roster, pdf=pdf, jobs=jobs, progress=progress)
    finally:
        finish()
    for problem in result.problems:
        click.secho(f"警告：{problem}", fg="yellow", err=True)
    click.echo(result.summary())


@cli.group()
def templates():
    """Word 模板：由 forms/ 重新生成，或检查在 Word 中修改过的模板。"""


@templates.command("build")
@click.option("--out", type=click.Path(path_type=Path), help="输出文件夹（默认 templates/）")
@friendly
def templates_build(out):
    """由 forms/ 中的表单描述重新生成全部表单模板（会覆盖在 Word 中做过的修改）。"""
    from pipeline.generating.layout import TEMPLATES_DIR, build_all

    paths = build_all(out or TEMPLATES_DIR)
    click.echo(f"已生成 {len(paths)} 个模板到 {out or TEMPLATES_DIR}。")


@templates.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path), metavar="[模板.docx]…")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认黑龙江 2017）")
@friendly
def templates_check(files, campaign):
    """检查模板：被 Word 拆开或写错的标记、活动文件中没有的变量、缺失的表单文字。有问题时退出码为 1。"""
    from pipeline.generating.templates_check import check_templates

    findings = check_templates(list(files) or None, campaign)
    for finding in findings:
        click.secho(str(finding), fg="red")
    if findings:
        click.echo(f"共发现 {len(findings)} 个问题。")
        sys.exit(1)
    click.echo("模板检查通过，没有发现问题。")


@cli.command()
@friendly
def programs():
    """列出全部评选项目：类别、等级与称号、有效期、条件数；项目文件有问题时一并指出。"""
    from pipeline.definitions.programs import all_programs, describe, validate_program

    found = all_programs()
    bad = 0
    for program in found:
        click.echo("\n".join(describe(program)))
        for problem in validate_program(program):
            bad += 1
            click.secho(f"  问题：{problem}", fg="red")
    click.echo(f"共 {len(found)} 个项目" + (f"，{bad} 个问题。" if bad else "，项目文件检查通过。"))
    if bad:
        sys.exit(1)


@cli.command()
@click.option("--program", required=True, help="项目编号（见 manyi programs），如 liaoning")
@click.option("--records", "records_dir", required=True, type=click.Path(path_type=Path), help="manyi parse 写出的记录文件夹")
@click.option("--facts", type=click.Path(path_type=Path), help="事实表 .xlsx（企业名称、信用等级、连续获得称号年数 …）")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出的筛选结果 .xlsx")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认为该项目的活动文件）")
@friendly
def screen(program, records_dir, facts, out, campaign):
    """按项目的申报条件逐条筛选申报记录，写出达到的等级与每条条件的结果。"""
    from pipeline.checking.screen import screen as run_screen

    result = run_screen(program, records_dir, out, facts, campaign)
    for warning in result.warnings:
        click.secho(f"警告：{warning}", fg="yellow", err=True)
    click.echo(result.summary())


@cli.command()
@click.option("--out", default=Path("output/demo"), show_default=True, type=click.Path(path_type=Path),
              help="输出文件夹（不会删除或改动其中已有的其他文件）")
@friendly
def demo(out):
    """用自带样例完整演示一遍：生成材料 → 解析校验 → 补正通知 → 推荐汇总表 → 证书。"""
    from pipeline.demo import run_demo

    run_demo(out, echo=click.echo)


def main():
    try:
        code = cli.main(prog_name="manyi", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("\n已取消。", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        exc.show()
        click.secho("命令或参数有误：请对照上面的说明修改；运行 manyi --help 或 manyi 命令 --help 查看用法。",
                    fg="red", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
