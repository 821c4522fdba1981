"""Generated forms for the programs: application form per category and checklist of criteria, as layout-DSL Forms."""

from __future__ import annotations

import zipfile

import pytest
from lxml import etree

from pipeline.common.text import fold
from pipeline.definitions.forms import Form, row_fields
from pipeline.generating.packets import write_program_packet
from pipeline.definitions.programs import program_campaign,  all_programs, load_program
from pipeline.word.build import build_template, printed_labels
from pipeline.definitions.program_forms import entry_kinds, application_form, checklist_form, form_set, program_forms

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
PAIRS = [(p.id, cid) for p in all_programs() for cid in p.categories]
GENERATED = [(pid, cid) for pid, cid in PAIRS if "printed" not in entry_kinds(load_program(pid))]


def program_packet(pid: str, category: str, out):
    """Given a program id, a category and a folder, write its blank packet there; return the files in packet order."""
    return write_program_packet(out, category, program_campaign(load_program(pid), None)).files


def text_of(path) -> str:
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read("word/document.xml"))
    return "".join(t.text or "" for t in root.iter(f"{W}t"))


def layout_fields(form: Form) -> set[str]:
    used = set()
    for item in form.layout:
        if isinstance(item, dict) and "line" in item:
            used.add(item["line"])
        if isinstance(item, dict) and "table" in item:
            for row in item["table"].get("rows") or []:
                used.update(row_fields(row))
            used.update(item["table"].get("header") or [])
    return used


