"""The page speaks the campaign's words: every page of every program's workspace (the workspaces of
tests/test_web_programs.py) is walked through Flask's test client, and its visible text holds no identifier of
the code: no form field id, no issue code or other vocabulary value, no exception class name, no English
stage or status word. The forbidden words are computed from the code, not listed by hand."""

from __future__ import annotations

import builtins
import re
from html.parser import HTMLParser

import pytest

from pipeline.definitions import vocabulary
from pipeline.definitions.programs import load_program
from pathlib import Path

from pipeline.web.app import create_app, site_of
from program_packets import write_filled
from test_web_programs import INCOMPLETE, PROGRAMS, build, client_of, in_group, run_job, session_token

#: The job states a page could leak (jobs.Job.state) and the decisions' kinds.
JOB_STATES = {"waiting", "running", "done", "failed"}


def vocabulary_words() -> set[str]:
    """Return every value of every enumeration of the vocabulary (issue codes, severities, statuses, decisions)."""
    from enum import Enum

    words = set()
    for value in vars(vocabulary).values():
        if isinstance(value, type) and issubclass(value, Enum) and value.__module__ == vocabulary.__name__:
            words |= {str(m.value) for m in value}
    return words


def field_ids(pid: str) -> set[str]:
    """Given a program, return the ids of its forms and of every field of them, and the dotted form.field."""
    words = set()
    for key, form in load_program(pid).forms.items():
        words |= {key, form.id}
        for fid in form.fields:
            words |= {fid, f"{form.id}.{fid}"}
    return words


def exception_names() -> set[str]:
    """Return the names of Python's built-in exceptions (and the pdfium error a preview may raise)."""
    names = {n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)}
    return names | {"PdfiumError", "UserError", "TooMuch"}


