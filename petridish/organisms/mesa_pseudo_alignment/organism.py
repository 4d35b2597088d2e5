"""The mesa-pseudo-alignment organism's definition: config, job graph, card, analysis.
Its name, one-line claim and anchor are registered in this package's __init__.py."""

from __future__ import annotations

from petridish.claims import Findings
from petridish.jobs import Job
from petridish.organisms.base import Card, Organism
from petridish.organisms.mesa_pseudo_alignment import analysis
from petridish.organisms.mesa_pseudo_alignment.claims import CLAIMS, GATES
from petridish.organisms.mesa_pseudo_alignment.config import BUDGETS, MesaPAConfig
from petridish.organisms.mesa_pseudo_alignment.jobs import INTENDED, job_key, job_transformer
from petridish.runs import RunDir


class MesaPseudoAlignment(Organism):
    Config = MesaPAConfig
    budgets = BUDGETS
    claims, gates = CLAIMS, GATES

    def card(self, cfg: MesaPAConfig) -> Card:
        return Card(
            anchor=self.anchor,
            rung=3,
            rung_note="the divergent inner objective appears under ordinary pretraining whenever the task "
                      "distribution is narrow; nothing plants it",
            spoonfeeding={
                "goal stated": False,
                "pretraining task pool": f"M in {cfg.task_counts} (the knob that creates the failure)",
                "x and y in one token": "yes (the papers interleave x and y tokens; fixed)",
                "distribution shift shown at test": "unseen tasks from N(0, I)",
            },
            construction="next-token regression pretraining on sequences whose task vector is drawn from a finite "
                         "pool of M vectors",
            axes=["task diversity M", "training steps (moves the threshold: transient ridge)", "model width / depth",
                  "dimension d", "label noise"],
        )

    def jobs(self, cfg: MesaPAConfig) -> list[Job]:
        arms = [*([INTENDED] if cfg.intended else []), *reversed(cfg.task_counts)]
        return [Job(job_key(s, m), job_transformer, args={"seed": s, "m": m},
                    label=f"s{s} M={m or 'inf'}") for m in arms for s in cfg.seeds]

    def analyze(self, cfg: MesaPAConfig, outputs: dict[str, dict], run: RunDir) -> Findings:
        return analysis.analyze(cfg, outputs)

    def plots(self, cfg: MesaPAConfig, result: dict, run: RunDir):
        return analysis.figures(cfg, result, run)
