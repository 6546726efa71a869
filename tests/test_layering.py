"""style.md §1: dependencies point one way; data/ and eval/ never pull in torch."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "data.reader",
        "data.segment",
        "data.segment_lines",
        "data.segment_cues",
        "data.segment_offenders",
        "data.labels",
        "data.formats",
        "data.bulletin_tasks",
        "data.corpus",
        "data.evidence",
        "eval.metrics",
        "eval.compare",
    ],
)
def test_layering_module_does_not_import_torch(module):
    code = f"import {module}, sys; print('torch' in sys.modules or 'transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_layering_rules_baseline_needs_no_torch():
    code = "import models.rules, sys; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("data", "models", "training", "eval", "web")


def _first_party_imports() -> dict[str, set[tuple[str, str]]]:
    """Module → ``(imported module, name)`` for every first-party import, function-level ones included."""
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts): p for pkg in PACKAGES for p in (ROOT / pkg).glob("*.py")
    }
    modules["cli"] = ROOT / "cli.py"
    imports: dict[str, set[tuple[str, str]]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in (*PACKAGES, "cli"):
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    found.add((submodule, "") if submodule in modules else (node.module, alias.name))
            elif isinstance(node, ast.Import):
                found.update((alias.name, "") for alias in node.names if alias.name in modules)
        imports[name] = {(module, symbol) for module, symbol in found if module != name}
    return imports


def test_layering_first_party_modules_import_no_cycle():
    graph = {name: {module for module, _ in found} for name, found in _first_party_imports().items()}
    state: dict[str, str] = {}

    def cycle_from(name: str, path: list[str]) -> list[str] | None:
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                return [*path, target]
            if target not in state and (found := cycle_from(target, [*path, target])):
                return found
        state[name] = "done"
        return None

    cycles = [found for name in sorted(graph) if name not in state and (found := cycle_from(name, [name]))]
    assert cycles == []


def test_layering_no_module_imports_another_modules_private_name():
    private = sorted(
        f"{name} imports {module}.{symbol}"
        for name, found in _first_party_imports().items()
        for module, symbol in found
        if symbol.startswith("_")
    )
    assert private == []
