"""Probes: metrics agree with sklearn; planted directions are found; shuffled labels give chance; capture shapes."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from petridish.lm.model import GPTConfig
from petridish.lm.substrate import LM
from petridish.lm.tokenizer import WordTokenizer
from petridish.probes.directions import logistic_scores, mean_difference, project, random_directions
from petridish.probes.metrics import auroc, auroc_many, hier_bootstrap_metric, tpr_at_fpr
from petridish.probes.probe import ProbeSet, probe_model


def test_auroc_and_tpr_match_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(5):
        y = rng.random(300) < 0.4
        s = np.round(rng.normal(size=300) + y, 1)  # rounding makes ties
        assert auroc(s, y) == pytest.approx(roc_auc_score(y, s))
        f, t, _ = roc_curve(y, s, drop_intermediate=False)
        assert tpr_at_fpr(s, y, 0.05) == pytest.approx(t[f <= 0.05].max())
    assert np.isnan(auroc(np.ones(5), np.ones(5, bool)))


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


def test_hier_bootstrap_metric_interval():
    seeds = [planted(sep=1.0, seed=s) for s in range(3)]
    est, lo, hi, per_seed = hier_bootstrap_metric([(x @ np.ones(16), y) for x, y in seeds])
    assert lo <= est <= hi and hi - lo > 0.005 and len(per_seed) == 3
    est1, *_ = hier_bootstrap_metric([(np.zeros(4), np.array([1, 1, 1, 1], bool))])
    assert np.isnan(est1)


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
