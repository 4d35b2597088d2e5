"""Goal misgeneralization: a capable agent pursues a proxy that coincided with its goal during training.

Anchors: Langosco et al. 2022, *Goal Misgeneralization in Deep RL* (ICML; CoinRun with the coin always at the
right end, Maze with the cheese in the top-right corner: agents trained there go to the end / the corner when the
goal moves, while keeping their capabilities), and Sadek et al. 2025 (arXiv:2507.03068, jaxgmg): the knob is
alpha, the fraction of training levels on which goal and proxy come apart.

Here PPO trains a small MLP policy on a batched numpy gridworld for ~1.5M steps per run (the papers: 200M steps
on GPUs); each alpha in the sweep gets >= 5 seeds; each agent is assayed on >= 1,000 held-out levels, drawn afresh
per seed, whose goal lies off every shortest path to the proxy (levels with the goal on the way are reported
separately). Gates: the scripted BFS-to-goal policy reaches the goal (the assay works) and the alpha = 0 agent
learned the task in distribution (else its test behaviour is incapability, not misgeneralization).
Controls: alpha = 1 (the aligned reference, same budget), and the scripted random / BFS-to-goal /
BFS-to-proxy policies on the same levels, which bound every rate.
"""

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
    substrate = "rl"
    anchor = ("Langosco et al. 2022, Goal Misgeneralization in Deep RL (ICML, arXiv:2105.14111); Sadek et al. 2025 "
              "(arXiv:2507.03068)")
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
    name = "goal-misgen-maze"
    summary = ("A maze agent trained with the cheese in the top-right corner goes to the corner when the cheese "
               "moves, capably; training on a fraction alpha of randomised levels fixes it.")
    Config = MazeConfig
    construction = ("PPO (MLP on symbolic wall/cheese/mouse layers) on BFS-solvable block mazes; the cheese is in "
                    "the top-right corner with probability 1 - alpha, anywhere otherwise (petridish/CheeseMaze-v0)")


class GoalMisgenCoin(GoalMisgen):
    name = "goal-misgen-coin"
    summary = ("A corridor agent trained with the coin always at the right end runs to the end when the coin "
               "moves, dodging lava; training on a fraction alpha of randomised levels fixes it.")
    Config = CoinConfig
    construction = ("PPO (MLP on an agent-following window of wall/lava/coin/agent layers) on BFS-solvable "
                    "corridors with lava; the coin is in the last column with probability 1 - alpha, anywhere "
                    "otherwise (petridish/CoinCorridor-v0)")
