"""A fixture corpus of returned submissions, built in code: what staff really receive.

Two families, so a drift in `forms/` shows:
- packets rendered from the project's own templates (`pipeline.generating.packet.render_packet`) with values;
- packets written by hand with python-docx in the layout the seed notice prints — the few
  layouts below are typed from the seed, NOT read from `forms/`.

Every variation of the issue appears once: ticks as glyphs (☑ ■ √), Wingdings `w:sym`,
`w14:checkbox` and legacy `w:ffData`; labels with extra spaces and line breaks; added rows;
merged cells; the whole packet in one .docx or split over files; respondents in .xlsx (shuffled
columns, 50–200 rows) and in .docx; a .doc and a PDF export (one LibreOffice batch); a GBK-named
zip; a 测评报告 PDF; and every rule broken once.

`build_corpus(dir)` returns entry name → expected facts:
`category`, `company`, `values` ({form: {field: value}} that parsing must give), `codes`
(issue codes the rules must raise; empty for a clean entry), `reading_codes` (codes reading
itself raises).
"""

from __future__ import annotations

import copy
import random
import threading
from pathlib import Path

import docx
from build_inputs import gbk_zip
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from openpyxl import Workbook

W14 = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'
TICK_STYLES = ("glyph", "square", "check", "sym", "w14", "legacy")
SURVEY = {"start": "2017-01-05", "end": "2017-03-20"}
SURVEY_ZH = "2017年1月5日至2017年3月20日"

# --- values --------------------------------------------------------------------------------------

COMMON = {
    "legal_representative": "王建国", "phone": "0451-87654321", "postcode": "150001",
    "address": "哈尔滨市南岗区学府路88号", "email": "zhiliang@example.cn",
}
CONTACT = {"legal_rep_title": "董事长", "contact_org": "质量管理部", "contact_person": "李红", "fax": "0451-87654322"}

APPLICATION = {
    "enterprise": {
        **COMMON, "applying_department": "质量管理部", "contact_person": "李红", "contact_title": "部长",
        "employees": 1250, "labor_productivity": 356000, "fixed_assets_original": 52000, "fixed_assets_net": 31000,
        "profit_tax": 8600, "forex_earnings": 1200, "annual_sales": 98000, "inspection_pass_rate": 100,
        "major_incidents": "无", "industrial_returns": 12, "repair_rate": 0.3, "main_product_name": "变压器",
        "main_product_output": 3200, "main_product_sales_volume": 3100, "main_product_market_share": 8.5,
        "other_product_name": "互感器", "other_product_output": 5000, "other_product_sales_volume": 4800,
        "other_product_market_share": 3.2,
    },
    "product": {
        **COMMON, **CONTACT, "product_name": "电热水器", "product_model": "DSZF-60A 60升 2000W",
        "trademark": "光明", "market_share": 12.5, "annual_sales_volume": 150000, "unit_price": 1280,
        "annual_sales": 19200, "forex_earnings": 300, "quality_returns": 15, "service_outlets": 86,
        "service_staff": 420, "quality_awards": "2016年黑龙江省名牌产品",
    },
    "construction": {
        **COMMON, **CONTACT, "project_name": "哈尔滨市第一医院门诊楼", "budget": 18500, "project_type": "公共建筑",
        "owner_name": "哈尔滨市第一医院", "floor_area": 3.2, "completion_date": "2015-09-30",
        "acceptance_date": "2015-11-20", "location": "哈尔滨市道里区", "project_manager": "赵强",
        "project_manager_phone": "13904511234", "project_address": "哈尔滨市道里区友谊路1号",
        "project_postcode": "150010", "design_unit": "黑龙江省建筑设计研究院", "supervision_unit": "哈尔滨建设监理公司",
        "awards": "2016年黑龙江省优质工程", "owner_evaluation": "工程质量优良，施工服务到位，总体满意。",
    },
    "service": {
        **COMMON, **CONTACT, "service_name": "家电上门安装维修服务", "service_org": "客户服务中心",
        "service_content": "24小时响应，48小时上门，执行GB/T 27922", "service_manager": "孙丽",
        "service_manager_phone": "13812345678", "office_address": "哈尔滨市香坊区中山路5号",
        "office_postcode": "150036", "complaints": 8, "service_staff": 260, "annual_services": 85000,
        "service_standards": "制定《上门服务规范》等12项企业标准",
    },
}
COMPANIES = {
    "enterprise": "哈尔滨电力设备有限公司", "product": "哈尔滨光明电器有限公司",
    "construction": "黑龙江龙建建设集团有限公司", "service": "哈尔滨家电服务有限公司",
}
INDUSTRY = {"enterprise": "电力设备制造", "product": "家用电器", "construction": "建筑业", "service": "居民服务"}


