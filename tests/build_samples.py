"""Rebuild the bundled sample (`make demo` runs on it): python tests/build_samples.py

It writes pipeline/data/samples/, which the package ships (pipeline/common/resources.py).

The sample is a small, real-looking campaign: five returned submissions in an inbox (a complete
one, a product filed as a series in a zip made on Chinese Windows, a construction project under
the size threshold as an old .doc, a service application without its respondent register, and a
seed-layout packet exported to PDF), a roster for pre-filled packets and a winners list.
It is made with the test corpus' document builders, so it follows the same forms.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import corpus  # noqa: E402
from build_inputs import gbk_zip  # noqa: E402
from pipeline.common.resources import SAMPLES  # noqa: E402
from openpyxl import Workbook  # noqa: E402


def _workbook(path: Path, header: list[str], rows: list[list]) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def build(root: Path = SAMPLES) -> None:
    """Given the samples folder, write inbox/, 企业名单.xlsx and 获奖名单.xlsx there."""
    inbox = root / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    scratch = root / ".scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    c = corpus.Corpus(scratch)
    c.inbox = inbox
    inbox.mkdir(parents=True)

    values = corpus.packet_values("enterprise", company="哈尔滨电机厂有限责任公司")
    for fid in list(values["application"]):
        if fid.startswith(("main_project", "other_project", "service_", "main_service", "other_service")):
            values["application"][fid] = None
    folder = c.folder("哈尔滨电机厂有限责任公司")
    corpus.template_packet(folder / "申报材料.docx", "enterprise", values)
    c.extras(folder, values, "enterprise")

    values = corpus.packet_values("product", company="黑龙江北方家电有限公司", application__product_model="BCD 全系列")
    src = scratch / "product"
    src.mkdir()
    corpus.template_packet(src / "p.docx", "product", values)
    corpus.report_docx(src / "r.docx", "黑龙江北方家电有限公司")
    gbk_zip(inbox / "北方家电申报材料.zip", {
        "北方家电\\申报材料.docx": (src / "p.docx").read_bytes(),
        "北方家电\\实施用户满意工程情况的报告.docx": (src / "r.docx").read_bytes(),
    })

    values = corpus.packet_values("construction", company="龙江建工集团有限公司",
                                  application__floor_area=0.6, application__budget=1500)
    folder = c.folder("龙江建工集团有限公司")
    built = corpus.seed_packet(scratch / "construction.docx", "construction", values, style="check")
    c.to_doc.append((built, folder / "申报材料.doc"))
    c.extras(folder, values, "construction")

    values = corpus.packet_values("service", company="冰城家政服务有限公司")
    path = inbox / "冰城家政服务有限公司.docx"
    corpus.template_packet(path, "service", dict(values, respondents=[]))

    values = corpus.packet_values("product", company="齐齐哈尔重型电器有限公司")
    folder = c.folder("齐齐哈尔重型电器有限公司")
    built = corpus.seed_packet(scratch / "product-pdf.docx", "product", values, style="glyph")
    c.to_pdf.append((built, folder / "申报材料.pdf"))
    c.extras(folder, values, "product")

    c.convert()
    shutil.rmtree(scratch, ignore_errors=True)

    _workbook(root / "企业名单.xlsx", ["企业名称", "类别", "所属行业", "所在地区", "推进单位", "联系人电话", "邮箱"], [
        ["哈尔滨电机厂有限责任公司", "企业类", "电力设备制造", "哈尔滨市", "哈尔滨市质量协会", "0451-82871234", "zl@hec.com.cn"],
        ["黑龙江北方家电有限公司", "产品类", "家用电器", "哈尔滨市", "哈尔滨市质量协会", "13904801234", "bf@bfjd.cn"],
        ["龙江建工集团有限公司", "建筑工程类", "建筑业", "大庆市", "大庆市质量协会", "0459-6123456", "lj@ljjg.cn"],
        ["冰城家政服务有限公司", "服务类", "居民服务", "哈尔滨市", "省服务业质协", "13836012345", "bc@bcjz.cn"],
    ])
    _workbook(root / "获奖名单.xlsx", ["企业名称", "类别", "项目名称"], [
        ["哈尔滨电机厂有限责任公司", "企业类", None],
        ["齐齐哈尔重型电器有限公司", "产品类", "QZ-250 型高压开关柜"],
    ])  # only complete applicants win: 冰城家政 still owes its 被访者名单 (the rules refuse it)


if __name__ == "__main__":
    build()
    print(f"样例已生成：{SAMPLES}")
