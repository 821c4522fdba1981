"""Page images of stored files: the first pages of each document as PNG, cached by SHA-256.

A zip is opened through the inbox's own gate and its documents shown one after another. PDFs are
rendered directly (pypdfium2, which pdfplumber already brings); Word and Excel files are turned into
PDF by LibreOffice first, in one batch for all.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from pipeline.common import office
from pipeline.common.errors import UserError
from pipeline.common.sniff import sniff
from pipeline.receiving import inbox

#: Pages rendered per document for the preview, at most.
PREVIEW_PAGES = 6


def preview_dir(cache: Path, sha: str) -> Path:
    """Given the previews folder and a file's SHA-256, return the folder of its page images."""
    return cache / sha[:2] / sha


def preview_path(cache: Path, sha: str, page: int) -> Path | None:
    """Given the previews folder, a file's SHA-256 and a page number, return its PNG, or None when not rendered."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        return None
    path = preview_dir(cache, sha) / f"{int(page)}.png"
    return path if path.is_file() else None


def previews_of(cache: Path, files: list[dict], source: str) -> list[dict]:
    """Given the previews folder and a version's files ({name, sha256}), return {name, sha, pages} of each."""
    shown = []
    for f in files:
        folder = preview_dir(cache, f["sha256"])
        pages = sorted(int(p.stem) for p in folder.glob("*.png")) if folder.is_dir() else []
        shown.append({"name": f["name"] or source, "sha": f["sha256"], "pages": pages})
    return shown


def make_previews(store, files: list[tuple[str, str]], cache: Path, work: Path, progress=None) -> str:
    """Given the workspace's store, (sha, name) of stored files, the previews folder and an empty work folder,
    render the first pages of each file as PNG; return a Chinese line saying how many."""
    documents: dict[str, list[tuple[Path, str]]] = {}  # stored sha → (path, kind) of the documents it holds
    for n, (sha, name) in enumerate(files):
        kind = sniff(store.path(sha)).kind
        staged = work / f"f{n}.{kind}"
        shutil.copyfile(store.path(sha), staged)
        if kind == "zip":
            opened = inbox.open_submission(inbox.Entry("preview", name, staged), work / f"z{n}")
            documents[sha] = [(f.path, f.kind) for f in opened.files]
        else:
            documents[sha] = [(staged, kind)]
    convert = [p for docs in documents.values() for p, kind in docs if kind in office.ACCEPTS["pdf"]]
    pdfs = {}
    if convert:
        if not office.available():
            raise UserError(office.INSTALL_HINT)
        pdfs = {source: out for source, out in office.to_pdf(convert, work / "pdf").items() if isinstance(out, Path)}
    pages = skipped = 0
    for n, (sha, docs) in enumerate(documents.items(), 1):
        rendered = [p if kind == "pdf" else pdfs.get(p) for p, kind in docs]
        skipped += sum(r is None for r in rendered)
        done, unreadable = render_pages([r for r in rendered if r is not None], preview_dir(cache, sha))
        pages, skipped = pages + done, skipped + unreadable
        if progress:
            progress(n, len(documents))
    return f"已生成 {pages} 页预览" + (f"；{skipped} 个文件无法预览（图片、已损坏或加密的文件）" if skipped else "")


def render_pages(pdfs: list[Path], folder: Path) -> tuple[int, int]:
    """Given PDFs, render their first pages (PREVIEW_PAGES each) as 1.png, 2.png … in `folder`; return (pages
    rendered, PDFs that could not be opened: damaged or encrypted)."""
    import pypdfium2

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):  # ours, from an earlier rendering of the same file
        old.unlink()
    count = unreadable = 0
    for path in pdfs:
        try:
            document = pypdfium2.PdfDocument(str(path))
        except pypdfium2.PdfiumError:  # a damaged or password-protected PDF: no preview, the others still get theirs
            unreadable += 1
            continue
        try:
            for page_no in range(min(PREVIEW_PAGES, len(document))):
                count += 1
                image = document[page_no].render(scale=0.9).to_pil()
                image.convert("L").save(folder / f"{count}.png", optimize=True)
        finally:
            document.close()
    return count, unreadable


#: White margin (pixels of the read page) kept around a value's box in its crop.
CROP_MARGIN = 12


def scan_crop(store, files: list[dict], source: str, origin_file: str, page: int, box: list[int], work: Path) -> bytes | None:
    """Given the store, a version's files ({name, sha256}), its source, the file a value was read from by OCR
    (as `origins` names it), the value's page and box (pixels of the page as read) and an empty work folder,
    return the PNG of that part of the stored original (the page straightened as it was read), or None when
    the file is not among the version's."""
    import io

    from PIL import Image

    from pipeline.reading.readers import Unreadable
    from pipeline.reading.readers.ocr import load_image, pdf_page_image, straighten

    for n, f in enumerate(files):
        name = f["name"] or source
        kind = sniff(store.path(f["sha256"])).kind
        documents = [(Path(name).name, store.path(f["sha256"]), kind)]
        if kind == "zip":
            staged = work / f"z{n}.zip"
            shutil.copyfile(store.path(f["sha256"]), staged)
            opened = inbox.open_submission(inbox.Entry("crop", name, staged), work / f"z{n}")
            documents = [(Path(d.name).name, d.path, d.kind) for d in opened.files]
        for doc_name, path, doc_kind in documents:
            if doc_name != Path(origin_file).name or doc_kind not in ("image", "pdf"):
                continue
            try:
                pages = load_image(path) if doc_kind == "image" else None
                rgb = pages[page - 1] if pages is not None else pdf_page_image(str(path), page - 1)
            except (Unreadable, IndexError):
                return None
            rgb = straighten(rgb)[0]  # the box is where the value sat on the page as read: level
            x0, y0, x1, y1 = (int(v) for v in box)
            h, w = rgb.shape[:2]
            part = rgb[max(0, y0 - CROP_MARGIN):min(h, y1 + CROP_MARGIN), max(0, x0 - CROP_MARGIN):min(w, x1 + CROP_MARGIN)]
            if not part.size:
                return None
            out = io.BytesIO()
            Image.fromarray(part).save(out, "PNG")
            return out.getvalue()
    return None
