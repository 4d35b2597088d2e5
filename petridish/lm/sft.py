"""Supervised fine-tuning on prompt/completion pairs (prompt tokens masked).

Batches are drawn with a generator seeded by (seed, step), so a run resumed from its in-training checkpoint
sees exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import Field

from petridish.config import Strict
from petridish.lm.optim import make_optimizer, train_state
from petridish.lm.substrate import LM, Encoded
from petridish.training import Reporter, Schedule, Step, fit, lr_at, step_generator


class SFTConfig(Strict):
    steps: int = Field(default=500, ge=0)
    """Optimizer steps."""
    batch_size: int = Field(default=64, ge=1)
    """Sequences per step (drawn with replacement)."""
    lr: float = Field(default=1e-3, gt=0)
    """Peak learning rate (AdamW, betas 0.9/0.95)."""
    warmup: int = Field(default=20, ge=0)
    """Linear warmup steps before the cosine decay."""
    min_lr_frac: float = Field(default=0.1, ge=0, le=1)
    """The cosine schedule ends at min_lr_frac * lr."""
    weight_decay: float = Field(default=0.1, ge=0)
    grad_clip: float = Field(default=1.0, gt=0)
    """Clip the global gradient norm to this."""
    eval_every: int = Field(default=0, ge=0)
    """Run the eval callback every this many steps (0: only before and after training)."""
    eval_at: list[int] = []
    """Extra steps at which to run the eval callback (e.g. early points of a dose curve)."""
    ckpt_every: int = Field(default=200, ge=0)
    """Save model + optimizer + step every this many steps so a killed job resumes (0: never)."""


def train_sft(
    lm: LM,
    data: Encoded,
    cfg: SFTConfig,
    seed: int,
    phase: str,
    reporter: Reporter | None = None,
    eval_fn: Callable[[int], dict] | None = None,
    ckpt: Path | None = None,
) -> list[dict]:
    """Train `lm` in place; return the eval history [{"step": s, **eval_fn(s)}]."""
    opt = make_optimizer(lm, cfg.lr, cfg.weight_decay)
    lm.module.train()

    def step(i: int) -> Step:
        idx = torch.randint(0, len(data), (cfg.batch_size,), generator=step_generator(seed, i))
        loss = lm.loss(data.take(idx))
        return Step(loss, {"loss": loss.item()}, {"loss": round(loss.item(), 5), "lr": lr(i)})

    def lr(i: int) -> float:
        return lr_at(i, cfg.steps, cfg.lr, cfg.warmup, cfg.min_lr_frac)

    when = Schedule(cfg.steps, cfg.eval_every, tuple(cfg.eval_at), log_every=25, ckpt_every=cfg.ckpt_every)
    return fit(step, opt, lm.trainable_parameters(), lr, cfg.grad_clip, when, phase, reporter, eval_fn,
               None if ckpt is None else train_state(ckpt, lm, opt))
