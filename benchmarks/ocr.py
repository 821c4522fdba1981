"""OCR of scanned forms: field accuracy and seconds per page, rapidocr (the shipped reader) against Debian's
tesseract + chi_sim plugged into the same cell pipeline (one `tesseract` run per text line, --psm 7).

The project's own filled product packet is exported to PDF, its 推荐意见表, 申请表 and 承诺书 pages and a
测评报告 are rendered at 200 dpi, turned 1°, JPEG-compressed, and parsed as a submission; every non-empty
field the typed packet gives is compared exactly. Writes benchmarks/results-ocr.md. Not part of `make test`.

    python -m benchmarks.ocr
"""

from __future__ import annotations

import io
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

DPI = 200
PAGES = {"推荐意见表": "推荐意见：", "申请表": "传真", "承诺书": "承诺企业"}
FORMS = ("recommendation", "application", "commitment")


def scans(root: Path) -> tuple[Path, Path, dict[str, Path]]:
    """Write the typed packet, its PDF, and the scanned pages; return (typed docx, report score, page images)."""
    import pdfplumber
    import pypdfium2
    from corpus import packet_values, survey_report_docx, template_packet
    from PIL import Image

    from pipeline.common import office

    typed = template_packet(root / "申报材料.docx", "product", packet_values("product"))
    report = survey_report_docx(root / "测评报告.docx", score=78.5, sample=320)
    made = office.convert([typed, report], "pdf", root / "pdf")
    out = {}
    with pdfplumber.open(made[typed]) as plumbed:
        texts = ["".join(p.extract_text().split()) for p in plumbed.pages]
    pdf = pypdfium2.PdfDocument(str(made[typed]))
    for name, words in PAGES.items():
        n = next(i for i, t in enumerate(texts) if words in t)
        out[name] = jpeg(pdf[n].render(scale=DPI / 72).to_pil(), root / f"{name}.jpg")
    report_pdf = pypdfium2.PdfDocument(str(made[report]))
    out["测评报告"] = jpeg(report_pdf[0].render(scale=DPI / 72).to_pil(), root / "测评报告.jpg")
    return typed, made[report], out


def jpeg(image, path: Path) -> Path:
    from PIL import Image

    buf = io.BytesIO()
    image.convert("RGB").rotate(1.0, resample=Image.BICUBIC, fillcolor="white").save(buf, "JPEG", quality=75)
    path.write_bytes(buf.getvalue())
    return path


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


def measure(engine: str, typed: dict, pages: dict[str, Path]) -> dict:
    from pipeline.reading.readers import ocr

    original = ocr.recognise
    if engine == "tesseract":
        ocr.recognise = tesseract_lines
    try:
        ocr.recogniser() if engine == "rapidocr" else None  # model loading is not a page's cost
        start = time.perf_counter()
        forms = record([pages[n] for n in ("推荐意见表", "申请表", "承诺书")])
        report = record([pages["测评报告"]])
        seconds = (time.perf_counter() - start) / len(pages)
    finally:
        ocr.recognise = original
    total = same = 0
    wrong = []
    for form in FORMS:
        for fid, value in typed["forms"][form].items():
            if value in (None, "", []):
                continue
            total += 1
            got = forms["forms"].get(form, {}).get(fid)
            same += got == value
            if got != value:
                wrong.append(f"{form}.{fid}: {value!r} → {got!r}")
    facts = next((a for a in report["attachments"] if a.get("kind") == "survey_report"), {})
    return {"engine": engine, "fields": total, "same": same, "seconds": seconds, "wrong": wrong,
            "report": (facts.get("score"), facts.get("sample_size"))}


def main() -> None:
    engines = ["rapidocr"] + (["tesseract"] if shutil.which("tesseract") else [])
    with tempfile.TemporaryDirectory(prefix="manyi-ocr-") as tmp:
        typed_docx, _, pages = scans(Path(tmp))
        typed = record([typed_docx])
        rows = [measure(e, typed, pages) for e in engines]
    lines = ["# OCR of scanned forms", "",
             f"`python -m benchmarks.ocr` on {platform.machine()}, {platform.python_version()}; "
             f"{len(PAGES) + 1} pages (推荐意见表, 申请表, 承诺书, 测评报告) of the product packet at {DPI} dpi, "
             "turned 1°, JPEG quality 75. Fields: every non-empty field of the typed packet's three forms, "
             "compared exactly. Seconds: per page, parsing included, model loading excluded; the machine's two cores "
             "are shared with other work, so times vary by about ±50 %.", "",
             "| engine | fields exact | accuracy | 测评报告 score, sample (typed: 78.5, 320) | s / page |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['engine']} | {r['same']}/{r['fields']} | {100 * r['same'] / max(1, r['fields']):.1f} % "
                     f"| {r['report'][0]}, {r['report'][1]} | {r['seconds']:.1f} |")
    for r in rows:
        if r["wrong"]:
            lines += ["", f"{r['engine']} misread:", *[f"- {w}" for w in r["wrong"]]]
    text = "\n".join(lines) + "\n"
    (HERE / "results-ocr.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
