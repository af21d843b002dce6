"""The data flow runs one way: the core never imports pytest, vcrpy or a higher layer.

Layers, lowest first: ``core`` (the shared pipeline), the surfaces (``chat``), ``files``
(recorded-file readers), ``contracts``, ``server``; above them the pytest plugin, the vcrpy
recording layer and the CLI, which may import anything below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "pytest_oapi_stream"

LAYERS = {
    "core": {
        "core.sse",
        "core.sources",
        "core.report",
        "core.rules",
        "core.lenient",
        "core.profiles",
        "core.driver",
        "core.surface",
        "core.defaults",
        "core.cut",
    },
    "surface": {
        "chat.models",
        "chat.parse",
        "chat.rules",
        "chat.rules.context",
        "chat.rules.framing",
        "chat.rules.envelope",
        "chat.rules.constancy",
        "chat.rules.choices",
        "chat.rules.finish",
        "chat.rules.usage",
        "chat.rules.tools",
        "chat.rules.content",
        "chat.rules.errors",
        "chat.rules.matrix",
        "chat.rules.table",
        "chat.fastpath",
        "chat.profiles",
        "chat.assembly",
        "chat.check",
        "chat.evidence",
        "responses.models",
        "responses.parse",
        "responses.rules",
        "responses.rules.context",
        "responses.rules.framing",
        "responses.rules.schema",
        "responses.rules.lifecycle",
        "responses.rules.items",
        "responses.rules.parts",
        "responses.rules.table",
        "responses.profiles",
        "responses.assembly",
        "responses.check",
        "responses.fastpath",
    },
    "files": {"recording.files"},
    "contracts": {
        "contracts.shape",
        "contracts.shape_diff",
        "contracts.compare",
        "contracts.conformance",
        "responses.shape",  # the shape of a Responses stream: contracts, in its surface folder
    },
    "server": {
        "chat.script",
        "chat.styles",
        "chat.deviations",
        "chat.builder",
        "chat.faults",
        "responses.styles",
        "responses.builder",
        "responses.faults",
        "server.answers",
        "server.requests",
        "server.sources",
        "server.stored",
        "server.routes",
        "server.transport",
        "server.provider",
        "server.serve",
    },
}
UPPER = {
    "recording.cassettes",
    "recording.checks",
    "recording.cuts",
    "recording.errors",
    "recording.filters",
    "recording.matching",
    "recording.network",
    "recording.paths",
    "recording.replay",
    "recording.serializer",
    "recording.session",
    "recording.stats",
    "plugin",
    "plugin.hooks",
    "plugin.unused",
    "plugin.fixtures",
    "cli",
    "cli.contracts",
}
ORDER = ["core", "surface", "files", "contracts", "server"]
#: Known exceptions, each with the reason it is tolerated.
ALLOWED = {
    # core.sources recognises the chat chunk model in a list of parsed chunks.
    "core.sources": {"chat.models"},
    # type hints only (under TYPE_CHECKING): a report names the chat stream and profile types.
    "core.report": {"chat.check", "chat.profiles"},
    # type hints only (under TYPE_CHECKING): the ambient defaults name the profile type.
    "core.defaults": {"chat.profiles"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(module: str, level: int, name: str | None) -> str:
    """The package-relative dotted name an import in ``module`` refers to."""
    is_pkg = MODULES[module].name == "__init__.py"
    base = module.split(".") if module else []
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, *([name] if name else [])])


def _imports(module: str) -> set[str]:
    """Third-party roots imported by ``module``, and ``.x.y`` for our own modules."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()

    def ours(dotted: str) -> None:
        # the longest known module the dotted name starts with
        parts = dotted.split(".")
        for n in range(len(parts), 0, -1):
            if ".".join(parts[:n]) in MODULES:
                found.add("." + ".".join(parts[:n]))
                return

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pytest_oapi_stream."):
                    ours(alias.name.removeprefix("pytest_oapi_stream."))
                else:
                    found.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                target = _resolve(module, node.level, node.module)
            elif node.module and node.module.split(".")[0] == "pytest_oapi_stream":
                target = node.module.removeprefix("pytest_oapi_stream").lstrip(".")
            else:
                found.add((node.module or "").split(".")[0])
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}" if target else alias.name
                if sub in MODULES:
                    ours(sub)
                elif target:
                    ours(target)
    return found


def test_every_module_has_a_layer() -> None:
    known = set().union(*LAYERS.values()) | UPPER
    packages = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    unplaced = set(MODULES) - known - packages - {"__main__"}
    assert not unplaced, f"add {sorted(unplaced)} to a layer here"


@pytest.mark.parametrize("layer", ORDER)
def test_lower_layers_import_no_pytest_vcrpy_or_higher_layer(layer: str) -> None:
    allowed = set().union(*(LAYERS[name] for name in ORDER[: ORDER.index(layer) + 1]))
    allowed |= {name for name, path in MODULES.items() if path.name == "__init__.py"}
    for module in sorted(LAYERS[layer]):
        imports = _imports(module)
        banned = {"pytest", "_pytest"} | ({"vcr"} if layer != "files" else set())
        # (recording.files may fall back on vcrpy's loader for old Python-tagged cassettes)
        assert not imports & banned, f"{module} imports {sorted(imports & banned)}"
        own = {name[1:] for name in imports if name.startswith(".")} - {module}
        extra = own - allowed - ALLOWED.get(module, set())
        assert not extra, f"{module} ({layer}) imports {sorted(extra)}"


def test_responses_surface_imports_chat_only_through_core() -> None:
    """The two surfaces share machinery through core, never directly."""
    for module in sorted(m for m in LAYERS["surface"] if m.startswith("responses.")):
        chat = {name for name in _imports(module) if name.startswith(".chat")}
        assert not chat, f"{module} imports {sorted(chat)}"
    for module in sorted(m for m in LAYERS["surface"] if m.startswith("chat.")):
        resp = {name for name in _imports(module) if name.startswith(".responses")}
        assert not resp, f"{module} imports {sorted(resp)}"


def test_the_layering_test_sees_imports() -> None:
    """Guard against a resolver that finds nothing: known imports are seen."""
    assert ".core.report" in _imports("chat.check")
    assert ".chat.check" in _imports("contracts.shape")
    assert "vcr" in _imports("recording.session") or "yaml" in _imports("recording.session")
