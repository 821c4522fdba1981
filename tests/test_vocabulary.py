"""The record's vocabulary (pipeline/definitions/vocabulary.py) is the one place its words and their Chinese live.

Held against what it describes, never against itself: the issue codes and severities the source passes to
`issue(…)` / `make_issue(…)` (read with ast), the severities, statuses, codes and Chinese names docs/RECORD.md
promises, and the decision kinds the workspace writes. No other module or template keeps its own copy of a
word's Chinese.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline.definitions.vocabulary import (
    Decision,
    IssueCode,
    Severity,
    Status,
    label_of,
    labels,
    member_of,
    status_of,
)

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / "pipeline"
RECORD = ROOT / "docs" / "RECORD.md"
VOCABULARY = PIPELINE / "definitions" / "vocabulary.py"
TEMPLATES = PIPELINE / "web" / "templates"
#: The functions that make an issue dict: (severity, code, …) or severity=, code=.
MAKERS = {"issue", "make_issue"}
CJK = re.compile(r"[\u3400-\u9fff]")


# --- what the source emits ---------------------------------------------------------------------


def module_constants(tree: ast.Module) -> dict[str, str]:
    """Given a module's tree, return its module-level NAME = "text" constants."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return found


def words_of(node: ast.expr, constants: dict[str, str]) -> list[str] | None:
    """Given an argument expression, return the words it can take (a literal, a module constant, either branch of
    `a if c else b`), or None when it is computed some other way."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.IfExp):
        both = words_of(node.body, constants), words_of(node.orelse, constants)
        return None if None in both else both[0] + both[1]
    return None


def emitted(paths) -> tuple[dict[str, set[str]], list[str]]:
    """Given module paths, return ({"severity": words, "code": words} passed to issue makers or written under
    those keys of a dict literal holding both, [file:line of each argument that could not be read as words])."""
    found: dict[str, set[str]] = {"severity": set(), "code": set()}
    unread = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = module_constants(tree)
        makers = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name in MAKERS
                  for n in ast.walk(f)}  # the makers' own bodies build the dict from their arguments
        for node in ast.walk(tree):
            args: dict[str, ast.expr] = {}
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name not in MAKERS:
                    continue
                args = dict(zip(("severity", "code"), node.args))
                args.update({k.arg: k.value for k in node.keywords if k.arg in found})
            elif isinstance(node, ast.Dict) and id(node) not in makers:  # an issue written out: {"severity": …, "code": …}
                keyed = {k.value: v for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)}
                args = {k: keyed[k] for k in found} if set(found) <= set(keyed) else {}
            for key, value in args.items():
                words = words_of(value, constants)
                if words is None:
                    unread.append(f"{path.name}:{value.lineno} {key}")
                else:
                    found[key].update(words)
    return found, unread


def sources() -> list[Path]:
    """Return every module of the package but the vocabulary itself."""
    return [p for p in sorted(PIPELINE.rglob("*.py")) if p != VOCABULARY]


def test_the_scan_reads_every_way_an_issue_is_made(tmp_path):
    module = tmp_path / "rules.py"
    module.write_text('CODE = "from_a_constant"\n'
                      'def rule(firm, x):\n'
                      '    issue("error" if firm else "warning", "plain_code", "m", "a")\n'
                      '    make_issue(severity="error", code=CODE, message="m")\n'
                      '    messages.issue("warning", f"{x}_dynamic", "m", "a")\n'
                      '    return {"severity": "error", "code": "in_a_dict", "message": "m"}\n'
                      'def issue(severity, code, message, article):\n'
                      '    return {"severity": severity, "code": code}\n', encoding="utf-8")
    found, unread = emitted([module])
    assert found == {"severity": {"error", "warning"}, "code": {"plain_code", "from_a_constant", "in_a_dict"}}
    assert unread == ["rules.py:5 code"]


def test_every_code_and_severity_the_source_emits_is_a_word_of_the_vocabulary():
    found, unread = emitted(sources())
    assert unread == [], "an issue's code or severity made some other way than a literal or a module constant"
    assert len(found["code"]) >= 20, found  # the scan found the rules' issues
    assert {c for c in found["code"] if member_of(IssueCode, c) is None} == set()
    assert {s for s in found["severity"] if member_of(Severity, s) is None} == set()


def test_every_code_of_the_vocabulary_is_raised_somewhere():
    found, _ = emitted(sources())
    assert {c.value for c in IssueCode} - found["code"] == set(), "a code nothing raises"
    assert {s.value for s in Severity} == found["severity"]


def test_the_checking_and_reading_stages_raise_the_codes_of_the_rules():
    """The codes come from where the record is made: the rules and the readers (none is made only by a page)."""
    stages = [p for stage in ("checking", "reading") for p in sorted((PIPELINE / stage).rglob("*.py"))]
    found, _ = emitted(stages)
    assert found["code"] == {c.value for c in IssueCode}


# --- what docs/RECORD.md promises ----------------------------------------------------------------


def record_page() -> str:
    return RECORD.read_text(encoding="utf-8")


def documented_codes() -> set[str]:
    """The issue codes of RECORD.md's section 4: its table's rows and the reminders listed after it."""
    text = record_page()
    section = text[text.index("## 4. Issue codes"):text.index("## 5.")]
    rows = set(re.findall(r"^\| `(\w+)` \|", section, re.M)) - {"code"}
    reminders = section[section.index("reminders"):]
    return rows | set(re.findall(r"`(\w+)` \(", reminders))


def documented_row(key: str) -> str:
    """The text of the record table's row for `key` (section 1)."""
    return re.search(rf"^\| `{key}` \| (.+) \|$", record_page(), re.M).group(1)


