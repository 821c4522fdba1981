"""The 推荐汇总表 filled from parsed records: one per recommending unit (推进单位).

The printed form has `lines_per_category` lines per category (forms/summary_table.yaml); the
names beyond them go on a continuation page in the same document, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from docx import Document

from pipeline.common.files import atomic_path, safe_filename, unique_names
from pipeline.common.records import company_name, form_value, honoured_name
from pipeline.common.text import fold
from pipeline.definitions.campaign import Campaign
from pipeline.definitions.forms import load_forms
from pipeline.definitions.programs import Program, load_program, program_of
from pipeline.issuing.program_summary import make_program_summaries
from pipeline.word.build import template_path
from pipeline.word.document import append_body
from pipeline.word.plan import Slot
from pipeline.word.render import compiled
from pipeline.word.styles import STYLE
from pipeline.word.xml import banner_row, cell_xml, para_xml, row_xml, run_xml, table_props, title_para

FORM_ID = "summary_table"
TEMPLATE = template_path(FORM_ID)
NO_UNIT = "未注明推进单位"
SUFFIX = "_推荐汇总表"
#: Which list of the form a category's submissions go in.
LIST_OF = {"enterprise": "enterprises", "product": "products", "construction": "projects", "service": "services"}
CONTACT_FIELDS = ("contact_person", "phone", "address", "postcode")
#: Left blank, with room, for the unit to write its own figures (共推动（ ）家企业…): the records cannot know them.
BLANK = "\u3000\u3000\u3000"


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


def unit_of(record: dict, program: Program) -> str:
    """Given a record and its program, return its 推进单位 (the program's places), else NO_UNIT."""
    return program.promoting_unit(record) or NO_UNIT


def group_by_unit(records: list[dict], program: Program, include_incomplete: bool = False) -> list[Unit]:
    """Given records, return the units in order of first appearance, each with its listed names.

    Every submission of a unit counts towards 共推动（ ）家企业 (distinct companies); only complete
    ones are listed unless `include_incomplete`. Contacts come from any 推荐汇总表 the unit sent.
    """
    units: dict[str, Unit] = {}
    for record in records:
        name = unit_of(record, program)
        unit = units.setdefault(fold(name), Unit(name))
        for key in CONTACT_FIELDS:
            if not unit.contacts.get(key):
                unit.contacts[key] = form_value(record, FORM_ID, key)
        list_name = LIST_OF.get(record.get("category"))
        if not list_name:
            continue
        unit.companies.add(fold(company_name(record) or record.get("source") or ""))
        if include_incomplete or record.get("status") == "complete":
            unit.lists[list_name].append(listed_name(record))
    return [u for u in units.values() if any(u.lists.values())]


def listed_name(record: dict) -> str:
    """Given a record, return its line on the form: the company, or the company and what it puts forward.

    哈尔滨XX有限公司：XX牌 XX-200 型… for a product, project or service; the company alone for 企业类.
    """
    company, item = company_name(record), honoured_name(record)
    if item and company and fold(item) != fold(company):
        return f"{company}：{item}"
    return str(item or company or record.get("source"))


def split_lists(unit: Unit, lines: int) -> tuple[dict, dict]:
    """Given a unit and the lines per category, return (names printed on the form, names for the continuation)."""
    return ({k: v[:lines] for k, v in unit.lists.items()}, {k: v[lines:] for k, v in unit.lists.items() if v[lines:]})


def values_for(unit: Unit, printed: dict) -> dict:
    """Given a unit and the names printed on the form, return the form's values (`v`)."""
    values = {"recommending_unit": "" if unit.name == NO_UNIT else unit.name, "promoted_count": BLANK,
              "awarded_count": BLANK}
    values.update(printed)
    values.update({k: str(unit.contacts.get(k) or "") for k in CONTACT_FIELDS})
    return values


def overflow_warnings(unit: Unit, overflow: dict, lines: int) -> list[str]:
    """Given a unit and its overflow, return one Chinese warning per overflowing category."""
    fields = load_forms()[FORM_ID].fields
    return [f"{unit.name}：{fields[k].plain_label}共 {len(unit.lists[k])} 项，表内只有 {lines} 行，"
            f"其余 {len(names)} 项印在续页" for k, names in overflow.items()]


#: The continuation's columns (cm): the category, the line's number, the line; the last fills the width.
CONTINUATION_WIDTHS = (2.4, 1.2)


def continuation_xml(unit: Unit, overflow: dict, lines: int, title: str) -> list[str]:
    """Given a unit, the lines that did not fit and the form's title, return the 续页's body elements (XML).

    Set like the form itself: its title in the same style with （续页）, the unit and the column
    heads, all three repeated on every page the list runs to, and the unit's own stamp line under it.
    """
    fields = load_forms()[FORM_ID].fields
    widths = [*CONTINUATION_WIDTHS, round(STYLE.printed_width - sum(CONTINUATION_WIDTHS), 2)]
    size = STYLE.para_size

    def row(texts: list[str], header: bool = False) -> str:
        cells = "".join(cell_xml(Slot("label", col=i), widths,
                                 [para_xml(run_xml(text), align=None if i == 2 and not header else "center")],
                                 True, "center")
                        for i, text in enumerate(texts))
        return row_xml(cells, STYLE.row_height, header=header)

    unit_name = "" if unit.name == NO_UNIT else unit.name
    # The title and the unit are header rows too: every page of a long 续页 starts with them.
    rows = [banner_row(title_para(f"{title}（续页）"), widths, header=True),
            banner_row(para_xml(run_xml(f"{fields['recommending_unit'].label}：{unit_name}", size=size), after=6),
                       widths, header=True, edges=("top", "left", "right")),  # its line is the table's top
            row(["类别", "序号", "名称"], header=True)]
    rows += [row([fields[k].plain_label, str(n), name]) for k, names in overflow.items()
             for n, name in enumerate(names, start=lines + 1)]
    return [
        f"<w:tbl>{table_props(widths, True)}{''.join(rows)}</w:tbl>",
        para_xml(run_xml("推荐单位（公章）\u3000\u3000\u3000\u3000年\u3000\u3000月\u3000\u3000日", size=size),
                 align="right", before=STYLE.sign_before, size=size, right_chars=2),
    ]


def add_continuation(path: Path, unit: Unit, overflow: dict, lines: int, title: str) -> None:
    """Given a filled 推荐汇总表 and the names that did not fit, append a continuation page listing them all.

    The form is no longer one page: its first page is numbered too (第 1 页 共 N 页), as the 续页 are.
    """
    doc = Document(str(path))
    append_body(doc, ['<w:p><w:r><w:br w:type="page"/></w:r></w:p>', *continuation_xml(unit, overflow, lines, title)])
    doc.sections[0].different_first_page_header_footer = False
    with atomic_path(path) as tmp:
        doc.save(str(tmp))


def make_summary_tables(records: list[dict], out: Path, campaign: Campaign, include_incomplete: bool = False):
    """Given records, an output folder, the campaign (and whether to list packets still to be corrected), write one
    推荐汇总表 per 推进单位: the seed's printed form where the program's packet prints one (黑龙江), else the
    program's own (`issuing.program_summary`). Returns what was written, with its warnings."""
    if FORM_ID in program_of(campaign).forms:
        return printed_summary_tables(records, out, campaign, include_incomplete)
    return make_program_summaries(records, out, campaign, include_incomplete)


def printed_summary_tables(records: list[dict], out: Path, campaign: Campaign | dict,
                           include_incomplete: bool = False, template: Path = TEMPLATE) -> Result:
    """Given records, write one 推荐汇总表 per recommending unit; return the files and warnings.

    `campaign` is a Campaign or its render context (packet workers hold the context).
    """
    context = campaign.context() if isinstance(campaign, Campaign) else campaign
    form = load_forms()[FORM_ID]
    lines = int(form.get("lines_per_category") or 4)
    units = group_by_unit(records, load_program(str(context["program"])), include_incomplete)
    result = Result()
    if not units:
        result.warnings.append("没有可列入推荐汇总表的申报" + ("" if include_incomplete else
                               "（只列材料齐全的申报；要列出全部，请加 --include-incomplete）"))
        return result
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
