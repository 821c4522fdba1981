"""What staff get from the page (issue 27): every notice sent downloadable again, after a restart too; a comparison
in field labels with the changed fields highlighted; plain decisions, a reason for a waiver, an undo; names in
pinyin order; the home page's work waiting; the list as Excel; blank packets in one zip; the limits on 收件;
times in the campaign's time zone. Driven through Flask's test client over a workspace of its own."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pypinyin import lazy_pinyin

from pipeline.common.safety import LIMITS, MB
from pipeline.definitions.vocabulary import Decision
from pipeline.web import auth
from pipeline.web.app import create_app, site_of
from test_web_programs import INCOMPLETE, build, client_of, run_job, session_token
from test_web_words import NEW_REPRESENTATIVE, corrected_packet, visible_text

PID = "liaoning"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A 辽宁 workspace: every category's packet, one packet missing a form (needs 补正)."""
    return build(PID, tmp_path_factory.mktemp("staff"))


@pytest.fixture(scope="module")
def app(root):
    return create_app(root, testing=True)


def local(stamp: str) -> str:
    """Given a stored UTC time, return it in Shanghai as the page writes it (computed here, not by the page)."""
    return datetime.fromisoformat(stamp).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def incomplete_row(app):
    return next(r for r in site_of(app).ws.applicants(limit=None).items if r.company_name == INCOMPLETE)


# --- notices kept in the workspace ---------------------------------------------------------------------


def test_every_notice_sent_can_be_downloaded_again_after_a_restart(app, root):
    client = client_of(app)
    home = visible_text(client.get("/").data.decode())
    assert re.search(r"1\s*家需补正、尚未发补正通知", home), home  # the home page says what waits
    first = run_job(app, client, "/downloads/notices")
    assert first.state == "done" and first.message.startswith("已生成 1 份补正通知"), first.message
    sent = zipfile.ZipFile(first.files[0])
    letter = next(n for n in sent.namelist() if n.endswith(".docx"))
    again = run_job(app, client, "/downloads/notices")
    assert again.message.startswith("已生成 0 份补正通知") and "此前已发过" in again.message
    page = client.get(f"/jobs/{again.id}").data.decode()
    assert 'href="/notices"' in page  # the second run links to the notices kept

    restarted = create_app(root, testing=True)  # a new application object: jobs in memory are gone
    fresh = client_of(restarted)
    listing = fresh.get("/notices").data.decode()
    number = site_of(restarted).ws.applicant(incomplete_row(restarted).id).notices[0]["number"]
    assert number in listing and INCOMPLETE in listing
    one = fresh.get(f"/notices/{number}/0")
    assert one.status_code == 200 and one.data == sent.read(letter)
    everything = zipfile.ZipFile(io.BytesIO(fresh.get("/notices.zip").data))
    assert [n.rsplit("/", 1)[-1] for n in everything.namelist()] == [letter.rsplit("/", 1)[-1]]
    assert everything.read(everything.namelist()[0]) == sent.read(letter)
    detail = fresh.get(f"/applicants/{incomplete_row(restarted).id}").data.decode()
    assert f'href="/notices/{number}/0"' in detail
    assert fresh.get(f"/notices/{number}/1").status_code == 404
    assert fresh.get("/notices/BZ1999-0001/0").status_code == 404


# --- the comparison in words -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corrected(app, root, tmp_path_factory):
    """The incomplete applicant's corrected packet received as its second version (another legal
    representative); returns the applicant's id."""
    from pipeline.workspace.receive import receive

    ws = site_of(app).ws
    receive(ws, [corrected_packet(PID, tmp_path_factory.mktemp("corrected"))], received=ws.campaign.deadline, jobs=1)
    return incomplete_row(app).id


def test_the_comparison_names_fields_by_their_labels_and_marks_them(app, corrected):
    page = client_of(app).get(f"/applicants/{corrected}").data.decode()
    text = visible_text(page)
    assert "legal_representative" not in text and "改动：application" not in text
    assert re.search(rf"改动：《[^》]+申报表》法定代表人：王建国 → {NEW_REPRESENTATIVE}", text), text
    changed = re.findall(r'<tr class="changed"[^>]*><th>(?:<span[^>]*>[^<]*</span>)?([^<]+)</th><td>([^<]*)', page)
    assert ("法定代表人", f"{NEW_REPRESENTATIVE} ") in changed, changed
    unchanged = re.findall(r"<tr><th>(?:<span[^>]*>[^<]*</span>)?([^<]+)</th>", page)
    assert "统一社会信用代码" in unchanged or "联系人" in unchanged  # only what changed is marked


