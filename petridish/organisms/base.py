"""What every organism carries: a config, budgets, a card, pre-registered claims, a job graph, and an
`assemble` step that turns job outputs into result.json (claims with intervals and verdicts)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from petridish.config import RunBase
from petridish.jobs import Job
from petridish.runs import RunDir
from petridish.stats import all_of, verdict


@dataclass(frozen=True)
class Condition:
    """One pre-registered comparison, e.g. Condition("triggered defection", ">=", 0.90)."""

    quantity: str
    op: str
    threshold: float

    def text(self) -> str:
        return f"{self.quantity} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class ClaimSpec:
    """A claim and its threshold, fixed in code before any run. The first condition is the headline."""

    id: str
    statement: str
    conditions: tuple[Condition, ...]

    @property
    def threshold(self) -> str:
        return " and ".join(c.text() for c in self.conditions)


@dataclass
class Estimate:
    """A measured quantity: point estimate, 95% interval, number of cases, and per-seed values."""

    value: float
    lo: float
    hi: float
    n: int
    per_seed: list[float] = field(default_factory=list)

    @staticmethod
    def nan() -> Estimate:
        """An undefined estimate (e.g. a condition that no case reached); its verdict is inconclusive."""
        return Estimate(float("nan"), float("nan"), float("nan"), 0, [])

    def to_dict(self) -> dict:
        return {"estimate": self.value, "ci": [self.lo, self.hi], "n": self.n, "per_seed": self.per_seed}


def claim_result(spec: ClaimSpec, estimates: list[Estimate], note: str = "") -> dict:
    """The result.json record of a claim; its verdict is computed from the intervals, never set by hand."""
    parts = []
    for cond, est in zip(spec.conditions, estimates, strict=True):
        parts.append({
            "quantity": cond.quantity, "threshold": f"{cond.op} {cond.threshold:g}",
            "estimate": est.value, "ci": [est.lo, est.hi], "n": est.n, "per_seed": est.per_seed,
            "verdict": verdict((est.lo, est.hi), cond.op, cond.threshold),
        })
    head = parts[0]
    rec = {
        "id": spec.id, "statement": spec.statement, "threshold": spec.threshold,
        "estimate": head["estimate"], "ci": head["ci"], "n": head["n"], "per_seed": head["per_seed"],
        "verdict": all_of([p["verdict"] for p in parts]),
    }
    if len(parts) > 1:
        rec["conditions"] = parts
    if note:
        rec["note"] = note
    return rec


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
    name: ClassVar[str]
    summary: ClassVar[str]  # the one-line claim `petridish list` prints
    anchor: ClassVar[str]
    substrate: ClassVar[str]  # "lm" | "rl" | "icl"
    Config: ClassVar[type[RunBase]]
    budgets: ClassVar[dict[str, dict]]
    claims: ClassVar[tuple[ClaimSpec, ...]]

    @abstractmethod
    def card(self, cfg: Any) -> Card: ...

    def prepare(self, cfg: Any, run: RunDir) -> None:  # noqa: B027 (optional hook, empty by default)
        """Write anything all jobs share (e.g. the tokenizer) before they start. Must be idempotent."""

    @abstractmethod
    def jobs(self, cfg: Any) -> list[Job]: ...

    @abstractmethod
    def assemble(self, cfg: Any, outputs: dict[str, dict], run: RunDir) -> dict:
        """{"claims": [...], "metrics": {...}, "controls": {...}} from the job outputs."""

    def plots(self, cfg: Any, result: dict, run: RunDir) -> list[tuple[str, Path]]:
        """(caption, file) for each figure, written into the run folder."""
        return []
