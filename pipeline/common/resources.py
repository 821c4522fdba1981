"""Where the files manyi ships with live: one data root inside the package, read with importlib.resources.

Forms, programs, campaigns, Word templates, the fonts' configuration and the demo's sample all sit
under `pipeline/data/`, so a wheel installed anywhere carries them (pyproject's package-data) and
nothing is looked for beside a git checkout. Staff edit their own copies in a folder they choose;
nothing is ever written here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pipeline.common.errors import UserError


def data_root() -> Path:
    """Return the package's data folder as a real path (the package is installed as plain files)."""
    root = files("pipeline") / "data"
    # files() of a package installed as plain files is a Path; a zipped install (zipimport) is not,
    # and LibreOffice and docxtpl need real files, so refuse it plainly rather than fail later.
    if not isinstance(root, Path) or not root.is_dir():
        raise UserError(f"manyi 的数据文件不在磁盘上（{root}）：请用 pip 或 pipx 正常安装，不要以压缩包方式运行。")
    return root


DATA = data_root()
FORMS = DATA / "forms"
TEMPLATES = DATA / "templates"
SAMPLES = DATA / "samples"
FONTCONF = DATA / "fonts" / "30-manyi-zh-cn.conf"