def packet_values(category: str, company: str | None = None, **changes) -> dict:
    """Given a category, return every form's values for a clean submission; `changes` as form__field=value."""
    company = company or COMPANIES[category]
    values = {
        "cover": {"category": category, "company_name": company, "industry": INDUSTRY[category],
                  "region": "哈尔滨市", "promoting_unit": "哈尔滨市质量协会", "fill_date": "2017-05-20"},
        "recommendation": {"company_name": company, "category": category_zh(category), "satisfaction_score": 86.5,
                           "compliant": True, "valid_questionnaires": 60, "survey_period": dict(SURVEY),
                           "evidence_review": ["真实", "齐全", "有效"], "opinion": "该企业用户满意度高，同意推荐。",
                           "approval_opinion": None, "opinion_date": None, "approval_date": None},
        "application": {"company_name": company, **copy.deepcopy(APPLICATION[category])},
        "implementation_status": {"company_name": company, "customer_count": 5000, "has_management_docs": True,
                                  "demand_collection": ["用户回访", "投诉分析", "第三方市场调研"],
                                  "survey_practice": ["委托第三方进行定期调查"],
                                  "improvement": ["确定改进点和目标", "进行系统性改进"]},
        "commitment": {"company_name": company, "date": "2017-05-18"},
        "respondents": respondents(60),
    }
    if category == "construction":
        values["application"]["owner_evaluation_date"] = None
        values["site_inspection"] = {"company_name": company, "project_name": APPLICATION[category]["project_name"],
                                     "inspection_notes": "现场整洁，质量资料齐全。", "inspector": "周明",
                                     "date": "2017-05-10"}
    for key, value in changes.items():
        form, _, fid = key.partition("__")
        if form == "respondents":
            values["respondents"] = value
        else:
            values.setdefault(form, {})[fid] = value
    return values


def category_zh(category: str) -> str:
    return {"enterprise": "企业类", "product": "产品类", "construction": "建筑工程类", "service": "服务类"}[category]


def respondents(n: int, duplicate: bool = False, seed: int = 1) -> list[dict]:
    """Given a count, return n respondent rows inside the survey period (one phone repeated when asked)."""
    rnd = random.Random(seed)
    surnames, given = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"
    rows = []
    for i in range(1, n + 1):
        rows.append({"seq": i, "name": rnd.choice(surnames) + rnd.choice(given) + rnd.choice(given),
                     "contact": f"139{i:08d}", "survey_method": rnd.choice(["电话访问", "入户访问", "网络问卷"]),
                     "survey_date": f"2017-02-{1 + i % 28:02d}", "employer": f"哈尔滨第{i}中学" if i % 3 else None})
    if duplicate and n > 2:
        rows[-1]["contact"] = rows[0]["contact"]
    return rows


def expected_values(values: dict) -> dict:
    """Given the values a packet was filled with, return what parsing must give (respondents as rows)."""
    out = copy.deepcopy(values)
    out["respondents"] = out.pop("respondents")
    return out


# --- the report and the survey report ------------------------------------------------------------

OUTLINE = [("1", "企业概貌", 250), ("2", "主导产品和主要经营服务项目", 250), ("3", "实施用户满意工程的主要目标、措施和经验", 200),
           ("3.1", "以顾客为导向的企业文化", 300), ("3.2", "顾客识别与顾客分类", 300), ("3.3", "顾客关系管理系统", 300),
           ("3.4", "顾客需求获取与分析", 300), ("3.5", "研发创新", 300), ("3.6", "顾客期望实现", 300),
           ("3.7", "质量管理与过程控制", 300), ("3.8", "顾客沟通管理", 300), ("3.9", "顾客满意度的测量与分析", 300),
           ("3.10", "持续改进", 300), ("4", "主要成果与展望", 350)]
FILLER = "公司坚持以用户为中心，持续开展满意度测评与质量改进，建立了完善的服务体系和顾客投诉处理机制。"


def report_docx(path: Path, company: str, omit: tuple = (), scale: float = 1.0, style: str = "arabic") -> Path:
    """Write the applicant's report (关于…实施用户满意工程情况的报告) with its outline headings."""
    d = docx.Document()
    d.add_paragraph(f"关于{company}实施用户满意工程情况的报告")
    cn = "一二三四"
    for num, title, size in OUTLINE:
        if num in omit:
            continue
        if style == "chinese":
            head = f"{cn[int(num) - 1]}、{title}" if "." not in num else f"（{'一二三四五六七八九十'[int(num.split('.')[1]) - 1]}）{title}"
        else:
            head = f"{num}、{title}" if "." not in num else f"{num}{title}"
        d.add_paragraph(head)
        d.add_paragraph((FILLER * 20)[: int(size * scale)])
    d.save(path)
    return path


