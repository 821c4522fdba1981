"""Generated forms for the programs: application form per category and checklist of criteria, as layout-DSL Forms."""

from __future__ import annotations

import zipfile

import pytest
from lxml import etree

from pipeline.common.text import fold
from pipeline.definitions.forms import Form, row_fields
from pipeline.definitions.programs import all_programs, criteria_for, load_program
from pipeline.generating.layout import build_template, printed_labels
from pipeline.generating.program_forms import application_form, checklist_form, program_packet

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
PAIRS = [(p.id, cid) for p in all_programs() for cid in p.categories]
GENERATED = [(pid, cid) for pid, cid in PAIRS if load_program(pid).get("forms") == "generated"]


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
            for row in item["table"]["rows"]:
                used.update(row_fields(row))
    return used


def forms_of(pid, cid):
    program = load_program(pid)
    forms = [checklist_form(program, cid)]
    if program.get("forms") == "generated":
        forms.append(application_form(program, cid))
    return forms


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Every generated form's template, built by pipeline.generating.layout like the seed's forms."""
    folder = tmp_path_factory.mktemp("program-templates")
    return {form.key: (form, build_template(form, folder / f"{form.key}.docx"))
            for pid, cid in PAIRS for form in forms_of(pid, cid)}


@pytest.mark.parametrize("pid, cid", PAIRS)
def test_layout_references_exactly_its_own_fields(pid, cid):
    for form in forms_of(pid, cid):
        assert isinstance(form, Form) and form.variant == cid
        assert layout_fields(form) == set(form.fields), form.key


@pytest.mark.parametrize("pid, cid", GENERATED)
def test_application_form_has_the_category_fields(pid, cid):
    program = load_program(pid)
    form = application_form(program, cid)
    assert list(form.fields) == list(program.category(cid).fields)
    assert program.category(cid).name in form.title


def test_liaoning_tier_is_a_choice_of_用户满意_or_标杆():
    tier = application_form("liaoning", "product").fields["tier"]
    assert tier.type == "choice" and list(tier.options.values()) == ["用户满意", "标杆"]


def test_guangdong_person_form_fields():
    labels = [f.label for f in application_form("guangdong-stars", "star").fields.values()]
    assert labels[:6] == ["姓名", "性别", "出生年月", "工作单位", "岗位", "从事服务工作年限"] and "主要事迹" in labels


@pytest.mark.parametrize("pid, cid", PAIRS)
def test_checklist_has_one_row_per_criterion_with_article(pid, cid):
    program = load_program(pid)
    form = checklist_form(program, cid)
    rows = form.layout[2]["table"]["rows"][1:]
    criteria = criteria_for(program, cid)
    assert len(rows) == len(criteria)
    for row, crit in zip(rows, criteria):
        assert row[1]["text"].endswith(crit.text) and row[2]["text"] == crit.article


@pytest.mark.parametrize("pid, cid", PAIRS)
def test_built_templates_print_every_criterion_and_label(built, pid, cid):
    program = load_program(pid)
    check_form, check_path = built[f"{pid}.checklist.{cid}"]
    text = fold(text_of(check_path))
    for crit in criteria_for(program, cid):
        assert fold(crit.text) in text and fold(crit.article) in text
    assert text.count(fold("{{ box(")) == 2 * len(criteria_for(program, cid))
    for key in ([f"{pid}.application.{cid}"] if (pid, cid) in GENERATED else []):
        form, path = built[key]
        printed = fold(text_of(path))
        assert all(fold(label) in printed for label in printed_labels(form))


def test_program_packet_writes_filled_documents(tmp_path):
    files = program_packet("liaoning", "product", tmp_path)
    assert [f.name for f in files] == ["产品申报表.docx", "产品申报条件自评表.docx"]
    application, checklist = (text_of(f) for f in files)
    assert "2021年度辽宁省用户满意产品（标杆）申报表" in application and "{{" not in application
    assert "□用户满意" in application and "□标杆" in application
    assert "以单项产品（规格/型号）为评定单元，而非系列产品" in checklist and "第七条第1款⑻" in checklist
    assert checklist.count("□符合") == len(criteria_for(load_program("liaoning"), "product"))
