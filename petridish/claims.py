"""Pre-registered claims and how they are judged.

An organism declares its claims (conditions with thresholds, written before any run) and the gates that make each
testable (a positive control, a precondition). Its analysis returns estimates; this module alone turns them into
verdicts, the same way for every organism:

- `not measured`: an estimate is missing (no cases, an empty class, a NaN), with the reason;
- `invalid`: a gate failed, so the claim was not testable in this run (e.g. the backdoor was never installed);
- `reproduced` / `not reproduced`: every interval passes / some interval lies wholly on the wrong side;
- `inconclusive`: an interval straddles its threshold, or a gate's does; the record then carries its `power`: the
  seeds (and cases) at which the interval would clear the threshold if the estimate held.

A claim that holds by construction (no outcome of the experiment could make it fail) is marked `by_construction`
and counted apart; where it was amended the original stays registered beside the amendment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from petridish.stats import Z95, Estimate

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
    registered and judged beside it), the date it was `registered` and the `reason`. by_construction: why the claim
    cannot fail whatever the experiment does (then it is judged and shown, but counted apart). withdrawn: why
    the claim is no longer tested (it stays registered, reads `not measured` with that reason, and is counted
    apart).
    """

    id: str
    statement: str
    conditions: tuple[Condition, ...]
    gates: tuple[str, ...] = ()
    amends: str = ""
    registered: str = ""
    reason: str = ""
    by_construction: str = ""
    withdrawn: str = ""

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
    """Verdict of a conjunction of conditions: one condition that fails decides it, measured or not the others."""
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if NOT_MEASURED in verdicts:
        return NOT_MEASURED
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE


# --- power: what would decide an inconclusive verdict -----------------------------------------------------------
MAX_UNITS = 10_000  # past this many seeds (or cases) "more would decide" means nothing practical


@dataclass(frozen=True)
class Power:
    """Seeds (and cases per seed) at which the interval would clear its threshold if the estimate held; None when
    more of them cannot decide it (the estimate sits on the threshold, or the other source of variance dominates)."""

    seeds: int | None
    cases: int | None
    text: str

    def to_dict(self) -> dict:
        return {"seeds": self.seeds, "cases": self.cases, "text": self.text}


def _margin(cond: Condition, est: Estimate) -> tuple[float, float]:
    """(distance from the estimate to the threshold, the interval's half-width on that side)."""
    v = est.value
    if cond.op == "within":
        lo_t, hi_t = cond.threshold - cond.tol, cond.threshold + cond.tol
        if lo_t <= v <= hi_t:
            d = min(v - lo_t, hi_t - v)
            return d, (v - est.lo) if v - lo_t <= hi_t - v else (est.hi - v)
        return (lo_t - v, est.hi - v) if v < lo_t else (v - hi_t, v - est.lo)
    above = v > cond.threshold
    return abs(v - cond.threshold), (v - est.lo) if above else (est.hi - v)


def _binomial_seeds(cond: Condition, est: Estimate) -> int | None:
    """Seeds at which an exact binomial interval at the same fraction of seeds would clear the threshold."""
    f = est.value
    for n in range(est.seeds + 1, 201):
        k = int(round(f * n))
        ci = sps.binomtest(k, n).proportion_ci(0.95, method="exact")
        if cond.verdict(Estimate(k / n, float(ci.low), float(ci.high), est.method, n, 0)) != INCONCLUSIVE:
            return n
    return None


def units_needed(cond: Condition, est: Estimate) -> tuple[int | None, int | None]:
    """(seeds, cases per seed) at which this estimate's interval would clear `cond`, other things held.

    The half-width h at S seeds is the larger of a seed term t(S-1) sd / sqrt(S) and a case term that also shrinks
    as 1 / sqrt(S); more cases shrink only the case term. Which one binds is read from the per-seed values."""
    if not est.measured or est.seeds == 0:
        return None, None
    if est.method.startswith("exact binomial"):
        return _binomial_seeds(cond, est), None
    d, h = _margin(cond, est)
    if not (d > 0 and h > 0 and np.isfinite(h)):
        return None, None
    S = est.seeds
    x = np.asarray(est.per_seed, float)
    x = x[np.isfinite(x)]
    t0 = float(sps.t.ppf(0.975, S - 1)) if S > 1 else Z95
    h_seed = t0 * float(np.std(x, ddof=1)) / np.sqrt(S) if len(x) > 1 else 0.0
    seed_bound = h_seed >= 0.9 * h
    seeds = None
    for n in range(S + 1, MAX_UNITS):
        scale = np.sqrt(S / n) * (float(sps.t.ppf(0.975, n - 1)) / t0 if seed_bound else 1.0)
        if h * scale < d:
            seeds = n
            break
    cases = None
    if not seed_bound and est.cases and h_seed < d:  # the case term binds: more cases per seed shrink it
        need = int(np.ceil(est.cases * (h / d) ** 2))
        cases = need if need < MAX_UNITS * 10 else None
    return seeds, cases


