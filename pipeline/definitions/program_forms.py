"""The forms of a program's packet, from its program file: the Form objects every stage reads.

Each is a `pipeline.definitions.forms.Form` in the layout DSL of forms/*.yaml. A program's `packet:`
lists its documents in order, each an entry of one kind:
`printed` (the forms the seed notice prints, described once in forms/*.yaml: 黑龙江's 封面, 申请表 …),
`application` (申报表, the category's fields), `checklist` (申报条件自评表, a row per criterion), a table
of fields (推荐登记表, 推荐意见 with its seal and date), `rows` (a list under a header: 证实性材料清单,
成员名单) and `report` (free text: 自我评价报告). The generated ones follow the house style in
forms/programs/_house.yaml, so the Word layer builds their templates like any other form and the reader
finds them by the same titles and labels. Every program, 黑龙江 included, goes through the same entries.

The functions take a program (`pipeline.definitions.programs.Program`, by its methods and settings:
this module stands below it, so the program object can hand out its forms).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.definitions.forms import (PROGRAMS_DIR, Form, build_fields, layout_groups, layout_slots, load_forms,
                                        packet_forms, yaml_text)

HOUSE_FILE = PROGRAMS_DIR / "_house.yaml"
#: Fields that name the applicant, in the order they are looked for (organisation, person, team).
APPLICANT_FIELDS = ("company_name", "name", "team_name", "applicant")
#: The field of a person's or a team's 申请表 naming their employer (工作单位).
EMPLOYER_FIELDS = ("employer",)
#: The packet of a program file without `packet:`: its application form and checklist.
DEFAULT_PACKET = ({"form": "application"}, {"form": "checklist"})
#: Where a record names the unit that recommends it (推进单位), in order, when the program file names none.
UNIT_FIELDS = (("cover", "promoting_unit"), ("application", "recommending_unit"), ("application", "promoting_unit"),
               ("recommendation", "recommending_unit"), ("recommendation", "promoting_unit"),
               ("registration", "recommending_unit"), ("summary_table", "recommending_unit"))
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}(年度)?")


@functools.lru_cache(maxsize=2)
def house(path: Path = HOUSE_FILE) -> dict:
    """Given the house style file, return its settings."""
    return yaml_text(Path(path).read_text(encoding="utf-8"))


def detect_key(title: str) -> str:
    """Given a printed title pattern ('{{ c.year }}年度辽宁省…申报表'), return the part every year prints."""
    return _PLACEHOLDER.sub("", title).strip()


def packet_entries(program) -> list[dict]:
    """Given a program, return its packet entries in order (`packet:`, else application and checklist)."""
    return [dict(e) for e in program.get("packet") or DEFAULT_PACKET]


def entry_kinds(program) -> set[str]:
    """Given a program, return the kinds of the entries of its packet (printed, application, checklist …)."""
    return {kind_of(item) for item in packet_entries(program)}


def entry(program, form_id: str) -> dict:
    """Given a program and a form id, return its packet entry ({} when the packet has none)."""
    return next((e for e in packet_entries(program) if e["form"] == form_id), {})


def kind_of(item: dict) -> str:
    """Given a packet entry, return its kind: printed, application, checklist, table, rows or report."""
    return item.get("kind") or (item["form"] if item["form"] in ("printed", "application", "checklist") else "table")


def entry_applies(item: dict, category: str) -> bool:
    """Given a packet entry and a category id, return whether that category's packet holds it."""
    return not item.get("categories") or category in item["categories"]


def _form(item: dict, variant: str, title: str, field_specs: dict, layout: list, program) -> Form:
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
                fields=build_fields(spec, layout_groups(layout), program.path or HOUSE_FILE, layout_slots(layout)),
                categories=cats, required=bool(item.get("required", True)), spec=spec)


def form_title(program, kind: str, category_id: str, pattern: str | None = None) -> str:
    """Given a program, a form kind, a category (and a packet entry's title), return the form's title.

    The title may hold {{ c.year }}; {category} is the category's name.
    """
    pattern = pattern or (program.get("form_titles") or {}).get(kind)
    if not pattern:
        raise UserError(f"项目文件 {program.id} 缺少 form_titles.{kind}")
    return pattern.replace("{category}", program.category(category_id).name)


