"""Readers: one submission file in, one `pipeline.reading.grid.Document` out.

`read` dispatches on the sniffed kind. .doc/.xls never reach here: the caller converts the
whole inbox's old-format files in one `office.convert` batch, then reads the results as
docx/xlsx. Every reader raises `Unreadable` with a Chinese reason for a file it cannot read.
"""

from __future__ import annotations

import re

from pipeline.common.text import BOX, TICK
from pipeline.reading.grid import Document


class Unreadable(Exception):
    """A file that cannot be read; the message is the Chinese reason shown to the user."""


class Rejected(Unreadable):
    """A file our parser refused although other programs may open it: worth one try through LibreOffice."""


#: Said of a file a parser could not make sense of (never the parser's exception name).
DAMAGED = "文件内容不符合格式规范，可能已损坏；请用 Word、WPS 或 Excel 打开后另存一份重新发送"
#: Why a file that ran out of its time or memory budget was not read (the same words whichever ran out first,
#: which depends on how busy the computer is: a rerun gives the same record).
TOO_MUCH = f"文件内容过多，在限定的时间和内存内无法读完：{DAMAGED}"


#: Glyphs applicants type for a ticked / an empty box, folded to text.TICK / text.BOX.
TICK_GLYPHS = "☑✓✔√■☒▣●✅⊠🗹🗸🗷☒"
BOX_GLYPHS = "☐□◻⬜"
GLYPHS = str.maketrans({**{c: TICK for c in TICK_GLYPHS}, **{c: BOX for c in BOX_GLYPHS}})
#: str.translate looks every character up in a dict (1 µs a cell); most cells hold no glyph at all.
_ANY_GLYPH = re.compile("[" + re.escape(TICK_GLYPHS + BOX_GLYPHS) + "]")


def read_bounded(parse, args: tuple, what: str, seconds: float, memory: int, inline: bool = False):
    """Given a parser, its arguments, what the file is ('PDF', 'Excel 文件') and bounds, return its result.

    The parser runs in a child process (pipeline.common.safety.run_bounded), or here when `inline` (a
    file too small to need bounds); whatever goes wrong (time, memory, a parser exception)
    comes back as `Unreadable` with a Chinese reason.
    """
    from pipeline.common.safety import ChildFailed, Timeout, run_bounded

    try:
        if inline:
            return parse(*args)
        return run_bounded(parse, *args, seconds=seconds, memory=memory)
    except Timeout:
        raise Unreadable(f"{what}解析超时（超过 {seconds:g} 秒），文件可能有问题") from None
    except Unreadable:
        raise
    except ChildFailed as exc:
        said = str(exc) if str(exc) in ("内存不足",) or str(exc).startswith("子进程") else "解析出错"
        raise Unreadable(f"{what}无法读取（{said}）：{DAMAGED}") from exc
    except MemoryError:
        raise Unreadable(TOO_MUCH) from None
    except Exception as exc:  # noqa: BLE001 - whatever the parser raised in the child
        raise Unreadable(f"{what}无法读取：{DAMAGED}") from exc


def normalise_ticks(text: str) -> str:
    """Given text as read, return it with every tick glyph as '☑' and every box glyph as '☐'."""
    return text.translate(GLYPHS) if _ANY_GLYPH.search(text) else text


def read(file, limits: dict | None = None) -> Document:
    """Given a SubmissionFile of kind docx, xlsx, pdf or image (and limits), return its Document."""
    from pipeline.common.safety import LIMITS

    limits = limits or LIMITS
    kind = file.kind
    if kind == "docx":
        from pipeline.reading.readers.docx import read_docx

        return read_docx(file.path, file.name, limits)
    if kind == "xlsx":
        from pipeline.reading.readers.xlsx import read_xlsx

        return read_xlsx(file.path, file.name, limits)
    if kind == "pdf":
        from pipeline.reading.readers.pdf import read_pdf

        return read_pdf(file.path, file.name, limits)
    if kind == "image":
        from pipeline.reading.readers.ocr import read_image

        return read_image(file.path, file.name)
    if kind in ("doc", "xls", "odt", "ods", "xlsb"):
        raise Unreadable("此文件需先用 LibreOffice 转换后再读取")
    from pipeline.common.sniff import UNKNOWN

    raise Unreadable(UNKNOWN)
