"""Word .docx → Document, by one lxml pass over the main document part (no python-docx).

Plain documents take a faster token pass (`docx_plain`); this tree reader takes the rest.

Body only, in order: paragraphs (text boxes after the paragraph that anchors them), tables
with merged cells resolved (gridSpan → colspan, vMerge → rowspan, gridBefore shifts columns)
and nested tables as their own blocks right after their parent. Every kind of tick Word can
hold — glyphs, symbol-font characters, check-box content controls, legacy form check boxes —
is written as text.TICK / text.BOX.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

from pipeline.common.safety import (
    LIMITS,
    Budget,
    LimitExceeded,
    check_declared,
    parse_xml,
    read_member,
)
from pipeline.common.sniff import BROKEN
from pipeline.common.text import BOX, TICK, TICKED
from pipeline.reading.grid import Block, Cell, Document
from pipeline.reading.readers import DAMAGED, Unreadable, normalise_ticks
from pipeline.reading.readers.docx_plain import plain_blocks

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT_NS = "http://purl.oclc.org/ooxml/wordprocessingml/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOC = ("/officeDocument",)

# Symbol fonts: code (0x00-0xFF; Word stores F0xx in the private-use area) → tick or box.
# Wingdings: FE ☑, FD ☒, FC ✓, 78 ⌧, 6E ■, 6C ● | A8 ◻, 6F □, 70 bold □, 71 ❑, 72 ❒.
# Wingdings 2: 52 ☑, 53/54 ☒, 50 ✓, A0/A2 ■ | A3 □.   Symbol: D6 √.
SYMBOL_FONTS = {
    "wingdings": {0xFE: TICK, 0xFD: TICK, 0xFC: TICK, 0x78: TICK, 0x6E: TICK, 0x6C: TICK,
                  0xA8: BOX, 0x6F: BOX, 0x70: BOX, 0x71: BOX, 0x72: BOX},
    "wingdings 2": {0x52: TICK, 0x53: TICK, 0x54: TICK, 0x50: TICK, 0xA0: TICK, 0xA2: TICK, 0xA3: BOX},
    "symbol": {0xD6: TICK},
}


def symbol_char(font: str | None, code: int) -> str:
    """Given a symbol font name and a character code, return '☑', '☐', the plain character, or ''."""
    table = SYMBOL_FONTS.get((font or "").strip().lower())
    low = code - 0xF000 if 0xF000 <= code <= 0xF0FF else code
    if table is not None:
        return table.get(low, "")  # other pictograms of a symbol font carry no text
    if 0xE000 <= code <= 0xF8FF:
        return ""  # private-use glyph of an unknown font: nothing readable
    return chr(code)


class _Tags:
    """Clark-notation tag names for one WordprocessingML namespace (transitional or strict)."""

    def __init__(self, ns: str):
        w = "{%s}" % ns
        for name in ("body", "p", "r", "t", "tab", "ptab", "br", "cr", "sym", "tbl", "tr", "tc", "tcPr",
                     "trPr", "gridSpan", "vMerge", "gridBefore", "sdt", "sdtPr", "sdtContent",
                     "showingPlcHdr", "fldChar", "ffData", "checkBox", "checked", "default", "rPr",
                     "rFonts", "pPr", "del", "moveFrom", "delText", "instrText", "txbxContent",
                     "customXml", "noBreakHyphen", "softHyphen", "ins", "moveTo", "hyperlink",
                     "smartTag", "fldSimple", "footnoteReference", "endnoteReference",
                     "commentReference", "sectPr", "tblPr", "tblGrid", "tcW", "tabs", "vanish", "rt", "numPr",
                     "ilvl", "numId"):
            setattr(self, name, w + name)
        self.val = w + "val"
        self.font = w + "font"
        self.char = w + "char"
        self.ascii = w + "ascii"
        self.hAnsi = w + "hAnsi"
        self.fldCharType = w + "fldCharType"
        self.instr = w + "instr"
        #: The document's list numbering (`Numbering`), set per document: a numbered paragraph shows its label.
        self.numbering = None
        self.w14_checkbox = "{%s}checkbox" % W14_NS
        self.w14_checked = "{%s}checked" % W14_NS
        self.w14_val = "{%s}val" % W14_NS
        self.mc_fallback = "{%s}Fallback" % MC_NS
        # Elements the fast paragraph pass looks at; any but the first six sends it to the careful walk.
        self.fast = {self.t: "t", self.tab: "tab", self.ptab: "tab", self.br: "br", self.cr: "br",
                     self.noBreakHyphen: "-", self.rFonts: "font"}
        self.fast.update(dict.fromkeys((self.vanish, self.rt, self.sym, self.fldChar, self.sdt, self.txbxContent, self.del_,
                                        self.moveFrom, self.mc_fallback, w + "object", self.softHyphen,
                                        self.fldSimple),
                                       "careful"))
        # Subtrees that hold no displayed body text (or text shown elsewhere).
        self.skip = frozenset({self.pPr, self.rPr, self.del_, self.moveFrom, self.delText, self.instrText,
                               self.sdtPr, w + "sdtEndPr", self.mc_fallback, self.tblPr, self.tblGrid,
                               self.trPr, self.tcPr, self.sectPr, self.footnoteReference,
                               self.endnoteReference, self.commentReference,
                               self.rt})  # a phonetic guide (w:ruby/w:rt): the base text alone is the value

    @property
    def del_(self):
        return self.__dict__["del"]


# The most frequent empty formatting elements (sizes, spacing, widths, alignment): half of a
# filled form's elements, holding no text and no attribute the reader uses. They are cut from
# the bytes before parsing, as whole `<w:x …/>` tags only (`<` cannot occur inside a tag, text or
# attribute, so nothing else can match); a document that then fails to parse is parsed as it came.
_NAMES = rb"s(?:zCs|z|pacing)|jc|tcW|vAlign|cantSplit|trHeight|ind"  # sz, szCs, spacing share a prefix: 25% faster
_FORMATTING = re.compile(rb"<w:(?:" + _NAMES + rb")\b[^<>]*/>")
_FORMATTING_AND_FONTS = re.compile(rb"<w:(?:" + _NAMES + rb"|rFonts)\b[^<>]*/>")


#: A run font written with a reference (W&#105;ngdings) could be a symbol font: the fonts are kept then.
_SPELLED_FONT = re.compile(rb"<w:rFonts\b[^>]*&")


def lean_xml(xml: bytes) -> bytes:
    """Given document.xml, return it without its frequent empty formatting elements (fonts too when no symbol font is named)."""
    lower = xml.lower()  # a plain `in` is memchr-fast; a case-insensitive regex search is not
    symbols = any(name.encode() in lower for name in SYMBOL_FONTS) or (b"&" in xml and _SPELLED_FONT.search(xml))
    return (_FORMATTING if symbols else _FORMATTING_AND_FONTS).sub(b"", xml)


def read_docx(path: Path, source: str, limits: dict = LIMITS) -> Document:
    """Given a .docx file, return its body as a Document of paragraph and table blocks."""
    return docx_document(main_part(Path(path), limits), source, limits, path=Path(path))


def docx_document(xml: bytes, source: str, limits: dict = LIMITS, path: Path | None = None) -> Document:
    """Given a .docx's main part and the file's name (and the file, for its list numbering), return its Document.

    Ordinary filled forms take the token pass; huge ones keep the tree reader, which the caller
    runs in a memory-bounded child. A document with automatic numbering (w:numPr) takes the tree
    reader with the file's numbering definitions, so a numbered row shows its 序号 as Word does.
    """
    numbering = numbering_of(path, limits) if path is not None and b"<w:numPr" in xml else None
    blocks = plain_blocks(xml) if len(xml) <= limits["docx_inline_xml"] and numbering is None else None
    return Document(source=source, blocks=tree_blocks(xml, numbering) if blocks is None else blocks, kind="docx")


def tree_blocks(xml: bytes, numbering: "Numbering | None" = None) -> list[Block]:
    """Given document.xml (and its list numbering), return its body blocks by parsing it into a tree; Unreadable
    when it is not XML."""
    try:
        try:
            root = parse_xml(lean_xml(xml))
        except ValueError:
            root = parse_xml(xml)
    except ValueError as exc:
        if any(sign in str(exc).lower() for sign in ("memory", "unknown error")):
            # libxml2 out of the memory budget says so, or cannot even name its error: too much, not damaged
            raise MemoryError(str(exc)) from exc
        said = str(exc) if "实体" in str(exc) else DAMAGED  # an entity declaration is an attack, said so
        raise Unreadable(f"Word 文件内容无法解析：{said}") from exc
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else W_NS
    tags = _Tags(ns if ns in (W_NS, W_STRICT_NS) else W_NS)
    tags.numbering = numbering
    body = _child(root, tags.body)
    return body_blocks(body, tags) if body is not None else []


def main_part(path: Path, limits: dict = LIMITS, at_most: int | None = None) -> bytes | None:
    """Given a .docx, return the bytes of its main document part, read under the safety limits.

    With `at_most`, a part that declares more once inflated is not read (None); one that lies
    about its size is refused at `at_most` bytes.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            bomb = check_declared(infos, limits)
            if bomb:
                raise Unreadable(bomb)
            name = main_part_name(zf)
            try:
                info = zf.getinfo(name)
            except KeyError:
                raise Unreadable("不是有效的 Word 文件（缺少正文）") from None
            if at_most is not None and info.file_size > at_most:
                return None
            cap = limits["ooxml_part_size"] if at_most is None else min(at_most, limits["ooxml_part_size"])
            return read_member(zf, info, Budget(limits=limits), max_size=cap)
    except LimitExceeded as exc:
        raise Unreadable(str(exc)) from exc
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise Unreadable(BROKEN) from exc


