"""The 推荐汇总表 of a generated program (辽宁, 全国标杆, 广州, 广东服务明星): one per recommending unit.

Its layout is the house style's `summary` (forms/programs/_house.yaml), built like any other form by
pipeline.word.build, and lists each applicant the unit recommends: name, category, the tier it
applies for, its product, project or service, its contact. Packets still to be corrected are left out
unless asked for (and then said so).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.files import output_folder, safe_filename, unique_names
from pipeline.common.records import company_name, form_value
from pipeline.definitions.forms import Form, build_fields
from pipeline.definitions.programs import Program, program_of
from pipeline.definitions.program_forms import HOUSE_FILE, house
from pipeline.word.build import build_template
from pipeline.word.render import render_docx
from pipeline.definitions.vocabulary import Status

#: The applicant's product, project or service, for the 申报产品、工程或服务 column.
ITEM_FIELDS = ("product_name", "project_name", "service_name")
NO_UNIT = "未注明推荐单位"


@dataclass
class Result:
    """What a program summary run wrote, and the warnings to show."""

    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def summary_form(program: Program) -> Form:
    """Given a program, return its 推荐汇总表 as a list Form (house style `summary`)."""
    style = house()["summary"]
    title = style["title"].replace("{program}", program.name)
    spec = {"id": "program_summary", "title": title, "fields": style["columns"], "rows": True}
    layout = [{"title": title}, {"para": f"{style['unit_line']}：{{{{ v.unit }}}}"},
              {"table": {"cols": len(style["columns"]), "widths": style["widths"], "header": list(style["columns"])}},
              {"notes": list(style["notes"])}, {"sign": style["date"]}]
    return Form(id="program_summary", title=title, layout=layout, detect=(title,),
                fields=build_fields(spec, {}, HOUSE_FILE), spec=spec)


def summary_row(program: Program, record: dict, n: int) -> dict:
    """Given a program, a record and its number, return its row of the 推荐汇总表."""
    cat = program.categories.get(record.get("category"))
    tier_id = form_value(record, "application", "tier")
    tier = next((t.name for t in cat.tiers if t.id == tier_id), cat.tiers[0].name) if cat else ""
    item = next((form_value(record, "application", f) for f in ITEM_FIELDS if form_value(record, "application", f)), "")
    return {"seq": n, "applicant": company_name(record) or record.get("source"), "category": cat.name if cat else "",
            "tier": tier, "item": item or "",
            "contact": form_value(record, "application", "contact_person") or form_value(record, "application", "name")
            or "", "phone": form_value(record, "application", "phone") or form_value(record, "application", "contact")
            or ""}


def make_program_summaries(records: list[dict], out: Path, campaign, include_incomplete: bool = False) -> Result:
    """Given records of a generated program, write one 推荐汇总表 per recommending unit into `out`."""
    program = program_of(campaign)
    result = Result()
    chosen = [r for r in records if include_incomplete or r.get("status") == Status.COMPLETE]
    left = len(records) - len(chosen)
    if left:
        result.warnings.append(f"{left} 份申报材料{Status.INCOMPLETE.label}，未列入推荐汇总表（需要时加 --include-incomplete）")
    elif include_incomplete and any(r.get("status") != Status.COMPLETE for r in records):
        result.warnings.append(f"已按要求列入{Status.INCOMPLETE.label}的申报")
    units: dict[str, list[dict]] = {}
    for record in chosen:
        units.setdefault(program.promoting_unit(record) or NO_UNIT, []).append(record)
    out = Path(out)
    output_folder(out)
    style = house()["summary"]
    stems = unique_names([safe_filename(style["file"].replace("{unit}", unit)) for unit in units])
    with tempfile.TemporaryDirectory(prefix="manyi-summary-") as tmp:
        template = build_template(summary_form(program), Path(tmp) / "summary.docx")
        for (unit, mine), stem in zip(units.items(), stems):
            rows = [summary_row(program, r, n) for n, r in enumerate(mine, 1)]
            context = {"c": campaign.context(), "v": {"unit": "" if unit == NO_UNIT else unit}, "rows": rows}
            result.files.append(render_docx(template, context, out / f"{stem}.docx"))
    return result
