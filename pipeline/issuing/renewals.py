"""复评通知: a letter to each holder whose title's term ends soon, in the house letter style of the 补正通知.

The titles due come from the register (`register.expiring`); what the letter cites (the article and the
program's note on 复评) comes from the holder's program file; who signs and how to reach them from the campaign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.files import atomic_path, safe_filename, unique_names
from pipeline.definitions.campaign import Campaign, zh_date
from pipeline.issuing.register import Entry, _program
from pipeline.word.house_templates import CENTER, RIGHT, add_text, house_document
from pipeline.word.styles import XIAO_ER, XIAO_SI


@dataclass
class Letters:
    """A letters run: the files written, one per holder due."""

    files: list[Path] = field(default_factory=list)


def rule_of(entry: Entry) -> str:
    """Given a certificate, return the rule its 复评 follows (Chinese): the program's article and note, or ''."""
    program = _program(entry.program)
    category = program.categories.get(entry.category) if program else None
    raw = dict(category.validity or {}) if category else {}
    article = f"{program.name}{raw['article']}" if program and raw.get("article") else ""
    return "，".join(filter(None, (f"根据{article}的规定" if article else "", raw.get("note") or "")))


def letter_lines(entry: Entry, campaign: Campaign, today: date) -> list[str]:
    """Given a certificate due, the campaign that signs and the letter's date, return the letter's body
    paragraphs (Chinese)."""
    item = f"（{entry.project}）" if entry.project else ""
    rule = rule_of(entry)
    return [f"贵单位获得的“{entry.title}”称号{item}（证书编号 {entry.number}）有效期至{zh_date(entry.valid_to)}。"
            + (f"{rule}，" if rule else "") + "称号有效期届满须经复评，复评合格的延续称号，逾期未参加复评的称号自然失效。",
            f"请于{zh_date(entry.valid_to)}前向{campaign.association['name']}提交复评申请及近期用户满意度测评材料。"]


def write_letter(entry: Entry, campaign: Campaign, today: date, target: Path) -> Path:
    """Given a certificate due, the campaign, the letter's date and a target, write its 复评通知 .docx there."""
    doc = house_document()
    add_text(doc, "复评通知", size=XIAO_ER, bold=True, align=CENTER, after=6)
    add_text(doc, f"{entry.company}：", size=XIAO_SI, before=12, after=6)
    for line in letter_lines(entry, campaign, today):
        add_text(doc, line, size=XIAO_SI, indent_chars=2, spacing=1.5, after=6)
    association = campaign.association
    for line in (f"联系单位：{association['name']}", f"地　　址：{association['address']}",
                 f"邮　　编：{association['postcode']}", f"电　　话：{association['phone']}"):
        add_text(doc, line, size=XIAO_SI, indent_chars=2, after=2, keep_next=True)
    add_text(doc, association["name"], size=XIAO_SI, align=RIGHT, right_chars=2, before=36, after=2, keep_next=True)
    add_text(doc, zh_date(today), size=XIAO_SI, align=RIGHT, right_chars=2)
    with atomic_path(target) as part:
        doc.save(str(part))
    return target


def renewal_letters(due: list[Entry], out: Path, campaign: Campaign, today: date) -> Letters:
    """Given the certificates due for 复评, an output folder, the campaign that signs and the letters' date,
    write one 复评通知 per holder; return the files."""
    if not due:
        raise UserError("没有需要复评的称号（有效期均不在所查期限内）")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stems = unique_names([safe_filename(f"复评通知_{e.company}_{e.number}") for e in due])
    return Letters([write_letter(e, campaign, today, out / f"{stem}.docx") for e, stem in zip(due, stems)])


#: The roster a 复评 campaign starts from: the columns `manyi packet --roster` reads (企业名称, 类别) first.
ROSTER_HEADER = ["企业名称", "类别"]
DUE_HEADER = ["企业名称", "类别", "项目名称", "证书编号", "称号", "有效期至", "评选项目"]


def renewal_roster(due: list[Entry], path: Path) -> Path:
    """Given the certificates due for 复评 and a workbook path, write the roster of their holders (first sheet:
    企业名称 and 类别, what `manyi packet --roster` reads) and a 复评名单 sheet with each title;
    return the path."""
    from pipeline.common.xlsx import add_sheet, new_workbook, save
    from pipeline.issuing.register import category_name, program_name

    if not due:
        raise UserError("没有需要复评的称号（有效期均不在所查期限内）")
    book = new_workbook()
    rows = list(dict.fromkeys((e.company, category_name(e.category, e.program)) for e in due))
    add_sheet(book, "复评申报名单", ROSTER_HEADER, [list(r) for r in rows])
    add_sheet(book, "复评名单", DUE_HEADER, [[e.company, category_name(e.category, e.program), e.project or "", e.number,
                                          e.title, e.valid_to.isoformat(), program_name(e.program)] for e in due])
    save(book, Path(path))
    return Path(path)
