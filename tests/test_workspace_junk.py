"""Junk taken out without losing anything else: a withdrawn entry is recorded and can be restored (its applicant
falls back to its entry before, or goes to 撤回 and back); an administrator purges the bytes of a stored file that
is no submission's, recorded in the audit log, and nothing else is touched."""

from __future__ import annotations

import hashlib
import re

import pytest

from pipeline.common.errors import UserError
from test_workspace import make, packet_folder, receive

pytestmark = pytest.mark.xdist_group("workspace")


@pytest.fixture
def ws(tmp_path):
    """A workspace with two applicants: 甲 received twice (the second entry with a page more), 乙 once as junk."""
    from pipeline.workspace import junk

    inbox = tmp_path / "inbox"
    packet_folder(inbox / "甲机械有限公司", "enterprise", "甲机械有限公司")
    with make(tmp_path, None) as opened:
        junk.migrate(opened)
        receive(opened, inbox)
        (inbox / "甲机械有限公司" / "附页.txt").write_text("多一页", encoding="utf-8")
        junk_file = tmp_path / "second" / "巨大的上传.docx"
        junk_file.parent.mkdir()
        junk_file.write_bytes(b"PK\x03\x04" + b"\0" * 300_000)  # no document at all
        receive(opened, inbox, junk_file.parent)
        yield opened


def versions_of(ws, applicant_id: int) -> list[tuple[int, int]]:
    import sqlalchemy as sa

    from pipeline.workspace import db

    with ws.reader.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(db.versions.c.id, db.versions.c.seq)
                                               .where(db.versions.c.applicant_id == applicant_id)
                                               .order_by(db.versions.c.id))]


def latest_of(ws, applicant_id: int) -> int:
    import sqlalchemy as sa

    from pipeline.workspace import db

    with ws.reader.connect() as conn:
        return conn.execute(sa.select(db.applicants.c.latest_version_id)
                            .where(db.applicants.c.id == applicant_id)).scalar()


def test_a_withdrawn_entry_is_recorded_and_restored(ws):
    from pipeline.workspace import junk

    company = ws.find("甲机械有限公司")
    (first, _), (second, _) = versions_of(ws, company)
    assert latest_of(ws, company) == second
    with pytest.raises(UserError):
        junk.withdraw(ws, second, "王敏", "  ")  # a reason is required
    junk.withdraw(ws, second, "王敏", "误收的附页")
    assert latest_of(ws, company) == first  # the applicant falls back to the entry before
    shown = {e["id"]: e for e in junk.entries(ws)}
    assert (shown[second]["withdrawn_by"], shown[second]["note"], shown[first]["withdrawn_by"]) == (
        "王敏", "误收的附页", None)
    with pytest.raises(UserError):
        junk.withdraw(ws, second, "王敏", "再撤一次")
    junk.restore(ws, second, "王敏")
    assert latest_of(ws, company) == second and junk.entries(ws)[0]["withdrawn_by"] is None
    actions = [e["action"] for e in reversed(ws.audit_log(applicant_id=company))]
    assert [a for a in actions if a in ("撤回收件", "恢复收件")] == ["撤回收件", "恢复收件"]
    assert versions_of(ws, company) == [(first, 1), (second, 2)]  # nothing deleted


def test_an_applicant_left_without_entries_goes_to_withdrawn_and_back(ws):
    from pipeline.workspace import junk

    junk_id = next(r.id for r in ws.applicants(limit=None).items if r.company_name != "甲机械有限公司")
    stage = ws.applicant(junk_id).row.stage
    ((only, _),) = versions_of(ws, junk_id)
    junk.withdraw(ws, only, "王敏", "不是申报材料")
    assert ws.applicant(junk_id).row.stage == "撤回"
    junk.restore(ws, only, "王敏")
    assert ws.applicant(junk_id).row.stage == stage


def test_an_administrator_purges_only_a_file_that_is_no_submission(ws):
    from pipeline.workspace import junk

    junk_id = next(r.id for r in ws.applicants(limit=None).items if r.company_name != "甲机械有限公司")
    ((only, _),) = versions_of(ws, junk_id)
    bomb = hashlib.sha256(b"PK\x03\x04" + b"\0" * 300_000).hexdigest()
    kept = sorted(p.name for p in ws.store.root.glob("*/*.bin"))
    assert bomb + ".bin" in kept
    with pytest.raises(UserError):
        junk.purge(ws, bomb, "管理一", "炸弹")  # still a submission's file: refused
    assert junk.purgeable(ws) == []
    junk.withdraw(ws, only, "王敏", "不是申报材料")
    (found,) = junk.purgeable(ws)
    assert (found["sha256"], found["size"], found["names"]) == (bomb, 300_004, ["巨大的上传.docx"])
    junk.purge(ws, bomb, "管理一", "205 MB 的误传")
    assert not ws.store.has(bomb)
    assert sorted(p.name for p in ws.store.root.glob("*/*.bin")) == [k for k in kept if k != bomb + ".bin"]
    entry = ws.audit_log()[0]
    assert entry["action"] == "清除文件" and entry["by"] == "管理一" and bomb in str(entry["detail"])
    with pytest.raises(UserError):
        junk.restore(ws, only, "王敏")  # its bytes are gone: it cannot come back as it was
    company = ws.find("甲机械有限公司")
    assert ws.applicant(company).row.version_count == 2  # nothing else touched


def test_withdrawing_is_for_staff_and_purging_for_administrators_on_the_page(ws):
    from pipeline.web import auth
    from pipeline.web.app import create_app, site_of

    app = create_app(ws.root, host="192.0.2.10", testing=True, workers=0)
    store = site_of(app).store
    store.add_user("管理一", "admin", auth.hash_password("correct horse battery"))
    store.add_user("王敏", "staff", auth.hash_password("correct horse battery"))

    def signed(name):
        client = app.test_client()
        page = client.get("/login").data.decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"name": name, "password": "correct horse battery",
                                           "csrf": csrf}).status_code == 302
        return client

    def post(client, path, **form):
        page = client.get("/").data.decode()
        return client.post(path, data={**form, "csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1)})

    staff, admin = signed("王敏"), signed("管理一")
    junk_id = next(r.id for r in ws.applicants(limit=None).items if r.company_name != "甲机械有限公司")
    ((only, _),) = versions_of(ws, junk_id)
    assert "巨大的上传.docx" in staff.get("/entries").data.decode()
    assert post(staff, f"/entries/{only}/withdraw", note="不是申报材料").status_code == 302
    bomb = hashlib.sha256(b"PK\x03\x04" + b"\0" * 300_000).hexdigest()
    assert post(staff, f"/store/{bomb}/purge", reason="x").status_code == 403
    assert bomb[:16] in admin.get("/entries").data.decode()
    assert post(admin, f"/store/{bomb}/purge", reason="误传").status_code == 302
    assert not ws.store.has(bomb)
