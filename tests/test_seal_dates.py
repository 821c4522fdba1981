"""A date the recommender writes in the printed 年 月 日 slot under the seal goes to the form's date field.

Every program's every 推荐意见表 is rendered from its template with the opinion typed, and the slot under the
seal filled as a person fills it ('2016年 6月 1日', the spaces of the slot kept); then read from the .docx, and
from the .doc, .odt and PDF LibreOffice makes of it (one batch per format). The opinion must be what was typed,
the date in the date field, the seal's words nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from program_packets import context_for, typed

from pipeline.common import office
from pipeline.definitions.program_forms import program_forms
from pipeline.definitions.programs import all_programs, resolve_campaign
from pipeline.reading.extract import extract_form, split_forms
from pipeline.reading.readers.docx import read_docx
from pipeline.reading.readers.pdf import read_pdf
from pipeline.word.build import build_template
from pipeline.word.render import render_docx

OPINION = "同意推荐。\n该单位用户满意度测评结果真实。"
SLOT = "2016年 6月 1日"
CASES = [(p.id, cid) for p in all_programs() for cid in p.categories
         if any(f.id == "recommendation" for f in program_forms(p, cid))]


def recommendation(pid: str, cid: str):
    return next(f for f in program_forms(next(p for p in all_programs() if p.id == pid), cid) if f.id == "recommendation")


def write_dated(form, pid: str, path: Path) -> Path:
    """Given a 推荐意见表 form, render it with the opinion typed and no date field, then write SLOT into the
    年 月 日 slot under the seal (the first run holding it); return the file."""
    text = {k: v for k, v in typed(form).items() if form.fields[k].type != "date"}
    text["opinion"] = OPINION
    template = build_template(form, path.with_name(f".{path.stem}.template.docx"))
    render_docx(template, context_for(form, text, resolve_campaign(pid, None)), path)
    template.unlink()
    document = docx.Document(str(path))
    runs = [run for table in document.tables for row in table.rows for cell in row.cells if "章" in cell.text
            for para in cell.paragraphs for run in para.runs if re.search(r"年\s+月\s+日", run.text)]
    runs[0].text = re.sub(r"年\s+月\s+日", SLOT, runs[0].text)
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def dated(tmp_path_factory):
    """(program, category) → format → the file LibreOffice or the renderer wrote."""
    root = tmp_path_factory.mktemp("seal")
    sources = {case: write_dated(recommendation(*case), case[0], root / f"{case[0]}-{case[1]}.docx") for case in CASES}
    made = {case: {"docx": path} for case, path in sources.items()}
    for kind in ("doc", "odt", "pdf"):
        converted = office.convert(list(sources.values()), kind, root / kind)
        for case, path in sources.items():
            made[case][kind] = converted[path]
    back = office.convert([m[k] for m in made.values() for k in ("doc", "odt")], "docx", root / "back")
    for case in CASES:
        for kind in ("doc", "odt"):
            made[case][kind] = back[made[case][kind]]
    return made


@pytest.mark.parametrize("kind", ["docx", "doc", "odt", "pdf"])
@pytest.mark.parametrize("pid, cid", CASES)
def test_the_date_in_the_seal_slot_is_the_forms_date(dated, pid, cid, kind):
    form = recommendation(pid, cid)
    path = dated[(pid, cid)][kind]
    doc = read_pdf(path, path.name) if kind == "pdf" else read_docx(path, path.name)
    [found] = split_forms(doc, {form.key: form})
    values = extract_form(found)
    date_field = next(f.id for f in form.fields.values() if f.type == "date" and f.slot == "opinion")
    assert values["opinion"] == OPINION
    assert values[date_field] == "2016-06-01"
