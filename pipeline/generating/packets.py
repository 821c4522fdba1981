"""A program's packet, written the one way for every program: each entry of its `packet:` in order.

A `printed` entry (the seed notice's forms, 黑龙江) writes one document per category holding its printed
forms, plus the standalone 推荐汇总表 and 合同书, blank or one per roster row (`generating.packet`); every
other entry writes one document per form and category (申报表, 自评表, 推荐意见 …), from the program's forms.
PDFs are made in one LibreOffice batch at the end.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipeline.common.errors import UserError
from pipeline.common.files import output_folder, safe_filename
from pipeline.definitions.campaign import Campaign
from pipeline.definitions.program_forms import entry_applies, entry_forms, entry_kinds, house, kind_of, packet_entries
from pipeline.definitions.programs import Program, program_of
from pipeline.word.build import build_template
from pipeline.generating.packet import PacketResult, add_pdfs, write_packets
from pipeline.word.render import render_docx


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


def form_documents(program: Program, cats: list[str], out: Path, campaign: Campaign, result: PacketResult) -> None:
    """Write one blank document per form of every entry but the printed ones, for each category; add them to result.

    A document every category shares (自我评价报告) is written once.
    """
    names = house()["file_names"]
    context = campaign.context()
    with tempfile.TemporaryDirectory(prefix="manyi-program-") as tmp:
        for cid in cats:
            for item in packet_entries(program):
                if kind_of(item) == "printed" or not entry_applies(item, cid):
                    continue
                for form in entry_forms(program, item, cid):
                    target = out / f"{safe_filename(names[form.id].replace('{category}', program.category(cid).name))}.docx"
                    if target in result.files:
                        continue
                    template = build_template(form, Path(tmp) / f"{form.key}.docx")
                    blank = [{}] * int(form.get("blank_rows") or 0)
                    result.files.append(render_docx(template, {"c": context, "v": {}, "rows": blank}, target))
                    result.counts[cid] = result.counts.get(cid, 0) + 1


def write_program_packet(out: Path, category: str | None, campaign: Campaign, roster: Path | None = None,
                         pdf: bool = False, jobs: int = 1, progress=None) -> PacketResult:
    """Given an output folder, a category (or 'all'), the campaign and the packet options, write its program's
    packet (every entry of `packet:`, in order) and return what was written."""
    program = program_of(campaign)
    cats = chosen(program, category)  # an unknown category: the Chinese error naming the valid ones
    printed = "printed" in entry_kinds(program)
    if roster and not printed:
        raise UserError(f"按名单预填（--roster）只适用于印有申报表的项目；{program.name}的申报表由项目文件生成，"
                        f"请去掉 --roster")
    out = Path(out)
    output_folder(out)
    if printed:
        result = write_packets(out, cats[0] if len(cats) == 1 else "all", campaign, roster, jobs=jobs,
                               progress=progress)
    else:
        result = PacketResult(out=out, counts={cid: 0 for cid in cats})
    result.names = program.category_names()
    if not roster:
        form_documents(program, cats, out, campaign, result)
    if pdf:
        add_pdfs(result)
    return result
