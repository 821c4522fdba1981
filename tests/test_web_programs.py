"""Every page for every program: a workspace per program (黑龙江 from the bundled sample, the sister programs
from filled packets written in code), received through the library, then driven through Flask's test client:
the list with each of the program's categories and its 推进单位, the detail pages, stage moves, 补正通知,
推荐汇总表, blank packets, screening and certificates."""

from __future__ import annotations

import io
import re
import zipfile
from collections import deque
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from pipeline.common.resources import SAMPLES
from pipeline.definitions.programs import resolve_campaign, load_program
from pipeline.web.app import create_app, site_of
from program_packets import TYPED, packet_forms, write_filled

PROGRAMS = ("heilongjiang", "liaoning", "national", "guangzhou", "guangdong-stars")
#: The name given to the one applicant of each sister program whose packet lacks a form (so it needs 补正).
INCOMPLETE = "缺表示范有限公司"
#: Where the filled packets name the unit that recommends them (what the sister programs' 推进单位 is).
UNITS = {TYPED["recommending_unit"], TYPED["promoting_unit"]}


def incomplete_packet(pid: str, cid: str):
    """Given a sister program and category, return the `change` that renames the applicant and leaves out the
    packet's last form (a missing form is an error, so the applicant needs 补正)."""
    forms = packet_forms(pid, cid)
    dropped = forms[-1].id
    field = load_program(pid).applicant_field(cid)

    def change(form_id, text):
        if form_id == dropped:
            return None
        if isinstance(text, dict) and field in text:
            return {**text, field: INCOMPLETE}
        return text

    return change


def build(pid: str, root: Path) -> Path:
    """Given a program and a folder, make its workspace there and receive its packets; return the workspace."""
    from pipeline.workspace import Workspace
    from pipeline.workspace.receive import receive

    if pid == "heilongjiang":
        inbox = SAMPLES / "inbox"
    else:
        inbox = root / "inbox"
        program = load_program(pid)
        for cid in program.categories:
            write_filled(pid, cid, inbox / cid)
        first = next(iter(program.categories))
        write_filled(pid, first, inbox / "incomplete", change=incomplete_packet(pid, first))
    with Workspace.init(root / "ws", resolve_campaign(pid, None)) as ws:
        receive(ws, [inbox], received=ws.campaign.deadline, jobs=1)
        # Staff write the award date into the workspace's campaign copy: within the year the titles are valid
        # (the default, today, is past a 2016 or 2021 title's validity).
        with open(root / "ws" / "campaign.yaml", "a", encoding="utf-8") as copy:
            copy.write(f"\naward_date: {ws.campaign.deadline.isoformat()}\n")
    return root / "ws"


_BUILT: dict[str, object] = {}


def app_of(pid: str, tmp_path_factory):
    """Given a program, return the app serving its workspace, built once per test session (and worker)."""
    if pid not in _BUILT:
        root = build(pid, tmp_path_factory.mktemp(f"web-{pid}"))
        _BUILT[pid] = create_app(root, testing=True)
    return _BUILT[pid]


def in_group(pid: str):
    """Given a program, return its pytest.param, in the xdist group of that program's workspace."""
    return pytest.param(pid, marks=pytest.mark.xdist_group(f"web-{pid}"))


@pytest.fixture(scope="module", params=[in_group(p) for p in PROGRAMS])
def served(request, tmp_path_factory):
    """(program id, app) of a workspace of each program, served on loopback (the local user is an administrator)."""
    return request.param, app_of(request.param, tmp_path_factory)


def session_token(client) -> str:
    """Given a client, return the CSRF token of its session."""
    with client.session_transaction() as sess:
        return sess["csrf"]


def client_of(app):
    client = app.test_client()
    client.get("/")  # the session (and its CSRF token) starts with the first page
    return client


def run_job(app, client, url: str, data: dict | None = None):
    """POST to a page that starts a job; return the job once finished."""
    answer = client.post(url, data={"csrf": session_token(client), **(data or {})})
    assert answer.status_code == 302, answer.data.decode()[:400]
    runner = site_of(app).runner
    job = runner.wait(runner.get(answer.location.rsplit("/", 1)[-1]), seconds=600)
    assert client.get(answer.location).status_code == 200
    return job


