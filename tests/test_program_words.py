"""What the program files print: stage names as the seeds name them, form titles with the campaign's year,
notes that fit the program (the 【】 note only where a tier is marked)."""

from __future__ import annotations

from pipeline.definitions.programs import all_programs, load_program
from pipeline.definitions.stages import workflow_of


def test_national_stages_are_named_as_seed_001_names_them():
    program = load_program("national")
    flow = workflow_of(program).names()
    reviews = [s["name"] for s in program.get("review_stages")]
    # 第十六条 资格审查, 第十七条 资料评审, 第十九条 现场评审, 第二十条 综合评价, 第二十一条 公示, 第二十二条 审定.
    for name in ("资格审查", "资料评审", "现场评审", "综合评价", "审定"):
        assert name in flow and name in reviews
    assert any(s.startswith("公示") for s in flow)
    assert "材料评审" not in flow and "材料评审" not in reviews
    order = [next(i for i, s in enumerate(flow) if s.startswith(n)) for n in ("资料评审", "现场评审", "综合评价", "公示", "审定")]
    assert order == sorted(order)



def generated(kind: str):
    """Every program's generated forms of a kind (checklist, recommendation …), with their program and category."""
    from pipeline.definitions.program_forms import program_forms

    for program in all_programs():
        for cid in program.categories:
            for form in program_forms(program, cid):
                if form.id == kind:
                    yield program, cid, form


def notes_of(form) -> str:
    return "\n".join(n for item in form.layout if isinstance(item, dict) for n in item.get("notes") or [])


def test_the_tier_note_is_printed_exactly_where_a_condition_is_marked_with_a_tier():
    seen = {True: set(), False: set()}
    for program, cid, form in generated("checklist"):
        cat = program.category(cid)
        # A condition of any tier but the first is marked 【tier】 in its row.
        marked = any(cat.tier_of(c) != cat.tiers[0].id for c in program.criteria_for(cid))
        notes = notes_of(form)
        assert ("标有【】" in notes) == marked, (program.id, cid)
        assert notes.startswith("注：1. ") and ("3. " in notes) == marked
        seen[marked].add(program.id)
    assert {"national", "guangdong-stars"} <= seen[False] and "liaoning" in seen[True]


def test_checklist_and_recommendation_titles_carry_the_year_where_the_application_title_does():
    applications = {(p.id, cid): f.title for p, cid, f in generated("application")}
    for kind in ("checklist", "recommendation"):
        for program, cid, form in generated(kind):
            assert ("{{ c.year }}年度" in form.title) == ("{{ c.year }}年度" in applications[(program.id, cid)]), \
                (program.id, kind, form.title)
    assert "{{ c.year }}年度" in applications[("liaoning", "product")]


def test_the_sister_programs_recommendation_has_one_date_place_under_the_seal():
    from pipeline.word.build import printed_labels

    found = 0
    for program, cid, form in generated("recommendation"):
        if "printed" in {e.get("form") for e in program.get("packet") or []}:
            continue  # 黑龙江's seed form, described in forms/recommendation.yaml
        found += 1
        dates = [f for f in form.fields.values() if f.type == "date"]
        assert [f.id for f in dates] == ["opinion_date"] and dates[0].slot == "opinion"
        assert dates[0].label not in printed_labels(form)  # no 推荐日期 row of its own
        rows = next(item["table"]["rows"] for item in form.layout if isinstance(item, dict) and "table" in item)
        cells = [c for row in rows for c in row]
        assert "=opinion_date" not in cells
        footers = [c["footer"] for c in cells if isinstance(c, dict) and c.get("footer")]
        assert len(footers) == 1 and footers[0].count("年") == 1 and footers[0].endswith("日")
    assert found >= 4 * 2


def test_a_missing_recommendation_date_goes_to_staff_not_into_the_companys_letter(tmp_path):
    from datetime import date

    from pipeline.definitions.campaign import load_campaign
    from pipeline.definitions.programs import campaign_for
    from pipeline.issuing import notices

    campaign = load_campaign(campaign_for("liaoning"))
    date_missing = {"severity": "error", "code": "missing_field", "form": "recommendation", "field": "opinion_date",
                    "message": "《推荐评价意见》“推荐日期”未填写"}
    phone = {"severity": "error", "code": "invalid_format", "form": "application", "field": "phone",
             "message": "《申报表》“电话”格式不对"}
    only_date = {"submission_id": "a", "source": "a.zip", "category": "product", "company_name": "甲厂",
                 "forms": {}, "issues": [date_missing]}
    both = {**only_date, "submission_id": "b", "company_name": "乙厂", "issues": [date_missing, phone]}
    result = notices.make_notices([only_date, both], tmp_path, campaign, today=date(2021, 12, 1))
    assert [p.name for p in result.files] == ["乙厂_补正通知.docx"]  # 甲厂 has nothing to put right itself
    from docx import Document

    text = "\n".join(p.text for p in Document(str(result.files[0])).paragraphs)
    assert "电话" in text and "推荐日期" not in text and "尚有以下 1 处" in text
