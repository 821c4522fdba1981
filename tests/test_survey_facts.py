"""The 测评报告's own figures — score, sample size, period, agency — read however the report words and wraps them.

Reports are written several ways (docx built in code): the score as 用户满意度得分为, 满意度指数, 综合得分, 得分为,
为 NN.N 分, or a table of 结构变量 with the overall figure; sentences broken after 用户满意度 by a line break,
or wrapped by a narrow table cell. Each is read from the .docx and from the PDF LibreOffice makes of it (one
batch), as parsing reads an attachment: the file's text.
"""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.shared import Cm

from pipeline.common import office
from pipeline.reading.readers.docx import read_docx
from pipeline.reading.readers.pdf import read_pdf
from pipeline.receiving.attachments import attachment

BREAK = "\v"  # a line break inside the paragraph (w:br)
#: name → (paragraphs, or ("table", rows) / ("narrow", text); the facts the report states)
REPORTS = {
    "得分为_折行": (["华光机械有限公司用户满意度测评报告", "测评机构：黑龙江省质量评价中心",
                 f"本次测评共回收有效问卷320份。经测算，该公司用户满意度{BREAK}得分为 86.2 分。",
                 "调查时间：2016年12月5日至2017年3月20日"],
                {"score": 86.2, "sample_size": 320, "survey_period": {"start": "2016-12-05", "end": "2017-03-20"},
                 "agency": "黑龙江省质量评价中心"}),
    "满意度指数": (["用户满意度测评报告", "辽宁省用户满意度测评中心",
                "调查于2020年3月1日至2020年5月31日进行，有效样本量为 412。",
                f"测评结果表明，企业用户满意度{BREAK}指数为88.5。"],
               {"score": 88.5, "sample_size": 412, "survey_period": {"start": "2020-03-01", "end": "2020-05-31"},
                "agency": "辽宁省用户满意度测评中心"}),
    "综合得分": (["满意度调查报告", "调查机构：广州市质量协会", "样本量：n=260",
               "该单位本次满意度测评综合得分为 91.3 分，各项指标均衡。"],
              {"score": 91.3, "sample_size": 260, "survey_period": None, "agency": "广州市质量协会"}),
    "为NN分": (["测评报告", "受托方：北京中企质量研究院有限公司",
              "有效问卷数量：198份", "经加权计算，总体结果为 83.7 分。"],
             {"score": 83.7, "sample_size": 198, "survey_period": None, "agency": "北京中企质量研究院有限公司"}),
    "结构变量表": ((["用户满意度测评报告", "测评单位：黑龙江省质量协会用户委员会", "有效样本数：500"],
                 [["结构变量", "得分"], ["企业形象", "85.1"], ["感知质量", "84.0"], ["感知价值", "82.6"],
                  ["用户满意度", "86.7"], ["用户忠诚", "83.9"]]),
               {"score": 86.7, "sample_size": 500, "survey_period": None, "agency": "黑龙江省质量协会用户委员会"}),
    "窄栏折行": ((["用户满意度测评报告", "测评机构：辽宁省用户满意度测评中心"],
               "本次测评有效样本量为365，调查时间为2019年4月1日至2019年6月30日，该公司用户满意度得分为 87.9 分。"),
              {"score": 87.9, "sample_size": 365, "survey_period": {"start": "2019-04-01", "end": "2019-06-30"},
               "agency": "辽宁省用户满意度测评中心"}),
}


def add_paragraph(document, text: str) -> None:
    """Given a document and a paragraph's text, add it ('\\v' a line break inside it)."""
    first, *rest = text.split(BREAK)
    paragraph = document.add_paragraph()
    run = paragraph.add_run(first)
    for part in rest:
        run.add_break()
        run = paragraph.add_run(part)


def write_report(path: Path, content) -> Path:
    """Given a path and a report's content, write it as .docx."""
    document = docx.Document()
    if isinstance(content, list):
        for text in content:
            add_paragraph(document, text)
    else:
        head, body = content
        for text in head:
            add_paragraph(document, text)
        rows = body if isinstance(body, list) else [[body]]
        table = document.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"
        table.autofit = False
        for row, cells in zip(table.rows, rows):
            for cell, text in zip(row.cells, cells):
                cell.text = text
                cell.width = Cm(3 if isinstance(body, str) else 4)  # a narrow cell wraps the sentence
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """name → {"docx": path, "pdf": path}."""
    root = tmp_path_factory.mktemp("survey")
    sources = {name: write_report(root / f"{name}.docx", content) for name, (content, _) in REPORTS.items()}
    pdfs = office.convert(list(sources.values()), "pdf", root / "pdf")
    return {name: {"docx": path, "pdf": pdfs[path]} for name, path in sources.items()}


@pytest.mark.parametrize("kind", ["docx", "pdf"])
@pytest.mark.parametrize("name", list(REPORTS))
def test_the_reports_figures_are_read(reports, name, kind):
    path = reports[name][kind]
    doc = read_pdf(path, path.name) if kind == "pdf" else read_docx(path, path.name)
    entry = attachment("测评报告." + kind, doc.text)
    assert entry["kind"] == "survey_report"
    assert {k: entry[k] for k in REPORTS[name][1]} == REPORTS[name][1]
