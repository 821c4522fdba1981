"""The web page's accounts and reviewer assignments in the workspace database, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipeline.common.resources import SAMPLES
from test_workspace import fresh_database, postgres  # noqa: F401 - the session's PostgreSQL cluster
from pipeline.definitions.programs import resolve_campaign

pytestmark = pytest.mark.xdist_group("workspace")

SAMPLE = SAMPLES / "inbox"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    if request.param == "sqlite":
        return None
    return fresh_database(request.getfixturevalue("postgres"))


def test_accounts_tables_come_by_migration_and_hold_accounts_and_assignments(tmp_path, db_url):
    from pipeline.workspace import Workspace, accounts, db

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None), db_url=db_url) as ws:
        assert accounts.migrate(ws) == 0
        assert accounts.migrate(ws) == len(accounts.ACCOUNT_MIGRATIONS)  # a second run changes nothing
        with ws.reader.connect() as conn:
            assert db.get_meta(conn, accounts.ACCOUNTS_KEY) == str(len(accounts.ACCOUNT_MIGRATIONS))
            assert sa.inspect(conn).has_table("web_users")
        accounts.add_user(ws, "王敏", "staff", "$argon2id$hash", by="命令行")
        accounts.add_user(ws, "李华", "reviewer", "$argon2id$one", by="王敏")
        accounts.set_password(ws, "李华", "$argon2id$two", by="王敏")  # a new password, one account
        assert [u["name"] for u in accounts.all_users(ws)] == sorted(["王敏", "李华"])
        assert accounts.user(ws, "李华")["password"] == "$argon2id$two"
        assert "password" not in accounts.all_users(ws)[0]
        with ws.engine.begin() as conn:  # an applicant to assign
            stamp = db.now()
            conn.execute(sa.insert(db.applicants).values(id=7, key="k|product", company_name="甲", stage="已收到",
                                                         status="complete", errors=0, warnings=0, version_count=0,
                                                         created_at=stamp, updated_at=stamp))
        accounts.assign(ws, "李华", [7], by="王敏")
        assert accounts.assigned(ws, "李华") == {7} and accounts.reviewers_by_applicant(ws) == {7: ["李华"]}
        accounts.assign(ws, "李华", [7], by="王敏", on=False)
        assert accounts.assigned(ws, "李华") == set()
        actions = [e["action"] for e in ws.audit_log()]
        assert actions[:2] == ["unassign", "assign"] and actions.count("account") == 2 and "修改密码" in actions


def test_a_workspace_holding_a_campaign_is_backed_up_before_the_accounts_tables_are_added(tmp_path):
    from pipeline.workspace import Workspace, accounts
    from pipeline.workspace.receive import receive

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)) as ws:
        receive(ws, [SAMPLE / "冰城家政服务有限公司.docx"], jobs=1)
        assert not (tmp_path / "ws" / "backups").exists()
        accounts.migrate(ws)
        backups = list((tmp_path / "ws" / "backups").glob("db-*.jsonl"))
        assert len(backups) == 1 and "冰城家政服务有限公司" in backups[0].read_text(encoding="utf-8")


def test_an_imported_campaign_gets_its_accounts_tables_again(tmp_path):
    from pipeline.workspace import Workspace, accounts
    from pipeline.workspace.transfer import export, import_

    with Workspace.init(tmp_path / "ws", resolve_campaign("heilongjiang", None)) as ws:
        accounts.migrate(ws)
        accounts.add_user(ws, "王敏", "staff", "$argon2id$hash", by="命令行")
        export(ws, tmp_path / "campaign.zip")
    moved = import_(tmp_path / "campaign.zip", tmp_path / "moved")
    try:
        accounts.migrate(moved)
        assert accounts.all_users(moved) == []  # who may sign in does not travel with the campaign
        accounts.add_user(moved, "李华", "admin", "$argon2id$x", by="命令行")
        assert accounts.user(moved, "李华")["role"] == "admin"
    finally:
        moved.close()
