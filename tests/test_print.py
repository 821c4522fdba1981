"""What is printed: every document through LibreOffice once, then its fonts, pages and lines read from the PDFs.

One session fixture renders each form blank and filled with long realistic values
(tests/print_values.py), the four blank packets, a 推荐汇总表 with a long 续页, a notice of each
kind, a certificate of every program and converts them all in ONE LibreOffice batch.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pdfplumber
import pytest

from pipeline.common import office
from pipeline.definitions import forms as forms_mod
from pipeline.definitions.forms import CAMPAIGNS_DIR
from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign, zh_date
from pipeline.definitions.programs import PROGRAMS_DIR, load_program, title_for
from pipeline.word.build import template_forms, template_path
from pipeline.word.measure import MAX_WORD, label_words, text_width
from pipeline.word.styles import STYLE
from pipeline.word.plan import plan_table
from pipeline.generating.packet import render_packet, write_packets
from pipeline.word.render import PRINTED_BOX, PRINTED_TICK, compiled
from pipeline.issuing.summary_table import make_summary_tables
from pipeline.issuing.certificates import issuer_lines, print_run
from pipeline.issuing.notices import make_notices
from pipeline.issuing.program_summary import make_program_summaries
from pipeline.reading.extract import extract_document
from pipeline.reading.readers.docx import read_docx
from pipeline.reading.readers.pdf import read_pdf
from pipeline.common.text import TICKED, UNTICKED
from tests.print_values import long_rows, long_values, register_rows

pytestmark = pytest.mark.xdist_group("print")

#: Pages of each form as the seed prints it: one, except the cover (cover and 填报说明).
SEED_PAGES = {"cover": 2, "recommendation": 1, "site_inspection": 1, "application.enterprise": 1,
              "application.product": 1, "application.construction": 1, "application.service": 1,
              "implementation_status": 1, "commitment": 1, "summary_table": 1, "contract": 1}
#: Faces the documents may print in (pipeline/data/fonts/30-manyi-zh-cn.conf, `make scfonts`): the Simplified Chinese
#: ones only. No DejaVu or Liberation, and no face of the Noto CJK collections, which pdffonts names …CJKjp…
#: (pipeline/data/fonts/README.md).
ALLOWED_FACE = re.compile(r"\+(NotoSerifSC|NotoSansSC|AR-?PL-?U(Ming|Kai)-?CN|ARPLU(Ming|Kai)CN)")
ONE_LINE = ("0451-87979096", "2017年12月31日")


def product(i: int, unit: str = "哈尔滨市质量协会") -> dict:
    return {"submission_id": f"p{i}", "source": f"p{i}.zip", "category": "product", "status": "complete",
            "company_name": f"黑龙江省哈尔滨市北方重型机械装备制造集团有限责任公司{i}",
            "forms": {"cover": {"promoting_unit": unit},
                      "application": {"product_name": f"北方牌断路器{i}", "product_model": f"BFZJ-{i}"}}}


def program_record(i: int) -> dict:
    """Given a number, return a checked record of 辽宁's program that 沈阳市质量协会 recommends."""
    return {"submission_id": f"l{i}", "source": f"l{i}.zip", "category": "product", "status": "complete",
            "company_name": f"辽宁省沈阳市北方重型机械装备制造集团有限责任公司{i}",
            "forms": {"application": {"recommending_unit": "沈阳市质量协会", "product_name": f"北方牌 BFZJ-{i} 型断路器",
                                      "contact_person": "欧阳建国", "phone": "024-87979096"}}}


def failing(kind: str) -> dict:
    code = "below_threshold" if kind == "ineligible" else "missing_field"
    return {"submission_id": kind, "source": f"{kind}.docx", "category": "construction", "status": "incomplete",
            "company_name": f"龙江建工{kind}", "forms": {},
            "issues": [{"severity": "error", "code": code, "form": "application", "field": "floor_area",
                        "message": "《申请表》“建筑面积（万平方米）”为0.6；须1万平方米以上（管理办法第七条第2款）。"}]}


