"""Fill Word forms the way an applicant does, in LibreOffice itself, through UNO (run by the system Python).

    /usr/bin/python3 tests/uno_fill.py jobs.json

jobs.json: {"jobs": [{"source": blank.docx, "steps": [...], "save": {"docx": …, "doc": …, "pdf": …}}]}.
One headless soffice serves every job; each document is opened, typed into (cells beside their
labels, after an inline label's colon, a checklist row's column, a list's rows, rows added at the
end, paragraphs written under a title), its boxes ticked (☐ before the option becomes ☑), and saved
by LibreOffice's own filters. Steps find their place by printed text only, as a person does.
Prints one JSON line per job: {"source", "saved": {...}} or {"source", "error"}.

No pipeline imports: this runs outside the project's virtualenv (python3-uno is a system package).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno  # noqa: F401 - python3-uno
from com.sun.star.beans import PropertyValue

BOX, TICK = "☐", "☑"
FILTERS = {"docx": "MS Word 2007 XML", "doc": "MS Word 97", "pdf": "writer_pdf_Export"}
_NAME = re.compile(r"^([A-Z]+)(\d+)$")


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def norm(text: str) -> str:
    return "".join(text.split())


def start(profile: Path, pipe: str):
    soffice = shutil.which("soffice") or "/usr/bin/soffice"
    proc = subprocess.Popen([soffice, "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
                             f"-env:UserInstallation={profile.as_uri()}", f"--accept=pipe,name={pipe};urp;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(240):
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return proc, ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError("soffice did not start")


def col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def table_rows(table) -> list[list]:
    """Given a text table, return its cells row by row, left to right (merged cells appear once)."""
    rows: dict[int, list] = {}
    for name in table.getCellNames():
        match = _NAME.match(name)
        if match:
            rows.setdefault(int(match[2]), []).append((col_number(match[1]), table.getCellByName(name)))
    return [[cell for _, cell in sorted(cells, key=lambda c: c[0])] for _, cells in sorted(rows.items())]


class Grid:
    """A document's tables read once: every row's cells and their printed text (UNO calls cost a round trip each)."""

    def __init__(self, doc):
        self.tables = []
        tables = doc.getTextTables()
        for t in range(tables.getCount()):
            table = tables.getByIndex(t)
            rows = table_rows(table)
            self.tables.append((table, [[(cell, norm(cell.getString())) for cell in row] for row in rows]))

    def cells(self):
        """Yield (row, index) for every cell of every table, in order."""
        for _, rows in self.tables:
            for row in rows:
                yield from ((row, i) for i in range(len(row)))


def insert_at(text_owner, index: int, inserted: str, replace: int = 0) -> None:
    """Type `inserted` at character `index` of a cell or paragraph (replacing `replace` characters)."""
    text = text_owner.getText()
    cursor = text.createTextCursorByRange(text_owner.getStart())
    cursor.goRight(index, False)
    if replace:
        cursor.goRight(replace, True)
    for n, line in enumerate(inserted.split("\n")):
        if n:
            text.insertControlCharacter(cursor, 0, False)  # PARAGRAPH_BREAK
        text.insertString(cursor, line, replace > 0 and n == 0)


def tick(cell, option: str) -> None:
    string = cell.getString()
    at = string.find(BOX + option)
    if at < 0:
        raise LookupError(f"no box for {option!r} in {string!r}")
    insert_at(cell, at, TICK, replace=1)


def label_cell(grid: Grid, label: str, nth: int):
    hits = [(row, i) for row, i in grid.cells() if row[i][1] == norm(label)]
    if len(hits) <= nth:
        raise LookupError(f"no label {label!r} (#{nth})")
    return hits[nth]


def do_step(doc, grid: Grid, step: dict) -> None:
    op = step["op"]
    if op in ("beside", "tick"):
        row, i = label_cell(grid, step["label"], step.get("nth", 0))
        cell = row[i + 1][0]
        if op == "tick":
            tick(cell, step["option"])
        else:
            cell.setString(step["text"])
    elif op == "inline":
        for row, i in grid.cells():
            if row[i][1].startswith(norm(step["label"]) + "："):
                cell = row[i][0]
                insert_at(cell, cell.getString().index("：") + 1, step["text"])
                return
        raise LookupError(f"no inline label {step['label']!r}")
    elif op == "row":
        for _, rows in grid.tables:
            for row in rows:
                if len(row) > step["col"] and row[step["key_col"]][1] == norm(step["key"]):
                    cell = row[step["col"]][0]
                    if "option" in step:
                        tick(cell, step["option"])
                    else:
                        cell.setString(step["text"])
                    return
        raise LookupError(f"no row {step['key']!r}")
    elif op == "line":
        paragraphs = doc.getText().createEnumeration()
        while paragraphs.hasMoreElements():
            para = paragraphs.nextElement()
            if para.supportsService("com.sun.star.text.Paragraph"):
                string = para.getString()
                if norm(string).startswith(norm(step["label"]) + "："):
                    insert_at(para, string.index("：") + 1, step["text"])
                    return
        raise LookupError(f"no line {step['label']!r}")
    elif op == "rows":
        for table, rows in grid.tables:
            if rows and rows[0][0][1] == norm(step["header"]):
                for values, cells in zip(step["rows"], rows[1:]):
                    for value, (cell, _) in zip(values, cells):
                        cell.setString(value)
                for values in step.get("added") or []:  # rows the applicant adds at the end of the list
                    table.getRows().insertByIndex(table.getRows().getCount(), 1)
                    for value, cell in zip(values, table_rows(table)[-1]):
                        cell.setString(value)
                return
        raise LookupError(f"no list headed {step['header']!r}")
    elif op == "append":
        text = doc.getText()
        for line in step["lines"]:
            text.insertControlCharacter(text.getEnd(), 0, False)
            text.insertString(text.getEnd(), line, False)
    else:
        raise ValueError(op)


def run(jobs: list[dict]) -> None:
    profile = Path(tempfile.mkdtemp(prefix="manyi-uno-"))
    proc, desktop = start(profile, f"manyi{os.getpid()}")
    try:
        for job in jobs:
            doc = None
            try:
                doc = desktop.loadComponentFromURL(Path(job["source"]).resolve().as_uri(), "_blank", 0,
                                                   (prop("Hidden", True),))
                grid = Grid(doc)
                for step in job["steps"]:
                    do_step(doc, grid, step)
                for kind, target in job["save"].items():
                    doc.storeToURL(Path(target).resolve().as_uri(), (prop("FilterName", FILTERS[kind]),))
                print(json.dumps({"source": job["source"], "saved": job["save"]}, ensure_ascii=False), flush=True)
            except Exception as exc:  # noqa: BLE001 - reported per job, the others go on
                print(json.dumps({"source": job["source"], "error": f"{type(exc).__name__}: {exc}"},
                                 ensure_ascii=False), flush=True)
            finally:
                if doc is not None:
                    doc.close(True)
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the bridge goes down with soffice
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    run(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))["jobs"])
