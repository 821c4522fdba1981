"""Long realistic values for every field of every form: what the print tests fill the forms with.

Long company names and addresses, phones with extensions, e-mail addresses, paragraphs in the
tall text cells: the values that break a table laid out for short ones.
"""

from __future__ import annotations

from pipeline.definitions.forms import Form, load_forms

COMPANY = "黑龙江省哈尔滨市北方重型机械装备制造集团有限责任公司"
ADDRESS = "黑龙江省哈尔滨市香坊区香顺街53号质量技术监督局大楼东侧副楼三层301室"
PARAGRAPH = ("该项目自2015年起连续三年获得哈尔滨市优质工程“丁香杯”奖，2016年获黑龙江省建设工程“龙江杯”"
             "优质工程奖，建设单位对施工质量、工期控制和售后维护服务给予了充分肯定，用户回访满意率达到96.5%，"
             "并就后续维护提出了进一步缩短响应时间的改进建议。")
BY_WORD = [  # label words → a long value of that kind
    (("邮编", "邮  编", "邮       编"), "150036"),
    (("调查方式",), "电话访问（第三方测评机构）"),
    (("电话", "联系方式", "电  话", "电        话", "传  真", "传真"), "0451-87979096转8001"),
    (("邮箱", "电子信箱", "电  子  信  箱"), "zhang.xiaoming@bfzj-group.com.cn"),
    (("地址", "地  址", "通  信  地  址", "通讯地址", "办 公 地 址"), ADDRESS),
    (("帐号", "帐    号"), "2310 0063 8018 0100 2147 6"),
    (("开户行", "开 户 行"), "交通银行股份有限公司哈尔滨分行珠江路支行"),
    (("型号", "规格"), "北方牌 BFZJ-2000/35-ⅢA 型高压真空断路器（额定电压35kV，额定电流2000A）"),
    (("服务内容", "标准"), "家庭保洁、月嫂育婴、养老护理三项服务，执行GB/T 31771-2015《家政服务 母婴生活护理服务质量规范》等7项标准"),
    (("产品名称", "产品"), "北方牌 BFZJ-2000/35 型高压真空断路器"),
    (("工程名称", "工程"), "哈尔滨市松北区利民大道保障性住房二期工程"),
    (("服务项目名称", "服务名称", "服务项目"), "“龙江管家”家电24小时上门维修服务"),
    (("姓名", "代表人", "联系人", "负责人", "代理人", "负  责  人", "检查人"), "欧阳建国"),
    (("职务",), "副总经理兼质量总监"),
    (("名称", "名  称", "机构"), COMPANY),
    (("单位", "工作单位"), COMPANY),
]


def long_text(field, form: Form, tall: set[str]) -> str:
    """Given a text field, its form and the tall cells' fields, return a long value of the kind its label names."""
    if field.id in tall:
        return PARAGRAPH
    label = field.label.replace("（", "(")
    for words, value in BY_WORD:
        if any(w.replace(" ", "") in label.replace(" ", "") for w in words):
            return value
    return "三年内无重大安全、质量事故，无用户重大投诉"


def tall_fields(form: Form) -> set[str]:
    """Given a form, return the fields printed in cells with a height (paragraphs go there)."""
    tall = set()
    for item in form.layout:
        if isinstance(item, dict) and "table" in item:
            for row in item["table"].get("rows") or []:
                for cell in row:
                    if isinstance(cell, dict) and cell.get("height") and cell.get("field"):
                        tall.add(cell["field"])
    return tall


def long_value(field, form: Form, tall: set[str]):
    """Given a field, return a long realistic value for it, of its type."""
    if field.type == "choice":
        return next(iter(field.options))
    if field.type == "multi":
        return list(field.options)
    if field.type == "yesno":
        return True
    if field.type == "number":
        return "123456.78"
    if field.type == "date":
        return "2017年12月31日"
    if field.type == "period":
        return "2017年1月5日至2017年3月20日"
    if field.type == "list":
        lines = int(form.get("lines_per_category") or 4)
        return [f"{COMPANY}：北方牌 BFZJ-2000 型高压真空断路器" for _ in range(lines)]
    return long_text(field, form, tall)


def long_values(form: Form) -> dict:
    """Given a form, return every field filled with a long realistic value."""
    tall = tall_fields(form)
    return {fid: long_value(field, form, tall) for fid, field in form.fields.items()}


def long_rows(count: int = 12) -> list[dict]:
    """Return rows for the 被访者信息登记表, each field long."""
    form = load_forms()["respondents"]
    return [{**long_values(form), "seq": str(n)} for n in range(1, count + 1)]


def register_rows(count: int) -> list[dict]:
    """Return `count` plain rows for the 被访者信息登记表 (a register as a third party hands it over)."""
    methods = ("电话访问", "入户访问", "网络问卷")
    return [{"seq": str(n), "name": "欧阳" + "建国明华"[n % 4], "contact": f"139{n:08d}", "survey_method": methods[n % 3],
             "survey_date": f"2017年2月{1 + n % 28}日", "employer": f"哈尔滨第{n}中学" if n % 3 else ""}
            for n in range(1, count + 1)]
