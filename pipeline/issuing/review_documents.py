"""The documents of a program's review rounds, from what the round produced (no database here):

- the ranking workbook (排名, 评分明细, 计算方法) and the 评审结果汇总表 for the committee;
- a 资料评审反馈报告 for each applicant the round did not take further: the experts' comments by the sheet's
  own headings (优势 / 不足), without names or scores (001 第十八条);
- a 现场评审报告 for each applicant of a site-visit round: the expert group, its opinion and the problems found
  (第十九条);
- the 公示 list with its period, counted by the program's publicity rule (working days on the Chinese calendar);
- the 审定 record: what the approving body decided about each applicant.

`Entry` carries what these documents say of an applicant (its number, name, category, 推进单位).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.common import xlsx
from pipeline.common.files import safe_filename
from pipeline.word.build import template_path
from pipeline.word.render import render_docx
from pipeline.word.report import write_report


@dataclass(frozen=True)
class Entry:
    """An applicant as the review's documents name it."""

    id: int
    name: str
    category: str
    unit: str


def _num(value) -> float | str:
    return "" if value is None else round(value, 2)


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def result_of(row, rnd) -> str:
    """Given a ranked row and its Round, return its result as the documents print it."""
    if not row.scores:
        return "未评分"
    if rnd.keep is None:
        return f"第 {row.rank} 名"
    return "进入下一环节" if row.kept else "未进入下一环节"


def ranking_workbook(path: Path, program, rnd, ranked: list, entries: dict, scores: list[dict]) -> Path:
    """Given a path, the Program, the Round, its ranked rows, applicant id → Entry and the submitted scores, write
    the workbook (排名, 评分明细, 计算方法) and return its path."""
    book = xlsx.new_workbook()
    header = ["名次", "编号", "申报名称", "类别", "推进单位", "评分数", "原始平均分", "极差", "标准差", "标准化分",
              "离群评分", "缺评专家", "同分", "结果"]
    rows = [[r.rank or "", f"A{r.applicant_id:05d}", entries[r.applicant_id].name, entries[r.applicant_id].category,
             entries[r.applicant_id].unit, len(r.scores), _num(r.raw_mean), _num(r.spread), _num(r.sd),
             _num(r.normalised), "、".join(r.outliers), "、".join(r.missing),
             "、".join(f"A{t:05d}" for t in r.tied_with), result_of(r, rnd)] for r in ranked]
    xlsx.add_sheet(book, "排名", header, rows)
    normal = {(r.applicant_id, e): v for r in ranked for e, v in r.normalised_by.items()}
    crit = rnd.sheet.criteria
    detail = [[f"A{s['applicant_id']:05d}", entries[s["applicant_id"]].name, s["expert"], s["total"],
               _num(normal.get((s["applicant_id"], s["expert"]))), *(s["points"].get(c.id) for c in crit),
               *(s["comments"].get(m.id, "") for m in rnd.sheet.comments)] for s in scores]
    xlsx.add_sheet(book, "评分明细", ["编号", "申报名称", "专家", "总分", "标准化分",
                                   *(f"{c.name}（满分 {c.max:g}，权重 {c.weight:g}）" for c in crit),
                                   *(m.label for m in rnd.sheet.comments)], detail)
    xlsx.add_sheet(book, "计算方法", ["项目", "内容"], [
        ["评审轮次", f"{program.name} {rnd.name}（{rnd.article}）"], ["评审标准", rnd.sheet.standard],
        ["计算方法", rnd.sheet.method_text()],
        ["名额", f"不超过 {rnd.keep} 个" if rnd.keep else "不限"]])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    xlsx.save(book, path)
    return path


def summary_document(path: Path, program, rnd, ranked: list, entries: dict, closed: bool) -> Path:
    """Given a path, the Program, the Round, its ranked rows and applicant id → Entry, write the 评审结果汇总表."""
    rows = [[r.rank or "—", entries[r.applicant_id].name, entries[r.applicant_id].category, len(r.scores),
             _num(r.raw_mean), _num(r.spread), _num(r.normalised),
             "；".join(filter(None, ["离群：" + "、".join(r.outliers) if r.outliers else "",
                                     "缺评：" + "、".join(r.missing) if r.missing else ""])) or "—",
             result_of(r, rnd)] for r in ranked]
    kept = sum(r.kept for r in ranked if r.scores)
    return write_report(path, f"{program.name}评审结果汇总表（{rnd.name}）", [
        ("text", f"评审依据：{rnd.sheet.standard}。{rnd.article}。"),
        ("text", f"参评 {len(ranked)} 家，已评分 {sum(1 for r in ranked if r.scores)} 家；"
                 + (f"按名额不超过 {rnd.keep} 个，进入下一环节 {kept} 家。" if rnd.keep else "名额不限。")
                 + ("本轮评审已结束，评分已锁定。" if closed else "本轮评审尚未结束，结果为当前评分的汇总。")),
        ("table", ["名次", "申报名称", "类别", "评分数", "原始平均分", "极差", "标准化分", "标记", "结果"], rows,
         [0.6, 3, 1, 0.7, 1, 0.7, 1, 1.6, 1.4]),
        ("heading", "计算方法"), ("text", rnd.sheet.method_text())])


