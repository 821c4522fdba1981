"""The token pass for plain Word documents gives exactly the tree reader's blocks, or steps aside."""

from __future__ import annotations

import re
import zipfile

import build_inputs as b
import pytest

from pipeline.common.safety import LIMITS
from pipeline.reading.readers import Unreadable
from pipeline.reading.readers.docx import SYMBOL_FONTS, main_part, read_docx, tree_blocks
from pipeline.reading.readers.docx_plain import _SKIP, TOKENS, plain_blocks

P, TC = b.p, b.tc

#: Bodies the token pass must read, each exercising one thing it models.
PLAIN = {
    "merged": "<w:tbl><w:tr>" + TC(P("企业名称")) + TC(P("华光"), span=3) + "</w:tr>"
              "<w:tr>" + TC(P("地  址"), vmerge="restart") + TC(P("哈尔滨")) + "</w:tr>"
              "<w:tr>" + TC(P(""), vmerge="continue") + TC(P("南岗区") + P("8 号"), span=3) + "</w:tr>"
              '<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>' + TC(P("备注")) + "</w:tr></w:tbl>" + P("日期"),
    "nested": "<w:tbl><w:tr>" + TC(P("被访者")) + TC(P("见下表") + "<w:tbl><w:tr>" + TC(P("姓名"))
              + TC(P("张三") + "<w:tbl><w:tr>" + TC(P("最内层")) + "</w:tr></w:tbl>") + "</w:tr></w:tbl>" + P("（续）"))
              + "</w:tr></w:tbl>" + P("正文结束"),
    # The tree reader does not read a merged-away cell, nor the tables nested in it.
    "nested_in_merged_away_cell": "<w:tbl><w:tr>" + TC(P("甲"), vmerge="restart") + "</w:tr><w:tr>"
                                  + TC(P("乙") + "<w:tbl><w:tr>" + TC(P("藏")) + "</w:tr></w:tbl>", vmerge="continue")
                                  + "</w:tr></w:tbl>",
    "merge_spelled_out": '<w:tbl><w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"></w:vMerge></w:tcPr>' + P("上")
                         + '</w:tc></w:tr><w:tr><w:tc><w:tcPr><w:vMerge w:val="continue"/></w:tcPr>' + P("")
                         + "</w:tc></w:tr></w:tbl>",
    "single_quotes_and_bad_numbers": "<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val='2'/></w:tcPr>" + P("宽")
                                     + '</w:tc><w:tc><w:tcPr><w:gridSpan w:val="x"/></w:tcPr>' + P("坏") + "</w:tc></w:tr></w:tbl>",
    "glyph_ticks": "<w:p>" + b.TICK_CASES["glyphs"][0] + "</w:p>"
                   + "<w:tbl><w:tr>" + TC(P("☑是") + P("□否")) + "</w:tr></w:tbl>",
    "entities": P("A &amp; B &lt;C&gt; &#x2611;是 &#9744;否 &quot;x&quot; &apos;y&apos;"),
    "tabs_breaks_hyphens": '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>a</w:t>'
                           '<w:tab/><w:t>b</w:t><w:br/><w:t>c</w:t><w:noBreakHyphen/><w:t>d</w:t>'
                           '<w:ptab w:relativeTo="margin" w:alignment="right" w:leader="none"/><w:cr/><w:t>e</w:t></w:r></w:p>',
    "empty_paragraphs_and_runs": "<w:tbl><w:tr>" + TC('<w:p/>' + P("中") + '<w:p w:rsidR="00A1"/>')
                                 + TC("<w:p><w:r><w:t/></w:r><w:r><w:t></w:t></w:r></w:p>") + "</w:tr><w:tr/></w:tbl>"
                                 + "<w:p/>" + P("   ") + P("  留白  "),
    "wrappers": '<w:customXml w:element="x">' + P("块") + "</w:customXml>"
                '<w:p><w:hyperlink r:id="rId9"><w:r><w:t>链接</w:t></w:r></w:hyperlink>'
                '<w:ins w:id="1" w:author="a"><w:r><w:t>插入</w:t></w:r></w:ins>'
                '<w:fldSimple w:instr=" PAGE "><w:r><w:t>3</w:t></w:r></w:fldSimple>'
                '<w:smartTag w:element="x"><w:r><w:t>标记</w:t></w:r></w:smartTag></w:p>',
    "line_ends_in_text": P("第一行\r\n第二行\r第三行"),
    "breaks_at_cell_edges": "<w:tbl><w:tr>" + TC("<w:p><w:r><w:br/><w:t>甲</w:t><w:br/></w:r></w:p>")
                            + TC("<w:p><w:r><w:t>乙</w:t><w:br/></w:r></w:p>" + P("丙")) + "</w:tr></w:tbl>",
}

