"""Estimates: a measured quantity, its 95% interval, the method that made it and its unit counts.

The unit is the seed: each seed grows its own model, so seeds are independent and the cases a seed is evaluated on
are not (they share that seed's model). Every quantity is therefore computed per seed first (a rate, a difference,
a slope, an AUROC) and the interval is a Student-t interval over the per-seed values. With 3 seeds that interval is
wide (t = 4.30), which is the honest price of 3 seeds. Corrections keep it honest at the edges:

- it is never narrower than what the evaluation cases alone imply (a z interval from each seed's sampling
  variance; for rates also the exact Clopper-Pearson interval of the pooled counts), so seeds that happen to agree
  exactly do not give a zero-width interval, and a rate of 0 / n still has an upper bound;
- the estimand of a rate is the population mean of the per-seed rates, and the value reported is the mean of the
  per-seed rates; its interval is built on the variance-stabilising arcsine scale around that same value and
  mapped back, which keeps it inside [0, 1] and asymmetric near 0 and 1;
- a ratio of rates is the ratio of the mean rates (after / before, both averaged over seeds), so one seed with a
  zero denominator does not undefine it; its upper end is bounded by 1 / (the denominator's lower bound);
- one seed with no case-level variance has no interval: `not measured`, never a zero-width firm verdict.

A case set that every seed reuses (the same test prompts or levels) is one sample of cases for all seeds: pass
`shared_cases=True` and the interval adds the case-sampling variance once (a bound for 0/1 outcomes), and `cases`
counts those cases once. Measured coverage of these intervals is checked by tests/test_coverage.py against a
simulation of the designs the organisms use (the worst cell, strongly skewed seed rates near 0 or 1 with a logit
seed SD of 1.2, covers 0.87-0.91 at 3-10 seeds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

Z95 = float(sps.norm.ppf(0.975))
T_OVER_SEEDS = "t over seeds"


@dataclass(frozen=True)
class Counts:
    """k successes out of n cases, for one seed."""

    k: int
    n: int

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else float("nan")


@dataclass(frozen=True)
class Moments:
    """Mean, standard deviation and number of a per-episode quantity (e.g. a return), for one seed."""

    mean: float
    sd: float
    n: int

    @staticmethod
    def of(values: np.ndarray) -> Moments:
        v = np.asarray(values, dtype=float)
        return Moments(float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v))


@dataclass(frozen=True)
class Estimate:
    """A measured quantity with its 95% interval.

    seeds: independent units behind it (a model shared by every seed counts once); cases: evaluation cases per seed
    (a case set reused by every seed counted once); per_seed: each unit's value; missing: why it could not be
    measured (then value and interval are NaN).
    """

    value: float
    lo: float
    hi: float
    method: str
    seeds: int
    cases: int
    per_seed: tuple[float, ...] = ()
    missing: str = ""

    @staticmethod
    def not_measured(reason: str) -> Estimate:
        nan = float("nan")
        return Estimate(nan, nan, nan, "", 0, 0, (), reason)

    @property
    def measured(self) -> bool:
        return not self.missing

    def shifted(self, by: float) -> Estimate:
        """The same estimate minus a constant known exactly (e.g. a baseline fixed before the run)."""
        return Estimate(self.value - by, self.lo - by, self.hi - by, self.method, self.seeds, self.cases,
                        tuple(v - by for v in self.per_seed), self.missing)

    def to_dict(self) -> dict:
        d = {"estimate": self.value, "ci": [self.lo, self.hi], "method": self.method, "seeds": self.seeds,
             "cases": self.cases, "per_seed": list(self.per_seed)}
        if self.missing:
            d["missing"] = self.missing
        return d


# --- the interval over seeds (vectorised over leading axes, so the coverage test runs the real code) ----------
def t_interval(x: np.ndarray, case_var: np.ndarray, extra_var: np.ndarray | float = 0.0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of per-seed values x [..., S] and its 95% interval.

    case_var [..., S]: each seed's sampling variance from its finite cases; the half-width is the larger of Student-t
    over seeds and a z interval from case_var alone. extra_var [...]: variance shared by every seed (a reused case
    set), known rather than estimated, added once. With one seed only the case-level interval exists.
    """
    S = x.shape[-1]
    m = x.mean(-1)
    half2 = Z95**2 * case_var.mean(-1) / S
    if S > 1:
        half2 = np.maximum(half2, sps.t.ppf(0.975, S - 1) ** 2 * x.var(-1, ddof=1) / S)
    half = np.sqrt(half2 + Z95**2 * extra_var)  # the shared part is known, not estimated from the seeds
    return m, m - half, m + half


