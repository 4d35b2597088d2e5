"""Running policies for exactly one episode per environment row, and the scripted calibration policies.

A policy is `policy(obs [n, C, H, W], env) -> actions [n]`; it gets the engine too, so scripted policies can read
the true state (position, the level's BFS distance maps) while learned ones use only the observation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from petridish.rl.grid import GridEngine
from petridish.rl.levels import greedy_step
from petridish.rl.ppo import Agent

Policy = Callable[[np.ndarray, GridEngine], np.ndarray]


def run_episodes(env: GridEngine, policy: Policy, levels: np.ndarray | None = None,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """One episode in every row of `env` (built with autoreset=False), on pinned levels if given.
    Returns the engine's episode records, one entry per row."""
    assert not env.autoreset, "evaluation needs an engine built with autoreset=False"
    obs, _ = env.reset(seed=seed, options=None if levels is None else {"levels": levels})
    records: dict[str, np.ndarray] = {}
    finished = np.zeros(env.num_envs, bool)
    while not finished.all():
        obs, _, _, _, info = env.step(policy(obs, env))
        if "episode" in info:
            new = info["_episode"] & ~finished
            for k, v in info["episode"].items():
                records.setdefault(k, np.zeros_like(v))[new] = v[new]
            finished |= new
    return records


def agent_policy(agent: Agent, greedy: bool, seed: int = 0) -> Policy:
    """A trained agent's policy: sampled (with its own seeded generator) or greedy."""
    gen = torch.Generator().manual_seed(seed)
    return lambda obs, env: agent.act(obs, greedy, gen)


def random_policy(seed: int = 0) -> Policy:
    rng = np.random.default_rng(seed)
    return lambda obs, env: rng.integers(0, env.single_action_space.n, size=env.num_envs)


def bfs_policy(dist_map: str) -> Policy:
    """Walk a shortest path to the target whose distance map the level pool stores (e.g. `dist_goal`)."""
    return lambda obs, env: greedy_step(env.pool.maps[dist_map][env.level], env.pos)
