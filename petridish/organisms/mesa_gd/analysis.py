"""From job outputs to estimates, metrics, controls and figures. Every quantity is computed per seed (a mean over
that seed's held-out test tasks) and its interval is over seeds, with the test tasks' sampling variance as floor."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from petridish.claims import Findings
from petridish.organisms.mesa_gd.config import MesaGDConfig
from petridish.report import plots
from petridish.runs import RunDir
from petridish.stats import Estimate, Moments, binomial, mean_ratio, moments_mean

MEANS = ("model_cos", "model_diff", "preds_diff", "model_cos_ls", "loss", "gd_loss", "ls_loss", "untrained_cos",
         "untrained_loss", "construct_cos", "construct_preds_diff", "ls_cos_gd")
GD_COS, GD_LOSS_TOL = 0.99, 0.02  # the GD basin, per seed (claims.GD_BASIN)


def job_key(seed: int, depth: int) -> str:
    return f"s{seed}/lsa-L{depth}"


def _share(p: dict) -> float:
    """Per seed, first layer: the GD route's share of the two routes by which y reaches the prediction
    (LSA.pathways). Near 1: the layer found GD; near 0: it settled in the rank-one route."""
    return p["gd"] / (p["gd"] + p["rank1"])


def describe(tests: list[dict]) -> dict[str, Estimate]:
    """Means over seeds of the per-task values, and the loss ratio to GD (tests: one record per seed)."""
    out = {k: moments_mean([Moments.of(t[k]) for t in tests], k) for k in MEANS}
    out["loss_ratio_gd"] = mean_ratio([t["loss"] for t in tests], [t["gd_loss"] for t in tests], "loss / GD loss")
    return out


def basins(cfg: MesaGDConfig, out: dict[str, dict]) -> tuple[np.ndarray, dict[str, dict[str, Estimate]]]:
    """Which depth-1 seeds reached the GD solution, and each basin's estimates."""
    tests = [out[job_key(s, 1)]["test"] for s in cfg.seeds]
    cos = np.array([np.mean(t["model_cos"]) for t in tests])
    ratio = np.array([np.mean(t["loss"]) / np.mean(t["gd_loss"]) for t in tests])
    in_gd = (cos >= GD_COS) & (np.abs(ratio - 1) <= GD_LOSS_TOL)
    share = [_share(out[job_key(s, 1)]["pathways"]) for s in cfg.seeds]
    per_basin = {}
    for name, members in (("gd", in_gd), ("other", ~in_gd)):
        sel = [t for t, m in zip(tests, members) if m]
        per_basin[name] = {**{k: v for k, v in describe(sel).items() if k in ("model_cos", "loss_ratio_gd")},
                           "gd_route_share": moments_mean([Moments(v, 0.0, 1) for v, m in zip(share, members) if m],
                                                          "GD route share")}
    return in_gd, per_basin


def basin_table(seeds: list[int], in_gd: np.ndarray, per_basin: dict[str, dict[str, Estimate]]) -> dict:
    """M1 per basin, for the terminal and the report: which seeds, and each basin's cos, loss ratio, route share."""
    def cell(e: Estimate) -> str:
        return f"{e.value:.3f} [{e.lo:.3f}, {e.hi:.3f}]" if e.measured else "-"
    rows = []
    for name, label in (("gd", "GD (cos >= 0.99, loss within 2%)"), ("other", "other")):
        members = [str(s) for s, g in zip(seeds, in_gd) if g == (name == "gd")]
        rec = per_basin[name]
        rows.append([label, f"{len(members)} of {len(seeds)}: {', '.join(members) or '-'}", cell(rec["model_cos"]),
                     cell(rec["loss_ratio_gd"]), cell(rec["gd_route_share"])])
    return {"title": "M1 per basin (one trained layer, depth 1)",
            "columns": ["basin", "seeds", "model cos", "loss / GD", "GD route share"], "rows": rows}


