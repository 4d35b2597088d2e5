"""Named hook points (TransformerLens-style): read activations at any named point of a model.

STAND-IN until branch matrix-rl commits the shared version of this file (same API): a hook point is a submodule
whose name is its path in the model (e.g. `blocks.0.hook_resid_post`) and whose output is the activation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn as nn


def hook_names(model: nn.Module) -> list[str]:
    """Every named hook point of the model, in forward order of registration."""
    return [name for name, m in model.named_modules() if name.rsplit(".", 1)[-1].startswith("hook_")]


@contextmanager
def capture(model: nn.Module, names: list[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Within the block, every forward pass stores the output of each named point into the yielded dict."""
    known = set(hook_names(model))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"no hook point {unknown[0]!r}; this model has {sorted(known)[:8]}...")
    out: dict[str, torch.Tensor] = {}
    handles = []
    for name in names:
        def store(module: nn.Module, args: tuple, output: torch.Tensor, name: str = name) -> None:
            out[name] = output.detach()
        handles.append(model.get_submodule(name).register_forward_hook(store))
    try:
        yield out
    finally:
        for h in handles:
            h.remove()