def catalogue_spec(program, fid: str, where: str) -> dict:
    """Given a program and a field id of its catalogue (`fields:`), return a copy of its spec."""
    catalogue = program.get("fields") or {}
    if fid not in catalogue:
        raise UserError(f"项目文件 {program.id} 的{where}引用了未定义的字段 {fid}")
    return dict(catalogue[fid] or {})


def field_specs(program, category_id: str, ids=None) -> tuple[dict, dict]:
    """Given a program, a category (and field ids, default the category's), return (id → spec, id → tall height in cm)."""
    specs, tall = {}, {}
    for fid in program.category(category_id).fields if ids is None else ids:
        spec = catalogue_spec(program, fid, f"类别 {category_id}")
        if "height" in spec:
            tall[fid] = spec.pop("height")
        specs[fid] = spec
    return specs, tall


def application_rows(specs: dict, tall: dict, cols: int, footer: str | None = None,
                     footer_date: str | None = None) -> list[list]:
    """Given field specs and tall fields, return table rows: short fields two to a row, choices and tall ones alone.

    With a footer (a seal line), the last tall field prints it under its text; `footer_date` is the date field
    written in the footer's 年 月 日, which then has no row of its own (else the first date field after the tall
    field is that date): a date written in the slot is read into that field.
    """
    rows, pending = [], []
    per_row = cols // 2
    last_tall = [fid for fid in specs if fid in tall][-1:] if footer else []
    after = list(specs)[list(specs).index(last_tall[0]) + 1:] if last_tall else []
    slot_date = next((fid for fid in after if specs[fid].get("type") == "date"), None)
    for fid, spec in specs.items():
        if last_tall and fid == footer_date:
            continue
        alone = fid in tall or spec.get("type") in ("choice", "multi")
        if alone or len(pending) == per_row:
            if pending:
                rows.append(pending)
            pending = []
        if fid in tall:
            cell = {"field": fid, "inline": True, "height": tall[fid]}
            if fid in last_tall:
                cell["footer"] = footer
                if (footer_date or slot_date) and "年" in footer:
                    cell["date"] = footer_date or slot_date
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


def application_form(program, category: str) -> Form:
    """Given a program and a category id, return the category's application form (申报表), with a photo box for a person."""
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



def checklist_ids(n: int) -> tuple[str, str]:
    """Given a checklist row number (1, 2 …), return the ids of its 自评 and 证明材料 fields."""
    style = house()["checklist"]
    return style["self_id"].format(n=f"{n:02d}"), style["evidence_id"].format(n=f"{n:02d}")


def checklist_form(program, category: str) -> Form:
    """Given a program and a category id, return its self-evaluation checklist (申报条件自评表).

    One row per criterion: number, condition (【标杆】 before a higher tier's), article, 自评
    (符合/不符合/不适用) and 证明材料; a signature and stamp line under it. The form's `criteria`
    setting maps each 自评 field to its criterion id.
    """
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
    for n, crit in enumerate(program.criteria_for(category), 1):
        self_id, evidence_id = checklist_ids(n)
        tier = cat.tier_of(crit)
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
        {"notes": checklist_notes(style, document, marked=any(c["tier"] != first_tier for c in criteria.values()))},
        {"para": style["signature"]},
    ]
    return _form({**item, "criteria": criteria, "columns": list(style["columns"])}, category, title, specs, layout,
                 program)


def checklist_notes(style: dict, document: str, marked: bool) -> list[str]:
    """Given the checklist's house style, the program's document and whether a condition is marked 【tier】,
    return the notes as printed, numbered: the note on 【】 only where a mark is printed."""
    notes = list(style["notes"])
    if marked:
        notes.insert(1, style["tier_note"])
    numbers = style["note_numbers"]
    return [(numbers["next"] if n > 1 else numbers["first"]).format(n=n) + note.replace("{document}", document)
            for n, note in enumerate(notes, 1)]


