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


# --- staff's own forms, layered over the packaged ones --------------------------------------------

#: The kinds of file a staff folder may hold, each in its own sub-folder, and where the packaged ones are.
PACKAGED = {"programs": FORMS / "programs", "campaigns": FORMS / "campaigns", "templates": TEMPLATES}

#: Staff folders in use, the one given last first (`manyi --forms DIR`, a workspace's forms/ folder).
_LAYERS: list[Path] = []


def use_forms(folder: Path | str) -> Path:
    """Given a folder staff keep their own programs/, campaigns/ and templates/ in, put it over the packaged
    ones (and over folders given before it) for this process; return it resolved.

    Only read from there: nothing is ever copied into or written over the installed package.
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise UserError(f"找不到表单文件夹：{folder}")
    if not any((path / kind).is_dir() for kind in PACKAGED):
        raise UserError(f"表单文件夹 {folder} 中没有 programs、campaigns 或 templates 子文件夹："
                        f"项目文件放在 programs/，活动文件放在 campaigns/，Word 模板放在 templates/")
    path = path.resolve()
    if path in _LAYERS:
        _LAYERS.remove(path)
    _LAYERS.insert(0, path)
    return path


def forms_layers() -> list[Path]:
    """Return the staff folders in use, the first one winning."""
    return list(_LAYERS)


def clear_forms_layers() -> None:
    """Forget every staff folder (the packaged files alone again)."""
    _LAYERS.clear()


def layered(kind: str, name: str) -> Path:
    """Given a kind ('programs', 'campaigns', 'templates') and a file name, return that file from the first staff
    folder that has it, else the packaged path (which need not exist)."""
    for layer in _LAYERS:
        path = layer / kind / name
        if path.is_file():
            return path
    return PACKAGED[kind] / name


def layered_names(kind: str, pattern: str) -> list[str]:
    """Given a kind and a glob pattern, return the names of matching files across the staff folders and the
    package (each name once: a staff file of the same name replaces the packaged one)."""
    folders = [layer / kind for layer in _LAYERS] + [PACKAGED[kind]]
    return sorted({p.name for folder in folders if folder.is_dir() for p in folder.glob(pattern) if p.is_file()})
