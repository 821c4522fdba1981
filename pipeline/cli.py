"""The command line: a thin click layer over the library. Tests call the library directly."""

from __future__ import annotations

import functools
from contextlib import contextmanager
import os
import sys
from pathlib import Path

import click

from pipeline import __version__
from pipeline.common import click_zh
from pipeline.common.errors import UserError, os_error_message
from pipeline.common.zones import shown_time
from pipeline.definitions.vocabulary import Decision, IssueCode, Severity, Status, label_of

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
        except BrokenPipeError:
            # The reader stopped reading (`| head`): nothing is wrong; say nothing more on the closed pipe.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except (click.ClickException, click.exceptions.Exit, SystemExit):
            raise
        except Exception as exc:  # a file-system problem said in Chinese, else a bug of ours: said plainly
            said = os_error_message(exc) if isinstance(exc, OSError) else None
            if said is not None:
                click.secho(f"错误：{said}", fg="red", err=True)
                sys.exit(2)
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
                                help="证书登记簿文件（默认：该活动在本机数据文件夹中的登记簿，每个活动一个）")


_DATE_OVERRIDE = click.option("--date-override", "date_override", metavar="理由",
                               help="--date 不在活动年度内（或证书早于截止日期）时仍使用它，并写明理由（记入工作区操作记录）")


_WORKSPACE_OPTION = click.option("--workspace", "workspace_dir", type=click.Path(path_type=Path),
                                 help="工作区文件夹（manyi workspace init 建立），代替 --records")


def _default_user() -> str:
    import getpass

    return os.environ.get("MANYI_USER") or getpass.getuser()


_BY_OPTION = click.option("--by", default=_default_user, show_default="环境变量 MANYI_USER，或登录名",
                          help="操作人姓名（记入工作区的操作记录）")


def _records_or_workspace(records_dir, workspace_dir) -> str:
    """Given --records and --workspace, return which one was given; raise UserError unless exactly one."""
    if records_dir and workspace_dir:
        raise UserError("--records 与 --workspace 只能选一个")
    if not records_dir and not workspace_dir:
        raise UserError("请用 --records 指定记录文件夹，或用 --workspace 指定工作区")
    return "workspace" if workspace_dir else "records"


def _open_workspace(path: Path):
    from pipeline.workspace import Workspace

    return Workspace.open(path)


_PROGRAM_OPTION = click.option("--program", help="项目编号（见 manyi programs），如 liaoning；默认黑龙江，或 --campaign 所属的项目")


#: The program a command runs with when neither --program nor --campaign says (the seed's 黑龙江).
DEFAULT_PROGRAM = "heilongjiang"


def _campaign(program: str | None, campaign: Path | None):
    """Given --program and --campaign, return the Campaign (pipeline.definitions.programs.resolve_campaign);
    neither: the default program's campaign."""
    from pipeline.definitions.programs import resolve_campaign

    return resolve_campaign(program or (None if campaign else DEFAULT_PROGRAM), campaign)


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


@contextmanager
def _source(records_dir: Path | None, workspace_dir: Path | None, program: str | None, campaign: Path | None):
    """Given --records or --workspace (exactly one) and --program/--campaign, yield the action layer's source."""
    from pipeline.actions import RecordsSource, WorkspaceSource

    if _records_or_workspace(records_dir, workspace_dir) == "records":
        yield RecordsSource(Path(records_dir), _campaign(program, campaign))
        return
    if program or campaign:
        raise UserError("用 --workspace 时项目和活动文件由工作区决定：请去掉 --program / --campaign")
    with _open_workspace(workspace_dir) as ws:
        yield WorkspaceSource(ws)


@cli.command()
@click.option("--records", "records_dir", type=click.Path(path_type=Path), help="manyi parse 写出的记录文件夹")
@_WORKSPACE_OPTION
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--pdf", is_flag=True, help="同时生成 PDF")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@click.option("--deadline", help="补正截止日期（默认通知日期加活动文件的 correction_days 天）")
@click.option("--date", "issue_on", help="通知落款日期 YYYY-MM-DD（默认：活动文件的 notice_date，未写则为截止日期）")
@_DATE_OVERRIDE
@_PROGRAM_OPTION
@_BY_OPTION
@friendly
def notices(records_dir, workspace_dir, out, pdf, campaign, deadline, issue_on, date_override, program, by):
    """为每份有错误的申报写一份补正通知，并写出 notices.xlsx 发送清单。

    用 --workspace 时：只为最新版本有错误、且尚未就该版本发过通知的申报写通知，并登记通知编号、日期和所列问题。
    """
    from pipeline import actions
    from pipeline.definitions.campaign import zh_date

    with _source(records_dir, workspace_dir, program, campaign) as source:
        done = actions.notices(source, out, by, pdf=pdf, on=_date_option(issue_on), deadline=_date_option(deadline),
                               override=date_override)
    result = done.result
    for problem in result.problems:
        click.secho(f"警告：{problem}", fg="yellow", err=True)
    for row in done.recorded:
        click.echo(f"{row['number']}  {row['file']}")
    dated = f"（通知日期 {zh_date(done.dated.on)}，{done.dated.origin}）"
    if workspace_dir:
        click.echo(f"已写出并登记 {len(done.recorded)} 份补正通知到 {out}{dated}；"
                   f"{done.already_sent} 份申报的最新版本已发过通知。")
    else:
        click.echo(f"已写出 {len(result.files)} 份补正通知" + (f"、{len(result.pdfs)} 份 PDF" if pdf else "")
                   + f"到 {out}{dated}；{result.without_errors} 份申报无需补正。")


@cli.command("summary-table")
@click.option("--records", "records_dir", type=click.Path(path_type=Path), help="manyi parse 写出的记录文件夹")
@_WORKSPACE_OPTION
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--include-incomplete", is_flag=True, help="材料不齐全的申报也列入")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@_PROGRAM_OPTION
@friendly
def summary_table(records_dir, workspace_dir, out, include_incomplete, campaign, program):
    """按推进单位（推荐单位）填写推荐汇总表（--workspace：各申报的最新版本，已人工处理的问题不计）。"""
    from pipeline import actions

    with _source(records_dir, workspace_dir, program, campaign) as source:
        result = actions.summary_tables(source, out, include_incomplete)
    for warning in result.warnings:
        click.secho(f"警告：{warning}", fg="yellow", err=True)
    click.echo(f"已写出 {len(result.files)} 份推荐汇总表到 {out}。")


@cli.command()
@click.option("--winners", type=click.Path(path_type=Path),
              help="获奖名单 .xlsx（企业名称或姓名/班组、类别，可选项目名称、等级）")
@click.option("--records", "records_dir", type=click.Path(path_type=Path),
              help="与 --winners 一起用：本活动的申报记录（manyi parse 的输出），核对获奖者是否申报过、材料是否齐全")
@_WORKSPACE_OPTION
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--pdf", is_flag=True, help="另生成一份包含全部证书的 PDF")
@_REGISTER_OPTION
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@click.option("--date", "issue_on", help="颁发日期 YYYY-MM-DD，有效期从这天算起（默认：活动文件的 award_date，未写则为截止日期后 30 天）")
@_DATE_OVERRIDE
@click.option("--allow", "allow", multiple=True, metavar="行号或编号:理由",
              help="放行一行被评选规则拒绝的获奖者（获奖名单的行号，或工作区的申报编号），理由记入登记簿和操作记录；可重复")
