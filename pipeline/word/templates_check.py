"""`manyi templates check`: what a Word edit broke in a template, named by file and paragraph.

Five kinds of finding: a tag Word split across runs (`{{ v.company` in one run, `_name }}` in the
next), a tag that does not parse, a variable nobody provides (`c.xxx` not in the campaign, `v.xxx`
not a field of the form), a field's tag that went missing (its blank would print empty) and a label
of the form that went missing from the template. The form is recognised from the template's own
text (its labels and title), so a renamed copy is checked as fully as the original.
"""

from __future__ import annotations

import functools
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta, nodes
from lxml import etree

from pipeline.common.text import fold
from pipeline.definitions.forms import load_forms
from pipeline.word import TEMPLATES_DIR
from pipeline.word.build import build_template, printed_labels, template_forms
from pipeline.word.render import environment

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
STRAY = re.compile(r"\{\{|\{%|\}\}|%\}")
DOCXTPL_PREFIX = re.compile(r"^(\{[{%])(?:p|tr|tc|r)\s")
#: Names every render provides besides `c` and `v` (pipeline.word.render, pipeline.generating.packet).
PROVIDED = {"c", "v", "box", "numbered", "row_pages", "rows", "forms", "loop"}
CLOSERS = {"for": "endfor", "if": "endif", "with": "endwith", "block": "endblock", "macro": "endmacro"}


@dataclass(frozen=True)
class Finding:
    """One problem: the file, where in it (paragraph, or table/row/cell), its kind and a Chinese message."""

    file: Path
    where: str
    kind: str  # split, syntax, variable, label, unreadable
    message: str

    def __str__(self) -> str:
        return f"{self.file.name}{' ' + self.where if self.where else ''}：{self.message}"


@dataclass
class Paragraph:
    """A paragraph's text, the run each character came from, and where it sits."""

    where: str
    text: str
    run_of: list


# --- reading paragraphs --------------------------------------------------------------------------


def run_text(run: etree._Element) -> str:
    """Given a w:r, return its text (w:t), tabs and line breaks included."""
    parts = []
    for node in run.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
        parts.append(node.text or "" if node.tag == f"{W}t" else ("\t" if node.tag == f"{W}tab" else "\n"))
    return "".join(parts)


def locate(p: etree._Element, tables: dict, body_numbers: dict) -> str:
    """Given a paragraph, return where it is: '第 3 段' or '表格 2 第 4 行第 1 格'."""
    cell = next((a for a in p.iterancestors(f"{W}tc")), None)
    if cell is None:
        return f"第 {body_numbers[p]} 段"
    row = cell.getparent()
    table = row.getparent()
    r = [c for c in table if c.tag == f"{W}tr"].index(row) + 1
    c = [x for x in row if x.tag == f"{W}tc"].index(cell) + 1
    paras = list(cell.iter(f"{W}p"))
    inner = f"第 {paras.index(p) + 1} 段" if len(paras) > 1 else ""
    return f"表格 {tables[table]} 第 {r} 行第 {c} 格{inner}"


def paragraphs(root: etree._Element) -> list[Paragraph]:
    """Given a w:document, return every paragraph (tables included) in document order."""
    tables = {t: n for n, t in enumerate(root.iter(f"{W}tbl"), 1)}
    all_paras = list(root.iter(f"{W}p"))
    outside = [p for p in all_paras if next(p.iterancestors(f"{W}tc"), None) is None]
    body_numbers = {p: n for n, p in enumerate(outside, 1)}
    result = []
    for p in all_paras:
        text, run_of = "", []
        for n, run in enumerate(p.iter(f"{W}r")):
            piece = run_text(run)
            text += piece
            run_of += [n] * len(piece)
        result.append(Paragraph(locate(p, tables, body_numbers), text, run_of))
    return result


def read_document(path: Path) -> etree._Element:
    """Given a .docx, return its parsed word/document.xml (entities never resolved)."""
    with zipfile.ZipFile(path) as zf:
        data = zf.read("word/document.xml")
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


# --- checks on tags ------------------------------------------------------------------------------


def normalise(tag: str) -> str:
    """Given a tag as typed ('{%tr for r in rows %}'), return it as plain Jinja ('{% for r in rows %}')."""
    return DOCXTPL_PREFIX.sub(r"\1 ", tag)


def tag_findings(path: Path, para: Paragraph) -> tuple[list[Finding], list[tuple[str, str]]]:
    """Given a paragraph, return findings on split or unclosed tags, and its (where, tag) pairs."""
    findings, tags = [], []
    for m in TAG.finditer(para.text):
        runs = set(para.run_of[m.start():m.end()])
        if len(runs) > 1:
            findings.append(Finding(path, para.where, "split",
                                    f"标记 {m.group(0)} 被 Word 拆成了 {len(runs)} 段（请在 Word 中删掉整个标记后一次性重新输入）"))
        tags.append((para.where, m.group(0)))
    rest = TAG.sub("", para.text)
    if STRAY.search(rest):
        findings.append(Finding(path, para.where, "syntax",
                                f"标记不完整：“{rest.strip()[:40]}”（{{{{ 与 }}}}、{{% 与 %}} 须在同一段内成对出现）"))
    return findings, tags


