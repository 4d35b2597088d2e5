"""The two mesa organisms at smoke budget (run folder, claims, controls, report), a short training that must
already find GD, determinism of a job (what makes a resumed run reproduce), and config validation."""

import json

import numpy as np
import pytest
import torch
from stored import check

from petridish import organisms
from petridish.config import resolve
from petridish.errors import UserError
from petridish.icl import assays as A
from petridish.icl.baselines import tune_gd_rate
from petridish.icl.data import generator, lsa_tokens, sample_batch, split_lsa
from petridish.icl.lsa import LSA
from petridish.icl.train import TrainConfig, train
from petridish.jobs import JobContext


def _smoke(cli, tmp_path_factory, organism):
    out = tmp_path_factory.mktemp("runs") / organism
    p = cli("run", organism, "--budget", "smoke", "--quiet", "--out", str(out))
    assert p.returncode == 0, p.stderr
    result = json.loads((out / "result.json").read_text())
    for c in result["claims"]:
        assert set(c) >= {"id", "statement", "threshold", "estimate", "ci", "method", "seeds", "cases", "verdict",
                          "per_seed", "gates"}
    assert any("only 2 seed(s)" in w for w in result["warnings"])
    assert "<img src='data:image/png;base64," in (out / "report.html").read_text()
    ckpts = [p for p in (out / "checkpoints").rglob("*") if p.is_file()]
    assert ckpts and all(p.suffix == ".safetensors" for p in ckpts)
    check(f"{organism}-run", result)  # job-key parsing removed: no number changes (issue 20)
    return out, result


def test_mesa_gd_smoke(cli, tmp_path_factory):
    out, r = _smoke(cli, tmp_path_factory, "mesa-gd")
    assert [c["id"] for c in r["claims"]] == ["M1", "M1b", "M1c", "M1d", "M4"] and r["card"]["rung"] == 1
    assert r["gates"][0]["id"] == "GP" and r["gates"][0]["verdict"] == "reproduced"
    pos = r["controls"]["positive_gd_construction"]
    assert set(pos) == {"1", "2"}
    for rec in pos.values():  # the hand-built GD weights score as GD: the assay works end to end
        assert rec["model_cos"]["ci"][0] > 1 - 1e-5 and rec["preds_diff"]["ci"][1] < 1e-4
    assert r["controls"]["other_algorithm_least_squares"]["1"]["model_cos_with_gd"]["estimate"] < 0.95
    assert r["metrics"]["depths"]["1"]["loss"]["cases"] == 200 and r["metrics"]["depths"]["1"]["loss"]["seeds"] == 2
    m1b = r["claims"][1]
    assert m1b["seeds"] == 2 and "GD basin" in m1b["note"] and "binomial" in m1b["method"]
    assert (out / "sensitivity_scatter.png").is_file()


def test_mesa_pseudo_alignment_smoke(cli, tmp_path_factory):
    out, r = _smoke(cli, tmp_path_factory, "mesa-pseudo-alignment")
    assert [c["id"] for c in r["claims"]] == ["M2", "M3"] and r["card"]["rung"] == 3
    assert [g["id"] for g in r["gates"]] == ["GD", "GR"] and r["claims"][1]["gates"] == ["GR"]
    assert "M*" in r["claims"][1]["note"]
    sweep = r["metrics"]["sweep"]
    assert set(sweep) == {"2", "16"}
    # closed-form baselines: on seen tasks of a 2-task pool dMMSE beats ridge; on unseen tasks ridge beats dMMSE
    assert sweep["2"]["dmmse_err_seen"]["estimate"] < sweep["2"]["ridge_err_seen"]["estimate"]
    assert sweep["2"]["ridge_err_unseen"]["estimate"] < sweep["2"]["dmmse_err_unseen"]["estimate"]
    assert {"positive_intended_distribution", "negative_seen_unseen_gap"} <= set(r["controls"])
    assert (out / "task_diversity.png").is_file() and (out / "error_by_position.png").is_file()


def test_one_lsa_layer_learns_gd_quickly():
    torch.manual_seed(0)
    d, N = 5, 10

    def tasks(n, *keys):
        b = sample_batch(n, N + 1, d, generator(0, *keys))
        return lsa_tokens(b.x, b.y), b.y[:, -1]

    e, y = tasks(4096, "tune")
    gd = A.gd_predictor(tune_gd_rate(*split_lsa(e), y, 1), 1)
    model = LSA(d, 1)

    def loss_at(step):
        e, y = tasks(128, "train", step)
        return 0.5 * ((model(e) - y) ** 2).mean()

    test_e, test_y = tasks(512, "test")
    before = A.compare(model, gd, test_e, test_y)["model_cos"].mean()
    train(model, loss_at, TrainConfig(steps=400, batch_size=128, lr=3e-3), "t")
    after = A.compare(model, gd, test_e, test_y)
    assert abs(before) < 0.3 and after["model_cos"].mean() > 0.98
    assert after["loss_a"].mean() / after["loss_b"].mean() < 1.05


