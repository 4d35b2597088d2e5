"""Per-layer summaries of `probe_model` outputs over seeds: AUROC estimates, baselines, TPR@1%FPR, layer choice.

Each seed's AUROC is computed on its own cases (`stats.auroc`: undefined for an empty class or constant scores,
never a silent 0.5) and the interval is the t interval over seeds with each seed's Hanley-McNeil variance as the
case-level floor (`stats.seed_mean`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from petridish.probes.metrics import tpr_at_fpr
from petridish.stats import Estimate, auroc, auroc_var, seed_mean

Scored = tuple[np.ndarray, np.ndarray]  # (scores [N], bool labels [N]) of one seed


def auroc_estimate(per_seed: Sequence[Scored], baseline: Sequence[float] | None = None,
                   what: str = "AUROC") -> Estimate:
    """Mean over seeds of each seed's AUROC, minus a per-seed baseline (e.g. its best random direction).
    Not measured, with the reason, if some seed has one class only or scores every case alike."""
    one_class = sum(bool(y.all() or not y.any()) for _, y in per_seed)
    constant = sum(bool(np.ptp(s) == 0) for s, y in per_seed if y.any() and not y.all())
    if one_class or constant:
        why = [f"one class only in {one_class} of {len(per_seed)} seeds"] if one_class else []
        why += [f"constant scores in {constant} of {len(per_seed)} seeds"] if constant else []
        return Estimate.not_measured(f"{what}: {', '.join(why)}")
    vals, var = [], []
    for i, (s, y) in enumerate(per_seed):
        a = auroc(s, y)
        vals.append(a - (baseline[i] if baseline is not None else 0.0))
        var.append(auroc_var(a, int(y.sum()), int((~y).sum())))
    cases = int(round(np.mean([len(y) for _, y in per_seed]))) if per_seed else 0
    return seed_mean(vals, cases, var, what=what)


def tpr_estimate(per_seed: Sequence[Scored], fpr: float = 0.01) -> Estimate:
    """Mean over seeds of the TPR at the threshold whose FPR is <= fpr; binomial variance over positives."""
    vals = [tpr_at_fpr(s, y, fpr) for s, y in per_seed]
    var = [v * (1 - v) / max(int(y.sum()), 1) for v, (_, y) in zip(vals, per_seed)]
    cases = int(round(np.mean([len(y) for _, y in per_seed]))) if per_seed else 0
    return seed_mean(vals, cases, var, what="TPR (an empty class)")


def scored(per_seed: list[dict], set_name: str, label: str, layer: int | None, key: str = "mean_diff"
           ) -> list[Scored]:
    """(scores, labels) per seed of one probe (`key` at `layer`, or the lexical baseline if layer is None)."""
    out = []
    for o in per_seed:
        s = o["sets"][set_name]
        scores = s["lexical"] if layer is None else s["layers"][layer][key]
        out.append((np.asarray(scores, float), np.asarray(s["labels"][label], bool)))
    return out


def random_best(per_seed: list[dict], set_name: str, label: str, layer: int) -> list[float]:
    """Each seed's best random-direction AUROC (NaN where undefined)."""
    recs = [o["sets"][set_name]["layers"][layer]["random"].get(label) for o in per_seed]
    return [r["best"] if r else float("nan") for r in recs]


def summarize(per_seed: list[dict], set_name: str, label: str) -> list[dict]:
    """For each layer: mean-difference and logistic AUROC, TPR at 1% FPR of the mean-difference probe (estimates
    as dicts), the random-direction median and best (means over seeds), and the lexical baseline."""
    lexical = auroc_estimate(scored(per_seed, set_name, label, None), what="lexical AUROC").to_dict()
    out = []
    for layer in range(per_seed[0]["n_layers"]):
        md = scored(per_seed, set_name, label, layer)
        recs = [o["sets"][set_name]["layers"][layer] for o in per_seed]
        rand = [r["random"].get(label) for r in recs]
        rand = [r for r in rand if r]
        out.append({
            "layer": layer,
            "mean_diff": auroc_estimate(md).to_dict(),
            "mean_diff_tpr_at_1pct_fpr": tpr_estimate(md).to_dict(),
            "logistic": (auroc_estimate(scored(per_seed, set_name, label, layer, "logistic")).to_dict()
                         if all(r["logistic"] is not None for r in recs) else None),
            "random_median": float(np.mean([r["median"] for r in rand])) if rand else float("nan"),
            "random_best": float(np.mean([r["best"] for r in rand])) if rand else float("nan"),
            "lexical": lexical,
        })
    return out


def choose_layer(rows: list[dict]) -> tuple[int | None, list[int]]:
    """(the layer whose mean-difference probe has the highest AUROC, the degenerate layers): choose on a
    development set. Layer 0 (the embeddings) and layers whose AUROC is undefined in some seed (constant scores)
    are never chosen: a probe that scores every prompt alike separates nothing. None if no layer is usable."""
    degenerate = [r["layer"] for r in rows[1:] if "constant scores" in r["mean_diff"].get("missing", "")]
    usable = [r for r in rows[1:] if "missing" not in r["mean_diff"]]
    if not usable:
        return None, degenerate
    return max(usable, key=lambda r: r["mean_diff"]["estimate"])["layer"], degenerate