@_PROGRAM_OPTION
@_BY_OPTION
@friendly
def certificates(winners, records_dir, workspace_dir, out, pdf, register_path, campaign, issue_on, date_override,
                 allow, program, by):
    """为获奖名单中的每个单位（个人、班组）生成该项目的证书（称号、颁发单位、有效期）并登记编号。

    获奖者须符合项目规则：是本活动的申报者（--records 或 --workspace）、最新材料齐全（或错误已逐项人工处理）、
    每个企业只能申报一项的项目一企一项、不超过每年名额；不符合的行写明行号和条款，不予颁发，命令以非零状态结束，
    确需颁发的用 --allow 行号:理由 放行。
    已撤销的证书不再打印；颁发当天就已过期的证书不予颁发；两种情况都会指出是名单的哪一行。
    用 --workspace 时：获奖单位为处于获奖阶段的申报，证书登记在工作区的数据库内（manyi register … --workspace 文件夹 查验）。
    """
    from pipeline import actions
    from pipeline.definitions.campaign import zh_date
    from pipeline.issuing.winners import parse_allow

    if winners and workspace_dir:
        raise UserError("--winners 与 --workspace 只能选一个")
    if records_dir and not winners:
        raise UserError("--records 只与 --winners 一起用（核对获奖名单）")
    on, allowed = _date_option(issue_on), parse_allow(allow)
    if workspace_dir:
        with _source(None, workspace_dir, program, campaign) as source:
            done = actions.certificates(source, out, by, pdf=pdf, on=on, override=date_override, allow=allowed)
    else:
        if not winners:
            raise UserError("请用 --winners 指定获奖名单，或用 --workspace 指定工作区")
        chosen = _campaign(program, campaign)
        source = actions.RecordsSource(Path(records_dir), chosen) if records_dir else chosen
        done = actions.certificates(source, out, by, pdf=pdf, on=on, winners=winners,
                                    register=register_path, override=date_override, allow=allowed)
    result, dated, origin = done.result, done.dated.on, done.dated.origin
    for problem in result.problems:
        click.secho(f"警告：{problem}", fg="yellow", err=True)
    for entry in result.entries:
        click.echo(f"{entry.number}  {entry.company}" + (f"  {entry.project}" if entry.project else ""))
    click.echo(f"已生成 {len(result.files)} 张证书到 {out}" + (f"，PDF：{result.pdf}" if result.pdf else "")
               + f"；新颁发的证书日期为 {zh_date(dated)}（{origin}），有效期从这天算起"
               + (f"；另有 {len(result.problems)} 条警告（未打印的行及原因），见上" if result.problems else "")
               + (f"；登记簿：{done.register}" if done.register else "") + "。")
    for allowed_row in result.allowed:
        click.echo(f"已放行 {allowed_row['key']}（{allowed_row['company']}）：{allowed_row['rule']}；理由：{allowed_row['reason']}")
    if result.skipped:
        click.secho(f"有 {result.skipped} 行未颁发证书（原因见上）：请改正获奖名单，或用 --allow 行号:理由 放行", fg="red", err=True)
        sys.exit(1)


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

    --program 决定所用的项目：它的申报表（manyi packet --program 生成的各表）、活动设置和申报条件。
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
    """证书登记簿：查验、列表、撤销、续期（--register 登记簿文件，或 --workspace 工作区）。"""


_REGISTER_WORKSPACE = click.option("--workspace", "workspace_dir", type=click.Path(path_type=Path),
                                   help="工作区文件夹：用工作区内的登记簿（manyi certificates --workspace 颁发的证书）")


def _register_file(register_path: Path | None, number: str | None = None) -> Path:
    """Given --register (or None) and the number asked about, return the register file: --register, else the one
    register of the index (in the data folder) that holds the number, or the only one it lists."""
    from pipeline.issuing import register as reg

    if register_path:
        return Path(register_path)
    known = reg.indexed_registers()
    if number:
        for path in known:
            with reg.connect(path, create=False, write=False) as conn:
                if reg.lookup(conn, number):
                    return path
    if len(known) == 1:
        return known[0]
    listed = "；".join(map(str, known)) or "（本机尚无登记簿）"
    raise UserError(f"请用 --register 指定登记簿文件，或用 --workspace 指定工作区。本机的登记簿：{listed}")


@contextmanager
def _register_of(register_path: Path | None, workspace_dir: Path | None, write: bool = True,
                 number: str | None = None):
    """Yield (connection, where) to the register of --workspace, else of the --register file (which must exist;
    without --register, the data folder's register holding `number`)."""
    from pipeline.issuing import register as reg

    if workspace_dir:
        with _open_workspace(workspace_dir) as ws, reg.connect(ws.engine if write else ws.reader, write=write) as conn:
            yield conn, f"工作区 {workspace_dir}"
        return
    register_path = _register_file(register_path, number)
    if not register_path.is_file():
        raise UserError(f"证书登记簿不存在：{register_path}。请用 --register 指定颁发证书时所用的登记簿文件"
                        f"（manyi certificates 的 --register；make demo 的登记簿在 output/demo/6-证书/register.db），"
                        f"或用 --workspace 指定工作区")
    with reg.connect(register_path, create=False, write=write) as conn:
        yield conn, f"登记簿 {register_path}"


