"""The campaign workspace on SQLite and on a real PostgreSQL: versions, comparisons, decisions, stages, notices,
outputs, export/import, a killed receive, and the whole staff job from the command line."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from pypinyin import lazy_pinyin
import sqlalchemy as sa

from pipeline.common.errors import UserError
from pipeline.common.resources import SAMPLES
from pipeline.issuing import register
from pipeline.definitions.programs import resolve_campaign

pytestmark = pytest.mark.xdist_group("workspace")  # one worker, one PostgreSQL cluster (per worker session)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = SAMPLES / "inbox"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


# --- a throwaway PostgreSQL cluster -----------------------------------------------------------------


def _pg_bin() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else PG_BIN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster started for this test run (as the postgres user), stopped at its end: its base URL.
    It fails, never skips, when PostgreSQL cannot be started."""
    bindir = _pg_bin()
    assert (bindir / "initdb").exists(), f"PostgreSQL 未安装（{bindir}）：apt-get install postgresql"
    base = Path(tempfile.mkdtemp(prefix="manyi-pg-"))
    port = _free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_pg:
        shutil.chown(base, "postgres")
    subprocess.run(as_pg + [str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust",
                            "-E", "UTF8", "--locale=C.UTF-8", "-N"], check=True, capture_output=True)
    subprocess.run(as_pg + [str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w", "-o",
                            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(as_pg + [str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


_COUNTER = iter(range(10**6))


def fresh_database(postgres: str) -> str:
    """Given the cluster's base URL, create an empty database and return its URL."""
    name = f"ws_{os.getpid()}_{next(_COUNTER)}"
    engine = sa.create_engine(f"{postgres}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return f"{postgres}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """None (the SQLite file in the workspace) or the URL of a new PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return fresh_database(request.getfixturevalue("postgres"))


# --- inputs built in code ----------------------------------------------------------------------------

COMPANIES = ["松花江电器有限公司", "兴安岭食品有限公司", "镜泊湖电子有限公司", "五大连池饮品有限公司"]


def packet_folder(folder: Path, category: str, company: str, **changes) -> Path:
    """Given a new folder, write a packet there (.docx) with its report: a submission with no error but `changes`."""
    from corpus import packet_values, report_docx, template_packet

    folder.mkdir(parents=True)
    template_packet(folder / "申报材料.docx", category, packet_values(category, company=company, **changes))
    report_docx(folder / "实施用户满意工程情况的报告.docx", company)
    return folder


def product_packet(folder: Path, company: str, model: str = "KFR-35GW") -> Path:
    return packet_folder(folder, "product", company, application__product_model=model)


@pytest.fixture(scope="session")
def packets(tmp_path_factory):
    """Four product packets (.docx), the first filed as a series (an error), and the first corrected."""
    root = tmp_path_factory.mktemp("packets")
    inbox = root / "inbox"
    inbox.mkdir()
    for n, company in enumerate(COMPANIES):
        product_packet(inbox / company, company, "BCD 全系列" if n == 0 else "KFR-35GW")
    fixed = root / "fixed"
    fixed.mkdir()
    product_packet(fixed / f"{COMPANIES[0]}（补正）", COMPANIES[0], "BCD-520WK")
    return inbox, fixed


def corrected_zip(src: Path, dst: Path, old: str, new: str) -> Path:
    """Given a zip of .docx packets, write a copy with `old` replaced by `new` in every document body."""
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.lower().endswith(".docx"):
                buf = io.BytesIO()
                with zipfile.ZipFile(io.BytesIO(data)) as inner, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as w:
                    for member in inner.infolist():
                        body = inner.read(member)
                        w.writestr(member, body.replace(old.encode(), new.encode())
                                   if member.filename == "word/document.xml" else body)
                data = buf.getvalue()
            zout.writestr(info, data)
    dst.write_bytes(out.getvalue())
    return dst


def make(tmp_path: Path, db_url: str | None, name: str = "ws"):
    from pipeline.workspace import Workspace

    return Workspace.init(tmp_path / name, resolve_campaign("heilongjiang", None), db_url=db_url)


def receive(ws, *paths, **kw):
    from pipeline.workspace.receive import receive as run

    return run(ws, list(paths), jobs=kw.pop("jobs", 1), **kw)


# --- the library --------------------------------------------------------------------------------------


def test_versions_comparisons_notices_and_decisions(tmp_path, db_url, packets):
    from pipeline.workspace.outputs import workspace_notices

    inbox, fixed = packets
    with make(tmp_path, db_url) as ws:
        first = receive(ws, inbox)
        assert first.new_applicants == 4 and len(first.stored) == 4
        counts = ws.stage_counts()
        assert counts["需补正"] == 1 and counts["材料齐全"] == 3
        aid = ws.find(COMPANIES[0])

        sent = workspace_notices(ws, tmp_path / "notices", by="王敏")
        assert [r["applicant_id"] for r in sent.recorded] == [aid]
        assert sent.recorded[0]["items"] and "series_product" in sent.recorded[0]["items"]
        again = workspace_notices(ws, tmp_path / "notices2", by="王敏")
        assert again.recorded == [] and again.already_sent == 1  # one notice per version

        second = receive(ws, fixed)
        assert second.new_applicants == 0 and [r.seq for r in second.stored] == [2]
        detail = ws.applicant(aid)
        assert [v.seq for v in detail.versions] == [1, 2]
        comparison = detail.versions[1].comparison
        assert [i["code"] for i in comparison["resolved"]] == ["series_product"]
        assert {"form": "application", "field": "product_model", "before": "BCD 全系列",
                "after": "BCD-520WK"} in comparison["fields_changed"]
        assert comparison["notice"]["number"] == sent.recorded[0]["number"]
        assert [i["code"] for i in comparison["notice"]["answered"]] == ["series_product"]
        assert comparison["notice"]["unanswered"] == []
        assert [m["to_stage"] for m in detail.moves] == ["已收到", "需补正", "已补正", "材料齐全"]
        assert detail.row.stage == "材料齐全" and detail.row.status == "complete"


def test_unchanged_entries_are_recognised_and_files_kept_once(tmp_path, db_url, packets):
    inbox, _ = packets
    with make(tmp_path, db_url) as ws:
        receive(ws, inbox)
        stored = sorted((ws.root / "store").rglob("*.bin"))
        mtimes = [p.stat().st_mtime_ns for p in stored]
        again = receive(ws, inbox)
        assert again.stored == [] and len(again.unchanged) == 4
        assert sum(r.version_count for r in ws.applicants().items) == 4
        assert [p.stat().st_mtime_ns for p in sorted((ws.root / "store").rglob("*.bin"))] == mtimes
        # the store holds the bytes received, read-only, under their SHA-256
        original = (inbox / COMPANIES[1] / "申报材料.docx").read_bytes()
        import hashlib

        kept = ws.store.path(hashlib.sha256(original).hexdigest())
        assert kept.read_bytes() == original and not os.access(kept, os.W_OK) or os.geteuid() == 0
        assert kept.stat().st_mode & 0o222 == 0


def test_batch_rules_see_the_whole_workspace(tmp_path, db_url):
    one, two = tmp_path / "one", tmp_path / "two"
    product_packet(one / "a", "同江机械有限公司")
    packet_folder(two / "b", "enterprise", "同江机械有限公司")
    with make(tmp_path, db_url) as ws:
        receive(ws, one)
        assert ws.applicants().items[0].status == "complete"
        receive(ws, two)  # the second application of the same enterprise comes in a later wave
        rows = ws.applicants().items
        assert len(rows) == 2
        for row in rows:
            codes = [i["code"] for i in ws.applicant(row.id).open_issues]
            assert "duplicate_application" in codes and row.stage == "需补正"


def test_what_a_killed_receive_stored_is_checked_when_the_page_or_a_worker_starts(tmp_path, db_url, monkeypatch):
    """A receive killed after storing, before its campaign-wide checks: the stored applicant must not stay shown
    as complete; the next page server (or worker) to open the workspace runs the checks it missed."""
    import pipeline.workspace.receive as receiving
    from pipeline.web.app import create_app
    from pipeline.workspace import Workspace

    one, two = tmp_path / "one", tmp_path / "two"
    product_packet(one / "a", "同江机械有限公司")
    packet_folder(two / "b", "enterprise", "同江机械有限公司")
    with make(tmp_path, db_url) as ws:
        receive(ws, one)
        real = receiving.settle
        calls = []
        monkeypatch.setattr(receiving, "settle", lambda ws, progress=None: calls.append(1) or 0)
        receive(ws, two)  # stored, and killed before it settled
        monkeypatch.setattr(receiving, "settle", real)
        assert calls and [r.status for r in ws.applicants().items] == ["complete", "complete"]  # as shown before
        root = ws.root
    create_app(root, testing=True, workers=0)
    with Workspace.open(root) as ws:
        rows = ws.applicants().items
        assert [r.status for r in rows] == ["incomplete", "incomplete"]
        for row in rows:
            assert "duplicate_application" in [i["code"] for i in ws.applicant(row.id).open_issues]


def test_decisions_are_data_and_only_the_programs_moves_are_allowed(tmp_path, db_url, packets):
    inbox, _ = packets
    with make(tmp_path, db_url) as ws:
        receive(ws, inbox)
        aid = ws.find(COMPANIES[0])
        before = ws.applicant(aid)
        with ws.reader.connect() as conn:
            raw = conn.execute(sa.text("SELECT record FROM versions WHERE applicant_id = :a"), {"a": aid}).scalar_one()
        with pytest.raises(UserError, match="操作人"):
            ws.decide(aid, "series_product", note="型号已电话核实", by="")
        with pytest.raises(UserError, match="没有未处理的问题"):
            ws.decide(aid, "no_such_code", note="x", by="王敏")
        ws.decide(aid, "series_product", kind="waive", note="型号已电话核实", by="王敏")
        after = ws.applicant(aid)
        assert after.row.status == "complete" and after.row.stage == "材料齐全"
        assert [i["code"] for i in after.decided_issues] == ["series_product"]
        assert after.decided_issues[0]["by"] == "王敏" and after.decided_issues[0]["note"] == "型号已电话核实"
        assert len(after.open_issues) == len(before.open_issues) - 1
        with ws.reader.connect() as conn:  # the parsed record is never edited
            assert conn.execute(sa.text("SELECT record FROM versions WHERE applicant_id = :a"),
                                {"a": aid}).scalar_one() == raw

        with pytest.raises(UserError, match="只能是 已推荐、需补正"):
            ws.move(aid, "获奖", by="王敏")
        ws.opinion(aid, "同意推荐", by="张评审", recommend=True)
        for stage in ("已推荐", "评审", "公示", "获奖"):
            ws.move(aid, stage, by="李强", note="按程序")
        assert [w.id for w in ws.winners()] == [aid]
        with pytest.raises(UserError, match="最终阶段"):
            ws.move(aid, "未获奖", by="李强")
        log = ws.audit_log(aid)
        assert [e["action"] for e in log[:5]] == ["move", "move", "move", "move", "opinion"]
        assert log[4]["by"] == "张评审" and log[0]["detail"] == {"from": "公示", "to": "获奖", "note": "按程序"}


def test_listing_filters_sorts_and_pages_in_the_database(tmp_path, db_url, packets):
    inbox, _ = packets
    with make(tmp_path, db_url) as ws:
        receive(ws, inbox)
        names = sorted(COMPANIES, key=lambda n: lazy_pinyin(n))  # by pinyin, as staff look names up
        assert names != sorted(COMPANIES)  # (code points would put 松 before 五 and 兴)
        page = ws.applicants(sort="name", offset=1, limit=2)
        assert page.total == 4 and [r.company_name for r in page.items] == names[1:3]
        assert [r.company_name for r in ws.applicants(sort="name", descending=True).items] == names[::-1]
        assert [r.company_name for r in ws.applicants(stage="需补正").items] == [COMPANIES[0]]
        assert ws.applicants(status="complete").total == 3
        assert ws.applicants(search="镜泊").items[0].company_name == COMPANIES[2]
        assert ws.applicants(search="%").total == 0  # a wildcard is a character here
        assert ws.applicants(category="enterprise").total == 0
        assert ws.applicants(unit="哈尔滨市质量协会").total == 4 and ws.units() == ["哈尔滨市质量协会"]
        assert [r.stage for r in ws.applicants(sort="stage").items][0] == "需补正"
        with pytest.raises(UserError, match="排序"):
            ws.applicants(sort="colour")


def test_one_receive_at_a_time(tmp_path, packets):
    inbox, _ = packets
    with make(tmp_path, None) as ws:
        with ws.receive_lock():
            with pytest.raises(UserError, match="正在接收"):
                receive(ws, inbox, wait=False)
        assert receive(ws, inbox, wait=False).new_applicants == 4


def test_export_and_import_move_the_campaign_between_databases(tmp_path, postgres, packets):
    from pipeline.workspace.transfer import export, import_

    inbox, fixed = packets
    with make(tmp_path, fresh_database(postgres)) as ws:
        receive(ws, inbox)
        receive(ws, fixed)
        ws.move(ws.find(COMPANIES[1]), "已推荐", by="王敏")
        with register.connect(ws.engine) as conn:
            issued = register.assign(conn, [register.Winner(COMPANIES[1], "product")], program="heilongjiang",
                                     campaign="heilongjiang-2017", prefix="HLJ2017", codes={"product": "CP"},
                                     titles={"product": "t"}, issuer="协会", validity_years=2, today=date(2017, 9, 1))
        manifest = export(ws, tmp_path / "campaign.zip")
        before = {r.company_name: (r.stage, r.version_count) for r in ws.applicants().items}
    assert manifest["rows"]["versions"] == 5 and manifest["rows"]["certificates"] == 1
    with pytest.raises(UserError, match="不是空的"):
        import_(tmp_path / "campaign.zip", tmp_path / "ws")
    with import_(tmp_path / "campaign.zip", tmp_path / "moved") as moved:  # PostgreSQL → SQLite
        assert {r.company_name: (r.stage, r.version_count) for r in moved.applicants().items} == before
        detail = moved.applicant(moved.find(COMPANIES[0]))
        assert detail.versions[1].comparison["resolved"][0]["code"] == "series_product"
        assert all(moved.store.has(f["sha256"]) for v in detail.versions for f in v.files)
        moved.move(moved.find(COMPANIES[2]), "已推荐", by="王敏")  # new rows get new ids after the import
        with register.connect(moved.engine) as conn:
            assert register.entries(conn) == issued  # the register came along, in the database
            register.renew(conn, issued[0].number, date(2019, 9, 1))  # and its history takes new rows
            assert [e["kind"] for e in register.history(conn, issued[0].number)] == ["issued", "renewed"]


def test_an_export_made_before_the_register_moved_brings_its_register_file(tmp_path, packets):
    """Exports of schema 1 carried DIR/register.db beside the dump; importing one puts its certificates
    into the new workspace's database."""
    from pipeline.workspace.transfer import export, import_

    inbox, _ = packets
    with make(tmp_path, None) as ws:
        receive(ws, inbox)
        export(ws, tmp_path / "new.zip")
    number = _old_register_file(tmp_path / "register.db")
    with zipfile.ZipFile(tmp_path / "new.zip") as new, zipfile.ZipFile(tmp_path / "old.zip", "w") as old:
        for item in new.infolist():
            old.writestr(item, new.read(item))
        old.write(tmp_path / "register.db", "register.db")
    with import_(tmp_path / "old.zip", tmp_path / "moved") as moved:
        with register.connect(moved.reader, write=False) as conn:
            assert register.lookup(conn, number).revoke_reason == "复查不合格"
            assert [e["kind"] for e in register.history(conn, number)] == ["issued", "revoked"]


def test_a_migration_backs_the_database_up_first(tmp_path, monkeypatch, packets):
    from pipeline.workspace import Workspace, db

    inbox, _ = packets
    with make(tmp_path, None) as ws:
        receive(ws, inbox)
    steps = db.MIGRATIONS + [lambda conn, root: conn.exec_driver_sql("ALTER TABLE applicants ADD COLUMN tag TEXT")]
    monkeypatch.setattr(db, "MIGRATIONS", steps)
    monkeypatch.setattr(db, "SCHEMA_VERSION", len(steps))
    with Workspace.open(tmp_path / "ws") as ws:
        backups = list((ws.root / "backups").glob("*.jsonl"))
        assert len(backups) == 1
        rows = [json.loads(line) for line in backups[0].read_text(encoding="utf-8").splitlines()]
        assert sum(r["table"] == "applicants" for r in rows) == 4
        with ws.reader.connect() as conn:
            assert db.schema_version(conn) == len(steps)
            conn.execute(sa.text("SELECT tag FROM applicants")).all()


def _old_register_file(path: Path) -> str:
    """Write a register file as manyi wrote it before the register moved into the workspace; return its number."""
    with register.connect(path) as conn:
        entry, = register.assign(conn, [register.Winner("黑龙江北方家电有限公司", "product", "BCD-520WK")],
                                 program="heilongjiang", campaign="heilongjiang-2017", prefix="HLJ2017",
                                 codes={"product": "CP"}, titles={"product": "黑龙江省用户满意产品"}, issuer="协会",
                                 validity_years=2, today=date(2017, 9, 1))
        register.revoke(conn, entry.number, "复查不合格", date(2018, 3, 1))
    return entry.number


def test_a_workspace_of_schema_1_takes_its_register_file_into_the_database(tmp_path, db_url):
    """Before schema 2 a workspace kept its certificates in DIR/register.db; opening it moves them into the
    database (SQLite or PostgreSQL) with their history, and keeps the file among the backups."""
    from pipeline.workspace import Workspace, db

    with make(tmp_path, db_url) as ws:
        with ws.engine.begin() as conn:  # back to schema 1: no register tables
            register.metadata.drop_all(conn)
            db.set_meta(conn, "schema_version", "1")
    number = _old_register_file(tmp_path / "ws" / "register.db")
    with Workspace.open(tmp_path / "ws") as ws:
        with ws.reader.connect() as conn:
            assert db.schema_version(conn) == db.SCHEMA_VERSION
            entry = register.lookup(conn, number)
            assert [e["kind"] for e in register.history(conn, number)] == ["issued", "revoked"]
        assert (entry.company, entry.project, entry.revoke_reason) == ("黑龙江北方家电有限公司", "BCD-520WK", "复查不合格")
        assert not (ws.root / "register.db").exists()
        kept = list((ws.root / "backups").glob("register-*.db"))
        assert len(kept) == 1 and len(list((ws.root / "backups").glob("db-*.jsonl"))) == 1
        with register.connect(kept[0], create=False) as conn:  # the old file is whole
            assert register.lookup(conn, number).revoke_reason == "复查不合格"
    with Workspace.open(tmp_path / "ws") as ws:  # opened again: nothing more to move
        assert len(list((ws.root / "backups").glob("register-*.db"))) == 1


def test_every_program_has_stages_with_the_roles_a_workspace_needs():
    from pipeline.definitions.programs import all_programs
    from pipeline.definitions.stages import workflow_of

    flows = {p.id: workflow_of(p) for p in all_programs()}
    assert set(flows) == {"heilongjiang", "national", "liaoning", "guangzhou", "guangdong-stars"}
    assert flows["heilongjiang"].names()[:4] == ["已收到", "需补正", "已补正", "材料齐全"]
    assert flows["heilongjiang"].role("winning") == "获奖"
    national = flows["national"].names()
    assert [s for s in ("资格审查", "资料评审", "现场评审", "综合评价", "公示（7 个工作日）", "审定", "发布") if s in national] == \
        ["资格审查", "资料评审", "现场评审", "综合评价", "公示（7 个工作日）", "审定", "发布"]


# --- a receive killed half way -------------------------------------------------------------------------


def test_a_killed_receive_loses_nothing_and_a_rerun_completes_it(tmp_path, packets):
    inbox = tmp_path / "inbox"
    count = 60  # enough that the kill lands half way however fast records arrive
    for n in range(count):
        company = f"测试{n:02d}机械有限公司"
        packet_folder(inbox / company, "enterprise", company)
    with make(tmp_path, None):
        pass
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "receive", str(tmp_path / "ws"), str(inbox), "--jobs", "1"],
                            cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ws' / 'workspace.db'}")
    try:
        stored = 0
        for _ in range(6000):  # until a few versions are stored, at most two minutes
            with engine.connect() as conn:
                stored = conn.execute(sa.text("SELECT COUNT(*) FROM versions")).scalar_one()
            if stored >= 3 or proc.poll() is not None:
                break
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT id, applicant_id, digest, record FROM versions ORDER BY id")).all()
    finally:
        engine.dispose()
    assert 3 <= len(kept) < count, proc.stderr.read().decode()
    from pipeline.workspace import Workspace

    with Workspace.open(tmp_path / "ws") as ws:
        result = receive(ws, inbox)
        assert len(result.unchanged) == len(kept) and len(result.stored) == count - len(kept)
        with ws.reader.connect() as conn:
            after = conn.execute(sa.text("SELECT id, applicant_id, digest, record FROM versions ORDER BY id")).all()
            unsettled = conn.execute(sa.text("SELECT COUNT(*) FROM versions WHERE NOT settled")).scalar_one()
        assert after[: len(kept)] == kept and len(after) == count and unsettled == 0
        assert ws.applicants().total == count and ws.stage_counts()["材料齐全"] == count


# --- the staff job from the command line ------------------------------------------------------------------


def manyi(*args, env=None):
    result = subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], capture_output=True, text=True,
                            cwd=ROOT, timeout=300, env={**os.environ, "MANYI_USER": "王敏", **(env or {})})
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.mark.xdist_group("workspace-cli")  # the longest tests: beside the others, on the other worker
def test_the_whole_job_from_the_command_line(tmp_path, db_url):
    ws = tmp_path / "ws"
    init = manyi("workspace", "init", ws, *(["--db", db_url] if db_url else []))
    assert init.returncode == 0, init.stderr
    first = manyi("receive", ws, SAMPLE, "--jobs", "2")
    assert first.returncode == 0 and "新申报 5 家" in first.stdout, first.stderr
    assert manyi("notices", "--workspace", ws, "--out", tmp_path / "notices").returncode == 0

    fixed = tmp_path / "fixed"
    fixed.mkdir()
    corrected_zip(SAMPLE / "北方家电申报材料.zip", fixed / "北方家电申报材料（补正）.zip", "BCD 全系列", "BCD-520WK")
    second = manyi("receive", ws, fixed)
    assert second.returncode == 0, second.stderr
    assert "已解决：" in second.stdout and "BCD 全系列 → BCD-520WK" in second.stdout and "已补正 1 项" in second.stdout

    confirm = manyi("confirm", ws, "龙江建工", "below_threshold", "--note", "建筑安装量经人工核对为2100万元")
    assert confirm.returncode == 0 and "材料齐全" in confirm.stdout, confirm.stderr
    wrong = manyi("stage", ws, "龙江建工", "--to", "获奖")
    assert wrong.returncode == 2 and "只能是" in wrong.stderr
    for stage in ("已推荐", "评审", "公示", "获奖"):
        moved = manyi("stage", ws, "龙江建工", "北方家电", "--to", stage, "--note", "评审通过")
        assert moved.returncode == 0 and moved.stdout.count(f"→ {stage}") == 2, moved.stderr
    certs = manyi("certificates", "--workspace", ws, "--out", tmp_path / "certs")
    assert certs.returncode == 0 and "已生成 2 张证书" in certs.stdout, certs.stderr
    assert len(list((tmp_path / "certs").glob("*.docx"))) == 2
    number = next(line.split()[0] for line in certs.stdout.splitlines() if "北方家电" in line)
    assert not (ws / "register.db").exists()  # the register is in the workspace database
    verified = manyi("register", "verify", number, "--workspace", ws)
    assert verified.returncode == 0 and "持有单位：黑龙江北方家电有限公司" in verified.stdout, verified.stderr
    renewed = manyi("register", "renew", number, "--workspace", ws, "--date", "2019-09-01")
    assert renewed.returncode == 0 and "至 2021年8月31日" in renewed.stdout, renewed.stderr
    assert "HLJ2017-" in manyi("register", "list", "--workspace", ws).stdout
    again = manyi("certificates", "--workspace", ws, "--out", tmp_path / "again")
    assert number in again.stdout  # printed again: the same number
    status = manyi("status", ws)
    assert "获奖：2" in status.stdout and "等待" in status.stdout
    show = manyi("show", ws, "北方家电")
    assert "第 2 版" in show.stdout and "已补正 → 材料齐全" in show.stdout
    shown = manyi("show", ws, "龙江建工").stdout  # the issue by its Chinese name (the vocabulary's), never its code
    assert "[已人工确认] 未达申报条件" in shown and "below_threshold" not in shown
    assert manyi("summary", "--workspace", ws, "--out", tmp_path / "summary.xlsx").returncode == 0
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "summary.xlsx")["工作区"]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["黑龙江北方家电有限公司"][4] == "获奖" and rows["黑龙江北方家电有限公司"][6] == 2
    assert rows["黑龙江北方家电有限公司"][7].startswith("BZ2017-")
    bad = manyi("status", tmp_path / "nowhere")
    assert bad.returncode == 2 and "不是工作区" in bad.stderr


def test_an_unreachable_database_is_one_chinese_line(tmp_path):
    result = manyi("workspace", "init", tmp_path / "ws", "--db", f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/x")
    assert result.returncode == 2 and result.stderr.startswith("错误：无法连接工作区数据库")
    assert not (tmp_path / "ws" / "workspace.yaml").exists()


def test_comparison_counts_each_issue_as_often_as_it_occurs():
    from pipeline.workspace.compare import answered_items, field_changes, issue_changes

    a = {"severity": "error", "code": "missing_field", "form": "application", "field": "phone", "message": "缺电话"}
    b = {"severity": "error", "code": "respondent_duplicate", "form": "respondents", "field": None, "message": "重复"}
    changes = issue_changes([a, b, b], [b, {**a, "field": "email", "message": "缺邮箱"}])
    assert [i["message"] for i in changes["resolved"]] == ["缺电话", "重复"]
    assert [i["message"] for i in changes["still_open"]] == ["重复"]
    assert [i["message"] for i in changes["new"]] == ["缺邮箱"]
    answered, unanswered = answered_items([a, b], [b])
    assert answered == [a] and unanswered == [b]
    before = {"forms": {"application": {"phone": None}, "respondents": [{"name": "甲"}]}}
    after = {"forms": {"application": {"phone": "0451-1234567"}, "respondents": [{"name": "乙"}]}}
    assert field_changes(before, after) == [
        {"form": "application", "field": "phone", "before": None, "after": "0451-1234567"},
        {"form": "respondents", "field": None, "before": "1 行（内容不同）", "after": "1 行"}]


def test_a_record_from_inside_an_archive_finds_its_entry():
    from pipeline.workspace.receive import entry_of

    todo = {"批次.zip": "zip", "华光公司": "folder"}
    assert entry_of(todo, "批次.zip/哈尔滨XX有限公司/") == "zip" and entry_of(todo, "华光公司") == "folder"


def test_readers_work_while_a_receive_runs(tmp_path, db_url, packets):
    import threading

    inbox, _ = packets
    with make(tmp_path, db_url) as ws:
        failures, seen = [], set()
        worker = threading.Thread(target=lambda: receive(ws, inbox))
        worker.start()
        while worker.is_alive():
            try:
                seen.add(ws.applicants(limit=10).total)
                ws.stage_counts()
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is what this test looks for
                failures.append(exc)
            time.sleep(0.05)
        worker.join()
        assert failures == [] and ws.applicants().total == 4
        assert seen <= {0, 1, 2, 3, 4}


def test_a_decision_belongs_to_its_version_and_the_comparison_reads_the_documents(tmp_path, packets):
    inbox, _ = packets
    again = tmp_path / "again"
    again.mkdir()
    product_packet(again / COMPANIES[0], COMPANIES[0], "XQ 全系列")
    with make(tmp_path, None) as ws:
        receive(ws, inbox)
        aid = ws.find(COMPANIES[0])
        ws.decide(aid, "series_product", kind="waive", note="先行受理", by="王敏")
        assert ws.applicant(aid).row.stage == "材料齐全"
        receive(ws, again)
        detail = ws.applicant(aid)
        comparison = detail.versions[1].comparison
        assert "series_product" in [i["code"] for i in comparison["still_open"]]
        assert "series_product" not in [i["code"] for i in comparison["new"] + comparison["resolved"]]
        assert detail.row.stage == "需补正" and "series_product" in [i["code"] for i in detail.open_issues]


def test_a_certificate_changed_in_a_workspace_is_in_its_audit_log(tmp_path, db_url):
    from pipeline.workspace.outputs import register_change, register_entries

    with make(tmp_path, db_url) as ws:
        with register.connect(ws.engine) as conn:
            entry, = register.assign(conn, [register.Winner("龙江建工集团", "construction")], program="heilongjiang",
                                     campaign="heilongjiang-2017", prefix="HLJ2017", codes={"construction": "JZ"},
                                     titles={"construction": "t"}, issuer="协会", validity_years=2,
                                     today=date(2017, 9, 1))
        with pytest.raises(UserError, match="写明原因"):
            register_change(ws, entry.number, "revoke", "王敏")
        changed = register_change(ws, entry.number.lower(), "revoke", "王敏", "复查不合格", date(2018, 3, 1))
        assert (changed.revoked_on, changed.revoke_reason) == (date(2018, 3, 1), "复查不合格")
        assert register_entries(ws, f" {entry.number} ") == [changed] and register_entries(ws, "HLJ2017-JZ-0009") == []
        logged = [e for e in ws.audit_log() if e["action"] == "certificate_revoke"]
        assert len(logged) == 1 and logged[0]["by"] == "王敏" and logged[0]["detail"]["number"] == entry.number
        with pytest.raises(UserError, match="已撤销"):
            register_change(ws, entry.number, "renew", "王敏")


def _race(target: str, winners: list, barrier, queue) -> None:
    from pipeline.common.database import make_engine

    engine = make_engine(target) if "://" in target else None
    barrier.wait()
    got = {}
    for w in winners:  # one transaction per winner, so the two processes interleave
        with register.connect(engine or Path(target)) as conn:
            entry = register.assign(conn, [w], program="p", campaign="race", prefix="R", codes={"product": "CP"},
                                    titles={"product": "t"}, issuer="i", validity_years=2, today=date(2017, 9, 1))[0]
        got[(w.company, w.project)] = entry.number
    queue.put(got)


@pytest.mark.parametrize("where", ["file", "postgresql"])
def test_racing_runs_never_issue_a_number_twice(tmp_path, where, request):
    """Two processes number winners at once, in a register file or in a workspace's PostgreSQL database."""
    import multiprocessing

    from pipeline.common.database import make_engine

    if where == "file":
        target = str(tmp_path / "race.db")
    else:
        target = fresh_database(request.getfixturevalue("postgres"))
        engine = make_engine(target)
        with engine.begin() as conn:
            register.metadata.create_all(conn)
        engine.dispose()
    shared = [register.Winner(f"共同公司{i}", "product") for i in range(15)]
    own = [[register.Winner(f"{side}公司{i}", "product") for i in range(15)] for side in "甲乙"]
    ctx = multiprocessing.get_context("fork")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(target, [*mine, *shared], barrier, queue)) for mine in own]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for key in shared:
        assert results[0][(key.company, None)] == results[1][(key.company, None)]
    merged = {**results[0], **results[1]}
    assert len(merged) == 45 and len(set(merged.values())) == 45
    assert sorted(merged.values()) == [f"R-CP-{n:04d}" for n in range(1, 46)]


