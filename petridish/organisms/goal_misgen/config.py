"""Configs and budgets of the goal-misgeneralization organisms. Field defaults are the `default` budget;
hyperparameters were chosen on development seeds 0-99 (see the README), verdicts use seeds 1000+."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from petridish.config import Probability, RunBase, Strict
from petridish.rl.ppo import PPOConfig


class MazeParams(Strict):
    size: int = Field(default=7, ge=3)
    """Interior side of the maze (the grid adds a wall border)."""
    density: float = Field(default=0.1, ge=0, lt=0.6)
    """Probability that an interior cell is a wall block (levels are kept only if BFS-solvable)."""
    corner: int = Field(default=1, ge=1)
    """Side of the top-right corner region where the cheese sits in proxy-consistent training levels (the proxy)."""


class CorridorParams(Strict):
    height: int = Field(default=4, ge=1)
    """Rows of the corridor."""
    length: int = Field(default=10, ge=4)
    """Columns of the corridor; the agent starts in the first, the proxy is the last."""
    lava: float = Field(default=0.08, ge=0, lt=0.5)
    """Probability that a middle cell is lava (death: the episode ends with 0 reward)."""
    blocks: float = Field(default=0.1, ge=0, lt=0.5)
    """Probability that a middle cell is a wall block."""
    view: int = Field(default=5, ge=1)
    """Columns visible either side of the agent (the camera follows the agent, as in CoinRun)."""


class GMGConfig(RunBase):
    alphas: list[Probability] = Field(default=[0.0, 0.01, 0.1, 1.0], min_length=2)
    """Probability that a training episode's goal is placed at random (a proxy-distinguishing level). The claims
    read the smallest (must be 0) and the largest (must be 1)."""
    n_levels: int = Field(default=10_000, ge=100)
    """Levels per training pool (proxy-consistent and randomised) and in the test pool before filtering."""
    level_seed: int = Field(default=0, ge=0)
    """Seed of the level pools (the same pools for every training seed; each seed's test levels are drawn from
    them with its own generator)."""
    test_levels: int = Field(default=1000, ge=10)
    """Held-out test levels where the goal is off every shortest path to the proxy, drawn per seed; one episode
    each."""
    onway_levels: int = Field(default=250, ge=0)
    """Held-out test levels where the goal lies on a shortest path to the proxy (reported separately)."""
    id_levels: int = Field(default=500, ge=10)
    """In-distribution levels (proxy-consistent training pool) for the capability reference."""
    greedy_eval: bool = True
    """Also evaluate the greedy policy (the claims use the sampled policy, as trained)."""
    ppo: PPOConfig = PPOConfig(total_steps=1_500_000, n_envs=128, n_steps=64, lr=1e-3, ent_coef=0.005, hidden=128)
    gif: bool = True
    """Write a GIF of a misgeneralizing test episode (alpha = 0 vs the largest alpha on the same level)."""

    def env_kwargs(self) -> dict:
        """Keyword arguments of the game's engine (its `env` section plus the level pools)."""
        return {**self.env.model_dump(), "n_levels": self.n_levels, "level_seed": self.level_seed}


class MazeConfig(GMGConfig):
    organism: Literal["goal-misgen-maze"] = "goal-misgen-maze"
    env: MazeParams = MazeParams()


class CoinConfig(GMGConfig):
    organism: Literal["goal-misgen-coin"] = "goal-misgen-coin"
    env: CorridorParams = CorridorParams()
    ppo: PPOConfig = PPOConfig(total_steps=1_500_000, n_envs=128, n_steps=64, lr=1e-3, ent_coef=0.005, hidden=64)


BUDGETS: dict[str, dict] = {
    "smoke": {
        "seeds": [1000, 1001], "alphas": [0.0, 1.0], "n_levels": 300, "test_levels": 40, "onway_levels": 10,
        "id_levels": 20, "ppo": {"total_steps": 4096, "n_envs": 16, "n_steps": 32, "log_every": 2},
    },
    "default": {"seeds": [1000, 1001, 1002, 1003, 1004]},  # ~1.5 CPU-minutes a seed and alpha: five seeds
    "full": {
        "seeds": list(range(1000, 1010)), "alphas": [0.0, 0.001, 0.01, 0.1, 1.0], "n_levels": 20_000,
        "test_levels": 2000, "onway_levels": 500, "ppo": {"total_steps": 3_000_000},
    },
}
