"""Scans and photos → the same cell grid the other readers give, read by OCR shipped inside a wheel.

A page image is deskewed, the form's ruling lines are found by morphology (OpenCV, which rapidocr
already depends on), every table cell is cropped and its text lines are cut by their ink profile,
and each line is recognised by rapidocr's packaged PP-OCR recognition model on onnxruntime (no text
detection pass over the page: knowing the cells is faster and more exact). The models load from the
installed rapidocr package's own folder: nothing is ever downloaded. Text outside tables becomes
paragraphs, so extraction by label works unchanged.

The image is read through its red channel: a red seal over a label turns white there and does not
garble the label's text; the seal itself is found in the colour image (`seal_near`).

Every cell and paragraph read here carries where it came from (page, box in pixels, confidence),
for the record's `origins` and the low-confidence warning.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path

from pipeline.reading.grid import Block, Cell, Document
from pipeline.reading.readers import TOO_MUCH, Unreadable, normalise_ticks

#: Pixels per inch pages of a scanned PDF are rendered at.
DPI = 200
#: Largest rotation (degrees) straightened; a page turned further is read as it is.
MAX_SKEW = 3.0
#: A value read with less confidence than this is kept as read, with a warning asking staff to check it.
LOW_CONFIDENCE = 0.80
#: Red pixels (share of the region around a seal label) above which a seal is present.
SEAL_SHARE = 0.004
#: Pages of a scanned PDF read at most: OCR costs seconds a page.
MAX_PAGES = 40
#: Words of a label beside which a seal is pressed.
SEAL_WORDS = ("公章", "盖章")
#: Pixels read at most, so a giant photo cannot take all memory (≈ A4 at 300 dpi).
MAX_PIXELS = 3600 * 3600


@functools.lru_cache(maxsize=1)
def recogniser():
    """Return rapidocr's text recogniser, loaded from the model file inside the installed package."""
    try:
        import rapidocr
        from rapidocr import RapidOCR
    except ImportError:  # pragma: no cover - a dependency; an install without it cannot read scans
        raise Unreadable("未安装文字识别组件（rapidocr），无法读取扫描件或照片") from None
    models = Path(rapidocr.__file__).parent / "models"
    rec = sorted(models.glob("*rec*.onnx"))
    if not rec:
        raise Unreadable("文字识别模型缺失（rapidocr 安装不完整），无法读取扫描件或照片")
    engine = RapidOCR(params={"Global.log_level": "error", "Global.use_det": False, "Global.use_cls": False,
                              "Rec.model_path": str(rec[-1]),
                              "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1})
    return engine._load_rec_model()


def recognise(crops: list) -> list[tuple[str, float]]:
    """Given grey line images, return (text, confidence) per image, in one batch."""
    if not crops:
        return []
    import cv2
    from rapidocr.ch_ppocr_rec.typings import TextRecInput

    out = recogniser()(TextRecInput(img=[cv2.cvtColor(c, cv2.COLOR_GRAY2BGR) for c in crops]))
    return [(str(t or ""), float(s or 0.0)) for t, s in zip(out.txts, out.scores)]


# --- the page image ----------------------------------------------------------------------------


def load_image(path: Path):
    """Given an image file (JPEG, PNG, TIFF, HEIC …), return its pages as RGB numpy arrays (Unreadable if none)."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    heif_opener()

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS * 4
    try:
        with Image.open(path) as image:
            pages = []
            for n in range(getattr(image, "n_frames", 1)):
                image.seek(n)
                frame = ImageOps.exif_transpose(image.convert("RGB"))  # a phone's photo stands as it was taken
                if frame.width * frame.height > MAX_PIXELS:
                    frame.thumbnail((3600, 3600))
                pages.append(np.asarray(frame))
            return pages
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise Unreadable("图片无法打开，文件可能已损坏；请重新拍照或扫描后发送") from None


@functools.lru_cache(maxsize=1)
def heif_opener() -> bool:
    """Register pillow-heif's opener with Pillow once (phones save photos as HEIC); return whether it is there."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - a dependency; without it a HEIC photo is an unreadable image
        return False
    register_heif_opener()
    return True


def pdf_page_image(path: str, index: int):
    """Given a PDF and a page index, return the page rendered at DPI as an RGB numpy array."""
    import numpy as np
    import pypdfium2

    pdf = pypdfium2.PdfDocument(path)
    try:
        return np.asarray(pdf[index].render(scale=DPI / 72).to_pil().convert("RGB"))
    finally:
        pdf.close()


def binarise(grey):
    """Given a grey page, return its ink as a 0/255 mask (Otsu's threshold)."""
    import cv2

    level, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    # print is dark: a pale page's Otsu level may sit high enough to take faint stains for ink
    _, ink = cv2.threshold(grey, min(level, 150), 255, cv2.THRESH_BINARY_INV)
    return ink


def skew_angle(ink) -> float:
    """Given a page's ink mask, return the rotation (degrees) that makes its lines level: the angle whose
    row profile is sharpest, searched on a small copy."""
    import cv2
    import numpy as np

    scale = 800 / max(ink.shape)
    small = cv2.resize(ink, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = small.shape
    best, best_score = 0.0, -1.0
    for angle in np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.1):
        turned = cv2.warpAffine(small, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h))
        rows = turned.sum(axis=1, dtype=np.float64)
        score = float((rows ** 2).sum())
        if score > best_score:
            best, best_score = float(angle), score
    return best


def straighten(rgb):
    """Given an RGB page, return (it rotated level, the grey image read, its ink mask)."""
    import cv2

    angle = skew_angle(binarise(unsealed(rgb)))
    if abs(angle) >= 0.05:
        h, w = rgb.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rgb = cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    grey = unsealed(rgb)
    return rgb, grey, binarise(grey)


def unsealed(rgb):
    """Given an RGB page, return it grey with red ink (a seal, a red stamp) turned to paper: the red channel
    (black print stays black), and reddish pixels whitened, since JPEG smears a seal's edges darker."""
    import numpy as np

    r = rgb[:, :, 0].astype(np.int16)
    others = np.maximum(rgb[:, :, 1], rgb[:, :, 2]).astype(np.int16)
    grey = rgb[:, :, 0].copy()
    grey[(r - others > 50) & (r > 100)] = 255
    return grey


# --- ruling lines and cells ----------------------------------------------------------------------


def ruling(ink):
    """Given an ink mask, return (horizontal lines mask, vertical lines mask): long straight strokes only."""
    import cv2

    h, w = ink.shape
    horizontal = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1)))
    vertical = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(20, h // 60))))
    # a line broken by a scan's noise is still one line
    horizontal = cv2.dilate(horizontal, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3)))
    vertical = cv2.dilate(vertical, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 9)))
    return horizontal, vertical