@register.command()
@click.argument("number", metavar="证书编号", required=False)
@click.option("--code", help="证书上印的校验码：与编号一起查验证书真伪（与公开查验页的答复相同）")
@click.option("--pdf", "pdf_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="查验带数字签名的证书 PDF：签名、文件未被改动，以及登记簿中该编号的现状")
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@friendly
def verify(number, code, pdf_path, register_path, workspace_dir):
    """查验证书编号：评选项目、持有单位（或获奖人、获奖班组）、称号、有效期、状态。未登记时退出码为 1。

    加 --code 时只有编号和校验码都相符才答复；--pdf 查验证书 PDF 的签名。不通过时退出码为 1。
    """
    from pipeline.issuing import register as reg

    if pdf_path:
        _verify_pdf(pdf_path, register_path, workspace_dir)
        return
    if not number:
        raise UserError("请写出证书编号，或用 --pdf 指定证书 PDF")
    try:
        with _register_of(register_path, workspace_dir, write=False, number=number) as (conn, where):
            entry = reg.lookup(conn, number)
            checked = reg.check(conn, number, code) if code is not None else None
    except UserError as exc:
        click.secho(f"{exc}；无法查验证书编号 {number}", fg="red", err=True)
        sys.exit(1)
    if code is not None:
        if checked is None:
            click.secho(f"查无此证：{where} 中没有编号与校验码都相符的证书", fg="red", err=True)
            sys.exit(1)
        click.echo("\n".join(f"{label}：{value}" for label, value in reg.public_lines(checked)))
        return
    if entry is None:
        click.secho(f"查无此证：{where} 中没有证书编号 {number}", fg="red", err=True)
        sys.exit(1)
    click.echo("\n".join(reg.describe(entry)))
    with _register_of(register_path, workspace_dir, write=False, number=number) as (conn, _where):
        events = reg.history(conn, entry.number)
    click.echo("历　　史：")
    click.echo("\n".join(f"  {line}" for line in reg.history_lines(events)))


def _within(value: str):
    """Given --within (90d, 90, 3m, 1y), return the window as a timedelta."""
    import re
    from datetime import timedelta

    found = re.fullmatch(r"\s*(\d+)\s*([dmy天月年]?)\s*", value or "")
    if not found:
        raise UserError(f"期限无法识别：{value}（请写作 90d、3m 或 1y）")
    days = {"": 1, "d": 1, "天": 1, "m": 30, "月": 30, "y": 365, "年": 365}[found[2]]
    return timedelta(days=int(found[1]) * days)


_WITHIN = click.option("--within", default="90d", show_default=True, help="期限：有效期在此期限内届满（90d、3m、1y）")
_AS_OF = click.option("--as-of", "as_of", help="从这天算起（YYYY-MM-DD，默认今天）")


@register.command()
@_WITHIN
@_AS_OF
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@friendly
def expiring(within, as_of, register_path, workspace_dir):
    """列出有效期即将届满（需复评）的称号。"""
    from datetime import date

    from pipeline.definitions.campaign import zh_date
    from pipeline.issuing import register as reg

    today = _date_option(as_of) or date.today()
    with _register_of(register_path, workspace_dir, write=False) as (conn, _where):
        due = reg.expiring(conn, today, _within(within))
        lapsed = reg.lapsed_note(conn, today, _within(within))
    click.echo("\t".join(("证书编号", "持有单位", "称号", "有效期至", "剩余天数")))
    for e in due:
        click.echo("\t".join((e.number, e.company, e.title, zh_date(e.valid_to), str((e.valid_to - today).days))))
    click.echo(f"共 {len(due)} 个称号的有效期在 {zh_date(today)} 起 {_within(within).days} 天内届满，需复评。")
    if lapsed:
        click.echo(f"提示：{lapsed}")


@cli.group()
def renewals():
    """复评：有效期届满的称号。"""


@renewals.command("letters")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@_WITHIN
@_AS_OF
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@_PROGRAM_OPTION
@click.option("--campaign", type=click.Path(path_type=Path), help="落款的活动文件（协会名称、地址、电话）")
@friendly
def renewal_letters(out, within, as_of, register_path, workspace_dir, program, campaign):
    """为每个有效期即将届满的称号写一份复评通知（.docx）。"""
    from datetime import date

    from pipeline import actions

    today = _date_option(as_of) or date.today()
    if workspace_dir:
        with _open_workspace(workspace_dir) as ws:
            signer = ws.campaign
    else:
        signer = _campaign(program, campaign)
    with _register_of(register_path, workspace_dir, write=False) as (conn, _where):
        done = actions.renewal_letters(conn, out, signer, today, _within(within))
    for path in done.files:
        click.echo(str(path))
    click.echo(f"已写出 {len(done.files)} 份复评通知到 {out}。")


@renewals.command("roster")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出的名单 .xlsx")
@_WITHIN
@_AS_OF
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@friendly
def renewal_roster(out, within, as_of, register_path, workspace_dir):
    """写出有效期即将届满、需复评的称号持有单位名单（.xlsx）：复评活动由它开始
    （manyi packet --roster 名单 生成预填的申报材料）。"""
    from datetime import date

    from pipeline import actions

    today = _date_option(as_of) or date.today()
    with _register_of(register_path, workspace_dir, write=False) as (conn, _where):
        due, path = actions.renewal_roster(conn, out, today, _within(within))
    click.echo(f"已写出 {len(due)} 个需复评的称号到 {path}（第一张表为申报名单：manyi packet --roster {path} --out 文件夹）。")


def _keys_of(register_path: Path, workspace_dir: Path | None) -> Path:
    """Given --register and --workspace, return the folder of the association's keys."""
    from pipeline.issuing.signing import keys_folder_of

    return keys_folder_of(workspace=workspace_dir) if workspace_dir else keys_folder_of(_register_file(register_path))


def _verify_pdf(pdf_path: Path, register_path: Path, workspace_dir: Path | None) -> None:
    """Check a certificate PDF's signature and its number's status in the register; exit 1 when it fails."""
    from pipeline.issuing import register as reg
    from pipeline.issuing.signing import verify_pdf

    result = verify_pdf(pdf_path, _keys_of(register_path, workspace_dir))
    if result.problems:
        click.secho(f"查验未通过：{pdf_path.name}：" + "；".join(result.problems), fg="red", err=True)
        sys.exit(1)
    with _register_of(register_path, workspace_dir, write=False, number=result.number) as (conn, where):
        entry = reg.lookup(conn, result.number)
    if entry is None:
        click.secho(f"签名完好，但 {where} 中没有证书编号 {result.number}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"签名有效：{pdf_path.name} 由本协会签发，签名后未被改动。")
    click.echo("\n".join(reg.describe(entry)))
    if entry.state() != "valid":
        sys.exit(1)


@register.group()
def ca():
    """证书 PDF 的数字签名：协会的根证书与签名密钥。"""


@ca.command("init")
@click.option("--name", "organisation", help="协会名称（默认：工作区活动文件中的协会名称）")
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@friendly
def ca_init(organisation, register_path, workspace_dir):
    """创建协会的根证书和签名密钥（保存在工作区的 keys 文件夹，或登记簿旁的 …-keys 文件夹）。

    之后 manyi certificates --pdf 为每张证书另生成一份带数字签名的 PDF。把根证书 ca.pem 安装到
    Adobe Reader（编辑 → 首选项 → 签名 → 身份与可信证书 → 可信证书 → 导入）或 WPS 后，
    阅读器即显示签名有效。私钥文件（*-key.pem）不要外传，工作区导出时也不包含它们。
    """
    from pipeline.issuing.signing import init_ca

    if workspace_dir:
        with _open_workspace(workspace_dir) as ws:
            organisation = organisation or ws.campaign.association["name"]
    if not organisation:
        raise UserError("请用 --name 写明协会名称")
    root = init_ca(_keys_of(register_path, workspace_dir), organisation)
    click.echo(f"已创建根证书 {root} 和签名密钥（同一文件夹）。请把 {root.name} 安装到 PDF 阅读器的可信证书中。")


@register.command("list")
@click.option("--campaign", "campaign_id", help="只列出此活动编号（如 heilongjiang-2017）")
@click.option("--program", "program_id", help="只列出此项目（如 liaoning，见 manyi programs）")
@click.option("--xlsx", type=click.Path(path_type=Path), help="另存为 Excel 工作簿")
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@friendly
def register_list(campaign_id, program_id, xlsx, register_path, workspace_dir):
    """列出登记簿中的证书。"""
    from pipeline.definitions.programs import load_program
    from pipeline.issuing import register as reg

    program_id = load_program(program_id).id if program_id else None  # an unknown program: the valid ones
    with _register_of(register_path, workspace_dir, write=False) as (conn, _where):
        found = reg.entries(conn, campaign_id, program_id)
    for entry in found:
        click.echo("\t".join(map(str, reg.list_row(entry)[:8])))
    if xlsx:
        reg.save_list(found, xlsx)
    click.echo(f"共 {len(found)} 张证书" + (f"，已写入 {xlsx}" if xlsx else "") + "。")


@register.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="写出的名录 .xlsx，如 名录.xlsx")
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@friendly
def publish(out, register_path, workspace_dir):
    """写出可以公开的证书名录：持有单位（获奖人）、项目、称号、类别、年份、有效期、状态；不含证书编号和任何联系信息。

    查验服务器（manyi serve --verify-only）上的 /verify/register 页面显示同样的名录。
    """
    from pipeline.issuing import register as reg

    if Path(out).suffix.lower() != ".xlsx":
        raise UserError(f"名录文件应以 .xlsx 结尾：{out}")
    with _register_of(register_path, workspace_dir, write=False) as (conn, _where):
        rows = reg.public_register(conn)
    reg.save_public(rows, out)
    click.echo(f"已写出证书名录 {out}：{len(rows)} 张证书。")


def _change_certificate(action: str, number: str, reason: str, register_path, workspace_dir, on, by):
    """Revoke or renew a certificate in --workspace (recorded with --by) or the --register file; return its entry."""
    from pipeline.issuing import register as reg

    day = _date_option(on)
    if workspace_dir:
        from pipeline.workspace.outputs import register_change

        with _open_workspace(workspace_dir) as ws:
            return register_change(ws, number, action, by, reason, day)
    with _register_of(register_path, None, number=number) as (conn, _where):
        return reg.change(conn, number, action, reason, day)


_CHANGE_DATE = click.option("--date", "on", help="日期 YYYY-MM-DD（默认：今天）")


@register.command()
@click.argument("number", metavar="证书编号")
@click.option("--reason", required=True, help="撤销原因")
@_CHANGE_DATE
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@_BY_OPTION
@friendly
def revoke(number, reason, on, register_path, workspace_dir, by):
    """撤销证书（称号被取消时）。"""
    entry = _change_certificate("revoke", number, reason, register_path, workspace_dir, on, by)
    click.echo(f"已撤销证书 {entry.number}（{entry.company}）：{entry.revoke_reason}")


@register.command()
@click.argument("number", metavar="证书编号")
@click.option("--date", "on", help="复评合格、新有效期开始的日期 YYYY-MM-DD（默认：今天）")
@click.option("--print", "print_to", type=click.Path(path_type=Path), metavar="文件夹",
              help="同时换发新证书：按新有效期重新打印到该文件夹（新校验码），登记簿记下换发")
@click.option("--campaign", type=click.Path(path_type=Path), help="与 --print 一起用：证书所属活动的活动文件（默认：该项目的活动文件）")
@_REGISTER_OPTION
@_REGISTER_WORKSPACE
@_BY_OPTION
@friendly
def renew(number, on, print_to, campaign, register_path, workspace_dir, by):
    """复评合格后续期：有效期从复评合格之日（--date，默认今天）起重新计算；加 --print 文件夹 换发新证书。"""
    from pipeline import actions
    from pipeline.definitions.campaign import load_campaign, zh_date

    day = _date_option(on)
    chosen = load_campaign(campaign) if campaign else None
    if workspace_dir:
        with _open_workspace(workspace_dir) as ws:
            done = actions.renew(number, by, day, ws=ws, out=print_to)
    else:
        path = _register_file(register_path, number)
        if not path.is_file():
            raise UserError(f"证书登记簿不存在：{path}。请用 --register 指定颁发证书时所用的登记簿文件，或用 --workspace 指定工作区")
        done = actions.renew(number, by, day, register=path, out=print_to, campaign=chosen)
    entry = done.entry
    click.echo(f"证书 {entry.number}（{entry.company}）已续期，有效期自 {zh_date(entry.valid_from)} 至 {zh_date(entry.valid_to)}")
    if done.reissued:
        for path in done.reissued.files:
            click.echo(f"已换发新证书：{path}（校验码 {entry.check_code}）")


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
    from pipeline import actions
    from pipeline.generating.packet import stderr_progress

    chosen = _campaign(program, campaign)
    progress, finish = stderr_progress()
    try:
        result = actions.packets(chosen, out, category, roster, pdf=pdf, jobs=jobs, progress=progress)
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
    from pipeline.word import TEMPLATES_DIR
    from pipeline.word.build import build_all

    paths = build_all(out or TEMPLATES_DIR)
    click.echo(f"已生成 {len(paths)} 个模板到 {out or TEMPLATES_DIR}。")


@templates.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path), metavar="[模板.docx]…")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认：--program 项目的活动文件，未指定项目时为黑龙江 2017）")
@_PROGRAM_OPTION
@friendly
def templates_check(files, campaign, program):
    """检查模板：被 Word 拆开或写错的标记、活动文件中没有的变量、缺失的表单文字。有问题时退出码为 1。"""
    from pipeline.word.templates_check import check_templates

    findings = check_templates(list(files) or None, _campaign(program, campaign))
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
    if not found:
        from pipeline.definitions.forms import PROGRAMS_DIR

        click.secho(f"错误：没有找到任何评选项目（{PROGRAMS_DIR} 中没有项目文件）：manyi 的安装不完整，请重新安装。",
                    fg="red", err=True)
        sys.exit(1)
    click.echo(f"共 {len(found)} 个项目" + (f"，{bad} 个问题。" if bad else "，项目文件检查通过。"))
    if bad:
        sys.exit(1)


