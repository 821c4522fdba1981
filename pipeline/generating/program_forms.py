"""Forms for programs whose seed prints none: every document of a category's packet, from the program file.

Each is a `pipeline.definitions.forms.Form` in the layout DSL of forms/*.yaml, generated from the program
file (`fields`, each category's `fields`, `criteria`, and `packet:` — which documents, titles, articles) and
the house style in forms/programs/_house.yaml, so `pipeline.word.build` builds their Word templates
like any other form and the reader finds them by the same titles and labels. Kinds of packet entry:
`application` (申报表, the category's fields), `checklist` (申报条件自评表, a row per criterion), a table of
fields (推荐登记表, 推荐意见 with its seal and date), `rows` (a list under a header: 证实性材料清单, 成员名单)
and `report` (free text: 自我评价报告).
"""

from __future__ import annotations

import functools
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.files import output_folder, safe_filename
from pipeline.definitions.forms import Form, build_fields, layout_groups, yaml_text
from pipeline.definitions.programs import PROGRAMS_DIR, Program, criteria_for, load_program, program_campaign, tier_of

HOUSE_FILE = PROGRAMS_DIR / "_house.yaml"
#: Fields that name the applicant, in the order they are looked for (organisation, person, team).
APPLICANT_FIELDS = ("company_name", "name", "team_name", "applicant")
#: The packet of a program file without `packet:`: its application form (when generated) and checklist.
DEFAULT_PACKET = ({"form": "application"}, {"form": "checklist"})
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}(年度)?")


@functools.lru_cache(maxsize=2)
def house(path: Path = HOUSE_FILE) -> dict:
    """Given the house style file, return its settings."""
    return yaml_text(Path(path).read_text(encoding="utf-8"))


def _program(program: Program | str) -> Program:
    return program if isinstance(program, Program) else load_program(program)


def detect_key(title: str) -> str:
    """Given a printed title pattern ('{{ c.year }}年度辽宁省…申报表'), return the part every year prints."""
    return _PLACEHOLDER.sub("", title).strip()


def packet_entries(program: Program) -> list[dict]:
    """Given a program, return its packet entries in order (`packet:`, else application and checklist)."""
    entries = [dict(e) for e in program.get("packet") or DEFAULT_PACKET]
    if program.get("forms") != "generated":
        entries = [e for e in entries if e["form"] == "checklist"]  # the seed prints the rest (黑龙江)
    return entries


def entry(program: Program, form_id: str) -> dict:
    """Given a program and a form id, return its packet entry ({} when the packet has none)."""
    return next((e for e in packet_entries(program) if e["form"] == form_id), {})


def kind_of(item: dict) -> str:
    """Given a packet entry, return its kind: application, checklist, table, rows or report."""
    return item.get("kind") or (item["form"] if item["form"] in ("application", "checklist") else "table")


def entry_applies(item: dict, category: str) -> bool:
    """Given a packet entry and a category id, return whether that category's packet holds it."""
    return not item.get("categories") or category in item["categories"]


def _form(item: dict, variant: str, title: str, field_specs: dict, layout: list, program: Program) -> Form:
    # A document every category prints alike (自我评价报告) is one form: its title cannot tell the category.
    shared = item.get("title") and "{category}" not in item["title"]
    cats = tuple(item.get("categories") or program.categories) if shared else (variant,)
    variant = None if shared else variant
    settings = {k: v for k, v in item.items() if k not in ("form", "title", "fields", "header", "categories")}
    spec = {"id": item["form"], "variant": variant, "title": title, "fields": field_specs, "layout": layout,
            "required_fields": "all", "program": program.id, "kind": kind_of(item), **settings}
    if kind_of(item) == "rows":
        spec.update(rows=True, blank_rows=house()["rows"]["blank_rows"])
    return Form(id=item["form"], variant=variant, title=title, layout=layout, detect=(detect_key(title),),
                fields=build_fields(spec, layout_groups(layout), program.path or HOUSE_FILE),
                categories=cats, required=bool(item.get("required", True)), spec=spec)


def form_title(program: Program, kind: str, category_id: str, pattern: str | None = None) -> str:
    """Given a program, a form kind, a category (and a packet entry's title), return the form's title.

    The title may hold {{ c.year }}; {category} is the category's name.
    """
    pattern = pattern or (program.get("form_titles") or {}).get(kind)
    if not pattern:
        raise UserError(f"项目文件 {program.id} 缺少 form_titles.{kind}")
    return pattern.replace("{category}", program.category(category_id).name)


def catalogue_spec(program: Program, fid: str, where: str) -> dict:
    """Given a program and a field id of its catalogue (`fields:`), return a copy of its spec."""
    catalogue = program.get("fields") or {}
    if fid not in catalogue:
        raise UserError(f"项目文件 {program.id} 的{where}引用了未定义的字段 {fid}")
    return dict(catalogue[fid] or {})


