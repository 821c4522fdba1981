"""A whole campaign moved to another machine: `export` writes the database (a portable dump), the settings,
the campaign file and the store into one zip (the certificate register is in the database); `import_` makes a fresh workspace from it,
on SQLite or any database URL.

The portal's tables go with the campaign (unlike the web accounts, which belong to the machine's staff, not
to the campaign): the links enterprises hold keep opening their page on the new machine (only their hashes
are stored), and the outbox's history keeps an e-mail sent from being sent again. The two secrets beside the
database, `portal.key` (to write a link again into an e-mail) and `mail.secret` (the SMTP password), go only
when asked (`secrets=True`): a zip handed around should not carry them. Without `portal.key` the new
workspace still opens every link, and says so plainly when asked to write one into an e-mail."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path
from pipeline.issuing import register, signing
from pipeline.workspace import db
from pipeline.workspace import review  # the review rounds travel with the campaign
from pipeline.workspace.core import BACKUPS, CAMPAIGN_COPY, CONFIG, STORE, Workspace
from pipeline.workspace.store import file_sha256

#: The portal's own tables (made on first use, not by `db.migrate`), dumped and loaded with the campaign's.
#: Files beside the database that only an export asked for with secrets carries, under `secrets/`.
SECRET_FILES = ("portal.key", "mail.secret")
SECRETS = "secrets"


def portal_tables() -> tuple:
    """Return the portal's tables (invitations, outbox)."""
    from pipeline.workspace import invitations, mail

    return (invitations.invitations, mail.outbox)

DUMP = "database.jsonl"
MANIFEST = "manifest.json"
FORMAT = 1


def export(ws: Workspace, target: Path, secrets: bool = False) -> dict:
    """Given a workspace, a .zip path (and whether its secrets go too), write the campaign into it; return the
    manifest (counts, secrets carried).

    The association's secrets — its keys (the check-code secret, the CA's and the signer's private keys, `keys/`),
    the portal's link key and the SMTP password — go into it only when asked: an export is handed around, a
    private key must not leave without a decision."""
    target = Path(target)
    if target.suffix.lower() != ".zip":
        raise UserError(f"导出文件应以 .zip 结尾：{target}")
    with ws.receive_lock(wait=True), atomic_path(target) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            text = io.StringIO()
            with ws.reader.connect() as conn:
                counts = db.dump(conn, text, db.TABLES + portal_tables())
            zf.writestr(DUMP, text.getvalue())
            rounds = io.StringIO()
            with ws.reader.connect() as conn:
                counts.update(review.dump(conn, rounds))
            zf.writestr(review.DUMP, rounds.getvalue())
            zf.write(ws.root / (ws.config.get("campaign") or CAMPAIGN_COPY), CAMPAIGN_COPY)
            stored = 0
            for path in sorted((ws.root / STORE).rglob("*.bin")):
                zf.write(path, f"{STORE}/{path.relative_to(ws.root / STORE).as_posix()}", zipfile.ZIP_STORED)
                stored += 1
            carried = []
            for name in SECRET_FILES if secrets else ():
                if (ws.root / name).is_file():
                    zf.write(ws.root / name, f"{SECRETS}/{name}")
                    carried.append(name)
            keys = signing.keys_folder_of(workspace=ws.root)
            if secrets and keys.is_dir():
                for path in sorted(p for p in keys.iterdir() if p.is_file()):
                    zf.write(path, f"{signing.KEYS_DIR}/{path.name}")
                    carried.append(f"{signing.KEYS_DIR}/{path.name}")
            manifest = {"format": FORMAT, "program": ws.config["program"], "campaign_id": ws.config.get("campaign_id"),
                        "schema_version": db.SCHEMA_VERSION, "rows": counts, "files": stored, "secrets": carried}
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def import_(source: Path, root: Path, db_url: str | None = None) -> Workspace:
    """Given an exported .zip and a new (or empty) folder, make the workspace there and return it; every stored
    file is checked against its SHA-256 before anything is written to the database."""
    source, root = Path(source), Path(root)
    if root.exists() and any(root.iterdir()):
        raise UserError(f"文件夹 {root} 不是空的：导入须放到新的或空的文件夹中")
    try:
        zf = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UserError(f"无法读取导出文件 {source}：{exc}") from None
    with zf:
        names = set(zf.namelist())
        if not {MANIFEST, DUMP, CAMPAIGN_COPY} <= names:
            raise UserError(f"{source} 不是 manyi 工作区导出文件（缺少 {MANIFEST}/{DUMP}）")
        manifest = json.loads(zf.read(MANIFEST))
        if manifest.get("schema_version", 0) > db.SCHEMA_VERSION:
            raise UserError("导出文件来自更新版本的 manyi，请升级后再导入")
        root.mkdir(parents=True, exist_ok=True)
        try:
            (root / STORE).mkdir()
            for name in sorted(n for n in names if n.startswith(f"{STORE}/") and n.endswith(".bin")):
                target = root / STORE / Path(name).relative_to(STORE)
                if target.name != Path(name).name or ".." in Path(name).parts:
                    raise UserError(f"导出文件中的路径不安全：{name}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(name) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                if file_sha256(target)[0] != target.stem:
                    raise UserError(f"导出文件已损坏：{name} 的内容与其校验值不符")
                target.chmod(0o444)
            (root / CAMPAIGN_COPY).write_bytes(zf.read(CAMPAIGN_COPY))
            for name in sorted(n for n in names if n.startswith(f"{signing.KEYS_DIR}/")):  # an export with its secrets
                if Path(name).parent.as_posix() != signing.KEYS_DIR or Path(name).name.startswith("."):
                    raise UserError(f"导出文件中的路径不安全：{name}")
                signing.write_private(root / signing.KEYS_DIR / Path(name).name, zf.read(name))
            for name in SECRET_FILES:
                if f"{SECRETS}/{name}" in names:
                    fd = os.open(root / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only, as made
                    with os.fdopen(fd, "wb") as out:
                        out.write(zf.read(f"{SECRETS}/{name}"))
            config = {"program": manifest["program"], "campaign": CAMPAIGN_COPY, "campaign_id": manifest.get("campaign_id")}
            if db_url:
                config["db"] = db_url
            ws = Workspace(root, config)
            with ws.engine.connect() as conn:
                if db.schema_version(conn):
                    raise UserError("目标数据库已有工作区数据：请为导入使用空数据库")
            db.migrate(ws.engine)
            with ws.engine.begin() as conn:
                for table in portal_tables():  # an export before the portal simply has no rows for them
                    table.create(conn, checkfirst=True)
                db.load(conn, io.TextIOWrapper(zf.open(DUMP), encoding="utf-8"), db.TABLES + portal_tables())
                if review.DUMP in names:
                    review.load(conn, io.TextIOWrapper(zf.open(review.DUMP), encoding="utf-8"))
                if db.LEGACY_REGISTER in names:  # an export made before the register moved into the database
                    legacy = root / BACKUPS / db.LEGACY_REGISTER
                    legacy.parent.mkdir(exist_ok=True)
                    legacy.write_bytes(zf.read(db.LEGACY_REGISTER))
                    register.copy_file_into(legacy, conn)
                db.set_meta(conn, "schema_version", str(db.SCHEMA_VERSION))
                ws._audit(conn, "系统", "import", None, {"from": source.name})
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)  # it was new or empty: all of it is this import's
            raise
    import yaml

    (root / CONFIG).write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return ws
