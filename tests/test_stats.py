"""The estimates layer, on inputs whose answers are worked out by hand."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from petridish.stats import (
    Counts,
    auroc,
    binomial,
    diff,
    rate,
    rate_interval,
    rate_var,
    ratio,
    seed_mean,
    slope,
    t_interval,
    wilson,
)

T2 = sps.t.ppf(0.975, 2)  # 4.303: Student t, 3 seeds


def test_t_interval_by_hand():
    m, lo, hi = t_interval(np.array([1.0, 2.0, 3.0]), np.zeros(3))
    assert m == 2.0 and hi - m == pytest.approx(T2 * 1.0 / math.sqrt(3))  # sd 1, 3 seeds
    # seeds that agree exactly still get the interval their cases imply (z with the mean case variance / S)
    m, lo, hi = t_interval(np.array([5.0, 5.0, 5.0]), np.full(3, 0.03))
    assert hi - m == pytest.approx(1.959964 * math.sqrt(0.01))


def test_rate_is_the_mean_of_seed_rates_and_widens_with_seed_spread():
    agree = rate([Counts(150, 300)] * 3)
    spread = rate([Counts(100, 300), Counts(150, 300), Counts(200, 300)])
    assert agree.value == 0.5 and spread.value == pytest.approx(0.5)
    assert (agree.seeds, agree.cases) == (3, 300) and spread.per_seed == pytest.approx((1 / 3, 0.5, 2 / 3))
    assert spread.hi - spread.lo > 4 * (agree.hi - agree.lo)
    # spread: seed rates 1/3, 1/2, 2/3 -> on the arcsine scale t over 3 seeds, about +-0.41 wide
    assert 0.05 < spread.lo < 0.15 and 0.85 < spread.hi < 0.95
    # agreeing seeds: as wide as the 900 cases imply (about Wilson's interval for 450/900)
    wl, wh = wilson(450, 900)
    assert agree.lo == pytest.approx(wl, abs=0.005) and agree.hi == pytest.approx(wh, abs=0.005)


def test_rate_stays_in_unit_interval_and_has_width_at_zero():
    e = rate([Counts(0, 300)] * 3)
    assert e.value == 0.0 and e.lo == 0.0 and 0.0 < e.hi < 0.01
    e = rate([Counts(300, 300)] * 3)
    assert e.hi == 1.0 and 0.99 < e.lo < 1.0


def test_shared_case_set_counts_once_and_widens():
    nested = rate([Counts(150, 300)] * 3)
    shared = rate([Counts(150, 300)] * 3, shared_cases=True)
    assert shared.cases == 300 and "shared case set" in shared.method
    assert shared.hi - shared.lo > 1.5 * (nested.hi - nested.lo)


def test_diff_is_paired_by_seed():
    a = [Counts(200, 300), Counts(100, 300), Counts(250, 300)]
    b = [Counts(170, 300), Counts(70, 300), Counts(220, 300)]  # each seed: a - b = 0.1 exactly
    d = diff(a, b)
    assert d.value == pytest.approx(0.1) and d.per_seed == pytest.approx((0.1, 0.1, 0.1))
    assert d.lo > 0.0  # pairing removes the large between-seed spread of the rates themselves
    swapped = diff(b, a)
    assert swapped.value == pytest.approx(-0.1) and swapped.hi < 0.0


def test_ratio_per_seed_and_zero_denominator_is_not_measured():
    r = ratio([Counts(90, 300)] * 3, [Counts(180, 300)] * 3)
    assert r.value == pytest.approx(0.5) and r.lo < 0.5 < r.hi
    z = ratio([Counts(0, 300)] * 3, [Counts(0, 300)] * 3)
    assert not z.measured and "denominator rate is 0" in z.missing and math.isnan(z.value)


def test_empty_inputs_are_not_measured():
    for e in (rate([Counts(0, 0)] * 3), rate([]), diff([Counts(1, 2)], [Counts(0, 0)]), seed_mean([]),
              seed_mean([0.5, float("nan"), 0.7])):
        assert not e.measured and e.missing and math.isnan(e.lo)


def test_seed_mean_slope_and_binomial():
    e = seed_mean([0.7, 0.8, 0.9])
    assert e.value == pytest.approx(0.8) and e.hi - e.value == pytest.approx(T2 * 0.1 / math.sqrt(3))
    s = slope([0.0, 1.0, 2.0], [[0.0, 1.0, 2.0], [0.0, 2.0, 4.0], [1.0, 2.5, 4.0]])  # slopes 1, 2, 1.5
    assert s.per_seed == pytest.approx((1.0, 2.0, 1.5)) and s.value == pytest.approx(1.5)
    assert not slope([1.0, 1.0], [[0.0, 1.0]]).measured
    b = binomial(9, 10)  # Clopper-Pearson for 9/10: [0.5550, 0.9975]
    assert b.lo == pytest.approx(0.5550, abs=1e-4) and b.hi == pytest.approx(0.9975, abs=1e-4)


def test_auroc_by_hand_and_degenerate_scores():
    assert auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auroc([0.1, 0.9, 0.2, 0.8], [0, 0, 1, 1]) == 0.5
    assert auroc([0.3, 0.1, 0.2], [1, 0, 1]) == 1.0
    assert math.isnan(auroc([0.5, 0.5, 0.5, 0.5], [0, 0, 1, 1]))  # constant scores separate nothing
    assert math.isnan(auroc([0.1, 0.2], [1, 1]))


def test_seed_mean_clips_to_the_quantitys_range():
    e = seed_mean([1.0, 0.2, 0.9], bounds=(0.0, 1.0))
    assert e.hi == 1.0 and e.lo == 0.0 and e.value == pytest.approx(0.7)


def test_ratio_is_of_mean_rates_survives_a_zero_seed_and_is_bounded():
    """Issue 22: one zero-denominator seed no longer drops the estimate; after / before <= 1 / before's bound."""
    r = ratio([Counts(0, 100), Counts(10, 100), Counts(20, 100)], [Counts(0, 100), Counts(20, 100), Counts(40, 100)])
    assert r.measured and r.value == pytest.approx(0.1 / 0.2) and math.isnan(r.per_seed[0])
    full = ratio([Counts(300, 300)] * 3, [Counts(300, 300)] * 3)  # before is 1.000: the ratio cannot exceed ~1
    _, dlo, _ = rate_interval(np.array([300] * 3), np.array([300] * 3))
    assert full.value == 1.0 and full.hi <= 1 / dlo + 1e-12 and full.hi < 1.01