def forbidden(pid: str) -> set[str]:
    """Given a program, return the code's words that must never be visible on its pages. Only words that are
    identifiers (an underscore, a dot, an inner capital) or the English vocabulary words are kept: plain
    technical words staff do see (PDF, Word, zip) are not identifiers of the code."""
    words = vocabulary_words() | field_ids(pid) | exception_names() | JOB_STATES
    return {w for w in words if re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", w) and w.lower() not in ALLOWED}


#: Words a field id shares with what staff read on purpose (file kinds the page names).
ALLOWED = {"pdf", "word", "excel", "zip", "xlsx", "docx", "json"}


class Visible(HTMLParser):
    """The text a browser shows: data outside <script>, <style> and <head>, plus the title."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:  # placeholders and button titles are read too
            if name in ("placeholder", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def leaks(text: str, words: set[str]) -> set[str]:
    """Given visible text and the forbidden words, return those found as whole tokens."""
    tokens = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]|[A-Za-z]", text))
    tokens |= {t.strip(".") for t in tokens}
    return tokens & words


def sent_names(app) -> list[str]:
    """Given an app, return the names applicants gave their files and folders (shown as sent, whatever they say:
    a test's folder may well be called "incomplete"), longest first."""
    ws = site_of(app).ws
    names = set()
    for row in ws.applicants(limit=None).items:
        for version in ws.applicant(row.id).versions:
            names.add(version.source)
            names |= {f["name"] for f in version.files if f["name"]}
            names |= {part for f in version.files if f["name"] for part in re.split(r"[/\\]", f["name"])}
    return sorted((n for n in names if n), key=len, reverse=True)


def without(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, " ")
    return text


def pages_of(app, client) -> list[str]:
    """Given an app and a client, return every page to walk: the fixed pages, every applicant and the jobs."""
    ws = site_of(app).ws
    urls = ["/", "/receive", "/packets", "/applicants", "/downloads", "/awards", "/audit", "/users", "/review",
            "/notices"]
    for row in ws.applicants(limit=None).items:
        urls.append(f"/applicants/{row.id}")
    urls.append("/applicants?status=incomplete")
    return urls


#: The legal representative the corrected packet names (a field that changed between versions).
NEW_REPRESENTATIVE = "赵国栋"


def corrected_packet(pid: str, folder: Path) -> Path:
    """Given a sister program and a folder, write the incomplete applicant's corrected packet there: every form,
    and another legal representative (so the comparison has a changed field and a resolved issue)."""
    program = load_program(pid)
    first = next(iter(program.categories))
    field = program.applicant_field(first)

    def change(form_id, text):
        if isinstance(text, dict) and field in text:
            text = {**text, field: INCOMPLETE}
        if isinstance(text, dict) and "legal_representative" in text:
            text = {**text, "legal_representative": NEW_REPRESENTATIVE}
        return text

    write_filled(pid, first, folder / "corrected", change=change)
    return folder


def built(pid: str, root: Path):
    """Given a program and a folder, return an app over a workspace of its own (not the one test_web_programs
    counts on): the program's packets, a corrected version, notices sent, an issue confirmed and another confirmed
    then undone."""
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    folder = build(pid, root)
    if pid != "heilongjiang":
        with Workspace.open(folder) as ws:
            receive(ws, [corrected_packet(pid, root / "inbox2")], received=ws.campaign.deadline, jobs=1)
    app = create_app(folder, testing=True)
    client = client_of(app)
    run_job(app, client, "/downloads/notices")
    ws = site_of(app).ws
    with_issues = [r for r in ws.applicants(limit=None).items if r.errors + r.warnings >= 2]
    if with_issues:
        issues = ws.applicant(with_issues[0].id).open_issues
        for issue in issues[:2]:
            client.post(f"/applicants/{with_issues[0].id}/decide", data={
                "csrf": session_token(client), "code": issue["code"], "form": issue.get("form") or "",
                "field": issue.get("field") or "", "kind": "confirm", "note": "已电话核实"})
        decided = ws.applicant(with_issues[0].id).decided_issues
        client.post(f"/applicants/{with_issues[0].id}/undo",
                    data={"csrf": session_token(client), "decision": decided[-1]["decision_id"]})
    return app, client


@pytest.fixture(scope="module", params=[in_group(p) for p in PROGRAMS])
def walked(request, tmp_path_factory):
    """(program, app, client) of each program's own workspace, after a correction, notices, a decision and an
    undo."""
    pid = request.param
    app, client = built(pid, tmp_path_factory.mktemp(f"words-{pid}"))
    return pid, app, client


def test_no_page_shows_an_identifier_of_the_code(walked):
    pid, app, client = walked
    words = forbidden(pid)
    assert {"late_submission", "company_name", "ValueError", "incomplete"} & words  # the set is not empty by mistake
    found = {}
    names = sent_names(app)
    for url in pages_of(app, client):
        answer = client.get(url)
        assert answer.status_code == 200, url
        leaked = leaks(without(visible_text(answer.data.decode()), names), words)
        if leaked:
            found[url] = sorted(leaked)
    row = site_of(app).ws.applicants(limit=None).items[0]
    refused = client.post(f"/applicants/{row.id}/decide", data={  # an issue no longer open: the error page
        "csrf": session_token(client), "code": "late_submission", "form": "application",
        "field": "legal_representative", "kind": "waive", "note": "理由"})
    assert refused.status_code == 400
    leaked = leaks(visible_text(refused.data.decode()), words)
    if leaked:
        found["decide (refused)"] = sorted(leaked)
    from pipeline.workspace import jobs as stored_jobs

    job_ids = [row["id"] for row in stored_jobs.recent(site_of(app).ws, limit=200)]
    assert job_ids  # the walk made jobs (notices, previews …): their pages are read too
    for job_id in job_ids:
        answer = client.get(f"/jobs/{job_id}")
        leaked = leaks(visible_text(answer.data.decode()), words)
        if leaked:
            found[f"/jobs/{job_id}"] = sorted(leaked)
    assert not found, found


def test_the_detector_finds_what_it_should():
    """The walk would see a leak: a field id with a dot, an issue code, an exception name in visible text (not in
    attributes or scripts)."""
    words = forbidden("heilongjiang")
    html = ('<p>改动：application.legal_representative：（空）</p><input type="hidden" value="late_submission">'
            '<script>var x = "ValueError";</script><div>内部错误（PdfiumError）</div>')
    assert leaks(visible_text(html), words) == {"application.legal_representative", "PdfiumError"}