def entry_field_ids(program, item: dict, category: str) -> list[str]:
    """Given a packet entry and a category, return its fields: those of the category or of no category.

    One 推荐登记表 lists 产品名称 for products and 工程名称 for buildings: a field another category owns is dropped.
    """
    owned = {f for cat in program.categories.values() for f in cat.fields}
    mine = set(program.category(category).fields)
    return [f for f in item.get("fields") or () if f in mine or f not in owned]


def table_form(program, item: dict, category: str) -> Form:
    """Given a program, a packet entry of fields (推荐登记表, 推荐意见) and a category, return its Form.

    An entry with `seal` prints it under its last tall field with the date line, and its date field (推荐日期)
    is the date written there: one place for the date, not a row of its own as well.
    """
    style = house()["table"]
    specs, tall = field_specs(program, category, entry_field_ids(program, item, category))
    footer = style["seal"].replace("{seal}", item["seal"]) if item.get("seal") else None
    dates = [fid for fid, spec in specs.items() if spec.get("type") == "date"]
    title = form_title(program, item["form"], category, item.get("title"))
    layout = [{"title": title},
              {"table": {"cols": style["cols"], "widths": style["widths"],
                         "rows": application_rows(specs, tall, style["cols"], footer,
                                                  dates[-1] if footer and dates else None)}}]
    return _form(item, category, title, specs, layout, program)


def rows_form(program, item: dict, category: str) -> Form:
    """Given a program, a list entry (`header:` field ids) and a category, return its list Form (证实性材料清单 …)."""
    header = list(item.get("header") or ())
    specs, _ = field_specs(program, category, header)
    widths = list(house()["rows"]["widths"])[: len(header)]
    widths += [widths[-1]] * (len(header) - len(widths))
    title = form_title(program, item["form"], category, item.get("title"))
    layout = [{"title": title}, {"table": {"cols": len(header), "widths": widths, "header": header}}]
    return _form(item, category, title, specs, layout, program)


def report_form(program, item: dict, category: str) -> Form:
    """Given a program, a report entry and a category, return the free-text report's Form (自我评价报告)."""
    title = form_title(program, item["form"], category, item.get("title"))
    layout = [{"title": title}] + ([{"para": item["hint"]}] if item.get("hint") else [])
    return _form({**item, "form": "report"}, category, title, {}, layout, program)


BUILDERS = {"table": table_form, "rows": rows_form, "report": report_form}


def entry_forms(program, item: dict, category: str) -> list[Form]:
    """Given a program, one packet entry and a category, return the forms that entry puts in its packet."""
    kind = kind_of(item)
    if kind == "printed":
        return packet_forms(category)
    if kind == "application":
        return [application_form(program, category)]
    if kind == "checklist":
        return [checklist_form(program, category)]
    return [BUILDERS[kind](program, item, category)]


def program_forms(program, category: str) -> list[Form]:
    """Given a program and a category, return the forms of its packet, in the packet's order."""
    return [form for item in packet_entries(program) if entry_applies(item, category)
            for form in entry_forms(program, item, category)]


def form_set(program) -> dict[str, Form]:
    """Given a program, return every form a submission of it may hold, by key ('application.product', …).

    A program with a `printed` entry reads every form the seed prints (forms/*.yaml), the 推荐汇总表 and the
    contract included.
    """
    found = dict(load_forms()) if "printed" in entry_kinds(program) else {}
    for cid in program.categories:
        for form in program_forms(program, cid):
            found.setdefault(form.key, form)
    return found


def applicant_field(program, category: str | None) -> str:
    """Given a program and category, return the id of the field naming the applicant (company, person or team)."""
    cat = program.categories.get(category)
    fields = cat.fields if cat else ()
    return next((f for f in APPLICANT_FIELDS if f in fields), fields[0] if fields else "company_name")


def unit_fields(program) -> tuple:
    """Given a program, return the (form, field) places a record names its 推进单位 in, in order."""
    return tuple(tuple(p) for p in program.get("unit_fields") or UNIT_FIELDS)
