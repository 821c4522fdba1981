"""The 推荐汇总表 filled from parsed records: one per recommending unit (推进单位).

The printed form has `lines_per_category` lines per category (forms/summary_table.yaml); the
names beyond them go on a continuation page in the same document, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from docx import Document
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.table import _Cell

from pipeline.common.files import atomic_path, safe_filename, unique_names
from pipeline.common.records import company_name, form_value, honoured_name
from pipeline.common.text import fold
from pipeline.definitions.campaign import Campaign
from pipeline.definitions.forms import load_forms
from pipeline.generating.house_templates import CENTER, TITLE_FONT, add_text, set_fonts
from pipeline.generating.render import compiled

FORM_ID = "summary_table"
TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "summary_table.docx"
NO_UNIT = "未注明推进单位"
SUFFIX = "_推荐汇总表"
#: Which list of the form a category's submissions go in.
LIST_OF = {"enterprise": "enterprises", "product": "products", "construction": "projects", "service": "services"}
CONTACT_FIELDS = ("contact_person", "phone", "address", "postcode")
#: Left blank for the unit to fill in by hand: the records cannot know it.
BLANK = "\u3000\u3000"


@dataclass
class Unit:
    """One recommending unit: its name, its listed submissions' names by list, its contacts."""

    name: str
    lists: dict = field(default_factory=lambda: {name: [] for name in LIST_OF.values()})
    companies: set = field(default_factory=set)
    contacts: dict = field(default_factory=dict)


@dataclass
class Result:
    """What a summary-table run wrote, and the warnings to show."""

    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def unit_of(record: dict) -> str:
    """Given a record, return its 推进单位: the cover's, else the 推荐汇总表's, else NO_UNIT."""
    return str(form_value(record, "cover", "promoting_unit")
               or form_value(record, FORM_ID, "recommending_unit") or NO_UNIT)


def group_by_unit(records: list[dict], include_incomplete: bool = False) -> list[Unit]:
    """Given records, return the units in order of first appearance, each with its listed names.

    Every submission of a unit counts towards 共推动（ ）家企业 (distinct companies); only complete
    ones are listed unless `include_incomplete`. Contacts come from any 推荐汇总表 the unit sent.
    """
    units: dict[str, Unit] = {}
    for record in records:
        name = unit_of(record)
        unit = units.setdefault(fold(name), Unit(name))
        for key in CONTACT_FIELDS:
            if not unit.contacts.get(key):
                unit.contacts[key] = form_value(record, FORM_ID, key)
        list_name = LIST_OF.get(record.get("category"))
        if not list_name:
            continue
        unit.companies.add(fold(company_name(record) or record.get("source") or ""))
        if include_incomplete or record.get("status") == "complete":
            unit.lists[list_name].append(honoured_name(record) or str(record.get("source")))
    return [u for u in units.values() if any(u.lists.values())]


def split_lists(unit: Unit, lines: int) -> tuple[dict, dict]:
    """Given a unit and the lines per category, return (names printed on the form, names for the continuation)."""
    return ({k: v[:lines] for k, v in unit.lists.items()}, {k: v[lines:] for k, v in unit.lists.items() if v[lines:]})


def values_for(unit: Unit, printed: dict) -> dict:
    """Given a unit and the names printed on the form, return the form's values (`v`)."""
    values = {"recommending_unit": "" if unit.name == NO_UNIT else unit.name, "promoted_count": len(unit.companies), "awarded_count": BLANK}
    values.update(printed)
    values.update({k: str(unit.contacts.get(k) or "") for k in CONTACT_FIELDS})
    return values


def overflow_warnings(unit: Unit, overflow: dict, lines: int) -> list[str]:
    """Given a unit and its overflow, return one Chinese warning per overflowing category."""
    fields = load_forms()[FORM_ID].fields
    return [f"{unit.name}：{fields[k].plain_label}共 {len(unit.lists[k])} 项，表内只有 {lines} 行，"
            f"其余 {len(names)} 项印在续页" for k, names in overflow.items()]


def _grid(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "4")
        borders.append(edge)
    table._tbl.tblPr.append(borders)


def add_continuation(path: Path, unit: Unit, overflow: dict, lines: int, title: str) -> None:
    """Given a filled 推荐汇总表 and the names that did not fit, append a continuation page listing them all."""
    doc = Document(str(path))
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    add_text(doc, f"{title}（续页）", font=TITLE_FONT, size=16, align=CENTER, after=6)
    add_text(doc, f"推荐单位：{'' if unit.name == NO_UNIT else unit.name}", size=12, after=6)
    fields = load_forms()[FORM_ID].fields
    rows = [(fields[k].plain_label, str(n), name) for k, names in overflow.items()
            for n, name in enumerate(names, start=lines + 1)]
    table = doc.add_table(rows=len(rows) + 1, cols=3)
    _grid(table)
    # table.cell(r, c) lays out the whole grid on every call: with hundreds of names that is seconds.
    for r, (tr, cells) in enumerate(zip(table._tbl.tr_lst, [("类别", "序号", "名称"), *rows])):
        for c, (tc, text) in enumerate(zip(tr.tc_lst, cells)):
            cell = _Cell(tc, table)
            cell.width = (Cm(3), Cm(1.6), Cm(11))[c]
            run = cell.paragraphs[0].add_run(text)
            set_fonts(run._element.get_or_add_rPr(), TITLE_FONT if r == 0 else "宋体")
    with atomic_path(path) as tmp:
        doc.save(str(tmp))


def make_summary_tables(records: list[dict], out: Path, campaign: Campaign | dict,
                        include_incomplete: bool = False, template: Path = TEMPLATE) -> Result:
    """Given records, write one 推荐汇总表 per recommending unit; return the files and warnings.

    `campaign` is a Campaign or its render context (packet workers hold the context).
    """
    form = load_forms()[FORM_ID]
    lines = int(form.get("lines_per_category") or 4)
    units = group_by_unit(records, include_incomplete)
    result = Result()
    if not units:
        result.warnings.append("没有可列入推荐汇总表的申报" + ("" if include_incomplete else
                               "（只列材料齐全的申报；要列出全部，请加 --include-incomplete）"))
        return result
    context = campaign.context() if isinstance(campaign, Campaign) else campaign
    tpl = compiled(template)
    stems = unique_names([safe_filename(u.name) + SUFFIX for u in units])
    for unit, stem in zip(units, stems):
        printed, overflow = split_lists(unit, lines)
        path = tpl.render({"c": context, "v": values_for(unit, printed)}, Path(out) / f"{stem}.docx")
        if overflow:
            result.warnings += overflow_warnings(unit, overflow, lines)
            add_continuation(path, unit, overflow, lines, form.printed_title(campaign))
        result.files.append(path)
    return result
