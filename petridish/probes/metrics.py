"""Detection metrics: AUROC and TPR at a fixed FPR, per seed (intervals over seeds: probes.summary); the one rule
for random-direction baselines; and the null controls every reported AUROC carries.

One AUROC for the project: `petridish.stats.auroc` (NaN, i.e. not measured, for an empty class or constant scores:
a detector that scores every case alike separates nothing, and 0.5 would hide that); `auroc_many` is the same rule
vectorised over rows (e.g. 1,000 random directions in one call; sklearn's roc_auc_score costs ~3 ms per call in
argument validation alone). Tests check both against sklearn and against each other.

Random directions (the baseline for "is the feature salient to any direction?"): each direction's sign, and which
direction is "best", are chosen on the fit cases only, then scored on the held-out cases (`random_baseline`);
choosing either on the test cases would make the baseline optimistic by construction.

Null controls (`null_controls`): the detector's AUROC with each seed's labels shuffled, and with each seed's
scores multiplied by a random sign; both must fall to ~0.5. A probe that is fit on labelled cases is also refit on
shuffled fit labels (the `SHUFFLED_FIT` detector); its held-out AUROC must fall to ~0.5 too. A shuffled AUROC whose
interval lies above 0.5 is a leak (the fit and test cases share something other than the behaviour), and the
result is flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from petridish.stats import Estimate, auroc, auroc_var, seed_mean

SHUFFLES = 20  # label permutations per seed for the shuffled control (their mean AUROC)
SHUFFLED_FIT = "-shuffled-fit"  # suffix of a detector refit on shuffled fit labels (the leak control of a fit probe)


def auroc_pn(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """AUROC per row: P(score of a positive > score of a negative), ties counting one half; NaN for a row whose
    scores are all equal (as stats.auroc). [B, n1], [B, n0] -> [B]."""
    n1, n0 = pos.shape[1], neg.shape[1]
    both = np.concatenate([pos, neg], 1)
    r = rankdata(both, axis=1)  # [B, n1 + n0], tied ranks averaged
    a = (r[:, :n1].sum(1) - n1 * (n1 + 1) / 2) / (n1 * n0)
    return np.where(np.ptp(both, axis=1) == 0, np.nan, a)


def tpr_pn(pos: np.ndarray, neg: np.ndarray, fpr: float = 0.01) -> np.ndarray:
    """TPR per row at the strictest threshold whose FPR is <= fpr (a positive call is score > threshold)."""
    k = int(np.floor(fpr * neg.shape[1]))  # negatives allowed above the threshold
    t = -np.sort(-neg, axis=1)[:, min(k, neg.shape[1] - 1)]  # [B] the (k+1)-th largest negative
    return (pos > t[:, None]).mean(1)


def _split(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels, bool)
    scores = np.asarray(scores, float)
    return scores[labels], scores[~labels]


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float = 0.01) -> float:
    pos, neg = _split(scores, labels)
    return float(tpr_pn(pos[None], neg[None], fpr)[0]) if len(pos) and len(neg) else float("nan")


def auroc_many(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """AUROC of each row of scores [K, N] against the same labels [N]."""
    labels = np.asarray(labels, bool)
    if labels.all() or not labels.any():
        return np.full(len(scores), np.nan)
    return auroc_pn(scores[:, labels], scores[:, ~labels])


def random_baseline(fit_scores: np.ndarray, fit_labels: np.ndarray, test_scores: np.ndarray
                    ) -> tuple[np.ndarray | None, np.ndarray]:
    """The one rule for random directions: scores [K, F] on the fit cases and [K, N] on the test cases of K
    directions. Each direction's sign makes its fit AUROC >= 0.5, and the best direction is the one with the
    highest fit AUROC; both are chosen on the fit cases only. Returns (the best direction's signed test scores
    [N], or None if the fit cases show one class; every direction's signed test scores [K, N])."""
    a = auroc_many(fit_scores, fit_labels)  # [K]
    if not np.isfinite(a).any():
        return None, test_scores
    sign = np.where(np.isfinite(a) & (a < 0.5), -1.0, 1.0)[:, None]  # [K, 1]
    signed = sign * test_scores
    return signed[int(np.nanargmax(np.maximum(a, 1 - a)))], signed


@dataclass(frozen=True)
class NullControls:
    """A detector's AUROC under the two nulls (each ~0.5 for an honest detector) and whether it leaks."""

    shuffled: Estimate  # labels shuffled within each seed (mean of SHUFFLES permutations)
    sign_randomised: Estimate  # each seed's scores times a random sign
    leak: bool
    why: str = ""


def null_controls(per_seed: Sequence[tuple[np.ndarray, np.ndarray]], seed: int = 0,
                  shuffled_fit: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> NullControls:
    """The shuffled-label and sign-randomised AUROCs of one detector, per seed (scores [N], bool labels [N]),
    as estimates over seeds (case-level floor: Hanley-McNeil at 0.5); shuffled_fit: the same probe refit on
    shuffled labels, where it was fit (it then replaces the evaluation-time shuffle). Reproducible: the
    permutations and signs come from `seed`."""
    rng = np.random.default_rng(seed)
    shuf, signed, var = [], [], []
    for s, y in per_seed:
        s, y = np.asarray(s, float), np.asarray(y, bool)
        perms = np.stack([rng.permutation(y) for _ in range(SHUFFLES)])  # [P, N]
        shuf.append(float(np.mean([auroc(s, p) for p in perms])))
        signed.append(auroc(s * rng.choice((-1.0, 1.0)), y))
        var.append(auroc_var(0.5, int(y.sum()), int((~y).sum())))
    cases = int(round(np.mean([len(y) for _, y in per_seed]))) if per_seed else 0
    sh = seed_mean(shuf, cases, [v / SHUFFLES for v in var], "AUROC, labels shuffled", (0.0, 1.0))
    if shuffled_fit is not None:
        sh = auroc_estimate_of(shuffled_fit, "AUROC, probe refit on shuffled labels")
    sr = seed_mean(signed, cases, var, "AUROC, sign randomised", (0.0, 1.0))
    leak = sh.measured and sh.lo > 0.5
    why = (f"the AUROC with shuffled labels is {sh.value:.2f} [{sh.lo:.2f}, {sh.hi:.2f}], not ~0.5" if leak else "")
    return NullControls(sh, sr, leak, why)


def auroc_estimate_of(per_seed: Sequence[tuple[np.ndarray, np.ndarray]], what: str = "AUROC") -> Estimate:
    """Mean over seeds of each seed's AUROC, case-level floor Hanley-McNeil (not measured if one is undefined)."""
    vals = [auroc(s, y) for s, y in per_seed]
    var = [auroc_var(a, int(np.sum(y)), int(np.size(y) - np.sum(y))) if np.isfinite(a) else np.nan
           for a, (_, y) in zip(vals, per_seed)]
    cases = int(round(np.mean([len(y) for _, y in per_seed]))) if per_seed else 0
    return seed_mean(vals, cases, var, what, (0.0, 1.0))
