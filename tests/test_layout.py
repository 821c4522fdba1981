"""Form templates built from forms/: labels, fonts, page, grid, merges."""

import zipfile

import pytest
from lxml import etree

from pipeline.common.text import fold
from pipeline.definitions.forms import load_forms
from pipeline.word.build import build_template, outline_lines, printed_labels, template_forms, template_path
from pipeline.word.plan import plan_table
from pipeline.word.styles import STYLE

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FORMS = template_forms()


def document(path, part="word/document.xml"):
    with zipfile.ZipFile(path) as zf:
        return etree.fromstring(zf.read(part))


def text_of(root) -> str:
    return "".join(t.text or "" for t in root.iter(f"{W}t"))


@pytest.fixture(scope="session")
def fresh(tmp_path_factory):
    """Every form's template, built now from forms/ (the committed ones are checked separately)."""
    folder = tmp_path_factory.mktemp("templates")
    forms = load_forms()
    return {form.key: build_template(form, template_path(form, folder), forms) for form in FORMS}


def test_every_form_with_a_layout_has_a_committed_template():
    assert {f.key for f in FORMS} >= {"cover", "recommendation", "site_inspection", "application.enterprise",
                                     "application.product", "application.construction", "application.service",
                                     "implementation_status", "commitment", "respondents", "summary_table", "contract"}
    for form in FORMS:
        assert template_path(form).is_file(), f"missing templates/{form.key}.docx: run manyi templates build"


@pytest.mark.parametrize("key", [f.key for f in FORMS])
def test_committed_template_holds_every_label_of_its_form(key):
    """forms/ and templates/ cannot drift apart: every label (or option of a bare field) is printed."""
    text = fold(text_of(document(template_path(key))))
    missing = [label for label in printed_labels(load_forms()[key]) if fold(label) not in text]
    assert not missing, f"{key}.docx lacks {missing}"


def test_bare_fields_print_their_options_not_their_label():
    labels = printed_labels(load_forms()["cover"])
    assert {"企业类", "产品类", "建筑工程类", "服务类"} <= set(labels) and "类别" not in labels
    text = text_of(document(template_path("cover")))
    assert "{{ box(v, 'category', 'enterprise') }}企业类" in text


def test_yesno_boxes_are_called_with_booleans():
    text = text_of(document(template_path("recommendation")))
    assert "{{ box(v, 'compliant', true) }}符合" in text and "{{ box(v, 'compliant', false) }}不符合" in text


@pytest.mark.parametrize("key", [f.key for f in FORMS])
def test_every_run_has_east_asian_and_latin_fonts(fresh, key):
    for path in (fresh[key], template_path(key)):
        runs = list(document(path).iter(f"{W}r"))
        assert runs
        for run in runs:
            fonts = run.find(f"{W}rPr/{W}rFonts")
            assert fonts is not None and fonts.get(f"{W}eastAsia") in ("宋体", "黑体"), path
            assert fonts.get(f"{W}ascii") and fonts.get(f"{W}hAnsi")


def test_titles_are_heiti_bold_and_centred(fresh):
    title = next(document(fresh["recommendation"]).iter(f"{W}p"))
    assert title.find(f"{W}pPr/{W}jc").get(f"{W}val") == "center"
    run = title.find(f"{W}r")
    assert run.find(f"{W}rPr/{W}rFonts").get(f"{W}eastAsia") == "黑体" and run.find(f"{W}rPr/{W}b") is not None


def test_normal_style_and_defaults_name_the_east_asian_font(fresh):
    styles = document(fresh["cover"], "word/styles.xml")
    defaults = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
    normal = next(s for s in styles.iter(f"{W}style") if s.get(f"{W}styleId") == "Normal")
    for fonts in (defaults, normal.find(f"{W}rPr/{W}rFonts")):
        assert fonts.get(f"{W}eastAsia") == STYLE.body_font and fonts.get(f"{W}ascii") == STYLE.body_font
        assert fonts.get(f"{W}eastAsiaTheme") is None


def test_a4_portrait_rows_never_split_and_single_borders(fresh):
    root = document(fresh["application.enterprise"])
    size = root.find(f".//{W}sectPr/{W}pgSz")
    assert abs(int(size.get(f"{W}w")) - 11906) < 5 and abs(int(size.get(f"{W}h")) - 16838) < 5
    rows = list(root.iter(f"{W}tr"))
    assert rows and all(r.find(f"{W}trPr/{W}cantSplit") is not None for r in rows)
    top = root.find(f".//{W}tblBorders/{W}top")
    assert top.get(f"{W}val") == "single" and top.get(f"{W}sz") == "4"


def test_every_planned_row_fills_the_table_width():
    for form in FORMS:
        for item in form.layout:
            if isinstance(item, dict) and "table" in item and not item["table"].get("header"):
                for row in plan_table(item["table"]):
                    assert sum(s.span for s in row) == item["table"]["cols"], form.key


