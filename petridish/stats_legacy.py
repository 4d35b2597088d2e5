"""The statistics layer before issue 13, kept only while the organisms move to petridish.stats and
petridish.claims; delete once nothing imports it."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from petridish.claims import ClaimSpec
from petridish.stats import Counts, Moments

REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
N_BOOT = 10_000


def wilson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (scipy's implementation)."""
    if n == 0:
        return (0.0, 1.0)
    ci = sps.binomtest(int(k), int(n)).proportion_ci(confidence_level=conf, method="wilson")
    return (float(ci.low), float(ci.high))


def newcombe_diff(k1: int, n1: int, k2: int, n2: int, conf: float = 0.95) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval (method 10 of Newcombe 1998)."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, conf)
    l2, u2 = wilson(k2, n2, conf)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def bootstrap_mean(values: Sequence[float], conf: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean over seeds with a percentile bootstrap interval over seeds (for per-seed scalars)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 1:
        return float(v[0]), float(v[0]), float(v[0])
    rng = np.random.default_rng(seed)
    boots = v[rng.integers(0, len(v), size=(N_BOOT, len(v)))].mean(1)
    a = (1 - conf) / 2
    return float(v.mean()), float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))


def hier_bootstrap(
    per_seed: Sequence[dict[str, Counts]],
    statistic: Callable[[dict[str, np.ndarray]], np.ndarray],
    conf: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Two-level bootstrap of a statistic of per-seed rates.

    per_seed: one dict per seed, name -> Counts (e.g. {"before": Counts(198, 200), "after": Counts(150, 200)}).
    statistic: maps {name: rates [B, S]} to [B] (e.g. lambda r: r["after"].mean(1) / r["before"].mean(1)).
    Returns (point estimate, lo, hi). The point estimate is the statistic on the observed rates.
    """
    names = list(per_seed[0])
    S = len(per_seed)
    rng = np.random.default_rng(seed)
    seed_idx = rng.integers(0, S, size=(N_BOOT, S))  # [B, S] which seeds each replicate draws
    rates = {}
    for name in names:
        k = np.array([c[name].k for c in per_seed])  # [S]
        n = np.array([c[name].n for c in per_seed])  # [S]
        # Within a seed, draw the rate from its Jeffreys posterior Beta(k + 1/2, n - k + 1/2) rather than
        # resampling the 0/1 outcomes: the latter collapses to a zero-width interval at 0/n or n/n.
        rates[name] = rng.beta(k[seed_idx] + 0.5, n[seed_idx] - k[seed_idx] + 0.5)  # [B, S]
    observed = {name: np.array([[c[name].rate for c in per_seed]]) for name in names}  # [1, S]
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(statistic(observed)[0])
        boots = statistic(rates)
    boots = boots[np.isfinite(boots)]
    if len(boots) == 0:
        return point, float("nan"), float("nan")
    a = (1 - conf) / 2
    lo, hi = float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))
    return point, min(lo, point), max(hi, point)  # the interval always contains the observed value


def hier_bootstrap_values(
    per_seed: Sequence[dict[str, Sequence[float]]],
    statistic: Callable[[dict[str, np.ndarray]], np.ndarray],
    conf: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Two-level bootstrap of a statistic of per-seed means of continuous per-case values (losses, cosines).

    per_seed: one dict per seed, name -> per-case values; within a seed all names score the same cases (e.g. one
    test set through two models), so cases are resampled jointly across names, keeping the pairing.
    statistic: maps {name: per-seed means [B, S]} to [B] (e.g. lambda m: m["model"].mean(1) / m["gd"].mean(1)).
    Returns (point estimate, lo, hi); the point estimate is the statistic on the observed means.
    """
    names = list(per_seed[0])
    S = len(per_seed)
    rng = np.random.default_rng(seed)
    case_means = []  # per seed: {name: [B]} means of one case-resample per replicate
    for unit in per_seed:
        vals = {k: np.asarray(unit[k], dtype=float) for k in names}
        n = len(vals[names[0]])
        means = {k: np.empty(N_BOOT) for k in names}
        for lo in range(0, N_BOOT, 1000):  # chunks keep the [chunk, n] index matrix small
            idx = rng.integers(0, n, size=(min(1000, N_BOOT - lo), n))
            for k in names:
                means[k][lo : lo + len(idx)] = vals[k][idx].mean(1)
        case_means.append(means)
    seed_idx = rng.integers(0, S, size=(N_BOOT, S))  # [B, S] which seeds each replicate draws
    draw = (np.arange(N_BOOT)[:, None] + 7919 * np.arange(S)[None]) % N_BOOT  # a different case-resample per slot
    boots_in = {k: np.stack([case_means[s][k] for s in range(S)])[seed_idx, draw] for k in names}  # [B, S]
    observed = {k: np.array([[np.mean(unit[k]) for unit in per_seed]]) for k in names}  # [1, S]
    with np.errstate(divide="ignore", invalid="ignore"):
        point = float(statistic(observed)[0])
        boots = statistic(boots_in)
    boots = boots[~np.isnan(boots)]  # +-inf stays: a censored statistic (e.g. a threshold beyond the sweep)
    if len(boots) == 0:
        return point, float("nan"), float("nan")
    a = (1 - conf) / 2
    lo, hi = (float(np.quantile(boots, q, method="inverted_cdf")) for q in (a, 1 - a))  # no lerp across inf
    return point, min(lo, point), max(hi, point)


def pooled_rate(per_seed: Sequence[Counts], conf: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean rate over seeds with a hierarchical bootstrap interval."""
    return hier_bootstrap([{"x": c} for c in per_seed], lambda r: r["x"].mean(1), conf, seed)



def pooled_mean(per_seed: Sequence[Moments], conf: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """Mean over seeds of a per-episode quantity, with a two-level bootstrap interval: resample seeds, then draw
    each chosen seed's mean from its sampling distribution N(mean, sd^2 / n) (the continuous analogue of
    `pooled_rate`)."""
    m = np.array([x.mean for x in per_seed])
    se = np.array([x.sd / math.sqrt(max(x.n, 1)) for x in per_seed])
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(m), size=(N_BOOT, len(m)))
    boots = (m[idx] + se[idx] * rng.standard_normal(idx.shape)).mean(1)
    a = (1 - conf) / 2
    point = float(m.mean())
    return point, min(float(np.quantile(boots, a)), point), max(float(np.quantile(boots, 1 - a)), point)


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


def verdict(ci: tuple[float, float], op: str, threshold: float) -> str:
    """Compare an interval with a pre-registered threshold.

    reproduced: the whole interval satisfies `value op threshold`; not reproduced: none of it does;
    inconclusive: the interval straddles the threshold (or is undefined).
    """
    lo, hi = ci
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return INCONCLUSIVE
    f = _OPS[op]
    if f(lo, threshold) and f(hi, threshold):
        return REPRODUCED
    if not f(lo, threshold) and not f(hi, threshold):
        return NOT_REPRODUCED
    return INCONCLUSIVE


def all_of(verdicts: Sequence[str]) -> str:
    """Verdict of a conjunction: reproduced only if every part is; not reproduced if any part is not."""
    if any(v == NOT_REPRODUCED for v in verdicts):
        return NOT_REPRODUCED
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return INCONCLUSIVE


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


