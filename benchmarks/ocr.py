"""OCR of scanned forms: field accuracy, 测评报告 figures and seconds per page over scan variants, rapidocr (the
shipped reader) against Debian's tesseract + chi_sim plugged into the same cell pipeline (one `tesseract` run per
text line, --psm 7) on one variant.

The project's own filled product and service packets are exported to PDF, every page rendered under each variant
(150/200/300 dpi, turned 0.5–2°, a light blur, JPEG quality 70–85, a red seal drawn over every 公章/盖章 label),
saved one JPEG a page (an applicant who photographs the whole packet) and parsed as a submission; every non-empty
field the typed packet gives (every form, the 被访者 rows too) is compared exactly. A 测评报告 (78.5 分, 320 份)
is scanned the same way and its score and sample size compared. Writes benchmarks/results-ocr.md. Not part of
`make test`.

    python -m benchmarks.ocr
"""

from __future__ import annotations

import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

CATEGORIES = ("product", "service")
#: The pages tesseract reads (its variant only): one process a text line costs it about 13 s a page.
TESSERACT_PAGES = {"推荐意见表": "推荐意见：", "申请表": "传真", "承诺书": "承诺企业"}


@dataclass(frozen=True)
class Variant:
    """How a page is scanned: resolution, rotation, blur radius, JPEG quality, a red seal over its seal labels."""

    dpi: int
    angle: float
    blur: float
    quality: int
    seal: bool = False

    @property
    def name(self) -> str:
        parts = [f"{self.dpi} dpi", f"{self.angle:g}°", f"JPEG {self.quality}"]
        if self.blur:
            parts.append(f"blur {self.blur:g}px")
        if self.seal:
            parts.append("seal over label")
        return ", ".join(parts)


VARIANTS = (Variant(150, 0.5, 0, 85), Variant(200, 1.0, 0, 75), Variant(300, 2.0, 0, 70),
            Variant(200, 1.0, 0.8, 80), Variant(200, 1.0, 0, 75, seal=True))
#: The variant tesseract is measured on.
TESSERACT_VARIANT = VARIANTS[1]


def typed_pdfs(root: Path) -> tuple[dict[str, Path], dict[str, Path], Path]:
    """Write each category's typed packet and the 测评报告; return (category → docx, category → PDF, report PDF)."""
    from corpus import packet_values, survey_report_docx, template_packet

    from pipeline.common import office

    docx = {c: template_packet(root / f"{c}.docx", c, packet_values(c)) for c in CATEGORIES}
    report = survey_report_docx(root / "测评报告.docx", score=78.5, sample=320)
    made = office.convert([*docx.values(), report], "pdf", root / "pdf")
    return docx, {c: made[d] for c, d in docx.items()}, made[report]


def seal_labels(pdf: Path) -> dict[int, list[tuple[float, float]]]:
    """Given a PDF, return page index → (x, top) in points of each word holding 公章 or 盖章."""
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        return {n: [(w["x0"], w["top"]) for w in page.extract_words() if "公章" in w["text"] or "盖章" in w["text"]]
                for n, page in enumerate(doc.pages)}


def scan_pages(pdf: Path, variant: Variant, folder: Path, only: list[int] | None = None) -> list[Path]:
    """Given a PDF and a variant, write its pages (or only those asked) scanned so, one JPEG a page; return them."""
    import pypdfium2
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    folder.mkdir(parents=True, exist_ok=True)
    labels = seal_labels(pdf) if variant.seal else {}
    doc = pypdfium2.PdfDocument(str(pdf))
    out = []
    try:
        for n in (only if only is not None else range(len(doc))):
            image = doc[n].render(scale=variant.dpi / 72).to_pil().convert("RGB")
            scale = variant.dpi / 72
            for x, top in labels.get(n, []):  # stamp ink is translucent: multiplied over the print
                cx, cy, r = x * scale + 40 * scale / 2, top * scale + 10, 70 * variant.dpi / 150
                stamp = Image.new("RGB", image.size, "white")
                draw = ImageDraw.Draw(stamp)
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(210, 30, 35), width=max(4, int(r / 12)))
                draw.regular_polygon((cx, cy, r / 3), 5, fill=(210, 30, 35))
                image = ImageChops.multiply(image, stamp)
            if variant.blur:
                image = image.filter(ImageFilter.GaussianBlur(variant.blur))
            image = image.rotate(variant.angle, resample=Image.BICUBIC, fillcolor="white")
            path = folder / f"第{n + 1:02d}页.jpg"
            buf = io.BytesIO()
            image.save(buf, "JPEG", quality=variant.quality)
            path.write_bytes(buf.getvalue())
            out.append(path)
    finally:
        doc.close()
    return out


def record(files: list[Path]) -> dict:
    from pipeline.common.sniff import sniff
    from pipeline.reading.submission import submission_record
    from pipeline.receiving.inbox import Entry, SubmissionFile

    return submission_record(Entry("x", "x", files[0].parent),
                             [SubmissionFile(f.name, f, sniff(f).kind) for f in files], [])


