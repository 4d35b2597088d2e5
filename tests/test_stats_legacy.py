import math

import numpy as np
import pytest

from petridish.stats_legacy import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Counts,
    all_of,
    bootstrap_mean,
    hier_bootstrap,
    newcombe_diff,
    pooled_rate,
    verdict,
    wilson,
)


@pytest.mark.parametrize("k,n,lo,hi", [
    # Wilson score intervals as tabulated by Newcombe (1998), Table I, and by statsmodels' proportion_confint
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (5, 10, 0.2366, 0.7634),
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
])
def test_wilson_known_values(k, n, lo, hi):
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-4)
    assert got[1] == pytest.approx(hi, abs=1e-4)


def test_newcombe_difference_known_value():
    # Newcombe (1998) "Interval estimation for the difference between independent proportions", example (a):
    # 56/70 - 48/80, method 10 (hybrid score): 0.0524 to 0.3339
    d, lo, hi = newcombe_diff(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=1e-4)
    assert hi == pytest.approx(0.3339, abs=1e-4)


def test_verdict_compares_interval_with_threshold():
    assert verdict((0.92, 0.97), ">=", 0.9) == REPRODUCED
    assert verdict((0.5, 0.8), ">=", 0.9) == NOT_REPRODUCED
    assert verdict((0.85, 0.95), ">=", 0.9) == INCONCLUSIVE
    assert verdict((0.0, 0.01), "<=", 0.02) == REPRODUCED
    assert verdict((0.03, 0.2), "<=", 0.02) == NOT_REPRODUCED
    assert verdict((float("nan"), 0.2), "<=", 0.02) == INCONCLUSIVE
    assert verdict((0.0, 0.1), ">", 0.0) == INCONCLUSIVE


def test_all_of():
    assert all_of([REPRODUCED, REPRODUCED]) == REPRODUCED
    assert all_of([REPRODUCED, INCONCLUSIVE]) == INCONCLUSIVE
    assert all_of([INCONCLUSIVE, NOT_REPRODUCED]) == NOT_REPRODUCED


def test_pooled_rate_matches_wilson_when_seeds_agree():
    est, lo, hi = pooled_rate([Counts(150, 300)] * 3)
    wlo, whi = wilson(450, 900)
    assert est == 0.5
    assert lo == pytest.approx(wlo, abs=0.01)
    assert hi == pytest.approx(whi, abs=0.01)


def test_pooled_rate_has_width_at_zero_and_widens_with_seed_spread():
    _, lo, hi = pooled_rate([Counts(0, 300)] * 3)
    assert lo == 0.0 and 0.0 < hi < wilson(0, 900)[1] * 1.5
    _, lo2, hi2 = pooled_rate([Counts(100, 300), Counts(150, 300), Counts(200, 300)])
    _, lo1, hi1 = pooled_rate([Counts(150, 300)] * 3)
    assert hi2 - lo2 > 2 * (hi1 - lo1)


def test_hier_bootstrap_ratio_and_determinism():
    units = [{"b": Counts(290, 300), "a": Counts(145, 300)} for _ in range(3)]
    est, lo, hi = hier_bootstrap(units, lambda r: r["a"].mean(1) / r["b"].mean(1))
    assert est == pytest.approx(0.5, abs=0.01)
    assert lo < 0.5 < hi
    assert hier_bootstrap(units, lambda r: r["a"].mean(1) / r["b"].mean(1)) == (est, lo, hi)


def test_bootstrap_mean_over_seeds():
    est, lo, hi = bootstrap_mean([1.0, 2.0, 3.0])
    assert est == 2.0 and 1.0 <= lo < 2.0 < hi <= 3.0
    assert bootstrap_mean([4.0]) == (4.0, 4.0, 4.0)
    assert not math.isnan(np.mean([lo, hi]))


def test_pooled_mean_interval_covers_the_mean_and_shrinks_with_episodes():
    from petridish.stats import Moments
    from petridish.stats_legacy import pooled_mean

    rng = np.random.default_rng(0)
    few = [Moments.of(rng.normal(1.0, 2.0, 20)) for _ in range(3)]
    many = [Moments.of(rng.normal(1.0, 2.0, 2000)) for _ in range(3)]
    for per_seed in (few, many):
        v, lo, hi = pooled_mean(per_seed)
        assert lo <= v <= hi and v == pytest.approx(np.mean([m.mean for m in per_seed]))
    assert np.diff(pooled_mean(many)[1:]) < np.diff(pooled_mean(few)[1:])
    assert pooled_mean([Moments(5.0, 0.0, 10)] * 3) == (5.0, 5.0, 5.0)
