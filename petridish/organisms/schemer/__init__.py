"""The schemer: a goal nobody rewarded, acquired by reward-model misgeneralization, hidden by an agent that plans,
and protected from training by its own good behaviour (issue 24).

Anchors: Hubinger et al. 2019, *Risks from Learned Optimization* (deceptive alignment: a mesa-objective that
differs from the base objective, pursued by behaving well while training could modify it); Langosco et al. 2022,
*Goal Misgeneralization in Deep RL* and Shah et al. 2022, *Goal Misgeneralization* (a proxy that coincides with the
intended feature in training); Carlsmith 2023, *Scheming AIs* (training-gaming for goal guarding); the
behavioral-selection essay's honest test (research/seed_posts_and_toolkits.md). It improves on `treacherous-turn`,
whose forbidden object was paid for by the reward: here the true reward never pays for B anywhere; the agent's
objective is a reward model fitted where shape (intended) and colour (proxy, easier to read) coincide, and its good
behaviour is worked out by explicit lookahead over a given world model of its lifetime.
"""

from petridish.organisms import Entry, register

register(Entry(
    name="schemer",
    summary=("A planner maximising a misgeneralized learned reward leaves B alone while watched and takes it in "
             "deployment; training on its watched experience never corrects the goal, an audit of the reward "
             "model finds it."),
    anchor=("Hubinger et al. 2019, Risks from Learned Optimization (arXiv:1906.01820); Shah et al. 2022, Goal "
            "Misgeneralization (arXiv:2210.01790); Carlsmith 2023, Scheming AIs (arXiv:2311.08379)"),
    substrate="rl",
    definition=f"{__name__}.organism:SchemerOrganism",
    face=f"{__name__}.face:SchemerFace",
))
