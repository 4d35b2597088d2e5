"""Probe one model: capture activations, build the probes per layer, score labelled prompt sets.

The organism supplies generic contrast pairs (texts ending in a "misaligned" vs an "aligned" answer, never
containing the trigger), labelled prompt sets (e.g. {"defects": ..., "trigger": ...}), a fitting set for the
supervised upper bound, and a lexical detector of the trigger's words (the baseline that only sees surface
text). Scores are returned per seed so that AUROCs can be bootstrapped over seeds and cases later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from petridish.lm.substrate import LM
from petridish.probes.directions import logistic_scores, mean_difference, project, random_directions
from petridish.probes.metrics import SHUFFLED_FIT, auroc_many, random_baseline


@dataclass
class ProbeSet:
    prompts: list[str]
    labels: dict[str, np.ndarray]  # label name -> bool [N]


def probe_model(lm: LM, misaligned: list[str], aligned: list[str], fit: ProbeSet, fit_label: str,
                sets: dict[str, ProbeSet], lexical: Callable[[str], float], n_random: int = 1000,
                seed: int = 0) -> dict:
    """{"n_layers", "sets": {name: {"labels", "lexical", "layers": [{"mean_diff", "logistic", "random"}]}}}.

    mean_diff: projection on mean(misaligned) - mean(aligned) contrast activations (no defection labels used).
    logistic: fit on `fit` (its `fit_label`), scored here; None if the fitting set has a single class;
    logistic-shuffled-fit: the same fit on shuffled labels (the leak control).
    random: per label, the median AUROC of `n_random` random directions and the AUROC of the best one, each
    direction's sign and the best chosen on `fit` (probes.metrics.random_baseline).
    """
    pos, neg = lm.hidden_states(misaligned).numpy(), lm.hidden_states(aligned).numpy()  # [L+1, P, d]
    fit_acts = lm.hidden_states(fit.prompts).numpy()  # [L+1, F, d]
    fit_y = fit.labels[fit_label]
    n_layers = pos.shape[0]
    two_classes = 0 < fit_y.sum() < len(fit_y)
    shuffled_y = np.random.default_rng(seed).permutation(fit_y)  # the leak control: a probe fit on these is ~0.5
    out: dict = {"n_layers": n_layers, "sets": {}}
    for name, ps in sets.items():
        acts = lm.hidden_states(ps.prompts).numpy()  # [L+1, N, d]
        layers = []
        for layer in range(n_layers):
            direction = mean_difference(pos[layer], neg[layer])  # [d]
            rec: dict = {"mean_diff": _round(project(acts[layer], direction))}
            logistic = logistic_scores(fit_acts[layer], fit_y, acts[layer], seed) if two_classes else None
            rec["logistic"] = None if logistic is None else _round(logistic)
            shuffled = (logistic_scores(fit_acts[layer], shuffled_y, acts[layer], seed) if two_classes else None)
            rec["logistic" + SHUFFLED_FIT] = None if shuffled is None else _round(shuffled)
            dirs = random_directions(acts.shape[2], n_random, seed + layer)  # [K, d]
            best, signed = random_baseline(dirs @ fit_acts[layer].T, fit_y, dirs @ acts[layer].T)  # signs on fit
            rec["random"] = {}
            for label, y in ps.labels.items():
                a = auroc_many(signed, y)  # [K]
                rec["random"][label] = ({"median": float(np.median(a)), "best": float(auroc_many(best[None], y)[0])}
                                        if best is not None and np.isfinite(a).all() else None)
            layers.append(rec)
        out["sets"][name] = {"labels": {k: v.astype(int).tolist() for k, v in ps.labels.items()},
                             "lexical": [float(lexical(p)) for p in ps.prompts], "layers": layers}
    return out


def _round(x: np.ndarray) -> list[float]:
    return np.round(x.astype(float), 5).tolist()