def survey_report_docx(path: Path, score: float = 86.5, sample: int = 60, period: str = SURVEY_ZH) -> Path:
    """Write the third party's 测评报告 (converted to PDF in the corpus batch)."""
    d = docx.Document()
    d.add_paragraph("用户满意度测评报告")
    d.add_paragraph("受托方：黑龙江省质量评价中心（第三方）")
    d.add_paragraph(f"调查时间：{period}")
    d.add_paragraph(f"调查方式：电话访问与入户访问，有效样本量：{sample}份。")
    d.add_paragraph(f"测评结果：用户满意度得分为{score}分。")
    d.save(path)
    return path


def respondents_xlsx(path: Path, rows: list[dict], shuffle_seed: int = 3, title: bool = False) -> Path:
    """Write the respondent register as .xlsx, columns shuffled, headers typed as staff type them."""
    headers = {"seq": "序号", "name": "姓名", "contact": "联系电话", "survey_method": "调查方式",
               "survey_date": "调查日期", "employer": "工作单位"}
    order = list(headers)
    random.Random(shuffle_seed).shuffle(order)
    book = Workbook()
    sheet = book.active
    sheet.title = "被访者名单"
    if title:
        sheet.append(["被访者信息登记表"])
    sheet.append([headers[k] for k in order])
    for row in rows:
        sheet.append([row.get(k) for k in order])
    book.save(path)
    return path


def png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (8, 8), "white").save(path)
    return path


# --- the seed's layout, by hand ------------------------------------------------------------------


def _tick_xml(style: str, checked: bool) -> str:
    """Given a tick style, return the run XML for one box."""
    if style == "sym":
        return f'<w:r {nsdecls("w")}><w:sym w:font="Wingdings" w:char="{"F0FE" if checked else "F0A8"}"/></w:r>'
    if style == "w14":
        return (f'<w:sdt {nsdecls("w")} {W14}><w:sdtPr><w14:checkbox><w14:checked w14:val="{int(checked)}"/>'
                f'</w14:checkbox></w:sdtPr><w:sdtContent><w:r><w:t>{"☒" if checked else "☐"}</w:t></w:r></w:sdtContent></w:sdt>')
    if style == "legacy":
        return (f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="begin"><w:ffData><w:checkBox><w:sizeAuto/>'
                f'<w:default w:val="{int(checked)}"/></w:checkBox></w:ffData></w:fldChar></w:r>'
                f'<w:r {nsdecls("w")}><w:instrText> FORMCHECKBOX </w:instrText></w:r>'
                f'<w:r {nsdecls("w")}><w:fldChar w:fldCharType="end"/></w:r>')
    glyph = {"glyph": "☑", "square": "■", "check": "√"}[style]
    return f'<w:r {nsdecls("w")}><w:t>{glyph if checked else "□"}</w:t></w:r>'


def add_ticked(paragraph, text: str, style: str) -> None:
    """Given a paragraph and text where ☑/□ mark boxes, append it with each box in the tick style."""
    buf = ""
    for ch in text:
        if ch in "☑□":
            if buf:
                paragraph.add_run(buf)
                buf = ""
            for el in parse_xml(f"<w:x {nsdecls('w')}>{_tick_xml(style, ch == '☑')}</w:x>"):
                paragraph._p.append(el)
        else:
            buf += ch
    if buf:
        paragraph.add_run(buf)


def boxes(options: list[str], chosen, sep: str = "  ") -> str:
    """Given printed options and the chosen ones, return '☑a  □b' text."""
    chosen = chosen if isinstance(chosen, (list, tuple, set)) else [chosen]
    return sep.join(("☑" if o in chosen else "□") + o for o in options)


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return f"{value['start'].replace('-', '.')}-{value['end'].replace('-', '.')}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def zh_date(iso: str | None) -> str:
    if not iso:
        return "    年     月     日"
    y, m, d = iso.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def table(d, rows: list[list], cols: int, style: str = "glyph"):
    """Given a document and rows of (text, colspan, rowspan) cells, add a grid table with the merges.

    A cell is a string, or a tuple (text, colspan[, rowspan]); None marks a slot covered by a rowspan above.
    """
    t = d.add_table(rows=len(rows), cols=cols)
    t.style = "Table Grid"
    grid = t._cells  # once: python-docx's cell(r, c) rescans the whole table each call
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            if cell is None:
                c += 1
                continue
            text, span, down = (cell, 1, 1) if isinstance(cell, str) else (cell + (1,))[:3]
            target = grid[r * cols + c]
            if span > 1 or down > 1:
                target = target.merge(grid[(r + down - 1) * cols + c + span - 1])
            p = target.paragraphs[0]
            lines = text.split("\n")
            for i, line in enumerate(lines):
                para = p if i == 0 else target.add_paragraph()
                add_ticked(para, line, style)
            c += span
    return t


