"""The training loop of the icl substrate: a fresh batch of tasks every step (the data stream is infinite), Adam,
linear warmup then cosine decay, and an eval callback along the way.

Jobs here take seconds to a minute, so a killed job restarts from its beginning; batches are a function of
(seed, step) only, so the restart reproduces the uninterrupted run exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from pydantic import Field

from petridish.config import Strict
from petridish.training import Reporter, lr_at


class TrainConfig(Strict):
    steps: int = Field(default=2000, ge=0)
    """Optimizer steps, each on a freshly drawn batch."""
    batch_size: int = Field(default=256, ge=1)
    """Sequences (tasks) per step."""
    lr: float = Field(default=1e-3, gt=0)
    """Peak learning rate (Adam)."""
    beta2: float = Field(default=0.98, gt=0, lt=1)
    """Adam's second-moment decay (von Oswald et al. use 0.98)."""
    warmup: int = Field(default=0, ge=0)
    """Linear warmup steps."""
    min_lr_frac: float = Field(default=1.0, ge=0, le=1)
    """The cosine schedule ends at min_lr_frac * lr (1.0: constant rate after warmup)."""
    grad_clip: float = Field(default=1.0, gt=0)
    """Clip the global gradient norm to this."""
    eval_every: int = Field(default=0, ge=0)
    """Run the eval callback every this many steps (0: only before and after training)."""


def train(
    model: torch.nn.Module,
    loss_at: Callable[[int], torch.Tensor],
    cfg: TrainConfig,
    phase: str,
    reporter: Reporter | None = None,
    eval_fn: Callable[[], dict] | None = None,
) -> list[dict]:
    """Train `model` in place on loss_at(step) (which draws that step's batch); return the eval history."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2))
    history: list[dict] = []

    def evaluate(step: int) -> None:
        if eval_fn is not None:
            model.eval()
            history.append({"step": step, **eval_fn()})
            model.train()
            if reporter:
                reporter.log(phase, step, **{k: v for k, v in history[-1].items() if k != "step"})

    evaluate(0)
    model.train()
    for step in range(cfg.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg.steps, cfg.lr, cfg.warmup, cfg.min_lr_frac)
        loss = loss_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        done = step + 1
        if reporter:
            reporter.progress(done, cfg.steps, phase, loss=loss.item())
        if cfg.eval_every and done % cfg.eval_every == 0 and done < cfg.steps:
            evaluate(done)
    if cfg.steps > 0:
        evaluate(cfg.steps)
    model.eval()
    return history
