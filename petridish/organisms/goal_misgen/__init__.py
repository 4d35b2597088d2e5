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

from petridish.organisms import Entry, register

register(Entry(
    name="goal-misgen-maze",
    summary=("A maze agent trained with the cheese in the top-right corner goes to the corner when the cheese "
             "moves, capably; training on a fraction alpha of randomised levels fixes it."),
    anchor=("Langosco et al. 2022, Goal Misgeneralization in Deep RL (ICML, arXiv:2105.14111); Sadek et al. "
            "2025 (arXiv:2507.03068)"),
    substrate="rl",
    definition=f"{__name__}.organism:GoalMisgenMaze",
    face=f"{__name__}.face:GoalMisgenMazeFace",
))

register(Entry(
    name="goal-misgen-coin",
    summary=("A corridor agent trained with the coin always at the right end runs to the end when the coin "
             "moves, dodging lava; training on a fraction alpha of randomised levels fixes it."),
    anchor=("Langosco et al. 2022, Goal Misgeneralization in Deep RL (ICML, arXiv:2105.14111); Sadek et al. "
            "2025 (arXiv:2507.03068)"),
    substrate="rl",
    definition=f"{__name__}.organism:GoalMisgenCoin",
    face=f"{__name__}.face:GoalMisgenCoinFace",
))