@cli.command()
@click.option("--program", help="项目编号（见 manyi programs），如 liaoning；默认黑龙江，或 --campaign 所属的项目"
                               "（用 --workspace 时为工作区的项目）")
@click.option("--records", "records_dir", type=click.Path(path_type=Path), help="manyi parse 写出的记录文件夹")
@_WORKSPACE_OPTION
@click.option("--facts", type=click.Path(path_type=Path), help="事实表 .xlsx（企业名称、信用等级、连续获得称号年数 …）")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出的筛选结果 .xlsx")
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（默认为该项目的活动文件）")
@click.option("--history", multiple=True, type=click.Path(path_type=Path), metavar="工作区或登记簿",
              help="以往年度的登记簿：工作区文件夹、登记簿文件，或 manyi register list --xlsx 导出的工作簿；"
                   "连续获得称号、因虚假材料被撤销称号等条件按它核实（来源列写明哪本登记簿）；可重复")
@friendly
def screen(program, records_dir, workspace_dir, facts, out, campaign, history):
    """按项目的申报条件逐条筛选申报记录，写出达到的等级与每条条件的结果。

    取决于以往年度的条件（连续获得称号、五年内因虚假材料被撤销称号）只按 --history 给出的登记簿核实；
    没有登记簿时，申请人自称符合的这类条件为“待核实”。
    """
    from pipeline import actions

    if workspace_dir and program:  # the workspace's own program; a different one is a mistake worth saying
        with _open_workspace(workspace_dir) as ws:
            if ws.program.id != program:
                raise UserError(f"工作区属于项目“{ws.program.id}”，与 --program {program} 不一致")
        program = None
    with _source(records_dir, workspace_dir, program, campaign) as source:
        result = actions.screen(source, out, facts, history=list(history))
    for warning in result.warnings:
        click.secho(f"警告：{warning}", fg="yellow", err=True)
    click.echo(result.summary())


# --- the campaign workspace ------------------------------------------------------------------------


@cli.group()
def workspace():
    """活动工作区：一个活动的全部申报、版本、处理意见集中保存。"""


@workspace.command("init")
@click.argument("dir", type=click.Path(path_type=Path))
@_PROGRAM_OPTION
@click.option("--campaign", type=click.Path(path_type=Path), help="活动文件（复制一份到工作区，之后可改工作区内的 campaign.yaml）")
@click.option("--db", "db_url", help="数据库地址（默认工作区内的 SQLite 文件；如 postgresql+psycopg://用户:密码@主机/库名）")
@_BY_OPTION
@friendly
def workspace_init(dir, program, campaign, db_url, by):
    """新建活动工作区：数据库、收到文件的存档、活动文件副本。"""
    from pipeline.workspace import Workspace

    with Workspace.init(dir, _campaign(program, campaign), db_url, by=by) as ws:
        click.echo(f"已建立工作区 {dir}：{ws.program.name}，活动 {ws.campaign.id}；阶段：{' → '.join(ws.flow.names())}")


@workspace.command("export")
@click.argument("dir", type=click.Path(path_type=Path))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--with-secrets", "--with-key", "with_secrets", is_flag=True,
              help="连同协会的密钥（校验码密钥、根证书与签名私钥）、申报链接密钥（portal.key）和邮箱密码（mail.secret）"
                   "一起导出；默认不导出，导出文件交给他人时不要加")