def test_rate_value_is_inside_its_interval_and_zero_has_an_exact_upper_end():
    e = rate([Counts(0, 50)] * 10)
    assert e.value == 0.0 and e.lo == 0.0
    assert e.hi == pytest.approx(1 - 0.025 ** (1 / 500), rel=1e-6)  # Clopper-Pearson upper end of 0 / 500
    skew = rate([Counts(1, 300), Counts(2, 300), Counts(40, 300)])
    assert skew.value == pytest.approx(43 / 900) and skew.lo <= skew.value <= skew.hi


def test_one_seed_without_case_variance_is_not_measured():
    """Issue 22: seed_mean([0.7]) used to give a zero-width interval and a firm verdict."""
    e = seed_mean([0.7])
    assert not e.measured and "one seed" in e.missing
    assert seed_mean([0.7], case_var=[0.01]).measured


def test_slope_has_a_case_level_floor():
    """Issue 22: three seeds of all-zero rates gave slope [0, 0]; with the rates' case variance they do not."""
    x, y = [0.5, 0.75, 1.0], [[0.0, 0.0, 0.0]] * 3
    assert slope(x, y, 200).hi == 0.0  # without case variance: the old zero-width interval
    s = slope(x, y, 200, case_var=[rate_var(r, 200) for r in y])
    xc = np.array(x) - np.mean(x)
    want = sps.norm.ppf(0.975) * math.sqrt(float(rate_var(0.0, 200)) * (xc @ xc) / (xc @ xc) ** 2 / 3)
    assert s.value == 0.0 and s.hi == pytest.approx(want) and s.lo == pytest.approx(-want)