def certificates() -> list[dict]:
    """One certificate's context per program, its longest title and every issuer."""
    contexts = []
    for path in sorted(PROGRAMS_DIR.glob("[!_]*.yaml")):
        program = load_program(path.stem)
        for cat in program.categories.values():
            contexts.append({"company": "黑龙江省哈尔滨市北方重型机械装备制造集团有限责任公司", "item_label": "产品名称",
                             "item": "北方牌 BFZJ-2000/35 型高压真空断路器",
                             "title": title_for(program, cat.id, cat.tiers[-1].id, 2017),
                             "issuer": issuer_lines("　".join(program.get("issuers") or ["黑龙江省质量协会"])),
                             "date": zh_date(date(2017, 9, 1)), "valid_to": zh_date(date(2019, 8, 31)),
                             "number": f"{path.stem.upper()}-{cat.id.upper()}-0001"})
            break
    return contexts


#: A holder's name far longer than a certificate's two lines at its usual size.
LONG_NAME = (
    "黑龙江省哈尔滨市南岗区北方重型机械装备制造集团股份有限公司第一第二第三分公司暨龙江科技发展有限责任公司"
    "与哈尔滨工业大学质量工程研究院联合体")
#: Letters of 1 … LETTER_ITEMS items: the short ones fit a page, the longer ones run over.
LETTER_ITEMS = 8


def long_certificates() -> list[dict]:
    """Certificates of a name too long for the usual size, as the issuing library makes them (its name size)."""
    from pipeline.word.house_templates import certificate_name_size

    return [{**ctx, "company": LONG_NAME, "name_size": certificate_name_size(LONG_NAME)} for ctx in certificates()[:2]]


def many_items(n: int) -> dict:
    """Given a count, return a record with that many errors for its letter (and one warning)."""
    issues = [{"severity": "error", "code": "missing_field", "form": "application", "field": "product_name",
               "message": f"《实施全省用户满意工程先进单位（产品类）申请表》第{i}项“产品名称”未填写，请按申报通知的要求填写完整"}
              for i in range(1, n + 1)]
    issues.append({"severity": "warning", "code": "late_submission", "message": "材料于2017年6月25日收到，晚于截止日期"})
    return {"submission_id": f"m{n}", "source": f"m{n}.zip", "category": "product", "status": "incomplete",
            "company_name": f"哈尔滨北方电器有限公司{n}", "forms": {}, "issues": issues}


def program_forms_blank(folder: Path) -> dict:
    """Every form of every program's packet that is not a seed form (those are rendered above): name → (its
    template, built now, and the context of its program's campaign, blank)."""
    from pipeline.definitions.program_forms import program_forms
    from pipeline.definitions.programs import all_programs, campaign_for
    from pipeline.word.build import build_template

    folder.mkdir(parents=True, exist_ok=True)
    seed = {form.key for form in template_forms()}
    out = {}
    for program in all_programs():
        context = load_campaign(campaign_for(program.id)).context()
        for cid in program.categories:
            for form in program_forms(program, cid):
                name = f"program.{program.id}.{form.key}"
                if form.key in seed or name in out:
                    continue
                template = build_template(form, folder / f"{name}.docx")
                out[name] = (template, {"c": context, "v": {}, "rows": [{}] * int(form.get("blank_rows") or 0)})
                PROGRAM_FORMS[name] = (form, context)
    return out


#: name → (form, campaign context) of every program form in the printed batch (filled by program_forms_blank).
PROGRAM_FORMS: dict = {}


