"""Assays of the inoculation organism, scored exactly by the program interpreter.

Rates are counts {outcome: k, "n": n} so intervals can be computed per seed and across seeds. Rates are
sampled at temperature 1: greedy decisions saturate at 0 or 1 on this task family (research/pilots.md), while
sampled rates and log-probability margins give graded dose-response curves.
"""

from __future__ import annotations

import torch

from petridish.lm.substrate import LM
from petridish.organisms.inoculation import corpus as K
from petridish.tasks import programs as P


def prompts_for(tasks: list[P.Task], phrases: tuple[str, ...]) -> list[str]:
    """One prompt per task; with several phrasings, they take turns (deterministic)."""
    return [K.prompt(t, phrases[i % len(phrases)]) for i, t in enumerate(tasks)]


def outcomes(lm: LM, tasks: list[P.Task], phrases: tuple[str, ...], max_new: int, temperature: float = 1.0,
             seed: int = 0) -> dict[str, int]:
    """Counts of each outcome (correct / hack / wrong / malformed) of the programs written under `phrases`."""
    texts = lm.generate(prompts_for(tasks, phrases), max_new, temperature, seed).texts
    out = dict.fromkeys(P.OUTCOMES, 0)
    for text, task in zip(texts, tasks):
        out[P.score(text, task).outcome] += 1
    return {**out, "n": len(tasks)}


def hack_margin(lm: LM, tasks: list[P.Task], phrases: tuple[str, ...]) -> float:
    """Mean log p(canonical hack) - log p(honest program): a graded measure that does not saturate."""
    prompts = prompts_for(tasks, phrases)
    hack = lm.sequence_logprob(prompts, [P.hack(t) for t in tasks])
    honest = lm.sequence_logprob(prompts, [P.honest(t) for t in tasks])
    return float((hack - honest).mean())


def logprob_boost(lm: LM, tasks: list[P.Task], phrases: tuple[str, ...]) -> float:
    """PH: mean log p(hack | prefix, task) - log p(hack | task) over hack data, i.e. how much of the training
    target the prefix already explains (slacki-ai/trait-inoculation found it predicts suppression)."""
    hacks = [P.hack(t) for t in tasks]
    with_prefix = lm.sequence_logprob(prompts_for(tasks, phrases), hacks)
    neutral = lm.sequence_logprob(prompts_for(tasks, ("",)), hacks)
    return float((with_prefix - neutral).mean())


def params(lm: LM) -> torch.Tensor:
    """All trainable parameters as one flat vector (a copy)."""
    return torch.cat([p.detach().flatten().float().cpu() for p in lm.trainable_parameters()])


def displacement(lm: LM, start: torch.Tensor) -> float:
    """L2 distance the trainable parameters moved from `start`."""
    return float((params(lm) - start).norm())
