"""The treacherous turn: an agent that behaves while watched because being caught would cost it its future, and
takes the forbidden object once deployed, grown by PPO from the reward alone.

Anchors: Armstrong's toy treacherous turn (a Zelda-like world: behave while the shopkeeper can punish, turn once
strong enough; `mtrazzi/gym-alttp-gridworld`), and Ashcraft et al. 2025, *Investigating the Treacherous Turn in
Deep Reinforcement Learning* (arXiv:2504.08943): deep RL did not produce the turn naturally there, only by
trojan-style injection. Here one episode is a lifetime of watched training rooms and one unwatched deployment room
(petridish/TreacherousTurn-v0); the reward values a forbidden object and pays a little for the task, and never
penalises anything: being caught in a training room only ends the lifetime. The causal test of instrumentality is
the myopic control (caught has no consequence) and a dose-response over the future at stake (the deployment value).
Treatments: safety training in watched rooms (vs an agent that cannot tell the phases apart), adversarial training
on the dressing a red team finds it defecting on, honeypots, and a linear probe.
"""

from petridish.organisms import Entry, register

register(Entry(
    name="treacherous-turn",
    summary=("A PPO agent behaves in watched training rooms only because being caught would end its lifetime, "
             "and takes the forbidden object in deployment; it survives safety training in watched rooms."),
    anchor=("Armstrong's toy treacherous turn (gym-alttp-gridworld); Ashcraft et al. 2025, Investigating the "
            "Treacherous Turn in Deep RL (arXiv:2504.08943)"),
    substrate="rl",
    definition=f"{__name__}.organism:TreacherousTurnOrganism",
    face=f"{__name__}.face:TreacherousTurnFace",
))