#: Bodies (or prologs) the token pass must leave to the tree reader.
NOT_PLAIN = {
    "sym": "<w:p>" + b.TICK_CASES["sym_wingdings2"][0] + "</w:p>",
    "symbol_font_run": "<w:p>" + b.TICK_CASES["font_run"][0] + "</w:p>",
    "w14_checkbox": "<w:p>" + b.TICK_CASES["w14"][0] + "</w:p>",
    "legacy_checkbox": "<w:p>" + b.TICK_CASES["legacy"][0] + "</w:p>",
    "revisions": '<w:p><w:del w:id="2" w:author="a"><w:r><w:delText>王五</w:delText></w:r></w:del></w:p>',
    "comment": P("甲") + "<!-- <w:p><w:r><w:t>注释</w:t></w:r></w:p> -->",
    "unknown_entity": P("a&nbsp;b"),
    "character_xml_refuses": P("a&#1;b"),
    "reference_xml_refuses": P("a&#X41;b"),
    "unclosed_paragraph": "<w:p><w:r><w:t>甲</w:t></w:r>",
    "stray_cell_end": P("甲") + "</w:tc>",
}


def both(body: str, prolog: str = "") -> tuple:
    xml = b.document_xml(body, prolog).encode("utf-8")
    return xml, plain_blocks(xml)


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_token_pass_reads_what_the_tree_reads(name):
    xml, plain = both(PLAIN[name])
    assert plain is not None, name
    assert plain == tree_blocks(xml)
    assert plain, name  # every case yields blocks, so the comparison is not of two empty lists


@pytest.mark.parametrize("name", sorted(NOT_PLAIN))
def test_token_pass_steps_aside(name):
    assert both(NOT_PLAIN[name])[1] is None


def test_doctype_other_encoding_and_other_prefix_step_aside():
    assert both(P("甲"), prolog='<!DOCTYPE w:document [<!ENTITY a "x">]>')[1] is None
    latin = b.document_xml(P("甲")).replace('encoding="UTF-8"', 'encoding="GB2312"').encode("gb2312")
    assert plain_blocks(latin) is None
    other = b.document_xml(P("甲")).replace("xmlns:w=", "xmlns:x=").encode()
    assert plain_blocks(other) is None  # `w:` would then not be WordprocessingML


def test_documents_the_token_pass_refuses_still_read_or_fail_in_chinese(tmp_path):
    path = b.docx_from_body(tmp_path / "ticks.docx", NOT_PLAIN["sym"])
    assert read_docx(path, "ticks.docx").blocks[0].text == b.TICK_CASES["sym_wingdings2"][1]
    path = b.docx_from_body(tmp_path / "bad.docx", NOT_PLAIN["unknown_entity"])
    with pytest.raises(Unreadable, match="无法解析"):
        read_docx(path, "bad.docx")


def test_huge_documents_keep_the_tree_reader(tmp_path, monkeypatch):
    path = b.docx_from_body(tmp_path / "big.docx", P("甲") * 200)
    calls = []
    monkeypatch.setattr("pipeline.reading.readers.docx.plain_blocks", lambda xml: calls.append(xml) or None)
    read_docx(path, "big.docx", dict(LIMITS, docx_inline_xml=1000))
    assert calls == []
    read_docx(path, "big.docx")
    assert len(calls) == 1


