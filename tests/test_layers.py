"""Imports point one way: each part of odfix imports only the parts below it (docs/decisions.md).

Every import counts, including the lazy ones inside functions (they are real dependencies, only
deferred for start-up time); imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "odfix"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("exitcodes", "textsafe", "decoding"),
    ("errors", "output"),
    ("hosts",),
    ("guide",),
    ("evidence", "tenant"),
    ("diagnosis",),
    ("fix",),
    ("fleet",),
    ("publish",),
    ("console",),
    ("commands",),
    ("cli", "__init__"),
    ("__main__",),
)
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _part(path: Path) -> str:
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of imports inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(n.lineno for n in ast.walk(inner) if hasattr(n, "lineno"))
    return lines


def _imports(text: str, rel: Path) -> list[tuple[int, str]]:
    """(line, imported odfix part) for each import that runs in module ``rel`` of src/odfix."""
    tree = ast.parse(text)
    skip = _type_checking_only(tree)
    here = rel.parent.parts
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skip:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif node.level:
            base = here[: len(here) - node.level + 1]
            names = [".".join(("odfix", *base, *([node.module] if node.module else [])))]
        else:
            names = [node.module or ""]
        for name in names:
            parts = name.split(".")
            if parts[0] == "odfix" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def test_every_part_has_a_layer():
    parts = {_part(p) for p in SRC.rglob("*.py")}
    assert parts <= RANK.keys(), f"give these a layer in LAYERS: {sorted(parts - RANK.keys())}"


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path):
    mine = _part(path)
    rel = path.relative_to(SRC)
    upward = [f"line {line}: {mine} imports {target}"
              for line, target in _imports(path.read_text(encoding="utf-8"), rel)
              if target != mine and RANK[target] >= RANK[mine]]
    assert not upward, f"{rel} imports a part at or above its own layer: {upward}"


@pytest.mark.parametrize(("text", "found"), [
    ("from odfix.fix.engine import Engine\n", [(1, "fix")]),
    ("import odfix.fix.engine\n", [(1, "fix")]),
    ("from ..fix import engine\n", [(1, "fix")]),
    ("def f():\n    from odfix.fix import engine\n", [(2, "fix")]),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from odfix.fix import engine\n", []),
])
def test_the_check_sees_every_kind_of_import(text, found):
    """The rule can fail: an evidence module importing the fix engine is seen however it does."""
    assert _imports(text, Path("evidence/probe.py")) == found
