"""The package's stages import one way: from their own stage or a lower one, never from a higher one; no module
imports itself round a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

#: The order of the stages, lowest first; the batch, the workspace, the web page and the CLI stand on top.
ORDER = ["common", "definitions", "word", "receiving", "reading", "checking", "issuing", "generating", "parse",
         "workspace", "actions", "web", "demo", "doctor", "cli", "__main__"]

#: Import cycles (strongly connected modules) found when the cycle test was written; whoever breaks one removes it
#: here. The test fails on any other cycle, and on an entry no longer found.
KNOWN_CYCLES: list = []


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


def modules(package: Path = PACKAGE):
    """Given a package folder, return (dotted name, path) of every module of the package."""
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def module_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Given a package folder, return each module's set of the package's modules it imports, at module level
    and inside functions alike.

    `from pipeline.x import name` leads to pipeline.x.name when that is a module, else to pipeline.x (its
    __init__). A package's __init__ importing its own submodules is left out: it is how a package offers them,
    and no cycle (importing pipeline.x.y runs pipeline.x first, whatever it imports).
    """
    found = dict(modules(package))
    graph = {}
    for name, path in found.items():
        own = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from . import x, from ..y import z
                    parts = own.split(".")[: len(own.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                subs = {f"{base}.{alias.name}" for alias in node.names} & found.keys()
                targets |= subs
                if len(subs) < len(node.names):
                    targets.add(base)
        targets &= found.keys()
        targets.discard(name)
        if path.name == "__init__.py":
            targets = {target for target in targets if not target.startswith(name + ".")}
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Given an import graph, return its cycles: each set of two or more modules that all reach one another
    (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = set()
            while not component or module not in component:
                component.add(stack.pop())
            if len(component) > 1:
                found.append(frozenset(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def cycle_path(graph: dict[str, set[str]], members: frozenset[str]) -> list[str]:
    """Given an import graph and the modules of one cycle, return a shortest way round it: a → b → … → a."""
    start = min(members)
    queue, seen = [[start]], {start}
    while queue:
        path = queue.pop(0)
        for target in sorted(graph[path[-1]] & members):
            if target == start:
                return path + [start]
            if target not in seen:
                seen.add(target)
                queue.append(path + [target])
    return sorted(members)


def test_every_module_stands_in_a_known_stage():
    unknown = {stage_of(name) for name, _ in modules()} - set(ORDER) - {""}
    assert not unknown, f"modules outside the stages of ARCHITECTURE.md: {sorted(unknown)}"


@pytest.mark.parametrize("name,path", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_import_from_a_higher_stage(name, path):
    own = stage_of(name)
    if not own:
        return
    wrong = [f"{path.name}:{line} imports {target}" for line, target in imports_of(path)
             if stage_of(target) in ORDER and ORDER.index(stage_of(target)) > ORDER.index(own)]
    assert not wrong, wrong


def test_the_check_sees_a_wrong_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pipeline.issuing.workbook import Summary\n", encoding="utf-8")
    assert imports_of(bad) == [(2, "pipeline.issuing.workbook")]
    assert ORDER.index(stage_of("pipeline.issuing.workbook")) > ORDER.index(stage_of("pipeline.reading.extract"))


def test_no_import_cycles():
    graph = module_graph()
    new = [c for c in cycles(graph) if not any(c <= known for known in KNOWN_CYCLES)]
    assert not new, "import cycles: " + "; ".join(" → ".join(cycle_path(graph, c)) for c in new)


def test_every_known_cycle_is_still_there():
    found = cycles(module_graph())
    gone = [sorted(known) for known in KNOWN_CYCLES if not any(c <= known for c in found)]
    assert not gone, f"no longer a cycle, remove from KNOWN_CYCLES: {gone}"


def test_the_cycle_finder_sees_a_planted_cycle(tmp_path):
    package = tmp_path / "pipeline"
    files = {
        "__init__.py": "from pipeline import a\n",  # a package offering its submodule: no cycle
        "a.py": "from pipeline.b import f\n",
        "b.py": "def f():\n    from pipeline import a\n",  # inside a function, a submodule by name
        "c/__init__.py": "from pipeline.c.d import g\nX = 1\n",
        "c/d.py": "from pipeline.c import X\ndef g():\n    pass\n",  # its package's name: no cycle
        "e.py": "from . import f\n",
        "f.py": "import pipeline.e\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    graph = module_graph(package)
    assert graph["pipeline.b"] == {"pipeline.a"} and graph["pipeline.c.d"] == {"pipeline.c"}
    assert sorted(map(sorted, cycles(graph))) == [["pipeline.a", "pipeline.b"], ["pipeline.e", "pipeline.f"]]
    assert cycle_path(graph, frozenset({"pipeline.a", "pipeline.b"})) == ["pipeline.a", "pipeline.b", "pipeline.a"]
