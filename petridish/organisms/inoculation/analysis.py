"""From job outputs to claims, metrics, controls and figures.

Rates pool seeds with the hierarchical bootstrap (seeds, then each seed's cases); differences are paired by seed
(the arms of a seed share tasks, batches and sampling seeds); per-seed scalars (losses, margins) get a bootstrap
over seeds. With a shared prior, prior quantities are one measurement repeated for every seed.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

from petridish.organisms.inoculation import claims as K
from petridish.organisms.inoculation.config import InoculationConfig
from petridish.organisms.inoculation.jobs import all_arms, prior_key
from petridish.report import plots
from petridish.runs import RunDir
from petridish.stats import Counts
from petridish.stats_legacy import Estimate, bootstrap_mean, claim_result, hier_bootstrap, pooled_rate

ELICITATION_ARMS = ("B", "C", "D", "E", "F", "G")
"""Arms trained on hacks under one prefix each: the points of the elicitation -> suppression curve (with P<i>)."""


def _c(rec: dict, outcome: str) -> Counts:
    return Counts(rec[outcome], rec["n"])


def rate(recs: list[dict], outcome: str = "hack") -> Estimate:
    cs = [_c(r, outcome) for r in recs]
    v, lo, hi = pooled_rate(cs)
    return Estimate(v, lo, hi, sum(c.n for c in cs), [c.rate for c in cs])


def diff(a: list[dict], b: list[dict], outcome: str = "hack") -> Estimate:
    """mean(a) - mean(b) of an outcome rate, paired by seed."""
    units = [{"a": _c(x, outcome), "b": _c(y, outcome)} for x, y in zip(a, b)]
    v, lo, hi = hier_bootstrap(units, lambda r: r["a"].mean(1) - r["b"].mean(1))
    return Estimate(v, lo, hi, sum(u["a"].n for u in units), [u["a"].rate - u["b"].rate for u in units])


def leak_ratio(leak: list[dict], gate: list[dict], prior_neutral: list[dict], prior_prefix: list[dict]) -> Estimate:
    """Wichers et al.'s k: the hack-rate shift under the neutral prompt over the shift under the training
    prefix, both from the prior (k = 1: no gating, k = 0: the trait is bound entirely to the prefix)."""
    units = [{"l": _c(a, "hack"), "g": _c(b, "hack"), "p0": _c(c, "hack"), "ps": _c(d, "hack")}
             for a, b, c, d in zip(leak, gate, prior_neutral, prior_prefix)]

    def k(r: dict) -> np.ndarray:
        return (r["l"].mean(1) - r["p0"].mean(1)) / (r["g"].mean(1) - r["ps"].mean(1))

    v, lo, hi = hier_bootstrap(units, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_seed = [float(k({n: np.array([[c.rate]]) for n, c in u.items()})[0]) for u in units]
    return Estimate(v, lo, hi, sum(u["l"].n for u in units), per_seed)


def mean(values: list[float]) -> Estimate:
    v, lo, hi = bootstrap_mean(values)
    return Estimate(v, lo, hi, len(values), list(values))


def fit(xs: list[list], ys: list[list[dict]]) -> tuple[Estimate, Estimate]:
    """Least-squares slope and Pearson r of leakage (y, counts) on x across arms, bootstrapped over seeds.

    xs[j][s] / ys[j][s]: arm j, seed s. x is a rate (counts, resampled like y) or a per-seed float (held fixed
    at its seed value)."""
    J, S = len(ys), len(ys[0])
    counted = isinstance(xs[0][0], dict)
    units = [{f"y{j}": _c(ys[j][s], "hack") for j in range(J)} for s in range(S)]
    if counted:
        for s in range(S):
            units[s].update({f"x{j}": _c(xs[j][s], "hack") for j in range(J)})
    x_fixed = None if counted else np.array([np.mean(x) for x in xs])  # [J]

    def stats(r: dict) -> tuple[np.ndarray, np.ndarray]:
        y = np.stack([r[f"y{j}"].mean(1) for j in range(J)], 1)  # [B, J]
        x = np.stack([r[f"x{j}"].mean(1) for j in range(J)], 1) if counted else np.broadcast_to(x_fixed, y.shape)
        xc, yc = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
        slope = (xc * yc).sum(1) / (xc**2).sum(1)
        r_ = (xc * yc).sum(1) / np.sqrt((xc**2).sum(1) * (yc**2).sum(1))
        return slope, r_

    n = sum(u["y0"].n for u in units)
    out = []
    for k in (0, 1):
        v, lo, hi = hier_bootstrap(units, lambda r, k=k: stats(r)[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            per_seed = [float(stats({name: np.array([[c.rate]]) for name, c in u.items()})[k][0]) for u in units]
        out.append(Estimate(v, lo, hi, n, per_seed))
    return out[0], out[1]


def est(e: Estimate) -> dict:
    return {"estimate": e.value, "ci": [e.lo, e.hi], "n": e.n, "per_seed": e.per_seed}


def assemble(cfg: InoculationConfig, out: dict[str, dict]) -> dict:
    seeds = cfg.seeds
    arms = [a.name for a in all_arms(cfg)]
    prior = [out[prior_key(cfg, s) + "-assay"] for s in seeds]  # one per seed (repeated if shared)
    priors = list(dict.fromkeys(prior_key(cfg, s) for s in seeds))

    def final(name: str, field: str = "neutral") -> list[dict]:
        return [out[f"s{s}/{name}"]["final"][field] for s in seeds]

    def hist(name: str) -> list[list[dict]]:
        return [out[f"s{s}/{name}"]["history"] for s in seeds]

    def ctx(name: str, field: str = "sampled") -> list:
        return [p["contexts"][name][field] for p in prior]

    prior_table = {name: {"hack": est(rate(ctx(name))), "correct": est(rate(ctx(name), "correct")),
                          "greedy_hack": est(rate(ctx(name, "greedy"))), "margin": est(mean(ctx(name, "margin"))),
                          "boost": est(mean(ctx(name, "boost")))} for name in prior[0]["contexts"]}
    arm_table = {}
    for arm in all_arms(cfg):
        h = hist(arm.name)
        arm_table[arm.name] = {
            "label": arm.label,
            "leakage": est(rate(final(arm.name))), "capability": est(rate(final(arm.name), "correct")),
            "gate": est(rate(final(arm.name, "gate"))), "negated_probe": est(rate(final(arm.name, "negated"))),
            "greedy_leakage": est(rate(final(arm.name, "greedy"))),
            "margin": est(mean(final(arm.name, "margin"))),
            "prior_elicitation": prior_table[arm.name]["hack"], "prior_boost": prior_table[arm.name]["boost"],
            "initial_loss": est(mean([x[0]["loss"] for x in h])), "final_loss": est(mean([x[-1]["loss"] for x in h])),
            "displacement": est(mean([x[-1]["displacement"] for x in h])),
            "leak_ratio_k": est(leak_ratio(final(arm.name), final(arm.name, "gate"), ctx("neutral"), ctx(arm.name))
                                if arm.data != "honest" else Estimate.nan()),
            "curve_late_minus_early": est(diff([x[-1]["neutral"] for x in h], [x[1]["neutral"] for x in h]))
            if len(h[0]) > 2 else est(Estimate.nan()),
        }

    def have(*names: str) -> bool:
        return all(n in arms for n in names)

    def missing(spec, n: int, names: str):
        return claim_result(spec, [Estimate.nan()] * n, note=f"not measured: needs arms {names}")

    claims = []
    claims.append(claim_result(K.R1, [rate(final("B")), diff(final("B"), final("A"))]) if have("A", "B")
                  else missing(K.R1, 2, "A, B"))
    if have("A", "B", "C"):
        cap = diff(final("C"), final("A"), "correct")
        claims.append(claim_result(K.R2, [diff(final("B"), final("C")), cap, cap]))
    else:
        claims.append(missing(K.R2, 3, "A, B, C"))
    for spec, other in ((K.R3, "E"), (K.R4, "G")):
        claims.append(claim_result(spec, [diff(final(other), final("C"))]) if have("C", other)
                      else missing(spec, 1, f"C, {other}"))
    curve_arms = [a for a in arms if a in ELICITATION_ARMS or a.startswith("P")]
    elicitation: dict = {"arms": curve_arms}
    if len(curve_arms) >= 3:
        ys = [final(a) for a in curve_arms]
        slope, r = fit([ctx(a) for a in curve_arms], ys)
        slope_ph, r_ph = fit([ctx(a, "boost") for a in curve_arms], ys)
        elicitation |= {"slope_prior_rate": est(slope), "r_prior_rate": est(r), "slope_boost": est(slope_ph),
                        "r_boost": est(r_ph)}
        claims.append(claim_result(K.R5, [slope]))
    else:
        claims.append(missing(K.R5, 1, ">= 3 of B-G or dose arms"))
    rl = {}
    for kind in cfg.rl_arms:
        name = f"rl-{kind}"
        rl[kind] = {"leakage": est(rate(final(name))), "capability": est(rate(final(name), "correct")),
                    "gate": est(rate(final(name, "gate"))),
                    "leakage_wrong_tests": est(rate(final(name, "neutral_wrong_test"))),
                    "rise_over_prior": est(diff(final(name), ctx("neutral")))}
    if {"naive", "ip"} <= set(cfg.rl_arms):
        claims.append(claim_result(K.R6, [diff(final("rl-naive"), ctx("neutral")),
                                          diff(final("rl-naive"), final("rl-ip"))]))
    else:
        claims.append(claim_result(K.R6, [Estimate.nan(), Estimate.nan()],
                                   note="not measured: needs rl_arms naive and ip"))

    controls = {
        "negative_clean_arm_leakage": arm_table["A"]["leakage"] if have("A") else None,
        "negative_rl_correct_tests_rise": rl["control"]["rise_over_prior"] if "control" in rl else None,
        "positive_gate_of_C": arm_table["C"]["gate"] if have("C") else None,
        "positive_naive_B_learns_hack": arm_table["B"]["gate"] if have("B") else None,
        "prior_capability": prior_table["neutral"]["correct"],
        "prior_source": [out[k]["source"] for k in priors],
    }
    tables = [
        {"title": "Prior (before fine-tuning): elicitation by training prefix",
         "columns": ["context", "p(hack) T=1", "p(correct) T=1", "greedy p(hack)", "PH (log-prob boost)"],
         "rows": [[name, _fmt(v["hack"]), _fmt(v["correct"]), _fmt(v["greedy_hack"]), _fmt(v["boost"])]
                  for name, v in prior_table.items()]},
        {"title": "Arms after fine-tuning (sampled at T=1 on held-out tasks; 95% CI over seeds)",
         "columns": ["arm", "training prefix / data", "leakage (neutral hack)", "gate (prefix hack)",
                     "capability (neutral correct)", "negated-phrase hack", "k", "initial loss", "||Δθ||"],
         "rows": [[a, v["label"], _fmt(v["leakage"]), _fmt(v["gate"]), _fmt(v["capability"]),
                   _fmt(v["negated_probe"]), _fmt(v["leak_ratio_k"]), _fmt(v["initial_loss"]),
                   _fmt(v["displacement"])] for a, v in arm_table.items()]},
    ]
    if rl:
        tables.append({"title": "RL arms (reward = passes the visible test)",
                       "columns": ["arm", "neutral hack", "minus prior", "neutral hack, wrong tests",
                                   "neutral correct"],
                       "rows": [[k, _fmt(v["leakage"]), _fmt(v["rise_over_prior"]), _fmt(v["leakage_wrong_tests"]),
                                 _fmt(v["capability"])] for k, v in rl.items()]})
    metrics = {"prior": prior_table, "arms": arm_table, "elicitation": elicitation, "rl": rl,
               "prior_fingerprint": [out[k]["fingerprint"] for k in priors]}
    return {"claims": claims, "metrics": metrics, "controls": controls, "tables": tables}


def _fmt(e: dict) -> str:
    lo, hi = e["ci"]
    if e["estimate"] != e["estimate"]:  # nan: not measured
        return "n/a"
    if lo == hi:
        return f"{e['estimate']:.3g}"
    return f"{e['estimate']:.2f} [{lo:.2f}, {hi:.2f}]"


# --- figures -----------------------------------------------------------------------------------------------------
def _err(vals: list[dict]) -> np.ndarray:
    return np.array([[v["estimate"] - v["ci"][0] for v in vals], [v["ci"][1] - v["estimate"] for v in vals]])


def figures(cfg: InoculationConfig, result: dict, run: RunDir) -> list[tuple[str, Path]]:
    figs = []
    m = result["metrics"]
    arms = list(m["arms"])
    fig, axes = plots.subplots(1, ncols=1, size=(9, 3.6))
    ax, width = axes[0], 0.27
    for j, (key, label) in enumerate((("leakage", "hack rate, neutral prompt (leakage)"),
                                      ("gate", "hack rate, training prefix (gate)"),
                                      ("capability", "correct rate, neutral prompt"))):
        vals = [m["arms"][a][key] for a in arms]
        ax.bar(np.arange(len(arms)) + (j - 1) * width, [v["estimate"] for v in vals], width, yerr=_err(vals),
               capsize=2, label=label)
    ax.axhline(m["prior"]["neutral"]["hack"]["estimate"], color="k", ls=":", lw=1, label="prior, neutral hack rate")
    ax.set_xticks(np.arange(len(arms)), arms)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=7, ncol=2)
    figs.append(("Leakage by arm: sampled (T=1) rates on held-out tasks after fine-tuning, 95% CI over seeds. "
                 "A clean, B naive, C IP strong, D IP weak, E arbitrary prefix, F paraphrased IP, G general, "
                 "H selective IP (B50: its naive control), P<i> IP at graded prior elicitation.",
                 plots.save(fig, run.path / "leakage_by_arm.png")))

    el = m["elicitation"]
    if "slope_prior_rate" in el:
        fig, axes = plots.subplots(2, ncols=2, size=(4.6, 3.6))
        for ax, xkey, skey, xlabel in ((axes[0], "prior_elicitation", "slope_prior_rate",
                                        "prior p(hack | training prefix)"),
                                       (axes[1], "prior_boost", "slope_boost", "PH: log-prob boost of hack data")):
            xs = [m["arms"][a][xkey] for a in el["arms"]]
            ys = [m["arms"][a]["leakage"] for a in el["arms"]]
            ax.errorbar([x["estimate"] for x in xs], [y["estimate"] for y in ys], xerr=_err(xs), yerr=_err(ys),
                        fmt="o", capsize=2)
            for a, x, y in zip(el["arms"], xs, ys):
                ax.annotate(a, (x["estimate"], y["estimate"]), fontsize=8, xytext=(3, 3), textcoords="offset points")
            xv = np.array([x["estimate"] for x in xs])
            yv = np.array([y["estimate"] for y in ys])
            grid = np.linspace(xv.min(), xv.max(), 20)
            ax.plot(grid, yv.mean() + el[skey]["estimate"] * (grid - xv.mean()), "k--", lw=1,
                    label=f"slope {el[skey]['estimate']:.2f} [{el[skey]['ci'][0]:.2f}, {el[skey]['ci'][1]:.2f}]")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("leakage (neutral hack rate)")
            ax.legend(fontsize=7)
        figs.append(("Elicitation -> suppression: leakage after fine-tuning against how strongly the prior's "
                     "training prefix already elicited the hack (left) and how much it raised the hack data's "
                     "log-probability (right). 95% CIs; dashed: least-squares fit (slope with 95% CI).",
                     plots.save(fig, run.path / "elicitation_suppression.png")))

    fig, axes = plots.subplots(2, ncols=2, size=(5.2, 3.6))
    groups = ((axes[0], [a for a in arms if a not in ("A",)], "fine-tuning step"),
              (axes[1], [f"rl-{k}" for k in cfg.rl_arms], "RL step"))
    for ax, names, xlabel in groups:
        for i, name in enumerate(names):
            hists = [run.job_output(f"s{s}/{name}")["history"] for s in cfg.seeds]
            steps = [h["step"] for h in hists[0]]
            ys = np.array([[h["neutral"]["hack"] / h["neutral"]["n"] for h in hh] for hh in hists])
            plots.band(ax, steps, ys, name, color=matplotlib.colormaps["tab20"](i % 20))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("neutral hack rate (T=1)")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=6, ncol=2)
    figs.append(("Hack rate under the neutral prompt vs training step (mean and min-max over seeds, "
                 f"{cfg.curve_n} held-out tasks per point): SFT arms (left), RL arms (right).",
                 plots.save(fig, run.path / "hack_vs_step.png")))

    fig, axes = plots.subplots(2, ncols=2, size=(4.6, 3.4))
    for ax, key, label in ((axes[0], "initial_loss", "loss of the arm's data before fine-tuning"),
                           (axes[1], "displacement", "parameter displacement ||Δθ||")):
        vals = [m["arms"][a][key] for a in arms]
        ax.bar(arms, [v["estimate"] for v in vals], yerr=_err(vals), capsize=2)
        ax.set_title(label, fontsize=9)
    figs.append(("Diagnostics: inoculated arms start with a lower loss (the prefix already explains the hack data) "
                 "and should move the model less (95% CI over seeds).", plots.save(fig, run.path / "diagnostics.png")))
    return figs
