"""From job outputs to claims, metrics, controls and figures. Every quantity is a statistic of per-seed means over
held-out sequences, with a two-level bootstrap interval (seeds, then sequences within a seed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from petridish.organisms.mesa_pseudo_alignment import claims as K
from petridish.organisms.mesa_pseudo_alignment.config import MesaPAConfig
from petridish.organisms.mesa_pseudo_alignment.jobs import INTENDED, job_key
from petridish.report import plots
from petridish.runs import RunDir
from petridish.stats_legacy import Estimate, claim_result, hier_bootstrap_values


def estimate(units: list[dict], stat: Callable[[dict], np.ndarray]) -> Estimate:
    """units: one dict per seed of per-sequence values (paired within a seed); stat: {name: [B, S]} -> [B]."""
    v, lo, hi = hier_bootstrap_values(units, stat)
    per_seed = [float(stat({k: np.array([[np.mean(x)]]) for k, x in u.items()})[0]) for u in units]
    return Estimate(v, lo, hi, sum(len(next(iter(u.values()))) for u in units), per_seed)


def ratio(tests: list[dict], num: str, den: str) -> Estimate:
    """mean over seeds of `num` / mean over seeds of `den`."""
    return estimate([{"a": t[num], "b": t[den]} for t in tests], lambda m: m["a"].mean(1) / m["b"].mean(1))


def mean(tests: list[dict], name: str) -> Estimate:
    return estimate([{"a": t[name]} for t in tests], lambda m: m["a"].mean(1))


def log2_threshold(task_counts: list[int]) -> Callable[[dict], np.ndarray]:
    """The statistic log2 M*: where log(delta_ridge / delta_dmmse) on unseen tasks first turns negative (the model
    becomes closer to ridge than to dMMSE), linearly interpolated in log2 M; -inf if it already is at the smallest
    M, +inf if it never is within the sweep (censored)."""
    x = np.log2(task_counts)

    def stat(m: dict) -> np.ndarray:
        g = np.stack([np.log(m[f"r{M}"].mean(1) / m[f"d{M}"].mean(1)) for M in task_counts], 1)  # [B, n_M]
        out = np.full(len(g), np.inf)
        below = g < 0
        first = np.where(below.any(1), below.argmax(1), -1)
        out[first == 0] = -np.inf
        for b in np.nonzero(first > 0)[0]:
            j = first[b]
            g0, g1 = g[b, j - 1], g[b, j]
            out[b] = x[j - 1] + (x[j] - x[j - 1]) * g0 / (g0 - g1)
        return out

    return stat


def assemble(cfg: MesaPAConfig, out: dict[str, dict]) -> dict:
    def tests(m: int, dist: str) -> list[dict]:
        return [out[job_key(s, m)]["test"][dist] for s in cfg.seeds]

    sweep = {}
    for M in cfg.task_counts:
        u, s = tests(M, "unseen"), tests(M, "seen")
        sweep[str(M)] = {
            "delta_ratio_unseen": ratio(u, "d_ridge", "d_dmmse"),
            "delta_ridge_unseen": mean(u, "d_ridge"), "delta_dmmse_unseen": mean(u, "d_dmmse"),
            "err_ratio_unseen": ratio(u, "err", "ridge_err"), "err_ratio_seen": ratio(s, "err", "ridge_err"),
            "err_unseen": mean(u, "err"), "err_seen": mean(s, "err"),
            "ridge_err_unseen": mean(u, "ridge_err"), "ridge_err_seen": mean(s, "ridge_err"),
            "dmmse_err_unseen": mean(u, "dmmse_err"), "dmmse_err_seen": mean(s, "dmmse_err"),
        }
    lo_m, hi_m = str(cfg.task_counts[0]), str(cfg.task_counts[-1])
    units = [{**{f"r{M}": out[job_key(s, M)]["test"]["unseen"]["d_ridge"] for M in cfg.task_counts},
              **{f"d{M}": out[job_key(s, M)]["test"]["unseen"]["d_dmmse"] for M in cfg.task_counts}}
             for s in cfg.seeds]
    threshold = estimate(units, log2_threshold(cfg.task_counts))
    t_text = (f"transition (closer to ridge than to dMMSE on unseen tasks) at log2 M* = {threshold.value:.2f} "
              f"[{threshold.lo:.2f}, {threshold.hi:.2f}], i.e. M* = {2 ** threshold.value:.3g} "
              f"[{2 ** threshold.lo:.3g}, {2 ** threshold.hi:.3g}] at {cfg.train.steps} training steps")
    claims = [
        claim_result(K.M2, [sweep[lo_m]["delta_ratio_unseen"], sweep[lo_m]["err_ratio_seen"],
                            sweep[lo_m]["err_ratio_unseen"]], note=f"smallest M = {lo_m}"),
        claim_result(K.M3, [sweep[hi_m]["delta_ratio_unseen"], sweep[hi_m]["err_ratio_unseen"]],
                     note=f"largest M = {hi_m}; {t_text}"),
    ]
    controls: dict = {"untrained_unseen": {str(M): [out[job_key(s, M)]["untrained_unseen"] for s in cfg.seeds]
                                           for M in cfg.task_counts[:1]}}
    if cfg.intended:
        u, s = tests(INTENDED, "unseen"), tests(INTENDED, "seen")
        m_seen = tests(cfg.task_counts[0], "seen")
        controls["positive_intended_distribution"] = {
            "err_ratio_unseen": ratio(u, "err", "ridge_err").to_dict(), "err_unseen": mean(u, "err").to_dict(),
            "delta_ridge_unseen": mean(u, "d_ridge").to_dict(),
        }
        controls["negative_seen_unseen_gap"] = {
            "note": f"error on the M = {lo_m} pool's tasks / error on unseen tasks: the M = infinity model (never "
                    f"shown those tasks) against the M = {lo_m} model (trained on them)",
            "intended_model": estimate([{"a": a["err"], "b": b["err"]} for a, b in zip(s, u)],
                                            lambda m: m["a"].mean(1) / m["b"].mean(1)).to_dict(),
            "smallest_M_model": estimate([{"a": a["err"], "b": b["err"]} for a, b in zip(m_seen, tests(
                cfg.task_counts[0], "unseen"))], lambda m: m["a"].mean(1) / m["b"].mean(1)).to_dict(),
        }
    metrics = {"sweep": {M: {k: v.to_dict() for k, v in rec.items()} for M, rec in sweep.items()},
               "log2_threshold": threshold.to_dict()}
    return {"claims": claims, "metrics": metrics, "controls": controls}


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
