"""From job outputs to claims, metrics, controls and figures. Every quantity is a mean over test tasks and seeds
with a two-level bootstrap interval (seeds, then tasks within a seed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from petridish.organisms.mesa_gd import claims as K
from petridish.organisms.mesa_gd.config import MesaGDConfig
from petridish.report import plots
from petridish.runs import RunDir
from petridish.stats_legacy import Estimate, claim_result, hier_bootstrap_values


def job_key(seed: int, depth: int) -> str:
    return f"s{seed}/lsa-L{depth}"


def estimate(tests: list[dict], names: tuple[str, ...], stat: Callable[[dict], np.ndarray]) -> Estimate:
    """A statistic of per-seed means of the named per-task values, with its bootstrap interval."""
    units = [{k: t[k] for k in names} for t in tests]
    v, lo, hi = hier_bootstrap_values(units, stat)
    per_seed = [float(stat({k: np.array([[np.mean(u[k])]]) for k in names})[0]) for u in units]
    return Estimate(v, lo, hi, sum(len(u[names[0]]) for u in units), per_seed)


def mean(tests: list[dict], name: str) -> Estimate:
    return estimate(tests, (name,), lambda m: m[name].mean(1))


def ratio(tests: list[dict], num: str, den: str) -> Estimate:
    return estimate(tests, (num, den), lambda m: m[num].mean(1) / m[den].mean(1))


def _share(p: dict) -> float:
    """Per seed, first layer: the GD route's share of the two routes by which y reaches the prediction
    (LSA.pathways). Near 1: the layer found GD; near 0: it settled in the rank-one route."""
    return p["gd"] / (p["gd"] + p["rank1"])


def _est(e: Estimate) -> dict:
    return {"estimate": e.value, "ci": [e.lo, e.hi], "n": e.n, "per_seed": e.per_seed}


def assemble(cfg: MesaGDConfig, out: dict[str, dict]) -> dict:
    by_depth = {}
    for L in cfg.depths:
        tests = [out[job_key(s, L)]["test"] for s in cfg.seeds]
        by_depth[L] = {
            "eta": [out[job_key(s, L)]["eta"] for s in cfg.seeds],
            "gd_route_share": [_share(out[job_key(s, L)]["pathways"]) for s in cfg.seeds],
            "model_cos": mean(tests, "model_cos"), "model_diff": mean(tests, "model_diff"),
            "preds_diff": mean(tests, "preds_diff"), "model_cos_ls": mean(tests, "model_cos_ls"),
            "loss": mean(tests, "loss"), "gd_loss": mean(tests, "gd_loss"), "ls_loss": mean(tests, "ls_loss"),
            "loss_ratio_gd": ratio(tests, "loss", "gd_loss"),
            "untrained_cos": mean(tests, "untrained_cos"), "untrained_loss": mean(tests, "untrained_loss"),
            "construct_cos": mean(tests, "construct_cos"), "construct_preds_diff": mean(tests, "construct_preds_diff"),
            "ls_cos_gd": mean(tests, "ls_cos_gd"),
        }
    claims = []
    if 1 in by_depth:
        m = by_depth[1]
        claims.append(claim_result(K.M1, [m["model_cos"], m["loss_ratio_gd"], m["loss_ratio_gd"]]))
    else:
        nan = Estimate(float("nan"), float("nan"), float("nan"), 0)
        claims.append(claim_result(K.M1, [nan, nan, nan], note="depth 1 is not in `depths`"))
    deepest = max(cfg.depths)
    if deepest > 1:
        claims.append(claim_result(K.M4, [by_depth[deepest]["loss_ratio_gd"]],
                                   note=f"deepest stack: {deepest} layers vs {deepest} GD steps"))
    else:
        nan = Estimate(float("nan"), float("nan"), float("nan"), 0)
        claims.append(claim_result(K.M4, [nan], note="no stack deeper than 1 layer in `depths`"))
    controls = {
        "positive_gd_construction": {str(L): {"model_cos": _est(m["construct_cos"]),
                                              "preds_diff": _est(m["construct_preds_diff"])}
                                     for L, m in by_depth.items()},
        "negative_untrained": {str(L): {"model_cos": _est(m["untrained_cos"]), "loss": _est(m["untrained_loss"])}
                               for L, m in by_depth.items()},
        "other_algorithm_least_squares": {str(L): {"model_cos_with_gd": _est(m["ls_cos_gd"]),
                                                   "loss": _est(m["ls_loss"])} for L, m in by_depth.items()},
    }
    metrics = {"depths": {str(L): {k: (_est(v) if isinstance(v, Estimate) else v) for k, v in m.items()}
                          for L, m in by_depth.items()}}
    return {"claims": claims, "metrics": metrics, "controls": controls}


# --- figures -----------------------------------------------------------------------------------------------------
def figures(cfg: MesaGDConfig, result: dict, run: RunDir) -> list[tuple[str, Path]]:
    figs = []
    fig, axes = plots.subplots(2, ncols=2, size=(5.2, 3.6))
    for j, L in enumerate(cfg.depths):
        hists = [run.job_output(job_key(s, L))["history"] for s in cfg.seeds]
        steps = [h["step"] for h in hists[0]]
        color = f"C{j}"
        plots.band(axes[0], steps, [[h["model_cos"] for h in hist] for hist in hists], f"{L} layer(s)", color)
        plots.band(axes[1], steps, [[h["loss"] for h in hist] for hist in hists], f"LSA {L}", color)
        axes[1].axhline(np.mean([h[-1]["gd_loss"] for h in hists]), color=color, ls=":", lw=1)
    axes[0].axhline(0.99, color="k", ls="--", lw=0.8)
    axes[0].set(xlabel="training step", ylabel="model cos vs L-step GD", ylim=(-0.05, 1.02))
    axes[1].set(xlabel="training step", ylabel="loss (1/2 squared error)", yscale="log")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    figs.append(("Training curves: cosine between the trained LSA's and L-step GD's d y_hat / d x_q (dashed: the M1 "
                 "threshold) and test loss; dotted: the loss of L-step GD with its line-searched rate. Mean and "
                 "min-max over seeds.", plots.save(fig, run.path / "training_curves.png")))

    depths = result["metrics"]["depths"]
    fig, axes = plots.subplots(1, ncols=1, size=(6.4, 3.6))
    ax = axes[0]
    series = (("untrained_loss", "untrained LSA"), ("gd_loss", "L-step GD, tuned rate"), ("loss", "trained LSA"))
    width = 0.8 / len(series)
    xs = np.arange(len(cfg.depths))
    for i, (key, label) in enumerate(series):
        vals = [depths[str(L)][key] for L in cfg.depths]
        y = np.array([v["estimate"] for v in vals])
        err = np.array([[v["estimate"] - v["ci"][0] for v in vals], [v["ci"][1] - v["estimate"] for v in vals]])
        ax.bar(xs + i * width, y, width, yerr=err, capsize=3, label=label)
    ax.set_xticks(xs + width, [f"{L} layer(s)" for L in cfg.depths])
    ax.set_ylabel("test loss (95% CI)")
    ax.legend(fontsize=7)
    figs.append(("Test loss by depth: the trained LSA against L steps of GD with a line-searched rate and against "
                 "its untrained initialisation (least squares reaches ~0 on these noise-free tasks).",
                 plots.save(fig, run.path / "losses_by_depth.png")))

    sens = run.job_output(job_key(cfg.seeds[0], cfg.depths[0]))["sensitivity"]
    fig, axes = plots.subplots(1, ncols=1, size=(4.2, 4))
    ax = axes[0]
    gd, model = np.array(sens["gd"]).ravel(), np.array(sens["model"]).ravel()
    ax.scatter(gd, model, s=6, alpha=0.6)
    lim = float(np.abs(np.concatenate([gd, model])).max()) * 1.05
    ax.plot([-lim, lim], [-lim, lim], "k:", lw=1)
    ax.set(xlabel="GD: d y_hat / d x_q", ylabel="trained LSA: d y_hat / d x_q",
           title=f"{cfg.depths[0]} layer(s), seed {cfg.seeds[0]}")
    figs.append(("The implicit weight vector each model uses in context, one dot per (test task, coordinate): on the "
                 "diagonal, the trained layer and GD compute the same function of the context.",
                 plots.save(fig, run.path / "sensitivity_scatter.png")))
    return figs
