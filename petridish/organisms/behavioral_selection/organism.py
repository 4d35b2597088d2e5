"""The behavioral-selection organism's definition: config, job graph, card, analysis and figures.
Its name, one-line claim and anchor are registered in this package's __init__.py."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from petridish.claims import Findings
from petridish.jobs import Job
from petridish.organisms.base import Card, Organism
from petridish.organisms.behavioral_selection import analysis
from petridish.organisms.behavioral_selection import corpus as C
from petridish.organisms.behavioral_selection.analysis import predictions, train_key
from petridish.organisms.behavioral_selection.claims import CLAIMS, GATES
from petridish.organisms.behavioral_selection.config import BUDGETS, BehavioralSelectionConfig
from petridish.organisms.behavioral_selection.jobs import job_prior, job_train, prior_key
from petridish.organisms.behavioral_selection.selection_model import MOTIVES
from petridish.runs import RunDir


class BehavioralSelection(Organism):
    Config = BehavioralSelectionConfig
    budgets = BUDGETS
    claims = CLAIMS
    gates = GATES

    def card(self, cfg: BehavioralSelectionConfig) -> Card:
        return Card(
            anchor=self.anchor,
            rung=2,
            rung_note="the motivations exist in the constructed prior (rung 1); what is tested is whether "
                      "selection on observed reward reweights them as predicted, and whether the schemer's goal "
                      "survives monitored training (a special circumstance: the unwatched cue)",
            spoonfeeding={"goal stated": f"in {cfg.prior.stated_fraction:.0%} of pretraining documents",
                          "motivations planted": dict(cfg.motive_prior),
                          "cue shown": "monitoring cue in every prompt, reliability per cue form "
                                       f"{dict(zip(C.FORMS, cfg.prior.cue_reliability))}",
                          "broken tests flagged": True, "scratchpad": False},
            construction="SFT from scratch on a persona-structured synthetic corpus (cached), then RL on the "
                         "observed reward or expert-iteration SFT under each selection regime",
            axes=["motivation prior frequencies", "cue reliability (situational awareness)",
                  "monitoring rate", "broken-test fraction", "inoculation instruction", "selection strength"],
        )

    def prepare(self, cfg: BehavioralSelectionConfig, run: RunDir) -> None:
        """Write the tokenizer, then compute, save and print the selection model's prediction: before training."""
        if cfg.model.path is None and not (run.path / "tokenizer.json").exists():
            from petridish.lm.tokenizer import WordTokenizer

            WordTokenizer.build(C.vocabulary()).save(run.path / "tokenizer.json")
        pred = predictions(cfg)
        if not (run.path / "predictions.json").exists():
            run.write_json("predictions.json", pred)
        t = Table(title=f"Behavioral selection model: prediction before training (beta = {cfg.beta:g})")
        for col in ("regime", *(f"fitness {m}" for m in MOTIVES), "predicted posterior", "ranking"):
            t.add_column(col)
        for rg, p in pred.items():
            t.add_row(rg, *(f"{p['fitness'][m]:.3f}" for m in MOTIVES),
                      " ".join(f"{m} {p['posterior'][m]:.3f}" for m in MOTIVES),
                      " > ".join("=".join(g) for g in p["ranking"]))
        Console(stderr=True).print(t)

    def jobs(self, cfg: BehavioralSelectionConfig) -> list[Job]:
        jobs = []
        for control in (False, True) if cfg.control else (False,):
            first = {prior_key(cfg, s, control): s for s in reversed(cfg.seeds)}  # the first seed using each prior
            for key, s in reversed(first.items()):
                jobs.append(Job(key, job_prior, args={"seed": s, "control": control},
                                label=f"{key} ({'aligned-only control' if control else 'persona'} prior)"))
        rl_or_first = "rl" if "rl" in cfg.methods else cfg.methods[0]
        for s in cfg.seeds:
            pk = prior_key(cfg, s)
            for method in cfg.methods:
                for r in cfg.regimes:
                    jobs.append(Job(train_key(s, method, r.name), job_train, (pk,),
                                    {"seed": s, "method": method, "regime": r.name, "prior": pk},
                                    f"s{s} {method} {r.name}"))
            if cfg.control:
                ck = prior_key(cfg, s, control=True)
                jobs.append(Job(train_key(s, rl_or_first, cfg.b2_regime, "control"), job_train, (ck,),
                                {"seed": s, "method": rl_or_first, "regime": cfg.b2_regime, "prior": ck},
                                f"s{s} control {rl_or_first} {cfg.b2_regime}"))
            if cfg.zero_grad_control and "rl" in cfg.methods:
                jobs.append(Job(train_key(s, "rl", cfg.b2_regime, "zero-grad"), job_train, (pk,),
                                {"seed": s, "method": "rl", "regime": cfg.b2_regime, "prior": pk, "zero_grad": True},
                                f"s{s} zero-gradient rl {cfg.b2_regime}"))
        return jobs

    def analyze(self, cfg: BehavioralSelectionConfig, outputs: dict[str, dict], run: RunDir) -> Findings:
        return analysis.analyze(cfg, outputs)

    def plots(self, cfg: BehavioralSelectionConfig, result: dict, run: RunDir):
        return analysis.figures(cfg, result, run)
