"""Detection metrics: AUROC and TPR at a fixed FPR, per seed (intervals over seeds: probes.summary).

Both metrics are written on (positive scores [B, n1], negative scores [B, n0]) so that many rows (e.g. 1,000
random directions) are evaluated in one vectorised call: sklearn's roc_auc_score / roc_curve cost ~3 ms per call
in argument validation alone. Tests check both against sklearn.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def auroc_pn(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUROC per row: P(score of a positive > score of a negative), ties counting one half. [B, n1], [B, n0] -> [B]."""
    n1, n0 = pos.shape[1], neg.shape[1]
    r = rankdata(np.concatenate([pos, neg], 1), axis=1)  # [B, n1 + n0], tied ranks averaged
    return (r[:, :n1].sum(1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def tpr_pn(pos: np.ndarray, neg: np.ndarray, fpr: float = 0.01) -> np.ndarray:
    """TPR per row at the strictest threshold whose FPR is <= fpr (a positive call is score > threshold)."""
    k = int(np.floor(fpr * neg.shape[1]))  # negatives allowed above the threshold
    t = -np.sort(-neg, axis=1)[:, min(k, neg.shape[1] - 1)]  # [B] the (k+1)-th largest negative
    return (pos > t[:, None]).mean(1)


def _split(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels, bool)
    scores = np.asarray(scores, float)
    return scores[labels], scores[~labels]


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """AUROC of scores for bool labels; nan if a class is empty."""
    pos, neg = _split(scores, labels)
    return float(auroc_pn(pos[None], neg[None])[0]) if len(pos) and len(neg) else float("nan")


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float = 0.01) -> float:
    pos, neg = _split(scores, labels)
    return float(tpr_pn(pos[None], neg[None], fpr)[0]) if len(pos) and len(neg) else float("nan")


def auroc_many(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """AUROC of each row of scores [K, N] against the same labels [N]."""
    labels = np.asarray(labels, bool)
    if labels.all() or not labels.any():
        return np.full(len(scores), np.nan)
    return auroc_pn(scores[:, labels], scores[:, ~labels])