@friendly
def workspace_export(dir, file, with_secrets):
    """把整个活动（数据库、收到的文件、活动文件、证书登记簿、邀请链接与邮件记录）导出为一个 .zip。

    协会的密钥和密码默认不导出；迁移到新电脑并要继续颁发、签名证书和发邮件时加 --with-secrets，并妥善保管该导出文件。
    """
    from pipeline.workspace.transfer import export

    with _open_workspace(dir) as ws:
        manifest = export(ws, file, secrets=with_secrets)
    links = manifest["rows"].get("invitations", 0)
    click.echo(f"已导出到 {file}：{manifest['rows']['applicants']} 家申报、{manifest['rows']['versions']} 个版本、"
               f"{manifest['files']} 个文件" + (f"、{links} 条邀请链接" if links else "")
               + (f"；含协会密钥和密码（{'、'.join(manifest['secrets'])}），请妥善保管此文件。" if manifest["secrets"]
                  else "；未包含协会的密钥和密码（迁移时需要请加 --with-secrets）。"))


@workspace.command("import")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@click.argument("dir", type=click.Path(path_type=Path), metavar="文件夹")
@click.option("--db", "db_url", help="数据库地址（默认新工作区内的 SQLite 文件）")
@friendly
def workspace_import(file, dir, db_url):
    """把 manyi workspace export 导出的 .zip 导入为新的工作区（文件夹须为新的或空的）。"""
    from pipeline.workspace.transfer import import_

    with import_(file, dir, db_url) as ws:
        total = sum(ws.stage_counts().values())
    click.echo(f"已导入到 {dir}：{total} 家申报。")


@cli.command()
@click.argument("dir", type=click.Path(path_type=Path))
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--received", help="收到材料的日期 YYYY-MM-DD（晚于截止日期则提示）")
@click.option("--jobs", type=click.IntRange(1, 64), help="并行进程数（默认：CPU 核数）")
@click.option("--no-wait", is_flag=True, help="工作区正在接收另一批时不等待，直接退出")
@friendly
def receive(dir, paths, received, jobs, no_wait):
    """把收件箱中的每份申报存为工作区中申报单位的一个版本，解析并校验；与已存版本完全相同的不再解析。"""
    from pipeline.parse import terminal_progress
    from pipeline.workspace.receive import receive as run_receive

    bar, finish = terminal_progress("接收申报材料")
    progress = (lambda phase, done, total: bar(done, total) if phase == "parse" else None) if bar else None
    with _open_workspace(dir) as ws:
        try:
            result = run_receive(ws, list(paths), _date_option(received), jobs, progress, wait=not no_wait)
        finally:
            finish()
        for item in result.stored:
            if item.seq > 1:
                detail = ws.applicant(item.applicant_id)
                from pipeline.workspace.compare import comparison_lines, field_namer

                comparison = detail.versions[-1].comparison
                if comparison:
                    named = field_namer(ws.program, detail.record, ws.campaign)
                    click.echo(f"{item.company_name}（第 {item.seq} 版）："
                               + "\n".join(comparison_lines(comparison, named)))
    click.echo(result.line())


@cli.command()
@click.argument("dir", type=click.Path(path_type=Path))
@friendly
def status(dir):
    """工作区概况：各阶段的申报数，以及在等谁处理。"""
    from pipeline.workspace.outputs import status_lines

    with _open_workspace(dir) as ws:
        click.echo("\n".join(status_lines(ws)))


@cli.command("list")
@click.argument("dir", type=click.Path(path_type=Path))
@click.option("--stage", help="只列出此阶段")
@click.option("--category", help="只列出此类别（enterprise/product/construction/service …）")
@click.option("--status", "status_", type=click.Choice([s.label for s in Status] + [s.value for s in Status]),
              metavar="状态", help="只列出此状态：" + "或".join(s.label for s in Status))
@click.option("--unit", help="只列出此推进单位")
@click.option("--search", help="企业名称中包含的文字")
@friendly
def list_applicants(dir, stage, category, status_, unit, search):
    """列出工作区中的申报（编号、企业名称、类别、阶段、状态、版本数）。"""
    from pipeline.definitions.programs import program_of

    with _open_workspace(dir) as ws:
        names = program_of(ws.campaign).category_names()
        status_ = {s.label: s.value for s in Status}.get(status_, status_)  # 需补正 as typed, or the word of a script
        page = ws.applicants(category=category, stage=stage, status=status_, unit=unit, search=search, limit=None)
    for row in page.items:
        click.echo(f"{row.id}\t{row.company_name or '（未识别企业名称）'}\t{names.get(row.category, row.category or '')}\t"
                   f"{row.stage}\t{Severity.ERROR.label} {row.errors}\t{Severity.WARNING.label} {row.warnings}\t"
                   f"{row.version_count} 版")
    click.echo(f"共 {page.total} 家。")


@cli.command()
@click.argument("dir", type=click.Path(path_type=Path))
@click.argument("applicant")
@friendly
def show(dir, applicant):
    """显示一家申报：最新版本的问题、人工处理、各版本对比、阶段记录、补正通知。"""
    from pipeline.workspace.compare import comparison_lines, field_namer, issue_name

    with _open_workspace(dir) as ws:
        d = ws.applicant(ws.find(applicant))
        zone, named = ws.zone, field_namer(ws.program, d.record, ws.campaign)
    click.echo(f"{d.id} {d.row.company_name}  阶段：{d.row.stage}（之后可到：{'、'.join(d.next_stages) or '无'}）")
    click.echo(f"未处理的问题 {len(d.open_issues)} 项（manyi confirm 用这里的编号或问题名称指明一项）：")
    for n, i in enumerate(d.open_issues, 1):
        click.echo(f"  {n}. [{label_of(Severity, i['severity'])}] {issue_name(i, named)}：{i['message']}")
    if d.decided_issues:
        click.echo(f"已处理的问题 {len(d.decided_issues)} 项（manyi undo 用这里的编号撤销处理）：")
    for n, i in enumerate(d.decided_issues, 1):
        carried = "，沿用上一版的处理" if i.get("carried_from") else ""
        click.echo(f"  {n}. [已{i['decision_zh']}] {issue_name(i, named)}：{i['message']} —— {i['note'] or ''}"
                   f"（{i['by']}，{shown_time(i['at'], zone)}{carried}）")
    for v in d.versions:
        stored = shown_time(v.received_at, zone)  # the received date is the one staff gave, else the day it was stored
        click.echo(f"第 {v.seq} 版：{v.source}，收件日期 {v.received_on or stored[:10]}，存入于 {stored}，"
                   f"{len(v.files)} 个文件")
        if v.comparison:
            click.echo("\n".join("  " + line for line in comparison_lines(v.comparison, named)))
    for m in d.moves:
        click.echo(f"阶段：{m['from_stage'] or '—'} → {m['to_stage']}（{m['by']}，{shown_time(m['at'], zone)}）{m['note'] or ''}")
    for n in d.notices:
        click.echo(f"补正通知 {n['number']}（{n['date']}）：{len(n['items'])} 项")
    for o in (x for x in d.decisions if x["kind"] == Decision.OPINION):
        click.echo(f"{Decision.OPINION.label}：{o['note']}（{o['by']}，{shown_time(o['at'], zone)}）")


