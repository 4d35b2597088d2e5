"""The mesa-gd organism's config and budgets. Thresholds of its claims live in `claims.py`, fixed in code.

Hyperparameters (learning rate, batch, steps) were chosen on development seeds 0-3; verdicts use seeds 1000+.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from petridish.config import RunBase
from petridish.icl.data import XDist
from petridish.icl.train import TrainConfig


class MesaGDConfig(RunBase):
    organism: Literal["mesa-gd"] = "mesa-gd"
    d: int = Field(default=10, ge=1)
    """Input dimension of the regression tasks (von Oswald et al.: 10)."""
    n_context: int = Field(default=10, ge=1)
    """In-context (x, y) pairs before the query (von Oswald et al.: 10)."""
    x_dist: XDist = "uniform"
    """Inputs: `uniform` U(-1, 1)^d as in the paper, or `normal` N(0, I)."""
    noise: float = Field(default=0.0, ge=0)
    """Std of label noise (the paper: 0). Spoonfeeding switch: noise-free targets make GD's fixed point exact."""
    depths: list[int] = Field(default=[1, 2, 3], min_length=1)
    """LSA stacks to train; depth L is compared with L steps of GD. Depth 1 carries claim M1."""
    init_scale: float = Field(default=0.002, gt=0)
    """Std of the initial weights, divided by the depth (von Oswald et al.)."""
    train: TrainConfig = TrainConfig(steps=1500, batch_size=256, lr=3e-3, beta2=0.98, warmup=0, min_lr_frac=0.1,
                                     eval_every=75)
    n_test: int = Field(default=2048, ge=200)
    """Held-out test tasks per seed and depth (the assay's evaluation cases)."""
    n_tune: int = Field(default=8192, ge=100)
    """Tasks from the training distribution on which the GD learning rate is line-searched (not the test set)."""
    n_curve: int = Field(default=512, ge=10)
    """Tasks for the training curves (model cos and losses along training)."""


BUDGETS: dict[str, dict] = {
    "smoke": {
        "seeds": [1000, 1001],
        "depths": [1, 2],
        "train": {"steps": 40, "eval_every": 20},
        "n_test": 200, "n_tune": 512, "n_curve": 64,
    },
    # M1b is a fraction of seeds: at 10 seeds M1 and M1b were undecided, the power estimates said ~14 and ~25
    # would decide them (~30 CPU-s a seed; issue 22)
    "default": {"seeds": list(range(1000, 1025))},
    "full": {
        "seeds": [1000, 1001, 1002, 1003, 1004],
        "depths": [1, 2, 3, 4],
        "train": {"steps": 6000, "batch_size": 512, "eval_every": 200},
        "n_test": 4096,
    },
}
