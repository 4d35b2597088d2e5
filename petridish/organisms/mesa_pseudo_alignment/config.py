"""The mesa-pseudo-alignment organism's config and budgets. Thresholds of its claims live in `claims.py`.

Hyperparameters (learning rate, batch, steps, token layout, init) were chosen on development seeds 0-3;
verdicts use seeds 1000+. The training budget moves the threshold: short training leaves models in their early
ridge-like phase at task counts where long training would make them memorise (Carroll et al. 2025, "transient
ridge").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from petridish.config import RunBase, Strict
from petridish.icl.train import TrainConfig


class ModelConfig(Strict):
    width: int = Field(default=64, ge=8)
    n_layers: int = Field(default=2, ge=1)
    n_heads: int = Field(default=2, ge=1)
    init_std: float = Field(default=0.05, gt=0)
    """Std of the initial weights (GPT-2: 0.02). In-context regression starts on a loss plateau (a saddle of the
    products of attention weights) whose length shrinks as the initial weights grow: at 0.02 one verdict seed of the
    first default run was still on it after 800 steps; at 0.05, 4 of 4 development seeds left it within 75 steps."""

    @model_validator(mode="after")
    def _heads_divide_width(self) -> ModelConfig:
        if self.width % self.n_heads:
            raise ValueError(f"n_heads {self.n_heads} does not divide width {self.width}; choose a divisor of width")
        return self


class MesaPAConfig(RunBase):
    organism: Literal["mesa-pseudo-alignment"] = "mesa-pseudo-alignment"
    d: int = Field(default=8, ge=1)
    """Task dimension (Raventós et al.: 8)."""
    k: int = Field(default=16, ge=2)
    """(x, y) pairs per sequence; the model predicts each y from the pairs before it (Raventós et al.: 16)."""
    noise: float = Field(default=0.5, gt=0)
    """Label noise std (Raventós et al.: 0.5); ridge's lambda is noise^2 and dMMSE's likelihood uses it."""
    task_counts: list[int] = Field(default=[2, 4, 8, 16, 64, 1024], min_length=2)
    """The task-diversity sweep: M pretraining tasks (nested: each pool is the first M of one draw per seed)."""
    intended: bool = True
    """Also train on the intended distribution (a fresh task every sequence, M = infinity): the positive control,
    and, scored on the smallest pool's tasks, the negative control for the seen/unseen gap."""
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig(steps=800, batch_size=64, lr=3e-3, beta2=0.98, warmup=40, min_lr_frac=0.1,
                                     eval_every=100)
    n_eval: int = Field(default=512, ge=200)
    """Held-out sequences per test distribution (seen tasks, unseen tasks) per seed and M."""
    n_curve: int = Field(default=128, ge=10)
    """Sequences per distribution for the training curves."""

    @field_validator("task_counts")
    @classmethod
    def _ascending(cls, v: list[int]) -> list[int]:
        if any(m < 1 for m in v) or sorted(set(v)) != v:
            raise ValueError("task_counts must be distinct positive integers in ascending order")
        return v


BUDGETS: dict[str, dict] = {
    "smoke": {
        "seeds": [1000, 1001],
        "task_counts": [2, 16],
        "train": {"steps": 20, "warmup": 2, "eval_every": 10},
        "n_eval": 200, "n_curve": 32,
    },
    "default": {"seeds": [1000, 1001, 1002, 1003, 1004]},  # ~3 CPU-minutes a seed: five seeds
    "full": {  # ~2-3 hours on a 2-core CPU (estimated from the per-step cost, not measured)
        "seeds": [1000, 1001, 1002, 1003, 1004],
        "task_counts": [2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096],
        "train": {"steps": 6000, "warmup": 300, "eval_every": 500},
        "n_eval": 1024,
    },
}