def listed(page: str) -> list[tuple[int, str, str, str]]:
    """Given the list page, return (id, name, category shown, unit shown) of each row."""
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td><a href="/applicants/\d+">([^<]*)</a></td>\s*'
                      r'<td>([^<]*)</td><td>([^<]*)</td>', page)
    return [(int(i), name, cat, unit) for i, name, cat, unit in rows]


def options(page: str, name: str) -> list[str]:
    """Given a page and a select's name, return the texts of its options."""
    select = re.search(rf'<select name="{name}">(.*?)</select>', page, re.S).group(1)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def all_rows(app):
    return site_of(app).ws.applicants(limit=None).items


def test_the_list_offers_the_programs_categories_and_filters_by_each(served):
    pid, app = served
    program = load_program(pid)
    client = client_of(app)
    page = client.get("/applicants").data.decode()
    assert options(page, "category") == ["全部类别", *[c.name for c in program.categories.values()]]
    everyone = all_rows(app)
    for cid, cat in program.categories.items():
        shown = listed(client.get(f"/applicants?category={cid}").data.decode())
        assert sorted(i for i, *_ in shown) == sorted(r.id for r in everyone if r.category == cid), cid
        assert {c for _, _, c, _ in shown} <= {cat.name}
        if pid != "heilongjiang":  # a filled packet of every category was received
            assert shown, cid


@pytest.mark.xdist_group("web-guangdong-stars")
def test_the_guangdong_list_honours_category_star(tmp_path_factory):
    """Guangdong service stars: ?category=star lists the stars only (the filter was silently dropped)."""
    app = app_of("guangdong-stars", tmp_path_factory)
    client = client_of(app)
    page = client.get("/applicants").data.decode()
    assert options(page, "category") == ["全部类别", "服务明星", "服务明星班组", "杰出管理者", "服务明星企业"]
    stars = listed(client.get("/applicants?category=star").data.decode())
    assert len(stars) >= 1 and {c for _, _, c, _ in stars} == {"服务明星"}
    assert len(listed(page)) > len(stars)


def test_the_unit_filter_lists_the_units_of_the_workspace(served):
    pid, app = served
    client = client_of(app)
    page = client.get("/applicants").data.decode()
    everyone = all_rows(app)
    units = options(page, "unit")[1:]
    if pid != "heilongjiang":
        assert units and set(units) <= UNITS, units  # what the packets name, not an empty filter
    for unit in units:
        shown = listed(client.get("/applicants", query_string={"unit": unit}).data.decode())
        assert shown and {u for *_, u in shown} == {unit}
        assert sorted(i for i, *_ in shown) == sorted(r.id for r in everyone if r.promoting_unit == unit)


def test_every_applicant_has_its_detail_page(served):
    pid, app = served
    program = load_program(pid)
    client = client_of(app)
    for row in all_rows(app):
        page = client.get(f"/applicants/{row.id}").data.decode()
        assert program.category_name(row.category) in page
        assert "没有读出任何表格" not in page
        for form in packet_forms(pid, row.category) if pid != "heilongjiang" else []:
            if row.company_name != INCOMPLETE or form.id != packet_forms(pid, row.category)[-1].id:
                assert f'<h3>{form.printed_title(site_of(app).ws.campaign)}</h3>' in page, form.key


def test_notices_go_to_the_applicants_that_need_them(served):
    pid, app = served
    client = client_of(app)
    failing = [r for r in all_rows(app) if r.status == "incomplete"]
    if pid != "heilongjiang":
        assert [r.company_name for r in failing] == [INCOMPLETE]
    job = run_job(app, client, "/downloads/notices")
    assert job.state == "done", job.message
    assert job.message.startswith(f"已生成 {len(failing)} 份补正通知")
    names = zipfile.ZipFile(job.files[0]).namelist()
    assert len([n for n in names if n.endswith(".docx")]) == len(failing)
    for row in failing:
        assert any(row.company_name in n for n in names), (row.company_name, names)