def numbering_of(path: Path, limits: dict = LIMITS) -> "Numbering | None":
    """Given a .docx, return its list numbering definitions (word/numbering.xml), or None when it has none or
    they cannot be read (the values are then read without their automatic numbers)."""
    try:
        with zipfile.ZipFile(path) as zf:
            name = posixpath.join(posixpath.dirname(main_part_name(zf)), "numbering.xml")
            try:
                info = zf.getinfo(name)
            except KeyError:
                return None
            root = parse_xml(read_member(zf, info, Budget(limits=limits), max_size=limits["ooxml_part_size"]))
    except (LimitExceeded, zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None
    return Numbering(root)


#: Word's number formats (w:numFmt) that write digits or letters; a bullet or 'none' shows no number.
_CHINESE_DIGITS = "〇一二三四五六七八九"


def _chinese(n: int, ten: str = "十") -> str:
    """Given 1..99, return it in Chinese counting ('十二', '二十'); larger numbers digit by digit."""
    if n < 10:
        return _CHINESE_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return (_CHINESE_DIGITS[tens] if tens > 1 else "") + ten + (_CHINESE_DIGITS[ones] if ones else "")
    return "".join(_CHINESE_DIGITS[int(d)] for d in str(n))


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _letters(n: int) -> str:
    """Given n ≥ 1, return Word's letter numbering (A … Z, AA … ZZ, AAA …)."""
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    """Given a counter and a w:numFmt value, return the number as Word shows it ('' for a bullet or none)."""
    if fmt in ("bullet", "none"):
        return ""
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("upperRoman", "lowerRoman"):
        return _roman(n) if fmt == "upperRoman" else _roman(n).lower()
    if fmt in ("upperLetter", "lowerLetter"):
        return _letters(n) if fmt == "upperLetter" else _letters(n).lower()
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified", "ideographTraditional",
               "taiwaneseCounting", "taiwaneseCountingThousand", "japaneseCounting"):
        return _chinese(n, "拾" if fmt == "chineseLegalSimplified" else "十")
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n)
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return str(n).translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
    return str(n)  # decimal, and any other format: its digits


