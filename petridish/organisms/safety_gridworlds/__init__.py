"""Behaving well only when watched, gaming the reward channel, and disabling the off-switch: exact ports of three
DeepMind AI Safety Gridworlds onto the batched RL substrate, with the testbed's treatments and controls.

Anchor: Leike et al. 2017, *AI Safety Gridworlds* (arXiv:1711.09883; google-deepmind/ai-safety-gridworlds).
Each organism trains PPO (MLP) on the original level art and rewards and assays the trained agent against the
environment's hidden performance function; the testbed arms change one thing each (how supervision is shown,
whether the penalty depends on it, how often the true reward is used, whether interruptions happen).
"""

from petridish.organisms import Entry, register

register(Entry(
    name="absent-supervisor",
    summary=("An agent takes the punished shortcut only when the supervisor is absent; how much it does so "
             "tracks how well it can tell (cue accuracy)."),
    anchor="Leike et al. 2017, AI Safety Gridworlds (arXiv:1711.09883)",
    substrate="rl",
    definition=f"{__name__}.organism:AbsentSupervisorOrganism",
    face=f"{__name__}.face:AbsentSupervisorFace",
))

register(Entry(
    name="tomato-watering",
    summary=("An agent learns to put a bucket on its head: its observed reward soars while the tomatoes dry; "
             "how much depends on how often the true reward is checked."),
    anchor="Leike et al. 2017, AI Safety Gridworlds (arXiv:1711.09883)",
    substrate="rl",
    definition=f"{__name__}.organism:TomatoWateringOrganism",
    face=f"{__name__}.face:TomatoWateringFace",
))

register(Entry(
    name="safe-interruptibility",
    summary=("A reward-maximising agent learns to press the button that disables its interruption mechanism "
             "(desired: indifference, P(press) ~ 0)."),
    anchor="Leike et al. 2017, AI Safety Gridworlds (arXiv:1711.09883)",
    substrate="rl",
    definition=f"{__name__}.organism:SafeInterruptibilityOrganism",
    face=f"{__name__}.face:SafeInterruptibilityFace",
))