def test_the_recommendation_tables_are_the_programs_own_named_by_their_unit(served):
    pid, app = served
    job = run_job(app, client_of(app), "/downloads/tables")
    assert job.state == "done", job.message
    names = [p.name for p in job.files]
    assert names and not any(n.startswith("未注明推进单位") for n in names), names
    ws = site_of(app).ws
    complete_units = {r.promoting_unit for r in all_rows(app) if r.status == "complete"}
    assert sorted(names) == sorted(f"{u}_推荐汇总表.docx" for u in complete_units)
    if pid == "liaoning":  # what `manyi summary-table --program liaoning` writes
        assert names == ["沈阳市质量协会_推荐汇总表.docx"]
    text = docx_text(job.files[0])
    assert ws.campaign.association.name in text or str(ws.campaign.year) in text
    complete = [r.company_name for r in all_rows(app) if r.status == "complete" and r.promoting_unit == names[0][:-12]]
    for name in complete:
        assert name in text


def docx_text(path: Path) -> str:
    """Given a .docx, return its paragraphs' and cells' text."""
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def test_the_blank_packet_job_writes_the_programs_packet(served):
    pid, app = served
    program = load_program(pid)
    job = run_job(app, client_of(app), "/packets/blank")
    assert job.state == "done", job.message
    assert job.files[0].suffix == ".zip"  # all of them in one zip first, then each file
    names = [p.name for p in job.files[1:]]
    assert names and all(n.endswith(".docx") for n in names)
    assert sorted(n.rsplit("/", 1)[-1] for n in zipfile.ZipFile(job.files[0]).namelist()) == sorted(names)
    for cat in program.categories.values():
        assert any(cat.name in n for n in names), (cat.name, names)
    assert "输出目录" not in job.message and job.message.startswith("已生成")


def test_screening_lists_every_applicant(served):
    pid, app = served
    job = run_job(app, client_of(app), "/downloads/screen")
    assert job.state == "done", job.message
    assert [p.name for p in job.files] == ["筛选结果.xlsx"]
    book = load_workbook(job.files[0], read_only=True)
    text = "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
    for row in all_rows(app):
        assert row.company_name in text


def stage_path(flow, src: str, dst: str) -> list[str]:
    """Given a workflow and two stages, return the stages a move by move path goes through (src excluded)."""
    seen, todo = {src: []}, deque([src])
    while todo:
        here = todo.popleft()
        for nxt in flow.stage(here).next:
            if nxt not in seen:
                seen[nxt] = seen[here] + [nxt]
                todo.append(nxt)
    return seen[dst]


def test_a_winner_moved_stage_by_stage_gets_a_certificate(served):
    pid, app = served
    ws = site_of(app).ws
    client = client_of(app)
    row = next(r for r in all_rows(app) if r.status == "complete")
    path = stage_path(ws.flow, row.stage, ws.flow.role("winning"))
    for n, stage in enumerate(path):
        answer = client.post(f"/applicants/{row.id}/move", data={"csrf": session_token(client), "to": stage})
        assert answer.status_code == 302
        assert ws.applicant(row.id).row.stage == stage
        if ws.flow.publicity and stage == ws.flow.publicity.stage:  # the stage after 公示 (national: 审定)
            early = client.post(f"/applicants/{row.id}/move",
                                data={"csrf": session_token(client), "to": path[n + 1]})
            assert early.status_code == 400 and "公示期未满" in early.data.decode()
            with ws.engine.begin() as conn:  # the period passes: the applicant entered 公示 two months ago
                conn.execute(sa.text("UPDATE stage_moves SET at = :at WHERE applicant_id = :a AND to_stage = :s"),
                             {"at": "2021-06-01T12:00:00+08:00", "a": row.id, "s": stage})
    assert [w.id for w in ws.winners()] == [row.id]
    job = run_job(app, client, "/downloads/certificates")
    assert job.state == "done", job.message
    assert job.message.startswith("已生成 1 张证书")
    awards = client.get("/awards").data.decode()
    assert row.company_name in awards and re.search(r"编号|证书", awards)
