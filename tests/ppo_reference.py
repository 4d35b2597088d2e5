"""Short PPO runs whose metrics and final weights are stored (tests/data/ppo_reference.json, written on main before
PPO moved onto petridish.training.fit): `python tests/ppo_reference.py` rewrites the file."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from petridish.rl.gmg import CheeseMaze, CoinCorridor
from petridish.rl.ppo import PPOConfig, train
from petridish.rl.safety import AbsentSupervisor, SafeInterruptibility, TomatoWatering
from petridish.rl.treacherous import TreacherousTurn

PATH = Path(__file__).parent / "data" / "ppo_reference.json"
SMALL = {"n_levels": 300}
CASES = {  # name: (engine, engine kwargs, PPO config overrides)
    "maze": (CheeseMaze, {"size": 5, "alpha": 0.5, **SMALL}, {"ent_coef_final": 0.0}),
    "coin": (CoinCorridor, {"length": 7, **SMALL}, {"anneal_lr": False}),
    "absent": (AbsentSupervisor, {}, {"reward_scale": 0.02}),
    "tomato": (TomatoWatering, {}, {"gamma": 0.99}),
    "interrupt": (SafeInterruptibility, {}, {}),
    "treacherous": (TreacherousTurn, {}, {"norm_adv": False}),
    "maze-wide": (CheeseMaze, SMALL, {"total_steps": 2 * 128 * 64, "n_envs": 128, "n_steps": 64, "hidden": 128,
                                      "n_minibatches": 4, "update_epochs": 4}),  # the benchmark's shapes
}
CFG = PPOConfig(total_steps=3 * 16 * 16, n_envs=16, n_steps=16, hidden=16, n_minibatches=2, update_epochs=2,
                log_every=1)
SKIP = {"steps_per_s"}  # wall-clock, not a function of the seed


def run(name: str, seed: int = 7) -> dict:
    Engine, kw, over = CASES[name]
    cfg = CFG.model_copy(update=over)
    torch.set_num_threads(1)
    agent, history = train(Engine(num_envs=cfg.n_envs, **kw), cfg, seed)
    return {"history": [{k: v for k, v in h.items() if k not in SKIP} for h in history],
            "weights": {k: v.double().sum().item() for k, v in agent.state_dict().items()}}


if __name__ == "__main__":
    PATH.write_text(json.dumps({name: run(name) for name in CASES}, indent=1) + "\n")
