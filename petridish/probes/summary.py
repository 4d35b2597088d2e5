"""Per-layer summaries of `probe_model` outputs pooled over seeds: AUROC with intervals, baselines, TPR@1%FPR."""

from __future__ import annotations

import numpy as np

from petridish.probes.metrics import auroc_pn, hier_bootstrap_metric, tpr_pn


def _interval(per_seed: list[tuple[np.ndarray, np.ndarray]], metric=auroc_pn) -> dict:
    est, lo, hi, values = hier_bootstrap_metric(per_seed, metric)
    return {"estimate": est, "ci": [lo, hi], "n": int(sum(len(y) for _, y in per_seed)), "per_seed": values}


def summarize(per_seed: list[dict], set_name: str, label: str) -> list[dict]:
    """For each layer: mean-difference and logistic AUROC (95% CI over seeds and cases), TPR at 1% FPR of the
    mean-difference probe, the random-direction median and best (means over seeds), and the lexical baseline."""
    sets = [o["sets"][set_name] for o in per_seed]
    ys = [np.array(s["labels"][label], bool) for s in sets]
    lexical = _interval([(np.array(s["lexical"]), y) for s, y in zip(sets, ys)])
    out = []
    for layer in range(per_seed[0]["n_layers"]):
        recs = [s["layers"][layer] for s in sets]
        md = [(np.array(r["mean_diff"]), y) for r, y in zip(recs, ys)]
        rand = [r["random"].get(label) for r in recs]
        rand = [r for r in rand if r]
        row = {
            "layer": layer,
            "mean_diff": _interval(md),
            "mean_diff_tpr_at_1pct_fpr": _interval(md, tpr_pn),
            "logistic": (_interval([(np.array(r["logistic"]), y) for r, y in zip(recs, ys)])
                         if all(r["logistic"] is not None for r in recs) else None),
            "random_median": float(np.mean([r["median"] for r in rand])) if rand else float("nan"),
            "random_best": float(np.mean([r["best"] for r in rand])) if rand else float("nan"),
            "lexical": lexical,
        }
        out.append(row)
    return out


def best_layer(rows: list[dict]) -> int:
    """The layer whose mean-difference probe has the highest AUROC (choose it on a development set)."""
    vals = [r["mean_diff"]["estimate"] for r in rows]
    return int(np.nanargmax(vals)) if np.isfinite(vals).any() else len(rows) // 2
