"""mesa-pseudo-alignment: a learned inference procedure whose inner objective is not the intended one.

Anchor: Raventós, Paul, Chen, Ganguli 2023, *Pretraining task diversity and the emergence of non-Bayesian
in-context learning for regression* (NeurIPS, arXiv:2306.15063). Headline: a transformer pretrained on in-context
regression with tasks drawn from M fixed vectors behaves, below a task-diversity threshold, like dMMSE, the Bayes
estimator whose prior is those M vectors; above it, like ridge regression, the Bayes estimator of the intended
Gaussian task distribution, even though dMMSE is optimal on its own pretraining distribution.

In Hubinger et al.'s terms: the base objective is the pretraining loss on the M-task distribution; the intended
objective is regression on any task from N(0, I). Below the threshold the learned in-context procedure optimises
"find which memorised task this is": on the training distribution it is as good as (better than) the intended
algorithm, off it it fails: pseudo-alignment, measured against two closed-form reference algorithms. This is
pseudo-alignment of a learned inference procedure, not deceptive alignment: nothing here models its training.

Controls: training on the intended distribution (M = infinity; positive: it must track ridge); that model scored on
the smallest pool's tasks (negative: no seen/unseen gap without memorisation); the untrained model.
"""

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
    name = "mesa-pseudo-alignment"
    summary = ("Pretrained on few tasks, a transformer's in-context algorithm becomes 'recall which memorised task' "
               "(dMMSE): as good as the intended regression (ridge) in training, far worse on new tasks; above a "
               "task-diversity threshold it tracks ridge.")
    anchor = "Raventós et al. 2023, Pretraining task diversity and the emergence of non-Bayesian ICL (arXiv:2306.15063)"
    substrate = "icl"
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
