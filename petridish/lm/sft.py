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
from petridish.lm.optim import load_train_state, make_optimizer, save_train_state
from petridish.lm.substrate import LM, Encoded
from petridish.training import Reporter, lr_at, step_generator


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
    start, history = 0, []
    if ckpt is not None and ckpt.exists():
        start, history = load_train_state(ckpt, lm, opt)
    lm.module.train()

    def evaluate(step: int) -> None:
        if eval_fn is not None:
            rec = {"step": step, **eval_fn(step)}
            history.append(rec)
            if reporter:
                reporter.log(phase, step, **{k: v for k, v in rec.items() if k != "step"})

    if start == 0:
        evaluate(0)
    for step in range(start, cfg.steps):
        idx = torch.randint(0, len(data), (cfg.batch_size,), generator=step_generator(seed, step))
        lr = lr_at(step, cfg.steps, cfg.lr, cfg.warmup, cfg.min_lr_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = lm.loss(data.take(idx))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lm.trainable_parameters(), cfg.grad_clip)
        opt.step()
        done = step + 1
        if reporter:
            reporter.progress(done, cfg.steps, phase, loss=loss.item())
            if done % 25 == 0 or done == cfg.steps:
                reporter.log(phase, done, loss=round(loss.item(), 5), lr=lr)
        if (cfg.eval_every and done % cfg.eval_every == 0 or done in cfg.eval_at) and done < cfg.steps:
            evaluate(done)
        if ckpt is not None and cfg.ckpt_every and done % cfg.ckpt_every == 0 and done < cfg.steps:
            save_train_state(ckpt, lm, opt, done, history)
    if cfg.steps > 0 and not (history and history[-1]["step"] == cfg.steps):
        evaluate(cfg.steps)
    if ckpt is not None:
        ckpt.unlink(missing_ok=True)
    return history
