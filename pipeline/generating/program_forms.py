"""Forms for programs whose seed prints none: an application form per category and a checklist of its criteria.

Both are `pipeline.definitions.forms.Form` objects in the layout DSL of forms/*.yaml, generated from the
program file (`fields`, each category's `fields`, `criteria`) and the house style in
forms/programs/_house.yaml, so `pipeline.generating.layout` builds their Word templates like any other form.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.files import output_folder, safe_filename
from pipeline.definitions.forms import Form, build_fields, layout_groups, yaml_text
from pipeline.definitions.programs import PROGRAMS_DIR, Program, criteria_for, load_program, program_campaign, tier_of

HOUSE_FILE = PROGRAMS_DIR / "_house.yaml"
#: Fields that name the applicant, in the order they are looked for (organisation, person, team).
APPLICANT_FIELDS = ("company_name", "name", "team_name")


@functools.lru_cache(maxsize=2)
def house(path: Path = HOUSE_FILE) -> dict:
    """Given the house style file, return its settings."""
    return yaml_text(Path(path).read_text(encoding="utf-8"))


def _program(program: Program | str) -> Program:
    return program if isinstance(program, Program) else load_program(program)


def _form(form_id: str, variant: str, title: str, field_specs: dict, layout: list, program: Program) -> Form:
    spec = {"id": form_id, "variant": variant, "title": title, "fields": field_specs, "layout": layout,
            "required_fields": "all"}
    return Form(id=form_id, variant=variant, title=title, layout=layout, detect=(title,),
                fields=build_fields(spec, layout_groups(layout), program.path or HOUSE_FILE),
                categories=(variant,), spec=spec)


def form_title(program: Program, kind: str, category_id: str) -> str:
    """Given a program, 'application' or 'checklist' and a category, return the form's title (may hold {{ c.year }})."""
    pattern = (program.get("form_titles") or {}).get(kind)
    if not pattern:
        raise UserError(f"项目文件 {program.id} 缺少 form_titles.{kind}")
    return pattern.replace("{category}", program.category(category_id).name)


def field_specs(program: Program, category_id: str) -> tuple[dict, dict]:
    """Given a program and category, return (field id → spec for pipeline.definitions.forms, field id → tall height in cm)."""
    catalogue = program.get("fields") or {}
    specs, tall = {}, {}
    for fid in program.category(category_id).fields:
        if fid not in catalogue:
            raise UserError(f"项目文件 {program.id} 的类别 {category_id} 引用了未定义的字段 {fid}")
        spec = dict(catalogue[fid] or {})
        if "height" in spec:
            tall[fid] = spec.pop("height")
        specs[fid] = spec
    return specs, tall


def application_rows(specs: dict, tall: dict, cols: int) -> list[list]:
    """Given field specs and tall fields, return table rows: short fields two to a row, choices and tall ones alone."""
    rows, pending = [], []
    per_row = cols // 2
    for fid, spec in specs.items():
        alone = fid in tall or spec.get("type") in ("choice", "multi")
        if alone or len(pending) == per_row:
            if pending:
                rows.append(pending)
            pending = []
        if fid in tall:
            rows.append([{"field": fid, "inline": True, "height": tall[fid]}])
        elif alone:
            rows.append([f"={fid}"])
        else:
            pending.append(f"={fid}")
    if pending:
        rows.append(pending)
    return rows


def application_form(program: Program | str, category: str) -> Form:
    """Given a program and a category id, return the category's application form (申报表)."""
    program = _program(program)
    style = house()["application"]
    specs, tall = field_specs(program, category)
    title = form_title(program, "application", category)
    layout = [
        {"title": title},
        {"table": {"cols": style["cols"], "widths": style["widths"],
                   "rows": application_rows(specs, tall, style["cols"])}},
        {"notes": list(style["notes"])},
        {"sign": style["seal"]},
    ]
    return _form(f"{program.id}.application", category, title, specs, layout, program)


def applicant_field(program: Program, category: str) -> str:
    """Given a program and category, return the id of the field naming the applicant (company, person or team)."""
    fields = program.category(category).fields
    return next((f for f in APPLICANT_FIELDS if f in fields), fields[0] if fields else "company_name")


