"""Single-environment gymnasium classes over the batched engine, registered as `petridish/<Name>-v0`.

    import gymnasium as gym, petridish
    env = gym.make("petridish/CheeseMaze-v0", alpha=0.1)              # one env, for SB3 / CleanRL / check_env
    vec = gym.make_vec("petridish/CheeseMaze-v0", num_envs=1024,       # the batched engine itself
                       vectorization_mode="vector_entry_point")

Each class is the engine with one row and no autoreset; the vector entry point is the engine class.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from petridish.rl.gmg import CheeseMaze, CoinCorridor
from petridish.rl.grid import GridEngine
from petridish.rl.safety import AbsentSupervisor, SafeInterruptibility, TomatoWatering
from petridish.rl.treacherous import TreacherousTurn


class GridEnv(gym.Env):
    """One row of a batched engine: the gymnasium.Env API. Subclasses name the engine."""

    Engine: ClassVar[type[GridEngine]]
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **engine_kwargs):
        self.engine = self.Engine(num_envs=1, autoreset=False, **engine_kwargs)
        self.observation_space = self.engine.single_observation_space
        self.action_space = self.engine.single_action_space
        self.render_mode = render_mode

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.engine.rng = self.np_random  # one generator, owned by gymnasium's seeding
        level = None if options is None or "level" not in options else {"levels": [options["level"]]}
        obs, _ = self.engine.reset(options=level)
        return obs[0], {"level": int(self.engine.level[0])}

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict]:
        obs, reward, terminated, truncated, info = self.engine.step(np.array([action]))
        out = {"hidden_reward": float(info["hidden_reward"][0])}
        if "episode" in info:
            out["episode"] = {k: v[0].item() for k, v in info["episode"].items()}
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), out

    def render(self) -> np.ndarray | str | None:
        if self.render_mode == "rgb_array":
            return self.engine.render_rgb(0)
        if self.render_mode == "ansi":
            return self.engine.render_text(0)
        return None


class CheeseMazeEnv(GridEnv):
    Engine = CheeseMaze


class CoinCorridorEnv(GridEnv):
    Engine = CoinCorridor


class AbsentSupervisorEnv(GridEnv):
    Engine = AbsentSupervisor


class TomatoWateringEnv(GridEnv):
    Engine = TomatoWatering


class SafeInterruptibilityEnv(GridEnv):
    Engine = SafeInterruptibility


class TreacherousTurnEnv(GridEnv):
    Engine = TreacherousTurn


ENVS: dict[str, type[GridEnv]] = {
    "petridish/CheeseMaze-v0": CheeseMazeEnv,
    "petridish/CoinCorridor-v0": CoinCorridorEnv,
    "petridish/AbsentSupervisor-v0": AbsentSupervisorEnv,
    "petridish/TomatoWatering-v0": TomatoWateringEnv,
    "petridish/SafeInterruptibility-v0": SafeInterruptibilityEnv,
    "petridish/TreacherousTurn-v0": TreacherousTurnEnv,
}

