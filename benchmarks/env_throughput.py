"""Throughput of the RL substrate: the batched engine vs a per-environment Python loop, and PPO end to end.

    python benchmarks/env_throughput.py [--quick]

Prints one JSON line:
  env_steps_per_s           CheeseMaze (goal-misgen-maze default level parameters), 1,024 rows of the batched
                            engine, random actions, observations built every step, same-step autoreset
  per_env_loop_steps_per_s  the same 1,024 environments as single gymnasium.Envs stepped by gymnasium's
                            SyncVectorEnv (a Python loop over environments), random actions
  ppo_steps_per_s           PPO with the goal-misgen-maze default config (MLP, 128 envs x 64 steps, 4 epochs),
                            rollout + update, one torch thread; ..._threads2 is the same with two torch threads
Targets (issue 5): >= 1M env steps/s at 1,024 envs; PPO >= 10k env steps/s.
"""

from __future__ import annotations

import json
import sys
import time

import gymnasium as gym
import numpy as np
import torch

import petridish.rl  # noqa: F401 (registers the environment ids)
from petridish.organisms.goal_misgen.config import MazeConfig
from petridish.rl.envs import CheeseMazeEnv
from petridish.rl.gmg import CheeseMaze
from petridish.rl.ppo import train

N_ENVS = 1024


def batched(env_kwargs: dict, seconds: float) -> float:
    env = CheeseMaze(num_envs=N_ENVS, seed=0, **env_kwargs)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        env.step(rng.integers(0, 4, size=N_ENVS))
        steps += N_ENVS
    return steps / (time.perf_counter() - t0)


def per_env_loop(env_kwargs: dict, seconds: float) -> float:
    envs = gym.vector.SyncVectorEnv([lambda: CheeseMazeEnv(**env_kwargs) for _ in range(N_ENVS)])
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        envs.step(rng.integers(0, 4, size=N_ENVS))
        steps += N_ENVS
    return steps / (time.perf_counter() - t0)


def ppo(cfg: MazeConfig, steps: int, threads: int) -> float:
    torch.set_num_threads(threads)
    ppo_cfg = cfg.ppo.model_copy(update={"total_steps": steps, "log_every": 10**9})
    env = CheeseMaze(num_envs=ppo_cfg.n_envs, seed=0, **cfg.env_kwargs())
    t0 = time.perf_counter()
    train(env, ppo_cfg, seed=0)
    return ppo_cfg.total_steps // (ppo_cfg.n_envs * ppo_cfg.n_steps) * ppo_cfg.n_envs * ppo_cfg.n_steps \
        / (time.perf_counter() - t0)


def main() -> None:
    quick = "--quick" in sys.argv
    cfg = MazeConfig()
    env_kwargs = cfg.env_kwargs()
    CheeseMaze(num_envs=1, **env_kwargs)  # build (and cache) the level pools outside the timed sections
    seconds = 1.0 if quick else 5.0
    ppo_steps = 65_536 if quick else 400_000
    out = {
        "env_steps_per_s": round(batched(env_kwargs, seconds)),
        "n_envs": N_ENVS,
        "per_env_loop_steps_per_s": round(per_env_loop(env_kwargs, seconds)),
        "ppo_steps_per_s": round(ppo(cfg, ppo_steps, threads=1)),
        "ppo_steps_per_s_threads2": round(ppo(cfg, ppo_steps, threads=2)),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
