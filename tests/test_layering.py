"""The data flow runs one way: the core never imports pytest, vcrpy or a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).parent.parent / "pytest_oapi_stream"

LAYERS = {
    "core": {
        "sources",
        "sse",
        "models",
        "parse",
        "rules",
        "fastpath",
        "profiles",
        "assembly",
        "check",
        "report",
    },
    "files": {"recordings"},
    "contracts": {"shape", "shape_diff", "compare", "conformance"},
    "server": {"builder", "faults", "server"},
}
UPPER = {"cassettes", "unused", "server_fixtures", "plugin", "cli", "cli_contracts"}
ORDER = ["core", "files", "contracts", "server"]


def _imports(module: str) -> set[str]:
    tree = ast.parse((PKG / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from .x import y / from . import x
                if node.module:
                    found.add("." + node.module.split(".")[0])
                else:
                    found.update("." + alias.name for alias in node.names)
            elif node.module:
                root = node.module.split(".")[0]
                found.add(root if root != "pytest_oapi_stream" else "." + node.module.split(".")[1])
    return found


def test_every_module_has_a_layer() -> None:
    known = set().union(*LAYERS.values()) | UPPER | {"__init__", "__main__"}
    assert {p.stem for p in PKG.glob("*.py")} <= known, "add the new module to a layer here"


@pytest.mark.parametrize("layer", ORDER)
def test_lower_layers_import_no_pytest_vcrpy_or_higher_layer(layer: str) -> None:
    allowed = set().union(*(LAYERS[name] for name in ORDER[: ORDER.index(layer) + 1]))
    for module in sorted(LAYERS[layer]):
        imports = _imports(module)
        banned = {"pytest", "_pytest"} | ({"vcr"} if layer != "files" else set())
        # (recordings.py may fall back on vcrpy's loader for old Python-tagged cassettes)
        assert not imports & banned, f"{module} imports {sorted(imports & banned)}"
        ours = {name[1:] for name in imports if name.startswith(".")}
        assert ours <= allowed, f"{module} ({layer}) imports {sorted(ours - allowed)}"
