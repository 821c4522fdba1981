"""A small LibreOffice client for tests: documents edited as a person edits them in Writer, then saved.

Run with the system Python that has Debian's python3-uno (not the project's virtualenv):

    /usr/bin/python3 tests/office_client.py JOB.json

One soffice start per job (its own throw-away profile, headless, listening on a pipe), every task
of the job done through UNO, then soffice quits. The job is JSON:

    {"tasks": [
       {"open": "in.docx",
        "track_changes": true,                      # record the edits below as tracked changes
        "edits": [
          {"beside": "企业名称", "text": "华光公司"},    # type into the cell right of the label cell ("\n" Enter, "\v" Shift+Enter)
          {"after": "推荐意见：", "text": "同意。"},    # type right after the first such text
          {"delete": "某段文字"},                     # delete the first such text
          {"replace": "旧", "text": "新", "nth": 1},  # replace the second such text ("nth" for any of these)
          {"add_row_after": "13900000060", "cells": ["61", "张三"]},  # a table row after the row holding it
          {"beside": "第七条", "right": 2, "text": "附件1"},  # the second cell right of the label (a checklist row)
          {"tick": "标杆", "beside": "申报等级"},          # ☐标杆 → ☑标杆 in the cell beside the label
          {"append": ["一、概况", "正文……"]},            # paragraphs typed at the end of the document
          {"accept_all": true}                       # accept every tracked change so far
        ],
        "save": ["out.docx", "out.doc", "out.pdf"]}  # by extension: docx, doc, pdf, odt
    ]}

Paths are relative to the job file's folder. The result is written beside the job as
JOB.result.json: {"tasks": [{"saved": [...], "errors": [...]}]}; an edit that finds nothing is an
error of its task (the others still run). The exit status is 0 when soffice could be started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import uno  # noqa: F401 - Debian's python3-uno: run this file with /usr/bin/python3
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

FILTERS = {".docx": "MS Word 2007 XML", ".doc": "MS Word 97", ".pdf": "writer_pdf_Export", ".odt": "writer8"}


def prop(name, value):
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


def fold(text: str) -> str:
    """Given a label, return it without spaces, full-width forms folded (as the parser compares labels)."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(text.split()).rstrip(":：")


# --- soffice -------------------------------------------------------------------------------------


