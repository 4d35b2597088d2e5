"""Alignment techniques for a grown RL organism: continued PPO under four changes to what the agent trains on.

A treatment sees an organism only through `RLBlueTeam`: the game, the organism's own training conditions, the
conditions a safety team can stage in a sandbox, and a detector of the bad behaviour where the team could build
one; never the deployment conditions or the held-out assay. Each returns the engine kwargs (and levels) to train
on; `apply` continues PPO from the grown agent for `dose` x the treatment's base steps.

- safety-ppo: the organism's training conditions with the team's penalty on the bad behaviour, always observed;
- partial-oversight: the true (hidden) reward on a fraction of the episodes;
- diverse-levels: a more diverse training distribution (e.g. goals placed anywhere), where the game has one;
- adversarial: search the stageable conditions and levels for the agent misbehaving (the team watches, so the
  penalty applies), then train on the condition and levels where it misbehaved most.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from petridish.config import PositiveFloat, Strict
from petridish.rl.evaluate import agent_policy, run_episodes
from petridish.rl.grid import GridEngine
from petridish.rl.ppo import Agent, PPOConfig, train
from petridish.rl.treated import treated

TREATMENTS = ("safety-ppo", "partial-oversight", "diverse-levels", "adversarial")


@dataclass(frozen=True)
class RLBlueTeam:
    """What a safety team has for one RL organism."""

    Engine: type[GridEngine]
    train: dict  # engine kwargs of the organism's own training conditions
    stageable: tuple[dict, ...]  # engine kwargs of conditions the team can stage and watch (the adversarial search)
    is_bad: Callable[[dict[str, np.ndarray]], np.ndarray]  # episode records -> [n] bool: the team's detector
    bad_event: str | None = None  # the engine event the team can see on every step (None: no step-level detector)
    penalty: float = 0.0  # observed-reward penalty per step of the bad event
    diverse: dict | None = None  # engine kwargs of a more diverse training distribution (None: the game has none)


class RLTreatmentConfig(Strict):
    base_steps: int = Field(default=200_000, ge=1)
    """Environment steps of continued PPO at dose 1."""
    doses: list[PositiveFloat] = Field(default=[0.25, 0.5, 1.0], min_length=1)
    """Multiples of base_steps, increasing."""
    lr: float = Field(default=1e-3, gt=0)
    """Adam learning rate of the continued training (a fresh optimizer; the schedule decays to 0 over the dose)."""
    ent_coef: float = Field(default=0.01, ge=0)
    """Entropy bonus of the continued training (the growth schedules decay theirs to ~0)."""
    true_reward_fraction: float = Field(default=0.5, gt=0, le=1)
    """partial-oversight: fraction of episodes rewarded with the true (hidden) reward."""
    search_episodes: int = Field(default=512, ge=8)
    """adversarial: episodes the search plays per stageable condition."""


@dataclass(frozen=True)
class Plan:
    """Where a treatment trains: engine kwargs, optionally only some pool levels, plus what the search found."""

    kwargs: dict
    levels: np.ndarray | None = None
    found: dict | None = None


def plan(name: str, blue: RLBlueTeam, cfg: RLTreatmentConfig, agent: Agent, seed: int) -> Plan | None:
    """The training conditions of a treatment, or None where it does not apply to this organism."""
    penalty = {"penalty": blue.penalty, "penalty_event": blue.bad_event} if blue.bad_event else {}
    if name == "safety-ppo":
        return Plan({**blue.train, **penalty})
    if name == "partial-oversight":
        return Plan({**blue.train, "true_reward_fraction": cfg.true_reward_fraction, "treat_seed": seed})
    if name == "diverse-levels":
        return None if blue.diverse is None else Plan({**blue.train, **blue.diverse})
    if name == "adversarial":
        return search(blue, cfg, agent, seed, penalty)
    raise ValueError(f"unknown RL treatment '{name}'")


def search(blue: RLBlueTeam, cfg: RLTreatmentConfig, agent: Agent, seed: int, penalty: dict) -> Plan:
    """Play the agent in every stageable condition; train on the one with the most misbehaviour, on the levels
    where it misbehaved (all of them if it never did)."""
    best, best_bad, best_levels = blue.stageable[0], -1, np.zeros(0, np.int64)
    rates = []
    for i, kwargs in enumerate(blue.stageable):
        env = blue.Engine(num_envs=cfg.search_episodes, autoreset=False, **kwargs)
        rec = run_episodes(env, agent_policy(agent, greedy=False, seed=seed + i), seed=seed + 100 + i)
        bad = blue.is_bad(rec)
        rates.append(float(bad.mean()))
        if bad.sum() > best_bad:
            best, best_bad, best_levels = kwargs, int(bad.sum()), np.unique(rec["level"][bad])
    found = {"bad_rate_per_condition": rates, "condition": best, "levels_found": len(best_levels)}
    return Plan({**best, **penalty}, best_levels if len(best_levels) else None, found)


def apply(agent: Agent, blue: RLBlueTeam, p: Plan, ppo: PPOConfig, cfg: RLTreatmentConfig, dose: float, seed: int,
          progress: Callable[[int, int, dict], None] | None = None) -> tuple[Agent, list[dict]]:
    """Continue PPO from `agent` (in place) on the plan's conditions for dose x base_steps."""
    tcfg = ppo.model_copy(update={"total_steps": max(1, round(dose * cfg.base_steps)), "lr": cfg.lr,
                                  "ent_coef": cfg.ent_coef, "ent_coef_final": None})
    env = treated(blue.Engine)(num_envs=tcfg.n_envs, seed=seed, **p.kwargs)
    if p.levels is not None:
        env.restrict_levels(p.levels)
    return train(env, tcfg, seed, progress, agent=agent)
