"""Issue 26: a corrected version is judged against the deadline of the 补正通知 it answers, not the campaign's."""

from __future__ import annotations

from datetime import date

from pipeline.checking.rules import batch
from pipeline.definitions.programs import resolve_campaign
from test_workspace import COMPANIES, make, packets, receive  # noqa: F401 (packets is a fixture)


def test_a_correction_within_its_notices_deadline_is_not_late_and_gets_no_second_notice(tmp_path, packets):
    from pipeline.workspace.outputs import workspace_notices

    inbox, fixed = packets
    with make(tmp_path, None) as ws:
        receive(ws, inbox, received=date(2017, 6, 20))  # on the campaign's deadline
        aid = ws.find(COMPANIES[0])
        sent = workspace_notices(ws, tmp_path / "n1", by="王敏", today=date(2017, 6, 25), deadline=date(2017, 7, 10))
        assert [r["applicant_id"] for r in sent.recorded] == [aid] and sent.recorded[0]["deadline"] == "2017-07-10"
        receive(ws, fixed, received=date(2017, 7, 5))  # after the campaign's deadline, within the notice's
        detail = ws.applicant(aid)
        assert [v.seq for v in detail.versions] == [1, 2]
        (record,) = [r for r in ws.latest_records() if r["applicant_id"] == aid]
        assert "late_submission" not in {i.get("code") for i in record["issues"]}
        assert record["status"] == "complete" and detail.row.stage == "材料齐全"
        again = workspace_notices(ws, tmp_path / "n2", by="王敏", today=date(2017, 7, 6))
        assert again.recorded == []  # no second letter saying 已过截止日期


def test_a_correction_after_its_notices_deadline_is_late_naming_the_notice():
    campaign = resolve_campaign("heilongjiang", None)  # deadline 2017-06-20
    record = {"submission_id": "7"}
    answered = {"7": (date(2017, 7, 10), "BZ2017-0001")}
    late = batch.late([record], campaign, date(2017, 7, 12), "填报说明第9条", answered)
    assert "晚于补正通知 BZ2017-0001 的补正截止日期2017-07-10" in late["7"][0]["message"]
    assert batch.late([record], campaign, date(2017, 7, 9), "填报说明第9条", answered) == {}
    assert "7" in batch.late([record], campaign, date(2017, 7, 9), "填报说明第9条")  # no notice: the campaign's