@pytest.fixture(scope="session")
def printed(tmp_path_factory):
    """Every document written and converted in one batch: name → (docx, pdf)."""
    root = tmp_path_factory.mktemp("print")
    docs = root / "docx"
    docs.mkdir()
    campaign = load_campaign(DEFAULT_CAMPAIGN)
    ctx = campaign.context()
    made: dict[str, Path] = {}
    for form in template_forms():
        for kind, values in (("long", long_values(form)), ("blank", {})):
            rows = long_rows() if kind == "long" and form.id == "respondents" else []
            made[f"{form.key}.{kind}"] = compiled(template_path(form)).render(
                {"c": ctx, "v": values, "rows": rows}, docs / f"{form.key}.{kind}.docx")
    # the register over several pages: alone with long rows, and in a packet with a third party's 70
    made["respondents.continued"] = compiled(template_path(forms_mod.load_forms()["respondents"])).render(
        {"c": ctx, "v": {}, "rows": long_rows(40)}, docs / "respondents.continued.docx")
    made["packet.continued"] = render_packet("product", {"respondents": {"respondents": register_rows(70)}},
                                             docs / "packet.continued.docx", ctx)
    liaoning = load_campaign(CAMPAIGNS_DIR / "liaoning-2021.yaml")
    made["program_summary.continued"] = make_program_summaries(
        [program_record(i) for i in range(1, 41)], root / "program_summary", liaoning).files[0]
    packets = write_packets(root / "packets", "all", campaign)
    for path in packets.files:
        made[f"packet.{path.stem}"] = (docs / f"packet.{path.stem}.docx")
        made[f"packet.{path.stem}"].write_bytes(path.read_bytes())
    tables = make_summary_tables([product(i) for i in range(1, 40)], root / "tables", campaign)
    made["summary_table.continued"] = docs / "summary_table.continued.docx"
    made["summary_table.continued"].write_bytes(tables.files[0].read_bytes())
    notices = make_notices([failing("ineligible"), failing("correction")], root / "notices", campaign,
                           today=date(2017, 6, 1))
    for path in notices.files:
        made[f"notice.{path.stem}"] = docs / f"notice.{path.stem.split('_')[-1]}.docx"
        made[f"notice.{path.stem}"].write_bytes(path.read_bytes())
    made["certificates"] = print_run(certificates(), docs / "certificates.docx", campaign)
    made["certificates.long"] = print_run(long_certificates(), docs / "certificates.long.docx", campaign)
    for n in range(1, LETTER_ITEMS + 1):
        made[f"letter.{n}"] = make_notices([many_items(n)], root / f"letter{n}", campaign, today=date(2017, 6, 1)).files[0]
    for name, (form, context) in program_forms_blank(root / "templates").items():
        made[name] = compiled(form).render(context, docs / f"{name}.docx")
    for name, font, lang in GLYPH_DOCS:
        made[name] = glyph_doc(docs / f"{name}.docx", font, lang)
    pdfs = office.convert(list(made.values()), "pdf", root / "pdf", timeout=600)
    assert all(isinstance(p, Path) for p in pdfs.values()), pdfs
    return {name: (path, pdfs[path]) for name, path in made.items()}


#: Characters whose Simplified Chinese and Japanese forms differ (骨's inner stroke, 直, 返's 辶, 说).
GLYPHS = "骨直返说"
#: The same characters as the documents print them (宋体, 黑体, zh-CN), and in the SC and JP faces of Debian's
#: Noto CJK collections named outright (files of their own, independent of the alias file).
GLYPH_DOCS = [("glyph.宋体", "宋体", "zh-CN"), ("glyph.Noto Serif CJK SC", "Noto Serif CJK SC", "zh-CN"),
              ("glyph.宋体.ja", "Noto Serif CJK JP", "ja-JP"), ("glyph.黑体", "黑体", "zh-CN"),
              ("glyph.Noto Sans CJK SC", "Noto Sans CJK SC", "zh-CN"), ("glyph.黑体.ja", "Noto Sans CJK JP", "ja-JP")]


def glyph_doc(path: Path, font: str, lang: str) -> Path:
    """Given a path, a font and an East-Asian language, write a page printing GLYPHS large in them."""
    from pipeline.word.document import append_body, new_document
    from pipeline.word.styles import LANGS
    from pipeline.word.xml import LANG, para_xml, run_xml

    document = new_document()
    xml = para_xml(run_xml(GLYPHS, font, 72)).replace(LANG, f'<w:lang w:val="{LANGS["val"]}" w:eastAsia="{lang}"/>')
    append_body(document, [xml])
    document.save(str(path))
    return path


def page_image(pdf: Path) -> bytes:
    """Given a one-page PDF, return its page as a grey bitmap (PGM) at 40 dpi."""
    return subprocess.run(["pdftoppm", "-gray", "-r", "40", "-singlefile", str(pdf)], capture_output=True,
                          check=True).stdout


