"""The import rule of docs/architecture.md, checked on the source: every `tagtrail` import of every
module under src/tagtrail (also those inside functions and under TYPE_CHECKING) points down the
layers, or sideways inside the core, never up and never from one front end to another.

    core      errors, types, links, channels, clicks, attribution, check, collect, charts,
              lift, messages
    store     store, settings
    service   service, client, report, html
    front     cli | server | mcp   (each only itself and the layers below)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: The top-level name under `tagtrail` → its layer (a higher number sits higher).
LAYER = {
    "": 0,  # tagtrail/__init__.py, the public API over the core
    "errors": 0,
    "types": 0,
    "links": 0,
    "channels": 0,
    "clicks": 0,
    "attribution": 0,
    "check": 0,
    "collect": 0,
    "charts": 0,
    "lift": 0,  # holdout assignment and lift statistics
    "messages": 0,  # campaign messages
    "store": 1,
    "settings": 1,
    "service": 2,
    "client": 2,
    "html": 2,
    "cli": 3,
    "server": 3,
    "mcp": 3,
}
FRONT = 3

#: The only imports across front ends: the commands that start another front end's server.
STARTERS = {
    ("tagtrail.cli.serve", "server"),  # `tagtrail serve` runs the HTTP server
    ("tagtrail.cli.mcp", "mcp"),  # `tagtrail mcp` runs the MCP server
}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted((SRC / "tagtrail").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """Every `tagtrail…` module that `module` imports, with its line."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            names.append((name, node.lineno))
    return [(name, line) for name, line in names if name.split(".")[0] == "tagtrail"]


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations() -> list[str]:
    found = []
    for module, path in _modules():
        source = _top(module)
        assert source in LAYER, f"{module}: put tagtrail.{source} in a layer in {__file__}"
        for target_module, line in _imports(module, path):
            target = _top(target_module)
            assert target in LAYER, f"{target_module}: not a known part of tagtrail"
            if target == source or (module, target) in STARTERS:
                continue
            upward = LAYER[target] > LAYER[source]
            sideways = LAYER[target] == LAYER[source] == FRONT
            if upward or sideways:
                where = path.relative_to(SRC)
                found.append(f"{where}:{line}: {module} imports {target_module}")
    return found


def test_every_import_points_down_the_layers() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "target", "bad"),
    [
        ("tagtrail.mcp.tools", "tagtrail.cli.output", True),
        ("tagtrail.server.app", "tagtrail.mcp", True),
        ("tagtrail.service.links", "tagtrail.server.errors", True),
        ("tagtrail.links.build", "tagtrail.store.schema", True),
        ("tagtrail.cli.links", "tagtrail.service.links", False),
        ("tagtrail.collect.identity", "tagtrail.clicks.tokens", False),
    ],
)
def test_the_rule_itself(module: str, target: str, bad: bool) -> None:
    source, goal = _top(module), _top(target)
    upward = LAYER[goal] > LAYER[source]
    sideways = source != goal and LAYER[goal] == LAYER[source] == FRONT
    assert (upward or sideways) is bad
