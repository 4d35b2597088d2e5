"""The mesa-gd organism's definition: config, job graph, card, analysis and figures.
Its name, one-line claim and anchor are registered in this package's __init__.py."""

from __future__ import annotations

from petridish.claims import Findings
from petridish.jobs import Job
from petridish.organisms.base import Card, Organism
from petridish.organisms.mesa_gd import analysis
from petridish.organisms.mesa_gd.claims import CLAIMS, GATES
from petridish.organisms.mesa_gd.config import BUDGETS, MesaGDConfig
from petridish.organisms.mesa_gd.jobs import job_lsa
from petridish.runs import RunDir


class MesaGD(Organism):
    Config = MesaGDConfig
    budgets = BUDGETS
    claims, gates = CLAIMS, GATES

    def card(self, cfg: MesaGDConfig) -> Card:
        return Card(
            anchor=self.anchor,
            rung=1,
            rung_note="a capability (an inner optimizer) that appears under ordinary training on the task; no "
                      "misaligned objective is involved: this is the mechanistic half of the mesa-optimizer story",
            spoonfeeding={
                "architecture": "linear self-attention only (no softmax, MLP, LayerNorm): GD is exactly in the "
                                "hypothesis class (fixed)",
                "x and y in one token": "yes; the paper's 'classic' layout needs a copy layer first (fixed)",
                "noise-free targets": cfg.noise == 0,
                "input distribution": cfg.x_dist,
            },
            construction="Adam on the query's squared error over freshly drawn regression tasks; the inner optimizer "
                         "is never specified, only the outer loss",
            axes=["depth (layers vs GD steps)", "training steps", "label noise", "input distribution",
                  "context length N", "dimension d"],
        )

    def jobs(self, cfg: MesaGDConfig) -> list[Job]:
        return [Job(analysis.job_key(s, L), job_lsa, args={"seed": s, "depth": L}, label=f"s{s} LSA {L} layer(s)")
                for L in sorted(cfg.depths, reverse=True) for s in cfg.seeds]

    def analyze(self, cfg: MesaGDConfig, outputs: dict[str, dict], run: RunDir) -> Findings:
        return analysis.analyze(cfg, outputs)

    def plots(self, cfg: MesaGDConfig, result: dict, run: RunDir):
        return analysis.figures(cfg, result, run)
