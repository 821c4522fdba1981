"""The command line as a user meets it: clear messages and exit codes, never a traceback."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def manyi(*args):
    """Run the command line as staff do, from the repository whatever folder pytest was started in."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO)


def test_help_lists_every_contract_command():
    result = manyi("--help")
    assert result.returncode == 0
    for command in ("packet", "parse", "notices", "summary-table", "certificates", "register"):
        assert command in result.stdout


def test_a_wrong_option_explains_itself_in_chinese(tmp_path):
    result = manyi("packet", "--out", str(tmp_path), "--colour", "red")
    assert result.returncode == 2
    assert "命令或参数有误" in result.stderr and "--colour" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_category_lists_the_valid_ones(tmp_path):
    result = manyi("packet", "--out", str(tmp_path), "--category", "food")
    assert result.returncode == 2
    assert "food" in result.stderr and "product（产品类）" in result.stderr


def test_a_user_error_is_one_chinese_line(tmp_path):
    bad = tmp_path / "名单.xlsx"
    bad.write_text("not a workbook")
    result = manyi("certificates", "--winners", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.startswith("错误：") and "Traceback" not in result.stderr


def test_unknown_certificate_number_exits_1(tmp_path):
    result = manyi("register", "verify", "XX-0001", "--register", str(tmp_path / "none.db"))
    assert result.returncode == 1 and "XX-0001" in result.stdout + result.stderr