def comments_report(path: Path, title: str, entry: Entry, lines: list[str], sheet, comments: list[dict],
                    group: list[str] | None = None, sign: list[str] = ()) -> Path:
    """Given a path, a title, the applicant, opening lines, the Sheet and the experts' comments (comment id → text,
    one dict per expert), write the report: one heading per comment of the sheet with every expert's text
    (numbered, without names); with `group`, the expert group's names first; `sign`: lines signed at the end."""
    blocks = [("text", f"申报组织：{entry.name}（{entry.category}）"), *(("text", line) for line in lines)]
    if group:
        blocks.append(("text", f"评审专家组：{'、'.join(group)}"))
    for m in sheet.comments:
        texts = [c.get(m.id, "").strip() for c in comments if c.get(m.id, "").strip()]
        blocks.append(("heading", m.label))
        blocks += [("text", f"{n}．{t}") for n, t in enumerate(texts, 1)] or [("text", "（无）")]
    blocks += [("right", line) for line in sign]
    return write_report(path, title, blocks)


def feedback_reports(folder: Path, program, rnd, ranked: list, entries: dict, scores: list[dict],
                     day: date) -> list[Path]:
    """Given a folder, the Program, a Round with a quota, its ranked rows, the Entries and the scores, write a
    资料评审反馈报告 for each scored applicant not taken further (001 第十八条); return the paths."""
    out = []
    for row in ranked:
        if not row.scores or row.kept:
            continue
        entry = entries[row.applicant_id]
        mine = [s["comments"] for s in scores if s["applicant_id"] == row.applicant_id]
        name = safe_filename(f"{rnd.name}反馈报告-{entry.name}")
        out.append(comments_report(Path(folder) / f"{name}.docx", f"{program.name}{rnd.name}反馈报告", entry, [
            f"经{rnd.name}（{rnd.article}），贵组织未能进入下一环节。评审专家组针对组织的优势和不足反馈如下，"
            "供持续改进参考。"], rnd.sheet, mine, sign=[program.get("organiser") or "", _day(day)]))
    return out


def site_reports(folder: Path, program, rnd, ranked: list, entries: dict, scores: list[dict]) -> list[Path]:
    """Given a folder, the Program, a site-visit Round, its ranked rows, the Entries and the scores, write a
    现场评审报告 for each applicant visited (scored): the expert group, its opinion and problems; return the paths."""
    out = []
    for row in ranked:
        if not row.scores:
            continue
        entry = entries[row.applicant_id]
        mine = [s for s in scores if s["applicant_id"] == row.applicant_id]
        name = safe_filename(f"{rnd.name}报告-{entry.name}")
        out.append(comments_report(Path(folder) / f"{name}.docx", f"{program.name}{rnd.name}报告", entry, [
            f"依据：{rnd.sheet.standard}；{rnd.article}。",
            f"专家组评分：平均 {row.raw_mean:.2f} 分（{len(mine)} 位专家）。"], rnd.sheet,
            [s["comments"] for s in mine], group=sorted(s["expert"] for s in mine)))
    return out


def publicity_list(path: Path, program, entries: list, start: date, end: date, period: str, article: str) -> Path:
    """Given a path, the Program, the Entries proposed, the first and last day of the publicity period, how it is
    counted (7 个工作日) and its article, write the 公示名单."""
    return write_report(path, f"{program.name}拟获奖组织名单公示", [
        ("text", f"根据评审结果，现将拟获奖组织名单予以公示，广泛征求社会意见（{article}）。"),
        ("text", f"公示期：{_day(start)}至{_day(end)}（{period}）。公示期内如有异议，请向{program.get('organiser')}"
                 "书面反映，并提供必要的证明材料。"),
        ("table", ["序号", "组织名称", "类别", "推进单位"],
         [[n, e.name, e.category, e.unit] for n, e in enumerate(entries, 1)], [0.6, 4, 1.2, 3]),
        ("right", program.get("organiser") or ""), ("right", _day(start))])


def approval_record(path: Path, program, decided: list[tuple], day: date, body: str, article: str) -> Path:
    """Given a path, the Program, (Entry, decision text) pairs, the day, the approving body and its article, write
    the 审定记录."""
    return write_report(path, f"{program.name}审定记录", [
        ("text", f"{body}于{_day(day)}听取评审工作报告，审定获奖组织（{article}）。审定结果如下："),
        ("table", ["序号", "组织名称", "类别", "审定意见"],
         [[n, e.name, e.category, text] for n, (e, text) in enumerate(decided, 1)], [0.6, 4, 1.2, 2.5]),
        ("text", f"获奖组织 {sum(1 for _, t in decided if t == '审定通过')} 家。"),
        ("right", f"{body}（签章）"), ("right", _day(day))])


def printable(value):
    """Given a record's value, return it as a filled form prints it: a period as 起至止, everything else as is
    (numbers, ticks and lists are what the template's own tags print)."""
    if isinstance(value, dict) and {"start", "end"} <= set(value):
        return f"{value['start']}至{value['end']}"
    return value


def approval_forms(folder: Path, campaign_ctx, form_key: str, decided: list[tuple], field: str,
                   date_field: str | None, day: date) -> list[Path]:
    """Given a folder, the campaign's template context, the form that holds the approving body's opinion (its
    template key), (Entry, the form's values in the record, the decision's text) per applicant, the opinion's field
    and date field and the day, write each applicant's form with the opinion filled in; return the paths."""
    out = []
    for entry, values, text in decided:
        filled = {k: printable(v) for k, v in (values or {}).items()}
        filled[field] = text
        if date_field:
            filled[date_field] = _day(day)
        target = Path(folder) / f"{safe_filename(entry.name)}.docx"
        target.parent.mkdir(parents=True, exist_ok=True)
        out.append(render_docx(template_path(form_key), {"c": campaign_ctx, "v": filled, "rows": []}, target))
    return out