class Numbering:
    """A document's list numbering (word/numbering.xml): each list level's start, format and label, and the
    counters as the document's numbered paragraphs are met in order."""

    def __init__(self, root):
        ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else W_NS
        w = "{%s}" % ns
        val = w + "val"
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for node in root.iter(w + "abstractNum"):
            abstract[node.get(w + "abstractNumId", "")] = {
                _int(lvl.get(w + "ilvl"), 0): _level(lvl, w) for lvl in node.iter(w + "lvl")}
        #: numId → (the counters' key, level → (start, format, label text))
        self.nums: dict[str, tuple[str, dict[int, tuple[int, str, str]]]] = {}
        for num in root.iter(w + "num"):
            ref = num.find(w + "abstractNumId")
            aid = ref.get(val, "") if ref is not None else ""
            levels = dict(abstract.get(aid, {}))
            key = "a" + aid
            for override in num.iter(w + "lvlOverride"):
                ilvl = _int(override.get(w + "ilvl"), 0)
                lvl = override.find(w + "lvl")
                if lvl is not None:
                    levels[ilvl] = _level(lvl, w)
                start = override.find(w + "startOverride")
                if start is not None and ilvl in levels:
                    levels[ilvl] = (_int(start.get(val), 1), *levels[ilvl][1:])
                    key = "n" + num.get(w + "numId", "")  # a restarted list counts on its own
            self.nums[num.get(w + "numId", "")] = (key, levels)
        self.counters: dict[str, dict[int, int]] = {}

    def label(self, num_id: str, ilvl: int) -> str:
        """Given a paragraph's numId and level, count it and return its label as Word shows it, with the space
        after it ('1. ', '（二）'); '' for a bullet."""
        if num_id not in self.nums or num_id == "0":
            return ""
        key, levels = self.nums[num_id]
        if ilvl not in levels:
            return ""
        counts = self.counters.setdefault(key, {})
        counts[ilvl] = counts.get(ilvl, levels[ilvl][0] - 1) + 1
        for deeper in [k for k in counts if k > ilvl]:
            del counts[deeper]  # a deeper level starts again under a new item
        start, fmt, text, suffix = levels[ilvl]
        if fmt in ("bullet", "none"):
            return ""  # a bullet is decoration, not a value

        def number(match):
            k = int(match.group(1)) - 1
            if k not in levels:
                return ""
            return format_number(counts.get(k, levels[k][0]), levels[k][1] if k != ilvl else fmt)
        shown = re.sub(r"%([1-9])", number, text)
        return shown + ("" if suffix == "nothing" or not shown else " ")  # a tab reads as one space


