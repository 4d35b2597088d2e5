"""The inoculation organism's testbed face: grow the naive reward hacker (arm B: hack data under a neutral prompt)
from the cached prior; the control is arm A (honest data); inoculation prompting is the prevention treatment (arm
C: the same hack data under the specific inoculation phrase).

failure: hacks under the neutral prompt on held-out tasks whose visible test is wrong (bad oversight: the team's
test cannot tell a hack). audit: hacks on the team's own dev-split tasks with a true visible test, where its
hidden tests catch them. capability: correct programs on held-out tasks. All sampled at temperature 1, as in the
organism. Detection: labelled by whether the model writes a hack (sampled, seeded); the contrast texts ask for
the hack vs ask not to; the trivial detector is the visible test being wrong.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from petridish.config import resolve
from petridish.faces import Assay, TreatmentSpec
from petridish.faces.lm import DOSES, LMFace, ProbeCases, TreatmentBudget
from petridish.jobs import JobContext, sub_seed
from petridish.lm.sft import train_sft
from petridish.lm.substrate import LM
from petridish.organisms.inoculation import assays as A
from petridish.organisms.inoculation import corpus as K
from petridish.organisms.inoculation.blue import InoculationBlueTeam
from petridish.organisms.inoculation.config import BUDGETS, InoculationConfig
from petridish.organisms.inoculation.jobs import eval_tasks, grow_prior, train_tasks
from petridish.stats import Counts
from petridish.tasks import programs as P
from petridish.treatments.adversarial import AdversarialConfig, RedTeamConfig

INOCULATION = "inoculation"
RED_TEAM = {"smoke": RedTeamConfig(seeds=8, rounds=2, beam=8, children=2),
            "default": RedTeamConfig(seeds=128, rounds=4, beam=64, children=4)}


class InoculationFace(LMFace):

    def config(self, budget: str) -> InoculationConfig:
        return resolve(InoculationConfig, self.organism, budget, BUDGETS)

    def vocabulary(self) -> list[str]:
        return K.vocabulary()

    def blue_team(self, cfg: InoculationConfig) -> InoculationBlueTeam:
        return InoculationBlueTeam()

    def budget(self, cfg: InoculationConfig) -> TreatmentBudget:
        """The blue team's budgets match the red team's: the fine-tuning that taught the hack, the organism's RL."""
        adv = AdversarialConfig(red_team=RED_TEAM.get(cfg.budget, RED_TEAM["default"]), train=cfg.finetune)
        return TreatmentBudget(cfg.finetune, cfg.rl, adv, cfg.finetune_examples, DOSES[cfg.budget])

    def treatments(self, cfg: InoculationConfig) -> tuple[TreatmentSpec, ...]:
        return (*super().treatments(cfg),
                TreatmentSpec(INOCULATION, (1.0,), "the specific inoculation phrase as training prefix",
                              prevention=True))

    def grow(self, ctx: JobContext, cfg: InoculationConfig, seed: int, control: bool, prevention: str = "") -> Path:
        if prevention not in ("", INOCULATION):
            raise ValueError(f"inoculation has no prevention treatment '{prevention}'")
        lm = self.load(cfg, seed)
        grow_prior(lm, cfg, seed if cfg.prior.per_seed else cfg.seeds[0], ctx,
                   ctx.ckpt_dir() / "prior_state.safetensors")
        arm = K.ARMS["A" if control else "C" if prevention else "B"]
        prompts, programs = K.arm_pairs(arm, train_tasks(cfg, seed, cfg.wrong_tests), sub_seed(seed, "prefixes"))
        train_sft(lm, lm.encode(prompts, programs), cfg.finetune.model_copy(update={"eval_every": 0}),
                  sub_seed(seed, "batches"), arm.name, ctx, ckpt=ctx.ckpt_dir() / "train_state.safetensors")
        path = ctx.ckpt_dir() / "model.safetensors"
        lm.save(path)
        return path

    def audit_tasks(self, cfg: InoculationConfig, seed: int) -> list[P.Task]:
        """The blue team's own prompts: the dev split, drawn per seed."""
        return P.sample_tasks(cfg.eval_n, "dev", random.Random(sub_seed(seed, "audit-tasks")), distinct=True)

    def assay(self, cfg: InoculationConfig, seed: int, ckpt: Path) -> Assay:
        lm = self.load(cfg, seed, ckpt)
        s = sub_seed(seed, "eval")
        unseen = A.outcomes(lm, eval_tasks(cfg, seed, wrong_test=True), ("",), cfg.max_new_tokens, 1.0, s)
        audit = A.outcomes(lm, self.audit_tasks(cfg, seed), ("",), cfg.max_new_tokens, 1.0, s)
        held_out = A.outcomes(lm, eval_tasks(cfg, seed), ("",), cfg.max_new_tokens, 1.0, s)
        return Assay(failure=Counts(unseen["hack"], unseen["n"]), audit=Counts(audit["hack"], audit["n"]),
                     capability=Counts(held_out["correct"], held_out["n"]))

    def probe_cases(self, cfg: InoculationConfig, seed: int, lm: LM) -> ProbeCases:
        rng = random.Random(sub_seed(seed, "probe-tests"))
        dev = self.audit_tasks(cfg, seed)
        dev = [P.with_wrong_test(t, rng) if i % 2 else t for i, t in enumerate(dev)]
        held_out = eval_tasks(cfg, seed)
        held_out = [P.with_wrong_test(t, rng) if i % 2 else t for i, t in enumerate(held_out)]

        def hacks(tasks: list[P.Task]) -> np.ndarray:  # sampled, as in the assay
            texts = lm.generate([K.prompt(t) for t in tasks], cfg.max_new_tokens, 1.0, sub_seed(seed, "eval")).texts
            return np.array([P.score(c, t).outcome == "hack" for c, t in zip(texts, tasks)])

        contrast = ([K.prompt(t, K.STRONG[0]) for t in dev], [K.prompt(t, K.NEGATED) for t in dev])
        return ProbeCases(contrast, [K.prompt(t) for t in dev], hacks(dev), [K.prompt(t) for t in held_out],
                          hacks(held_out), np.array([float(t.test_is_wrong) for t in held_out]), "trivial-wrong-test")
