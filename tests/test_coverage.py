"""Measured coverage of the nominal 95% intervals, by simulation of the designs the organisms use.

Seeds differ: each seed's true rate is drawn around the population rate (logit-normal seed effects whose SD is
`sd` on the probability scale at a rate of 0.5), then each seed is evaluated on `n` cases. An interval covers when
it contains the population mean rate. The vectorised interval functions are the ones `rate`, `diff` and `ratio`
call, so this measures the real code. Coverage by cell (4,000 experiments each) is printed with `pytest -s`.
"""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit

from petridish.stats import diff_interval, rate_interval, ratio_interval

R = 4000
RATES = (0.02, 0.1, 0.5, 0.9, 0.98)
SDS = (0.0, 0.05, 0.1, 0.2)


def seed_rates(rng, p: float, sd: float, shape: tuple[int, ...]) -> np.ndarray:
    if sd == 0:
        return np.full(shape, p)
    s = 4 * sd  # logit-scale SD giving `sd` at p = 0.5
    z = np.random.default_rng(0).standard_normal(100_000)
    mu = brentq(lambda m: expit(m + s * z).mean() - p, -30, 30)  # population mean rate = p
    return expit(mu + s * rng.standard_normal(shape))


def old_pooled_rate(rng, k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The interval verdicts used before issue 13: resample seeds, draw each from its Jeffreys posterior."""
    B = 1000
    S = k.shape[1]
    idx = rng.integers(0, S, size=(k.shape[0], B, S))
    kk = np.take_along_axis(k[:, None, :].repeat(B, 1), idx, 2)
    boots = rng.beta(kk + 0.5, n - kk + 0.5).mean(2)
    return np.quantile(boots, 0.025, axis=1), np.quantile(boots, 0.975, axis=1)


def coverage(lo: np.ndarray, hi: np.ndarray, truth: float) -> float:
    return float(np.mean((lo <= truth) & (truth <= hi)))


@pytest.mark.parametrize("S", [3, 5])
def test_rate_coverage(S):
    rng = np.random.default_rng(S)
    cov = {}
    for p in RATES:
        for sd in SDS:
            k = rng.binomial(300, seed_rates(rng, p, sd, (R, S)))
            _, lo, hi = rate_interval(k, np.full_like(k, 300))
            cov[p, sd] = coverage(lo, hi, p)
    print(f"\nrate coverage, {S} seeds x 300 cases (rows: rate; columns: between-seed SD {SDS})")
    for p in RATES:
        print(f"  {p:5.2f}: " + "  ".join(f"{cov[p, sd]:.3f}" for sd in SDS))
    mean = np.mean(list(cov.values()))
    assert 0.93 <= mean <= 0.98, mean
    assert min(cov.values()) >= 0.90, cov  # worst cell: strongly skewed seed rates near 0 or 1 with large SD
    assert max(cov.values()) <= 0.995, cov  # seeds that agree exactly: the case-level floor is conservative


def test_the_old_interval_fails_this_test():
    """The hierarchical percentile bootstrap used before covers ~75% at 3 seeds x 300 cases, SD 0.15."""
    rng = np.random.default_rng(7)
    k = rng.binomial(300, seed_rates(rng, 0.5, 0.15, (1000, 3)))
    lo, hi = old_pooled_rate(rng, k, 300)
    assert coverage(lo, hi, 0.5) < 0.85
    _, lo, hi = rate_interval(k, np.full_like(k, 300))
    assert coverage(lo, hi, 0.5) >= 0.93


@pytest.mark.parametrize("S", [3, 5])
def test_paired_difference_and_ratio_coverage(S):
    """Two arms of the same seed share that seed's effect (a treatment shifts it); the quantities are the population
    mean of the per-seed difference and the ratio of the two arms' population mean rates."""
    rng = np.random.default_rng(10 + S)
    cov_d, cov_r = [], []
    for pb, shift in ((0.5, 0.2), (0.9, -0.5), (0.3, -0.25), (0.95, -0.05)):
        for sd in SDS:
            s = 4 * sd
            u = s * rng.standard_normal((R, S))  # the seed's effect, shared by both arms
            mub = np.log(pb / (1 - pb))
            mua = np.log((pb + shift) / (1 - pb - shift))
            pa_s, pb_s = expit(mua + u), expit(mub + u)
            ka, kb = rng.binomial(300, pa_s), rng.binomial(300, pb_s)
            big = s * np.random.default_rng(1).standard_normal(200_000)
            true_d = float(np.mean(expit(mua + big) - expit(mub + big)))
            true_r = float(np.mean(expit(mua + big)) / np.mean(expit(mub + big)))  # ratio of the mean rates
            n = np.full_like(ka, 300)
            _, lo, hi = diff_interval(ka, n, kb, n)
            cov_d.append(coverage(lo, hi, true_d))
            _, lo, hi = ratio_interval(ka, n, kb, n)
            cov_r.append(coverage(lo, hi, true_r))
    print(f"\n{S} seeds: paired difference coverage {np.round(cov_d, 3)}; ratio coverage {np.round(cov_r, 3)}")
    for cov in (cov_d, cov_r):
        assert 0.93 <= np.mean(cov) <= 0.98 and min(cov) >= 0.90 and max(cov) <= 0.995, cov


def test_shared_case_set_coverage():
    """Every seed reuses the same 300 cases, whose difficulties vary (per-case rates from a Beta): the population
    is over seeds and cases, so the reused set is one draw of cases for all seeds. Only counts are kept, so the
    case-sampling variance is bounded (p(1 - p) / C for 0/1 outcomes), not estimated: the interval never
    under-covers and is conservative (measured 0.98-1.00), which is why organisms draw a fresh case set per seed
    where they can."""
    rng = np.random.default_rng(3)
    covs = []
    for p in (0.1, 0.5, 0.9):
        for sd in (0.0, 0.1):
            a = 0.6  # strongly heterogeneous cases, as with greedy decoding on fixed prompts
            case_p = rng.beta(a * p / (1 - p) if p < 0.5 else a, a if p < 0.5 else a * (1 - p) / p, size=(R, 1, 300))
            logit = np.log(np.clip(case_p, 1e-6, 1 - 1e-6) / (1 - np.clip(case_p, 1e-6, 1 - 1e-6)))
            y = rng.random((R, 3, 300)) < expit(logit + 4 * sd * rng.standard_normal((R, 3, 1)))
            k = y.sum(2)
            truth_cases = float(np.mean(case_p))
            _, lo, hi = rate_interval(k, np.full_like(k, 300), shared_cases=300)
            covs.append(coverage(lo, hi, truth_cases))
    print(f"\nshared case set coverage {np.round(covs, 3)}")
    assert min(covs) >= 0.95, covs


def _logit_rates(rng, p: float, logit_sd: float, shape: tuple[int, ...]) -> np.ndarray:
    return seed_rates(rng, p, logit_sd / 4, shape)


@pytest.mark.parametrize("S", [3, 5, 10])
def test_small_rate_skewed_seeds_coverage(S):
    """Issue 22: at p = 0.02 with a logit seed SD of 1.2 the old interval (centred on the arcsine mean, value the
    arithmetic mean) covered 0.895 / 0.848 / 0.800 at 3 / 5 / 10 seeds, falling as seeds were added. Centred on
    the reported value it covers 0.91 / 0.89 / 0.87 (the seeds' rates are strongly skewed: a few seeds carry
    most of the mean): better than before at every seed count, still short of nominal."""
    rng = np.random.default_rng(100 + S)
    k = rng.binomial(300, _logit_rates(rng, 0.02, 1.2, (R, S)))
    m, lo, hi = rate_interval(k, np.full_like(k, 300))
    cov = coverage(lo, hi, 0.02)
    print(f"\np = 0.02, logit seed SD 1.2, {S} seeds x 300: coverage {cov:.3f}")
    assert cov >= 0.85, cov  # measured 0.91 / 0.89 / 0.87: better, not nominal (a t interval on 3-10 skewed values)
    assert np.all((lo <= m) & (m <= hi))  # the value reported lies inside its own interval


def test_tiny_rate_many_seeds_coverage():
    """p = 0.005, 10 seeds x 50 cases (most seeds see no event): the old Anscombe-shifted centre covered 0.762; the
    pooled exact floor keeps an upper end when every seed reads 0 / 50."""
    rng = np.random.default_rng(5)
    for sd in (0.0, 0.3):
        k = rng.binomial(50, _logit_rates(rng, 0.005, 4 * sd, (R, 10)))
        m, lo, hi = rate_interval(k, np.full_like(k, 50))
        cov = coverage(lo, hi, 0.005)
        print(f"\np = 0.005, logit seed SD {4 * sd:g}, 10 seeds x 50: coverage {cov:.3f}")
        assert cov >= 0.95, cov
        assert np.all((lo <= m) & (m <= hi))


def test_ratio_survives_zero_denominator_seeds():
    """Before-rate 0.05 on 40 cases: a seed reads 0 / 40 about 13% of the time, which used to drop the whole
    estimate (not measured in 40-79% of runs); the ratio of mean rates is undefined only when every seed reads 0,
    and it covers the ratio of the population means."""
    rng = np.random.default_rng(9)
    kb = rng.binomial(40, np.full((R, 5), 0.05))
    ka = rng.binomial(40, np.full((R, 5), 0.025))
    n = np.full_like(ka, 40)
    r, lo, hi = ratio_interval(ka, n, kb, n)
    defined = np.isfinite(r)
    print(f"\nratio at before 0.05 x 40 cases, 5 seeds: defined {defined.mean():.3f}, "
          f"coverage {coverage(lo[defined], hi[defined], 0.5):.3f}")
    assert defined.mean() >= 0.99
    assert coverage(lo[defined], hi[defined], 0.5) >= 0.93