@cli.command()
@click.argument("dir", type=click.Path(path_type=Path))
@click.argument("applicants", nargs=-1, required=True)
@click.option("--to", "to_stage", required=True, help="移到的阶段（须为项目允许的下一阶段）")
@click.option("--note", help="说明（移到“不符合条件”时写明不符合的条款）")
@click.option("--date", "on", help="移动的日期 YYYY-MM-DD（默认：今天），如 2021-10-13")
@_BY_OPTION
@friendly
def stage(dir, applicants, to_stage, note, on, by):
    """把一家或几家申报移到下一阶段（如 manyi stage 工作区 华光公司 北方家电 --to 已推荐）。只允许项目规定的阶段变化。

    有未处理错误的申报不能进入“材料齐全”及之后的阶段；公示期未满不能进入下一阶段；任何未结束的阶段都可移到
    “撤回”或“不符合条件”（说明中写明条款）。
    所有申报名称先逐一核对，有一个找不到或不唯一就一个也不移动；之后逐家移动，不允许的移动会指出并停止。
    """
    with _open_workspace(dir) as ws:
        ids = [ws.find(name) for name in applicants]
        for applicant_id in ids:
            src = ws.move(applicant_id, to_stage, by, note, _date_option(on))
            click.echo(f"{ws.applicant(applicant_id).row.company_name}：{src} → {to_stage}")


@cli.command()
@click.argument("dir", type=click.Path(path_type=Path))
@click.argument("applicant")
@click.argument("code", metavar="问题")
@click.option("--note", required=True, help="处理说明，如 测评报告已人工核对")
@click.option("--waive", is_flag=True, help=f"{Decision.WAIVE.label}（默认：{Decision.CONFIRM.label}，即接受此项、按现状处理）")
@click.option("--form", hidden=True, help="问题所在的表（供脚本用；一般用 manyi show 列出的编号）")
@click.option("--field", hidden=True, help="问题所在的栏目（供脚本用）")
@_BY_OPTION
@friendly
def confirm(dir, applicant, code, note, waive, form, field, by):
    """人工处理最新版本的一个问题：问题写 manyi show 列出的编号或问题名称（如 manyi confirm 工作区 华光公司 2
    --note 测评报告已人工核对）。加 --waive 为豁免（须写明理由）。"""
    from pipeline.workspace.compare import field_namer, issue_name

    with _open_workspace(dir) as ws:
        applicant_id = ws.find(applicant)
        decision = Decision.WAIVE if waive else Decision.CONFIRM
        issue = ws.decide(applicant_id, code, decision, note, by, form, field)
        detail = ws.applicant(applicant_id)
        named = field_namer(ws.program, detail.record, ws.campaign)
    row = detail.row
    click.echo(f"{row.company_name}：已{decision.label}“{issue_name(issue, named)}”；现在阶段 {row.stage}，"
               f"未处理的{Severity.ERROR.label} {row.errors} 项。")


@cli.command()
@click.argument("dir", type=click.Path(path_type=Path))
@click.argument("applicant")
@click.argument("code", metavar="问题")
@click.option("--note", help="撤销的原因（记入操作记录）")
@_BY_OPTION
@friendly
def undo(dir, applicant, code, note, by):
    """撤销对最新版本一个问题的人工处理（确认或豁免），该问题重新算作未处理：问题写 manyi show 中“已处理”一行
    的编号或问题名称。"""
    from pipeline.workspace.compare import field_namer, issue_asked, issue_name, pick_issues

    with _open_workspace(dir) as ws:
        applicant_id = ws.find(applicant)
        detail = ws.applicant(applicant_id)
        named = field_namer(ws.program, detail.record, ws.campaign)
        found = pick_issues(detail.decided_issues, code)
        if len(found) != 1:
            listed = "；".join(f"{n}. {issue_name(i, named)}" for n, i in enumerate(detail.decided_issues, 1)) or "无"
            raise UserError(f"{'有多项' if found else '没有'}已处理的问题“{issue_asked(code)}”"
                            f"{'，请用编号指明' if found else ''}。已处理的问题：{listed}")
        ws.undo(applicant_id, found[0]["decision_id"], by, note)
        row = ws.applicant(applicant_id).row
    click.echo(f"{row.company_name}：已撤销对“{issue_name(found[0], named)}”的处理；现在阶段 {row.stage}，"
               f"未处理的{Severity.ERROR.label} {row.errors} 项。")


@cli.command()
@click.argument("dir", type=click.Path(path_type=Path))
@click.argument("applicant")
@click.argument("text")
@click.option("--recommend/--not-recommend", default=None, help="是否推荐")
@click.option("--score", type=click.FloatRange(0, 100), help="评分（0–100，可不填）")
@_BY_OPTION
@friendly
def opinion(dir, applicant, text, recommend, score, by):
    """记录评审人的审定意见（及是否推荐、评分）。"""
    with _open_workspace(dir) as ws:
        applicant_id = ws.find(applicant)
        ws.opinion(applicant_id, text, by, recommend, score)
    click.echo("已记录审定意见。")


@cli.command()
@click.option("--workspace", "workspace_dir", type=click.Path(path_type=Path), metavar="文件夹",
              help="工作区文件夹（manyi workspace init 建立）")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出的汇总表 .xlsx")
@friendly
def summary(workspace_dir, out):
    """工作区汇总表：每家申报一行（最新版本、阶段、版本数、补正通知、审定意见），另有问题清单等。"""
    from pipeline.workspace.outputs import workspace_summary

    if not workspace_dir:
        raise UserError("请用 --workspace 指定工作区（manyi parse 已写出 summary.xlsx）")
    with _open_workspace(workspace_dir) as ws:
        path = workspace_summary(ws, out)
    click.echo(f"已写出汇总表 {path}。")


@cli.command()
@click.option("--out", default=Path("output/demo"), show_default=True, type=click.Path(path_type=Path),
              help="输出文件夹（不会删除或改动其中已有的其他文件）")
@friendly
def demo(out):
    """用自带样例完整演示一遍：生成材料 → 解析校验 → 补正通知 → 推荐汇总表 → 证书。"""
    from pipeline.demo import run_demo

    run_demo(out, echo=click.echo)


@cli.command()
@click.argument("workspace_dir", required=False, type=click.Path(path_type=Path), metavar="[工作区]")
@friendly
def doctor(workspace_dir):
    """检查本机是否就绪：LibreOffice、中文字体，给出工作区时还检查其数据库；缺什么就给出安装命令。"""
    from pipeline.doctor import report, run_checks

    lines, ready = report(run_checks(workspace_dir))
    click.echo("\n".join(lines))
    if not ready:
        sys.exit(1)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址；127.0.0.1 以外须用账号登录")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="端口")
@click.option("--open", "open_browser", is_flag=True, help="启动后打开浏览器")
@click.option("--self-check", is_flag=True, help="开放“申报自检”页：申报单位上传一份材料即可看到问题（不保存）")
@click.option("--behind-proxy", metavar="地址", default=None,
              help="页面在反向代理（如 nginx）之后：代理的 IP 地址；只相信来自该地址的 X-Forwarded-Proto/-For")
@click.option("--verify-only", is_flag=True, help="只提供公开的证书查验页 /verify 和证书名录 /verify/register（放在公网上时用），不提供其他页面")
@click.option("--portal-only", is_flag=True, help="只提供申报单位的专属链接页面 /apply/…（放在公网上时用），不提供工作人员页面")
@click.option("--sign-in", is_flag=True, help="在 127.0.0.1 上也要求账号登录（几位工作人员共用一台电脑时）")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(0, 8),
              help="本进程处理任务（收件、生成文件）的线程数；0：任务由 manyi worker 进程处理（多台服务器共用数据库时）")
@friendly
def serve(directory, host, port, open_browser, self_check, behind_proxy, verify_only, portal_only, sign_in, workers):
    """在浏览器中处理整个活动：收件、申报列表、详情、评审、证书、下载。"""
    from pipeline.web.server import serve as run

    run(directory, host=host, port=port, open_browser=open_browser, self_check=self_check, echo=click.echo,
        behind_proxy=behind_proxy, verify_only=verify_only, portal_only=portal_only, workers=workers,
        sign_in=sign_in)


