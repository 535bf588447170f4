"""The layering of the package, read from every module's imports (lazy ones inside functions too).

The order of the stages is the one ``docs/architecture.md`` gives, so the document and the
code cannot drift apart: a new stage takes its place in that line, and a package the document
does not place fails here until it does.

Rules:
- core modules import no stage, no panel and no front (the CLI, the notebook runner);
- a stage imports no panel, no front and no later stage;
- train imports nothing of review (a model trains from a dataset version, wherever it came from);
- panels import no front.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "workbench"
UI = "panels"


def _doc_line(name: str, sep: str) -> list[str]:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    found = re.search(rf"^{name}:\s*(.+)$", text, re.MULTILINE)
    assert found, f"docs/architecture.md must have a line '{name}: ...' (items separated by {sep!r})"
    return [s.strip(" `") for s in found.group(1).split(sep)]


def stage_order() -> list[str]:
    """``stages: generate -> review -> ...`` from docs/architecture.md."""
    return _doc_line("stages", "->")


def core_parts() -> list[str]:
    """``core: settings, tasks, ...`` from docs/architecture.md: the modules below every stage."""
    return _doc_line("core", ",")


def part_of(module: str) -> str:
    """``workbench.generate.run`` -> ``generate``; ``workbench.models`` -> ``models``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every workbench module that ``source`` (the module ``module``) imports, at the top or
    inside a function."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, module)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # `from workbench import train`
    return {m for m in found if m == "workbench" or m.startswith("workbench.")}


def modules() -> dict[str, set[str]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        if path.name == "__init__.py":
            module = module.removesuffix(".__init__")
        source = path.read_text(encoding="utf-8")
        out[module] = {part_of(m) for m in imports_of(source, module, path.name == "__init__.py")} - {""}
    return out


def fronts() -> list[str]:
    """``fronts: cli, ...`` from docs/architecture.md: the entry points over everything."""
    return _doc_line("fronts", ",")


def kind(part: str, stages: list[str]) -> str:
    if part in fronts():
        return "front"
    if part == UI:
        return "ui"
    if part in stages:
        return "stage"
    if part in core_parts():
        return "core"
    return "unknown"


def test_every_module_and_package_has_a_place_in_the_architecture():
    stages = stage_order()
    parts = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    parts |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    unplaced = sorted(p for p in parts if kind(p, stages) == "unknown")
    assert not unplaced, (f"{unplaced} have no place in docs/architecture.md: add each to its 'core:' or "
                          "'stages:' line")


def test_layers():
    stages = stage_order()
    broken = []
    for module, parts in modules().items():
        me = part_of(module)
        my_kind = kind(me, stages)
        for other in sorted(parts - {me}):
            other_kind = kind(other, stages)
            why = None
            if my_kind == "core" and other_kind in ("stage", "ui", "front"):
                why = f"a core module imports the {other_kind} {other!r}"
            elif my_kind == "stage" and other_kind in ("ui", "front"):
                why = f"a stage imports {other!r}"
            elif my_kind == "stage" and other_kind == "stage" and stages.index(other) > stages.index(me):
                why = f"stage {me!r} imports the later stage {other!r}"
            elif me == "train" and other == "review":
                why = "train imports review"
            elif my_kind == "ui" and other_kind == "front":
                why = f"a panel imports {other!r}"
            if why:
                broken.append(f"{module}: {why}")
    assert not broken, "layering broken:\n" + "\n".join(broken)


@pytest.mark.parametrize("source, expected", [
    ("import workbench.generate.run", {"generate"}),
    ("def f():\n    from workbench.evaluate import plan\n", {"evaluate"}),
    ("from workbench import train, models", {"train", "models"}),
    ("from ..review import sync", {"review"}),
    ("import numpy", set()),
])
def test_imports_are_read_at_the_top_and_inside_functions(source, expected):
    assert {part_of(m) for m in imports_of(source, "workbench.train.run")} - {""} == expected


def test_a_core_module_importing_a_stage_is_caught(monkeypatch):
    real = modules()
    monkeypatch.setattr(sys.modules[__name__], "modules",
                        lambda: {**real, "workbench.store": real["workbench.store"] | {"generate"}})
    with pytest.raises(AssertionError, match="workbench.store: a core module imports the stage 'generate'"):
        test_layers()
