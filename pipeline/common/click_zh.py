"""Click's own words in Chinese: usage lines, errors, help headings and value names staff read.

Click writes its messages through gettext (`_()` and `ngettext()` bound in each of its modules);
`install` puts this table in their place once, and gives every command's options and arguments a
Chinese value name (文件夹, 整数 …) instead of PATH, TEXT, INTEGER RANGE. A message missing from the
table falls back to click's English, so `tests/test_cli_zh.py` walks click's sources for every msgid.
"""

from __future__ import annotations

import importlib
import re

import click

#: Click's msgids (click 8.1–8.3) and their Chinese; placeholders kept as click fills them.
MESSAGES = {
    "Aborted!": "已取消。",
    "deprecated": "已停用",
    "Missing command.": "缺少命令。",
    "Options": "选项",
    "Positional arguments": "位置参数",
    "Commands": "命令",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": "提示：命令 {name!r} 已停用。{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "提示：{param_type} {name!r} 已停用。{extra_message}",
    "Value must be an iterable.": "值必须是一组值。",
    "Could not determine name for option with declarations {decls!r}": "无法确定选项名称：{decls!r}",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument instead? "
    "Did you mean to pass '--{name}'?": "未定义选项却给出了名称（{name}）：是否应写作 '--{name}'？",
    "env var: {var}": "环境变量：{var}",
    "default: {default}": "默认：{default}",
    "required": "必填",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": "参数只能有一个名称，却给了 {length} 个：{decls}。",
    "(dynamic)": "（运行时确定）",
    "Name '{name}' defined twice": "名称“{name}”定义了两次",
    "Boolean option {decl!r} cannot use the same flag for true/false.": "开关选项 {decl!r} 的“是”与“否”不能用同一个写法。",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不再询问，直接执行。",
    "%(prog)s, version %(version)s": "%(prog)s，版本 %(version)s",
    "Show the version and exit.": "显示版本号后退出。",
    "Show this message and exit.": "显示本说明后退出。",
    "Missing argument": "缺少参数",
    "unknown error": "未知错误",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效：{message}",
    "Missing option": "缺少选项",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看用法。",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Invalid value: {message}": "值无效：{message}",
    "Missing {param_type}": "缺少{param_type}",
    "Usage:": "用法：",
    "Invalid start character for option ({option})": "选项的开头字符不对（{option}）",
    "Option {name!r} does not take a value.": "选项 {name!r} 后面不能跟值。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个值。",
    "Couldn't detect Bash version, shell completion is not supported.": "无法确定 Bash 版本，不支持命令补全。",
    "Shell completion is not supported for Bash versions older than 4.4.": "Bash 4.4 以前的版本不支持命令补全。",
    "Press any key to continue...": "按任意键继续 …",
    "Repeat for confirmation": "请再输入一次确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Unknown color {colour!r}": "未知颜色 {colour!r}",
    "Error: invalid input": "错误：输入无效",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "Choice({choices})": "可选（{choices}）",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": "{value!r} 不是“是/否”值，可写：{states}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件（应为文件夹）。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹（应为文件）。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 无法读取。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 无法写入。",
    "{name} {filename!r} is not executable.": "{name} {filename!r} 无法执行。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{editor}: Editing failed": "{editor}：编辑失败",
    "{editor}: Editing failed: {e}": "{editor}：编辑失败：{e}",
    "Windows error: {error}": "Windows 错误：{error}",
    "Unknown standard stream '{name}'": "未知的标准流“{name}”",
    "d": "天",  # days in a progress bar's time left
    # click formats these words into the messages above
    "integer": "整数", "float": "数字", "argument": "参数", "option": "选项", "parameter": "参数",
}

#: Click's plural msgids: (singular, plural) → (Chinese singular, Chinese plural).
PLURALS = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("多出了参数（{args}）", "多出了参数（{args}）"),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("需要 {nargs} 个值，只给了 1 个。", "需要 {nargs} 个值，给了 {len} 个。"),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("是否想写 {possibility}？", "（是否想写其中之一：{possibilities}？）"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("选项 {name!r} 后面需要一个值。", "选项 {name!r} 后面需要 {nargs} 个值。"),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} 不是 {choice}。", "{value!r} 不是 {choices} 之一。"),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} 不符合格式 {format}。", "{value!r} 不符合格式 {formats} 中的任何一种。"),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("需要 {len_type} 个值，却给了 {len_value} 个。", "需要 {len_type} 个值，却给了 {len_value} 个。"),
}