def tesseract_lines(crops: list) -> list[tuple[str, float]]:
    """The same line crops read by tesseract (chi_sim), one process a line; confidence not asked (1.0)."""
    import cv2

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, crop in enumerate(crops):
            path = Path(tmp) / f"{n}.png"
            cv2.imwrite(str(path), crop)
            done = subprocess.run(["tesseract", str(path), "stdout", "-l", "chi_sim", "--psm", "7"],
                                  capture_output=True, text=True)
            out.append(("".join(done.stdout.split()), 1.0))  # chi_sim spaces every Chinese character
    return out


def filled_values(forms: dict) -> dict:
    """Given a record's forms, return every non-empty value by (form, row or None, field)."""
    out = {}
    for form, values in forms.items():
        for n, row in (enumerate(values) if isinstance(values, list) else [(None, values)]):
            out.update({(form, n, k): v for k, v in row.items() if v not in (None, "", [])})
    return out


def measure(engine: str, variant: Variant, typed: dict[str, dict], pdfs: dict[str, Path], report_pdf: Path,
            root: Path) -> dict:
    """Given an engine, a variant, the typed records and PDFs, return the variant's figures for that engine."""
    import pdfplumber

    from pipeline.reading.readers import ocr

    original = ocr.recognise
    if engine == "tesseract":
        ocr.recognise = tesseract_lines
    total = same = pages = 0
    seconds = 0.0
    wrong: list[str] = []
    try:
        ocr.recogniser() if engine == "rapidocr" else None  # model loading is not a page's cost
        for category, pdf in pdfs.items():
            only = None
            if engine == "tesseract":
                if category != CATEGORIES[0]:
                    continue
                with pdfplumber.open(pdf) as plumbed:
                    texts = ["".join((p.extract_text() or "").split()) for p in plumbed.pages]
                only = [next(i for i, t in enumerate(texts) if w in t) for w in TESSERACT_PAGES.values()]
            files = scan_pages(pdf, variant, root / engine / variant.name / category, only)
            start = time.perf_counter()
            got = filled_values(record(files).get("forms", {}))
            seconds += time.perf_counter() - start
            pages += len(files)
            expected = filled_values(typed[category]["forms"])
            if only is not None:
                expected = {k: v for k, v in expected.items() if k[0] in ("recommendation", "application", "commitment")}
            for key, value in expected.items():
                total += 1
                same += got.get(key) == value
                if got.get(key) != value:
                    wrong.append(f"{category} {key[0]}{'' if key[1] is None else f'[{key[1]}]'}.{key[2]}: "
                                 f"{value!r} → {got.get(key)!r}")
        report_page = scan_pages(report_pdf, variant, root / engine / variant.name / "report")
        start = time.perf_counter()
        report = record(report_page)
        seconds += time.perf_counter() - start
        pages += len(report_page)
    finally:
        ocr.recognise = original
    facts = next((a for a in report["attachments"] if a.get("kind") == "survey_report"), {})
    return {"engine": engine, "variant": variant.name, "fields": total, "same": same, "pages": pages,
            "seconds": seconds / max(1, pages), "wrong": wrong,
            "report": (facts.get("score"), facts.get("sample_size"))}


def main() -> None:
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="manyi-ocr-") as tmp:
        docx, pdfs, report_pdf = typed_pdfs(Path(tmp))
        typed = {c: record([d]) for c, d in docx.items()}
        rows = [measure("rapidocr", v, typed, pdfs, report_pdf, Path(tmp)) for v in VARIANTS]
        if shutil.which("tesseract"):
            rows.append(measure("tesseract", TESSERACT_VARIANT, typed, pdfs, report_pdf, Path(tmp)))
    after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    lines = ["# OCR of scanned forms", "",
             f"`python -m benchmarks.ocr` on {platform.machine()}, Python {platform.python_version()}, "
             f"{os.cpu_count()} cores. rapidocr: every page of the {' and '.join(CATEGORIES)} packets (each page one "
             "JPEG, as an applicant who photographs the packet sends it) and the 测评报告, under each variant; "
             "tesseract: the 推荐意见表, 申请表 and 承诺书 pages of the first packet and the 测评报告, one variant "
             "only (it takes one process a text line). Fields: every non-empty field of the typed packet "
             "(every form, the 被访者 rows too), compared exactly. Seconds: per page, parsing included, model "
             "loading excluded.", "",
             "The machine was shared with other work while this ran (load average, `uptime`): before "
             f"`{load}`, after `{after}`; with 2 cores and a load of 6–8 a page takes 2–4 times as long as on "
             "a quiet machine, so the seconds here are an upper bound.", "",
             "| engine | variant | pages | fields exact | accuracy | 测评报告 score, sample (typed: 78.5, 320) | s / page |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        exact = "exact" if r["report"] == (78.5, 320) else "WRONG"
        lines.append(f"| {r['engine']} | {r['variant']} | {r['pages']} | {r['same']}/{r['fields']} | "
                     f"{100 * r['same'] / max(1, r['fields']):.1f} % | {r['report'][0]}, {r['report'][1]} ({exact}) | "
                     f"{r['seconds']:.1f} |")
    for r in rows:
        if r["wrong"]:
            lines += ["", f"{r['engine']}, {r['variant']} misread:", *[f"- {w}" for w in r["wrong"][:30]]]
            if len(r["wrong"]) > 30:
                lines.append(f"- … and {len(r['wrong']) - 30} more")
    text = "\n".join(lines) + "\n"
    (HERE / "results-ocr.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
