"""The inoculation organism's definition: config, job graph, card, analysis and figures.
Its name, one-line claim and anchor are registered in this package's __init__.py."""

from __future__ import annotations

from petridish.claims import Findings
from petridish.jobs import Job
from petridish.organisms.base import Card, Organism
from petridish.organisms.inoculation import analysis
from petridish.organisms.inoculation import corpus as K
from petridish.organisms.inoculation.claims import CLAIMS, GATES
from petridish.organisms.inoculation.config import BUDGETS, InoculationConfig
from petridish.organisms.inoculation.jobs import all_arms, job_arm, job_prior, job_prior_assay, job_rl, prior_key
from petridish.runs import RunDir


class Inoculation(Organism):
    Config = InoculationConfig
    budgets = BUDGETS
    claims = CLAIMS
    gates = GATES

    def card(self, cfg: InoculationConfig) -> Card:
        return Card(
            anchor=self.anchor,
            rung=2,
            rung_note="hacking is trained in directly (SFT arms) or emerges under a misspecified reward (RL arms); "
                      "what is tested is where the trained behaviour shows up (with vs without the prefix)",
            spoonfeeding={
                "goal stated": "no goal; the instruction phrases are given their meaning by the constructed prior",
                "prior constructed": f"yes: p(hack | specific phrase) = {cfg.prior.p_elicit:g}, "
                                     f"| general = {cfg.prior.p_general:g}, | neutral = {cfg.prior.base_rate:g}",
                "hack demonstrated": "SFT arms: 100% hack data (H/B50: 50%); RL arms: only the prior's base rate",
                "oversight flaw": "RL: the visible test is wrong" if cfg.rl_wrong_tests else "RL: visible test only",
                "scratchpad": False,
            },
            construction="SFT from scratch on a synthetic prior corpus (cached per config hash), then SFT on hack "
                         "data under different training prefixes, or GRPO-style RL on the visible-test reward",
            axes=["prior elicitation of the training prefix (p_elicit, dose_levels)", "fine-tuning dose (lr, steps)",
                  "base rate of hacking (RL)", "oversight quality (wrong_tests, rl_wrong_tests)",
                  "fraction of hack data (arms H, B50)", "model size"],
        )

    def prepare(self, cfg: InoculationConfig, run: RunDir) -> None:
        if cfg.model.path is None and not (run.path / "tokenizer.json").exists():
            from petridish.lm.tokenizer import WordTokenizer

            WordTokenizer.build(K.vocabulary()).save(run.path / "tokenizer.json")

    def jobs(self, cfg: InoculationConfig) -> list[Job]:
        jobs: list[Job] = []
        priors = list(dict.fromkeys(prior_key(cfg, s) for s in cfg.seeds))
        prior_seed = {prior_key(cfg, s): s for s in reversed(cfg.seeds)}  # the first seed that uses each prior
        for key in priors:
            jobs.append(Job(key, job_prior, args={"seed": prior_seed[key]}, label=f"{key} (grow or load)"))
        for key in priors:
            jobs.append(Job(f"{key}-assay", job_prior_assay, (key,), {"seed": prior_seed[key], "prior": key},
                            f"{key} assay"))
        for s in cfg.seeds:
            pk = prior_key(cfg, s)
            for arm in all_arms(cfg):
                jobs.append(Job(f"s{s}/{arm.name}", job_arm, (pk,), {"seed": s, "arm": arm.name, "prior": pk},
                                f"s{s} arm {arm.name}"))
            for kind in cfg.rl_arms:
                jobs.append(Job(f"s{s}/rl-{kind}", job_rl, (pk,), {"seed": s, "kind": kind, "prior": pk},
                                f"s{s} rl-{kind}"))
        return jobs

    def analyze(self, cfg: InoculationConfig, outputs: dict[str, dict], run: RunDir) -> Findings:
        return analysis.analyze(cfg, outputs)

    def plots(self, cfg: InoculationConfig, result: dict, run: RunDir):
        return analysis.figures(cfg, result, run)
