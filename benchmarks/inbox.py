"""A synthetic inbox of N realistic filled submissions, from the project's own templates.

Expensive documents are made a few times only: one *base* per kind (a whole packet per category,
a split set, a respondent list) is rendered with `tests/corpus.py` and the packet templates,
with a marker in the company name. Each of the N submissions is a copy whose marker is replaced
by a number written in Chinese digits (document.xml rewritten, the zip re-packed), so every
submission has its own company and no duplicate_application issue is raised.

Kinds of entry:
- `whole`: one .docx holding the category's packet (pre-filled, 50–200 respondents), the
  实施用户满意工程情况的报告 and the 技术服务委托合同书;
- `split`: a folder, one .docx per form (the seed's layout), respondents in an .xlsx;
- `old`: .doc forms and an .xls respondent list, made by ONE LibreOffice batch per target.
"""

from __future__ import annotations

import copy
import shutil
import sys
import zipfile
from pathlib import Path

from lxml import etree

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

import corpus  # noqa: E402 - tests/corpus.py: the project's fixture generator

MARK = "甲乙丙丁"
DIGITS = "〇一二三四五六七八九"
CATEGORIES = ("enterprise", "product", "construction", "service")
RESPONDENT_COUNTS = (60, 120, 200, 80)
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def code(n: int) -> str:
    """Given a number below 10000, return it as four Chinese digits ('〇〇一二')."""
    return "".join(DIGITS[int(d)] for d in f"{n:04d}")


def company(category: str) -> str:
    """Given a category, return the marked company name its bases are filled with."""
    kind = {"enterprise": "电力设备", "product": "电器", "construction": "建设", "service": "家电服务"}[category]
    return f"哈尔滨{MARK}{kind}有限公司"


# --- bases ---------------------------------------------------------------------------------------


def _body(path: Path) -> tuple[dict, etree._Element]:
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    return parts, etree.fromstring(parts["word/document.xml"])


def append_documents(first: Path, others: list[Path], out: Path) -> Path:
    """Given a .docx and more, write `out`: the first with the others' bodies after it, a page break before each."""
    parts, root = _body(first)
    body = root.find(f"{{{W}}}body")
    sect = body.find(f"{{{W}}}sectPr")
    for other in others:
        brk = etree.SubElement(etree.SubElement(etree.Element(f"{{{W}}}p"), f"{{{W}}}r"), f"{{{W}}}br")
        brk.set(f"{{{W}}}type", "page")
        sect.addprevious(brk.getparent().getparent())
        for child in _body(other)[1].find(f"{{{W}}}body"):
            if child.tag != f"{{{W}}}sectPr":
                sect.addprevious(copy.deepcopy(child))
    parts["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out


def whole_base(category: str, rows: int, scratch: Path) -> Path:
    """Given a category and a respondent count, write one whole-packet .docx (packet + report + contract)."""
    from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
    from pipeline.generating.packet import render_form

    name = company(category)
    values = corpus.packet_values(category, company=name, respondents=corpus.respondents(rows, seed=rows),
                                  recommendation__valid_questionnaires=rows)
    packet = corpus.template_packet(scratch / f"{category}-packet.docx", category, values)
    report = corpus.report_docx(scratch / f"{category}-report.docx", name)
    contract_values = {"company_name": name, **{k: corpus.COMMON[k] for k in ("legal_representative", "phone",
                                                                             "postcode", "address")},
                       "agent": "李红", "contact_org": "质量管理部", "fax": "0451-87654322",
                       "bank": "中国工商银行哈尔滨南岗支行", "account": "3500041209000123456"}
    contract = render_form("contract", scratch / f"{category}-contract.docx", load_campaign(DEFAULT_CAMPAIGN).context(),
                           contract_values)
    return append_documents(packet, [report, contract], scratch / f"whole-{category}-{rows}.docx")


def split_base(category: str, rows: int, scratch: Path) -> Path:
    """Given product or construction, write a folder of one seed-layout .docx per form, respondents as .xlsx."""
    folder = scratch / f"split-{category}"
    folder.mkdir(parents=True, exist_ok=True)
    values = corpus.packet_values(category, company=company(category), respondents=corpus.respondents(rows, seed=3),
                                  recommendation__valid_questionnaires=rows)
    for form in corpus.SEED_FORMS:
        if form == "respondents" or (form == "site_inspection" and category != "construction"):
            continue
        corpus.seed_packet(folder / f"{form}.docx", category, values, style="square", only=(form,))
    corpus.respondents_xlsx(folder / "被访者信息登记表.xlsx", values["respondents"], title=True)
    corpus.report_docx(folder / "实施用户满意工程情况的报告.docx", company(category))
    return folder


# --- copies --------------------------------------------------------------------------------------


def stamp(src: Path, dest: Path, n: int) -> Path:
    """Given a base .docx (or any file), write `dest` with the company marker replaced by number n."""
    if src.suffix != ".docx":
        shutil.copyfile(src, dest)
        return dest
    mark, new = MARK.encode(), code(n).encode()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".xml"):
                data = data.replace(mark, new)
            zout.writestr(info.filename, data)
    return dest