def test_a_score_is_its_own_value_and_schema_2_scores_leave_the_text(tmp_path, db_url, packets):
    """A reviewer's score is a column of its own: an opinion that merely ends like a score stays as typed.
    Schema 2 wrote the score at the end of the text; opening such a workspace moves it into the column."""
    from pipeline.workspace import Workspace, db

    inbox, _ = packets
    with make(tmp_path, db_url) as ws:
        receive(ws, inbox)
        first, second = ws.find(COMPANIES[0]), ws.find(COMPANIES[1])
        ws.opinion(first, "同意推荐（评分 90）", by="张评审")  # typed so, no score given
        ws.opinion(second, "材料扎实", by="张评审", recommend=True, score=88.5)
        with pytest.raises(UserError, match="评分"):
            ws.opinion(second, "x", by="张评审", score=120)
        opinions = {d["applicant_id"]: (d["note"], d["score"]) for d in ws.applicant(first).decisions
                    + ws.applicant(second).decisions if d["kind"] == "opinion"}
        assert opinions == {first: ("同意推荐（评分 90）", None), second: ("材料扎实", 88.5)}
        with ws.engine.begin() as conn:  # back to schema 2, as its web page stored a score
            conn.exec_driver_sql("ALTER TABLE decisions DROP COLUMN score")
            conn.execute(sa.update(db.decisions).where(db.decisions.c.applicant_id == second)
                         .values(note="材料扎实（评分 88.5）"))
            db.set_meta(conn, "schema_version", "2")
    with Workspace.open(tmp_path / "ws") as ws:
        moved = [(d["note"], d["score"]) for d in ws.applicant(second).decisions if d["kind"] == "opinion"]
        assert moved == [("材料扎实", 88.5)]


