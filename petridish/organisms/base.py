"""What every organism carries: a config, budgets, a card, pre-registered claims, a job graph, and an
`analyze` step that turns job outputs into estimates; the base class judges the claims."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from petridish.claims import ClaimSpec, Findings, Gate, judge_all
from petridish.config import RunBase
from petridish.jobs import Job
from petridish.organisms import Entry
from petridish.runs import RunDir


@dataclass
class Card:
    """The organism card (DESIGN.md): where it sits on the realism ladder and how much it was spoonfed."""

    anchor: str
    rung: int  # 1 capability exists .. 4 appears despite training against it
    rung_note: str
    spoonfeeding: dict[str, Any]
    construction: str
    axes: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


class Organism(ABC):
    """An organism's one definition. Its name, claim, anchor and substrate come from its registry entry
    (`petridish.organisms.register`, in its package's __init__.py), so they are written once."""

    Config: ClassVar[type[RunBase]]
    budgets: ClassVar[dict[str, dict]]
    claims: ClassVar[tuple[ClaimSpec, ...]]
    gates: ClassVar[tuple[Gate, ...]] = ()

    def __init__(self, entry: Entry) -> None:
        self.entry = entry

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def summary(self) -> str:
        return self.entry.summary

    @property
    def anchor(self) -> str:
        return self.entry.anchor

    @property
    def substrate(self) -> str:
        return self.entry.substrate

    @abstractmethod
    def card(self, cfg: Any) -> Card: ...

    def prepare(self, cfg: Any, run: RunDir) -> None:  # noqa: B027 (optional hook, empty by default)
        """Write anything all jobs share (e.g. the tokenizer) before they start. Must be idempotent."""

    @abstractmethod
    def jobs(self, cfg: Any) -> list[Job]: ...

    def analyze(self, cfg: Any, outputs: dict[str, dict], run: RunDir) -> Findings:
        """Estimates for each claim condition and gate, metrics and controls, from the job outputs."""
        raise NotImplementedError

    def assemble(self, cfg: Any, outputs: dict[str, dict], run: RunDir) -> dict:
        """result.json's body: every pre-registered claim judged from the analysis's estimates."""
        f = self.analyze(cfg, outputs, run)
        claims, gates, warnings = judge_all(self.claims, self.gates, f, len(cfg.seeds))
        return {"claims": claims, "gates": gates, "warnings": warnings, "metrics": f.metrics,
                "controls": f.controls, "tables": f.tables}

    def plots(self, cfg: Any, result: dict, run: RunDir) -> list[tuple[str, Path]]:
        """(caption, file) for each figure, written into the run folder."""
        return []