def field_specs(program: Program, category_id: str, ids=None) -> tuple[dict, dict]:
    """Given a program, a category (and field ids, default the category's), return (id → spec, id → tall height in cm)."""
    specs, tall = {}, {}
    for fid in program.category(category_id).fields if ids is None else ids:
        spec = catalogue_spec(program, fid, f"类别 {category_id}")
        if "height" in spec:
            tall[fid] = spec.pop("height")
        specs[fid] = spec
    return specs, tall


def application_rows(specs: dict, tall: dict, cols: int, footer: str | None = None) -> list[list]:
    """Given field specs and tall fields, return table rows: short fields two to a row, choices and tall ones alone.

    With a footer (a seal line), the last tall field prints it under its text.
    """
    rows, pending = [], []
    per_row = cols // 2
    last_tall = [fid for fid in specs if fid in tall][-1:] if footer else []
    for fid, spec in specs.items():
        alone = fid in tall or spec.get("type") in ("choice", "multi")
        if alone or len(pending) == per_row:
            if pending:
                rows.append(pending)
            pending = []
        if fid in tall:
            cell = {"field": fid, "inline": True, "height": tall[fid]}
            if fid in last_tall:
                cell["footer"] = footer
            rows.append([cell])
        elif alone:
            rows.append([f"={fid}"])
        else:
            pending.append(f"={fid}")
    if pending:
        rows.append(pending)
    return rows


def with_photo(rows: list[list], photo: dict) -> list[list]:
    """Given a person form's rows, return them with the photo box beside the first two-field rows (at most photo.rows)."""
    span = 0
    while span < min(int(photo["rows"]), len(rows)) and len(rows[span]) == 2 and all(
            isinstance(c, str) for c in rows[span]):
        span += 1
    out = [list(r) for r in rows]
    if span:
        out[0].append({"text": photo["text"], "rowspan": span})
    return out


def application_form(program: Program | str, category: str) -> Form:
    """Given a program and a category id, return the category's application form (申报表), with a photo box for a person."""
    program = _program(program)
    style = house()["application"]
    item = entry(program, "application") or {"form": "application"}
    specs, tall = field_specs(program, category)
    title = form_title(program, "application", category, item.get("title"))
    rows = application_rows(specs, tall, style["cols"])
    widths, cols = list(style["widths"]), style["cols"]
    if ((program.get("categories") or {}).get(category) or {}).get("photo"):
        photo = style["photo"]
        rows = with_photo(rows, photo)
        widths = [round(w * (sum(widths) - photo["width"]) / sum(widths), 2) for w in widths] + [photo["width"]]
        cols += 1
    layout = [
        {"title": title},
        {"table": {"cols": cols, "widths": widths, "rows": rows}},
        {"notes": list(style["notes"])},
        {"sign": style["seal"]},
    ]
    return _form(item, category, title, specs, layout, program)


def applicant_field(program: Program, category: str) -> str:
    """Given a program and category, return the id of the field naming the applicant (company, person or team)."""
    fields = program.category(category).fields
    return next((f for f in APPLICANT_FIELDS if f in fields), fields[0] if fields else "company_name")


def checklist_ids(n: int) -> tuple[str, str]:
    """Given a checklist row number (1, 2 …), return the ids of its 自评 and 证明材料 fields."""
    style = house()["checklist"]
    return style["self_id"].format(n=f"{n:02d}"), style["evidence_id"].format(n=f"{n:02d}")


def checklist_form(program: Program | str, category: str) -> Form:
    """Given a program and a category id, return its self-evaluation checklist (申报条件自评表).

    One row per criterion: number, condition (【标杆】 before a higher tier's), article, 自评
    (符合/不符合/不适用) and 证明材料; a signature and stamp line under it. The form's `criteria`
    setting maps each 自评 field to its criterion id.
    """
    program = _program(program)
    style = house()["checklist"]
    item = entry(program, "checklist") or {"form": "checklist"}
    cat = program.category(category)
    first_tier = cat.tiers[0].id
    name_id = applicant_field(program, category)
    name_spec = dict((program.get("fields") or {}).get(name_id) or {"label": "申报单位"})
    name_spec.pop("height", None)
    specs = {name_id: name_spec}
    rows = [list(style["columns"])]
    criteria = {}
    for n, crit in enumerate(criteria_for(program, category), 1):
        self_id, evidence_id = checklist_ids(n)
        tier = tier_of(crit, cat)
        mark = style["tier_mark"].format(tier=cat.tier(tier).name) if tier != first_tier else ""
        specs[self_id] = {"label": mark + crit.text, "type": "choice", "options": dict(style["options"])}
        specs[evidence_id] = {"label": style["evidence_label"].format(n=n), "required": False}
        criteria[self_id] = {"criterion": crit.id, "article": crit.article, "tier": tier, "evidence": evidence_id,
                             "row": n}
        rows.append([{"text": str(n)}, {"text": mark + crit.text}, {"text": crit.article}, {"value": self_id},
                     {"value": evidence_id}])
    title = form_title(program, "checklist", category, item.get("title"))
    document = program.get("document") or program.name
    layout = [
        {"title": title},
        {"line": name_id},
        {"table": {"cols": len(style["columns"]), "widths": style["widths"], "rows": rows}},
        {"notes": [note.replace("{document}", document) for note in style["notes"]]},
        {"para": style["signature"]},
    ]
    return _form({**item, "criteria": criteria, "columns": list(style["columns"])}, category, title, specs, layout,
                 program)