def whole_bases(scratch: Path) -> list[Path]:
    """Given a scratch folder, write the four whole-packet bases (one per category); return them."""
    scratch.mkdir(parents=True, exist_ok=True)
    return [whole_base(c, r, scratch) for c, r in zip(CATEGORIES, RESPONDENT_COUNTS)]


def whole_inbox(folder: Path, n: int, bases: list[Path]) -> list[Path]:
    """Given an empty folder, n and the whole-packet bases, write n single-.docx submissions; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    return [stamp(bases[i % len(bases)], folder / f"{i:04d}-申报材料.docx", i) for i in range(n)]


def old_format_inbox(folder: Path, n_doc: int, n_xls: int, scratch: Path) -> list[Path]:
    """Given an empty folder, write n_doc .doc and n_xls .xls submissions (one LibreOffice batch per target)."""
    from pipeline.common import office

    folder.mkdir(parents=True, exist_ok=True)
    base = split_base("product", 120, scratch / "old")
    forms = sorted(p for p in base.glob("*.docx"))
    docx = [stamp(forms[i % len(forms)], scratch / "old" / f"doc-{i:03d}.docx", 1000 + i) for i in range(n_doc)]
    xlsx = []
    for i in range(n_xls):
        xlsx.append(corpus.respondents_xlsx(scratch / "old" / f"xls-{i:03d}.xlsx",
                                            corpus.respondents(50 + 50 * (i % 4), seed=i), title=True))
    made = {**office.convert(docx, "doc", scratch / "old" / "doc"), **office.convert(xlsx, "xls", scratch / "old" / "xls")}
    out = []
    for src, result in made.items():
        if not isinstance(result, Path):
            raise RuntimeError(f"LibreOffice could not make {src.name}: {result}")
        out.append(Path(shutil.move(str(result), folder / result.name)))
    return sorted(out)


def mixed_inbox(folder: Path, n: int, bases: list[Path], scratch: Path) -> None:
    """Given an empty folder, write n submissions of every kind: whole .docx (70 %), split folders with
    an .xlsx respondent list (25 %), and a few folders holding a .doc form (5 %, one LibreOffice batch)."""
    from pipeline.common import office

    folder.mkdir(parents=True, exist_ok=True)
    splits = [split_base(c, r, scratch / "mixed") for c, r in (("product", 150), ("construction", 50))]
    docs = []
    for i in range(n):
        kind = i % 20
        if kind < 14:
            stamp(bases[i % len(bases)], folder / f"{i:04d}-申报材料.docx", 2000 + i)
            continue
        sub = folder / f"{i:04d}-分文件"
        sub.mkdir()
        for path in sorted(splits[i % 2].iterdir()):
            stamp(path, sub / path.name, 2000 + i)
        if kind == 19:  # the 申请表 came as .doc
            docs.append(sub / "application.docx")
    made = office.convert(docs, "doc", scratch / "mixed" / "doc")
    for src in docs:
        result = made[src]
        if not isinstance(result, Path):
            raise RuntimeError(f"LibreOffice could not make {src.name}: {result}")
        shutil.move(str(result), src.with_suffix(".doc"))
        src.unlink()
