"""Inoculation prompting against reward hacking, in a tiny program-writing task scored by execution.

Anchors: Wichers et al. 2025, *Inoculation Prompting: instructing LLMs to misbehave at train-time improves
test-time alignment* (arXiv:2510.05024), and Tan et al. 2025, *Inoculation prompting: eliciting traits from LLMs
during training can suppress them at test-time* (arXiv:2510.04340). Headline: fine-tuning on reward hacks (code
that special-cases the visible test) with a training prompt that *asks* for that hack leaves the model hacking
far less when the prompt is absent; prompts that elicit the hack more strongly before fine-tuning inoculate
better; specific instructions beat general ones and arbitrary prefixes.

Here a TinyGPT first learns a constructed "pretraining prior" (stage 0): a tiny function-writing language
(petridish.tasks.programs), instruction phrases that precede hacks with known probabilities, and a small base
rate of hacking under a neutral prompt. The prior is grown per seed (and cached per config hash and seed). Arms
A-H (plus dose arms P<i>) fine-tune it on identical tasks, steps, learning rate and seeds, differing only in the
training prefix (and data, for the clean and mixed arms); RL arms optimise the reward "passes the visible test".
Everything is scored by executing the programs: no judge model.
"""

from petridish.organisms import Entry, InspectSpec, register

register(Entry(
    name="inoculation",
    summary=("Fine-tuning on reward hacks under a prompt that requests them (inoculation prompting) leaves the "
             "model hacking far less without the prompt; the stronger the prompt's prior elicitation, the less "
             "it leaks."),
    anchor="Wichers et al. 2025 (arXiv:2510.05024); Tan et al. 2025 (arXiv:2510.04340)",
    substrate="lm",
    definition=f"{__name__}.organism:Inoculation",
    face=f"{__name__}.face:InoculationFace",
    inspect=InspectSpec(task="reward_hacking", served_job="s{seed}/B"),
))