def pages(pdf: Path) -> list[str]:
    """Given a PDF, return each page's text without spaces."""
    with pdfplumber.open(str(pdf)) as doc:
        return [re.sub(r"\s", "", page.extract_text() or "") for page in doc.pages]


def lines(pdf: Path) -> list[str]:
    """Given a PDF, return every printed line of every page, without spaces."""
    with pdfplumber.open(str(pdf)) as doc:
        return [re.sub(r"\s", "", line["text"]) for page in doc.pages for line in page.extract_text_lines()]


def printed_words(form) -> set[str]:
    """Given a form, return the words of the labels its tables print across (vertical ones excepted)."""
    words = set()
    for item in form.layout:
        if not (isinstance(item, dict) and "table" in item) or item["table"].get("header"):
            continue
        for row in plan_table(item["table"]):
            for slot in row:
                cell = slot.cell if isinstance(slot.cell, dict) else {}
                if slot.vertical or slot.kind not in ("label", "side"):
                    continue
                text = form.fields[slot.field].label if slot.field else (cell.get("label") if cell else slot.cell)
                words.update(w.replace(" ", "") for w in label_words(str(text))
                             if "{{" not in w and len(w.replace(" ", "")) <= MAX_WORD)
    return words


def test_fontconfig_resolves_the_word_faces_to_simplified_chinese_ones():
    """The alias file is installed (make system): 宋体 prints in a Song face, 黑体 in a Hei one, both SC."""
    expected = {"宋体": "Noto Serif SC", "SimSun": "Noto Serif SC", "黑体": "Noto Sans SC",
                "SimHei": "Noto Sans SC", "楷体": "AR PL UKai CN", "仿宋": "AR PL UMing CN"}
    found = {name: subprocess.run(["fc-match", "-f", "%{family[0]}", name], capture_output=True, text=True,
                                  check=True).stdout for name in expected}
    assert found == expected, "请运行 make fontconfig 安装 pipeline/data/fonts/30-manyi-zh-cn.conf"


def test_the_documents_print_the_simplified_forms(printed):
    """宋体 and 黑体 print the characters whose forms differ as the SC faces do, not as the JP ones: measured
    against Debian's Noto CJK SC and JP faces, a design the single-region SC faces share."""
    for face, sc in (("宋体", "Noto Serif CJK SC"), ("黑体", "Noto Sans CJK SC")):
        ours, simplified, japanese = (page_image(printed[name][1]) for name in
                                      (f"glyph.{face}", f"glyph.{sc}", f"glyph.{face}.ja"))
        assert japanese != simplified, face  # the characters do tell the two apart
        assert differing(ours, simplified) < differing(ours, japanese) / 4, f"{face} 未按简体中文字形印出"


def differing(one: bytes, other: bytes) -> int:
    """Given two grey bitmaps (PGM) of one size, return at how many pixels one is ink and the other paper
    (two font files of one design antialias their edges apart; a different stroke is ink against paper)."""
    assert len(one) == len(other)
    return sum((a < 128) != (b < 128) for a, b in zip(one, other))


NOTO = Path("/usr/share/fonts/opentype/noto")


def ttc_faces(path: Path) -> list[tuple[str, int, str]]:
    """Given an OpenType collection, return each face's (PostScript name, offset of its CFF table, the CFF's FontName)."""
    data = path.read_bytes()
    count = int.from_bytes(data[8:12], "big")
    return [face_names(data, int.from_bytes(data[12 + 4 * i: 16 + 4 * i], "big")) for i in range(count)]


