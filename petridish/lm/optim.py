"""AdamW over an LM's trainable parameters, and its in-training checkpoint (petridish.training.TrainState)."""

from __future__ import annotations

from pathlib import Path

import torch

from petridish.lm.substrate import LM
from petridish.training import TrainState


def make_optimizer(lm: LM, lr: float, weight_decay: float) -> torch.optim.AdamW:
    params = lm.trainable_parameters()
    decay = [p for p in params if p.dim() >= 2]  # matrices decay; norms and biases do not
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def train_state(path: Path, lm: LM, opt: torch.optim.Optimizer) -> TrainState:
    """The LM's in-training checkpoint (its trainable state and the optimizer's moments) at `path`."""
    return TrainState(path, opt, lm.state_tensors, lm.load_state_tensors)