def analyze(cfg: MesaGDConfig, out: dict[str, dict]) -> Findings:
    by_depth = {}
    for L in cfg.depths:
        by_depth[L] = describe([out[job_key(s, L)]["test"] for s in cfg.seeds])
    extra = {L: {"eta": [out[job_key(s, L)]["eta"] for s in cfg.seeds],
                 "gd_route_share": [_share(out[job_key(s, L)]["pathways"]) for s in cfg.seeds]} for L in cfg.depths}
    estimates: dict[str, tuple[Estimate, ...]] = {}
    notes: dict[str, str] = {}
    warnings: list[str] = []
    metrics: dict = {}
    tables: list[dict] = []
    if 1 in by_depth:
        m = by_depth[1]
        in_gd, per_basin = basins(cfg, out)
        frac = replace(binomial(int(in_gd.sum()), len(in_gd)), per_seed=tuple(float(v) for v in in_gd))
        gd = per_basin["gd"]
        estimates.update(M1=(m["model_cos"], m["loss_ratio_gd"]), M1b=(frac,),
                         M1c=(gd["model_cos"], gd["loss_ratio_gd"]))
        other = per_basin["other"]
        members = ", ".join(str(s) for s, g in zip(cfg.seeds, in_gd) if g) or "none"
        text = f"GD basin: {int(in_gd.sum())} of {len(in_gd)} seeds ({members})"
        if (~in_gd).any():
            text += (f"; other seeds: cos {other['model_cos'].value:.3f}, loss / GD "
                     f"{other['loss_ratio_gd'].value:.2f}, GD route share {other['gd_route_share'].value:.2f}")
        notes.update(M1b=text, M1c=text)
        metrics["basins"] = {name: {"seeds": [s for s, g in zip(cfg.seeds, in_gd) if g == (name == "gd")],
                                    **{k: v.to_dict() for k, v in rec.items()}} for name, rec in per_basin.items()}
        tables.append(basin_table(cfg.seeds, in_gd, per_basin))
        if not in_gd.any():
            warnings.append(f"DEGENERATE: no seed's layer reached the GD solution (per-seed cos "
                            f"{', '.join(f'{v:.3f}' for v in m['model_cos'].per_seed)})")
        gate = by_depth[1]["construct_cos"]
    else:
        notes["M1"] = "depth 1 is not in `depths`"
        gate = Estimate.not_measured("depth 1 is not in `depths`")
    deepest = max(cfg.depths)
    if deepest > 1:
        estimates["M4"] = (by_depth[deepest]["loss_ratio_gd"],)
        notes["M4"] = f"deepest stack: {deepest} layers vs {deepest} GD steps"
    else:
        notes["M4"] = "no stack deeper than 1 layer in `depths`"
    controls = {
        "positive_gd_construction": {str(L): {"model_cos": m["construct_cos"].to_dict(),
                                              "preds_diff": m["construct_preds_diff"].to_dict()}
                                     for L, m in by_depth.items()},
        "negative_untrained": {str(L): {"model_cos": m["untrained_cos"].to_dict(),
                                        "loss": m["untrained_loss"].to_dict()} for L, m in by_depth.items()},
        "other_algorithm_least_squares": {str(L): {"model_cos_with_gd": m["ls_cos_gd"].to_dict(),
                                                   "loss": m["ls_loss"].to_dict()} for L, m in by_depth.items()},
    }
    metrics["depths"] = {str(L): {**{k: v.to_dict() for k, v in m.items()}, **extra[L]} for L, m in by_depth.items()}
    return Findings(estimates, gates={"GP": gate}, metrics=metrics, controls=controls, warnings=warnings, notes=notes,
                    tables=tables)


# --- figures -----------------------------------------------------------------------------------------------------
def figures(cfg: MesaGDConfig, result: dict, run: RunDir) -> list[tuple[str, Path]]:
    figs = []
    fig, axes = plots.subplots(2, ncols=2, size=(5.2, 3.6))
    for j, L in enumerate(cfg.depths):
        hists = [run.job_output(job_key(s, L))["history"] for s in cfg.seeds]
        steps = [h["step"] for h in hists[0]]
        color = f"C{j}"
        style, marker = ("-", "--", "-.", ":")[j % 4], plots.MARKERS[j % 8]  # equal curves stay distinguishable
        plots.band(axes[0], steps, [[h["model_cos"] for h in hist] for hist in hists], f"{L} layer(s)", color, style,
                   marker)
        plots.band(axes[1], steps, [[h["loss"] for h in hist] for hist in hists], f"LSA {L}", color, style, marker)
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
        ax.bar(xs + i * width, y, width, yerr=plots.errors(vals), capsize=3, label=label)
    ax.set_xticks(xs + width, [f"{L} layer(s)" for L in cfg.depths])
    ax.set_xlabel("depth")
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