def forms_of(pid, cid):
    return program_forms(load_program(pid), cid)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Every generated form's template, built by pipeline.word.build like the seed's forms."""
    folder = tmp_path_factory.mktemp("program-templates")
    return {f"{pid}.{form.key}": (form, build_template(form, folder / f"{pid}.{form.key}.docx"))
            for pid, cid in PAIRS for form in forms_of(pid, cid)}


@pytest.mark.parametrize("pid, cid", PAIRS)
def test_layout_references_exactly_its_own_fields(pid, cid):
    for form in forms_of(pid, cid):
        assert isinstance(form, Form) and form.variant in (cid, None) and cid in form.categories
        assert layout_fields(form) == set(form.fields), form.key


@pytest.mark.parametrize("pid, cid", GENERATED)
def test_application_form_has_the_category_fields(pid, cid):
    program = load_program(pid)
    form = application_form(program, cid)
    assert list(form.fields) == list(program.category(cid).fields)
    assert program.category(cid).name in form.title


def test_liaoning_tier_is_a_choice_of_用户满意_or_标杆():
    tier = application_form(load_program("liaoning"), "product").fields["tier"]
    assert tier.type == "choice" and list(tier.options.values()) == ["用户满意", "标杆"]


def test_guangdong_person_form_fields():
    form = application_form(load_program("guangdong-stars"), "star")
    labels = [f.label for f in form.fields.values()]
    assert labels[:5] == ["姓名", "性别", "出生年月", "政治面貌", "学历"]
    assert {"职务/岗位", "从事服务工作年限", "联系方式", "主要事迹"} <= set(labels)
    photo = form.layout[1]["table"]["rows"][0][-1]
    assert photo["text"].startswith("照") and photo["rowspan"] == 4  # the photo box beside the first four rows


@pytest.mark.parametrize("pid, cid", PAIRS)
def test_checklist_has_one_row_per_criterion_with_article(pid, cid):
    program = load_program(pid)
    form = checklist_form(program, cid)
    rows = form.layout[2]["table"]["rows"][1:]
    criteria = program.criteria_for(cid)
    assert len(rows) == len(criteria)
    for row, crit in zip(rows, criteria):
        assert row[1]["text"].endswith(crit.text) and row[2]["text"] == crit.article


@pytest.mark.parametrize("pid, cid", PAIRS)
def test_built_templates_print_every_criterion_and_label(built, pid, cid):
    program = load_program(pid)
    check_form, check_path = built[f"{pid}.checklist.{cid}"]
    text = fold(text_of(check_path))
    for crit in program.criteria_for(cid):
        assert fold(crit.text) in text and fold(crit.article) in text
    assert text.count(fold("{{ box(")) == 3 * len(program.criteria_for(cid))
    for form in forms_of(pid, cid):
        path = built[f"{pid}.{form.key}"][1]
        printed = fold(text_of(path))
        shown = [label for label in printed_labels(form) if not label.startswith("证明材料")]  # a column, not a label
        assert all(fold(label) in printed for label in shown), form.key
        assert fold(form.detect[0]) in printed  # the reader finds the form by what every year prints


def test_program_packet_writes_filled_documents(tmp_path):
    files = program_packet("liaoning", "product", tmp_path)
    assert [f.name for f in files] == ["产品申报表.docx", "产品申报条件自评表.docx", "产品推荐登记表.docx",
                                       "产品推荐意见表.docx", "产品自我评价报告.docx", "产品证实性材料清单.docx"]
    application, checklist = (text_of(f) for f in files[:2])
    assert "2021年度辽宁省用户满意产品（标杆）申报表" in application and "{{" not in application
    assert "□用户满意" in application and "□标杆" in application
    assert "以单项产品（规格/型号）为评定单元，而非系列产品" in checklist and "第七条第1款⑻" in checklist
    assert checklist.count("□符合") == len(load_program("liaoning").criteria_for("product"))


#: What each seed's articles ask of a packet (form id → article), per program.
SEED_PACKETS = {
    "liaoning": {"application": "第十一条", "checklist": "第十一条", "registration": "第十三条",
                 "recommendation": "第十四条", "report": "第十一条", "evidence": "第十一条"},
    "national": {"application": "第十五条", "checklist": "第十五条", "recommendation": "第十五条",
                 "report": "第十五条", "evidence": "第十五条"},
    "guangdong-stars": {"application": "第十六条第1款", "checklist": "第十六条第1款",
                        "recommendation": "第十六条第1款"},
    "guangzhou": {"application": "第十七条", "checklist": "第十七条", "recommendation": "第十七条"},
}


@pytest.mark.parametrize("pid", sorted(SEED_PACKETS))
def test_every_category_has_the_forms_its_articles_ask_for(pid):
    program = load_program(pid)
    for cid in program.categories:
        forms = {f.id: f for f in program_forms(program, cid)}
        assert {k: f.get("article") for k, f in forms.items() if k in SEED_PACKETS[pid]} == SEED_PACKETS[pid]
        assert all(f.required for f in forms.values())
    assert set(form_set(program)) == {f.key for c in program.categories for f in program_forms(program, c)}


def test_recommendation_has_seal_and_date_and_team_its_members():
    opinion = program_forms(load_program("guangdong-stars"), "team")
    by_id = {f.id: f for f in opinion}
    rows = by_id["recommendation"].layout[1]["table"]["rows"]
    assert any(isinstance(c, dict) and "公章" in (c.get("footer") or "") for row in rows for c in row)
    assert by_id["recommendation"].fields["opinion_date"].type == "date"
    assert [f.label for f in by_id["members"].fields.values()][:3] == ["序号", "成员姓名", "成员岗位"]
    assert "members" not in {f.id for f in program_forms(load_program("guangdong-stars"), "star")}


def test_checklist_rows_self_evaluation_and_evidence_with_benchmark_only_where_a_tier_has_it():
    liaoning = checklist_form(load_program("liaoning"), "product")
    marks = [f.label for f in liaoning.fields.values() if f.label.startswith("【标杆】")]
    assert len(marks) == sum(1 for c in load_program("liaoning").criteria_for("product") if c.tier == "benchmark")
    assert liaoning.fields["self_01"].type == "choice"
    assert list(liaoning.fields["self_01"].options.values()) == ["符合", "不符合", "不适用"]
    assert not liaoning.fields["evidence_01"].required
    stars = checklist_form(load_program("guangdong-stars"), "star")
    assert not any(f.label.startswith("【") for f in stars.fields.values())  # no 标杆 tier: no mark
    assert "盖章" in stars.layout[-1]["para"] and "签字" in stars.layout[-1]["para"]


def test_a_program_from_a_file_of_its_own_has_its_forms(tmp_path):
    """A program file outside forms/programs/ (an association's own copy) gives the forms of that file."""
    import shutil

    own = tmp_path / "本省项目.yaml"
    shutil.copyfile(load_program("liaoning").path, own)
    own.write_text(own.read_text(encoding="utf-8").replace("申报表", "申请书"), encoding="utf-8")
    forms = form_set(load_program(own))
    assert forms.keys() == form_set(load_program("liaoning")).keys()
    titles = [f.title for f in forms.values() if f.key.startswith("application.")]
    assert titles and all("申请书" in t for t in titles) and not any("申请书" in f.title for f in form_set(load_program("liaoning")).values())