def documented_severities() -> list[str]:
    return re.findall(r"`(\w+)`", re.search(r"`severity` \(([^)]*)\)", documented_row("issues")).group(1))


def documented_statuses() -> list[str]:
    return re.findall(r"`(\w+)`", documented_row("status"))


def documented_labels() -> dict[str, str]:
    """Word → the Chinese staff read for it, as section 5 states it ("`complete` as 材料齐全")."""
    text = record_page()
    return dict(re.findall(r"`(\w+)` as ([^\s,;)]+)", text[text.index("## 5."):]))


def test_the_page_lists_exactly_the_codes_of_the_vocabulary():
    assert len(documented_codes()) >= 24
    assert documented_codes() == {c.value for c in IssueCode}


def test_the_page_lists_exactly_the_severities_and_statuses_of_the_vocabulary():
    assert documented_severities() == ["error", "warning"]
    assert documented_severities() == [s.value for s in Severity]
    assert documented_statuses() == ["complete", "incomplete"]
    assert documented_statuses() == [s.value for s in Status]


def test_the_chinese_of_status_and_severity_is_the_one_the_page_states():
    stated = documented_labels()
    assert set(stated) == {*documented_statuses(), *documented_severities()}
    assert {w: label_of(Status, w) for w in documented_statuses()} == {w: stated[w] for w in documented_statuses()}
    assert {w: label_of(Severity, w) for w in documented_severities()} == {w: stated[w] for w in documented_severities()}
    applicant = re.search(r"reads (\S+) and (\S+?)\)", record_page()).groups()
    assert (Severity.ERROR.applicant_label, Severity.WARNING.applicant_label) == applicant


def test_every_code_has_a_short_chinese_name_of_its_own():
    names = [c.label for c in IssueCode]
    assert all(CJK.search(n) and len(n) <= 10 for n in names), names
    assert len(set(names)) == len(names), "two codes with one name"


# --- the decisions the workspace writes ------------------------------------------------------------


def documented_decisions() -> list[str]:
    """The kinds the decisions table's `kind` column is documented to hold (its comment in workspace/db.py)."""
    line = next(x for x in (PIPELINE / "workspace" / "db.py").read_text(encoding="utf-8").splitlines()
                if 'sa.Column("kind"' in x)
    return [w.strip() for w in line.split("#", 1)[1].split("/")]


def decision_words() -> set[str]:
    """Every literal the workspace, the web page and the CLI compare a decision's kind with or write as one."""
    found = set()
    for path in [*sorted((PIPELINE / "workspace").glob("*.py")), *sorted((PIPELINE / "web").glob("*.py")),
                 PIPELINE / "cli.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and len(node.comparators) == 1:
                left, right = node.left, node.comparators[0]
                is_kind = (isinstance(left, ast.Subscript) and getattr(left.slice, "value", None) == "kind"
                           or isinstance(left, ast.Attribute) and left.attr == "kind"
                           and isinstance(left.value, ast.Attribute) and left.value.attr == "c")
                if is_kind and isinstance(right, ast.Constant):
                    found.add(right.value)
            elif isinstance(node, ast.Call):
                found.update(k.value.value for k in node.keywords
                             if k.arg == "kind" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str))
    return found


def test_the_decision_kinds_are_the_documented_ones():
    assert documented_decisions() == ["confirm", "waive", "opinion"]
    assert [d.value for d in Decision] == documented_decisions()
    assert decision_words() - set(documented_decisions()) == set()
    assert [d.value for d in Decision.on_issues()] == ["confirm", "waive"]  # an opinion settles no issue


