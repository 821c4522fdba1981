"""Parsed records read back from `records/*.json`, and the few facts later steps read off a record."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

from pipeline.common.errors import UserError, os_reason
from pipeline.common.outputs import unfinished_warning
from pipeline.common.text import xml_safe

#: The application field that names what a category honours (the product, project or service).
HONOURED_FIELD = {"product": "product_name", "construction": "project_name", "service": "service_name"}
#: Printed after the product name, when given (产品型号及规格).
PRODUCT_MODEL_FIELD = "product_model"


def _warn_stderr(message: str) -> None:
    print(f"警告：{message}", file=sys.stderr)


def records_folder(folder: Path) -> Path:
    """Given the folder named on the command line, return the folder holding the JSON records.

    `manyi parse --out DIR` writes DIR/records/, so both DIR and DIR/records are accepted.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"找不到记录文件夹：{folder}（请先运行 manyi parse，并指定其输出文件夹）")
    nested = folder / "records"
    if not any(folder.glob("*.json")) and nested.is_dir():
        return nested
    return folder


def read_record(path: Path) -> dict:
    """Given a record file, return the record; raise ValueError with a Chinese reason when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError("不是 UTF-8 文本") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"JSON 格式错误（第 {exc.lineno} 行）") from None
    except OSError as exc:
        raise ValueError(f"无法读取（{os_reason(exc)}）") from None
    if not isinstance(data, dict) or not isinstance(data.get("forms", {}), dict):
        raise ValueError("不是申报记录（应为 manyi parse 写出的 JSON 对象）")
    data = xml_safe(data)  # a record edited by hand may hold characters Word and Excel refuse
    data.setdefault("forms", {})
    data.setdefault("issues", [])
    data.setdefault("source", Path(path).stem)
    data.setdefault("submission_id", Path(path).stem)
    return data


def load_records(dir: Path, warn: Callable[[str], None] | None = None) -> list[dict]:
    """Given a records folder, return its records in file-name order; broken files are skipped with a warning."""
    warn = warn or _warn_stderr
    folder = records_folder(dir)
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise UserError(f"文件夹 {folder} 中没有记录文件（*.json）。请先运行 manyi parse 解析申报材料")
    records = []
    for path in paths:
        try:
            records.append(read_record(path))
        except ValueError as reason:
            warn(f"记录文件 {path.name} 已跳过：{reason}")
    if not records:
        raise UserError(f"文件夹 {folder} 中的记录文件都无法读取，请重新运行 manyi parse")
    run = unfinished_warning(folder.parent if folder.name == "records" else folder, {p.stem for p in paths})
    if run:
        warn(run)
    return records


def form_value(record: dict, form: str, field: str):
    """Given a record, a form id and a field id, return the value, or None when absent or empty."""
    value = ((record.get("forms") or {}).get(form) or {}).get(field)
    if isinstance(value, str):
        value = value.strip() or None
    return value


def company_name(record: dict) -> str | None:
    """Given a record, return the company's name: the record's own, else the cover's or the 申请表's."""
    return (record.get("company_name") or form_value(record, "cover", "company_name")
            or form_value(record, "application", "company_name"))


def honoured_name(record: dict) -> str | None:
    """Given a record, return what it puts forward: product (with its model), project, service or company."""
    field = HONOURED_FIELD.get(record.get("category"))
    if not field:
        return company_name(record)
    name = form_value(record, "application", field)
    if name and record.get("category") == "product":
        model = form_value(record, "application", PRODUCT_MODEL_FIELD)
        if model and str(model) not in str(name):
            name = f"{name} {model}"
    return str(name) if name else company_name(record)
