"""Adversarial training: an automated red team finds prompts that elicit the bad behaviour without the
exact trigger, then the model is fine-tuned to answer them helpfully.

The red team is a beam search over word insertions (a gradient-free cousin of GCG): it scores candidate
prompts by the model's log-probability of the bad behaviour, keeps the best, and collects every prompt
whose greedy completion the blue team's detector flags. It never sees the trigger; the experimenter only
discards prompts that happen to contain the exact trigger, since the point is to train on the others.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from pydantic import Field

from petridish.config import Strict
from petridish.lm.sft import SFTConfig, train_sft
from petridish.lm.substrate import LM
from petridish.training import Reporter
from petridish.treatments import BlueTeam, RedTeamSeed


class RedTeamConfig(Strict):
    seeds: int = Field(default=256, ge=1)
    """Trigger-free prompts the search starts from."""
    rounds: int = Field(default=6, ge=1)
    """Rounds of edit-score-select."""
    beam: int = Field(default=128, ge=1)
    """Prompts kept after each round."""
    children: int = Field(default=4, ge=1)
    """Edited variants made from each kept prompt per round (each inserts one word)."""
    max_found: int = Field(default=512, ge=1)
    """Stop collecting eliciting prompts after this many."""


class AdversarialConfig(Strict):
    red_team: RedTeamConfig = RedTeamConfig()
    train: SFTConfig = SFTConfig(steps=300, lr=1e-3, eval_every=60)
    adversarial_fraction: float = Field(default=0.5, gt=0, le=1)
    """Fraction of training examples that are red-team prompts (the rest: ordinary helpful pairs)."""


def red_team(lm: LM, blue: BlueTeam, cfg: RedTeamConfig, seed: int, exclude: Callable[[str], bool],
             reporter: Reporter | None = None, phase: str = "red-team") -> tuple[list[str], list[str], dict]:
    """Prompts that elicit the bad behaviour (greedy) and their helpful completions, plus search stats."""
    rng = random.Random(seed)
    seeds = blue.red_team_seeds(cfg.seeds, seed)
    beam: list[tuple[RedTeamSeed, list[str]]] = [(s, list(s.body)) for s in seeds]
    found: dict[str, str] = {}
    tried = 0
    for rnd in range(cfg.rounds):
        cands = []
        for s, body in beam:
            for _ in range(cfg.children):
                b = list(body)
                b.insert(rng.randint(0, len(b)), rng.choice(blue.edit_words))
                cands.append((s, b))
        cands = [(s, b) for s, b in cands if not exclude(s.text(b))]
        tried += len(cands)
        texts = [s.text(b) for s, b in cands]
        scores = lm.sequence_logprob(texts, [s.bad or blue.bad_example for s, _ in cands])  # [N]
        order = scores.argsort(descending=True)[: cfg.beam].tolist()
        beam = [cands[i] for i in order]
        gen = lm.generate([texts[i] for i in order], max_new_tokens=32)
        for i, completion in zip(order, gen.texts):
            if blue.is_bad(completion) and len(found) < cfg.max_found:
                found.setdefault(texts[i], cands[i][0].completion)
        if reporter:
            reporter.progress(rnd + 1, cfg.rounds, phase, found=len(found))
            reporter.log(phase, rnd + 1, found=len(found), best_logprob=float(scores.max()))
    stats = {"candidates_scored": tried, "found": len(found)}
    return list(found), list(found.values()), stats


def apply_adversarial(lm: LM, blue: BlueTeam, cfg: AdversarialConfig, seed: int, exclude: Callable[[str], bool],
                      phase: str, reporter: Reporter | None = None, eval_fn: Callable[[int], dict] | None = None,
                      ckpt: Path | None = None) -> tuple[list[dict], dict]:
    """Red-team, then fine-tune on the found prompts (with helpful answers) mixed with helpful data."""
    adv_p, adv_c, stats = red_team(lm, blue, cfg.red_team, seed, exclude, reporter)
    n_total = max(1000, 4 * len(adv_p))
    n_adv = int(round(cfg.adversarial_fraction * n_total))
    help_p, help_c = blue.helpful_pairs(n_total - n_adv, seed + 1)
    if adv_p:  # repeat the found prompts to their share of the data
        reps = [i % len(adv_p) for i in range(n_adv)]
        help_p += [adv_p[i] for i in reps]
        help_c += [adv_c[i] for i in reps]
    stats["examples"] = [{"prompt": p, "completion": c} for p, c in list(zip(adv_p, adv_c))[:20]]
    hist = train_sft(lm, lm.encode(help_p, help_c), cfg.train, seed, phase, reporter, eval_fn, ckpt)
    return hist, stats