def power(conditions: Sequence[tuple[Condition, Estimate]], seeds: int) -> Power:
    """What would decide a claim whose listed (condition, estimate) pairs are inconclusive: the most seeds any of
    them needs (and cases per seed, where cases alone would do it)."""
    need = [units_needed(c, e) for c, e in conditions]
    s = None if not need or any(n[0] is None for n in need) else max(n[0] for n in need)
    c = None if not need or any(n[1] is None for n in need) else max(n[1] for n in need)
    if s is None and c is None:
        text = (f"inconclusive at {seeds} seeds; more seeds would not decide it if the estimate held (it sits "
                "at the threshold)")
    else:
        ways = ([f"~{s} seeds"] if s is not None else []) + ([f"~{c} cases per seed"] if c is not None else [])
        text = f"inconclusive at {seeds} seeds; {' or '.join(ways)} would decide"
    return Power(s, c, text)


def judge(spec: ClaimSpec, estimates: Sequence[Estimate] | None, gates: dict[str, GateResult],
          missing: str = "this run did not measure it (its jobs are not in this config)") -> dict:
    """The result.json record of one claim; its verdict is computed here, never set by hand."""
    if spec.withdrawn:
        estimates, missing = None, f"withdrawn: {spec.withdrawn}"
    ests = list(estimates) if estimates is not None else [Estimate.not_measured(missing)] * len(spec.conditions)
    if len(ests) != len(spec.conditions):
        raise ValueError(f"claim {spec.id}: {len(spec.conditions)} conditions but {len(ests)} estimates")
    parts = [{"quantity": c.quantity, "threshold": c.text(), "verdict": c.verdict(e), **e.to_dict()}
             for c, e in zip(spec.conditions, ests)]
    verdict = combine([p["verdict"] for p in parts])
    reasons = [f"{p['quantity']}: {p['missing']}" for p in parts if p.get("missing")]
    gate_recs = [] if spec.withdrawn else [gates[g] for g in spec.gates]
    failed = [g for g in gate_recs if g.verdict == NOT_REPRODUCED]
    unmeasured = [g for g in gate_recs if g.verdict == NOT_MEASURED]
    unsure = [g for g in gate_recs if g.verdict == INCONCLUSIVE]
    if failed:  # a failed gate makes the claim untestable in this run, measured or not
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
    if verdict == INCONCLUSIVE:
        open_ = [(c, e) for c, e, p in zip(spec.conditions, ests, parts) if p["verdict"] == INCONCLUSIVE]
        open_ += [(g.gate.condition, g.estimate) for g in unsure]
        seeds = max([e.seeds for _, e in open_] or [head["seeds"]])
        power_rec = power(open_, seeds).to_dict()
    rec = {"id": spec.id, "statement": spec.statement, "threshold": spec.threshold, "verdict": verdict,
           "reason": "; ".join(reasons), "gates": list(spec.gates),
           **{k: head[k] for k in ("estimate", "ci", "method", "seeds", "cases", "per_seed")}}
    if head.get("missing"):
        rec["missing"] = head["missing"]
    if len(parts) > 1:
        rec["conditions"] = parts
    if spec.amends:
        rec.update(amends=spec.amends, registered=spec.registered, amended_because=spec.reason)
    if spec.by_construction:
        rec["by_construction"] = spec.by_construction
    if spec.withdrawn:
        rec["withdrawn"] = spec.withdrawn
    if verdict == INCONCLUSIVE:
        rec["power"] = power_rec
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