def positions(profile, least: int) -> list[int]:
    """Given a line mask's profile (ink per row or column) and the least ink a line has, return line centres."""
    out, start = [], None
    for i, v in enumerate(list(profile) + [0]):
        if v >= least and start is None:
            start = i
        elif v < least and start is not None:
            out.append((start + i - 1) // 2)
            start = None
    return out


def table_boxes(horizontal, vertical) -> list[tuple[int, int, int, int]]:
    """Given the line masks, return each table's box (x0, y0, x1, y1): a connected frame of lines that holds
    at least two horizontal and two vertical ones (an underline alone is no table)."""
    import cv2

    frame = cv2.bitwise_or(horizontal, vertical)
    count, _, stats, _ = cv2.connectedComponentsWithStats(frame, connectivity=8)
    # a form's table spans a good part of the page; a big bold title character (申) has strokes long
    # enough to pass for ruling lines, but not that wide
    least_width = max(60, frame.shape[1] // 6)
    boxes = []
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        if w < least_width or h < 40:
            continue
        xs = positions(vertical[y:y + h, x:x + w].sum(axis=0) // 255, max(15, h // 20))
        ys = positions(horizontal[y:y + h, x:x + w].sum(axis=1) // 255, max(15, w // 20))
        if len(xs) >= 2 and len(ys) >= 2:
            boxes.append((int(x), int(y), int(x + w), int(y + h)))
    return sorted(boxes, key=lambda b: (b[1], b[0]))


def rules_to_drop(ink, horizontal, vertical, tables):
    """Given the ink, the line masks and the tables found, return the mask of ruling to remove before reading
    text: every line inside a table, and outside tables only long underlines (a big title character's
    strokes are long enough to pass for short lines, and must stay)."""
    import cv2
    import numpy as np

    drop = np.zeros_like(ink)
    for x0, y0, x1, y1 in tables:
        drop[y0:y1 + 1, x0:x1 + 1] = cv2.bitwise_or(horizontal, vertical)[y0:y1 + 1, x0:x1 + 1]
    underline = cv2.getStructuringElement(cv2.MORPH_RECT, (max(40, ink.shape[1] // 10), 1))
    long_lines = cv2.dilate(cv2.morphologyEx(ink, cv2.MORPH_OPEN, underline),
                            cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3)))
    return cv2.bitwise_or(drop, long_lines)


def grid_regions(box, horizontal, vertical) -> list[tuple[int, int, int, int, tuple[int, int, int, int]]]:
    """Given a table's box and the line masks, return its cells as (row, col, rowspan, colspan, pixel box):
    the grid of every line's position, with two neighbouring boxes merged where no line parts them."""
    x0, y0, x1, y1 = box
    h_sub, v_sub = horizontal[y0:y1, x0:x1], vertical[y0:y1, x0:x1]
    xs = positions(v_sub.sum(axis=0) // 255, 15)
    ys = positions(h_sub.sum(axis=1) // 255, 15)
    rows, cols = len(ys) - 1, len(xs) - 1
    parent = list(range(rows * cols))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def covered(mask, fixed: int, lo: int, hi: int, along_rows: bool) -> bool:
        lo, hi = lo + 3, hi - 3
        if hi <= lo:
            return True
        band = mask[lo:hi, max(0, fixed - 3):fixed + 4] if along_rows else mask[max(0, fixed - 3):fixed + 4, lo:hi]
        line = band.max(axis=1 if along_rows else 0)
        return (line > 0).mean() > 0.6

    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and not covered(v_sub, xs[c + 1], ys[r], ys[r + 1], True):
                parent[find(r * cols + c + 1)] = find(r * cols + c)
            if r + 1 < rows and not covered(h_sub, ys[r + 1], xs[c], xs[c + 1], False):
                parent[find((r + 1) * cols + c)] = find(r * cols + c)
    groups: dict[int, list[tuple[int, int]]] = {}
    for r in range(rows):
        for c in range(cols):
            groups.setdefault(find(r * cols + c), []).append((r, c))
    out = []
    for members in groups.values():
        r0, c0 = min(m[0] for m in members), min(m[1] for m in members)
        r1, c1 = max(m[0] for m in members), max(m[1] for m in members)
        out.append((r0, c0, r1 - r0 + 1, c1 - c0 + 1, (x0 + xs[c0], y0 + ys[r0], x0 + xs[c1 + 1], y0 + ys[r1 + 1])))
    return sorted(out, key=lambda cell: (cell[0], cell[1]))


# --- text lines --------------------------------------------------------------------------------


def text_lines(ink, box) -> list[tuple[int, int, int, int]]:
    """Given an ink mask (ruling removed) and a box, return the boxes of its text lines, top to bottom:
    rows of ink parted by blank rows, each trimmed to its ink; specks too small to be text are dropped."""
    import numpy as np

    x0, y0, x1, y1 = box
    region = ink[y0:y1, x0:x1]
    if region.size == 0:
        return []
    rows = positions_spans((region > 0).sum(axis=1), 1)
    out = []
    for top, bottom in rows:
        if bottom - top < 6:
            continue  # a speck, a dot of noise, the stub of a ruling line
        cols = np.flatnonzero((region[top:bottom] > 0).sum(axis=0))
        if cols.size == 0 or (region[top:bottom] > 0).sum() < 25:
            continue
        out.append((x0 + int(cols[0]), y0 + top, x0 + int(cols[-1]) + 1, y0 + bottom))
    return out


def positions_spans(profile, least: int) -> list[tuple[int, int]]:
    """Given a profile, return (start, end) of each run of values ≥ least, runs 2 or fewer apart joined."""
    spans: list[list[int]] = []
    for i, v in enumerate(profile):
        if v >= least:
            if spans and i - spans[-1][1] <= 2:
                spans[-1][1] = i + 1
            else:
                spans.append([i, i + 1])
    return [(a, b) for a, b in spans]


#: A solid square at least this full of ink, about a character high, is a filled tick box (■).
SOLID = 0.8


def solid_boxes(ink, line) -> list[tuple[int, int]]:
    """Given the ink mask and a text line's box, return the (x0, x1) page columns of the filled boxes (■) on
    the line, left to right: the recogniser drops a ■ before a word in a row of options, and no Chinese
    character is a solid square, so these are found in the image instead."""
    import cv2

    x0, y0, x1, y1 = line
    height = y1 - y0
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink[y0:y1, x0:x1], connectivity=8)
    out = []
    for i in range(1, count):
        x, _, w, h, area = stats[i]
        if h >= 0.6 * height and 0.75 <= w / h <= 1.33 and area >= SOLID * w * h:
            out.append((x0 + int(x), x0 + int(x + w)))
    return sorted(out)


def wide_gaps(ink, line) -> list[tuple[int, int]]:
    """Given the ink mask and a text line's box, return the (x0, x1) page columns of its gaps wider than the
    line is high: where a label ends and the value written after it begins (the recogniser reads such a gap
    as nothing, gluing 所属行业 to 居民服务)."""
    import numpy as np

    x0, y0, x1, y1 = line
    inked = np.flatnonzero((ink[y0:y1, x0:x1] > 0).any(axis=0))
    if inked.size < 2:
        return []
    steps = np.diff(inked)
    return [(x0 + int(inked[i]) + 1, x0 + int(inked[i + 1])) for i in np.flatnonzero(steps > (y1 - y0))]


def line_pieces(ink, line, split_gaps: bool = False) -> list[tuple[str, tuple | None]]:
    """Given the ink mask and a text line's box, return what to read of it: (mark, box to recognise or None)
    pieces in order. A filled box becomes the mark '■' before the text that follows it (a space before
    every mark but the first, as options are typed); on a line outside tables, if asked, a gap wider than
    the line is high parts two pieces with a space."""
    x0, y0, x1, y1 = line
    if split_gaps:
        cuts = wide_gaps(ink, line)
        if cuts:
            starts = [x0] + [b for _, b in cuts]
            ends = [a for a, _ in cuts] + [x1]
            out: list[tuple[str, tuple | None]] = []
            for n, (a, b) in enumerate(zip(starts, ends)):
                part = line_pieces(ink, (a, y0, b, y1))
                out += [((" " if n and i == 0 else "") + mark, box) for i, (mark, box) in enumerate(part)]
            return out
    boxes = solid_boxes(ink, line)
    if not boxes:
        return [("", line)]
    pieces: list[tuple[str, tuple | None]] = []
    gap = CROP_PAD + 1  # a crop reaches this far beyond its box: never into a neighbouring ■
    if boxes[0][0] - x0 > 2 * gap:
        pieces.append(("", (x0, y0, boxes[0][0] - gap, y1)))
    for n, (_, bx1) in enumerate(boxes):
        end = boxes[n + 1][0] - gap if n + 1 < len(boxes) else x1
        mark = ("" if not pieces else " ") + "■"
        pieces.append((mark, (bx1 + gap, y0, end, y1) if end - bx1 > 2 * gap else None))
    return pieces


#: White margin (pixels) kept around a line cropped for the recogniser.
CROP_PAD = 4


def crop(grey, box, pad: int = CROP_PAD):
    """Given the grey page and a line's box, return the line's image with a white margin."""
    import cv2

    x0, y0, x1, y1 = box
    h, w = grey.shape
    part = grey[max(0, y0 - pad):min(h, y1 + pad), max(0, x0 - pad):min(w, x1 + pad)]
    return cv2.copyMakeBorder(part, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
#: What the recogniser writes for a tick box, folded like the other readers' glyphs.
_OCR_GLYPHS = str.maketrans({"口": "☐", "囗": "☐"})


def joined(lines: list[tuple[str, tuple]], right: int) -> str:
    """Given a cell's lines (text, box) and the right edge of its text area, return its text: a line that
    reached the edge wrapped (joined, no space next to Chinese), one that ended early ends a paragraph."""
    out = ""
    for i, (text, box) in enumerate(lines):
        if i:
            before, prev_box = lines[i - 1]
            height = prev_box[3] - prev_box[1]
            if right - prev_box[2] > 2 * height:
                out += "\n"
            elif before and text and not (_CJK.match(before[-1]) or _CJK.match(text[0])):
                out += " "
        out += text
    return out


def tidy(text: str) -> str:
    """Given a recognised line, return it as the other readers write text: ticks folded, ends trimmed."""
    text = text.strip()
    # a box printed before an option word reads as 口: only then is it a box (口腔 stays 口腔)
    text = re.sub(r"(^|(?<=\s)|(?<=[，。；、]))[口囗](?=[\u4e00-\u9fff])", "☐", text)
    # the recogniser writes ASCII punctuation where Chinese text prints full-width marks
    text = _HALF_AFTER.sub(lambda m: m[1] + _FULL[m[2]], text)
    text = _HALF_BEFORE.sub(lambda m: _FULL[m[1]] + m[2], text)
    # Writer sets a gap between a digit and the Chinese unit after it (60升, 2015年) that reads as a space;
    # such a space is almost never typed, while one after Chinese text before a number often is (升 2000W)
    text = re.sub(r"(?<=[0-9])\s+(?=[\u4e00-\u9fff])", "", text)
    text = normalise_ticks(text)
    # options are typed with a space before each box; the recogniser drops it before a ☐ it reads
    return re.sub(r"(?<=[^\s☑☐])(?=[☑☐])", " ", text)


_FULL = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}
_HAN = "[\u4e00-\u9fff（）]"
_HALF_AFTER = re.compile(f"({_HAN})([,:;()!?])")
_HALF_BEFORE = re.compile(f"([,:;()!?])({_HAN})")


# --- a page ------------------------------------------------------------------------------------


def read_page(rgb, page: int) -> tuple[list[Block], dict]:
    """Given an RGB page image and its number (from 1), return its blocks (tables of Cells, paragraphs) in
    reading order, each carrying page, box and confidence, and the page's facts (seal boxes found)."""
    import cv2

    rgb, grey, ink = straighten(rgb)
    horizontal, vertical = ruling(ink)
    tables = table_boxes(horizontal, vertical)
    text_ink = cv2.bitwise_and(ink, cv2.bitwise_not(rules_to_drop(ink, horizontal, vertical, tables)))
    jobs: list[tuple] = []  # (owner, line box) per line to recognise
    placed: list[tuple[int, Block]] = []
    for box in tables:
        block = Block("table", rows=[])
        rows: dict[int, list[Cell]] = {}
        for r, c, rs, cs, (cx0, cy0, cx1, cy1) in grid_regions(box, horizontal, vertical):
            cell = Cell("", r, c, rs, cs)
            cell.page, cell.box = page, (cx0, cy0, cx1, cy1)
            rows.setdefault(r, []).append(cell)
            inner = (cx0 + 4, cy0 + 4, cx1 - 4, cy1 - 4)
            jobs.extend((cell, line) for line in text_lines(text_ink, inner))
        block.rows = [rows[r] for r in sorted(rows)]
        placed.append((box[1], block))
    outside = text_ink.copy()
    for x0, y0, x1, y1 in tables:
        outside[y0:y1 + 1, x0:x1 + 1] = 0
    h, w = outside.shape
    paragraphs = []
    for line in text_lines(outside, (0, 0, w, h)):
        block = Block("paragraph", text="")
        block.page, block.box = page, line
        paragraphs.append(block)
        placed.append((line[1], block))
        jobs.append((block, line))
    pieces = [line_pieces(text_ink, line, split_gaps=isinstance(owner, Block)) for owner, line in jobs]
    read = iter(recognise([crop(grey, box) for parts in pieces for _, box in parts if box is not None]))
    texts: dict[int, list[tuple[str, tuple, float]]] = {}
    seal = None
    for (owner, line), parts in zip(jobs, pieces):
        text, score = "", 1.0
        for mark, box in parts:
            got, got_score = next(read) if box is not None else ("", 1.0)
            text += mark + got.strip()
            score = min(score, got_score)
        texts.setdefault(id(owner), []).append((tidy(text), line, score))
        if any(word in text for word in SEAL_WORDS):
            seal = bool(seal) or seal_near(rgb, line)
    for _, block in placed:
        owners = list(block.cells()) if block.kind == "table" else [block]
        for owner in owners:
            got = [t for t in texts.get(id(owner), []) if t[0]]
            owner.confidence = min((s for _, _, s in got), default=None)
            right = owner.box[2] - 4
            value = joined([(t, b) for t, b, _ in got], right) if block.kind == "table" else " ".join(t for t, _, _ in got)
            owner.text = value
    blocks = [b for _, b in sorted(placed, key=lambda item: item[0]) if b.kind == "table" or b.text]
    return blocks, seal


def seal_near(rgb, box, reach: int = 260) -> bool:
    """Given an RGB page and a seal label's box, return whether a red seal is printed near it: the share of
    red pixels (hue near red, saturated) in the region around the label above SEAL_SHARE."""
    import cv2
    import numpy as np

    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = box
    region = rgb[max(0, y0 - reach):min(h, y1 + reach), max(0, x0 - reach):min(w, x1 + reach)]
    if region.size == 0:
        return False
    hsv = cv2.cvtColor(region, cv2.COLOR_RGB2HSV)
    hue, sat, val = hsv[:, :, 0], hsv[:, :, 1], hsv[:, :, 2]
    red = ((hue <= 10) | (hue >= 170)) & (sat >= 90) & (val >= 90)
    return float(np.count_nonzero(red)) / red.size >= SEAL_SHARE


def ocr_document(images, source: str, kind: str) -> Document:
    """Given page images (RGB arrays, page numbers from 1), return the Document they read as, its `scan`
    facts set (pages read, seals found per page)."""
    read = [(n, *read_page(rgb, n)) for n, rgb in images]
    return Document(source=source, blocks=[b for _, blocks, _ in read for b in blocks], kind=kind,
                    scan={"pages": [n for n, _, _ in read], "seals": {n: s for n, _, s in read if s is not None}})


def read_image(path: Path, source: str) -> Document:
    """Given an image file (a photo or a scan of pages), return its Document read by OCR."""
    return ocr_document(list(enumerate(load_image(path), start=1)), source, "image")


#: Pages of a scan from which a progress line is written per page read (a page costs seconds).
PROGRESS_PAGES = 3


def page_progress(source: str, done: int, total: int) -> None:
    """Given a file, the pages of it read so far and its pages to read, write one progress line on stderr for a
    long scan (the parse worker's grandchild writes it: the CLI's bar counts entries, not pages)."""
    if total >= PROGRESS_PAGES:
        print(f"识别扫描件“{source}”：第 {done}/{total} 页", file=sys.stderr, flush=True)


def ocr_pdf_pages(path: str, source: str, indices: list[int]) -> list[tuple[int, list[Block], bool | None]]:
    """Given a PDF, its name and the indices (from 0) of its pages to read by OCR, return per page (its number
    from 1, its blocks, its seal found or None); meant to run inside `run_bounded`."""
    out = []
    for done, index in enumerate(indices, start=1):
        out.append((index + 1, *read_page(pdf_page_image(path, index), index + 1)))
        page_progress(source, done, len(indices))
    return out


def ocr_bounded(path: Path, source: str, indices: list[int], limits: dict) -> list[tuple[int, list[Block], bool | None]]:
    """Given a PDF and the pages of it to read by OCR, return what `ocr_pdf_pages` returns, computed in a child
    bounded in time (ocr_page_seconds a page) and memory; whichever bound runs out, the reason is TOO_MUCH
    (which ran out first depends on how busy the computer is: a rerun must give the same record)."""
    from pipeline.common.safety import LIMITS, run_bounded

    limits = {**LIMITS, **limits}
    try:
        return run_bounded(ocr_pdf_pages, str(path), source, indices,
                           seconds=limits["ocr_page_seconds"] * len(indices), memory=limits["ocr_memory"])
    except Unreadable:
        raise
    except Exception:  # noqa: BLE001 - time, memory, or a library failing for want of memory (cv2, onnxruntime
        # raise their own errors then): pdfium opened the file before, so what failed here is the budget
        raise Unreadable(TOO_MUCH) from None


def pdf_page_count(path: Path) -> int:
    """Given a PDF, return its pages (Unreadable if pdfium cannot open it)."""
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError:
        raise Unreadable("PDF 文件无法读取，文件可能已损坏") from None
    try:
        return len(pdf)
    finally:
        pdf.close()


def read_scanned_pdf(path: Path, source: str, limits: dict | None = None) -> Document:
    """Given a PDF without a text layer (a scan), return its Document read by OCR, page by page."""
    count = pdf_page_count(path)
    return read_pdf_pages(path, source, [[] for _ in range(count)], list(range(count)), limits or {})


def read_pdf_pages(path: Path, source: str, pages: list[list[Block]], scanned: list[int], limits: dict) -> Document:
    """Given a PDF, the blocks of each page's text layer and the indices of its pages without one (scans),
    return its Document: the scanned pages read by OCR, every page's blocks in page order, the `scan` facts
    (pages read, seals) of the OCR'd pages only."""
    if len(scanned) > MAX_PAGES:
        raise Unreadable(f"扫描的 PDF 页数过多（{len(scanned)} 页，最多识别 {MAX_PAGES} 页），请只发送申报表格部分")
    read = {n - 1: (blocks, seal) for n, blocks, seal in ocr_bounded(path, source, scanned, limits)}
    blocks = [b for index, text in enumerate(pages) for b in (read[index][0] if index in read else text)]
    seals = {index + 1: seal for index, (_, seal) in read.items() if seal is not None}
    return Document(source=source, blocks=blocks, kind="pdf", scan={"pages": [i + 1 for i in scanned], "seals": seals})