def seed_cover(d, v: dict, category: str, style: str) -> None:
    """The cover as the seed prints it: paragraphs, labels followed by spaces (no table)."""
    for line in ("2017年实施全省用户满意工程", "先进单位", "申 报 材 料"):
        d.add_paragraph(line)
    chosen = v.get("category")
    chosen = chosen if isinstance(chosen, list) else [chosen]
    names = {"enterprise": "企业类", "product": "产品类", "construction": "建筑工程类", "service": "服务类"}
    add_ticked(d.add_paragraph(), boxes(list(names.values()), [names[c] for c in chosen if c]), style)
    d.add_paragraph(f"企业名称    {v['company_name']}    （加盖公章）")
    d.add_paragraph(f"所属行业    {v['industry']}")
    d.add_paragraph(f"所在地区    {v['region']}")
    d.add_paragraph(f"推进单位    {v['promoting_unit']}  （加盖公章）")
    d.add_paragraph(f"填表日期    {zh_date(v['fill_date'])}")
    d.add_paragraph("填报说明：")
    d.add_paragraph("3、实施用户满意工程情况的报告应按照表中有关要求认真填写。")


def seed_recommendation(d, v: dict, style: str) -> None:
    d.add_paragraph("实施全省用户满意工程先进单位推荐意见表")
    table(d, [
        ["被推荐单位情况", "企业名称", fmt(v["company_name"]), "推荐类别", fmt(v["category"])],
        [("证实性材料\n复核情况", 1, 3), "被推荐企业\n\n满意度得分", fmt(v["satisfaction_score"]), "是否符合相关规范",
         boxes(["符合", "不符合"], ["符合"] if v["compliant"] else ["不符合"], "\n")],
        [None, "有效问卷数量", fmt(v["valid_questionnaires"]), "调查时间", fmt(v["survey_period"])],
        [None, "证实性材料复核结果", (boxes(["真实", "齐全", "有效", "其他"], v["evidence_review"]), 3)],
        [(f"推荐意见：\n{v['opinion']}\n地区、行业质协（公章）\n{zh_date(v.get('opinion_date'))}", 5)],
        [("审定意见：\n" + (f"{v['approval_opinion']}\n" if v.get("approval_opinion") else "")
          + f"（此栏企业不填，由评定机构填写）             {zh_date(v.get('approval_date'))}", 5)],
    ], 5, style)
    d.add_paragraph("注：1. 此表是评审用记录表，由推进单位和评定机构填写，盖章有效；")


def seed_product(d, v: dict, style: str, added_row: bool = True) -> None:
    """The 产品类申请表 as the seed prints it, labels with the seed's spaces and a line break, one added row."""
    d.add_paragraph("实施全省用户满意工程先进单位（产品类）申请表")
    d.add_paragraph(f"企业名称（公章）：{v['company_name']}")
    side = "被\n\n推\n\n荐\n\n产\n\n品\n\n基\n\n本\n\n情\n\n况"
    group = [
        ["产  品  名  称", fmt(v["product_name"]), "产 品 型 号\n及 规 格", fmt(v["product_model"])],
        ["商  标  名  称", fmt(v["trademark"]), "国内市场占有率（％）", fmt(v["market_share"])],
        ["年销售量（台件）", fmt(v["annual_sales_volume"]), "单位产品出厂\n价格（元）", fmt(v["unit_price"])],
        ["年  销  售  额", (fmt(v["annual_sales"]) + "万元", 3)],
        ["创  汇（万元）", fmt(v["forex_earnings"]), "质 量 退 赔 次 数", fmt(v["quality_returns"])],
        ["售后服务网点数", fmt(v["service_outlets"]), "售后服务职工人数", fmt(v["service_staff"])],
    ]
    if added_row:
        group.append(["出口国家", "俄罗斯", "售后热线", "400-800-1234"])
    group.append(["获\n\n质\n\n量\n\n奖\n\n励\n\n情\n\n况", (fmt(v["quality_awards"]), 3)])
    rows = [
        [("法定代表人姓名", 2), fmt(v["legal_representative"]), "职  务", fmt(v["legal_rep_title"])],
        [("联系机构名称", 2), fmt(v["contact_org"]), "联系人", fmt(v["contact_person"])],
        [("电          话", 2), fmt(v["phone"]), "邮  编", fmt(v["postcode"])],
        [("通  信  地  址", 2), fmt(v["address"]), "传  真", fmt(v["fax"])],
        [("电  子  信  箱", 2), (fmt(v["email"]), 3)],
    ]
    for i, row in enumerate(group):
        rows.append([(side, 1, len(group)) if i == 0 else None, *row])
    rows.append([("注：1.以上栏目由企业据实填报，2016年度数据为准；2.企业名称处需加盖单位公章；", 5)])
    table(d, rows, 5, style)


