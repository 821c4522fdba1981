"""docs/RECORD.md is the record manyi guarantees: every form and field it lists is described in forms/*.yaml,
with the value form it states. Its severities, statuses and issue codes are held against the vocabulary and the
codes the rules raise by tests/test_vocabulary.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.definitions import forms

RECORD = Path(__file__).resolve().parents[1] / "docs" / "RECORD.md"
HEADING = re.compile(r"^(#{3,4}) `(\w+)` — ", re.M)
ROW = re.compile(r"^\| `(\w+)` \| [^|]+ \| (\w+) \|$", re.M)


def documented() -> dict[str, dict[str, str]]:
    """Form key (application.<category> for a 申请表) → field id → value form, as docs/RECORD.md states them.

    The first table under `application` belongs to every 申请表; the second, the shared contact
    block, to the three that are not enterprise.
    """
    text = RECORD.read_text(encoding="utf-8")
    marks = list(HEADING.finditer(text))
    found: dict[str, dict[str, str]] = {}
    for mark, following in zip(marks, [*marks[1:], None]):
        body = text[mark.end():following.start() if following else text.index("\n## ", mark.end())]
        level, key = mark.groups()
        found["application." + key if level == "####" else key] = body
    common, shared = found.pop("application").split("also share a contact block")
    result = {key: dict(ROW.findall(body)) for key, body in found.items()}
    for key in [k for k in result if k.startswith("application.")]:
        extra = dict(ROW.findall(shared)) if key != "application.enterprise" else {}
        result[key] = {**dict(ROW.findall(common)), **extra, **result[key]}
    return result


def test_the_page_lists_every_form_and_category():
    assert set(documented()) == {k for k in forms.load_forms()}


@pytest.mark.parametrize("key", sorted(forms.load_forms()))
def test_every_documented_field_is_described_with_its_value_form(key):
    listed = documented()[key]
    assert listed, key
    described = forms.load_forms()[key].fields
    assert set(listed) - set(described) == set(), key
    wrong = {f: (v, described[f].type) for f, v in listed.items() if described[f].type != v}
    assert wrong == {}, key


def test_the_shared_contact_block_is_in_every_non_enterprise_application():
    for category in ("product", "construction", "service"):
        assert {"legal_rep_title", "contact_org", "contact_person", "fax"} <= set(documented()[f"application.{category}"])


def test_no_test_reads_outside_the_repository():
    """A fresh clone alone passes: no test names a project folder beside the repository or climbs above it
    (system programs under /usr and scratch files under /tmp are not the project's)."""
    outside = re.compile(r"""["']/(?:work|home|root|srv|mnt|opt)/|parents\[[2-9]\]|/ "\.\."|["']\.\./shared""")
    for path in Path(__file__).parent.glob("*.py"):
        found = outside.search(path.read_text(encoding="utf-8"))
        assert not found, (path.name, found and found.group(0))
