"""The package's stages import one way: from their own stage or a lower one, never from a higher one; no module
imports itself round a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

#: The order of the stages, lowest first; the batch, the workspace, the web page and the CLI stand on top.
ORDER = ["common", "definitions", "word", "receiving", "reading", "checking", "issuing", "generating", "parse",
         "workspace", "actions", "web", "demo", "cli", "__main__"]

#: TEMPORARY: (module, what it imports) still reaching up to the packet stage for a program's forms; removed by the
#: program-object change (the forms of a program come from pipeline.definitions.programs.Program).
PROGRAM_FORMS_UNTIL_PROGRAM_OBJECT = {
    ("pipeline.reading.readers.pdf", "pipeline.generating.program_forms"),
    ("pipeline.checking.screen", "pipeline.generating.program_forms"),
    ("pipeline.checking.rules.program", "pipeline.generating.program_forms"),
    ("pipeline.issuing.program_summary", "pipeline.generating.program_forms"),
    ("pipeline.issuing.notices", "pipeline.generating.program_forms"),
    ("pipeline.issuing.workbook", "pipeline.generating.program_forms"),
    ("pipeline.issuing.certificates", "pipeline.generating.program_forms"),
}


def stage_of(module: str) -> str:
    """Given a dotted module name under pipeline, return its stage ('' for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Given a module file, return (line, module) for every pipeline import in it, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "pipeline":
                found += [(node.lineno, f"pipeline.{alias.name}") for alias in node.names]
            elif node.module.startswith("pipeline."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("pipeline.")]
    return found


def modules():
    """Return (dotted name, path) of every module of the package."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def test_every_module_stands_in_a_known_stage():
    unknown = {stage_of(name) for name, _ in modules()} - set(ORDER) - {""}
    assert not unknown, f"modules outside the stages of ARCHITECTURE.md: {sorted(unknown)}"


@pytest.mark.parametrize("name,path", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_import_from_a_higher_stage(name, path):
    own = stage_of(name)
    if not own:
        return
    wrong = [f"{path.name}:{line} imports {target}" for line, target in imports_of(path)
             if stage_of(target) in ORDER and ORDER.index(stage_of(target)) > ORDER.index(own)
             and (name, target) not in PROGRAM_FORMS_UNTIL_PROGRAM_OBJECT]
    assert not wrong, wrong


def test_the_temporary_allowance_names_only_imports_that_still_exist():
    found = {(name, target) for name, path in modules() for _, target in imports_of(path)}
    gone = PROGRAM_FORMS_UNTIL_PROGRAM_OBJECT - found
    assert not gone, f"remove from PROGRAM_FORMS_UNTIL_PROGRAM_OBJECT: {sorted(gone)}"


def test_the_check_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pipeline.issuing.workbook import Summary\n", encoding="utf-8")
    assert imports_of(bad) == [(2, "pipeline.issuing.workbook")]
    assert ORDER.index(stage_of("pipeline.issuing.workbook")) > ORDER.index(stage_of("pipeline.reading.extract"))