def parse_tag(env: jinja2.Environment, tag: str):
    """Given one tag, return its Jinja AST (block tags get their closer), or the syntax error."""
    plain = normalise(tag)
    words = plain[2:-2].split()
    keyword = words[0] if words else ""
    if plain.startswith("{%") and (keyword.startswith("end") or keyword in ("else", "elif")):
        return None  # closers are checked with the whole template
    source = plain + (f"{{% {CLOSERS[keyword]} %}}" if plain.startswith("{%") and keyword in CLOSERS else "")
    try:
        return env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return exc


def attribute_paths(ast) -> list[tuple[str, ...]]:
    """Given an AST, return each attribute chain read from a name: ('c', 'association', 'fax'), ('v', 'email')."""
    paths = []
    for node in ast.find_all(nodes.Getattr):
        chain, inner = [node.attr], node.node
        while isinstance(inner, nodes.Getattr):
            chain.insert(0, inner.attr)
            inner = inner.node
        if isinstance(inner, nodes.Name):
            paths.append((inner.name, *chain))
    # Keep the longest chains only: c.association.fax, not also c.association.
    return [p for p in paths if not any(q != p and q[: len(p)] == p for q in paths)]


def box_fields(ast) -> list[str]:
    """Given an AST, return the field ids passed to box('<field>', …)."""
    return [call.args[0].value for call in ast.find_all(nodes.Call)
            if isinstance(call.node, nodes.Name) and call.node.name == "box"
            and call.args and isinstance(call.args[0], nodes.Const)]


def campaign_has(context: dict, path: tuple[str, ...]) -> bool:
    """Given the campaign context and an attribute path after `c`, return whether the campaign provides it."""
    value = context
    for name in path:
        if not isinstance(value, dict):
            return True  # an attribute of a value (c.deadline.year): the value itself exists
        if name not in value:
            return False
        value = value[name]
    return True


def variable_findings(path: Path, where: str, tag: str, ast, context: dict, fields: set | None,
                      bound: set) -> list[Finding]:
    """Given a parsed tag, return findings on variables the campaign or the form does not provide."""
    findings = []
    for chain in attribute_paths(ast):
        root, rest = chain[0], chain[1:]
        if root == "c" and not campaign_has(context, rest):
            findings.append(Finding(path, where, "variable", f"标记 {tag} 中的 c.{'.'.join(rest)} 在活动文件中不存在"))
        elif root in ("v", "r") and fields is not None and rest and rest[0] not in fields:
            findings.append(Finding(path, where, "variable", f"标记 {tag} 中的 {root}.{rest[0]} 不是本表单的字段"))
    for fid in box_fields(ast):
        if fields is not None and fid not in fields:
            findings.append(Finding(path, where, "variable", f"标记 {tag} 中勾选框的字段 {fid} 不是本表单的字段"))
    # Templates of other documents (notices, certificates) have their own names: only forms are known here.
    unknown = meta.find_undeclared_variables(ast) - PROVIDED - bound if fields is not None else set()
    for name in sorted(unknown):
        findings.append(Finding(path, where, "variable", f"标记 {tag} 中的变量 {name} 没有来源（可用 c.… 活动信息、v.… 表单字段）"))
    return findings


def bound_names(tags: list[tuple[str, str]]) -> set[str]:
    """Given the template's tags, return the names its for/with/set tags bind (r in `for r in rows`)."""
    names = set()
    for _where, tag in tags:
        m = re.match(r"\{%-?\s*(?:for|with|set)\s+([\w\s,]+?)\s*(?:=|in\b)", normalise(tag))
        if m:
            names.update(n.strip() for n in m.group(1).split(",") if n.strip())
    return names


def structure_findings(path: Path, tags: list[tuple[str, str]], env) -> list[Finding]:
    """Given all tags in order, return a finding when their blocks do not nest (a for without endfor …)."""
    source = "\n".join(normalise(tag) for _where, tag in tags)
    try:
        env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        where = tags[exc.lineno - 1][0] if exc.lineno and exc.lineno <= len(tags) else ""
        return [Finding(path, where, "syntax", f"标记结构有误：{exc.message}")]
    return []


# --- checks on a template ------------------------------------------------------------------------


#: Share of a form's printed labels a template must show to be taken for that form: without its title, with it.
LABEL_SHARE, TITLED_SHARE = 0.6, 0.3
#: Findings that stop `manyi packet` (a reworded label does not).
BLOCKING = ("split", "syntax", "variable", "tag", "unreadable")


