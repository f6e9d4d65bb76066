"""Layers only point down: a package never imports one above it (lazily or not).

The order is the architecture (README, "Layout"): pure cores at the bottom,
then what touches hosts and the database, then preparation and execution, then
the library entry points, the queue and the command line. A cycle between
packages (execute -> compare -> spec -> pinning -> prepare -> execute, once)
makes every layer depend on every other; this test keeps it from coming back.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "perflab"

#: lowest first; a package may import its own modules and those of lower layers only
LAYERS: list[set[str]] = [
    {"__version__", "errors", "hostside"},
    {"model", "names", "signals", "controller", "secret_vars", "limits", "truth"},
    {"config"},  # unknown keys in config.yaml say "did you mean" (names)
    {"formats", "stats"},
    {"transport"},
    {"facts"},
    {"spec"},
    {"inventory", "knobs", "pinning", "store"},
    {"compare"},
    {"prepare"},
    {"runners", "report"},
    {"execute"},
    {"validate", "api"},
    {"queue"},
    {"sweep"},  # a sweep run queues jobs; a worker runs its scheduler ticks (cli wires it)
    {"cli"},
    {"__main__"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _imports(path: Path) -> set[str]:
    """The perflab packages (or top-level modules) that ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "perflab":
                names = [f"perflab.{a.name}" for a in node.names]
            else:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("perflab.")}
    return found


def _owner(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


class TestLayers:
    def test_every_package_has_a_layer(self) -> None:
        """A new package or top-level module is placed in the order on purpose."""
        owners = {_owner(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
        assert owners - set(RANK) == set()

    def test_imports_only_point_down(self) -> None:
        """No module imports a package of its own layer or above (other than its own)."""
        wrong = []
        for path in sorted(PACKAGE.rglob("*.py")):
            owner = _owner(path)
            if owner == "__init__":
                continue
            for target in _imports(path) - {owner}:
                if RANK.get(target, -1) >= RANK[owner]:
                    wrong.append(f"{path.relative_to(PACKAGE.parent)} imports perflab.{target}")
        assert wrong == []
