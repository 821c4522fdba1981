"""The association's private keys never leave in a workspace export unless asked (`--with-key`)."""

from __future__ import annotations

import zipfile

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.issuing import signing


def _run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def _workspace_with_ca(tmp_path):
    ws = tmp_path / "工作 区"
    _run("workspace", "init", ws, "--program", "heilongjiang")
    _run("register", "ca", "init", "--workspace", ws)
    keys = ws / "keys"
    signing.secret(keys)  # made by the first certificate print
    private = {p.name: p.read_bytes() for p in keys.iterdir() if p.name.endswith("-key.pem") or p.suffix == ".key"}
    assert {"ca-key.pem", "signer-key.pem", "check-code.key"} <= set(private)  # what there is to leak
    return ws, private


def test_export_leaves_the_keys_out_unless_asked(tmp_path):
    ws, private = _workspace_with_ca(tmp_path)
    plain = tmp_path / "导出.zip"
    said = _run("workspace", "export", ws, plain)
    assert "未包含协会的密钥和密码" in said
    with zipfile.ZipFile(plain) as zf:
        assert not [n for n in zf.namelist() if n.startswith("keys/") or n.endswith(".pem") or n.endswith(".key")]
        everything = b"".join(zf.read(n) for n in zf.namelist())
    for data in private.values():  # not under another name either
        assert data not in everything
    with_key = tmp_path / "含密钥.zip"
    said = _run("workspace", "export", ws, with_key, "--with-key")
    assert "含协会密钥和密码" in said
    with zipfile.ZipFile(with_key) as zf:
        assert {f"keys/{name}": data for name, data in private.items()}.items() <= {
            n: zf.read(n) for n in zf.namelist()}.items()


def test_an_export_with_the_keys_brings_them_to_the_new_workspace(tmp_path):
    ws, private = _workspace_with_ca(tmp_path)
    _run("workspace", "export", ws, tmp_path / "含密钥.zip", "--with-key")
    moved = tmp_path / "新电脑"
    _run("workspace", "import", tmp_path / "含密钥.zip", moved)
    for name, data in private.items():
        assert (moved / "keys" / name).read_bytes() == data
        assert (moved / "keys" / name).stat().st_mode & 0o077 == 0  # readable by its owner only
    _run("workspace", "export", ws, tmp_path / "无密钥.zip")
    _run("workspace", "import", tmp_path / "无密钥.zip", tmp_path / "另一台")
    assert not (tmp_path / "另一台" / "keys").exists()
