"""AdamW, the warmup + cosine schedule, and the in-training checkpoint (model + optimizer + step) that lets
a killed job resume exactly where it stopped."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Protocol

import torch

from petridish.lm.substrate import LM
from petridish.runs import load_tensors, save_tensors


class Reporter(Protocol):
    """Where trainers send progress bars and metrics (a JobContext, or None)."""

    def progress(self, step: int, total: int, phase: str = "", **fields: float) -> None: ...
    def log(self, phase: str, step: int, **values) -> None: ...


def make_optimizer(lm: LM, lr: float, weight_decay: float) -> torch.optim.AdamW:
    params = lm.trainable_parameters()
    decay = [p for p in params if p.dim() >= 2]  # matrices decay; norms and biases do not
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def lr_at(step: int, total: int, lr: float, warmup: int, min_frac: float) -> float:
    """Linear warmup, then cosine decay to min_frac * lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return lr * (min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def step_generator(seed: int, step: int) -> torch.Generator:
    """The RNG for one training step, a function of (seed, step) only, so a resumed run draws the same batches."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step * 7_919) % (2**63 - 1))


def save_train_state(path: Path, lm: LM, opt: torch.optim.Optimizer, step: int, history: list[dict]) -> None:
    tensors = {f"model.{k}": v for k, v in lm.state_tensors().items()}
    params = [p for g in opt.param_groups for p in g["params"]]
    for i, p in enumerate(params):
        for k, v in opt.state.get(p, {}).items():
            tensors[f"opt.{i}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
    save_tensors(path, tensors, {"step": str(step), "history": json.dumps(history)})


def load_train_state(path: Path, lm: LM, opt: torch.optim.Optimizer) -> tuple[int, list[dict]]:
    from safetensors import safe_open

    tensors = load_tensors(path)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    lm.load_state_tensors({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    params = [p for g in opt.param_groups for p in g["params"]]
    for key, v in tensors.items():
        if key.startswith("opt."):
            _, i, name = key.split(".", 2)
            opt.state[params[int(i)]][name] = v.to(params[int(i)].device)
    return int(meta["step"]), json.loads(meta["history"])
