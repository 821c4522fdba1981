"""What every reader produces: a document as blocks of paragraphs and cell grids.

Readers (docx, pdf, xlsx, converted doc/xls) turn files into `Document`s; extraction reads
only these, never a file format. Inside cell and paragraph text, every kind of tick a
reader understood (glyphs, symbol fonts, content controls, legacy form fields) is written
as `text.TICK` ('☑') and every empty box as `text.BOX` ('☐').
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Cell:
    """One cell of a table. A merged cell appears once, at its top-left position."""

    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    #: Read from an image (readers/ocr.py): the page (from 1), the box in pixels, the recogniser's confidence.
    page: int | None = None
    box: tuple | None = None
    confidence: float | None = None


@dataclass(slots=True)
class Block:
    """A paragraph (kind 'paragraph', `text`) or a table (kind 'table', `rows` of `Cell`s)."""

    kind: str
    text: str = ""
    rows: list[list[Cell]] = field(default_factory=list)
    #: A paragraph read from an image: as on `Cell`.
    page: int | None = None
    box: tuple | None = None
    confidence: float | None = None

    def cells(self):
        """Yield the table's cells in reading order."""
        for row in self.rows:
            yield from row


@dataclass(slots=True)
class Document:
    """One readable file of a submission, as blocks in reading order."""

    source: str
    blocks: list[Block] = field(default_factory=list)
    #: 'docx', 'pdf', 'xlsx', 'image' …: the format the bytes really were.
    kind: str = ""
    #: Pages read by OCR: {'pages': [1, …], 'seals': {page: bool}}; None when no page was an image.
    scan: dict | None = None

    @property
    def text(self) -> str:
        """All paragraph and cell text, in reading order, one line per paragraph or cell."""
        lines = []
        for block in self.blocks:
            if block.kind == "paragraph":
                lines.append(block.text)
            else:
                lines.extend(cell.text for cell in block.cells())
        return "\n".join(lines)