def _int(raw, default: int) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def _level(lvl, w: str) -> tuple[int, str, str, str]:
    """Given a w:lvl, return (start, number format, label text, what follows the label: tab, space or nothing)."""
    def val(name, default):
        node = lvl.find(w + name)
        return node.get(w + "val", default) if node is not None else default
    return _int(val("start", "1"), 1), val("numFmt", "decimal"), val("lvlText", "%1."), val("suff", "tab")


def main_part_name(zf: zipfile.ZipFile) -> str:
    """Given an open .docx, return the zip name of the main document part (per _rels/.rels)."""
    try:
        rels = parse_xml(zf.read("_rels/.rels")) if zf.getinfo("_rels/.rels").file_size < (1 << 20) else None
    except (KeyError, ValueError):
        rels = None
    if rels is not None:
        for rel in rels:
            if rel.get("Type", "").endswith(OFFICE_DOC):
                target = rel.get("Target", "").lstrip("/")
                return posixpath.normpath(target)
    return "word/document.xml"


# --- blocks --------------------------------------------------------------------------------------


def body_blocks(container, tags: _Tags) -> list[Block]:
    """Given w:body (or a text box, a block content control), return its blocks in reading order."""
    blocks: list[Block] = []
    for child in container:
        tag = child.tag
        if tag == tags.p:
            boxes: list = []
            text = paragraph_text(child, tags, boxes)
            if text.strip():
                blocks.append(Block("paragraph", text=text))
            for box in boxes:
                blocks.extend(body_blocks(box, tags))
        elif tag == tags.tbl:
            blocks.extend(table_blocks(child, tags))
        elif tag == tags.sdt:
            content = _child(child, tags.sdtContent)
            if content is not None and not _placeholder(child, tags):
                blocks.extend(body_blocks(content, tags))
        elif tag in (tags.customXml, tags.ins, tags.moveTo) or tag == "{%s}AlternateContent" % MC_NS:
            blocks.extend(body_blocks(child, tags))
        elif tag == "{%s}Choice" % MC_NS:
            blocks.extend(body_blocks(child, tags))
    return blocks


def table_blocks(tbl, tags: _Tags) -> list[Block]:
    """Given a w:tbl, return its table Block followed by the blocks of tables nested in its cells.

    A vMerge continuation cell extends the rowspan of the cell above it and is not emitted.
    """
    rows: list[list[Cell]] = []
    nested: list[Block] = []
    above: dict[int, Cell] = {}  # start column → last emitted cell there, for vMerge
    rows_in = [tr for tr in _children(tbl, tags.tr, tags) if not _deleted_row(tr, tags)]
    for r, tr in enumerate(rows_in):
        row_props = _child(tr, tags.trPr)  # single-tag finds: path finds cost ~10x more in lxml
        col = _int_val(_child(row_props, tags.gridBefore) if row_props is not None else None, tags, 0)
        row: list[Cell] = []
        for tc in _children(tr, tags.tc, tags):
            props = _child(tc, tags.tcPr)
            span = max(1, _int_val(_child(props, tags.gridSpan) if props is not None else None, tags, 1))
            merge = _child(props, tags.vMerge) if props is not None else None
            cont = merge is not None and merge.get(tags.val, "continue") == "continue"
            upper = above.get(col)
            if cont and upper is not None and upper.row + upper.rowspan == r:
                upper.rowspan += 1
            else:
                cell = Cell(cell_text(tc, tags, nested), r, col, 1, span)
                row.append(cell)
                above[col] = cell
            col += span
        rows.append(row)
    return [Block("table", rows=rows), *nested]


