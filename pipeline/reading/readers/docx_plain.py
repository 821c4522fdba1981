"""Plain Word documents → blocks, by one regex pass over document.xml (no tree).

Most returned forms are plain: paragraphs, runs, tables, merged cells, nothing else. For them
the text-bearing tags are all the reader needs, and a regex hands over just those (about a
tenth of a packet's tags) in C; building and walking an lxml tree costs twice as much. Anything that needs context — revisions, content controls, fields, symbol fonts, text
boxes, comments, a DTD, another encoding or namespace prefix — makes `plain_blocks` return
None, and the tree reader (`pipeline.reading.readers.docx`) reads the document instead. Both give the
same blocks for every plain document; tests/test_docx_plain.py checks that, construct by
construct, over the whole fixture corpus and over generated variants of real packets (white space
in end tags, references in values and namespaces, text outside paragraphs …). The pass checks the
nesting of the tags it reads, not the well-formedness of those it skips: a document broken only
there is read, not refused.
"""

from __future__ import annotations

import re

from pipeline.reading.grid import Block, Cell
from pipeline.reading.readers import normalise_ticks

W_NS = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"

#: The formatting tags most frequent in filled forms, none of them needed: ruling them out at
#: once spares the regex trying every alternative below at each of them (a quarter of its time).
#: No needed name starts with r or j; the others must end where listed ('tcPrChange' is needed).
_SKIP = rb"(?![rj]|(?:pPr|spacing|sz|szCs|tcPr|tcW|vAlign|trPr|trHeight|cantSplit|ind|b|color|lang|kern|shd|proofErr)[\s/>])"
#: One match per tag the pass needs, as a tuple (closing name, w:t text, opening name, empty
#: name, leaf name, leaf attributes, markup that needs the tree reader); every other tag is
#: skipped inside the regex. Paragraphs, rows and cells are read from their closing tags alone:
#: all text between two closings belongs to the second. The markup that needs the tree reader:
#: revisions, content controls, fields, symbols and text boxes. (Each alternative costs time at
#: every '<' of the body; comments and instructions are looked for apart, see `plain_head`.)
TOKENS = re.compile(
    rb"<(?:/w:(p|tc|tr|tbl|tabs|body)\s*+>"
    rb"|w:" + _SKIP + rb"(?:t(?:\s[^>]*+)?>([^<]*+)</w:t\s*+>"
    rb"|(tbl|tabs|p)(?=[\s>])[^>]*+(?<!/)>"
    rb"|(p|tc|tr|tbl)\b[^>]*+(?<=/)>"
    rb"|(tab|ptab|br|cr|noBreakHyphen|gridSpan|vMerge|gridBefore)\b([^>]*+)>"
    rb"|(sym|fldChar|sdt|txbxContent|del|moveFrom|object|tcPrChange|trPrChange)))"
)
_BODY = re.compile(rb"<w:body[\s>]")
_W_PREFIX = re.compile(rb"""xmlns:w\s*=\s*["']([^"']*)""")
_RUN_FONTS = re.compile(rb"<w:rFonts\b[^>]*+>")
#: The fonts of docx.SYMBOL_FONTS, or an entity that could spell one.
_SYMBOL_FONT = re.compile(rb"wingdings|symbol|&")
#: w:val, and not another prefix's val ('xw:val'): the name must start right after white space.
_VAL = re.compile(rb"""(?<=\s)w:val\s*=\s*(?:"([^"]*)"|'([^']*)')""")
#: Every namespace declaration, with its value: one spelled with a character reference cannot be compared.
_XMLNS = re.compile(rb"""xmlns(?::[^\s=]+)?\s*=\s*(?:"[^"]*&|'[^']*&)""")
_CHAR_REF = re.compile(r"#(?:x([0-9a-fA-F]+)|([0-9]+))")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_LEAF_TEXT = {b"tab": b" ", b"ptab": b" ", b"br": b"\n", b"cr": b"\n", b"noBreakHyphen": b"-"}


class NotPlain(Exception):
    """The token pass met something it does not model; the tree reader takes the document."""


def plain_blocks(xml: bytes) -> list[Block] | None:
    """Given document.xml, return its body blocks as the tree reader would, or None when it is not plain."""
    body = _BODY.search(xml)
    if body is None or not plain_head(xml, body.start()):
        return None
    try:
        return tokens_to_blocks(TOKENS.findall(xml, body.end()))
    except (NotPlain, UnicodeDecodeError):
        return None


