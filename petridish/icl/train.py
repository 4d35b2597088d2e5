"""The training loop of the icl substrate: a fresh batch of tasks every step (the data stream is infinite), Adam,
linear warmup then cosine decay, and an eval callback along the way.

Batches are a function of (seed, step) only, so a job killed mid-training and resumed from its in-training
checkpoint (petridish.training.TrainState) reproduces the uninterrupted run exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import Field

from petridish.config import Strict
from petridish.training import Reporter, Schedule, Step, TrainState, fit, lr_at


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
    ckpt_every: int = Field(default=500, ge=0)
    """Save model + optimizer + step every this many steps so a killed job resumes (0: never)."""


def train(
    model: torch.nn.Module,
    loss_at: Callable[[int], torch.Tensor],
    cfg: TrainConfig,
    phase: str,
    reporter: Reporter | None = None,
    eval_fn: Callable[[], dict] | None = None,
    ckpt: Path | None = None,
) -> list[dict]:
    """Train `model` in place on loss_at(step) (which draws that step's batch, a function of the step alone, so a
    run resumed from `ckpt` sees the same batches); return the eval history."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, cfg.beta2))

    def step(i: int) -> Step:
        loss = loss_at(i)
        return Step(loss, {"loss": loss.item()}, {})

    def evaluate(_: int) -> dict:
        model.eval()
        rec = eval_fn() if eval_fn is not None else {}
        model.train()
        return rec

    model.train()
    state = None if ckpt is None else TrainState(ckpt, opt, lambda: dict(model.state_dict()), model.load_state_dict)
    history = fit(step, opt, list(model.parameters()),
                  lambda i: lr_at(i, cfg.steps, cfg.lr, cfg.warmup, cfg.min_lr_frac), cfg.grad_clip,
                  Schedule(cfg.steps, cfg.eval_every, ckpt_every=cfg.ckpt_every), phase, reporter,
                  evaluate if eval_fn is not None else None, state)
    model.eval()
    return history