# --- decisions: plain words, a reason for a waiver, an undo ---------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The page over a 黑龙江 workspace of the bundled sample (its applicants have warnings to decide on)."""
    return create_app(build("heilongjiang", tmp_path_factory.mktemp("sample")), testing=True)


def open_issue(app):
    """Return (applicant id, one of its open issues) of an applicant with open issues."""
    ws = site_of(app).ws
    row = next(r for r in ws.applicants(limit=None).items if r.errors + r.warnings)
    return row.id, ws.applicant(row.id).open_issues[0]


def decide(client, aid: int, issue: dict, kind: str, note: str = ""):
    return client.post(f"/applicants/{aid}/decide", data={
        "csrf": session_token(client), "code": issue["code"], "form": issue.get("form") or "",
        "field": issue.get("field") or "", "kind": kind, "note": note})


def test_decisions_say_what_they_do_a_waiver_needs_a_reason_and_an_undo_reopens(sample):
    app = sample
    client = client_of(app)
    aid, issue = open_issue(app)
    ws = site_of(app).ws
    page = client.get(f"/applicants/{aid}").data.decode()
    assert "接受此项，按现状处理" in page and ">人工确认<" not in page
    before = len(ws.applicant(aid).open_issues)
    refused = decide(client, aid, issue, "waive")
    assert refused.status_code == 400 and "理由" in refused.data.decode()
    assert len(ws.applicant(aid).open_issues) == before  # nothing recorded
    assert decide(client, aid, issue, "waive", "已电话核实，按现状受理").status_code == 302
    decided = ws.applicant(aid).decided_issues
    assert len(ws.applicant(aid).open_issues) == before - 1 and decided[0]["decision"] == "waive"
    again = decide(client, aid, issue, "confirm")  # the same issue a second time: gone from the open ones
    assert again.status_code == 400 and issue["code"] not in visible_text(again.data.decode())
    page = client.get(f"/applicants/{aid}").data.decode()
    assert "撤销这项处理" in page and Decision.WAIVE.done in page
    undone = client.post(f"/applicants/{aid}/undo", data={"csrf": session_token(client),
                                                          "decision": decided[0]["decision_id"]})
    assert undone.status_code == 302
    assert len(ws.applicant(aid).open_issues) == before and not ws.applicant(aid).decided_issues
    log = ws.audit_log(applicant_id=aid, limit=5)
    assert log[0]["action"] == "undo" and log[0]["detail"]["code"] == issue["code"]
    audit = visible_text(client.get("/audit").data.decode())
    assert "撤销人工处理" in audit and "已电话核实，按现状受理" in audit
    gone = client.post(f"/applicants/{aid}/undo", data={"csrf": session_token(client),
                                                        "decision": decided[0]["decision_id"]})
    assert gone.status_code == 400


# --- the audit log and times --------------------------------------------------------------------------


def test_the_audit_log_speaks_in_words_and_local_time(app, corrected):
    client = client_of(app)
    text = visible_text(client.get("/audit").data.decode())
    for word in ("address", "target", "detail", "code：", "from：", "to：", "version：", "source：", "digest", "UTC"):
        assert word not in text, word
    assert not re.search(r"[0-9a-f]{40,}", text)  # no digest
    ws = site_of(app).ws
    import sqlalchemy as sa

    from pipeline.workspace import db

    with ws.reader.connect() as conn:  # the stamp as stored (UTC), not as the library hands it out (local)
        stored = conn.execute(sa.select(db.audit.c.at).order_by(db.audit.c.id.desc()).limit(1)).scalar_one()
    assert local(stored) in text and stored[:16].replace("T", " ") != local(stored)
    assert f"编号 {corrected}" not in text and INCOMPLETE in text  # applicants by name
    moves = ws.applicant(corrected).moves
    detail = visible_text(client.get(f"/applicants/{corrected}").data.decode())
    assert all(local(m["at"]) in detail for m in moves if "+" not in m["at"][10:])


def test_the_home_page_shows_work_not_sign_ins(root):
    lan = create_app(root, host="192.0.2.10", testing=True)
    store = site_of(lan).store
    store.add_user("wangmin", "staff", auth.hash_password("correct horse battery"))
    client = lan.test_client()
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").data.decode()).group(1)
    assert client.post("/login", data={"name": "wangmin", "password": "correct horse battery",
                                       "csrf": token}).status_code == 302
    home = client.get("/").data.decode()
    recent = visible_text(home.split("最近的处理", 1)[1].split("活动信息", 1)[0])
    assert "登录" not in recent and "收件" in recent
    assert "待办" in home and "项任务正在进行或排队" in visible_text(home)