#: Click's modules that bind `_` / `ngettext` from gettext.
MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "shell_completion", "termui", "types",
           "utils", "_termui_impl")

#: Value names shown after options and in usage lines, by click type name.
METAVARS = {"text": "文本", "integer": "整数", "integer range": "整数", "float": "数字", "float range": "数字",
            "boolean": "是/否", "path": "路径", "file": "文件", "directory": "文件夹", "filename": "文件",
            "choice": "选项", "datetime": "日期", "uuid": "UUID", "整数": "整数", "数字": "数字"}
#: Value names of arguments by their name, where a command gives none of its own.
ARGUMENTS = {"paths": "收件箱", "path": "路径", "number": "证书编号", "files": "文件", "file": "文件", "dir": "文件夹",
             "folder": "文件夹", "applicant": "申报单位", "applicants": "申报单位", "name": "名称", "names": "名称",
             "inbox": "收件箱", "inboxes": "收件箱", "url": "地址", "text": "文字", "code": "问题代码",
             "stage": "阶段", "user": "用户名", "directory": "文件夹", "workspace": "工作区"}
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."


def gettext(message: str) -> str:
    """Given one of click's messages, return its Chinese (the message itself when the table lacks it)."""
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Given one of click's plural messages and a count, return its Chinese."""
    zh = PLURALS.get((singular, plural))
    if zh:
        return zh[0] if n == 1 else zh[1]
    return singular if n == 1 else plural


def metavar_of(param: click.Parameter) -> str | None:
    """Given an option or argument without its own metavar, return a Chinese one, or None to leave click's."""
    kind = getattr(param.type, "name", "")
    if isinstance(param.type, click.Path):
        kind = "directory" if param.type.dir_okay and not param.type.file_okay else (
            "file" if param.type.file_okay and not param.type.dir_okay else "path")
    if isinstance(param, click.Argument):
        # Never click's English (the name in capitals: DIRECTORY): the name's word, else the type's.
        zh = ARGUMENTS.get(param.name or "") or METAVARS.get(kind) or "值"
        if param.nargs == -1:
            return f"{zh}…" if param.required else f"[{zh}…]"
        return zh
    if getattr(param, "is_flag", False) or isinstance(param.type, click.Choice):
        return None
    return METAVARS.get(kind)


def localise(command: click.Command) -> None:
    """Given a command (or group), give it and all below it Chinese usage and value names."""
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = OPTIONS_METAVAR
    if isinstance(command, click.Group):
        if command.subcommand_metavar and "COMMAND" in command.subcommand_metavar:
            command.subcommand_metavar = SUBCOMMAND_METAVAR
        for sub in command.commands.values():
            localise(sub)
    for param in command.params:
        if param.metavar is None:
            param.metavar = metavar_of(param)


#: The pieces a help line may break between: a run of spaces, a run of other ASCII (a word, an option, a
#: path: never broken inside), or one other character (a Chinese one: Chinese breaks between any two).
_PIECES = re.compile(r"\s+|[!-~]+|.", re.DOTALL)


def _wrapper_class():
    """Return click's TextWrapper made to break Chinese text between characters and never inside an ASCII word.

    Chinese has no spaces, so to textwrap a sentence with `manyi serve` in it is one long word, cut wherever
    the width falls (servi / ce); split into these pieces, the line ends before the word instead.
    """
    from click._textwrap import TextWrapper

    class ChineseTextWrapper(TextWrapper):
        def _split(self, text):
            return _PIECES.findall(text)

    return ChineseTextWrapper


def install(command: click.Command) -> click.Command:
    """Put the Chinese table in place of click's gettext and a wrapper that breaks Chinese text between
    characters, localise `command`'s tree, and return it."""
    import click._textwrap

    if not getattr(click._textwrap.TextWrapper, "_manyi", False):
        click._textwrap.TextWrapper = _wrapper_class()
        click._textwrap.TextWrapper._manyi = True
    for name in MODULES:
        try:
            module = importlib.import_module(f"click.{name}")
        except ImportError:  # _winconsole and the like: only on some systems
            continue
        if hasattr(module, "_"):
            module._ = gettext
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
    # The number types put their own name into "… is not a valid {number_type}."
    for kind, zh in ((click.types.IntParamType, "整数"), (click.types.IntRange, "整数"),
                     (click.types.FloatParamType, "数字"), (click.types.FloatRange, "数字")):
        kind.name = zh
    localise(command)
    return command
