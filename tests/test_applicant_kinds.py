"""Person and team records: the applicant's own name and their employer, each in its place, and outputs
taking the right one through the program (docs/RECORD.md: `company_name`, `applicant`)."""

from __future__ import annotations

from datetime import date

import pytest
from program_packets import TYPED, write_filled

from pipeline.definitions.programs import load_program, program_campaign, resolve_campaign
from pipeline.issuing.notices import notice_context
from pipeline.parse import parse_inbox

#: (program, category) → (kind, the name typed for the applicant, its employer typed, or None)
CASES = {
    ("guangzhou", "person"): ("person", TYPED["name"], TYPED["employer"]),
    ("guangdong-stars", "star"): ("person", TYPED["name"], TYPED["employer"]),
    ("guangdong-stars", "team"): ("team", TYPED["team_name"], TYPED["employer"]),
    ("guangdong-stars", "enterprise"): ("organisation", TYPED["company_name"], None),
    ("national", "enterprise"): ("organisation", TYPED["company_name"], None),
}


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = tmp_path_factory.mktemp("applicants")
    out = {}
    for pid in sorted({p for p, _ in CASES}):
        for p, cid in CASES:
            if p == pid:
                write_filled(pid, cid, root / pid / "inbox" / cid)
        for record in parse_inbox([root / pid / "inbox"], root / pid / "out", resolve_campaign(pid, None), jobs=1).records:
            out[(pid, record["source"])] = record
    return out


@pytest.mark.parametrize("pid, cid", list(CASES))
def test_the_applicant_is_who_applies_with_their_own_employer(records, pid, cid):
    kind, name, employer = CASES[(pid, cid)]
    record = records[(pid, cid)]
    assert record["applicant"] == {"kind": kind, "name": name, "employer": employer}
    assert record["company_name"] == name  # the holder's name, as docs/RECORD.md says, never the employer
    program = load_program(pid)
    assert program.applicant_kind(cid) == kind
    assert program.holder_name(record) == name
    assert program.employer(record) == employer


@pytest.mark.parametrize("pid, cid", list(CASES))
def test_a_letter_is_addressed_to_the_employer_and_the_person_or_team(records, pid, cid):
    kind, name, employer = CASES[(pid, cid)]
    record = records[(pid, cid)]
    campaign = program_campaign(load_program(pid), None)
    addressed = notice_context(record, campaign, date(2021, 6, 1), date(2021, 5, 20))["company"]
    assert addressed == (f"{employer}　{name}" if employer else name)