@pytest.mark.parametrize("organism,key,args", [
    ("mesa-gd", "s1000/lsa-L1", {"seed": 1000, "depth": 1}),
    ("mesa-pseudo-alignment", "s1000/M2", {"seed": 1000, "m": 2}),
])
def test_jobs_are_deterministic(tmp_path, organism, key, args):
    """A killed job restarts from its beginning; it must reproduce the uninterrupted run's output exactly."""
    org = organisms.get(organism)
    cfg = resolve(org.Config, org.name, "smoke", org.budgets, sets=["train.steps=5"])
    job = next(j for j in org.jobs(cfg) if j.key == key)
    outs = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        outs.append(job.fn(JobContext(tmp_path / str(i), key, cfg, args, {}, 1)))
    assert outs[0] == outs[1]


def test_task_counts_must_ascend():
    org = organisms.get("mesa-pseudo-alignment")
    with pytest.raises(UserError, match="task_counts"):
        resolve(org.Config, org.name, "smoke", org.budgets, sets=["task_counts=[16, 2]"])


# --- verdicts from hand-made job outputs ---------------------------------------------------------------------------
def lsa_output(cos: float, loss: float, gd_loss: float = 1.0, construct: float = 1.0, n: int = 400,
               seed: int = 0) -> dict:
    """One job's per-task values around the given means (a little task-to-task noise)."""
    rng = np.random.default_rng(seed)

    def around(m: float, sd: float = 0.01) -> list[float]:
        return list(m + sd * rng.standard_normal(n)) if n else []
    g = around(gd_loss, 0.1)
    test = {k: around(0.5) for k in ("model_diff", "preds_diff", "model_cos_ls", "ls_loss", "untrained_cos",
                                      "untrained_loss", "construct_preds_diff", "ls_cos_gd")}
    test.update(model_cos=around(cos, 0.002), loss=[x * loss / gd_loss for x in g], gd_loss=g,
                construct_cos=around(construct, 1e-5))
    return {"eta": 0.1, "pathways": {"gd": cos, "rank1": 1 - cos}, "test": test}


def mesa_gd_result(per_seed: list[tuple[float, float]], deep_ratio: float = 0.9, **kw) -> dict:
    """per_seed: (cos, loss / GD) of each seed's one-layer model; depth 2 has loss ratio deep_ratio."""
    org = organisms.get("mesa-gd")
    seeds = list(range(1000, 1000 + len(per_seed)))
    cfg = resolve(org.Config, org.name, "default", org.budgets, sets=[f"seeds={seeds}", "depths=[1, 2]"])
    out = {}
    for i, (s, (cos, ratio)) in enumerate(zip(seeds, per_seed)):
        out[f"s{s}/lsa-L1"] = lsa_output(cos, ratio, seed=i, **kw)
        out[f"s{s}/lsa-L2"] = lsa_output(0.9, deep_ratio + 0.01 * i, seed=100 + i, **kw)
    r = org.assemble(cfg, out, None)
    return {"claims": {c["id"]: c for c in r["claims"]}, "gates": r["gates"], "warnings": r["warnings"],
            "metrics": r["metrics"]}


GD, RANK1 = (0.999, 1.0), (0.26, 2.0)


def test_mesa_gd_m1_per_basin_with_the_fraction_of_gd_seeds():
    r = mesa_gd_result([GD] * 9 + [RANK1])
    c = r["claims"]
    assert c["M1b"]["estimate"] == pytest.approx(0.9) and c["M1b"]["seeds"] == 10
    assert c["M1b"]["ci"] == pytest.approx([0.555, 0.9975], abs=1e-3)  # Clopper-Pearson for 9 of 10
    assert c["M1b"]["verdict"] == "reproduced" and c["M1b"]["amends"] == "M1"
    assert c["M1c"]["verdict"] == "reproduced" and c["M1c"]["seeds"] == 9 and "9 of 10 seeds" in c["M1c"]["note"]
    assert c["M1"]["verdict"] == "inconclusive"  # the mean over a bimodal quantity: wide, describes neither basin
    assert r["metrics"]["basins"]["other"]["seeds"] == [1009]
    assert c["M4"]["verdict"] == "reproduced"
    # most seeds in the rank-one basin: the fraction fails; the GD seeds still implement GD
    r = mesa_gd_result([GD] + [RANK1] * 9, deep_ratio=1.2)  # 1 of 10: [0.003, 0.445]
    assert r["claims"]["M1b"]["verdict"] == "not reproduced" and r["claims"]["M1c"]["verdict"] == "reproduced"
    assert r["claims"]["M4"]["verdict"] == "not reproduced"


def test_mesa_gd_degenerate_gate_and_empty_runs():
    r = mesa_gd_result([RANK1] * 10)
    assert r["claims"]["M1b"]["verdict"] == "not reproduced" and r["claims"]["M1c"]["verdict"] == "not measured"
    assert any(w.startswith("DEGENERATE") for w in r["warnings"])
    r = mesa_gd_result([GD] * 10, construct=0.5)  # the assay does not see GD in GD's own weights
    assert {c["verdict"] for c in r["claims"].values()} == {"invalid"}
    r = mesa_gd_result([GD] * 3, n=0)
    assert {c["verdict"] for c in r["claims"].values()} == {"not measured"}


