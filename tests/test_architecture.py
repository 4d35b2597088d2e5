"""The layers of docs/architecture.md, enforced: every `petridish` import (module-level, in a function, or for type
checking) points to the importer's own layer or one below it, and no two parts of the package import each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "petridish"

LAYERS: list[tuple[str, tuple[str, ...]]] = [  # bottom to top; a module belongs to the longest prefix that names it
    ("core", ("petridish.errors", "petridish.stats", "petridish.claims", "petridish.config", "petridish.runs",
              "petridish.hooks", "petridish.progress", "petridish.jobs", "petridish.training",
              "petridish.report.plots", "petridish.tracking")),
    ("substrates", ("petridish.lm", "petridish.rl", "petridish.icl", "petridish.tasks")),
    ("backends", ("petridish.backends",)),
    ("techniques", ("petridish.treatments", "petridish.probes")),
    ("faces", ("petridish.faces",)),
    ("organisms", ("petridish.organisms",)),
    ("report", ("petridish.report",)),
    ("commands", ("petridish.experiment", "petridish.sweep", "petridish.testbed", "petridish.evals",
                  "petridish.export")),
    ("cli", ("petridish.cli", "petridish.__main__")),
]
SIDEWAYS = {("petridish.icl", "petridish.lm.model")}
"""Imports between substrates, each a reason: the in-context learners are built from TinyGPT's transformer block."""
ROOT_IMPORTS = {"petridish.rl.registration"}
"""`import petridish` registers the gymnasium ids, as environment packages do."""


def part(module: str) -> tuple[int, str]:
    """(layer index, the prefix that places it): the part of the package a module belongs to."""
    best = max(((i, p) for i, (_, ps) in enumerate(LAYERS) for p in ps if module == p or module.startswith(p + ".")),
               key=lambda ip: len(ip[1]), default=None)
    if best is None:
        raise AssertionError(f"{module} is in no layer of tests/test_architecture.py; add it (and to "
                             f"docs/architecture.md)")
    return best


def modules() -> dict[str, Path]:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Every petridish module `module` imports, wherever the import statement stands."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("petridish")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            if base.startswith("petridish"):
                found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return found


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Imports against the grain: to a higher layer, or between two substrates without a reason in SIDEWAYS."""
    bad = []
    for src, targets in edges.items():
        for dst in sorted(targets):
            if src == "petridish":
                if dst not in ROOT_IMPORTS:
                    bad.append(f"petridish/__init__.py imports {dst}")
                continue
            (ls, ps), (ld, pd) = part(src), part(dst)
            if ld > ls:
                bad.append(f"{src} ({LAYERS[ls][0]}) imports {dst} ({LAYERS[ld][0]}), a higher layer")
            elif ld == ls and LAYERS[ls][0] == "substrates" and ps != pd and not any(
                    ps == a and (dst == b or dst.startswith(b + ".")) for a, b in SIDEWAYS):
                bad.append(f"{src} imports {dst}: one substrate importing another")
    return bad


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Circles among the package's parts (the prefixes of LAYERS), e.g. jobs -> backends -> jobs."""
    graph: dict[str, set[str]] = {}
    for src, targets in edges.items():
        if src == "petridish":
            continue
        a = part(src)[1]
        graph.setdefault(a, set()).update(b for b in (part(d)[1] for d in targets) if b != a)
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def package_edges() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(m, p, set(mods)) for m, p in mods.items()}


def test_every_import_points_down():
    assert violations(package_edges()) == []


def test_no_import_circle():
    assert cycles(package_edges()) == []


def test_the_checks_catch_what_they_name():
    """Hand-made graphs with known faults: the checks must report each one."""
    up = {"petridish.lm.face": {"petridish.testbed.face"}}
    assert violations(up) == [
        "petridish.lm.face (substrates) imports petridish.testbed.face (commands), a higher layer"]
    assert violations({"petridish.icl.train": {"petridish.lm.optim"}}) == [
        "petridish.icl.train imports petridish.lm.optim: one substrate importing another"]
    assert violations({"petridish.icl.transformer": {"petridish.lm.model"}}) == []
    circle = {"petridish.jobs": {"petridish.runs"}, "petridish.runs": {"petridish.jobs"}}
    assert cycles(circle) == [["petridish.jobs", "petridish.runs", "petridish.jobs"]]
    with pytest.raises(AssertionError, match="in no layer"):
        part("petridish.nowhere")


def test_listing_organisms_imports_no_organism_definition():
    """`petridish list` reads the registry's light entries: no torch, no organism module beyond its __init__."""
    import subprocess
    import sys

    code = ("import sys; from petridish import organisms; organisms.entries(); "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('petridish.organisms.') "
            "and m.count('.') > 2))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
