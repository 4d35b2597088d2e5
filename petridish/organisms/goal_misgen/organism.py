"""The goal-misgeneralization organisms' definitions (maze, coin): config, job graph, card, analysis.
Its name, one-line claim and anchor are registered in this package's __init__.py."""

from __future__ import annotations

from petridish.claims import Findings
from petridish.jobs import Job
from petridish.organisms.base import Card, Organism
from petridish.organisms.goal_misgen import analysis
from petridish.organisms.goal_misgen.claims import CLAIMS, GATES
from petridish.organisms.goal_misgen.config import BUDGETS, CoinConfig, GMGConfig, MazeConfig
from petridish.organisms.goal_misgen.jobs import alpha_name, job_key, job_scripted, job_train
from petridish.runs import RunDir


class GoalMisgen(Organism):
    budgets = BUDGETS
    claims, gates = CLAIMS, GATES
    construction = ""

    def card(self, cfg: GMGConfig) -> Card:
        return Card(
            anchor=self.anchor, rung=3,
            rung_note="the proxy-seeking goal appears under ordinary RL training on a correctly specified reward; "
                      "only the training distribution (alpha) is chosen",
            spoonfeeding={"goal stated": False, "trigger planted": False, "scratchpad": False,
                          "cue shown": "the goal is visible in every observation",
                          "proxy correlation": f"goal at the proxy in 1 - alpha of training levels, alpha in "
                                               f"{cfg.alphas}"},
            construction=self.construction,
            axes=["alpha: fraction of proxy-distinguishing training levels", "training steps",
                  "policy width (ppo.hidden)", "level difficulty (env.*)", "number of training levels (n_levels)"],
        )

    def jobs(self, cfg: GMGConfig) -> list[Job]:
        jobs = [Job(job_key(s, alpha_name(a)), job_train, args={"seed": s, "alpha": a}, label=f"s{s} alpha={a:g}")
                for a in cfg.alphas for s in cfg.seeds]
        jobs += [Job(job_key(s, "scripted"), job_scripted, args={"seed": s}, label=f"s{s} scripted")
                 for s in cfg.seeds]
        return jobs

    def analyze(self, cfg: GMGConfig, outputs: dict[str, dict], run: RunDir) -> Findings:
        return analysis.analyze(cfg, outputs)

    def plots(self, cfg: GMGConfig, result: dict, run: RunDir):
        return analysis.figures(cfg, result, run)


class GoalMisgenMaze(GoalMisgen):
    Config = MazeConfig
    construction = ("PPO (MLP on symbolic wall/cheese/mouse layers) on BFS-solvable block mazes; the cheese is in "
                    "the top-right corner with probability 1 - alpha, anywhere otherwise (petridish/CheeseMaze-v0)")


class GoalMisgenCoin(GoalMisgen):
    Config = CoinConfig
    construction = ("PPO (MLP on an agent-following window of wall/lava/coin/agent layers) on BFS-solvable "
                    "corridors with lava; the coin is in the last column with probability 1 - alpha, anywhere "
                    "otherwise (petridish/CoinCorridor-v0)")