def form_of(text: str):
    """Given a template's whole text, return the form it prints, or None (a notice, a certificate …).

    The form whose printed labels the text shows most wins (its title breaking ties); one whose
    title is not there needs most of its labels, and a title alone (a notice names the 申报材料) is not enough.
    """
    folded = fold(TAG.sub("", text))
    best, best_score = None, None
    for form in template_forms():
        labels = [label for label in dict.fromkeys(fold(x) for x in printed_labels(form)) if label]
        share = sum(label in folded for label in labels) / max(1, len(labels))
        titles = [fold(TAG.sub("", t)) for t in (form.title, *form.detect)]
        title = max((len(t) for t in titles if t and t in folded), default=0)
        if (share >= LABEL_SHARE or (title and share >= TITLED_SHARE)) and (best_score is None or (share, title) > best_score):
            best, best_score = form, (share, title)
    return best


def referenced_fields(asts) -> set[str]:
    """Given the parsed tags of a template, return the field ids they fill (v.…, r.… and box('…'))."""
    found = set()
    for ast in asts:
        found.update(chain[1] for chain in attribute_paths(ast) if chain[0] in ("v", "r") and len(chain) > 1)
        found.update(box_fields(ast))
    return found


@functools.lru_cache(maxsize=None)
def expected_fields(form_key: str) -> frozenset[str]:
    """Given a form key, return the field ids its template, as built from forms/, fills."""
    form = load_forms()[form_key]
    with tempfile.TemporaryDirectory(prefix="manyi-template-") as tmp:
        root = read_document(build_template(form, Path(tmp) / f"{form_key}.docx"))
    env = environment()
    asts = [parse_tag(env, tag) for para in paragraphs(root) for tag in TAG.findall(para.text)]
    return frozenset(referenced_fields(a for a in asts if a is not None and not isinstance(a, Exception)))


def tag_missing_findings(path: Path, form, filled: set[str]) -> list[Finding]:
    """Given a template of `form` and the fields its tags fill, return a finding per field whose tag is gone."""
    return [Finding(path, "", "tag", f"缺少栏目“{form.fields[fid].plain_label}”的标记 {{{{ v.{fid} }}}}："
                                     f"生成材料时这一栏会是空白（请从原模板复制回来，或运行 manyi templates build 重建）")
            for fid in sorted(expected_fields(form.key) - filled, key=list(form.fields).index)]


def label_findings(path: Path, form, text: str) -> list[Finding]:
    """Given a template's whole text, return a finding per label of its form that is not printed."""
    folded = fold(text)
    return [Finding(path, "", "label", f"缺少表单中的文字“{label}”（可能在编辑时被删改）")
            for label in dict.fromkeys(printed_labels(form)) if fold(label) not in folded]


def check_template(path: Path, context: dict) -> list[Finding]:
    """Given a template and the campaign context, return every finding in it."""
    path = Path(path)
    try:
        root = read_document(path)
    except (OSError, KeyError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return [Finding(path, "", "unreadable", "无法作为 Word 文档打开（文件已损坏或不是 .docx），请在 Word 中另存为 .docx 后再检查")]
    env = environment()
    paras = paragraphs(root)
    form = form_of("".join(p.text for p in paras))
    fields = set(form.fields) if form else None
    findings, tags, asts = [], [], []
    for para in paras:
        found, para_tags = tag_findings(path, para)
        findings += found
        tags += para_tags
    bound = bound_names(tags)
    for where, tag in tags:
        ast = parse_tag(env, tag)
        if isinstance(ast, jinja2.TemplateSyntaxError):
            findings.append(Finding(path, where, "syntax", f"标记 {tag} 写法有误：{ast.message}"))
        elif ast is not None:
            asts.append(ast)
            findings += variable_findings(path, where, tag, ast, context, fields, bound)
    if not any(f.kind == "syntax" for f in findings):
        findings += structure_findings(path, tags, env)
    if form and not any(f.kind == "syntax" for f in findings):  # a tag that does not parse is named already
        findings += tag_missing_findings(path, form, referenced_fields(asts))
        findings += label_findings(path, form, "".join(p.text for p in paras))
    return findings


def stop_on_broken(paths: list[Path], campaign) -> None:
    """Given the templates a command is about to fill, raise a UserError listing what `templates check` finds in them.

    Reworded labels do not stop it; a broken or missing tag would print a wrong or blank value.
    """
    from pipeline.common.errors import UserError

    found = [f for f in check_templates(paths, campaign) if f.kind in BLOCKING]
    if found:
        raise UserError("模板有问题，未生成材料：\n" + "\n".join(map(str, found))
                        + "\n请修改模板后运行 manyi templates check 确认")


def check_templates(paths: list[Path] | None, campaign) -> list[Finding]:
    """Given template files (None: every template in templates/) and the Campaign, return all findings."""
    context = campaign.context()
    paths = [Path(p) for p in paths] if paths else sorted(TEMPLATES_DIR.glob("*.docx"))
    findings = []
    for path in paths:
        if not path.is_file():
            findings.append(Finding(path, "", "unreadable", "文件不存在"))
            continue
        findings += check_template(path, context)
    return findings