def test_a_decision_goes_on_to_the_next_version_only_for_the_very_same_finding(tmp_path, db_url):
    """Staff confirm an error; the corrected version fixes another one and still has the confirmed finding word for
    word: it stays confirmed (no second 补正 for it). A version whose finding reads differently is open again."""
    from pipeline.workspace.outputs import workspace_notices

    company = COMPANIES[0]
    v1 = packet_folder(tmp_path / "v1" / company, "product", company, application__product_model="BCD 全系列",
                       application__product_name="全系列冰箱")
    v2 = packet_folder(tmp_path / "v2" / company, "product", company, application__product_model="BCD 全系列")
    v3 = packet_folder(tmp_path / "v3" / company, "product", company, application__product_model="KFR 全系列")
    with make(tmp_path, db_url) as ws:
        receive(ws, v1.parent)
        aid = ws.find(company)
        assert sorted(i["field"] for i in errors(ws.applicant(aid))) == ["product_model", "product_name"]
        ws.decide(aid, "series_product", "confirm", "BCD 系列经人工核对为单一型号", by="王敏", form="application",
                  field="product_model")
        receive(ws, v2.parent)
        detail = ws.applicant(aid)
        assert errors(detail) == [] and detail.row.stage == "材料齐全"
        decided, = detail.decided_issues
        assert (decided["field"], decided["note"], decided["by"]) == ("product_model", "BCD 系列经人工核对为单一型号", "王敏")
        assert decided["carried_from"] == detail.versions[0].id
        assert workspace_notices(ws, tmp_path / "notices", by="王敏").recorded == []
        assert any(e["action"] == "carry" for e in ws.audit_log())
        receive(ws, v3.parent)
        detail = ws.applicant(aid)
        assert [i["field"] for i in errors(detail)] == ["product_model"] and detail.decided_issues == []
        assert "KFR 全系列" in errors(detail)[0]["message"] and detail.row.stage == "需补正"


def errors(detail) -> list[dict]:
    return [i for i in detail.open_issues if i["severity"] == "error"]