def test_side_labels_are_vertical_merges_printed_one_character_per_line(fresh):
    table = next(document(fresh["application.enterprise"]).iter(f"{W}tbl"))
    rows = table.findall(f"{W}tr")
    start = next(i for i, r in enumerate(rows) if text_of(r.find(f"{W}tc")) == "工业企业填写")
    first = rows[start].find(f"{W}tc")
    assert first.find(f"{W}tcPr/{W}vMerge").get(f"{W}val") == "restart"
    assert len(first.findall(f".//{W}br")) == len("工业企业填写") - 1
    for row in rows[start + 1: start + 5]:
        merge = row.find(f"{W}tc/{W}tcPr/{W}vMerge")
        assert merge is not None and merge.get(f"{W}val") in (None, "continue")
    assert rows[start + 5].find(f"{W}tc/{W}tcPr/{W}vMerge").get(f"{W}val") == "restart"  # 建筑企业填写


def test_last_cell_stretches_with_grid_span(fresh):
    table = next(document(fresh["application.product"]).iter(f"{W}tbl"))
    email_row = next(r for r in table.findall(f"{W}tr") if "电  子  信  箱" in text_of(r))
    cells = email_row.findall(f"{W}tc")
    assert len(cells) == 2
    spans = [int(c.find(f"{W}tcPr/{W}gridSpan").get(f"{W}val")) for c in cells]
    assert sum(spans) == 5


def test_report_outline_printed_from_report_yaml():
    lines = outline_lines(load_forms()["report"])
    assert lines[0] == "1、企业概貌（300字）；"
    assert "3、实施用户满意工程的主要目标、措施和经验（3300-4300字）" in lines
    assert any(line.strip() == "3.10持续改进（利用测量分析结果所实施的改进情况）" for line in lines)
    assert lines[-1] == "4、主要成果与展望（400字）。"
    text = text_of(document(template_path("implementation_status")))
    assert "字数不超过5000" in text and "3.4顾客需求获取与分析" in text


def test_list_form_loops_over_its_rows_page_by_page(fresh):
    text = text_of(document(fresh["respondents"]))
    assert "{%p for page in row_pages(rows, " in text and "{%p endfor %}" in text
    assert "{%tr for r in page %}" in text and "{{ r.survey_date }}" in text and "{%tr endfor %}" in text
    assert "{%tr if not loop.first %}被访者信息登记（样）表（续）{%tr endif %}" in text


def test_campaign_values_stay_placeholders_in_templates(fresh):
    text = text_of(document(fresh["contract"]))
    assert "{{ c.fee }}" in text and "{{ c.association.account }}" in text and "2000" not in text


# --- widths that follow the content (issue 21) ----------------------------------------------------


def test_label_words_break_only_between_words():
    from pipeline.word.measure import label_words

    assert label_words("通  信  地  址") == ["通  信  地  址"]  # letter-spacing is not a break
    assert label_words("全员劳产率 元／人") == ["全员劳产率", "元／人"]
    assert label_words("三年有无重大安全、质量事故") == ["三年有无重大安全、", "质量事故"]
    assert label_words("年 产 量（台件）") == ["年 产 量", "（台件）"]
    assert label_words("证实性材料\n复核情况") == ["证实性材料", "复核情况"]


def test_a_label_too_wide_for_its_cell_is_broken_between_words_and_kept_when_it_fits():
    from pipeline.word.measure import wrap_label

    assert wrap_label("工程建筑面积（平方米）", 3.0, 10.5) == "工程建筑面积\n（平方米）"
    assert wrap_label("工程建筑面积（平方米）", 6.0, 10.5) == "工程建筑面积（平方米）"
    assert wrap_label("负责申报部门名称", 2.0, 10.5) == "负责申报部门名称"  # one word: never split


def test_long_vertical_labels_read_line_by_line_and_brackets_turn():
    from pipeline.word.measure import vertical_lines

    # Two a line in reading order: the seed's column order (获优/地质…) read across as 获优地质区工、程行情业况.
    assert vertical_lines("获地区、行业优质工程情况") == ["获地", "区、", "行业", "优质", "工程", "情况"]
    assert vertical_lines("制定服务规范情况", columns=2) == ["制定", "服务", "规范", "情况"]
    assert vertical_lines("委托方（甲方）") == ["委", "托", "方", "︵", "甲", "方", "︶"]


def test_label_columns_get_what_their_labels_need_and_values_share_the_rest():
    from pipeline.word.measure import fitted_widths

    widths = fitted_widths([1.0, 4.0, 1.0, 4.0], [3.0, 1.0, 3.0, 2.0], {0, 2}, 16.0)
    assert widths[0] == widths[2] == 3.0  # the label columns: their need, more than the layout gave
    assert widths[1] == widths[3] == 5.0  # the values: the rest, in the layout's proportions
    narrow = fitted_widths([1.0, 4.0, 1.0, 1.0], [3.0, 1.0, 3.0, 4.0], {0, 2}, 16.0)
    assert narrow[3] == 4.0 and narrow[1] == 6.0  # a value column keeps its own need (a phone on one line)


