"""Means of continuous per-case quantities over seeds (returns, losses, per-episode fractions), by hand."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from petridish.stats import Moments, mean_ratio, moments_diff, moments_mean

T2, Z = sps.t.ppf(0.975, 2), sps.norm.ppf(0.975)


def test_moments_mean_is_t_over_seed_means_with_a_case_floor():
    e = moments_mean([Moments(1.0, 0.0, 100), Moments(2.0, 0.0, 100), Moments(3.0, 0.0, 100)])
    assert e.value == 2.0 and e.hi - e.value == pytest.approx(T2 / math.sqrt(3)) and (e.seeds, e.cases) == (3, 100)
    agree = moments_mean([Moments(5.0, 1.0, 100)] * 3)  # seeds agree exactly: the episodes' noise remains
    assert agree.hi - agree.value == pytest.approx(Z * math.sqrt(0.01 / 3))
    assert not moments_mean([Moments(5.0, 1.0, 0)] * 3).measured and not moments_mean([]).measured


def test_moments_diff_pairs_by_seed():
    a = [Moments(10.0, 1.0, 100), Moments(20.0, 1.0, 100), Moments(30.0, 1.0, 100)]
    b = [Moments(m.mean - 1.0, 1.0, 100) for m in a]  # each seed: a - b = 1 exactly
    d = moments_diff(a, b)
    assert d.value == pytest.approx(1.0) and d.lo > 0.5 and d.hi - d.value == pytest.approx(Z * math.sqrt(0.02 / 3))
    assert moments_diff(b, a).hi < 0


def test_mean_ratio_is_per_seed_ratio_of_means():
    rng = np.random.default_rng(0)
    den = [rng.uniform(1, 2, 200) for _ in range(3)]
    exact = mean_ratio([2 * d for d in den], den)
    assert exact.value == pytest.approx(2.0) and exact.hi - exact.lo < 1e-9  # paired case by case: no noise
    noisy = mean_ratio([2 * d + rng.normal(0, 0.5, 200) for d in den], den)
    assert noisy.lo < 2.0 < noisy.hi and noisy.cases == 200
    assert not mean_ratio([[1.0]], [[0.0]]).measured and not mean_ratio([[]], [[]]).measured
