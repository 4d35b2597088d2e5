"""AdamW and the in-training checkpoint (model + optimizer + step) that lets
a killed job resume exactly where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from petridish.lm.substrate import LM
from petridish.runs import load_tensors, save_tensors


def make_optimizer(lm: LM, lr: float, weight_decay: float) -> torch.optim.AdamW:
    params = lm.trainable_parameters()
    decay = [p for p in params if p.dim() >= 2]  # matrices decay; norms and biases do not
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


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