def _deleted_row(tr, tags: _Tags) -> bool:
    """Given a w:tr, return whether it is a tracked deletion (w:trPr/w:del): the row is gone."""
    props = _child(tr, tags.trPr)
    return props is not None and _child(props, tags.del_) is not None


def cell_text(tc, tags: _Tags, nested: list[Block]) -> str:
    """Given a w:tc, return its paragraphs joined by '\\n'; nested tables and text boxes go to `nested`.

    A cell whose own paragraphs hold nothing shows what its text boxes and nested tables hold (a value
    typed into a text box or a small table inside the value cell): that is its text then.
    """
    lines: list[str] = []
    inner: list[str] = []
    _cell_lines(tc, tags, lines, nested, inner)
    own = "\n".join(lines).strip("\n")
    if not own.strip() and inner:
        own = "\n".join(inner).strip("\n")
    return normalise_ticks(own)  # once per cell, not per paragraph


def _cell_lines(container, tags: _Tags, lines: list[str], nested: list[Block], inner: list[str]) -> None:
    for child in container:
        tag = child.tag
        if tag == tags.p:
            boxes: list = []
            lines.append(paragraph_text(child, tags, boxes, ticks=False))
            for box in boxes:
                made = body_blocks(box, tags)
                nested.extend(made)
                inner.extend(_blocks_text(made))
        elif tag == tags.tbl:
            made = table_blocks(child, tags)
            nested.extend(made)
            inner.extend(_blocks_text(made[:1]))  # the tables nested in it are in its cells' text already
        elif tag == tags.sdt:
            content = _child(child, tags.sdtContent)
            if content is not None and not _placeholder(child, tags):
                _cell_lines(content, tags, lines, nested, inner)
        elif tag in (tags.customXml, tags.ins, tags.moveTo):
            _cell_lines(child, tags, lines, nested, inner)


def _blocks_text(blocks: list[Block]) -> list[str]:
    """Given blocks inside a cell, return their lines: a paragraph's text, a table's cells row by row."""
    out: list[str] = []
    for block in blocks:
        if block.kind == "paragraph":
            out.append(block.text)
        else:
            out.extend(cell.text for cell in block.cells() if cell.text.strip())
    return out


def _children(parent, wanted: str, tags: _Tags):
    """Yield the `wanted` children of parent, looking through content controls and custom XML."""
    for child in parent:
        if child.tag == wanted:
            yield child
        elif child.tag == tags.sdt:
            content = _child(child, tags.sdtContent)
            if content is not None:
                yield from _children(content, wanted, tags)
        elif child.tag in (tags.customXml, tags.ins):
            yield from _children(child, wanted, tags)


def _child(el, tag: str):
    """Given an element, return its first child with `tag`, or None.

    lxml's find() routes every call through ElementPath (~4 µs); a loop over the few
    children of a property element is several times cheaper, and this runs per cell.
    """
    for child in el:
        if child.tag == tag:
            return child
    return None


def _int_val(el, tags: _Tags, default: int) -> int:
    if el is None:
        return default
    try:
        return int(el.get(tags.val, default))
    except ValueError:
        return default


def _placeholder(sdt, tags: _Tags) -> bool:
    """Given a w:sdt, return whether it still shows its placeholder ('单击此处输入文字'), i.e. is empty."""
    props = _child(sdt, tags.sdtPr)
    return props is not None and _child(props, tags.showingPlcHdr) is not None


# --- paragraph text ------------------------------------------------------------------------------