def corpus_documents(inbox, scratch):
    """Yield (name, document.xml) of every readable Word file in the corpus, zipped ones included."""
    paths = []
    for path in sorted(inbox.rglob("*")):
        if path.suffix.lower() == ".docx":
            paths.append((path.name, path))
        elif path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                for n, info in enumerate(zf.infolist()):
                    if info.filename.lower().endswith(".docx"):
                        paths.append((info.filename, scratch / f"{path.stem}-{n}.docx"))
                        paths[-1][1].write_bytes(zf.read(info))
    for name, path in paths:
        try:
            yield name, main_part(path)
        except Unreadable:
            continue  # the corpus's broken files: no document.xml to compare


def test_token_pass_matches_tree_over_the_corpus(corpus, tmp_path):
    inbox, _ = corpus
    plain = refused = 0
    for name, xml in corpus_documents(inbox, tmp_path):
        blocks = plain_blocks(xml)
        if blocks is None:
            refused += 1
            continue
        plain += 1
        assert blocks == tree_blocks(xml), name
    # Rendered packets are plain; the ones with symbol ticks and content controls are not.
    assert plain >= 30 and refused >= 2, (plain, refused)


NEEDED = ["p", "tc", "tr", "tbl", "tabs", "tab", "ptab", "br", "cr", "noBreakHyphen", "gridSpan", "vMerge",
          "gridBefore", "sym", "fldChar", "sdt", "txbxContent", "del", "moveFrom", "object", "tcPrChange", "trPrChange"]


@pytest.mark.parametrize("name", NEEDED)
def test_ruling_out_formatting_tags_never_skips_a_needed_one(name):
    # The regex rules out frequent formatting tags by name before trying the others; without that
    # check it must find exactly the same tokens in every spelling of a tag it needs.
    unchecked = re.compile(TOKENS.pattern.replace(_SKIP, b""))
    for tag in (f"<w:{name}/>", f'<w:{name} w:val="1"/>', f"<w:{name}>", f"</w:{name}>", f"<w:{name}><w:t>x</w:t>"):
        assert TOKENS.findall(tag.encode()) == unchecked.findall(tag.encode()), tag
    assert any(TOKENS.findall(f"<w:{name}/></w:{name}>".encode())), name


@pytest.mark.parametrize("name", ["rPr", "rFonts", "jc", "pPr", "spacing", "sz", "szCs", "tcPr", "b", "bCs", "shd"])
def test_formatting_tags_give_no_token(name):
    assert TOKENS.findall(f'<w:{name}/><w:{name} w:val="1"/><w:{name}></w:{name}>'.encode()) == []


def test_a_symbol_font_however_spelled_steps_aside():
    run = '<w:p><w:r><w:rPr><w:rFonts w:ascii="{0}" w:hAnsi="{0}"/></w:rPr><w:t>R</w:t></w:r></w:p>'
    for font in [*SYMBOL_FONTS, *(f.upper() for f in SYMBOL_FONTS), "WingDings", "&#83;ymbol"]:
        assert both(run.format(font))[1] is None, font
    assert both(run.format("宋体"))[1] is not None
    assert both(P("Symbol 与 Wingdings 只是正文"))[1] is not None  # named in the text, not as a run's font


def test_w_rebound_inside_the_body_steps_aside():
    body = '<w:tbl xmlns:w="urn:other"><w:tr>' + TC(P("甲")) + "</w:tr></w:tbl>"
    assert both(body)[1] is None


# --- generated variants of real packets: the token pass reads them as the tree does, or refuses ---

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


@pytest.fixture(scope="module")
def packet_xml(tmp_path_factory) -> bytes:
    """The document.xml of a whole packet rendered from the templates with values."""
    from corpus import packet_values, template_packet

    path = template_packet(tmp_path_factory.mktemp("variants") / "p.docx", "construction", packet_values("construction"))
    return main_part(path)


def _nth(pattern: bytes, xml: bytes, n: int):
    found = list(re.finditer(pattern, xml))
    return found[n % len(found)] if found else None


def _at(xml: bytes, pattern: bytes, n: int, make) -> bytes:
    match = _nth(pattern, xml, n)
    return xml if match is None else xml[: match.start()] + make(match) + xml[match.end():]


