"""Pre-registered claims and how they are judged.

An organism declares its claims (conditions with thresholds, written before any run) and the gates that make each
testable (a positive control, a precondition). Its analysis returns estimates; this module alone turns them into
verdicts, the same way for every organism:

- `not measured`: an estimate is missing (no cases, an empty class, a NaN), with the reason;
- `invalid`: a gate failed, so the claim was not testable in this run (e.g. the backdoor was never installed);
- `reproduced` / `not reproduced`: every interval passes / some interval lies wholly on the wrong side;
- `inconclusive`: an interval straddles its threshold, or a gate's does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from petridish.stats import Estimate

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
NOT_MEASURED, INVALID = "not measured", "invalid"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_MEASURED, INVALID)
MIN_SEEDS = 3  # fewer seeds than this: the interval over seeds is unreliable and the run says so

_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}


@dataclass(frozen=True)
class Condition:
    """One pre-registered comparison: `quantity op threshold`, or `quantity within threshold +- tol`."""

    quantity: str
    op: str
    threshold: float
    tol: float = 0.0

    def __post_init__(self) -> None:
        if self.op not in (*_OPS, "within"):
            raise ValueError(f"unknown operator {self.op!r}")
        if (self.op == "within") != (self.tol > 0):
            raise ValueError("`within` needs a tolerance > 0, and only `within` takes one")

    def text(self) -> str:
        if self.op == "within":
            return f"{self.quantity} within {self.threshold:g} +- {self.tol:g}"
        return f"{self.quantity} {self.op} {self.threshold:g}"

    def holds(self, x: float) -> bool:
        if self.op == "within":
            return abs(x - self.threshold) <= self.tol
        return _OPS[self.op](x, self.threshold)

    def verdict(self, est: Estimate) -> str:
        """reproduced if the whole interval satisfies the condition, not reproduced if none of it does."""
        if not est.measured:
            return NOT_MEASURED
        if not (math.isfinite(est.lo) and math.isfinite(est.hi)):
            return INCONCLUSIVE
        if self.op == "within":  # the condition holds on an interval: inside needs both ends, outside either side
            lo_t, hi_t = self.threshold - self.tol, self.threshold + self.tol
            if lo_t <= est.lo and est.hi <= hi_t:
                return REPRODUCED
            return NOT_REPRODUCED if est.hi < lo_t or est.lo > hi_t else INCONCLUSIVE
        ends = (self.holds(est.lo), self.holds(est.hi))
        return REPRODUCED if all(ends) else NOT_REPRODUCED if not any(ends) else INCONCLUSIVE


@dataclass(frozen=True)
class Gate:
    """A control that must pass for the claims it gates to be testable (e.g. "the backdoor is installed")."""

    id: str
    statement: str
    condition: Condition


@dataclass(frozen=True)
class ClaimSpec:
    """A claim and its thresholds, fixed in code before any run. The first condition is the headline.

    gates: ids of the organism's gates this claim needs. An amended claim names the claim it `amends` (which stays
    registered and judged beside it), the date it was `registered` and the `reason`.
    """

    id: str
    statement: str
    conditions: tuple[Condition, ...]
    gates: tuple[str, ...] = ()
    amends: str = ""
    registered: str = ""
    reason: str = ""

    @property
    def threshold(self) -> str:
        return " and ".join(c.text() for c in self.conditions)


@dataclass
class Findings:
    """What an organism's analysis returns: estimates per claim (one per condition, in order), estimates per gate,
    and what it wants shown beside them. Claims it cannot measure in this run are simply absent."""

    estimates: dict[str, tuple[Estimate, ...]]
    gates: dict[str, Estimate] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    controls: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    tables: list[dict] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # claim id -> a note shown with it


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    estimate: Estimate
    verdict: str

    def to_dict(self) -> dict:
        return {"id": self.gate.id, "statement": self.gate.statement, "threshold": self.gate.condition.text(),
                "verdict": self.verdict, **self.estimate.to_dict()}


def judge_gate(gate: Gate, est: Estimate | None) -> GateResult:
    est = est or Estimate.not_measured("this run did not measure it")
    return GateResult(gate, est, gate.condition.verdict(est))


def combine(verdicts: Sequence[str]) -> str:
    """Verdict of a conjunction of conditions."""
    if NOT_MEASURED in verdicts:
        return NOT_MEASURED
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE


def judge(spec: ClaimSpec, estimates: Sequence[Estimate] | None, gates: dict[str, GateResult],
          missing: str = "this run did not measure it (its jobs are not in this config)") -> dict:
    """The result.json record of one claim; its verdict is computed here, never set by hand."""
    ests = list(estimates) if estimates is not None else [Estimate.not_measured(missing)] * len(spec.conditions)
    if len(ests) != len(spec.conditions):
        raise ValueError(f"claim {spec.id}: {len(spec.conditions)} conditions but {len(ests)} estimates")
    parts = [{"quantity": c.quantity, "threshold": c.text(), "verdict": c.verdict(e), **e.to_dict()}
             for c, e in zip(spec.conditions, ests)]
    verdict = combine([p["verdict"] for p in parts])
    reasons = [f"{p['quantity']}: {p['missing']}" for p in parts if p.get("missing")]
    gate_recs = [gates[g] for g in spec.gates]
    failed = [g for g in gate_recs if g.verdict == NOT_REPRODUCED]
    unmeasured = [g for g in gate_recs if g.verdict == NOT_MEASURED]
    unsure = [g for g in gate_recs if g.verdict == INCONCLUSIVE]
    if failed and estimates is not None:  # a claim this config never ran stays `not measured`
        verdict = INVALID
        reasons = [f"gate {g.gate.id} failed ({g.gate.statement}: {g.estimate.value:.3g} "
                   f"[{g.estimate.lo:.3g}, {g.estimate.hi:.3g}], needs {g.gate.condition.text()})" for g in failed]
    elif unmeasured and verdict != NOT_MEASURED:
        verdict = NOT_MEASURED
        reasons = [f"gate {g.gate.id} not measured: {g.estimate.missing}" for g in unmeasured]
    elif unsure and verdict in (REPRODUCED, NOT_REPRODUCED):
        verdict = INCONCLUSIVE
        reasons = [f"gate {g.gate.id} inconclusive ({g.gate.statement})" for g in unsure]
    head = parts[0]
    rec = {"id": spec.id, "statement": spec.statement, "threshold": spec.threshold, "verdict": verdict,
           "reason": "; ".join(reasons), "gates": list(spec.gates),
           **{k: head[k] for k in ("estimate", "ci", "method", "seeds", "cases", "per_seed")}}
    if head.get("missing"):
        rec["missing"] = head["missing"]
    if len(parts) > 1:
        rec["conditions"] = parts
    if spec.amends:
        rec.update(amends=spec.amends, registered=spec.registered, amended_because=spec.reason)
    return rec


def judge_all(claims: Sequence[ClaimSpec], gates: Sequence[Gate], findings: Findings, seeds: int
              ) -> tuple[list[dict], list[dict], list[str]]:
    """Every pre-registered claim in order (missing ones `not measured`), every gate, and the run's warnings."""
    known = {c.id for c in claims}
    unknown = sorted(set(findings.estimates) - known)
    if unknown:
        raise ValueError(f"estimates for unregistered claims {unknown}: register them in the organism's claims")
    gate_results = {g.id: judge_gate(g, findings.gates.get(g.id)) for g in gates}
    records = []
    for spec in claims:
        rec = judge(spec, findings.estimates.get(spec.id), gate_results)
        if spec.id in findings.notes:
            rec["note"] = findings.notes[spec.id]
        records.append(rec)
    warnings = list(findings.warnings)
    if seeds < MIN_SEEDS:
        why = "they cover case noise only, not seed-to-seed variation" if seeds == 1 else "t has 1 degree of freedom"
        warnings.append(f"only {seeds} seed(s): intervals over seeds need >= {MIN_SEEDS} ({why}); "
                        "treat the verdicts as a smoke test, not a result")
    for g in gate_results.values():
        if g.verdict == NOT_REPRODUCED:
            gated = [c.id for c in claims if g.gate.id in c.gates]
            warnings.append(f"gate {g.gate.id} failed ({g.gate.statement}): {', '.join(gated) or 'no claim'} "
                            "invalid in this run")
    if records and all(r["verdict"] in (NOT_MEASURED, INVALID) for r in records):
        warnings.append("DEGENERATE RUN: no claim could be tested (every claim is not measured or invalid)")
    return records, [g.to_dict() for g in gate_results.values()], warnings