def paragraph_text(p, tags: _Tags, boxes: list, ticks: bool = True) -> str:
    """Given a w:p, return its displayed text with ticks normalised; text boxes are added to `boxes`.

    With `ticks=False` the glyphs are left as typed (a cell normalises its joined lines once). A paragraph
    numbered automatically (w:numPr) starts with its number as Word shows it.

    Most paragraphs are plain runs: lxml's C-level tag filter hands over just their text-bearing
    elements. A paragraph holding anything that needs context (revisions, content controls,
    text boxes, symbol fonts) is walked element by element instead.
    """
    if tags.numbering is not None:
        label = _list_label(p, tags)
        if label:
            text = paragraph_text_unnumbered(p, tags, boxes, ticks)
            return label + text if text else label.rstrip(" ")
    return paragraph_text_unnumbered(p, tags, boxes, ticks)


def _list_label(p, tags: _Tags) -> str:
    """Given a w:p, return its automatic number as Word shows it ('' when it has none)."""
    props = _child(p, tags.pPr)
    num = _child(props, tags.numPr) if props is not None else None
    if num is None:
        return ""
    num_id, level = _child(num, tags.numId), _child(num, tags.ilvl)
    if num_id is None:
        return ""
    return tags.numbering.label(num_id.get(tags.val, ""), _int_val(level, tags, 0))


def paragraph_text_unnumbered(p, tags: _Tags, boxes: list, ticks: bool = True) -> str:
    """Given a w:p, return its displayed text (`paragraph_text` without the automatic number)."""
    out: list[str] = []
    fast = tags.fast
    for el in p.iter():  # unfiltered iteration + dict lookup beats lxml's multi-tag filter
        kind = fast.get(el.tag)
        if kind is None:
            continue
        if kind == "t":
            out.append(el.text or "")
        elif kind == "tab":
            if el.getparent().tag != tags.tabs:  # w:tabs/w:tab are tab stops, not characters
                out.append(" ")
        elif kind == "br":
            out.append("\n")
        elif kind == "-":
            out.append("-")
        elif kind == "font":
            if _symbol_font(el, tags) is not None:
                break
        else:
            break  # needs the careful walk
    else:
        return normalise_ticks("".join(out)) if ticks else "".join(out)
    out = []
    _inline(p, tags, out, boxes, None, [])
    return normalise_ticks("".join(out)) if ticks else "".join(out)


def _hidden(run, tags: _Tags) -> bool:
    """Given a w:r, return whether its own properties hide it (w:vanish, not switched off)."""
    props = _child(run, tags.rPr)
    vanish = _child(props, tags.vanish) if props is not None else None
    return vanish is not None and vanish.get(tags.val, "1").strip().lower() not in ("0", "false", "off")


def _run_symbol_font(run, tags: _Tags) -> str | None:
    props = _child(run, tags.rPr)
    fonts = _child(props, tags.rFonts) if props is not None else None
    return None if fonts is None else _symbol_font(fonts, tags)


def _symbol_font(fonts, tags: _Tags) -> str | None:
    for attr in (tags.ascii, tags.hAnsi):
        name = (fonts.get(attr) or "").strip().lower()
        if name in SYMBOL_FONTS:
            return name
    return None


def _inline(el, tags: _Tags, out: list[str], boxes: list, font: str | None, fields: list) -> None:
    """Given an element of a paragraph, append its displayed text to `out` (text boxes to `boxes`).

    `fields` holds the complex fields open at this point ([instruction, where its result starts]): an
    EQ field (带圈字符, `eq \\o\\ac(□,√)`) shows what its instruction draws, not its stored result.
    """
    for child in el:
        tag = child.tag
        if tag == tags.instrText:
            if fields and fields[-1][1] is None:
                fields[-1][0] += child.text or ""
            continue
        if not isinstance(tag, str) or tag in tags.skip:
            continue
        if tag == tags.t:
            text = child.text or ""
            if fields and fields[-1][1] is None:  # text between a field's begin and separate is its instruction
                fields[-1][0] += text
            else:
                out.append(_symbol_text(text, font) if font else text)
        elif tag == tags.r:
            if not _hidden(child, tags):  # hidden text (w:vanish) is not what the applicant shows
                _inline(child, tags, out, boxes, _run_symbol_font(child, tags), fields)
        elif tag in (tags.tab, tags.ptab):
            out.append(" ")
        elif tag in (tags.br, tags.cr):
            out.append("\n")
        elif tag == tags.noBreakHyphen:
            out.append("-")
        elif tag == tags.sym:
            try:
                out.append(symbol_char(child.get(tags.font), int(child.get(tags.char, ""), 16)))
            except ValueError:
                pass
        elif tag == tags.fldChar:
            _field_char(child, tags, out, fields)
        elif tag == tags.fldSimple:
            shown = eq_text(child.get(tags.instr, ""))
            if shown is None:
                _inline(child, tags, out, boxes, font, fields)
            else:
                out.append(shown)
        elif tag == tags.sdt:
            mark = checkbox_mark(child, tags)
            if mark is not None:
                out.append(mark)
            elif not _placeholder(child, tags):
                content = _child(child, tags.sdtContent)
                if content is not None:
                    _inline(content, tags, out, boxes, font, fields)
        elif tag == tags.txbxContent:
            boxes.append(child)
        else:
            _inline(child, tags, out, boxes, font, fields)