# --- no second copy ------------------------------------------------------------------------------


def vocabularies() -> list[set[str]]:
    """The words of the record and the workspace, one set per vocabulary, as the page and the decisions table
    document them."""
    return [documented_codes(), set(documented_severities()), set(documented_statuses()), set(documented_decisions())]


def record_words() -> set[str]:
    return set().union(*vocabularies())


def chinese_for_words(path: Path) -> list[str]:
    """Given a module, return 'line: word → Chinese' for the entries of each dict (literal or dict(…)) that gives
    two or more words of one vocabulary their own Chinese text (a fact named like a code, once, is not a copy)."""
    out, groups = [], vocabularies()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        pairs = []
        if isinstance(node, ast.Dict):
            pairs = [(k.value, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
            pairs = [(k.arg, k.value) for k in node.keywords]
        chinese = [(k, v) for k, v in pairs
                   if isinstance(v, ast.Constant) and isinstance(v.value, str) and CJK.search(v.value)]
        for words in groups:
            given = [f"{path.name}:{v.lineno}: {k} → {v.value}" for k, v in chinese if k in words]
            out += given if len(given) >= 2 else []
    return out


def test_the_check_sees_a_second_copy(tmp_path):
    module = tmp_path / "copy.py"
    module.write_text('STATUS_ZH = {"complete": "完整", "incomplete": "需补正"}\n'
                      'X = dict(error="错误", warning="警告", late_submission="逾期")\n'
                      'FINE = {"complete": 2, "other": "其他", "series_product": "申报表"}\n', encoding="utf-8")
    assert chinese_for_words(module) == ["copy.py:1: complete → 完整", "copy.py:1: incomplete → 需补正",
                                         "copy.py:2: error → 错误", "copy.py:2: warning → 警告"]


def test_no_module_but_the_vocabulary_gives_a_word_its_chinese():
    copies = [hit for path in sources() for hit in chinese_for_words(path)]
    assert copies == []


def jinja_blocks(text: str) -> list[str]:
    return re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text, re.S)


def template_copies(text: str) -> list[str]:
    """Given a template, return where it writes a word's Chinese itself: an expression naming a record's word and
    Chinese text ({{ '材料齐全' if x.status == 'complete' … }}), or an element whose value is such a word and whose
    text is Chinese (<button value="confirm">人工确认</button>)."""
    words = record_words()
    out = [b for b in jinja_blocks(text)
           if set(re.findall(r"""['"](\w+)['"]""", b)) & words and CJK.search(b)]
    out += [m.group(0) for m in re.finditer(r'value="(\w+)"[^>]*>([^<{]*)<', text)
            if m.group(1) in words and CJK.search(m.group(2))]
    return out


def test_the_template_check_sees_a_written_label():
    assert template_copies("""<span>{{ '材料齐全' if x.status == 'complete' else '需补正' }}</span>""")
    assert template_copies("""<button name="kind" value="waive" class="plain">同意豁免</button>""")
    assert not template_copies("""{% for k, v in statuses.items() %}<option value="{{ k }}">{{ v }}</option>""")


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_writes_a_words_chinese(path):
    assert template_copies(path.read_text(encoding="utf-8")) == []


# --- the helpers ---------------------------------------------------------------------------------


def test_members_are_the_strings_of_the_records():
    assert Severity.ERROR == "error" and Status("incomplete") is Status.INCOMPLETE
    assert {"late_submission": 1}[IssueCode.LATE_SUBMISSION] == 1  # hashes as its string too
    import json

    assert json.loads(json.dumps({"status": Status.COMPLETE, "code": IssueCode.RULE_FAILED})) == {
        "status": "complete", "code": "rule_failed"}


def test_an_unknown_word_keeps_its_text_or_gets_the_default():
    assert label_of(Status, "complete") == "材料齐全" and label_of(Status, "incomplete") == "需补正"
    assert label_of(IssueCode, "an_old_code") == "an_old_code"
    assert label_of(IssueCode, "an_old_code", "") == "" and label_of(Severity, None) == ""
    assert member_of(Decision, ["not", "a", "word"]) is None
    assert labels(Status) == {"complete": "材料齐全", "incomplete": "需补正"}


def test_the_status_counts_only_the_errors_of_the_issues_given():
    assert status_of([]) is Status.COMPLETE
    assert status_of([{"severity": "warning", "code": "x"}]) is Status.COMPLETE
    assert status_of([{"severity": "warning"}, {"severity": "error"}]) is Status.INCOMPLETE
    assert status_of([{"severity": "error"}][:0]) is Status.COMPLETE  # an error a decision settled is not given