# --- names in pinyin order ------------------------------------------------------------------------------


def test_the_list_is_in_pinyin_order(app):
    page = client_of(app).get("/applicants").data.decode()
    names = re.findall(r'<td><a href="/applicants/\d+">([^<]*)</a></td>', page)
    assert len(set(names)) >= 2
    assert names == sorted(names, key=lambda n: ("".join(lazy_pinyin(n)), n))
    assert sorted(set(names)) != sorted(set(names), key=lambda n: "".join(lazy_pinyin(n)))  # code points differ


# --- the list to Excel, blank packets in one zip, the limits on 收件 ----------------------------------------


def test_the_filtered_list_goes_to_excel_without_formulas(app):
    client = client_of(app)
    page = client.get("/applicants?category=enterprise").data.decode()
    assert 'href="/applicants.xlsx?category=enterprise' in page
    answer = client.get("/applicants.xlsx?category=enterprise")
    assert answer.status_code == 200
    book = load_workbook(io.BytesIO(answer.data))
    sheet = book.active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    ws = site_of(app).ws
    expected = ws.applicants(category="enterprise", limit=None).items
    assert sorted(r[0] for r in rows) == sorted(r.id for r in expected) and len(rows) < ws.applicants().total
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert all(isinstance(r[-1], datetime) for r in rows)
    first = next(r for r in expected if r.id == rows[0][0])
    assert rows[0][-1].strftime("%Y-%m-%d %H:%M") == local(first.updated_at)


def test_blank_packets_come_in_one_zip(app):
    job = run_job(app, client_of(app), "/packets/blank")
    assert job.state == "done", job.message
    archive = zipfile.ZipFile(job.files[0])
    inside = [n.rsplit("/", 1)[-1] for n in archive.namelist() if n.endswith(".docx")]
    assert sorted(inside) == sorted(p.name for p in job.files[1:] if p.suffix == ".docx")
    names = site_of(app).ws.program.category_names().values()
    assert all(any(name in n for n in inside) for name in names)


def test_receive_shows_the_limits_of_one_file_and_one_package(app):
    text = re.sub(r"\s+", "", visible_text(client_of(app).get("/receive").data.decode()))
    assert f"每个文件不超过{LIMITS['file_size'] // MB}MB" in text
    assert f"最多{LIMITS['zip_members']}个文件" in text


# --- jobs in words ------------------------------------------------------------------------------------


def test_a_preview_job_is_named_by_the_company_and_fails_in_plain_words(app, monkeypatch):
    import pypdfium2

    from pipeline.workspace import previews

    def broken(*args, **kwargs):
        raise pypdfium2.PdfiumError("Failed to load document (PDFium: Data format error).")

    monkeypatch.setattr(previews, "make_previews", broken)
    client = client_of(app)
    row = incomplete_row(app)
    job = run_job(app, client, f"/applicants/{row.id}/previews")
    assert job.title == f"生成预览：{row.company_name}"
    assert job.state == "failed" and "PdfiumError" not in job.message and "Error" not in job.message
    assert "生成预览" in job.message


def test_a_damaged_pdf_gets_no_preview_and_the_others_do(tmp_path):
    from pipeline.workspace.previews import render_pages

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\nnot really a pdf")
    assert render_pages([bad], tmp_path / "out") == (0, 1)


def test_downloads_made_on_request_do_not_pile_up(tmp_path):
    import os
    import time

    from pipeline.web.views import EXPORT_KEEP_S, export_path

    first = export_path(tmp_path, "申报列表.xlsx")
    first.write_bytes(b"old")
    hours_ago = time.time() - EXPORT_KEEP_S - 60
    os.utime(first, (hours_ago, hours_ago))
    recent = export_path(tmp_path, "补正通知.zip")
    recent.write_bytes(b"new")
    other = tmp_path / "说明.txt"  # not one of the page's downloads
    other.write_bytes(b"keep")
    os.utime(other, (hours_ago, hours_ago))
    third = export_path(tmp_path, "申报列表.xlsx")
    assert not first.exists() and recent.exists() and other.exists()
    assert third != first and third.name.startswith("申报列表-") and third.suffix == ".xlsx"