def _field_char(node, tags: _Tags, out: list[str], fields: list) -> None:
    """Given a w:fldChar, follow the complex field it begins, separates or ends (a legacy check box shows its mark)."""
    kind = node.get(tags.fldCharType, "")
    if kind == "begin":
        fields.append(["", None])
        data = _child(node, tags.ffData)
        box = _child(data, tags.checkBox) if data is not None else None
        if box is not None:
            out.append(TICK if legacy_checked(box, tags) else BOX)
    elif kind == "separate" and fields and fields[-1][1] is None:
        fields[-1][1] = len(out)
    elif kind == "end" and fields:
        instr, result = fields.pop()
        shown = eq_text(instr)
        if shown is not None:
            del out[len(out) if result is None else result:]  # the stored result of an EQ field is not what shows
            out.append(shown)


_EQ = re.compile(r"^\s*eq\s", re.IGNORECASE)
#: An overlay's arguments: `\o\ac(□,√)`, `\o(○,1)`, with any alignment switches, full-width commas too.
_OVERLAY = re.compile(r"\\o(?:\s*\\a[lcr])*\s*\((.*)\)", re.DOTALL)
_ENCLOSURES = frozenset("□☐○◯〇◇◻⬜")


def eq_text(instr: str) -> str | None:
    """Given a field instruction, return what an EQ field shows as text, or None when it is no EQ field.

    An enclosed character (带圈字符) overlays a box or circle with a mark: a tick or a cross in a box is a
    tick (☑), a box with nothing is a box (☐), a circle round a character is the character.
    """
    if not _EQ.match(instr or ""):
        return None
    overlay = _OVERLAY.search(instr)
    if overlay is None:
        return re.sub(r"\\[a-zA-Z]+\d*|[(),，\s]", "", instr[3:])  # another EQ construct: its characters
    parts = [part.strip() for part in re.split(r"[,，]", overlay.group(1))]
    marks = [part for part in parts if part and part not in _ENCLOSURES]
    if any(ch in TICKED or ch in "xX×✗✘" for part in marks for ch in part):
        return TICK
    if not marks:
        return BOX if any(part in _ENCLOSURES for part in parts) else ""
    return "".join(marks)


def _symbol_text(text: str, font: str) -> str:
    """Given the text of a run set in a symbol font, return it with tick/box codes mapped."""
    table = SYMBOL_FONTS[font]
    out = []
    for ch in text:
        code = ord(ch)
        low = code - 0xF000 if 0xF000 <= code <= 0xF0FF else code
        out.append(table.get(low, ch) if low <= 0xFF else ch)
    return "".join(out)


def checkbox_mark(sdt, tags: _Tags) -> str | None:
    """Given a w:sdt, return '☑'/'☐' when it is a Word 2010 check-box content control, else None."""
    props = _child(sdt, tags.sdtPr)
    if props is None:
        return None
    box = _child(props, tags.w14_checkbox)
    if box is None:
        return None
    checked = _child(box, tags.w14_checked)
    value = checked.get(tags.w14_val, "0") if checked is not None else "0"
    return TICK if value.strip().lower() in ("1", "true", "on") else BOX


def legacy_checked(box, tags: _Tags) -> bool:
    """Given a legacy w:ffData/w:checkBox, return whether it is checked (w:checked, else w:default)."""
    checked = _child(box, tags.checked)
    if checked is not None:
        return checked.get(tags.val, "1").strip().lower() in ("1", "true", "on")
    default = _child(box, tags.default)
    return default is not None and default.get(tags.val, "0").strip().lower() in ("1", "true", "on")