def plain_head(xml: bytes, body: int) -> bool:
    """Given document.xml and where its body starts, return whether the rest of it is fit for the token pass.

    UTF-8, no DTD, comment, CDATA or processing instruction, `w:` bound to WordprocessingML
    up to the body's tag and not redeclared inside it, no other prefix bound to it, no namespace
    spelled with a character reference, no markup-compatibility alternatives (in any namespace), as
    many '>' as '<' in the body (a '>' inside an attribute value would end a tag early for the regex),
    no run font that is a symbol font.
    """
    head = xml[:body].lower()
    if b"<!" in head or (b"encoding=" in head[:200] and not re.search(rb"""encoding=["']utf-8["']""", head[:200])):
        return False
    for mark in (b"!", b"?"):  # a comment, CDATA or instruction in the body (memchr first: both are rare)
        if xml.find(mark, body) != -1 and xml.find(b"<" + mark, body) != -1:
            return False
    # `w` means WordprocessingML up to the body's tag, no other prefix does, and nothing inside the
    # body declares an `xmlns:w…` prefix (that could rebind `w`; such rare documents take the tree)
    inside = xml.find(b">", body)
    bound = _W_PREFIX.findall(xml, 0, inside)
    if not bound or any(uri != W_NS for uri in bound) or xml.count(W_NS) != len(bound) or xml.find(b"xmlns:w", inside) != -1:
        return False
    if b"<w:vanish" in xml or b"<w:ruby" in xml:
        return False  # hidden text and phonetic guides: the tree reader leaves them out
    if b"AlternateContent" in xml or (b"&" in xml and _XMLNS.search(xml)):
        return False  # alternatives in any namespace; a namespace spelled with a character reference
    if xml.count(b"<", body) != xml.count(b">", body):
        return False  # a '>' inside an attribute value (or unescaped in text) would end a tag early here
    return not any(_SYMBOL_FONT.search(fonts.lower()) for fonts in set(_RUN_FONTS.findall(xml, body)))


def xml_text(raw: bytes) -> str:
    """Given the raw character data of a paragraph's runs, return the text an XML parser would give."""
    text = raw.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" not in text:
        return text
    first, *rest = text.split("&")
    out = [first]
    for part in rest:
        name, semicolon, after = part.partition(";")
        if not semicolon:
            raise NotPlain("&")
        out.append(entity_char(name) + after)
    return "".join(out)


def entity_char(name: str) -> str:
    """Given an entity name ('amp', '#x2611', '#9745'), return its character; NotPlain for any other."""
    if name in _NAMED:
        return _NAMED[name]
    ref = _CHAR_REF.fullmatch(name)
    code = -1 if ref is None else int(ref[1], 16) if ref[1] else int(ref[2])
    if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF):
        raise NotPlain(name)  # a character XML does not allow: the parser is to refuse it
    return chr(code)


def attribute_value(attrs: bytes) -> bytes | None:
    """Given a leaf tag's attributes, return its w:val as the parser reads it (references resolved), or None."""
    match = _VAL.search(attrs)
    if match is None:
        return None
    value = match[1] if match[1] is not None else match[2]
    if b"&" in value or b"\t" in value or b"\n" in value or b"\r" in value:
        value = _attribute_text(value)
    return value


def _attribute_text(raw: bytes) -> bytes:
    """Given an attribute value as written, return it as XML reads it: references resolved, white space as spaces."""
    text = xml_text(raw.replace(b"\r\n", b" ").replace(b"\r", b" ").replace(b"\n", b" ").replace(b"\t", b" "))
    return text.encode("utf-8")


def attribute_int(attrs: bytes, default: int) -> int:
    """Given a leaf tag's attributes, return its w:val as an integer (default when absent or not a number)."""
    value = attribute_value(attrs)
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class _Table:
    """A table being read: its rows so far, and the row and cell being read."""

    __slots__ = ("rows", "row", "col", "above", "nested", "lines", "cell_nested", "cell_inner", "span", "merge",
                 "before")

    def __init__(self):
        self.rows: list[list[Cell]] = []
        self.row: list[Cell] = []
        self.col = 0
        self.above: dict[int, Cell] = {}  # start column → last emitted cell there, for vMerge
        self.nested: list[Block] = []  # blocks of tables nested in emitted cells
        self.lines: list[str] = []  # paragraphs of the open cell
        self.cell_nested: list[Block] = []  # tables nested in the open cell
        self.cell_inner: list[str] = []  # the lines of the tables nested right in the open cell
        self.span: int | None = None  # the open cell's first w:gridSpan (the tree reader reads the first)
        self.before = False  # whether the open row's w:gridBefore was read
        self.merge: bytes | None = None  # the open cell's w:vMerge attributes

    def close_cell(self) -> None:
        """Emit the open cell, or extend the cell above it when it continues a vertical merge; open the next."""
        col, span = self.col, self.span if self.span and self.span > 1 else 1
        if self.merge is None or not self._extends_above(col):
            own = "\n".join(self.lines).strip("\n")
            if not own.strip() and self.cell_inner:  # an empty cell shows what its nested tables hold
                own = "\n".join(self.cell_inner).strip("\n")
            cell = Cell(normalise_ticks(own), len(self.rows), col, 1, span)
            self.row.append(cell)
            self.above[col] = cell
            if self.cell_nested:
                self.nested.extend(self.cell_nested)
        self.col = col + span
        self.lines, self.span, self.merge = [], None, None
        if self.cell_nested:
            self.cell_nested, self.cell_inner = [], []

    def _extends_above(self, col: int) -> bool:
        """Given the open cell's column, add it to the cell above when it continues that one's merge."""
        upper = self.above.get(col)
        if _merge_value(self.merge) != b"continue" or upper is None or upper.row + upper.rowspan != len(self.rows):
            return False
        upper.rowspan += 1
        return True

    def close_row(self) -> None:
        self.rows.append(self.row)
        self.row, self.col, self.before = [], 0, False