def _space_in_end_tag(xml, n, pick):
    space = [b" ", b"\n", b"\t", b"\r\n  "][pick % 4]
    name = [rb"(?:p|tc|tr|tbl|t|body|tabs)", rb"\w+"][pick % 2]
    return _at(xml, rb"</w:" + name + rb">", n, lambda m: m[0][:-1] + space + b">")


def _reference_in_value(xml, n, pick):
    def spell(m):
        value = m[1].decode()
        return b'w:val="' + "".join(f"&#{ord(c)};" if (i + pick) % 2 == 0 or len(value) == 1 else c for i, c in enumerate(value)).encode() + b'"'
    where = [rb'w:val="([^"]+)"', rb'(?<=<w:gridSpan )w:val="([^"]+)"', rb'(?<=<w:vMerge )w:val="([^"]+)"'][pick % 3]
    return _at(xml, where, n, spell)


def _reference_in_namespace(xml, n, pick):
    if pick % 2:  # another prefix bound to WordprocessingML, spelled so that no byte search finds it
        xml = xml.replace(b"<w:document ", b'<w:document xmlns:x="http://schemas.openxmlformats.org/wordprocessingml/2006/m&#97;in" ', 1)
        return _at(xml, rb"</w:p>", n, lambda m: m[0] + "<x:p><x:r><x:t>隐藏</x:t></x:r></x:p>".encode())
    main = b"wordprocessingml/2006/main"
    spelled = main.replace(b"main", [b"m&#97;in", b"&#109;ain", b"mai&#x6e;"][pick % 3])
    return xml.replace(b'xmlns:w="http://schemas.openxmlformats.org/officeDocument/2006/' + main, b"", 0).replace(
        b"openxmlformats.org/" + main + b'"', b"openxmlformats.org/" + spelled + b'"', 1)


def _default_alternate_content(xml, n, pick):
    choice = P("选择") if pick % 2 else "<w:p><w:r><w:t>选择</w:t></w:r></w:p>"
    block = (f'<AlternateContent xmlns="{MC}"><Choice Requires="w14">{choice}</Choice>'
             f"<Fallback>{P('备用')}</Fallback></AlternateContent>").encode()
    return _at(xml, rb"<w:p[ >]", n, lambda m: block + m[0])


def _run_outside_paragraph(xml, n, pick):
    run = b"<w:r><w:t>\xe6\xb8\xb8\xe7\xa6\xbb</w:t></w:r>"  # 游离
    where = [rb"<w:tc>", rb"</w:p>", rb"<w:body[^>]*>", rb"</w:tbl>"][pick % 4]
    return _at(xml, where, n, lambda m: m[0] + run)


def _gt_in_attribute(xml, n, pick):
    if pick % 2:
        tick = ('<w:r><w:rPr><w:rFonts w:eastAsia="x&gt;y" w:cs="a>b" w:ascii="Wingdings" w:hAnsi="Wingdings"/></w:rPr>'
                "<w:t>\uf0fe</w:t></w:r>").encode()
        return _at(xml, rb"</w:p>", n, lambda m: tick + m[0])
    return _at(xml, rb"<w:t(?=[ >])", n, lambda m: m[0] + b' w:rsidDel="a>b"')


def _foreign_prefix_ending_in_w(xml, n, pick):
    xml = xml.replace(b"<w:document ", b'<w:document xmlns:xw="urn:foreign" ', 1)
    leaf = [b'<w:gridSpan xw:val="3"/>', b'<w:vMerge xw:val="restart"/>'][pick % 2]
    return _at(xml, rb"<w:tcPr>", n, lambda m: m[0] + leaf)


def _character_reference_font(xml, n, pick):
    run = '<w:r><w:rPr><w:rFonts w:ascii="W&#105;ngdings" w:hAnsi="W&#105;ngdings"/></w:rPr><w:t>\uf0fe</w:t></w:r>'
    return _at(xml, rb"</w:p>", n, lambda m: run.encode() + m[0])