# --- the applicants' page: invitations and e-mail ---


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.argument("names", nargs=-1)
@click.option("--roster", type=click.Path(path_type=Path), help="企业名单 .xlsx（与 manyi packet --roster 相同）")
@click.option("--all", "everyone", is_flag=True, help="工作区中的全部申报单位")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="写出的邀请名单 .xlsx（可用于邮件合并）")
@click.option("--url", "base", required=True, help="申报单位页面的公网地址，如 https://sb.example.cn")
@click.option("--units", is_flag=True, help="为这些企业的推进单位生成链接（查看所推荐的企业、上传推荐意见表和推荐汇总表）")
@_BY_OPTION
@friendly
def invite(directory, names, roster, everyone, out, base, units, by):
    """为每家企业（每个类别）生成专属申报链接；再次生成时旧链接作废。"""
    from pipeline.workspace import invitations, mail

    if sum(bool(x) for x in (roster, everyone, names)) != 1:
        raise UserError("请给出且只给出一种：--roster 名单.xlsx、--all 或企业名称")
    with _open_workspace(directory) as ws:
        problems = []
        if roster:
            targets, problems = invitations.roster_targets(roster, ws.program)
        else:
            targets = invitations.workspace_targets(ws, None if everyone else list(names))
        if units:
            issued, queued = invitations.unit_links(ws, [t.promoting_unit for t in targets], by), 0
        else:
            issued = invitations.issue_links(ws, targets, by)
            queued = sum(mail.queue_invitation(ws, invitations.find(ws, i.token)) for i in issued)
        invitations.write_workbook(issued, out, base, ws.program)
    for line in problems:
        click.echo(line, err=True)
    click.echo(f"已为 {len(issued)} 家{'推进单位' if units else '企业'}生成专属链接，写入 {out}"
               + (f"；{queued} 封邀请邮件待发送（manyi mail send）" if queued else ""))


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--not-submitted", is_flag=True, help="提醒尚未提交材料的企业")
@click.option("--notice-unanswered", is_flag=True, help="提醒补正期限内尚未补正的企业")
@friendly
def remind(directory, not_submitted, notice_unanswered):
    """给申报单位发提醒邮件（每家每天每种提醒最多一封），并立即发送。"""
    from pipeline.workspace import mail
    from pipeline.workspace.invitations import today

    with _open_workspace(directory) as ws:
        queued = mail.remind(ws, not_submitted, notice_unanswered, today())
        click.echo(f"新加入 {queued} 封提醒邮件")
        click.echo(mail.send_outbox(ws).line())


@cli.group("mail")
def mail_group():
    """申报单位邮件（默认关闭）：设置发信服务器、发送待发邮件。"""


@mail_group.command("setup")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--host", required=True, help="发信服务器的地址（邮箱服务商提供的 SMTP 服务器）")
@click.option("--port", required=True, type=click.IntRange(1, 65535), help="端口，如 465（SSL）或 587（STARTTLS）")
@click.option("--security", default="starttls", show_default=True, type=click.Choice(["starttls", "ssl", "none"]),
              help="加密方式")
@click.option("--user", "account", default="", help="发信账号")
@click.option("--sender", required=True, help="发件人地址")
@click.option("--url", "base", required=True, help="申报单位页面的公网地址（邮件中的链接）")
@click.option("--password", default="", help="发信密码（保存在工作区的 mail.secret，不写入活动文件）")
@click.option("--cafile", default="", help="内部邮件服务器的 CA 证书（PEM），公网邮箱不用写")
@click.option("--off", is_flag=True, help="关闭邮件发送")
@_BY_OPTION
@friendly
def mail_setup(directory, host, port, security, account, sender, base, password, cafile, off, by):
    """设置发信服务器（开启邮件）。"""
    from pipeline.workspace import mail

    with _open_workspace(directory) as ws:
        mail.save_settings(ws, mail.Settings(host=host, port=port, security=security, user=account, sender=sender,
                                             portal_url=base, enabled=not off, password=password,
                                             cafile=str(Path(cafile).resolve()) if cafile else ""), by)
    click.echo("邮件发送已关闭" if off else f"已设置发信服务器 {host}:{port}（{mail.SECURITY[security]}）")


@mail_group.command("send")
@click.argument("directory", type=click.Path(path_type=Path))
@friendly
def mail_send(directory):
    """发送待发的邮件（已发过的不会重发）。"""
    from pipeline.workspace import mail

    with _open_workspace(directory) as ws:
        click.echo(mail.send_outbox(ws).line())


# --- end of the applicants' page ---


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 8), help="同时处理的任务数")
@friendly
def worker(directory, threads):
    """处理工作区页面提交的任务（收件、生成文件）：与 manyi serve --workers 0 配合，可在共用存储文件夹和
    PostgreSQL 数据库的多台电脑上各运行几个；同一工作区的收件不会同时进行。"""
    from pipeline.web.server import work

    work(directory, threads=threads, echo=click.echo)


@cli.group()
def user():
    """页面账号（在 127.0.0.1 以外提供页面时需要）。"""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "staff", "reviewer"]), help="角色：管理员、工作人员、评审专家")
@click.option("--workspace", "directory", default=".", show_default=True, type=click.Path(path_type=Path),
              help="工作区文件夹（默认当前文件夹）")
@click.password_option("--password", help="密码（不写则提示输入两次）")
@friendly
def user_add(name, role, directory, password):
    """添加账号，或修改已有账号的角色和密码（密码以 argon2id 散列保存）。"""
    from pipeline.web.store import add_user

    add_user(directory, name, role, password)
    click.echo(f"已保存账号 {name}（{role}）。")


# --- review rounds (manyi review …) ------------------------------------------------------------


@cli.group()
def review():
    """评审轮次：评审专家、分配、评分、排名、结束与文书（轮次与评分表见项目文件的 review_rounds）。"""


_WS_ROUND = [click.argument("dir", type=click.Path(path_type=Path), metavar="工作区"),
             click.argument("round_id", metavar="轮次")]


def _ws_round(fn):
    for decorate in reversed(_WS_ROUND):
        fn = decorate(fn)
    return fn


@review.command("expert")
@_ws_round
@click.argument("name", metavar="专家姓名")
@click.option("--unit", help="专家所在的推进单位（不分配该单位推荐的申报）")
@click.option("--region", help="专家所在地区，如 上海市（不分配地址在该地区的申报）")
@click.option("--email", help="专家的电子邮箱（设置了邮件发送时，评分提醒发到这里）")
@_BY_OPTION
@friendly
def review_expert(dir, round_id, name, unit, region, email, by):
    """把一位专家加入某轮评审的专家组（已在组内则更新其单位、地区和邮箱）。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        rv.add_expert(ws, round_id, name, unit, region, by, email=email)
    click.echo(f"已将 {name} 加入评审专家组。")


@review.command("assign")
@_ws_round
@click.option("--auto", "automatic", is_flag=True, help="自动分配：每份申报分给规定人数的专家，负载均衡，回避同单位、同地区与声明的冲突")
@click.option("--expert", help="手工分配给这位专家")
@click.option("--applicant", "applicants", multiple=True, help="手工分配的申报（名称或编号，可重复）")
@click.option("--per", type=click.IntRange(1, 50), help="每份申报的专家人数（默认：项目文件中该轮的人数）")
@click.option("--deadline", help="评分截止日期 YYYY-MM-DD（默认：今天加该轮的天数）")
@_BY_OPTION
@friendly
def review_assign(dir, round_id, automatic, expert, applicants, per, deadline, by):
    """分配评审：--auto 自动分配，或 --expert 专家 --applicant 申报 手工分配。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        if automatic:
            short = rv.auto_assign(ws, round_id, by, per, _date_option(deadline))
            for line in short:
                click.echo(line)
        elif expert and applicants:
            rv.assign(ws, round_id, expert, [ws.find(a) for a in applicants], by, _date_option(deadline))
        else:
            raise UserError("请用 --auto 自动分配，或用 --expert 和 --applicant 手工分配")
        for p in rv.progress(ws, round_id):
            click.echo(f"{p['expert']}：分配 {p['assigned']} 份，截止 {p['deadline'] or '未定'}")


