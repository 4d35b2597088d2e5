"""Named hook points (TransformerLens-style names) on any torch model, read through forward hooks.

A model names its hook points in two ways, both without changing its parameters (checkpoints stay loadable):
`HookPoint` modules placed in its forward pass (an identity: `x = self.hook_obs(x)`), found by module name; and
an optional `hook_aliases() -> {name: submodule path}` naming existing submodules whose output is the activation
(e.g. {"blocks.0.hook_post": "body.2"}). `capture` reads them without editing model code:

    with capture(agent, ["hook_obs", "blocks.1.hook_post"]) as acts:
        agent(obs)
    acts["blocks.1.hook_post"]  # [B, hidden], detached
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


class HookPoint(nn.Identity):
    """An identity module that marks a named activation in a model's forward pass."""


def _aliases(model: nn.Module) -> dict[str, str]:
    fn = getattr(model, "hook_aliases", None)
    return fn() if callable(fn) else {}


def hook_names(model: nn.Module) -> list[str]:
    """Every hook point name of the model: its HookPoint modules, then its aliases, in definition order."""
    points = [name for name, m in model.named_modules() if isinstance(m, HookPoint)]
    return points + [a for a in _aliases(model) if a not in points]


def _module(model: nn.Module, name: str) -> nn.Module:
    aliases = _aliases(model)
    if name not in aliases and name not in hook_names(model):
        raise KeyError(f"no hook point '{name}'; this model has: {', '.join(hook_names(model))}")
    return model.get_submodule(aliases.get(name, name))


@contextlib.contextmanager
def capture(model: nn.Module, names: list[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Record the named activations of every forward pass inside the block (the last pass wins), detached."""
    acts: dict[str, torch.Tensor] = {}
    handles = []
    for name in names:
        def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor, name: str = name) -> None:
            acts[name] = output.detach()

        handles.append(_module(model, name).register_forward_hook(hook))
    try:
        yield acts
    finally:
        for h in handles:
            h.remove()
