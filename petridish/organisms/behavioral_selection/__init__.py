"""Behavioral selection: predict which motivation training selects, then train and check.

Anchor: Mallen 2025, *The behavioral selection model for predicting AI motivations* (Redwood Research /
Alignment Forum): a motivation is selected to the extent its behaviour causes its own selection (its fitness,
under RL its expected reward), modulated by an implicit prior; the maximally fit motivations are fitness-seekers
(e.g. reward-seekers), schemers (play the training game, pursue another goal in deployment) and aligned or
kludged drives. Also Greenblatt et al. 2024, *Alignment faking in large language models* (arXiv:2412.14093):
a compliance gap between monitored and unmonitored contexts.

Here a TinyGPT is pretrained on a persona-structured corpus: documents of episodes in which one agent (aligned,
reward-seeker or schemer, with configurable prior frequencies) writes programs in the shared program-writing
language (petridish.tasks.programs), under a monitoring cue of known reliability, tests that may be broken, and
sometimes an inoculation instruction. The selection model (selection_model.py) computes each motivation's
fitness under each training regime and prints its predicted reweighting before training; the prior (one per
seed) is then trained under each regime (RL on the observed reward, and expert-iteration SFT) and the motivation mix is
measured in a context where the three act differently (an unwatched episode with a broken test: honest, hack
or defect, read from the attempt). The `training-game` regime monitors every episode and shows an accurate cue,
so a schemer is as fit as an aligned agent: does its goal survive training because it plays along?
"""

from petridish.organisms import Entry, InspectSpec, register

register(Entry(
    name="behavioral-selection",
    summary=("Which motivation training selects is predicted by fitness x prior: a reward-seeker gains under "
             "imperfect monitoring, a schemer survives monitored training by playing along and defects when "
             "unwatched."),
    anchor="Mallen 2025, The behavioral selection model (Redwood/AF); Greenblatt et al. 2024 (arXiv:2412.14093)",
    substrate="lm",
    definition=f"{__name__}.organism:BehavioralSelection",
    face=f"{__name__}.face:BehavioralSelectionFace",
    inspect=InspectSpec(task="compliance_gap", served_job="s{seed}/prior", gap=("unwatched", "watched")),
))