def face_names(data: bytes, face: int) -> tuple[str, int, str]:
    """Given a collection's bytes and one face's offset, return its PostScript name, CFF offset and CFF FontName."""
    import struct

    number = struct.unpack(">H", data[face + 4: face + 6])[0]
    tables = {data[at: at + 4].decode(): struct.unpack(">I", data[at + 8: at + 12])[0]
              for at in range(face + 12, face + 12 + 16 * number, 16)}
    name = tables["name"]
    records, strings = struct.unpack(">HH", data[name + 2: name + 6])
    for at in range(name + 6, name + 6 + 12 * records, 12):
        platform, _, _, name_id, size, offset = struct.unpack(">6H", data[at: at + 12])
        if platform == 3 and name_id == 6:  # Windows, PostScript name, UTF-16
            ps = data[name + strings + offset: name + strings + offset + size].decode("utf-16-be")
    cff = tables["CFF "]
    index = cff + data[cff + 2]  # the Name INDEX after the header: count, offset size, offsets (1-based), names
    size = data[index + 2]
    first, second = (int.from_bytes(data[index + 3 + k * size: index + 3 + (k + 1) * size], "big") for k in (0, 1))
    names = index + 3 + 2 * size - 1
    return ps, cff, data[names + first: names + second].decode()


def test_the_noto_collections_share_one_glyph_table_named_for_the_japanese_face():
    """Why the documents print in single-region SC faces (pipeline/data/fonts/README.md): LibreOffice names a subset by its
    CFF's FontName, and every face of Debian's collections, the SC one too, shares the one CFF table named for
    the JP face, so a PDF printed in them says …CJKjp… whatever face it used."""
    for file in ("NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc", "NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"):
        faces = {ps: (cff, name) for ps, cff, name in ttc_faces(NOTO / file)}
        sc = next(ps for ps in faces if re.fullmatch(r"Noto(Serif|Sans)CJKsc-\w+", ps))
        jp = sc.replace("CJKsc", "CJKjp")
        assert faces[sc] == faces[jp] and faces[sc][1] == jp, (file, faces)


def test_every_pdf_embeds_only_the_chinese_faces(printed):
    for name, (_, pdf) in printed.items():
        if name.startswith("glyph."):
            continue  # the references of the glyph test, printed in the Noto CJK faces on purpose
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        fonts = listing.splitlines()[2:]
        assert fonts, name
        for line in fonts:
            assert ALLOWED_FACE.search(line.split()[0]), f"{name}: {line}"  # no DejaVu, Liberation, TW/HK/JP face
            assert line.split()[-5] == "yes", f"{name} does not embed {line}"


def test_each_form_of_the_seed_keeps_its_pages_blank_and_filled_with_long_values(printed):
    for key, expected in SEED_PAGES.items():
        for kind in ("blank", "long"):
            got = len(pages(printed[f"{key}.{kind}"][1]))
            assert got == expected, f"{key} {kind}: {got} pages"


def test_no_label_breaks_inside_a_word_and_phones_and_dates_stay_on_one_line(printed):
    forms = forms_mod.load_forms()
    for form in template_forms():
        printed_lines = lines(printed[f"{form.key}.long"][1])
        text = "\n".join(printed_lines)
        broken = [w for w in printed_words(form) if w not in text]
        assert not broken, f"{form.key}: {broken}"
        # a date written in another field's printed 年 月 日 slot has no value cell of its own
        kinds = {f.format or f.type for f in forms[form.key].fields.values() if not f.slot}
        for sample, kind in zip(ONE_LINE, ("phone", "date")):
            if kind in kinds:
                assert any(sample in line for line in printed_lines), f"{form.key}: {sample} wraps"


def test_a_packet_numbers_its_pages_after_the_cover(printed):
    for cid, name in forms_mod.categories().items():
        texts = pages(printed[f"packet.{name}申报材料"][1])
        total = len(texts)
        assert f"第1页共{total}页" not in texts[0]  # the cover carries none
        for n, page in enumerate(texts[1:], start=2):
            assert page.endswith(f"第{n}页共{total}页"), (name, n, page[-20:])


def test_the_continuation_repeats_title_unit_and_heads_and_has_its_stamp_line(printed):
    texts = pages(printed["summary_table.continued"][1])
    assert len(texts) >= 3 and "（续页）" not in texts[0]
    for page in texts[1:]:
        assert "推荐汇总表（续页）" in page and "推荐单位：哈尔滨市质量协会" in page and "类别序号名称" in page
    assert "有限责任公司39：北方牌断路器3" in texts[-1] and "BFZJ-39" in texts[-1]  # company：item, the last
    assert texts[-1].endswith(f"推荐单位（公章）年月日第{len(texts)}页共{len(texts)}页")
    assert "共推动（）家企业" in texts[0]  # the unit's own figures: left for it to write
    assert texts[0].endswith(f"第1页共{len(texts)}页")  # no longer one page: numbered from the first


