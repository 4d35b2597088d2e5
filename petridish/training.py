"""What every training loop shares, whatever the substrate: where progress goes, the learning-rate schedule, the
per-step RNG that makes a resumed run draw the same batches as an uninterrupted one, the in-training checkpoint,
and the loop itself (`fit`), which the SFT, LM RL, ICL and PPO trainers each call with their own step."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
from safetensors import safe_open

from petridish.runs import load_tensors, save_tensors


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


# --- the loop ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """What one optimizer step reports: the loss to backpropagate, the progress bar's fields, the logged ones (a
    seed-batched step gives each field as a list, one value per seed)."""

    loss: torch.Tensor
    shown: dict[str, float] | dict[str, list[float]]
    logged: dict[str, float] | dict[str, list[float]]


@dataclass(frozen=True)
class Schedule:
    """When the loop evaluates (before training, every `eval_every` steps and at `eval_at`, after training), logs
    (every `log_every` steps and at the end; 0: never) and writes its in-training checkpoint."""

    steps: int
    eval_every: int = 0
    eval_at: tuple[int, ...] = ()
    log_every: int = 0
    ckpt_every: int = 0


class TrainState:
    """The in-training checkpoint of any trainer: model tensors, the optimizer's moments, the step and the eval
    history, in one safetensors file, so a killed job resumes exactly where it stopped. `meta` / `load_meta` carry
    a trainer's own string state (PPO: its training curve, the environment's RNG) in the file's metadata."""

    def __init__(self, path: Path, opt: torch.optim.Optimizer, tensors: Callable[[], dict[str, torch.Tensor]],
                 load: Callable[[dict[str, torch.Tensor]], None], meta: Callable[[], dict[str, str]] | None = None,
                 load_meta: Callable[[dict[str, str]], None] | None = None) -> None:
        self.path, self.opt, self.tensors, self.load_model = path, opt, tensors, load
        self.meta, self.load_meta = meta, load_meta

    def _params(self) -> list[torch.Tensor]:
        return [p for g in self.opt.param_groups for p in g["params"]]

    def save(self, step: int, history: list[dict]) -> None:
        out = {f"model.{k}": v for k, v in self.tensors().items()}
        for i, p in enumerate(self._params()):
            for k, v in self.opt.state.get(p, {}).items():
                out[f"opt.{i}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
        extra = self.meta() if self.meta is not None else {}
        save_tensors(self.path, out, {**extra, "step": str(step), "history": json.dumps(history)})

    def load(self) -> tuple[int, list[dict]]:
        tensors = load_tensors(self.path)
        with safe_open(str(self.path), "pt") as f:
            meta = f.metadata()
        if self.load_meta is not None:
            self.load_meta(meta)
        self.load_model({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        params = self._params()
        for key, v in tensors.items():
            if key.startswith("opt."):
                _, i, name = key.split(".", 2)
                self.opt.state[params[int(i)]][name] = v.to(params[int(i)].device)
        return int(meta["step"]), json.loads(meta["history"])


def fit(step_fn: Callable[[int], Step], opt: torch.optim.Optimizer, params: list[torch.Tensor],
        lr: Callable[[int], float], grad_clip: float, when: Schedule, phase: str, reporter: Reporter | None = None,
        evaluate: Callable[[int], dict] | None = None, state: TrainState | None = None,
        clip: Callable[[list[torch.Tensor], float], object] = torch.nn.utils.clip_grad_norm_) -> list[dict]:
    """The training loop every trainer shares (SFT, LM RL, ICL, PPO): resume from `state`, then per step set the
    learning rate, backpropagate step_fn(step).loss, clip(params, grad_clip), step; report progress, log, evaluate
    and checkpoint on `when`. Returns the eval history [{"step": s, **evaluate(s)}]; a finished loop deletes its
    checkpoint. A seed-batched trainer (petridish.lm.batched) passes a per-seed `clip`."""
    start, history = 0, []
    if state is not None and state.path.exists():
        start, history = state.load()

    def record(step: int) -> None:
        if evaluate is not None:
            history.append({"step": step, **evaluate(step)})
            if reporter:
                reporter.log(phase, step, **{k: v for k, v in history[-1].items() if k != "step"})

    if start == 0:
        record(0)
    for step in range(start, when.steps):
        out = step_fn(step)
        for g in opt.param_groups:
            g["lr"] = lr(step)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        clip(params, grad_clip)
        opt.step()
        done = step + 1
        if reporter:
            reporter.progress(done, when.steps, phase, **out.shown)
            if when.log_every and (done % when.log_every == 0 or done == when.steps):
                reporter.log(phase, done, **out.logged)
        if (when.eval_every and done % when.eval_every == 0 or done in when.eval_at) and done < when.steps:
            record(done)
        if state is not None and when.ckpt_every and done % when.ckpt_every == 0 and done < when.steps:
            state.save(done, history)
    if when.steps > 0 and not (history and history[-1]["step"] == when.steps):
        record(when.steps)
    if state is not None:
        state.path.unlink(missing_ok=True)
    return history