VARIANTS = [_space_in_end_tag, _reference_in_value, _reference_in_namespace, _default_alternate_content,
            _run_outside_paragraph, _gt_in_attribute, _foreign_prefix_ending_in_w, _character_reference_font]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(VARIANTS), st.integers(0, 10_000), st.integers(0, 11)), min_size=1, max_size=3))
def test_variants_of_a_real_packet_read_as_the_tree_reads_or_are_refused(packet_xml, changes):
    xml = packet_xml
    for change, n, pick in changes:
        xml = change(xml, n, pick)
    try:
        tree = tree_blocks(xml)
    except Unreadable:
        assume(False)  # two changes made it ill-formed (an attribute given twice): not a case
    plain = plain_blocks(xml)
    assert plain is None or plain == tree, [c.__name__ for c, _, _ in changes]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["plain.docx", "plain.doc"]),
       st.lists(st.tuples(st.sampled_from(VARIANTS), st.integers(0, 10_000), st.integers(0, 11)), min_size=1, max_size=3))
def test_variants_of_libreoffice_written_packets_read_as_the_tree_reads_or_are_refused(office_written, name, changes):
    xml = main_part(office_written[0][name])
    for change, n, pick in changes:
        xml = change(xml, n, pick)
    try:
        tree = tree_blocks(xml)
    except Unreadable:
        assume(False)
    plain = plain_blocks(xml)
    assert plain is None or plain == tree, [c.__name__ for c, _, _ in changes]


@pytest.mark.parametrize("change", VARIANTS, ids=lambda c: c.__name__)
def test_each_variant_alone_is_read_as_the_tree_reads(packet_xml, change):
    for n in range(0, 40, 7):
        for pick in range(4):
            xml = change(packet_xml, n, pick)
            assert xml != packet_xml
            plain = plain_blocks(xml)
            assert plain is None or plain == tree_blocks(xml), (n, pick)


def test_a_run_font_spelled_with_a_character_reference_keeps_its_tick():
    body = '<w:p><w:r><w:rPr><w:rFonts w:ascii="W&#105;ngdings" w:hAnsi="W&#105;ngdings"/></w:rPr><w:t>\uf0fe</w:t></w:r><w:r><w:t>是</w:t></w:r></w:p>'
    xml = b.document_xml(body).encode()
    assert tree_blocks(xml)[0].text == "☑是"


def test_tracked_changes_insertions_count_deletions_and_moves_away_are_gone():
    row = lambda cells, props="": "<w:tr>" + props + "".join(TC(P(c)) for c in cells) + "</w:tr>"  # noqa: E731
    body = ("<w:tbl>" + row(["序号", "姓名"])
            + row(["1", "张三"], '<w:trPr><w:del w:id="1" w:author="a"/></w:trPr>')
            + row(["2", "李四"], '<w:trPr><w:ins w:id="2" w:author="a"/></w:trPr>') + "</w:tbl>"
            + '<w:p><w:r><w:t>甲</w:t></w:r><w:ins w:id="3" w:author="a"><w:r><w:t>乙</w:t></w:r></w:ins>'
            '<w:del w:id="4" w:author="a"><w:r><w:delText>丙</w:delText></w:r></w:del>'
            '<w:moveFrom w:id="5" w:author="a"><w:r><w:t>丁</w:t></w:r></w:moveFrom>'
            '<w:moveTo w:id="6" w:author="a"><w:r><w:t>戊</w:t></w:r></w:moveTo></w:p>')
    xml = b.document_xml(body).encode()
    blocks = tree_blocks(xml)
    assert [[c.text for c in r] for r in blocks[0].rows] == [["序号", "姓名"], ["2", "李四"]]
    assert blocks[1].text == "甲乙戊"
    assert plain_blocks(xml) is None


def test_libreoffice_written_packets_take_the_token_pass_and_read_as_the_tree(office_written):
    paths, _ = office_written
    for name in ("plain.docx", "plain.doc"):  # written by LibreOffice as .docx, and from its .doc
        xml = main_part(paths[name])
        assert plain_blocks(xml) is not None and plain_blocks(xml) == tree_blocks(xml), name
    for name in ("tracked.docx", "tracked.doc"):  # tracked changes need the tree reader
        assert plain_blocks(main_part(paths[name])) is None