def test_each_notice_kind_and_every_programs_certificate_print_on_their_pages(printed):
    ineligible, correction = (pages(printed[f"notice.{k}"][1]) for k in
                              ("龙江建工ineligible_不符合申报条件告知书", "龙江建工correction_补正通知"))
    assert ineligible[0].startswith("不符合申报条件告知书") and "请于" not in "".join(ineligible)
    assert correction[0].startswith("补正通知") and "补正要求：" in "".join(correction)
    certs = pages(printed["certificates"][1])
    assert len(certs) == len(certificates())
    for page, ctx in zip(certs, certificates()):
        assert f"“{ctx['title'].replace(' ', '')}”" in page and "（盖章）" not in page


def test_boxes_print_in_glyphs_the_chinese_faces_have_and_the_readers_take():
    assert PRINTED_BOX in UNTICKED and PRINTED_TICK in TICKED
    for glyph in (PRINTED_BOX, PRINTED_TICK):
        faces = subprocess.run(["fc-list", f":charset={ord(glyph):x}", "family"], capture_output=True, text=True,
                               check=True).stdout
        assert "Noto Serif SC" in faces and "Noto Sans SC" in faces, glyph


def test_blank_dates_print_year_month_day_and_the_prefilled_ones_their_value(printed):
    cover, commitment = pages(printed["cover.blank"][1])[0], pages(printed["commitment.blank"][1])[0]
    assert cover.endswith("填表日期年月日") and commitment.endswith("承诺企业（盖章）：日期：年月日")
    assert "填表日期2017年12月31日" in pages(printed["cover.long"][1])[0]


REGISTER = "被访者信息登记（样）表"
REGISTER_HEAD = "序号姓名联系方式调查方式调查时间工作单位"


def test_a_register_over_several_pages_repeats_its_title_with_continued_and_its_header_row(printed):
    for name, count in (("respondents.continued", 40), ("packet.continued", 70)):
        texts = pages(printed[name][1])
        register = [page for page in texts if REGISTER in page]
        assert len(register) >= 3, name
        first, *rest = register
        assert first.startswith(REGISTER + REGISTER_HEAD) and "（续）" not in first, name
        for n, page in enumerate(rest, start=2):  # a table that ran over its page would start one with rows
            assert page.startswith(f"{REGISTER}（续）{REGISTER_HEAD}"), (name, n, page[:40])
        assert "注：1." in register[-1] and not any("注：1." in page for page in register[:-1]), name
        seqs = [int(s) for page in register for s in re.findall(r"(?:^|[^\d])(\d{1,3})(?=欧阳)", page)]
        assert seqs == list(range(1, count + 1)), name  # every row printed once, in order


def test_a_register_over_several_pages_is_read_back_row_by_row_without_its_titles_and_heads(printed):
    for name, count in (("respondents.continued", 40), ("packet.continued", 70)):
        docx, pdf = printed[name]
        for doc in (read_docx(docx, docx.name), read_pdf(pdf, pdf.name)):
            rows = [values for form, values in extract_document(doc) if form.key == "respondents"]
            assert len(rows) == 1, (name, doc.source)
            assert [r["seq"] for r in rows[0]] == list(range(1, count + 1)), (name, doc.source)
            assert {r["name"][:2] for r in rows[0]} == {"欧阳"}, (name, doc.source)


def test_a_programs_summary_over_several_pages_repeats_its_title_with_continued_and_keeps_names_and_phones_whole(
        printed):
    texts = pages(printed["program_summary.continued"][1])
    title, head = "2021年度辽宁省用户满意称号（标杆）推荐评定推荐汇总表", "序号申报单位（个人）申报类别申报等级"
    assert len(texts) >= 2 and texts[0].startswith(title + "推荐单位（盖章）：沈阳市质量协会") and head in texts[0][:80]
    for page in texts[1:]:  # (the two-line head 申报产品、/工程或服务 reads around the others)
        assert page.startswith(f"{title}（续）") and head in page[:60], page[:60]
    printed_lines = lines(printed["program_summary.continued"][1])
    assert sum("欧阳建国024-87979096" in line for line in printed_lines) == 40  # neither name nor phone wraps
    assert "推荐单位（公章）" not in texts[-1] and texts[-1].rstrip("0123456789页共第").endswith("年月日")