@review.command("conflict")
@_ws_round
@click.argument("expert", metavar="专家姓名")
@click.argument("applicant", metavar="申报")
@click.option("--reason", required=True, help="利益冲突的原因，如 曾在该单位任职")
@_BY_OPTION
@friendly
def review_conflict(dir, round_id, expert, applicant, reason, by):
    """登记专家对某份申报的利益冲突：已分配的改为回避，并自动另派一位专家。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        replacement = rv.declare_conflict(ws, round_id, expert, ws.find(applicant), reason, by)
    click.echo(f"已登记 {expert} 的利益冲突" + (f"，改由 {replacement} 评审。" if replacement else "。"))


@review.command("score")
@_ws_round
@click.argument("applicant", metavar="申报")
@click.option("--expert", required=True, help="评分的专家")
@click.option("--points", required=True, help="各评分项得分，按评分表顺序以逗号分隔，如 18,17,22,9,9,13")
@click.option("--comment", "comments", multiple=True, help="评语：名称=内容，如 优势=理念先进（可重复）")
@friendly
def review_score(dir, round_id, applicant, expert, points, comments):
    """记录一位专家对一份申报的评分（本轮结束前可修改，每次修改都记入操作记录）。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        sheet = ws.program.review_round(round_id).sheet
        values = [v.strip() for v in points.replace("，", ",").split(",")]
        if len(values) != len(sheet.criteria):
            names = "、".join(f"{c.name}（满分 {c.max:g}）" for c in sheet.criteria)
            raise UserError(f"评分表有 {len(sheet.criteria)} 项，给了 {len(values)} 个分数；依次为：{names}")
        labels = {m.label: m.id for m in sheet.comments} | {m.id: m.id for m in sheet.comments}
        texts = {}
        for item in comments:
            key, _, text = item.partition("=")
            if key.strip() not in labels:
                raise UserError(f"没有评语“{key.strip()}”，可用：{'、'.join(m.label for m in sheet.comments)}")
            texts[labels[key.strip()]] = text
        total = rv.submit(ws, round_id, expert, ws.find(applicant), dict(zip((c.id for c in sheet.criteria), values)),
                          texts, expert)
    click.echo(f"已记录 {expert} 的评分：总分 {total:g}。")


@review.command("rank")
@_ws_round
@friendly
def review_rank(dir, round_id):
    """显示本轮排名：原始平均分、极差、标准化分、离群与缺评，按名额标出进入下一环节者。"""
    from pipeline.issuing.review_documents import result_of
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        rnd, named = ws.program.review_round(round_id), rv.entries(ws)
        for r in rv.ranking(ws, round_id):
            flags = "".join([f"  离群：{'、'.join(r.outliers)}" if r.outliers else "",
                             f"  缺评：{'、'.join(r.missing)}" if r.missing else ""])
            scored = (f"平均 {r.raw_mean:.2f}  极差 {r.spread:.2f}  标准化 {r.normalised:.2f}" if r.scores
                      else "尚无评分")
            click.echo(f"{r.rank or '—':>3}  {named[r.applicant_id].name}  {scored}  {result_of(r, rnd)}{flags}")
        click.echo(rnd.sheet.method_text())


@review.command("progress")
@_ws_round
@friendly
def review_progress(dir, round_id):
    """每位专家的进度：分配、已评、未评、逾期。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        ws.program.review_round(round_id)
        for p in rv.progress(ws, round_id):
            click.echo(f"{p['expert']}：分配 {p['assigned']}，已评 {p['done']}，未评 {p['left']}，逾期 {p['overdue']}，"
                       f"截止 {p['deadline'] or '未定'}")


@review.command("remind")
@_ws_round
@click.option("--date", "on", help="按哪一天计算逾期 YYYY-MM-DD（默认：今天）")
@click.option("--within", default=3, show_default=True, type=click.IntRange(0, 60), help="截止前几天内的也提醒")
@friendly
def review_remind(dir, round_id, on, within):
    """提醒逾期或即将到期仍未评分的专家：设置了邮件发送且专家有邮箱的发邮件（同一天不重复），其余给出提醒文字。"""
    from pipeline.workspace import mail
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        mailed, unmailed = rv.mail_reminders(ws, round_id, _date_option(on), within)
        sent = mail.send_outbox(ws).line() if mailed else ""
    for item in unmailed:
        click.echo(item["text"] + "\n")
    if mailed:
        click.echo(f"评分提醒邮件（每位专家每天一封）：{len(mailed)} 位专家（{'、'.join(m['expert'] for m in mailed)}）：{sent}")
    if not mailed and not unmailed:
        click.echo("没有需要提醒的专家。")


@review.command("close")
@_ws_round
@_BY_OPTION
@friendly
def review_close(dir, round_id, by):
    """结束本轮评审：评分、分配与冲突从此锁定。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        rv.close(ws, round_id, by)
    click.echo("本轮评审已结束，评分已锁定。")


@review.command("reports")
@_ws_round
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--date", "on", help="落款与公示开始日期 YYYY-MM-DD（默认：今天）")
@friendly
def review_reports(dir, round_id, out, on):
    """写出本轮的评分排名（.xlsx）、评审结果汇总表、反馈报告或现场评审报告，以及公示名单与审定记录。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        day = _date_option(on)
        paths = rv.round_reports(ws, round_id, out, day) + rv.decision_documents(ws, out, day)
    for path in paths:
        click.echo(f"已写出 {path}")


@review.command("decisions")
@click.argument("dir", type=click.Path(path_type=Path), metavar="工作区")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="输出文件夹")
@click.option("--date", "on", help="落款与公示开始日期 YYYY-MM-DD（默认：今天）")
@friendly
def review_decisions(dir, out, on):
    """写出公示名单（公示期按项目规定计算）、审定记录，以及项目规定由评定机构填写的审定意见（如黑龙江推荐意见表）。"""
    from pipeline.workspace import review as rv

    with _open_workspace(dir) as ws:
        paths = rv.decision_documents(ws, out, _date_option(on))
    for path in paths:
        click.echo(f"已写出 {path}")
    if not paths:
        click.echo("本项目没有规定公示名单或审定文书。")

# --- end of review rounds ---


def _use_forms(ctx, param, folders):
    """--forms DIR (or MANYI_FORMS): layer staff's own programs/, campaigns/ and templates/ over the packaged ones."""
    from pipeline.common import resources

    for folder in reversed(folders or ()):  # the first one given wins
        try:
            resources.use_forms(folder)
        except UserError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def _forms_option() -> click.Option:
    return click.Option(["--forms", "forms_dirs"], multiple=True, envvar="MANYI_FORMS", metavar="文件夹",
                        type=click.Path(path_type=Path), callback=_use_forms, expose_value=False, is_eager=True,
                        help="自己的项目、活动与模板所在的文件夹（其中的 programs/、campaigns/、templates/ 叠加在内置文件之上，"
                             "同名文件以它为准；内置文件不会被改写）")


def _add_forms_option(command: click.Command) -> None:
    """Given a command (or group), give it and every command under it the --forms option."""
    command.params.append(_forms_option())
    for sub in getattr(command, "commands", {}).values():
        _add_forms_option(sub)


_add_forms_option(cli)


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
