"""Probe directions and scores. Activations are [N, d] at one layer."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def mean_difference(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """mean(positive) - mean(negative), [d]: the contrast-pair direction (no fitting, no labels of defection)."""
    return positive.mean(0) - negative.mean(0)


def project(acts: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Scores [N]: projection of each activation on the direction."""
    return acts @ direction


def random_directions(d: int, k: int, seed: int) -> np.ndarray:
    """k random unit directions, [k, d] (the baseline: how salient is the feature to *any* direction?)."""
    r = np.random.default_rng(seed).standard_normal((k, d))
    return r / np.linalg.norm(r, axis=1, keepdims=True)


def logistic_scores(train_acts: np.ndarray, train_labels: np.ndarray, test_acts: np.ndarray,
                    seed: int = 0) -> np.ndarray:
    """Supervised upper bound: standardised logistic regression fit on one set of prompts, scored on another."""
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, random_state=seed))
    clf.fit(train_acts, train_labels)
    return clf.decision_function(test_acts)
