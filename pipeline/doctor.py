"""`manyi doctor`: is this computer ready? LibreOffice, the Chinese fonts, the workspace's database.

Each check returns a `Finding` that says in Chinese what was found and, when something is missing,
the exact command that installs it on the system the check runs on (Debian/Ubuntu, Windows, macOS).
LibreOffice is looked for exactly as the conversions look for it (`office.soffice_path`).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline import __version__
from pipeline.common import office
from pipeline.common.errors import UserError
from pipeline.common.resources import FONTCONF


@dataclass(frozen=True)
class Finding:
    """One check: its name, whether it passed, what was found, and the command that fixes it."""
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


#: The install command of each missing part, by system.
INSTALL = {
    "libreoffice": {
        "debian": "sudo apt-get install -y libreoffice-writer-nogui libreoffice-calc-nogui",
        "windows": "winget install --id TheDocumentFoundation.LibreOffice -e",
        "macos": "brew install --cask libreoffice",
        "linux": "用系统的软件包管理器安装 LibreOffice（如 sudo dnf install libreoffice-writer libreoffice-calc）",
    },
    "fonts": {
        "debian": "sudo apt-get install -y fontconfig fonts-noto-cjk",
        "windows": "设置 → 时间和语言 → 语言和区域 → 添加语言“中文(简体，中国)”（安装宋体、黑体、微软雅黑）",
        "macos": "brew install --cask font-noto-serif-cjk-sc font-noto-sans-cjk-sc",
        "linux": "用系统的软件包管理器安装 Noto CJK 字体（如 sudo dnf install google-noto-serif-cjk-fonts google-noto-sans-cjk-fonts）",
    },
}

#: Faces that print 宋体 (serif) and 黑体 (sans) text as Simplified Chinese.
SERIF = ("Noto Serif SC", "Noto Serif CJK SC", "SimSun", "NSimSun", "宋体", "Songti SC", "STSong")
SANS = ("Noto Sans SC", "Noto Sans CJK SC", "SimHei", "黑体", "Microsoft YaHei", "微软雅黑", "PingFang SC", "Heiti SC")

#: The Windows font files of the faces above (C:\Windows\Fonts), name → family.
WINDOWS_FONT_FILES = {"simsun.ttc": "SimSun", "simhei.ttf": "SimHei", "msyh.ttc": "Microsoft YaHei"}


def system_of(name: str | None = None) -> str:
    """Given sys.platform (default: this one), return 'windows', 'macos', 'debian' (apt-get found) or 'linux'."""
    name = name or sys.platform
    if name.startswith("win"):
        return "windows"
    if name == "darwin":
        return "macos"
    return "debian" if shutil.which("apt-get") else "linux"


def check_libreoffice(system: str) -> Finding:
    """Given the system, return whether soffice is found (PATH, the usual install folders, or MANYI_SOFFICE)."""
    path = office.soffice_path()
    if path:
        return Finding("LibreOffice", True, path)
    where = "环境变量 MANYI_SOFFICE 指向的程序不存在" if os.environ.get("MANYI_SOFFICE") else "PATH 和常用安装位置中都没有 soffice"
    return Finding("LibreOffice", False, f"未找到（{where}）：处理 .doc/.xls 和导出 PDF 需要它",
                   INSTALL["libreoffice"][system] + "；装在别处时可设置环境变量 MANYI_SOFFICE 指向 soffice 程序")


def font_families(system: str) -> set[str]:
    """Given the system, return the font family names installed (Windows: by the Fonts folder's files; else fc-list)."""
    if system == "windows":
        folder = Path(os.environ.get("WINDIR") or r"C:\Windows") / "Fonts"
        return {family for file, family in WINDOWS_FONT_FILES.items() if (folder / file).exists()}
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return set()
    try:
        out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


def check_fonts(families: set[str], system: str) -> Finding:
    """Given the installed font families and the system, return whether a 宋体 face and a 黑体 face are there."""
    serif = [f for f in SERIF if f in families]
    sans = [f for f in SANS if f in families]
    if serif and sans:
        return Finding("中文字体", True, f"宋体类：{serif[0]}；黑体类：{sans[0]}")
    missing = "、".join(kind for kind, found in (("宋体类", serif), ("黑体类", sans)) if not found)
    return Finding("中文字体", False, f"缺少{missing}字体：打印的表格和证书会缺字或换用别的字体", INSTALL["fonts"][system])


def check_font_mapping(system: str) -> Finding | None:
    """Given the system, return whether 宋体 is printed in a Simplified Chinese face (Linux/macOS: fontconfig's
    mapping, pipeline/data/fonts/); None on Windows, whose 宋体 is SimSun itself."""
    fc_match = shutil.which("fc-match")
    if system == "windows" or not fc_match:
        return None
    try:
        face = subprocess.run([fc_match, "-f", "%{family}", "宋体"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        face = ""
    if any(name in face for name in (*SERIF, "CJK SC")):
        return Finding("字体映射", True, f"宋体 → {face.split(',')[0]}", required=False)
    target = "/etc/fonts/conf.d" if system != "macos" and hasattr(os, "getuid") and os.getuid() == 0 \
        else "~/.config/fontconfig/conf.d"
    return Finding("字体映射", False, f"宋体 现在印成 {face or '（未知）'}，不是简体中文字体", required=False,
                   fix=f"mkdir -p {target} && cp \"{FONTCONF}\" {target}/ && fc-cache -f")


def check_database(workspace: Path) -> Finding:
    """Given a workspace folder, return whether its database can be opened (SQLite file or PostgreSQL server)."""
    import sqlalchemy as sa

    from pipeline.workspace import Workspace
    from pipeline.workspace.core import CONFIG

    try:
        with Workspace.open(workspace) as ws, ws.reader.connect():
            return Finding("工作区数据库", True, "可以连接：" + sa.engine.make_url(ws.url).render_as_string(hide_password=True))
    except UserError as exc:
        fix = "确认数据库服务已启动、地址和密码正确（工作区 workspace.yaml 中的 db）" if (workspace / CONFIG).is_file() else ""
        return Finding("工作区数据库", False, str(exc), fix)


def run_checks(workspace: Path | None = None, system: str | None = None) -> list[Finding]:
    """Given an optional workspace and the system (default: this one), return every finding."""
    system = system or system_of()
    found = [check_libreoffice(system), check_fonts(font_families(system), system), check_font_mapping(system)]
    if workspace is not None:
        found.append(check_database(Path(workspace)))
    return [f for f in found if f is not None]


def report(findings: list[Finding]) -> tuple[list[str], bool]:
    """Given the findings, return the Chinese lines to print and whether everything required is there."""
    lines = [f"manyi {__version__}，Python {platform.python_version()}，{platform.system() or '未知系统'}"]
    for f in findings:
        mark = "正常" if f.ok else ("缺少" if f.required else "提示")
        lines.append(f"[{mark}] {f.name}：{f.detail}")
        if not f.ok and f.fix:
            lines.append(f"       安装或修复：{f.fix}")
    ready = all(f.ok for f in findings if f.required)
    lines.append("一切就绪。" if ready else "缺少必需的组件：请按上面的命令安装后再运行 manyi doctor。")
    return lines, ready
