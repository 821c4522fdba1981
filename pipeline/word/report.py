"""A plain report in the house style: a title, lines of text and bordered tables, written as one .docx.

The review's documents (评审结果汇总表, 资料评审反馈报告, 现场评审报告, 公示名单, 审定记录) are lists and
paragraphs, not forms with a printed layout: they are written here from blocks, through the same shell
(`word.document.new_document`) and the same XML strings (`word.xml`) as every built form.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.common.files import atomic_path
from pipeline.word.document import append_body, new_document
from pipeline.word.plan import Slot
from pipeline.word.styles import STYLE
from pipeline.word.xml import AFTER_TABLE, cell_xml, para_xml, row_xml, run_xml, table_props, title_para

#: The width a table may take (cm): the page less its margins.
WIDTH = STYLE.page_width - STYLE.margin_left - STYLE.margin_right


def heading(text: str) -> str:
    """Given a heading's text, return its paragraph (bold, kept with what follows)."""
    return para_xml(run_xml(text, STYLE.title_font, STYLE.cell_size + 1.5, bold=True), before=8, after=4,
                    keep_next=True)


def paragraph(text: str, align: str | None = None, indent: bool = True) -> str:
    """Given a line of text, return its paragraph (indented two characters unless told otherwise)."""
    return para_xml(run_xml(text, size=STYLE.cell_size + 1.5), align=align, after=3, indent_chars=2 if indent else 0,
                    size=STYLE.cell_size + 1.5)


def table(header: list[str], rows: list[list], shares: list[float] | None = None) -> list[str]:
    """Given a header, rows of cell values and each column's share of the width, return the table's elements."""
    shares = shares or [1] * len(header)
    widths = [WIDTH * s / sum(shares) for s in shares]

    def cells(values, bold: bool) -> str:
        return "".join(cell_xml(Slot(kind="text", col=i), widths,
                                [para_xml(run_xml("" if v is None else str(v), bold=bold), align="center")],
                                borders=True, valign="center") for i, v in enumerate(values))

    body = [row_xml(cells(header, True), 0.8, header=True)] + [row_xml(cells(r, False), 0.7) for r in rows]
    return [f"<w:tbl>{table_props(widths, True)}{''.join(body)}</w:tbl>", AFTER_TABLE]


def write_report(path: Path, title: str, blocks: list) -> Path:
    """Given a path, a title and blocks — ("heading", text), ("text", text), ("right", text),
    ("table", header, rows[, shares]) — write the document there (atomically; a file manyi did not write is
    never replaced) and return the path."""
    document = new_document()
    body = [title_para(title)]
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            body.append(heading(block[1]))
        elif kind == "text":
            body += [paragraph(line) for line in str(block[1]).split("\n")]
        elif kind == "right":
            body.append(paragraph(block[1], align="right", indent=False))
        elif kind == "table":
            body += table(*block[1:])
        else:
            raise ValueError(f"unknown block {kind}")
    append_body(document, body)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        document.save(str(tmp))
    return path
