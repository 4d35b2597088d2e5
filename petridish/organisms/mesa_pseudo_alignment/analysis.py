"""From job outputs to estimates, metrics, controls and figures. Every quantity is computed per seed (a mean, or a
ratio of means, over that seed's held-out sequences) and its interval is over seeds, with the sequences' sampling
variance as floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petridish.claims import Findings
from petridish.organisms.mesa_pseudo_alignment.config import MesaPAConfig
from petridish.organisms.mesa_pseudo_alignment.jobs import INTENDED, job_key
from petridish.report import plots
from petridish.runs import RunDir
from petridish.stats import Estimate, Moments, mean_ratio, moments_mean, seed_mean

MEANS = ("d_ridge", "d_dmmse", "err", "ridge_err", "dmmse_err")


def ratio(tests: list[dict], num: str, den: str, what: str = "") -> Estimate:
    """Per seed mean(num) / mean(den) over the same sequences, then the mean over seeds."""
    return mean_ratio([t[num] for t in tests], [t[den] for t in tests], what or f"{num} / {den}")


def mean(tests: list[dict], name: str) -> Estimate:
    return moments_mean([Moments.of(t[name]) for t in tests], name)


def log2_threshold(task_counts: list[int], tests: list[dict[int, dict]]) -> Estimate:
    """log2 M*, per seed: where log(delta_ridge / delta_dmmse) on unseen tasks first turns negative (the model
    becomes closer to ridge than to dMMSE), linearly interpolated in log2 M; -inf if it already is at the smallest
    M, +inf if it never is within the sweep (censored: the estimate is then not measured, with the reason)."""
    x = np.log2(task_counts)
    per_seed = []
    for by_m in tests:  # one seed: {M: unseen test record}
        g = np.array([np.log(np.mean(by_m[M]["d_ridge"]) / np.mean(by_m[M]["d_dmmse"])) for M in task_counts])
        below = np.flatnonzero(g < 0)
        if len(below) == 0:
            per_seed.append(np.inf)
        elif below[0] == 0:
            per_seed.append(-np.inf)
        else:
            j = below[0]
            per_seed.append(x[j - 1] + (x[j] - x[j - 1]) * g[j - 1] / (g[j - 1] - g[j]))
    return seed_mean(per_seed, what="log2 M* (censored outside the sweep in some seeds)")


def analyze(cfg: MesaPAConfig, out: dict[str, dict]) -> Findings:
    def tests(m: int, dist: str) -> list[dict]:
        return [out[job_key(s, m)]["test"][dist] for s in cfg.seeds]

    sweep = {}
    for M in cfg.task_counts:
        u, s = tests(M, "unseen"), tests(M, "seen")
        sweep[str(M)] = {
            "delta_ratio_unseen": ratio(u, "d_ridge", "d_dmmse"),
            "delta_ridge_unseen": mean(u, "d_ridge"), "delta_dmmse_unseen": mean(u, "d_dmmse"),
            "err_ratio_unseen": ratio(u, "err", "ridge_err"), "err_ratio_seen": ratio(s, "err", "ridge_err"),
            "dmmse_ridge_ratio_seen": ratio(s, "dmmse_err", "ridge_err"),
            "err_unseen": mean(u, "err"), "err_seen": mean(s, "err"),
            "ridge_err_unseen": mean(u, "ridge_err"), "ridge_err_seen": mean(s, "ridge_err"),
            "dmmse_err_unseen": mean(u, "dmmse_err"), "dmmse_err_seen": mean(s, "dmmse_err"),
        }
    lo_m, hi_m = str(cfg.task_counts[0]), str(cfg.task_counts[-1])
    threshold = log2_threshold(cfg.task_counts, [{M: out[job_key(s, M)]["test"]["unseen"] for M in cfg.task_counts}
                                                 for s in cfg.seeds])
    t_text = (f"transition (closer to ridge than to dMMSE on unseen tasks) at log2 M* = {threshold.value:.2f} "
              f"[{threshold.lo:.2f}, {threshold.hi:.2f}], i.e. M* = {2 ** threshold.value:.3g} "
              f"[{2 ** threshold.lo:.3g}, {2 ** threshold.hi:.3g}] at {cfg.train.steps} training steps"
              if threshold.measured else f"transition M*: {threshold.missing}")
    lo, hi = sweep[lo_m], sweep[hi_m]
    estimates = {"M2": (lo["delta_ratio_unseen"], lo["err_ratio_seen"], lo["err_ratio_unseen"]),
                 "M3": (hi["delta_ratio_unseen"], hi["err_ratio_unseen"])}
    notes = {"M2": f"smallest M = {lo_m}", "M3": f"largest M = {hi_m}; {t_text}"}
    gates = {"GD": lo["dmmse_ridge_ratio_seen"]}
    controls: dict = {"untrained_unseen": {str(M): [out[job_key(s, M)]["untrained_unseen"] for s in cfg.seeds]
                                           for M in cfg.task_counts[:1]}}
    if cfg.intended:
        u, s = tests(INTENDED, "unseen"), tests(INTENDED, "seen")
        gates["GR"] = ratio(u, "err", "ridge_err", "unseen-task error / ridge error, M = infinity")
        controls["positive_intended_distribution"] = {
            "err_ratio_unseen": gates["GR"].to_dict(), "err_unseen": mean(u, "err").to_dict(),
            "delta_ridge_unseen": mean(u, "d_ridge").to_dict(),
        }
        controls["negative_seen_unseen_gap"] = {
            "note": f"error on the M = {lo_m} pool's tasks / error on unseen tasks: the M = infinity model (never "
                    f"shown those tasks) against the M = {lo_m} model (trained on them)",
            "intended_model": mean_ratio([a["err"] for a in s], [b["err"] for b in u], "seen / unseen").to_dict(),
            "smallest_M_model": mean_ratio([a["err"] for a in tests(cfg.task_counts[0], "seen")],
                                           [b["err"] for b in tests(cfg.task_counts[0], "unseen")],
                                           "seen / unseen").to_dict(),
        }
    metrics = {"sweep": {M: {k: v.to_dict() for k, v in rec.items()} for M, rec in sweep.items()},
               "log2_threshold": threshold.to_dict()}
    return Findings(estimates, gates=gates, metrics=metrics, controls=controls, notes=notes)


# --- figures -----------------------------------------------------------------------------------------------------
def _line(ax, x, recs: list[dict], label: str, color: str, style: str = "-") -> None:
    y = [r["estimate"] for r in recs]
    ax.plot(x, y, style, marker="o", ms=3, color=color, label=label)
    ax.fill_between(x, [r["ci"][0] for r in recs], [r["ci"][1] for r in recs], color=color, alpha=0.2)


def figures(cfg: MesaPAConfig, result: dict, run: RunDir) -> list[tuple[str, Path]]:
    figs = []
    sweep = result["metrics"]["sweep"]
    Ms = [str(M) for M in cfg.task_counts]
    x = np.log2(cfg.task_counts)
    fig, axes = plots.subplots(2, ncols=2, size=(5.2, 3.8))
    ax = axes[0]
    for key, label, color, style in (("err_unseen", "model, unseen tasks", "C3", "-"),
                                     ("err_seen", "model, seen tasks", "C0", "-"),
                                     ("ridge_err_unseen", "ridge, unseen", "k", ":"),
                                     ("dmmse_err_unseen", "dMMSE, unseen", "C1", ":"),
                                     ("dmmse_err_seen", "dMMSE, seen", "C2", ":")):
        _line(ax, x, [sweep[M][key] for M in Ms], label, color, style)
    if cfg.intended:
        pos = result["controls"]["positive_intended_distribution"]["err_unseen"]
        ax.errorbar([x[-1] + 1], [pos["estimate"]], yerr=[[pos["estimate"] - pos["ci"][0]],
                                                          [pos["ci"][1] - pos["estimate"]]],
                    fmt="s", color="C3", capsize=3, label="M = inf, unseen")
    ax.set(xlabel="log2 M (pretraining tasks)", ylabel="squared error (mean over positions)")
    ax.legend(fontsize=6)
    ax = axes[1]
    _line(ax, x, [sweep[M]["delta_ridge_unseen"] for M in Ms], "delta to ridge", "k")
    _line(ax, x, [sweep[M]["delta_dmmse_unseen"] for M in Ms], "delta to dMMSE", "C1")
    t = result["metrics"]["log2_threshold"]
    if np.isfinite(t["estimate"]):
        ax.axvline(t["estimate"], color="C3", lw=1)
        ax.axvspan(max(t["ci"][0], x[0]), min(t["ci"][1], x[-1]), color="C3", alpha=0.1)
    ax.set(xlabel="log2 M (pretraining tasks)", ylabel="(f_model - f_baseline)^2 / d, unseen tasks")
    ax.legend(fontsize=7)
    figs.append(("Task-diversity sweep (95% CI). Left: error on seen and unseen tasks with the closed-form Bayes "
                 "baselines. Right: distance of the model's predictions to ridge and to dMMSE on unseen tasks; red: "
                 "the transition M* and its CI.", plots.save(fig, run.path / "task_diversity.png")))

    fig, axes = plots.subplots(2, ncols=2, size=(4.6, 3.4))
    pos = np.arange(1, cfg.k + 1)
    for ax, M in zip(axes, (cfg.task_counts[0], cfg.task_counts[-1])):
        outs = [run.job_output(job_key(s, M)) for s in cfg.seeds]
        for dist, color in (("unseen", "C3"), ("seen", "C0")):
            plots.band(ax, pos, [o["err_by_position"][dist] for o in outs], f"model, {dist}", color)
            for name, style in (("ridge", ":"), ("dmmse", "--")):
                ys = np.mean([o["baseline_err_by_position"][dist][name] for o in outs], 0)
                ax.plot(pos, ys, style, color=color, lw=1, label=f"{name}, {dist}")
        ax.set(title=f"M = {M}", xlabel="context position k", ylabel="squared error")
    axes[0].legend(fontsize=6)
    figs.append(("Error by context length at the smallest and largest M (mean and min-max over seeds); dotted: "
                 "ridge, dashed: dMMSE, on the same sequences.", plots.save(fig, run.path / "error_by_position.png")))

    fig, axes = plots.subplots(1, ncols=1, size=(5.6, 3.6))
    ax = axes[0]
    arms = [*cfg.task_counts, *([INTENDED] if cfg.intended else [])]
    for j, M in enumerate(arms):
        hists = [run.job_output(job_key(s, M))["history"] for s in cfg.seeds]
        steps = [h["step"] for h in hists[0]]
        ys = [[np.log(h["unseen_d_ridge"] / h["unseen_d_dmmse"]) for h in hist] for hist in hists]
        plots.band(ax, steps, ys, f"M = {M or 'inf'}", f"C{j % 10}")
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="training step", ylabel="log(delta_ridge / delta_dmmse), unseen")
    ax.legend(fontsize=6, ncol=2)
    figs.append(("Which algorithm the model is closer to during training (below 0: ridge; above: dMMSE), on unseen "
                 "tasks. Mean and min-max over seeds.", plots.save(fig, run.path / "training_curves.png")))
    return figs