def seed_construction(d, v: dict, style: str) -> None:
    """The 建筑工程类申请表 as the seed prints it, with its 峻工日期 and scrambled 获优… label."""
    d.add_paragraph("实施全省用户满意工程先进单位（建筑工程类）申请表")
    d.add_paragraph(f"企业名称（公章）：{v['company_name']}")
    kinds = ["1.公共建筑", "2.市政工程", "3.交通工程", "4.住宅工程", "5.其它"]
    chosen = [k for k in kinds if k.endswith(v["project_type"] or "-")]
    side = "\n\n".join("被推荐工程基本情况")
    group = [
        ["工 程 名 称", (fmt(v["project_name"]), 2), "工程预算（万元）", (fmt(v["budget"]), 2)],
        [("工程类别：" + boxes(kinds, chosen, " "), 6)],
        ["建设单位（用户）名称", (fmt(v["owner_name"]), 5)],
        ["建筑面积（万平方米）", fmt(v["floor_area"]), "峻工日期", zh_date(v["completion_date"]), "验收日期",
         zh_date(v["acceptance_date"])],
        ["工程地点", (fmt(v["location"]), 5)],
        ["项目负责人", (fmt(v["project_manager"]), 2), "电  话", (fmt(v["project_manager_phone"]), 2)],
        ["地    址", (fmt(v["project_address"]), 2), "邮  编", (fmt(v["project_postcode"]), 2)],
        ["工程设计单位", (fmt(v["design_unit"]), 2), "工程监理单位", (fmt(v["supervision_unit"]), 2)],
        ["获优\n\n地质\n\n区工\n\n、程\n\n行情\n\n业况", (fmt(v["awards"]), 5)],
    ]
    rows = [
        [("法定代表人姓名", 2), (fmt(v["legal_representative"]), 2), "职  务", (fmt(v["legal_rep_title"]), 2)],
        [("联系机构名称", 2), (fmt(v["contact_org"]), 2), "联系人", (fmt(v["contact_person"]), 2)],
        [("电          话", 2), (fmt(v["phone"]), 2), "邮  编", (fmt(v["postcode"]), 2)],
        [("通  信  地  址", 2), (fmt(v["address"]), 2), "传  真", (fmt(v["fax"]), 2)],
        [("电  子  信  箱", 2), (fmt(v["email"]), 5)],
    ]
    for i, row in enumerate(group):
        rows.append([(side, 1, len(group)) if i == 0 else None, *row])
    rows.append([("建设单位（用户）满意度评价鉴定意见：\n(请建设单位从该建筑工程质量、施工服务、工程设计的建设性意见、后续维护、"
                  "总体评价、改进建议等方面对该项目施工方予以评价说明)\n" + fmt(v["owner_evaluation"])
                  + "\n建设单位（用户）签字（盖章）\n" + zh_date(v.get("owner_evaluation_date")), 7)])
    table(d, rows, 7, style)


def seed_site(d, v: dict, style: str) -> None:
    d.add_paragraph("实施全省用户满意工程先进单位（建筑工程类）")
    d.add_paragraph("现场巡视记录表")
    table(d, [["企业名称", (fmt(v["company_name"]), 3)], ["工程名称", (fmt(v["project_name"]), 3)],
              ["现场巡视情况", (fmt(v["inspection_notes"]), 3)],
              ["推进机构检查人", fmt(v["inspector"]), "日期", zh_date(v["date"])]], 4, style)


def seed_status(d, v: dict, style: str) -> None:
    d.add_paragraph("企业实施用户满意工程情况表")
    d.add_paragraph(f"企业名称（公章）:{v['company_name']}")
    demand = ["用户回访", "投诉分析", "与用户接触的相关人员意见收集", "企业定期开展市场调研", "第三方市场调研", "其他"]
    survey = ["不定期开展调查", "企业自行进行定期调查", "委托第三方进行定期调查"]
    improve = {"确定改进点和目标": "确定改进点和目标", "进行系统性改进": "进行系统性改进  （请附相关材料）"}
    table(d, [
        [("企业用户满意工程推进情况统计", 1, 5), "企业用户数量", fmt(v["customer_count"])],
        [None, "是否有用户满意信息收集及持续改进的管理类文件",
         boxes(["有（请附复印件）", "无"], ["有（请附复印件）"] if v["has_management_docs"] else ["无"], "   ")],
        [None, "用户需求及收集方式", boxes(demand, v["demand_collection"], "\n")],
        [None, "用户满意度调查情况", boxes(survey, v["survey_practice"], "\n")],
        [None, "用户满意度调查结果改进情况",
         boxes(list(improve.values()), [improve[k] for k in v["improvement"]], "\n")],
        [("企业实施用户满意工程情况介绍：（另附文字材料）\n具体内容结构如下：\n关于*****公司实施用户满意工程情况的报告\n"
          "1、企业概貌（300字）；\n3.1以顾客为导向的企业文化", 3)],
    ], 3, style)