def checklist_form(program: Program | str, category: str) -> Form:
    """Given a program and a category id, return its self-assessment checklist: one row per criterion, with article."""
    program = _program(program)
    style = house()["checklist"]
    cat = program.category(category)
    first_tier = cat.tiers[0].id
    name_id = applicant_field(program, category)
    name_spec = dict((program.get("fields") or {}).get(name_id) or {"label": "申报单位"})
    name_spec.pop("height", None)
    specs = {name_id: name_spec}
    rows = [list(style["columns"])]
    for n, crit in enumerate(criteria_for(program, category), 1):
        fid = f"self_{n:02d}"
        tier = tier_of(crit, cat)
        mark = style["tier_mark"].format(tier=cat.tier(tier).name) if tier != first_tier else ""
        specs[fid] = {"label": crit.text, "type": "yesno", "options": dict(style["options"])}
        rows.append([{"text": str(n)}, {"text": mark + crit.text}, {"text": crit.article}, {"value": fid}, ""])
    title = form_title(program, "checklist", category)
    document = program.get("document") or program.name
    layout = [
        {"title": title},
        {"line": name_id},
        {"table": {"cols": len(style["columns"]), "widths": style["widths"], "rows": rows}},
        {"notes": [note.replace("{document}", document) for note in style["notes"]]},
    ]
    return _form(f"{program.id}.checklist", category, title, specs, layout, program)


def program_forms(program: Program | str, category: str) -> list[Form]:
    """Given a program and a category, return the generated forms of its packet (application, checklist)."""
    program = _program(program)
    forms = [checklist_form(program, category)]
    if program.get("forms") == "generated":
        forms.insert(0, application_form(program, category))
    return forms


def chosen(program: Program, category: str | None) -> list[str]:
    """Given a program and 'all'/None or a category id or name, return the category ids to write."""
    if category in (None, "", "all"):
        return list(program.categories)
    found = program.find_category(category)
    if found:
        return [found]
    try:
        return [program.category(category).id]
    except UserError as exc:  # the message names the valid categories; all is one more
        raise UserError(f"{exc}，或 all（全部类别）") from None


def program_packet(program: Program | str, category: str | None, out_dir: Path, campaign=None) -> list[Path]:
    """Given a program, a category (or 'all'), an output folder and a campaign, write the packet; return the files.

    A program whose seed prints its forms (黑龙江) gets the seed's packet (pipeline.generating.packet) plus the
    checklist; the others get the generated application form and checklist per category.
    """
    from pipeline.generating.layout import build_template
    from pipeline.generating.packet import write_packets
    from pipeline.generating.render import render_docx

    program = _program(program)
    campaign = program_campaign(program, campaign)
    out = Path(out_dir)
    output_folder(out)
    cats = chosen(program, category)
    files = []
    if program.get("forms") == "packet":
        files += write_packets(out, cats[0] if len(cats) == 1 else "all", campaign).files
    names = house()["file_names"]
    context = {"c": campaign.context(), "v": {}, "rows": []}
    with tempfile.TemporaryDirectory(prefix="manyi-program-") as tmp:
        for cid in cats:
            for form in program_forms(program, cid):
                kind = form.id.rsplit(".", 1)[1]
                template = build_template(form, Path(tmp) / f"{form.key}.docx")
                stem = safe_filename(names[kind].replace("{category}", program.category(cid).name))
                files.append(render_docx(template, context, out / f"{stem}.docx"))
    return files


@dataclass
class ProgramPacket:
    """What a generated packet run wrote: the documents, their PDFs, problems, and the program's name."""

    out: Path
    program: str
    files: list = field(default_factory=list)
    pdfs: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def summary(self) -> str:
        """Return the one-line Chinese summary printed at the end of a run."""
        text = f"已生成{self.program}申报材料 {len(self.files)} 份（{'、'.join(p.stem for p in self.files)}）"
        if self.pdfs:
            text += f"，PDF {len(self.pdfs)} 份"
        if self.problems:
            text += f"，{len(self.problems)} 个问题"
        return f"{text}；输出目录：{self.out}"


def write_program_packet(out: Path, category: str | None, campaign, roster: Path | None = None, pdf: bool = False,
                         jobs: int = 1, progress=None):
    """Given an output folder, a category (or 'all'), the campaign and the packet options, write its program's packet.

    A program whose seed prints its forms (黑龙江) writes the seed's packet exactly as before
    (pipeline.generating.packet, rosters included); the others write their generated forms (program_packet).
    Returns an object with `files`, `pdfs`, `problems` and `summary()`.
    """
    from pipeline.definitions.programs import program_of
    from pipeline.generating.packet import PacketResult, add_pdfs, write_packets

    program = program_of(campaign)
    cats = chosen(program, category)  # an unknown category: the Chinese error naming the valid ones
    if program.get("forms") == "packet":
        return write_packets(out, cats[0] if len(cats) == 1 else "all", campaign, roster, pdf=pdf, jobs=jobs,
                             progress=progress)
    if roster:
        raise UserError(f"按名单预填（--roster）只适用于印有申报表的项目；{program.name}的申报表由项目文件生成，"
                        f"请去掉 --roster")
    result = ProgramPacket(out=Path(out), program=program.name,
                           files=program_packet(program, "all" if len(cats) > 1 else cats[0], out, campaign))
    if pdf:
        converted = PacketResult(out=result.out, files=result.files)
        add_pdfs(converted)
        result.pdfs, result.problems = converted.pdfs, converted.problems
    return result
