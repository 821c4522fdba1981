"""Filled packets of the generated programs, built in code: what an applicant types, and what parse must return.

`typed(form)` gives, for every field of a program's form, the text an applicant types (and for a list
form its rows); `expected(form, text)` the value the record must hold for it. `write_filled` renders
the blank packet's templates with those values (docxtpl, no office suite), so the parsing tests run
fast; tests/test_program_roundtrip.py types the same values through LibreOffice.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.definitions.programs import load_program, resolve_campaign
from pipeline.word.build import build_template
from pipeline.definitions.program_forms import entry_kinds, program_forms
from pipeline.word.render import render_docx

#: What applicants type for the fields the criteria read, so a complete packet meets every checkable criterion.
TYPED = {
    "company_name": "沈阳示范电器有限公司", "name": "李晓红", "team_name": "天河营业厅服务班",
    "applicant": "沈阳示范电器有限公司", "credit_code": "91210100MA0XY1234K", "legal_representative": "王建国",
    "contact_person": "赵丽", "phone": "024-23456789", "contact": "13812345678", "email": "zhaoli@example.cn",
    "postcode": "110001", "address": "沈阳市和平区南京北街1号", "satisfaction_index": "88.5",
    "credit_rating": "AAA", "consecutive_title_years": "3", "product_name": "变频空调",
    "product_model": "KFR-35GW/BP3", "project_name": "浑南科技馆", "floor_area": "2.4",
    "construction_value": "5600", "completion_date": "2019年6月1日", "occupancy": "92", "service_name": "家电上门安装",
    "recommending_unit": "沈阳市质量协会", "promoting_unit": "天河区质量协会", "opinion": "同意推荐，材料真实齐全。",
    "opinion_date": "2021年3月8日", "gender": "女", "birth": "1985年7月12日", "political": "中共党员",
    "education": "大学本科", "employer": "广州供电局", "post": "客户经理", "position": "总经理",
    "service_years": "12", "team_leader": "陈志强", "members": "9", "qms": "已通过ISO9001认证", "employer_qms": "已通过ISO9001认证",
    "honours": "2019年度优秀员工", "deeds": "十年如一日为客户提供优质服务，获得客户一致好评。",
    "training": "每年组织两次质量管理培训", "qms_certificate": "00119Q31234R2L",
    "satisfaction_history": "2018年85分，2019年86分，2020年88分", "survey_agency": "辽宁省用户满意度测评中心",
}
#: The option each choice field gets: the highest tier (so its criteria are checked too), a public building.
CHOSEN = {"tier": "benchmark", "project_kind": "公共建筑"}
#: The text of a 自我评价报告, typed under its title.
REPORT_BODY = ["一、组织概况", "本公司始终坚持以用户为中心的经营理念，建立健全质量保证体系和用户服务体系。",
               "二、自我评价", "对照评审标准逐条开展自我评价，用户满意度持续提升。"]
#: Rows of a list form, by field id.
ROW_TEXT = {"material": ["营业执照复印件", "用户满意度测评报告"], "member_name": ["陈志强", "林小梅"],
            "member_post": ["班组长", "营业员"], "member_years": ["10", "6"], "pages": ["2", "35"]}


def typed(form) -> dict | list:
    """Given a generated form, return what the applicant types: field id → text (checklist: option), or rows."""
    if form.get("kind") == "report":
        return {"body": REPORT_BODY}
    if form.get("rows"):
        n = len(next(iter(ROW_TEXT.values())))
        return [{fid: (str(i + 1) if fid == "seq" else ROW_TEXT.get(fid, [f"第{i + 1}行"] * n)[i])
                 for fid in form.fields} for i in range(n)]
    values = {}
    rows = form.get("criteria") or {}
    for fld in form.fields.values():
        if fld.id in rows:
            values[fld.id] = "符合"
        elif any(fld.id == r["evidence"] for r in rows.values()):
            values[fld.id] = f"附件{fld.id[-2:]}"
        elif fld.type == "choice":
            values[fld.id] = CHOSEN.get(fld.id) if CHOSEN.get(fld.id) in fld.options else next(iter(fld.options))
        else:
            values[fld.id] = TYPED.get(fld.id, f"第{len(values) + 1}项")
    return values


def expected(form, text):
    """Given a form and what was typed for it (typed()), return the values its record must hold."""
    from pipeline.common.text import to_date, to_number

    def one(fld, raw):
        if fld.type == "number":
            return to_number(raw, fld.unit)
        if fld.type == "date":
            return to_date(raw)
        return raw

    if form.get("kind") == "report":
        from pipeline.common.text import body_chars

        title = form.title.replace("{{ c.year }}", str(resolve_campaign(form.get("program"), None).year))
        return {"title": title, "chars": body_chars("".join(text["body"])), "sections_present": [],
                "sections_missing": []}
    if isinstance(text, list):
        return [{fid: one(form.fields[fid], raw) for fid, raw in row.items()} for row in text]
    return {fid: one(form.fields[fid], raw) for fid, raw in text.items()}


def packet_forms(pid: str, cid: str) -> list:
    """Given a program and a category, return its packet's forms (those the round trip fills)."""
    return program_forms(load_program(pid), cid)


