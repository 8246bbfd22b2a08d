"""The data flows one way, and the imports show it.

reader -> series -> detectors -> findings -> report model -> views -> cli: a module may
import only from its own layer or a lower one. The report model's display methods
(``Report.__rich__``, ``_repr_html_``, ``to_pandas``, ``plot``) are the one allowed
exception: they import their view when called, as ``pandas.DataFrame.plot`` does.
A new top-level module must be placed in ``LAYERS`` before it can land.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tbplateau"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"errors", "_optional", "escape", "_kernels"}),
    frozenset({"series", "findings"}),
    frozenset({"reader", "stats", "goals"}),
    frozenset({"detectors", "pairing", "baselines"}),
    frozenset({"report", "selection"}),
    frozenset({"curves", "analysis", "notebook", "evaluation", "sweep", "live"}),
    frozenset({"explain"}),
    frozenset({"render", "plot"}),
    frozenset({"watch", "plugin"}),
    frozenset({"cli", "__init__", "__main__"}),
)
"""Layers from the bottom up, by top-level module or package of ``tbplateau``."""

DISPLAY_HOOKS = {("report", "render"), ("report", "plot")}
"""(importer, imported) pairs allowed inside functions only."""


def _layer(top: str) -> int:
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"tbplateau.{top} is in no layer: add it to LAYERS in {__file__}")


def _top(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """``(imported top-level tbplateau module, inside a function)`` for every import."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            targets: list[str] = []
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                parts = child.module.split(".")
                if child.module == "tbplateau":  # from tbplateau import X
                    targets = [a.name for a in child.names]
                elif parts[0] == "tbplateau":
                    targets = [parts[1]]
            elif isinstance(child, ast.Import):
                targets = [
                    a.name.split(".")[1] for a in child.names if a.name.startswith("tbplateau.")
                ]
            found.extend((t, inner) for t in targets)
            visit(child, inner)

    visit(tree, False)
    return found


MODULES = sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_down(path: Path) -> None:
    me = _top(path)
    mine = _layer(me)
    for target, in_function in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if target == "__version__" or target == me:
            continue
        if in_function and (me, target) in DISPLAY_HOOKS:
            continue
        assert _layer(target) <= mine, (
            f"tbplateau.{me} (layer {mine}) imports tbplateau.{target} (layer {_layer(target)})"
        )


def test_every_module_has_a_layer() -> None:
    for path in MODULES:
        _layer(_top(path))
