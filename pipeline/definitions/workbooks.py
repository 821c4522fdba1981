"""Workbooks staff prepare (名单, 获奖名单, 事实表), read the same way for every command.

Staff type these by hand, copy them from last year's, or export them from another system: a title
row above the header, the header spread over two rows with merged cells, `企业名称（盖章）` or
`单位名称` for 企业名称, stray spaces, an .xls / .et / .ods saved by WPS or LibreOffice. One reader
takes them all: `read_sheet` returns the first sheet's rows (old formats converted through
LibreOffice), `find_header` finds the header row among the first rows by the synonyms of each
column, and `column_names` gives those synonyms from forms/ (labels and aliases: one source).
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.text import clean, fold

#: The header row is looked for within this many rows from the top (title rows, notes above it).
HEADER_SCAN_ROWS = 10
#: Kinds (pipeline.common.sniff) read by converting them to .xlsx with LibreOffice first.
CONVERTED = ("xls", "ods", "xlsb")

# A remark in brackets after a column name (企业名称（盖章）, 电话(手机)), a required-field star.
_REMARK = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]\s*$")


def header_key(text) -> str:
    """Given a header cell, return its key: folded, a trailing remark in brackets and '*' marks dropped."""
    raw = (clean(text) or "").replace("*", "").replace("＊", "")
    stripped = _REMARK.sub("", raw).strip()
    return fold(stripped or raw)


#: The encodings a CSV file staff export is read in, in order: Excel's "CSV UTF-8" (with its mark), plain
#: UTF-8, and the GBK family Excel and WPS write on a Chinese Windows ("CSV (逗号分隔)").
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
#: Staff's words for the names of a sheet's kinds (sniff's), in the message refusing a file.
KIND_NAMES = {"text": "纯文本", "docx": "Word 文档", "pdf": "PDF", "zip": "压缩包", "doc": "Word 97-2003 文档",
              "unknown": "无法识别的格式"}


def read_csv(path: Path, what: str) -> list[tuple]:
    """Given a CSV file staff exported (comma, semicolon or tab separated; UTF-8, with or without its mark, or
    GBK) and what it is, return its rows; a UserError for staff when it is in neither encoding."""
    import csv
    import io

    data = Path(path).read_bytes()
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UserError(f"{what} {Path(path).name} 的编码无法识别（应为 UTF-8 或 GBK）；"
                        f"请用 Excel 或 WPS 打开后另存为 .xlsx（或“CSV UTF-8”）再试")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t，")
    except csv.Error:
        dialect = csv.excel
    return [tuple(cell if cell.strip() else None for cell in row) for row in csv.reader(io.StringIO(text), dialect)]


def read_sheet(path: Path, what: str) -> list[tuple]:
    """Given a staff workbook (.xlsx, or .xls / .et / .ods / .xlsb, or a .csv) and what it is, return its first
    sheet's rows.

    Missing files and files that are no workbook become a Chinese UserError naming `what`, said to staff
    (what to save the file as), not to applicants.
    """
    from pipeline.common import office
    from pipeline.common.sniff import sniff
    from pipeline.common.xlsx import read_first_sheet

    path = Path(path)
    if not path.is_file():
        raise UserError(f"找不到{what}：{path}")
    found = sniff(path)
    if found.kind in ("text", "unknown") and path.suffix.lower() in (".csv", ".txt", ".tsv"):
        return read_csv(path, what)
    if found.kind in CONVERTED and not found.problem:
        return _converted(path, what, found.kind)
    if found.problem or found.kind != "xlsx":
        kind = KIND_NAMES.get(found.kind, "其他格式")
        raise UserError(f"{what} {path.name} 不是 Excel 工作簿（实际为{kind}）：请用 Excel 或 WPS 打开后"
                        f"另存为 .xlsx（也可读 .xls、.et、.ods 和 .csv）再试")
    try:
        return read_first_sheet(path, what)
    except UserError:
        if not office.available():
            raise
        return _converted(path, what, "xlsx")  # a workbook openpyxl refuses that Excel and LibreOffice open


def _converted(path: Path, what: str, kind: str) -> list[tuple]:
    """Given a staff workbook of another format (or one openpyxl refuses), return its first sheet's rows
    as read from LibreOffice's .xlsx copy."""
    from pipeline.common import office
    from pipeline.common.xlsx import read_first_sheet

    if not office.available():
        raise UserError(f"{what} {path.name} 是 {kind} 格式，需要 LibreOffice 转换后才能读取。{office.INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="manyi-staff-") as tmp:
        done = office.convert([path], "xlsx", Path(tmp)).get(path)
        if not isinstance(done, Path):
            raise UserError(f"{what} {path.name} 无法打开：{office.conversion_problem(str(done))}")
        return read_first_sheet(done, what)


@dataclass
class Header:
    """Where a sheet's header is: the last header row's index, column id → column index, and every column's text."""

    row: int
    columns: dict[str, int]
    texts: list[str] = field(default_factory=list)

    def cell(self, row: tuple, column: str) -> str | None:
        """Given a data row and a column id, return the cell's clean text (None when absent or empty)."""
        j = self.columns.get(column)
        return clean(row[j]) if j is not None and j < len(row) else None


def _labels(rows: list[tuple], i: int, span: int) -> list[list[str]]:
    """Given rows, a header row index and 1 or 2 header rows, return per column the texts it may be
    headed by, the plainest last: its own cell; under a merged cell of the first row, the parent +
    the child below it, then the child."""
    top = list(rows[i])
    if span == 1:
        return [[text] if (text := clean(c)) else [] for c in top]
    below = list(rows[i + 1]) if i + 1 < len(rows) else []
    out, parent = [], ""
    for j in range(max(len(top), len(below))):
        own = clean(top[j]) if j < len(top) else None
        child = clean(below[j]) if j < len(below) else None
        parent = own or (parent if child else "")
        if child:
            out.append([f"{parent}{child}", child] if parent and parent != child else [child])
        else:
            out.append([own] if own else [])
    return out


def find_header(rows: list[tuple], synonyms: dict[str, tuple], required: tuple, what: str, known=None) -> Header:
    """Given a sheet's rows, each column id's names, the ids that must be there and what the sheet is,
    return its Header; a UserError naming the columns looked for when no row of the first few has them.

    `required` holds column ids or tuples of ids of which one is enough; `known(text)` says whether
    some other column text means something (under a merged 联系人: 联系人电话 rather than 电话). A header spread over two rows
    (merged cells above sub-headers) is read as one when that names more columns than either row
    alone: the data start below the second.
    """
    keys = {cid: {header_key(n) for n in names} for cid, names in synonyms.items()}

    def match(text: str) -> str | None:
        key = header_key(text)
        return next((cid for cid, names in keys.items() if key and key in names), None)

    def has(columns: dict) -> bool:
        return all(any(c in columns for c in ((r,) if isinstance(r, str) else r)) for r in required)

    best, best_rank = None, None
    for i in range(min(HEADER_SCAN_ROWS, len(rows))):
        for span in (1, 2):
            columns: dict[str, int] = {}
            texts, named = [], 0
            for j, options in enumerate(_labels(rows, i, span)):
                found = next(((cid, text) for text in options if (cid := match(text)) and cid not in columns), None)
                if found:
                    columns[found[0]] = j
                if not found and known is not None:
                    found = next(((None, text) for text in options if known(text)), None)
                named += found is not None
                texts.append(found[1] if found else (options[-1] if options else ""))
            rank = (named, -span, -i)  # most columns named; then one row rather than two; then the first
            if has(columns) and (best_rank is None or rank > best_rank):
                best, best_rank = Header(i + span - 1, columns, texts), rank
    if best is not None:
        return best
    wanted = "、".join("“" + "”或“".join(synonyms[c][0] for c in ((r,) if isinstance(r, str) else r)) + "”"
                      for r in required)
    also = "；可用的写法：" + "；".join(f"{synonyms[c][0]}：{'/'.join(synonyms[c])}" for r in required
                                  for c in ((r,) if isinstance(r, str) else r) if len(synonyms[c]) > 1)
    raise UserError(f"{what}第一个工作表的前 {HEADER_SCAN_ROWS} 行中找不到表头行（须含 {wanted} 列{also}）")


def column_names(form_id: str, field_id: str, *more: str) -> tuple[str, ...]:
    """Given a form and field id (and extra names), return the column names that mean that field:
    its printed label and aliases in forms/, then `more`."""
    from pipeline.definitions.forms import load_forms

    fld = next(f.fields[field_id] for f in load_forms().values() if f.id == form_id and field_id in f.fields)
    return tuple(dict.fromkeys((fld.plain_label, *fld.aliases, *more)))


#: Roster headers staff write that no form prints, → the label (or alias) of the field they mean. The one
#: table every roster reader consults (generating.packet.column_fields) before the forms' own labels.
ROSTER_SYNONYMS = {
    "联系电话/手机": "联系人电话", "联系电话": "联系人电话", "手机": "联系人电话", "手机号": "联系人电话",
    "手机号码": "联系人电话", "联系手机": "联系人电话",
    "邮政编码": "邮编",
    "E-mail": "邮箱", "Email": "邮箱", "电子邮件": "邮箱", "邮件": "邮箱",
    "法人代表": "法定代表人姓名", "法人": "法定代表人姓名", "法定代表人": "法定代表人姓名",
}
_SYNONYM_KEYS = {header_key(name): label for name, label in ROSTER_SYNONYMS.items()}


def roster_label(header: str) -> str:
    """Given a roster column header (手机, E-mail, 法人代表 …), return the label of the field it means when
    ROSTER_SYNONYMS names it, else the header unchanged."""
    return _SYNONYM_KEYS.get(header_key(header), header)