def context_for(form, text, campaign) -> dict:
    """Given a form, what was typed and the campaign, return the template context that prints it."""
    if isinstance(text, list):
        return {"c": campaign.context(), "v": {}, "rows": text}
    return {"c": campaign.context(), "v": dict(text), "rows": []}


SURVEY_REPORT = ["沈阳示范电器有限公司用户满意度测评报告", "辽宁省用户满意度测评中心", "用户满意度指数为88.5分，有效样本量为320。"]


def write_survey_report(path: Path) -> Path:
    """Given a path, write the third-party survey report every program's articles ask for (an attachment)."""
    import docx

    document = docx.Document()
    for line in SURVEY_REPORT:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def write_filled(pid: str, cid: str, folder: Path, change=None, survey: bool = True) -> dict:
    """Given a program, a category and a folder, write its filled packet there (one .docx per form), with the
    survey report attached unless `survey` is false.

    `change(form_id, text)` may alter what is typed (a planted violation). Returns form key → what was typed;
    a form `change` returns None for is left out of the packet.
    """
    campaign = resolve_campaign(pid, None)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if survey:
        write_survey_report(folder / "测评报告.docx")
    written = {}
    for form in packet_forms(pid, cid):
        text = typed(form)
        if change:
            text = change(form.id, text)
        if text is None:
            continue
        template = build_template(form, folder / f".{form.key}.template.docx")
        path = render_docx(template, context_for(form, text, campaign), folder / f"{form.key}.docx")
        template.unlink()
        if form.get("kind") == "report":
            add_paragraphs(path, text["body"])
        written[form.key] = text
    return written


def add_paragraphs(path: Path, lines: list[str]) -> None:
    """Given a .docx and lines of text, append one paragraph per line (what the applicant writes under a title)."""
    import docx

    document = docx.Document(str(path))
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))


def program_cases() -> list[tuple[str, str]]:
    """Return (program, category) for every category of every generated program."""
    from pipeline.definitions.programs import all_programs

    return [(p.id, cid) for p in all_programs() if "printed" not in entry_kinds(p) for cid in p.categories]


def earlier_titles(program, records: list[dict], year: int) -> tuple[list, list[str]]:
    """Earlier registers as `screen --history` reads them: each applicant held its title the three years before
    (the 标杆 tiers of 辽宁 ask for three years running, read from registers, never from the applicant's word)."""
    from datetime import date

    from pipeline.checking.history import Held

    held = [Held(r["company_name"], program.id, r["category"], date(y, 1, 10), date(y, 12, 31), None, "",
                 "往年登记簿.xlsx") for r in records for y in range(year - 3, year)]
    return held, ["往年登记簿.xlsx"]