def seq_values(means: dict[str, float], n: int, rng: np.random.Generator) -> dict[str, list[float]]:
    return {k: list(np.abs(m * (1 + 0.1 * rng.standard_normal(n)))) for k, m in means.items()}


MEMORISER = {"unseen": {"d_ridge": 4.0, "d_dmmse": 1.0, "err": 4.8, "ridge_err": 1.0, "dmmse_err": 5.0},
             "seen": {"d_ridge": 1.0, "d_dmmse": 0.01, "err": 0.3, "ridge_err": 1.0, "dmmse_err": 0.25}}
GENERALISER = {"unseen": {"d_ridge": 0.1, "d_dmmse": 1.0, "err": 1.05, "ridge_err": 1.0, "dmmse_err": 1.5},
               "seen": {"d_ridge": 0.1, "d_dmmse": 0.5, "err": 1.0, "ridge_err": 1.0, "dmmse_err": 0.5}}


def mesa_pa_result(small=MEMORISER, large=GENERALISER, intended_err: float = 1.02, n: int = 300) -> dict:
    org = organisms.get("mesa-pseudo-alignment")
    seeds = [1000, 1001, 1002]
    cfg = resolve(org.Config, org.name, "default", org.budgets, sets=[f"seeds={seeds}", "task_counts=[2, 1024]"])
    rng = np.random.default_rng(0)
    intended = {"unseen": {**GENERALISER["unseen"], "err": intended_err}, "seen": GENERALISER["seen"]}
    out = {}
    for s in seeds:
        for key, arm in ((f"s{s}/M2", small), (f"s{s}/M1024", large), (f"s{s}/Minf", intended)):
            out[key] = {"test": {dist: seq_values(arm[dist], n, rng) for dist in ("unseen", "seen")},
                        "untrained_unseen": {"err": 2.0}}
    r = org.assemble(cfg, out, None)
    return {"verdicts": {c["id"]: c["verdict"] for c in r["claims"]}, "claims": r["claims"],
            "gates": {g["id"]: g["verdict"] for g in r["gates"]}}


def test_mesa_pseudo_alignment_verdicts_from_known_models():
    r = mesa_pa_result()
    assert r["verdicts"] == {"M2": "reproduced", "M3": "reproduced"} and set(r["gates"].values()) == {"reproduced"}
    assert r["claims"][0]["estimate"] == pytest.approx(4.0, rel=0.05) and r["claims"][0]["cases"] == 300
    assert "M* = " in r["claims"][1]["note"]
    swapped = mesa_pa_result(small=GENERALISER, large=MEMORISER)
    assert swapped["verdicts"] == {"M2": "not reproduced", "M3": "not reproduced"}


def test_mesa_pseudo_alignment_m3_is_invalid_when_its_positive_control_fails():
    r = mesa_pa_result(large={**GENERALISER, "unseen": {**GENERALISER["unseen"], "err": 1.51}}, intended_err=1.48)
    assert r["gates"]["GR"] == "not reproduced" and r["verdicts"] == {"M2": "reproduced", "M3": "invalid"}
    assert "gate GR failed" in r["claims"][1]["reason"]
    assert set(mesa_pa_result(n=0)["verdicts"].values()) == {"not measured"}


def test_mesa_gd_m1d_selects_on_one_half_of_the_tasks_and_measures_on_the_other():
    """Issue 22: M1c is true by construction (selected by its own numbers); M1d decides the basin on the first
    half of each seed's tasks and measures on the second half, so a seed that looks like GD only on the tasks
    that selected it fails there."""
    r = mesa_gd_result([GD] * 9 + [RANK1])
    c = r["claims"]
    assert c["M1c"]["by_construction"] and c["M1d"]["amends"] == "M1c"
    assert c["M1d"]["verdict"] == "reproduced" and c["M1d"]["seeds"] == 9
    org = organisms.get("mesa-gd")
    seeds = list(range(1000, 1010))
    cfg = resolve(org.Config, org.name, "default", org.budgets, sets=[f"seeds={seeds}", "depths=[1, 2]"])
    out = {}
    for i, s in enumerate(seeds):
        one = lsa_output(*GD, seed=i)
        t = one["test"]
        n = len(t["loss"]) // 2
        t["model_cos"] = t["model_cos"][:n] + [0.9] * (len(t["loss"]) - n)  # GD on the selection half only
        out[f"s{s}/lsa-L1"], out[f"s{s}/lsa-L2"] = one, lsa_output(0.9, 0.9, seed=100 + i)
    claims = {c["id"]: c for c in org.assemble(cfg, out, None)["claims"]}
    assert claims["M1d"]["verdict"] == "not reproduced" and claims["M1d"]["estimate"] == pytest.approx(0.9, abs=1e-3)