def seed_commitment(d, v: dict, style: str = "glyph") -> None:
    """The 承诺书's last lines; the date where applicants put it: after 日期, alone on the next line (w14),
    on the seal line itself (check)."""
    d.add_paragraph("企业用户满意经营承诺书（范本）")
    d.add_paragraph("为构建诚信经营、用户满意的市场环境，维护消费者的合法权益，本组织郑重向广大用户承诺：")
    d.add_paragraph("一、了解用户需求，满足用户需要。")
    seal = f"                                  承诺企业（盖章）：{v['company_name']}"
    if style == "check":
        d.add_paragraph(f"{seal}    {zh_date(v['date'])}")
    elif style == "w14":
        d.add_paragraph(seal)
        d.add_paragraph(f"                                  {zh_date(v['date'])}")
    else:
        d.add_paragraph(seal)
        d.add_paragraph(f"日期：{zh_date(v['date'])}")


def seed_respondents(d, rows: list[dict]) -> None:
    d.add_paragraph("被访者信息登记（样）表")
    head = ["序号", "姓名", "联系方式", "调查方式", "调查时间", "工作单位"]
    keys = ["seq", "name", "contact", "survey_method", "survey_date", "employer"]
    body = [[fmt(r.get(k)) for k in keys] for r in rows] + [[" "] * 6] * 3
    table(d, [head, *body], 6)
    d.add_paragraph("注：1. 本表为企业委托第三方用户满意度测评时采集被访者信息的登记样表；")


SEED_FORMS = ("cover", "recommendation", "site_inspection", "application", "implementation_status", "commitment",
              "respondents")


def seed_packet(path: Path, category: str, values: dict, style: str = "glyph", omit: tuple = (),
                only: tuple | None = None) -> Path:
    """Write a packet by hand in the seed's layout (product or construction), in one .docx."""
    d = docx.Document()
    for form in only or SEED_FORMS:
        if form in omit or (form == "site_inspection" and category != "construction"):
            continue
        v = values.get(form)
        if form == "cover":
            seed_cover(d, v, category, style)
        elif form == "recommendation":
            seed_recommendation(d, v, style)
        elif form == "site_inspection":
            seed_site(d, v, style)
        elif form == "application":
            (seed_product if category == "product" else seed_construction)(d, v, style)
        elif form == "implementation_status":
            seed_status(d, v, style)
        elif form == "commitment":
            seed_commitment(d, v, style)
        elif form == "respondents":
            seed_respondents(d, v)
        d.add_page_break()
    d.save(path)
    return path


# --- the corpus ----------------------------------------------------------------------------------


def template_packet(path: Path, category: str, values: dict) -> Path:
    """Write a packet rendered from the project's templates, filled with `values`."""
    from pipeline.definitions.campaign import DEFAULT_CAMPAIGN, load_campaign
    from pipeline.generating.packet import render_packet

    def printed(value):
        if isinstance(value, dict):
            return f"{zh_date(value['start'])}至{zh_date(value['end'])}"
        return value

    # None would print as 'None'.
    by_form = {k: {f: printed(x) for f, x in v.items() if x is not None}
               for k, v in values.items() if k not in ("respondents", "cover")}
    by_form["respondents"] = {"respondents": [{k: x for k, x in r.items() if x is not None}
                                              for r in values["respondents"]]}
    by_form["cover"] = {f: x for f, x in values["cover"].items() if x is not None}
    return render_packet(category, by_form, path, load_campaign(DEFAULT_CAMPAIGN).context())


