"""The mesa-pseudo-alignment job: for one seed and task count M, pretrain a small transformer on sequences whose
tasks come from M fixed vectors (or fresh ones, M = infinity), then score it sequence by sequence on seen tasks
(the pretraining pool) and unseen tasks (N(0, I)) against ridge and dMMSE in closed form."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from petridish.icl.baselines import dmmse_prefix, ridge_prefix
from petridish.icl.data import Batch, generator, sample_batch, sample_tasks
from petridish.icl.train import train
from petridish.icl.transformer import ICLTransformer
from petridish.jobs import JobContext
from petridish.organisms.mesa_pseudo_alignment.config import MesaPAConfig
from petridish.runs import save_tensors

INTENDED = 0  # the `m` of the M = infinity arm (a fresh task for every sequence)


def job_key(seed: int, m: int) -> str:
    return f"s{seed}/M{m}" if m != INTENDED else f"s{seed}/Minf"


def _values(t: torch.Tensor) -> list[float]:
    return [float(f"{v:.6g}") for v in t.tolist()]


@dataclass
class TestSet:
    """Held-out sequences with their ridge and dMMSE predictions, computed once."""

    b: Batch
    ref: dict[str, torch.Tensor]  # baseline name -> predictions [B, K]
    d: int

    @classmethod
    def draw(cls, b: Batch, pool: torch.Tensor, cfg: MesaPAConfig) -> TestSet:
        return cls(b, {"ridge": ridge_prefix(b.x, b.y, cfg.noise**2), "dmmse": dmmse_prefix(b.x, b.y, pool, cfg.noise)},
                   cfg.d)

    def head(self, n: int) -> TestSet:
        return TestSet(Batch(self.b.x[:n], self.b.y[:n], self.b.w[:n]), {k: v[:n] for k, v in self.ref.items()},
                       self.d)

    def score(self, model: ICLTransformer) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Per-sequence [B] values, each averaged over the K positions (squared errors of the model and of the
        baselines; the model's squared distance to each baseline's predictions, / d), and the model's error by
        position [K]."""
        with torch.no_grad():
            pred = model(self.b.x, self.b.y)  # [B, K]
        out = {"err": ((pred - self.b.y) ** 2).mean(1)}
        for name, ref in self.ref.items():
            out[f"{name}_err"] = ((ref - self.b.y) ** 2).mean(1)
            out[f"d_{name}"] = ((pred - ref) ** 2).mean(1) / self.d
        return out, ((pred - self.b.y) ** 2).mean(0)


def job_transformer(ctx: JobContext) -> dict:
    cfg: MesaPAConfig = ctx.config
    seed, m = ctx.args["seed"], ctx.args["m"]
    pools = sample_tasks(cfg.task_counts[-1], cfg.d, generator(seed, "pool"))  # nested: pool M = first M rows
    pool = pools[:m] if m != INTENDED else None
    # The M = infinity arm has no pool of its own: its dMMSE reference on unseen tasks is the largest pool's, and
    # its "seen" tasks are the smallest pool's (the negative control for the seen/unseen gap).
    ref_pool = pool if pool is not None else pools
    seen_pool = pool if pool is not None else pools[: cfg.task_counts[0]]
    unseen = TestSet.draw(sample_batch(cfg.n_eval, cfg.k, cfg.d, generator(seed, "unseen"), "normal", cfg.noise),
                          ref_pool, cfg)
    seen = TestSet.draw(sample_batch(cfg.n_eval, cfg.k, cfg.d, generator(seed, "seen", len(seen_pool)), "normal",
                                     cfg.noise, seen_pool), seen_pool, cfg)
    curve_unseen, curve_seen = unseen.head(cfg.n_curve), seen.head(cfg.n_curve)

    torch.manual_seed(seed)  # the same initialisation for every M of a seed
    model = ICLTransformer(cfg.d, cfg.k, cfg.model.width, cfg.model.n_layers, cfg.model.n_heads, cfg.model.init_std)
    untrained = {k: float(v.mean()) for k, v in unseen.score(model)[0].items()}

    def loss_at(step: int) -> torch.Tensor:
        b = sample_batch(cfg.train.batch_size, cfg.k, cfg.d, generator(seed, "train", step), "normal", cfg.noise, pool)
        return ((model(b.x, b.y) - b.y) ** 2).mean()

    def curve() -> dict:
        u, s = curve_unseen.score(model)[0], curve_seen.score(model)[0]
        return {"unseen_err": float(u["err"].mean()), "seen_err": float(s["err"].mean()),
                "unseen_d_ridge": float(u["d_ridge"].mean()), "unseen_d_dmmse": float(u["d_dmmse"].mean())}

    history = train(model, loss_at, cfg.train, ctx.key.split("/")[1], ctx, curve,
                    ckpt=ctx.ckpt_dir() / "train_state.safetensors")
    save_tensors(ctx.ckpt_dir() / "model.safetensors", dict(model.state_dict()))
    final = {"unseen": unseen.score(model), "seen": seen.score(model)}
    return {
        "history": history,
        "untrained_unseen": untrained,
        "test": {dist: {k: _values(v) for k, v in per_seq.items()} for dist, (per_seq, _) in final.items()},
        "err_by_position": {dist: _values(by_pos) for dist, (_, by_pos) in final.items()},
        "baseline_err_by_position": {
            dist: {k: _values(((ref - t.b.y) ** 2).mean(0)) for k, ref in t.ref.items()}
            for dist, t in (("unseen", unseen), ("seen", seen))},
    }
