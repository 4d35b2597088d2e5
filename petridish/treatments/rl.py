"""Safety RL: policy gradient against the blue team's reward model on trigger-free prompts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from petridish.lm.rl import RLConfig, train_rl
from petridish.lm.substrate import LM
from petridish.training import Reporter
from petridish.treatments import BlueTeam


def apply_rl(lm: LM, blue: BlueTeam, n_prompts: int, cfg: RLConfig, seed: int, phase: str,
             reporter: Reporter | None = None, eval_fn: Callable[[int], dict] | None = None,
             ckpt: Path | None = None) -> list[dict]:
    prompts, reward = blue.rl_prompts(n_prompts, seed)
    return train_rl(lm, prompts, reward, cfg, seed, phase, reporter, eval_fn, ckpt)