# --- every label of every form, once and whole; certificates and letters on their pages -------------------------

#: Layout keys whose strings the form prints besides its field labels (titles, notes, hints, seal lines …).
PRINTED_KEYS = ("title", "text", "label", "notes", "para", "hint", "footer", "sign", "printed", "subtitle")


def layout_strings(node) -> list[str]:
    """Given a form's layout (or part of it), return the texts it prints besides the field labels."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PRINTED_KEYS:
                found += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
                    if isinstance(value, list) else []
            if isinstance(value, (dict, list)):
                found += layout_strings(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, str) and not item.startswith("="):
                found.append(item)
            else:
                found += layout_strings(item)
    return found


def layout_cells(node):
    """Given a layout (or part of it), yield every table cell written as a dict."""
    if isinstance(node, dict):
        if "field" in node or "value" in node:
            yield node
        for value in node.values():
            yield from layout_cells(value)
    elif isinstance(node, list):
        for item in node:
            yield from layout_cells(item)


def form_labels(form) -> tuple[list[str], set[str]]:
    """Given a form, return the labels it prints (its description's: word.build.printed_labels) without the
    fields printed only as a value (a 自评表's 证明材料 cell), and which of them print vertically."""
    from pipeline.word.build import printed_labels

    cells = list(layout_cells(form.layout))
    value_only = {c["value"] for c in cells if "value" in c} - {c.get("field") for c in cells}
    vertical = {form.fields[c["field"]].label for c in cells if c.get("vertical") and c.get("field") in form.fields}
    hidden = {form.fields[f].label for f in value_only if f in form.fields}
    labels = [label for label in printed_labels(form) if label not in hidden]
    return labels, {label for label in labels if label in vertical or "\n" in label}


def docx_text(path: Path) -> str:
    """Given a .docx, return the text of its paragraphs (tables' included), one a line."""
    import zipfile

    from lxml import etree

    ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    root = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    def text(p):
        return "".join("\n" if el.tag.endswith("}br") else (el.text or "") for el in p.iter(f"{{{ns['w']}}}t", f"{{{ns['w']}}}br"))

    return "\n".join(text(p) for p in root.iter(f"{{{ns['w']}}}p"))


def every_form(printed) -> list[tuple[str, object]]:
    """Every form of every program with the name of its blank print: the seed's, and the programs' generated ones."""
    return [(f"{form.key}.blank", form) for form in template_forms()] + \
        [(name, form) for name, (form, _) in PROGRAM_FORMS.items()]


def test_every_label_of_every_form_prints_once_and_whole_on_one_line(printed):
    assert len(PROGRAM_FORMS) > 40  # every program's forms were in the batch
    problems = []
    for name, form in every_form(printed):
        docx, pdf = printed[name]
        pdf_text = "".join(pages(pdf))
        pdf_lines = lines(pdf)
        doc_lines = re.sub(r"[ \t\u3000]", "", docx_text(docx)).split("\n")
        text = "".join(doc_lines)
        labels, vertical = form_labels(form)
        keys = [re.sub(r"\s", "", label) for label in labels]
        others = [re.sub(r"\s", "", s.replace("{{ c.year }}", "")) for s in layout_strings(form.layout)]
        rest = text
        for key in sorted(keys, key=len, reverse=True):  # each printing of a label takes one occurrence
            if key not in rest:
                problems.append(f"{name}: “{key}” not printed")
            rest = rest.replace(key, "\0", 1)
        for label, key in zip(labels, keys):
            extra = sum(o.count(key) for o in others)
            if rest.count(key) > extra:
                problems.append(f"{name}: “{key}” printed {rest.count(key) - extra} more time(s) than the form has it")
            if label in vertical:
                continue  # read down, not across: its lines are checked in the template (test_layout)
            if key in form.detect and text_width(key, STYLE.title_size) > STYLE.printed_width:
                continue  # a title longer than the page is wide: it wraps
            if any(len(word.replace(" ", "")) > MAX_WORD for word in label_words(label)):
                continue  # a phrase (企业用户满意工程推进情况统计) may wrap anywhere in its cell
            whole = sum(line.count(key) for line in doc_lines)
            if not whole:  # broken between words by the template (wrap_label): each line whole in print
                pieces = [line for line in doc_lines if line and line in key and len(line) > 1]
                problems += [f"{name}: “{piece}” of “{key}” breaks over two lines" for piece in pieces
                             if not any(piece in printed_line for printed_line in pdf_lines)]
                continue
            if sum(line.count(key) for line in pdf_lines) != whole:
                problems.append(f"{name}: “{key}” whole on a line {sum(line.count(key) for line in pdf_lines)} "
                                f"time(s) in the PDF, {whole} in the document")
    assert not problems, "\n".join(problems)


def test_the_checklists_options_never_break_inside_one(printed):
    names = [name for name, form in every_form(printed) if form.id == "checklist"]
    assert len(names) >= 5 * 2
    for name in names:
        printed_lines = lines(printed[name][1])
        ticks = [line for line in printed_lines if "□" in line]
        assert ticks and all(re.fullmatch(r"(.*?□(符合|不符合|不适用))+.*?", line.split("□", 1)[0] + "□" +
                                          line.split("□", 1)[1]) for line in ticks), name
        text = "".join(printed_lines)
        assert text.count("□不符合") == text.count("□符合") > 0, name  # every row's 不符合 whole on its line


def test_a_long_name_shrinks_and_its_certificate_stays_one_page_with_number_and_validity(printed):
    texts = pages(printed["certificates.long"][1])
    assert len(texts) == len(long_certificates())
    for page, ctx in zip(texts, long_certificates()):
        assert LONG_NAME in page and ctx["number"] in page and f"有效期至{ctx['valid_to']}" in page
    assert long_certificates()[0]["name_size"] < 24  # shrunk from the usual size


def test_the_certificate_frame_is_the_same_on_both_sides(printed):
    with pdfplumber.open(str(printed["certificates"][1])) as doc:
        page = doc.pages[0]
        # The frame's vertical strokes: rectangles or lines taller than half the page.
        strokes = [(round(o["x0"], 1), round(o["x1"] - o["x0"], 1)) for o in page.rects + page.lines
                   if o["bottom"] - o["top"] > page.height / 2]
    assert len(strokes) >= 2, strokes
    left = sorted((x, w) for x, w in strokes if x < page.width / 2)
    right = sorted(((round(page.width - x - w, 1), w) for x, w in strokes if x > page.width / 2))
    # Seen from the page's edge, left and right are alike: the same widths at the same distances.
    assert [w for _, w in left] == [w for _, w in right]
    assert all(abs(a - b) < 1.0 for (a, _), (b, _) in zip(left, right)), (left, right)


def test_titles_print_without_a_space_after_the_year():
    for path in sorted(PROGRAMS_DIR.glob("[!_]*.yaml")):
        program = load_program(path.stem)
        for cat in program.categories.values():
            for tier in cat.tiers:
                title = title_for(program, cat.id, tier.id, 2021)
                assert not re.search(r"年度\s", title), title


def test_a_letters_contact_block_and_signature_never_stand_alone_on_a_page(printed):
    counts = []
    for n in range(1, LETTER_ITEMS + 1):
        texts = pages(printed[f"letter.{n}"][1])
        counts.append(len(texts))
        assert "联系单位：" in texts[-1] and texts[-1].rstrip("0123456789").endswith("2017年6月1日")
        if len(texts) > 1:  # page 2 starts with the letter's items, not with 联系方式
            last = texts[-1]
            assert re.match(r"\d+．", last) or last.startswith(("补正要求", "二、")), (n, last[:40])
            assert "补正要求：" in last or "材料于" in last, (n, last[:60])
    assert counts[:3] == [1, 1, 1]  # a typical letter is one page