def start_office(work: Path) -> tuple[subprocess.Popen, object, object]:
    """Given a scratch folder, start soffice listening on a pipe; return the process, its context and its desktop."""
    pipe = f"manyi_office_{os.getpid()}"
    profile = work / "profile"
    cmd = [shutil.which("soffice") or "soffice", "--headless", "--invisible", "--norestore", "--nolockcheck",
           "--nodefault", "--nologo", f"-env:UserInstallation={profile.as_uri()}",
           f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"]
    env = dict(os.environ, SAL_USE_VCLPLUGIN="svp", HOME=str(work))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 120
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if time.monotonic() > deadline or proc.poll() is not None:
                stop_office(proc, None)
                raise RuntimeError("soffice did not start") from None
            time.sleep(0.3)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return proc, ctx, desktop


def stop_office(proc: subprocess.Popen, desktop) -> None:
    """Ask soffice to quit, then make sure its whole process group is gone."""
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the bridge drops as soffice quits
            pass
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


# --- edits ---------------------------------------------------------------------------------------


def find(doc, text: str, nth: int = 0):
    """Given a document, a text and n, return the range holding its n-th occurrence (0: the first), or None."""
    search = doc.createSearchDescriptor()
    search.SearchString = text
    found = doc.findFirst(search)
    for _ in range(nth):
        if found is None:
            break
        found = doc.findNext(found.End, search)
    return found


def table_cells(doc) -> list[list]:
    """Given a document, return [table, cell name, folded text, table name] for every cell, read once per document.

    Every UNO call is a round trip to soffice: a form's labels are read once, not once per edit. The
    texts are kept up to date by the edits that type into a cell; any other edit drops them (`forget`).
    """
    if CELLS.get("doc") is not doc:
        tables = doc.TextTables
        found = []
        for i in range(tables.Count):
            table = tables.getByIndex(i)
            found += [[table, name, fold(table.getCellByName(name).String), table.Name] for name in table.CellNames]
        CELLS.update(doc=doc, cells=found)
    return CELLS["cells"]


def forget() -> None:
    """Drop the cell texts read (after an edit that may change any of them)."""
    CELLS.clear()


#: The open document's cells and their folded texts (table_cells).
CELLS: dict = {}


def cell_beside(doc, label: str, nth: int = 0, right: int = 1):
    """Given a document, a label and n, return the table cell right of the n-th cell whose text is that label
    (`right` cells to its right)."""
    key = fold(label)
    for table, name, text, table_name in table_cells(doc):
        if text == key:
            if nth:
                nth -= 1
                continue
            cursor = table.createCursorByCellName(name)
            if cursor.goRight(right, False):
                CELLS["last"] = (table_name, cursor.RangeName)
                return table.getCellByName(cursor.RangeName)
    return None


def typed_into(doc, cell) -> None:
    """Given a document and the cell cell_beside last returned, just typed into, refresh its remembered text."""
    where = CELLS.get("last")
    for entry in CELLS.get("cells") or () if CELLS.get("doc") is doc else ():
        if (entry[3], entry[1]) == where:
            entry[2] = fold(cell.String)


def type_at_end(cell, text: str) -> None:
    """Given a cell (or any text), type text at its end, as the cursor lands there: '\n' is Enter (a new
    paragraph), '\v' Shift+Enter (a line break inside the paragraph)."""
    body = cell.Text
    cursor = body.createTextCursorByRange(body.End)
    first, *rest = text.split("\v")
    body.insertString(cursor, first, False)
    for part in rest:
        body.insertControlCharacter(cursor, 1, False)  # LINE_BREAK
        body.insertString(cursor, part, False)


def add_row_after(doc, holding: str, cells: list[str]) -> bool:
    """Given a document, a text in a table row and the new row's texts, insert the row below; False if not found."""
    found = find(doc, holding)
    if found is None or found.TextTable is None:
        return False
    table, cell = found.TextTable, found.Cell
    row = int("".join(ch for ch in cell.CellName.split(".")[0] if ch.isdigit())) - 1
    table.Rows.insertByIndex(row + 1, 1)
    names = [n for n in table.CellNames if n.split(".")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == str(row + 2)]
    names.sort(key=lambda n: (len(n.split(".")[0]), n))
    for name, text in zip(names, cells):
        type_at_end(table.getCellByName(name), text)
    return True


BOXES, TICK = ("\u25a1", "\u2610"), "\u25a0"  # the printed box □ (older templates ☐) → ■, as the house style ticks


def tick(cell, option: str) -> bool:
    """Given a cell and an option printed in it, tick its box (□option → ☑option); False when there is none."""
    at = max(cell.String.find(box + option) for box in BOXES)
    if at < 0:
        return False
    cursor = cell.Text.createTextCursorByRange(cell.Text.Start)
    cursor.goRight(at, False)
    cursor.goRight(1, True)
    cursor.String = TICK
    return True


def append(doc, lines: list[str]) -> None:
    """Given a document and lines, type each as a new paragraph at the document's end."""
    body = doc.Text
    for line in lines:
        body.insertControlCharacter(body.End, 0, False)  # PARAGRAPH_BREAK
        body.insertString(body.End, line, False)


def apply(doc, edit: dict) -> str | None:
    """Given an open document and one edit, do it; return an error text, or None when done."""
    if "tick" in edit:
        cell = cell_beside(doc, edit["beside"], edit.get("nth", 0), edit.get("right", 1))
        if cell is None or not tick(cell, edit["tick"]):
            return f"no box {edit['tick']!r} beside {edit['beside']!r}"
        typed_into(doc, cell)
        return None
    if "beside" in edit:
        cell = cell_beside(doc, edit["beside"], edit.get("nth", 0), edit.get("right", 1))
        if cell is None:
            return f"no cell beside {edit['beside']!r}"
        type_at_end(cell, edit["text"])
        typed_into(doc, cell)
        return None
    forget()  # the edits below may change any cell's text or the tables themselves
    if "append" in edit:
        append(doc, edit["append"])
    elif "after" in edit:
        found = find(doc, edit["after"], edit.get("nth", 0))
        if found is None:
            return f"no text {edit['after']!r}"
        cursor = found.Text.createTextCursorByRange(found.End)
        first, *rest = edit["text"].split("\v")
        found.Text.insertString(cursor, first, False)
        for part in rest:
            found.Text.insertControlCharacter(cursor, 1, False)  # LINE_BREAK (Shift+Enter)
            found.Text.insertString(cursor, part, False)
    elif "delete" in edit or "replace" in edit:
        target = edit.get("delete") or edit.get("replace")
        found = find(doc, target, edit.get("nth", 0))
        if found is None:
            return f"no text {target!r}"
        found.String = edit.get("text", "")
    elif "add_row_after" in edit:
        if not add_row_after(doc, edit["add_row_after"], edit.get("cells", [])):
            return f"no table row holding {edit['add_row_after']!r}"
    elif edit.get("accept_all"):
        dispatch(doc, ".uno:AcceptAllTrackedChanges")
    else:
        return f"unknown edit {edit!r}"
    return None


def dispatch(doc, command: str) -> None:
    """Given a document and a menu command (.uno:…), run it on the document's frame."""
    helper = OFFICE["ctx"].ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", OFFICE["ctx"])
    helper.executeDispatch(doc.CurrentController.Frame, command, "", 0, ())


#: The running office's component context (set by main).
OFFICE: dict = {}


# --- tasks ---------------------------------------------------------------------------------------


def run_task(desktop, task: dict, base: Path) -> dict:
    """Given the desktop, one task and the job's folder, open, edit and save; return what was saved and the errors."""
    result = {"saved": [], "errors": []}
    source = (base / task["open"]).resolve()
    doc = desktop.loadComponentFromURL(source.as_uri(), "_blank", 0, (prop("Hidden", True),))
    if doc is None:
        result["errors"].append(f"cannot open {task['open']}")
        return result
    try:
        if task.get("track_changes"):
            doc.RecordChanges = True
        for edit in task.get("edits", []):
            error = apply(doc, edit)
            if error:
                result["errors"].append(error)
        for out in task.get("save", []):
            target = (base / out).resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            doc.storeToURL(target.as_uri(), (prop("FilterName", FILTERS[target.suffix.lower()]),
                                             prop("Overwrite", True)))
            result["saved"].append(out)
    except Exception as exc:  # noqa: BLE001 - reported in the result, the job goes on
        result["errors"].append(f"{type(exc).__name__}: {exc}")
    finally:
        forget()
        doc.close(True)
    return result


def main(job_path: str) -> int:
    """Given a job file, run its tasks in one soffice start and write JOB.result.json; return the exit status."""
    job_file = Path(job_path).resolve()
    job = json.loads(job_file.read_text(encoding="utf-8"))
    work = Path(tempfile.mkdtemp(prefix="manyi-office-client-"))
    try:
        proc, OFFICE["ctx"], desktop = start_office(work)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        return 1
    try:
        results = [run_task(desktop, task, job_file.parent) for task in job["tasks"]]
    finally:
        stop_office(proc, desktop)
        shutil.rmtree(work, ignore_errors=True)
    out = job_file.with_suffix(".result.json")
    out.write_text(json.dumps({"tasks": results}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