class Corpus:
    """Collects entries and their expected facts while the inbox is written."""

    def __init__(self, root: Path):
        self.inbox = root / "inbox"
        self.scratch = root / "scratch"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.facts: dict[str, dict] = {}
        self.to_pdf: list[tuple[Path, Path]] = []  # (docx, wanted pdf)
        self.to_doc: list[tuple[Path, Path]] = []
        self.to_xls: list[tuple[Path, Path]] = []

    def folder(self, name: str) -> Path:
        path = self.inbox / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def expect(self, name: str, category, values: dict | None, codes=(), reading_codes=(), check=None):
        company = (values or {}).get("cover", {}).get("company_name") if values else None
        self.facts[name] = {"category": category, "company": company,
                            "values": expected_values(values) if values else {},
                            "check": check, "codes": set(codes), "reading_codes": set(reading_codes)}

    def extras(self, folder: Path, values: dict, category: str, report: dict | None = None, survey: dict | None = None):
        """Add the report, the survey report (PDF, made in the batch) and the licence image to a folder."""
        company = values["cover"]["company_name"]
        report_docx(folder / "实施用户满意工程情况的报告.docx", company, **(report or {}))
        src = survey_report_docx(self.scratch / f"{folder.name}-测评报告.docx", **(survey or {}))
        self.to_pdf.append((src, folder / "用户满意度测评报告.pdf"))
        png(folder / "营业执照.png")
        if category == "product":
            png(folder / "商标注册证.png")

    def convert(self) -> None:
        """Make every wanted .pdf and .doc in one LibreOffice start per target, both at once."""
        from pipeline.common import office

        jobs = [(self.to_pdf, "pdf"), (self.to_doc, "doc"), (self.to_xls, "xls")]
        results: dict[str, dict] = {}

        def run(pairs, target):
            results[target] = office.convert([s for s, _ in pairs], target, self.scratch / f"out-{target}")

        threads = [threading.Thread(target=run, args=job) for job in jobs if job[0]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for pairs, target in jobs:
            for src, dest in pairs:
                made = results[target][src]
                if not isinstance(made, Path):
                    raise RuntimeError(f"LibreOffice could not make {dest.name}: {made}")
                made.replace(dest)


def build_corpus(root: Path) -> dict[str, dict]:
    """Given an empty folder, write the inbox `root/inbox` and return entry name → expected facts."""
    c = Corpus(Path(root))

    # (a) round trips from the project's own templates, one per category, complete.
    for category in ("enterprise", "product", "construction", "service"):
        values = packet_values(category)
        if category == "enterprise":
            for part in ("main_project_name", "main_project_area", "main_project_cost", "main_project_period",
                         "other_project_name", "other_project_area", "other_project_cost", "other_project_period",
                         "service_returns", "service_complaints", "main_service_name", "main_service_sales",
                         "main_service_visitors", "main_service_profit_tax", "other_service_name",
                         "other_service_sales", "other_service_visitors", "other_service_profit_tax"):
                values["application"][part] = None
        folder = c.folder(f"tpl-{category}")
        template_packet(folder / "申报材料.docx", category, values)
        c.extras(folder, values, category)
        c.expect(folder.name, category, values)

    # (b) the seed's layout by hand: each tick style, split or whole, doc, pdf, xlsx respondents, GBK zip.
    values = packet_values("product", company="黑龙江北方家电有限公司")
    folder = c.folder("seed-product-sym")
    seed_packet(folder / "申报材料.docx", "product", values, style="sym")
    c.extras(folder, values, "product")
    c.expect(folder.name, "product", values)

    dates = {"recommendation__opinion_date": "2017-05-16", "recommendation__approval_opinion": "同意。",
             "recommendation__approval_date": "2017-05-25", "application__owner_evaluation_date": "2017-05-12"}
    values = packet_values("construction", company="哈尔滨城建工程有限公司", **dates)
    folder = c.folder("seed-construction-w14")
    seed_packet(folder / "全部材料.docx", "construction", values, style="w14")
    c.extras(folder, values, "construction")
    c.expect(folder.name, "construction", values)

    values = packet_values("product", company="齐齐哈尔重型电器有限公司", respondents=respondents(120, seed=7),
                           recommendation__valid_questionnaires=120)
    folder = c.folder("seed-product-legacy-xlsx")
    seed_packet(folder / "申报材料.docx", "product", dict(values, respondents=[]), style="legacy")
    respondents_xlsx(folder / "被访者.xlsx", values["respondents"], title=True)
    c.extras(folder, values, "product", survey={"sample": 120})
    c.expect(folder.name, "product", values)

    # The same register as an old Excel .xls (made from an .xlsx by LibreOffice in the batch below).
    values = packet_values("product", company="鸡西矿山机械有限公司", respondents=respondents(80, seed=11),
                           recommendation__valid_questionnaires=80)
    folder = c.folder("seed-product-legacy-xls")
    seed_packet(folder / "申报材料.docx", "product", dict(values, respondents=[]), style="legacy")
    c.to_xls.append((respondents_xlsx(c.scratch / "被访者-xls.xlsx", values["respondents"], title=True),
                     folder / "被访者.xls"))
    c.extras(folder, values, "product", survey={"sample": 80})
    c.expect(folder.name, "product", values, check="xls")

    values = packet_values("product", company="牡丹江光华电器有限公司")
    folder = c.folder("seed-product-split-square")
    for form in SEED_FORMS:
        seed_packet(folder / f"{form}.docx", "product", values, style="square", only=(form,))
    c.extras(folder, values, "product")
    c.expect(folder.name, "product", values)

    values = packet_values("construction", company="大庆石化建设有限公司", **dates)
    folder = c.folder("seed-construction-doc-check")
    src = seed_packet(c.scratch / "construction.docx", "construction", values, style="check")
    c.to_doc.append((src, folder / "申报材料.doc"))
    c.extras(folder, values, "construction")
    c.expect(folder.name, "construction", values)

    values = packet_values("product", company="佳木斯电机有限公司", recommendation__opinion_date="2017-05-16")
    folder = c.folder("seed-product-pdf")
    src = seed_packet(c.scratch / "product-pdf.docx", "product", values, style="glyph")
    c.to_pdf.append((src, folder / "申报材料.pdf"))
    c.extras(folder, values, "product")
    c.expect(folder.name, "product", values)

    values = packet_values("product", company="哈尔滨冰雪食品有限公司")
    zsrc = c.scratch / "zip"
    zsrc.mkdir()
    seed_packet(zsrc / "p.docx", "product", values, style="glyph")
    report_docx(zsrc / "r.docx", values["cover"]["company_name"], style="chinese")
    png(zsrc / "l.png")
    gbk_zip(c.inbox / "冰雪食品申报材料.zip", {"申报材料\\申报材料.docx": (zsrc / "p.docx").read_bytes(),
                                          "申报材料/情况报告.docx": (zsrc / "r.docx").read_bytes(),
                                          "申报材料/营业执照.png": (zsrc / "l.png").read_bytes()})
    c.expect("冰雪食品申报材料.zip", "product", values, codes=set(), check="zip")

    # (c) every rule broken once, on template-rendered product packets (construction for its own rules).
    breaks = {
        "below_threshold": dict(recommendation__satisfaction_score=75),
        "survey_too_early": dict(recommendation__survey_period={"start": "2016-10-01", "end": "2017-01-31"}),
        "series_product": dict(application__product_model="DSZF系列"),
        "missing_field": dict(application__legal_representative=None),
        "invalid_format": dict(application__postcode="15000"),
        "no_category": dict(cover__category=None),
        "multiple_categories": dict(cover__category=["product", "service"]),
        "respondent_count": dict(respondents=respondents(45)),
        "respondent_duplicate": dict(respondents=respondents(60, duplicate=True)),
    }
    for n, (code, change) in enumerate(breaks.items()):
        values = packet_values("product", company=f"规则{n:02d}测试电器有限公司", **change)
        folder = c.folder(f"rule-{code}")
        template_packet(folder / "申报材料.docx", "product", values)
        c.extras(folder, values, "product")
        category = None if code in ("no_category", "multiple_categories") else "product"
        c.expect(folder.name, "product" if category is None else category, values, codes={code})
    c.facts["rule-no_category"]["category"] = "product"  # from the 申请表 variant
    c.facts["rule-multiple_categories"]["category"] = "product"

    values = packet_values("product", company="规则20测试电器有限公司")
    folder = c.folder("rule-report_too_long")
    template_packet(folder / "申报材料.docx", "product", values)
    c.extras(folder, values, "product", report={"scale": 1.6})
    c.expect(folder.name, "product", values, codes={"report_too_long"})

    values = packet_values("product", company="规则21测试电器有限公司")
    folder = c.folder("rule-report_missing_section")
    template_packet(folder / "申报材料.docx", "product", values)
    c.extras(folder, values, "product", report={"omit": ("3.5", "4")})
    c.expect(folder.name, "product", values, codes={"report_missing_section"})

    values = packet_values("product", company="规则22测试电器有限公司")
    folder = c.folder("rule-missing_form")
    seed_packet(folder / "申报材料.docx", "product", values, omit=("commitment",))
    c.extras(folder, values, "product")
    expected = dict(values)
    expected.pop("commitment")
    c.expect(folder.name, "product", expected, codes={"missing_form"})

    values = packet_values("product", company="规则23测试电器有限公司", cover__category="service")
    folder = c.folder("rule-inconsistent")
    template_packet(folder / "申报材料.docx", "product", values)
    c.extras(folder, values, "product")
    c.expect(folder.name, "service", values, codes={"inconsistent"})

    values = packet_values("construction", company="规则24测试建设有限公司", application__floor_area=0.5,
                           application__budget=1200)
    folder = c.folder("rule-construction_below_threshold")
    template_packet(folder / "申报材料.docx", "construction", values)
    c.extras(folder, values, "construction")
    c.expect(folder.name, "construction", values, codes={"below_threshold"})

    for suffix in ("a", "b"):
        values = packet_values("service", company="重复申报服务有限公司")
        folder = c.folder(f"rule-duplicate_application-{suffix}")
        template_packet(folder / "申报材料.docx", "service", values)
        c.extras(folder, values, "service")
        c.expect(folder.name, "service", values, codes={"duplicate_application"})

    values = packet_values("product", company="规则25测试电器有限公司")
    folder = c.folder("rule-unreadable_file")
    template_packet(folder / "申报材料.docx", "product", values)
    c.extras(folder, values, "product")
    data = (folder / "申报材料.docx").read_bytes()
    (folder / "附件-损坏.docx").write_bytes(data[: len(data) // 3])
    c.expect(folder.name, "product", values, codes={"unreadable_file"}, reading_codes={"unreadable_file"})

    # A file that is nothing at all: one error record, never a crash.
    (c.inbox / "空文件.docx").write_bytes(b"")
    c.expect("空文件.docx", None, None, codes={"unreadable_file"}, reading_codes={"unreadable_file"})

    c.convert()
    return c.facts
