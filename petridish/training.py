"""What every training loop shares, whatever the substrate: where progress goes, the learning-rate schedule, and
the per-step RNG that makes a resumed run draw the same batches as an uninterrupted one."""

from __future__ import annotations

import math
from typing import Protocol

import torch


class Reporter(Protocol):
    """Where trainers send progress bars and metrics (a JobContext, or None)."""

    def progress(self, step: int, total: int, phase: str = "", **fields: float) -> None: ...
    def log(self, phase: str, step: int, **values) -> None: ...


def lr_at(step: int, total: int, lr: float, warmup: int, min_frac: float) -> float:
    """Linear warmup, then cosine decay to min_frac * lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return lr * (min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def step_generator(seed: int, step: int) -> torch.Generator:
    """The RNG for one training step, a function of (seed, step) only, so a resumed run draws the same batches."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step * 7_919) % (2**63 - 1))
