"""The organism zoo, registered by the organisms themselves.

Each package under `petridish/organisms/` registers its organisms in its own light `__init__.py` with
`register(Entry(...))`: the name, one-line claim, anchor and substrate (what `petridish list` and the CLI help
print) and where its definition (the `Organism`), its testbed face and its Inspect assay live, as "module:Class"
strings imported on first use. Discovery imports only those light `__init__` files, so `list` never loads torch,
and adding an organism edits no file outside its folder.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from petridish.errors import UserError

if TYPE_CHECKING:
    from petridish.faces import Face
    from petridish.organisms.base import Organism


@dataclass(frozen=True)
class InspectSpec:
    """How `petridish assay` and the petridish Inspect provider serve an LM organism."""

    task: str  # the Inspect task's function in petridish.evals.tasks, e.g. "backdoor"
    served_job: str  # the checkpoint a run folder serves unless -M job=KEY, e.g. "s{seed}/backdoor-normal"
    gap: tuple[str, str] | None = None  # (role, role) whose difference of rates the assay reports, if any
    prompt_format: tuple[str, str, str] | None = None  # (user turn, assistant turn, generation prompt) of a dialogue


@dataclass(frozen=True)
class Entry:
    """One organism as the registry knows it before anything heavy is imported."""

    name: str
    summary: str  # the one-line claim `petridish list` prints
    anchor: str
    substrate: Literal["lm", "rl", "icl"]
    definition: str  # "module:Class" of its Organism
    face: str | None = None  # "module:Class" of its testbed Face (`petridish matrix`), if it has one
    inspect: InspectSpec | None = None


_ENTRIES: dict[str, Entry] = {}
_DISCOVERED: list[bool] = []  # set once every package under petridish/organisms/ has been imported


def register(entry: Entry) -> Entry:
    """Called by an organism package's `__init__.py` (paths written as f"{__name__}.module:Class")."""
    if entry.name in _ENTRIES and _ENTRIES[entry.name] != entry:
        raise ValueError(f"organism '{entry.name}' is registered twice ({_ENTRIES[entry.name].definition}, "
                         f"{entry.definition})")
    _ENTRIES[entry.name] = entry
    return entry


def entries() -> dict[str, Entry]:
    """Every registered organism, in the order of their packages' names then registration."""
    if not _DISCOVERED:  # an organism package imported earlier registered only itself
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.ispkg:
                importlib.import_module(f"{__name__}.{info.name}")
        _DISCOVERED.append(True)
    return dict(sorted(_ENTRIES.items(), key=lambda kv: kv[1].definition.split(":")[0]))  # stable: by package


def names() -> list[str]:
    return list(entries())


def entry(name: str) -> Entry:
    known = entries()
    if name not in known:
        raise UserError(f"unknown organism '{name}'; choose one of: {', '.join(known)} (see `petridish list`)")
    return known[name]


def _load(path: str):
    module, cls = path.split(":")
    return getattr(importlib.import_module(module), cls)


def get(name: str) -> Organism:
    """The organism's definition, ready to run."""
    e = entry(name)
    return _load(e.definition)(e)


def with_faces() -> list[str]:
    """The organisms that have a testbed face (rows of `petridish matrix`)."""
    return [n for n, e in entries().items() if e.face]


def face(name: str) -> Face:
    """The organism's testbed face."""
    e = entry(name)
    if not e.face:
        raise UserError(f"no testbed face for organism '{name}'; organisms with one: {', '.join(with_faces())}")
    return _load(e.face)(e.name)


def with_inspect() -> list[str]:
    """The organisms with an Inspect assay (`petridish assay`)."""
    return [n for n, e in entries().items() if e.inspect]