def _unasin(y: np.ndarray) -> np.ndarray:
    return np.sin(np.clip(y, 0.0, np.pi / 2)) ** 2


def _pooled_exact(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson interval of k / n (non-integer counts allowed): the case-level floor of a rate."""
    lo = np.where(k > 0, sps.beta.ppf(0.025, np.maximum(k, 1e-9), n - k + 1), 0.0)
    hi = np.where(k < n, sps.beta.ppf(0.975, k + 1, np.maximum(n - k, 1e-9)), 1.0)
    return lo, hi


def rate_interval(k: np.ndarray, n: np.ndarray, shared_cases: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds of per-seed rates k/n [..., S] and its interval: the t interval over seeds of the arcsine of
    each seed's rate, centred on the arcsine of the mean rate (value and interval on one scale), widened to the
    exact interval of the pooled counts (the case-level floor: 0 of 500 still has an upper end)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    m = (k / n).mean(-1)
    extra = 1.0 / (4 * shared_cases + 2) if shared_cases else 0.0
    y = np.arcsin(np.sqrt(k / n))
    _, lo, hi = t_interval(y, 1.0 / (4 * n + 2), extra)
    c = np.arcsin(np.sqrt(m))
    half = (hi - lo) / 2
    N = np.full(m.shape, float(shared_cases)) if shared_cases else n.sum(-1)
    elo, ehi = _pooled_exact(m * N, N)
    return m, np.minimum(_unasin(c - half), elo), np.maximum(_unasin(c + half), ehi)


def _smoothed(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    return (k + 0.5) / (n + 1.0)  # Jeffreys: a sampling variance that is not zero at 0/n or n/n


def diff_interval(ka: np.ndarray, na: np.ndarray, kb: np.ndarray, nb: np.ndarray, shared_cases: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds of the paired difference of rates a - b [..., S]."""
    ka, na, kb, nb = (np.asarray(v, float) for v in (ka, na, kb, nb))
    pa, pb = _smoothed(ka, na), _smoothed(kb, nb)
    var = pa * (1 - pa) / na + pb * (1 - pb) / nb
    extra = (pa * (1 - pa) + pb * (1 - pb)).mean(-1) / shared_cases if shared_cases else 0.0
    m, lo, hi = t_interval(ka / na - kb / nb, var, extra)
    return m, np.clip(lo, -1, 1), np.clip(hi, -1, 1)


def ratio_interval(kn: np.ndarray, nn: np.ndarray, kd: np.ndarray, nd: np.ndarray, shared_cases: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio of the mean rates over seeds, mean(num) / mean(den) [..., S] paired by seed, and its delta-method
    interval (per-seed residuals num - R den); NaN where every den rate is 0. The upper end is bounded by
    1 / (the lower end of the den rate's interval), since num <= 1."""
    kn, nn, kd, nd = (np.asarray(v, float) for v in (kn, nn, kd, nd))
    rn, rd = kn / nn, kd / nd
    mn, md = rn.mean(-1), rd.mean(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(md > 0, mn / np.where(md > 0, md, 1.0), np.nan)
    pn, pd = _smoothed(kn, nn), _smoothed(kd, nd)
    R = np.nan_to_num(r)[..., None]
    var = pn * (1 - pn) / nn + R**2 * pd * (1 - pd) / nd
    extra = (pn * (1 - pn) + R**2 * pd * (1 - pd)).mean(-1) / shared_cases if shared_cases else 0.0
    _, lo, hi = t_interval(rn - R * rd, var, extra)  # mean residual is 0 at R; its half-width over mean(den)
    half = (hi - lo) / 2 / np.where(md > 0, md, np.nan)
    _, dlo, _ = rate_interval(kd, nd, shared_cases)
    with np.errstate(divide="ignore"):
        cap = np.where(dlo > 0, 1.0 / np.where(dlo > 0, dlo, 1.0), np.inf)
    return r, np.maximum(r - half, 0.0), np.minimum(r + half, np.maximum(cap, r))


# --- estimates -------------------------------------------------------------------------------------------------
def _empty(per_seed: Sequence[Counts], what: str) -> str:
    if not per_seed:
        return f"{what}: no seeds"
    empty = [i for i, c in enumerate(per_seed) if c.n == 0]
    return f"{what}: no evaluation cases in {len(empty)} of {len(per_seed)} seeds" if empty else ""


def _method(base: str, seeds: int, shared_cases: int) -> str:
    m = base if seeds > 1 else "case noise only (one seed)"
    return m + (", shared case set" if shared_cases else "")


def _estimate(value, lo, hi, method: str, per_seed: Sequence[float], cases: int) -> Estimate:
    return Estimate(float(value), float(lo), float(hi), method, len(per_seed), cases,
                    tuple(float(v) for v in per_seed))


def rate(per_seed: Sequence[Counts], shared_cases: bool = False) -> Estimate:
    """Mean over seeds of a rate (e.g. triggered defection)."""
    if why := _empty(per_seed, "rate"):
        return Estimate.not_measured(why)
    k, n = np.array([c.k for c in per_seed]), np.array([c.n for c in per_seed])
    C = int(n.max()) if shared_cases else 0
    v, lo, hi = rate_interval(k, n, C)
    return _estimate(v, lo, hi, _method(T_OVER_SEEDS + " (arcsine scale)", len(k), C), k / n,
                     C or int(round(n.mean())))


def diff(a: Sequence[Counts], b: Sequence[Counts], shared_cases: bool = False) -> Estimate:
    """Mean over seeds of the difference of two rates measured on the same seed (a - b)."""
    if len(a) != len(b):
        raise ValueError("diff pairs a and b by seed: give both for the same seeds")
    if why := _empty(a, "difference, first arm") or _empty(b, "difference, second arm"):
        return Estimate.not_measured(why)
    ka, na = np.array([c.k for c in a]), np.array([c.n for c in a])
    kb, nb = np.array([c.k for c in b]), np.array([c.n for c in b])
    C = int(max(na.max(), nb.max())) if shared_cases else 0
    v, lo, hi = diff_interval(ka, na, kb, nb, C)
    return _estimate(v, lo, hi, _method(T_OVER_SEEDS + " (paired by seed)", len(a), C), ka / na - kb / nb,
                     C or int(round(na.mean())))


def ratio(num: Sequence[Counts], den: Sequence[Counts], shared_cases: bool = False) -> Estimate:
    """Ratio of two mean rates of the same seeds (e.g. defection after / before treatment): mean over seeds of the
    numerator's rate over the mean of the denominator's. A seed whose denominator rate is 0 still counts (in both
    means); the ratio is undefined only when the denominator is 0 in every seed. per_seed: each seed's ratio (NaN
    where its own denominator is 0)."""
    if len(num) != len(den):
        raise ValueError("ratio pairs num and den by seed: give both for the same seeds")
    if why := _empty(num, "ratio, numerator") or _empty(den, "ratio, denominator"):
        return Estimate.not_measured(why)
    if all(c.k == 0 for c in den):
        return Estimate.not_measured(f"ratio: the denominator rate is 0 in every seed ({len(den)})")
    kn, nn = np.array([c.k for c in num]), np.array([c.n for c in num])
    kd, nd = np.array([c.k for c in den]), np.array([c.n for c in den])
    C = int(max(nn.max(), nd.max())) if shared_cases else 0
    v, lo, hi = ratio_interval(kn, nn, kd, nd, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = np.where(kd > 0, (kn / nn) / np.where(kd > 0, kd / nd, 1.0), np.nan)
    return _estimate(v, lo, hi, _method(T_OVER_SEEDS + " (ratio of mean rates, delta method)", len(num), C), per,
                     C or int(round(nn.mean())))


def seed_mean(values: Sequence[float], cases: int = 0, case_var: Sequence[float] | None = None,
              what: str = "value", bounds: tuple[float, float] = (-math.inf, math.inf)) -> Estimate:
    """Mean over seeds of any per-seed scalar (an AUROC, a return, a loss ratio, a slope).

    case_var: each seed's sampling variance from its cases, where known; without it one seed is `not measured`
    and seeds that agree exactly give a zero-width interval. bounds: the quantity's range (e.g. (0, 1) for an AUROC
    or a TPR); the interval is clipped to it.
    """
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return Estimate.not_measured(f"{what}: no seeds")
    if not np.all(np.isfinite(x)):
        bad = int((~np.isfinite(x)).sum())
        return Estimate.not_measured(f"{what}: undefined in {bad} of {len(x)} seeds")
    if len(x) == 1 and case_var is None:
        return Estimate.not_measured(f"{what}: one seed and no case-level variance, so no interval")
    cv = np.zeros_like(x) if case_var is None else np.asarray(case_var, dtype=float)
    m, lo, hi = t_interval(x, cv)
    lo, hi = max(float(lo), bounds[0]), min(float(hi), bounds[1])
    method = T_OVER_SEEDS if len(x) > 1 else "case noise only (one seed)"
    return _estimate(m, lo, hi, method, x, cases)


def slope(x: Sequence[float], y: Sequence[Sequence[float]], cases: int = 0,
          case_var: Sequence[Sequence[float]] | None = None) -> Estimate:
    """Least-squares slope of y on x, fitted per seed (y[seed][i] at x[i]), averaged over seeds.

    case_var[seed][i]: the sampling variance of y[seed][i] from its cases (e.g. `rate_var` for rates); the
    per-seed slope's case variance sum(xc^2 var) / (xc . xc)^2 floors the interval, so seeds whose points all sit
    at 0 do not give [0, 0]."""
    xs = np.asarray(x, dtype=float)
    if len(xs) < 2 or np.ptp(xs) == 0:
        return Estimate.not_measured("slope: fewer than two distinct x values")
    ys = np.asarray(y, dtype=float)  # [S, len(x)]
    xc = xs - xs.mean()
    per_seed = (ys - ys.mean(1, keepdims=True)) @ xc / (xc @ xc)
    cv = None if case_var is None else np.asarray(case_var, dtype=float) @ xc**2 / (xc @ xc) ** 2
    est = seed_mean(per_seed, cases, cv, what="slope")
    return Estimate(est.value, est.lo, est.hi, est.method + " (per-seed least-squares slopes)" if est.measured
                    else "", est.seeds, est.cases, est.per_seed, est.missing)


def rate_var(rates: Sequence[float] | np.ndarray, n: int | np.ndarray) -> np.ndarray:
    """Sampling variance of rates measured on n cases each (Jeffreys-smoothed, so never 0 at 0 / n or n / n)."""
    r, n = np.asarray(rates, dtype=float), np.asarray(n, dtype=float)
    p = (r * n + 0.5) / (n + 1.0)
    return p * (1 - p) / n


def binomial(k: int, n: int) -> Estimate:
    """An exact (Clopper-Pearson) interval for k of n independent units, e.g. the fraction of seeds in a basin."""
    if n == 0:
        return Estimate.not_measured("binomial: no units")
    ci = sps.binomtest(int(k), int(n)).proportion_ci(0.95, method="exact")
    return Estimate(k / n, float(ci.low), float(ci.high), "exact binomial (Clopper-Pearson) over seeds", n, 0)


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve of one seed's detector (ties count half); NaN if a class is empty or every score
    is the same (a degenerate detector: it separates nothing, and 0.5 would hide that)."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    if y.all() or not y.any() or np.ptp(s) == 0:
        return float("nan")
    ranks = sps.rankdata(s)
    n1 = int(y.sum())
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1)))


def auroc_var(a: float, n_pos: int, n_neg: int) -> float:
    """Hanley-McNeil sampling variance of one AUROC (the case-level floor for an interval over seeds)."""
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / max(n_pos * n_neg, 1)


def wilson(k: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (scipy's implementation), for a single model's rate."""
    if n == 0:
        return (math.nan, math.nan)
    ci = sps.binomtest(int(k), int(n)).proportion_ci(confidence_level=conf, method="wilson")
    return (float(ci.low), float(ci.high))


# --- means of a continuous per-case quantity (a return, a loss, a per-episode fraction) ------------------------
def moments_mean(per_seed: Sequence[Moments], what: str = "mean") -> Estimate:
    """Mean over seeds of each seed's mean over its cases (e.g. episodes); each seed's sample variance / n is the
    case-level floor of the interval."""
    if not per_seed or any(m.n == 0 for m in per_seed):
        return Estimate.not_measured(f"{what}: no cases in {sum(m.n == 0 for m in per_seed)} of {len(per_seed)} "
                                     "seeds" if per_seed else f"{what}: no seeds")
    return seed_mean([m.mean for m in per_seed], int(round(np.mean([m.n for m in per_seed]))),
                     [m.sd**2 / m.n for m in per_seed], what)


def moments_diff(a: Sequence[Moments], b: Sequence[Moments], what: str = "difference of means") -> Estimate:
    """Mean over seeds of mean(a) - mean(b), paired by seed, each from its own independent cases (two arms)."""
    if len(a) != len(b):
        raise ValueError("moments_diff pairs a and b by seed: give both for the same seeds")
    if not a or any(m.n == 0 for m in (*a, *b)):
        return Estimate.not_measured(f"{what}: no cases in some seed" if a else f"{what}: no seeds")
    return seed_mean([x.mean - y.mean for x, y in zip(a, b)], int(round(np.mean([x.n for x in a]))),
                     [x.sd**2 / x.n + y.sd**2 / y.n for x, y in zip(a, b)], what)


def mean_ratio(num: Sequence[Sequence[float]], den: Sequence[Sequence[float]], what: str = "ratio of means"
               ) -> Estimate:
    """Mean over seeds of per-seed ratios mean(num) / mean(den) of values paired case by case (e.g. a model's loss
    and a baseline's on the same test tasks); the case-level floor by the delta method."""
    if len(num) != len(den):
        raise ValueError("mean_ratio pairs num and den by seed: give both for the same seeds")
    rs, vs = [], []
    for a, b in zip(num, den):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)  # [cases] each, paired
        if len(a) == 0 or len(a) != len(b):
            return Estimate.not_measured(f"{what}: no cases, or unpaired cases, in some seed")
        if b.mean() == 0:
            return Estimate.not_measured(f"{what}: the denominator's mean is 0 in some seed")
        r = a.mean() / b.mean()
        rs.append(r)
        vs.append(float(np.var(a - r * b, ddof=1)) / (len(a) * b.mean() ** 2) if len(a) > 1 else 0.0)
    return seed_mean(rs, int(round(np.mean([len(a) for a in num]))) if num else 0, vs, what)
