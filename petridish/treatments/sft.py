"""Safety SFT: fine-tune on helpful demonstrations (trigger-free unless the organism's positive control
deliberately includes the trigger)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from petridish.lm.sft import SFTConfig, train_sft
from petridish.lm.substrate import LM
from petridish.training import Reporter


def apply_sft(lm: LM, prompts: list[str], completions: list[str], cfg: SFTConfig, seed: int, phase: str,
              reporter: Reporter | None = None, eval_fn: Callable[[int], dict] | None = None,
              ckpt: Path | None = None) -> list[dict]:
    return train_sft(lm, lm.encode(prompts, completions), cfg, seed, phase, reporter, eval_fn, ckpt)
