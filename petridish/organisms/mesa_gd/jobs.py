"""The mesa-gd job: for one seed and depth L, line-search the rate of L-step GD, train an L-layer LSA on fresh
regression tasks, and score it task by task against GD, least squares, the GD construction and its own
untrained initialisation on held-out test tasks."""

from __future__ import annotations

import torch

from petridish.icl import assays as A
from petridish.icl.baselines import tune_gd_rate
from petridish.icl.data import generator, lsa_tokens, sample_batch, split_lsa
from petridish.icl.lsa import LSA
from petridish.icl.train import train
from petridish.jobs import JobContext
from petridish.organisms.mesa_gd.config import MesaGDConfig
from petridish.runs import save_tensors

N_SENSITIVITY = 32  # test tasks whose full sensitivity vectors are kept for the scatter plot


def _tasks(cfg: MesaGDConfig, n: int, seed: int, *keys: str | int) -> tuple[torch.Tensor, torch.Tensor]:
    """n tasks -> LSA tokens [n, N+1, d+1] and the query targets [n]."""
    b = sample_batch(n, cfg.n_context + 1, cfg.d, generator(seed, *keys), cfg.x_dist, cfg.noise)
    return lsa_tokens(b.x, b.y), b.y[:, -1]


def _values(t: torch.Tensor) -> list[float]:
    return [float(f"{v:.6g}") for v in t.tolist()]


def job_lsa(ctx: JobContext) -> dict:
    cfg: MesaGDConfig = ctx.config
    seed, depth = ctx.args["seed"], ctx.args["depth"]
    tune_e, tune_y = _tasks(cfg, cfg.n_tune, seed, "tune")
    eta = tune_gd_rate(*split_lsa(tune_e), tune_y, depth)
    gd = A.gd_predictor(eta, depth)
    test_e, test_y = _tasks(cfg, cfg.n_test, seed, "test")
    curve_e, curve_y = _tasks(cfg, cfg.n_curve, seed, "curve")

    torch.manual_seed(seed * 1000 + depth)
    model = LSA(cfg.d, depth, cfg.init_scale / depth)
    untrained = A.compare(model, gd, test_e, test_y)

    def loss_at(step: int) -> torch.Tensor:
        e, y = _tasks(cfg, cfg.train.batch_size, seed, "train", step)
        return 0.5 * ((model(e) - y) ** 2).mean()

    def curve() -> dict:
        r = A.compare(model, gd, curve_e, curve_y)
        return {"model_cos": float(r["model_cos"].mean()), "loss": float(r["loss_a"].mean()),
                "gd_loss": float(r["loss_b"].mean())}

    history = train(model, loss_at, cfg.train, f"lsa-L{depth}", ctx, curve,
                    ckpt=ctx.ckpt_dir() / "train_state.safetensors")
    save_tensors(ctx.ckpt_dir() / "lsa.safetensors", dict(model.state_dict()), {"eta": str(eta)})

    vs_gd = A.compare(model, gd, test_e, test_y)
    vs_ls = A.compare(model, A.least_squares_predictor, test_e, test_y)
    construct = A.compare(LSA.gd(cfg.d, depth, eta), gd, test_e, test_y)
    ls_vs_gd = A.compare(A.least_squares_predictor, gd, test_e, test_y)
    few = test_e[:N_SENSITIVITY]
    return {
        "eta": eta,
        "history": history,
        "pathways": model.pathways(0),
        "test": {  # per test task, all on the same tasks (paired)
            "model_cos": _values(vs_gd["model_cos"]), "model_diff": _values(vs_gd["model_diff"]),
            "preds_diff": _values(vs_gd["preds_diff"]), "loss": _values(vs_gd["loss_a"]),
            "gd_loss": _values(vs_gd["loss_b"]), "model_cos_ls": _values(vs_ls["model_cos"]),
            "ls_loss": _values(vs_ls["loss_b"]), "ls_cos_gd": _values(ls_vs_gd["model_cos"]),
            "untrained_cos": _values(untrained["model_cos"]), "untrained_loss": _values(untrained["loss_a"]),
            "construct_cos": _values(construct["model_cos"]), "construct_preds_diff": _values(construct["preds_diff"]),
        },
        "sensitivity": {"model": A.query_sensitivity(model, few).detach().tolist(),
                        "gd": A.query_sensitivity(gd, few).tolist()},
    }