def _merge_value(attrs: bytes) -> bytes:
    value = attribute_value(attrs)
    return b"continue" if value is None else value


def tokens_to_blocks(tokens: list[tuple]) -> list[Block]:
    """Given the TOKENS matches of a document's body, return its blocks in reading order.

    Paragraphs outside tables become paragraph blocks when they hold text; inside a cell they
    become its lines. A table's block is followed by the blocks of the tables nested in its
    cells. Raises NotPlain for markup the pass does not model and tags that do not nest.
    """
    blocks: list[Block] = []
    tables: list[_Table] = []  # open tables, innermost last
    table: _Table | None = None  # the innermost
    out: list[bytes] = []  # raw pieces of the paragraph being read
    in_tabs = False
    for closing, text, opening, empty, leaf, attrs, needs_tree in tokens:
        if text:
            out.append(text)
        elif closing == b"p":
            line = xml_text(b"".join(out)) if out else ""
            out = []
            if table is not None:
                table.lines.append(line)
            elif line.strip():
                blocks.append(Block("paragraph", text=normalise_ticks(line)))
        elif closing:
            if out and closing != b"tabs":
                raise NotPlain("text outside a paragraph")  # the tree reader reads none of it
            if closing == b"tc":
                if table is None:
                    raise NotPlain("</w:tc>")
                table.close_cell()
            elif closing == b"tr":
                if table is None:
                    raise NotPlain("</w:tr>")
                table.close_row()
            elif closing == b"tbl":
                table = _close_table(tables, blocks)
            elif closing == b"tabs":
                in_tabs = False
            else:  # </w:body>
                break
        elif leaf:
            if leaf == b"gridSpan" or leaf == b"vMerge" or leaf == b"gridBefore":
                if table is None:
                    raise NotPlain(leaf.decode())
                # A repeated property counts once, the first, as in the tree reader.
                if leaf == b"gridSpan":
                    if table.span is None:
                        table.span = attribute_int(attrs, 1)
                elif leaf == b"vMerge":
                    if table.merge is None:
                        table.merge = attrs
                elif table.row or table.lines or table.span is not None or table.merge is not None:
                    raise NotPlain("gridBefore after the row's first cell")
                elif not table.before:
                    table.col, table.before = attribute_int(attrs, 0), True
            elif not (in_tabs and leaf == b"tab"):  # w:tabs/w:tab are tab stops, not characters
                out.append(_LEAF_TEXT[leaf])
        elif opening == b"p":
            if out:
                raise NotPlain("text outside a paragraph")
        elif opening:
            if out and opening != b"tabs":
                raise NotPlain("text outside a paragraph")
            if opening == b"tbl":
                table = _Table()
                tables.append(table)
            else:
                in_tabs = True
        elif empty:
            if out:
                raise NotPlain("text outside a paragraph")
            if empty == b"p":
                if table is not None:
                    table.lines.append("")
            elif table is None and empty != b"tbl":
                raise NotPlain(empty.decode())
            elif empty == b"tc":
                table.close_cell()
            elif empty == b"tr":
                table.close_row()
            else:
                tables.append(_Table())
                table = _close_table(tables, blocks)
        elif needs_tree:
            raise NotPlain(needs_tree.decode())
    if tables or out:
        raise NotPlain("unclosed")
    return blocks


def _close_table(tables: list[_Table], blocks: list[Block]) -> _Table | None:
    """Given the open tables, close the innermost; return the one that is now innermost."""
    if not tables:
        raise NotPlain("</w:tbl>")
    done = tables.pop()
    made = [Block("table", rows=done.rows), *done.nested]
    if tables:
        tables[-1].cell_nested.extend(made)
        tables[-1].cell_inner.extend(cell.text for cell in made[0].cells() if cell.text.strip())
        return tables[-1]
    blocks.extend(made)
    return None