def test_the_enterprise_form_fits_its_labels_and_a_phone():
    from pipeline.word.measure import label_columns, min_widths, table_widths

    form = load_forms()["application.enterprise"]
    table = next(item["table"] for item in form.layout if isinstance(item, dict) and "table" in item)
    plan = plan_table(table)
    widths, need = table_widths(table, form, plan), min_widths(plan, form, 8, float(table["size"]))
    assert round(sum(widths), 1) == 17.2
    assert all(w >= n - 0.01 for w, n in zip(widths, need)), (widths, need)
    assert label_columns(plan) == {0, 1, 3, 5, 6}


# --- the pages of a list table (issue 21) ---------------------------------------------------------


def register_columns():
    """The 被访者信息登记表's columns as its template's row_pages tag names them: (field ids, widths, room, tail)."""
    import ast
    import re

    text = text_of(document(template_path("respondents")))
    ids, widths, room, tail, _ = re.search(r"row_pages\(rows, (\[.*?\]), (\[.*?\]), ([\d.]+), ([\d.]+), ([\d.]+)\)",
                                           text).groups()
    return ast.literal_eval(ids), ast.literal_eval(widths), float(room), float(tail)


def test_a_cell_prints_in_as_many_lines_as_its_words_need():
    from pipeline.word.measure import text_lines

    assert text_lines("13900000001", 3.4, 10.5) == 1
    assert text_lines("0451-87979096转8001", 3.4, 10.5) == 2  # the number stays whole, 转8001 goes below
    assert text_lines("黑龙江省哈尔滨市北方重型机械装备制造集团有限责任公司", 4.0, 10.5) == 3
    assert text_lines("甲\n乙", 4.0, 10.5) == 2 and text_lines("", 4.0, 10.5) == 1
    assert text_lines("x" * 80, 2.0, 10.5) >= 4  # a word wider than the cell (80 × 0.22 cm) breaks inside


def test_register_rows_fill_each_page_and_the_notes_keep_the_last_rows_company():
    from pipeline.word.measure import row_height
    from pipeline.word.paginate import row_pages

    ids, widths, room, tail = register_columns()
    short = {"seq": 1, "name": "周霞娜", "contact": "13900000001", "survey_method": "电话访问", "survey_date": "2017-02-02"}
    tall = {**short, "employer": "黑龙江省哈尔滨市北方重型机械装备制造集团有限责任公司"}
    per_page = int(room // row_height(short, ids, widths, 10.5))
    assert 25 <= per_page <= 35 and row_height(tall, ids, widths, 10.5) > row_height(short, ids, widths, 10.5)
    rows = [dict(short, seq=n) for n in range(1, 3 * per_page)]
    pages = row_pages(rows, ids, widths, room, tail)
    assert [r for page in pages for r in page] == rows  # every row once, in order
    assert [len(p) for p in pages[:2]] == [per_page, per_page]
    assert len(row_pages([tall] * per_page, ids, widths, room, tail)[0]) < per_page
    # a full last page: its last row goes over with the notes, which would not fit under it
    assert [len(p) for p in row_pages(rows[:per_page], ids, widths, room, tail)] == [per_page - 1, 1]
    assert [len(p) for p in row_pages(rows[:per_page], ids, widths, room, 0)] == [per_page]
    assert row_pages([], ids, widths, room, tail) == [[]]  # the blank form still prints its header
    assert len(row_pages([{}] * 15, ids, widths, room, tail)) == 1  # the packet's 15 blank rows: one page


def test_the_page_is_measured_with_the_spacing_the_builder_writes():
    """paginate.item_height and build.item_xml read one style table: each item's measured height is its printed
    paragraphs' size, line spacing and spacing before and after, as written."""
    from pipeline.word.build import item_xml
    from pipeline.word.paginate import item_height
    from pipeline.word.styles import AUTO_LINE, PT_CM, STYLE

    form = load_forms()["cover"]
    items = [{"title": "表", "before": 4}, {"subtitle": "一、概况"}, {"para": "正文"}, {"notes": ["注：", "1．说明"]},
             {"sign": "申报单位（盖章）"}]
    for item in items:
        points = 0.0
        for xml in item_xml(item, form, {}):
            p = etree.fromstring(xml.replace(">", f' xmlns:w="{W[1:-1]}">', 1))
            spacing = p.find(f"{W}pPr/{W}spacing")
            line = int(spacing.get(f"{W}line")) / AUTO_LINE if spacing.get(f"{W}lineRule") == "auto" else 1
            size = int(p.find(f".//{W}sz").get(f"{W}val")) / 2
            points += size * STYLE.line_em * line + (int(spacing.get(f"{W}before")) + int(spacing.get(f"{W}after"))) / 20
        assert item_height(item, STYLE.printed_width) == pytest.approx(points * PT_CM), item
