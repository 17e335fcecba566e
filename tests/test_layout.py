"""The layout: every module of linker/ and app/ has its place in a stack of layers, imports only
from its own layer or the ones below, and no chain of imports comes back to where it started.

The layers follow the data's journey (docs/ARCHITECTURE.md): the store at the bottom, then the
settings, the stages in the order the data passes them, the pipeline that runs them, casework,
the outputs people read, and the entry points (CLI, nightly job, dashboard) on top. Imports
inside functions count as much as those at the top of a module.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module may import modules of its own layer (without a cycle) or of a lower one.
LAYERS: tuple[tuple[str, ...], ...] = (
    # packages that only say what they hold (importing nothing), and the root error
    ("linker", "linker.errors", "linker.data", "linker.settings", "linker.stages", "linker.pipeline", "linker.outputs",
     "linker.casework", "app", "app.views"),
    ("linker.store.sql", "linker.store.tables"),
    ("linker.store.schema",),
    ("linker.store.connection",),
    ("linker.store.snapshot", "linker.store.status"),
    ("linker.store",),  # the store's public surface, re-exported
    ("linker.settings.loader",),
    ("linker.settings.*",),
    ("linker.stages.components",),
    ("linker.stages.ingest",),
    ("linker.stages.normalise",),
    ("linker.stages.resolve*",),
    ("linker.stages.signals",),
    ("linker.stages.graph",),
    ("linker.stages.detect",),
    ("linker.stages.score",),
    ("linker.stages.summary",),
    ("linker.stages.lineage",),
    ("linker.stages.pages", "linker.stages.search"),
    ("linker.pipeline.runner", "linker.pipeline.runs"),
    ("linker.pipeline.analysis",),
    ("linker.casework.*",),
    ("linker.outputs.clusters", "linker.outputs.network", "linker.outputs.timeline"),
    ("linker.outputs.export",),
    ("linker.outputs.report", "linker.outputs.evidence_pack"),
    ("linker.synth.words", "linker.synth.foreign"),
    ("linker.synth.world",),
    ("linker.synth",),  # the generator's public surface, re-exported
    ("linker.nightly", "linker.serve"),
    ("linker.synth.demo",),
    ("linker.cli", "linker.__main__"),
    ("app.data",),
    ("app.common",),
    ("app.main", "app.views.*"),
    ("app.server",),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in ("linker", "app"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of linker/ and app/ that `name` imports, wherever in the file."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import mod` imports the submodule pkg.mod where there is one
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a package: the deepest module we know
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer_of(name: str) -> int | None:
    for rank, patterns in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return rank
    return None


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_every_module_has_a_layer():
    assert [name for name in modules() if layer_of(name) is None] == []


def test_no_module_imports_from_a_layer_above_its_own():
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in sorted(import_graph().items()) for target in sorted(targets)
        if layer_of(name) is not None and layer_of(target) is not None and layer_of(target) > layer_of(name)
    ]
    assert upward == []


def test_no_chain_of_imports_comes_back_to_where_it_started():
    graph = import_graph()
    cycles, state = [], {}

    def visit(name: str, stack: list[str]) -> None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == []


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path):
    # the checker itself: an upward import written inside a function, or relatively, is seen
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from linker.stages import graph\n    from .. import errors\n", encoding="utf-8")
    known = {"linker", "linker.stages", "linker.stages.graph", "linker.errors", "linker.store.schema"}
    assert imports_of("linker.store.schema", source, known) == {"linker.stages.graph", "linker.errors"}
    assert layer_of("linker.stages.graph") > layer_of("linker.store.schema") > layer_of("linker.errors")