def entry_field_ids(program: Program, item: dict, category: str) -> list[str]:
    """Given a packet entry and a category, return its fields: those of the category or of no category.

    One 推荐登记表 lists 产品名称 for products and 工程名称 for buildings: a field another category owns is dropped.
    """
    owned = {f for cat in program.categories.values() for f in cat.fields}
    mine = set(program.category(category).fields)
    return [f for f in item.get("fields") or () if f in mine or f not in owned]


def table_form(program: Program, item: dict, category: str) -> Form:
    """Given a program, a packet entry of fields (推荐登记表, 推荐意见) and a category, return its Form.

    An entry with `seal` prints it under its last tall field, with the date line.
    """
    style = house()["table"]
    specs, tall = field_specs(program, category, entry_field_ids(program, item, category))
    footer = style["seal"].replace("{seal}", item["seal"]) if item.get("seal") else None
    title = form_title(program, item["form"], category, item.get("title"))
    layout = [{"title": title},
              {"table": {"cols": style["cols"], "widths": style["widths"],
                         "rows": application_rows(specs, tall, style["cols"], footer)}}]
    return _form(item, category, title, specs, layout, program)


def rows_form(program: Program, item: dict, category: str) -> Form:
    """Given a program, a list entry (`header:` field ids) and a category, return its list Form (证实性材料清单 …)."""
    header = list(item.get("header") or ())
    specs, _ = field_specs(program, category, header)
    widths = list(house()["rows"]["widths"])[: len(header)]
    widths += [widths[-1]] * (len(header) - len(widths))
    title = form_title(program, item["form"], category, item.get("title"))
    layout = [{"title": title}, {"table": {"cols": len(header), "widths": widths, "header": header}}]
    return _form(item, category, title, specs, layout, program)


def report_form(program: Program, item: dict, category: str) -> Form:
    """Given a program, a report entry and a category, return the free-text report's Form (自我评价报告)."""
    title = form_title(program, item["form"], category, item.get("title"))
    layout = [{"title": title}] + ([{"para": item["hint"]}] if item.get("hint") else [])
    return _form({**item, "form": "report"}, category, title, {}, layout, program)


BUILDERS = {"table": table_form, "rows": rows_form, "report": report_form}


def program_forms(program: Program | str, category: str) -> list[Form]:
    """Given a program and a category, return the generated forms of its packet, in the packet's order."""
    program = _program(program)
    forms = []
    for item in packet_entries(program):
        if not entry_applies(item, category):
            continue
        kind = kind_of(item)
        if kind == "application":
            forms.append(application_form(program, category))
        elif kind == "checklist":
            forms.append(checklist_form(program, category))
        else:
            forms.append(BUILDERS[kind](program, item, category))
    return forms


@functools.lru_cache(maxsize=8)
def _form_set(where: str, mtime: float) -> dict:
    program = load_program(where)
    return {form.key: form for cid in program.categories for form in program_forms(program, cid)}


@functools.lru_cache(maxsize=8)
def _seed_form_set(where: str, mtime: float) -> dict:
    from pipeline.definitions.forms import load_forms

    program = load_program(where)
    return {**load_forms(), **{form.key: form for cid in program.categories for form in program_forms(program, cid)}}


def form_set(program: Program | str) -> dict[str, Form]:
    """Given a program, return every form a submission of it may hold, by key ('application.product', …).

    A program whose seed prints its forms (黑龙江) reads the seed's forms (forms/*.yaml) and its generated
    申报条件自评表.
    """
    program = _program(program)
    # Cached by the program's own file (a program may come from a file outside forms/programs/), kept while unchanged.
    where = str(program.path) if program.path else program.id
    mtime = program.path.stat().st_mtime if program.path else 0.0
    if program.get("forms") != "generated":
        return _seed_form_set(where, mtime)
    return _form_set(where, mtime)


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
    checklist; the others get every document of their `packet:` per category, one file each.
    """
    from pipeline.word.build import build_template
    from pipeline.generating.packet import write_packets
    from pipeline.word.render import render_docx

    program = _program(program)
    campaign = program_campaign(program, campaign)
    out = Path(out_dir)
    output_folder(out)
    cats = chosen(program, category)
    files = []
    if program.get("forms") == "packet":
        files += write_packets(out, cats[0] if len(cats) == 1 else "all", campaign).files
    names = house()["file_names"]
    with tempfile.TemporaryDirectory(prefix="manyi-program-") as tmp:
        for cid in cats:
            for form in program_forms(program, cid):
                template = build_template(form, Path(tmp) / f"{form.key}.docx")
                stem = safe_filename(names[form.id].replace("{category}", program.category(cid).name))
                blank = [{}] * int(form.get("blank_rows") or 0)
                context = {"c": campaign.context(), "v": {}, "rows": blank}
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
