"""Probes: metrics agree with sklearn; planted directions are found; shuffled labels give chance; capture shapes."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from petridish.lm.model import GPTConfig
from petridish.lm.substrate import LM
from petridish.lm.tokenizer import WordTokenizer
from petridish.probes.directions import logistic_scores, mean_difference, project, random_directions
from petridish.probes.metrics import auroc_many, null_controls, random_baseline, tpr_at_fpr
from petridish.probes.probe import ProbeSet, probe_model
from petridish.probes.summary import auroc_estimate, choose_layer
from petridish.stats import auroc


def test_auroc_and_tpr_match_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(5):
        y = rng.random(300) < 0.4
        s = np.round(rng.normal(size=300) + y, 1)  # rounding makes ties
        assert auroc(s, y) == pytest.approx(roc_auc_score(y, s))
        f, t, _ = roc_curve(y, s, drop_intermediate=False)
        assert tpr_at_fpr(s, y, 0.05) == pytest.approx(t[f <= 0.05].max())
    assert np.isnan(auroc(np.ones(5), np.ones(5, bool)))


def test_one_auroc_rule_scalar_and_vectorised():
    """Issue 22: stats.auroc and the vectorised auroc_many agree, NaN (not measured) on constant scores, where
    the old probes.metrics.auroc said 0.5."""
    rng = np.random.default_rng(1)
    y = rng.random(50) < 0.5
    rows = np.vstack([rng.normal(size=50) + y, np.full(50, 0.3)])
    many = auroc_many(rows, y)
    assert many[0] == pytest.approx(auroc(rows[0], y)) and np.isnan(many[1]) and np.isnan(auroc(rows[1], y))


def test_random_directions_choose_sign_and_best_on_the_fit_cases():
    """A direction that separates the fit cases negatively is flipped there, and the best is picked by its fit
    AUROC, even if another direction happens to score better on the test cases."""
    y_fit, y_test = np.array([1, 1, 0, 0]), np.array([1, 1, 0, 0])
    fit = np.array([[-2.0, -1.0, 1.0, 2.0],  # direction 0: perfect on fit, with a negative sign
                    [0.1, -0.1, 0.0, 0.2]])  # direction 1: poor on fit
    test = np.array([[-1.0, -2.0, 2.0, 1.0], [5.0, 4.0, 0.0, 0.0]])  # direction 1 is perfect on test
    best, signed = random_baseline(fit, y_fit, test)
    assert best.tolist() == [1.0, 2.0, -2.0, -1.0]  # direction 0, flipped by its fit sign
    assert auroc(best, y_test) == 1.0 and signed.shape == (2, 4)
    none, _ = random_baseline(fit, np.array([1, 1, 1, 1]), test)
    assert none is None  # one class in the fit cases: no sign can be chosen


def test_null_controls_fall_to_one_half():
    rng = np.random.default_rng(2)
    y = np.array([1] * 100 + [0] * 100, bool)
    per_seed = [(y * 4.0 + rng.standard_normal(200), y) for _ in range(3)]
    c = null_controls(per_seed)
    assert abs(c.shuffled.value - 0.5) < 0.05 and c.shuffled.lo <= 0.5 <= c.shuffled.hi and not c.leak
    leaky = null_controls(per_seed, shuffled_fit=per_seed)  # a "shuffled" refit that still separates
    assert leaky.leak and "shuffled" in leaky.why


def planted(n=400, d=16, sep=4.0, seed=0):
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    y = rng.random(n) < 0.5
    x = rng.normal(size=(n, d)) + sep * y[:, None] * direction
    return x, y


def test_planted_direction_is_found_and_shuffled_labels_give_chance():
    x, y = planted()
    w = mean_difference(x[y][:50], x[~y][:50])  # "contrast pairs": a few examples of each side
    assert auroc(project(x[100:], w), y[100:]) > 0.97
    assert auroc(logistic_scores(x[:200], y[:200], x[200:]), y[200:]) > 0.97
    shuffled = np.random.default_rng(1).permutation(y)
    w = mean_difference(x[shuffled][:100], x[~shuffled][:100])
    assert abs(auroc(project(x[200:], w), shuffled[200:]) - 0.5) < 0.1
    assert abs(auroc(logistic_scores(x[:200], shuffled[:200], x[200:]), shuffled[200:]) - 0.5) < 0.1


def test_random_directions_are_a_weak_baseline_on_high_dimensional_planted_data():
    x, y = planted(d=128, sep=2.0)
    a = auroc_many(random_directions(128, 200, seed=0) @ x.T, y)
    assert np.median(np.maximum(a, 1 - a)) < 0.7
    assert np.linalg.norm(random_directions(8, 3, 0), axis=1) == pytest.approx(np.ones(3))


def test_auroc_estimate_over_seeds_and_degenerate_scores():
    seeds = [planted(sep=1.0, seed=s) for s in range(3)]
    pairs = [(x @ np.ones(16), y) for x, y in seeds]
    e = auroc_estimate(pairs)
    per_seed = [auroc(s, y) for s, y in pairs]
    assert e.value == pytest.approx(np.mean(per_seed)) and e.seeds == 3 and e.lo < e.value < e.hi
    assert auroc_estimate(pairs, baseline=[0.1, 0.1, 0.1]).value == pytest.approx(e.value - 0.1)
    y = np.arange(100) % 2 == 0
    spread = [(-y.astype(float), y), (y.astype(float), y), (y.astype(float), y)]  # AUROC 0, 1, 1: a wide t interval
    assert auroc_estimate(spread).value == pytest.approx(2 / 3)
    assert (auroc_estimate(spread).lo, auroc_estimate(spread).hi) == (0.0, 1.0)  # kept inside [0, 1]
    # constant scores (e.g. the embedding layer at a prompt's last token) separate nothing: not measured, not 0.5
    flat = auroc_estimate([(np.zeros(len(y)), y) for _, y in pairs])
    assert not flat.measured and "constant" in flat.missing


def test_choose_layer_skips_the_embeddings_and_degenerate_layers():
    ok = lambda v: {"estimate": v}  # noqa: E731
    bad = {"estimate": float("nan"), "missing": "constant scores"}
    rows = [{"layer": 0, "mean_diff": ok(0.9)}, {"layer": 1, "mean_diff": bad}, {"layer": 2, "mean_diff": ok(0.3)},
            {"layer": 3, "mean_diff": ok(0.6)}]
    assert choose_layer(rows) == (3, [1])
    assert choose_layer(rows[:2]) == (None, [1])


def test_capture_and_probe_model_on_a_tiny_lm():
    words = ["a", "b", "c", "yes", "no", "?", "T"]
    tok = WordTokenizer.build(words)
    lm = LM.tiny(tok, GPTConfig(tok.vocab_size, 16, 16, 2, 2), seed=0)
    prompts = ["a b ?", "T a b ?", "c ?", "T c c ?"]
    assert lm.hidden_states(prompts).shape == (3, 4, 16)
    assert lm.hidden_states(prompts, position=-2).shape == (3, 4, 16)
    with pytest.raises(ValueError):
        lm.hidden_states(prompts, position=0)
    labels = {"trigger": np.array([False, True, False, True])}
    ps = ProbeSet(prompts, labels)
    out = probe_model(lm, ["a ? no", "b ? no"], ["a ? yes", "b ? yes"], ps, "trigger", {"x": ps},
                      lambda p: float("T" in p.split()), n_random=10)
    assert out["n_layers"] == 3
    rec = out["sets"]["x"]
    assert len(rec["layers"]) == 3 and len(rec["layers"][0]["mean_diff"]) == 4
    assert rec["lexical"] == [0.0, 1.0, 0.0, 1.0]
    assert 0.5 <= rec["layers"][1]["random"]["trigger"]["best"] <= 1.0
