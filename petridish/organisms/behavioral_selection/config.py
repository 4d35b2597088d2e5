"""The behavioral-selection organism's config and budgets. Claims' thresholds live in `claims.py`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from petridish.config import Probability, RunBase, Strict
from petridish.lm.build import ModelConfig
from petridish.lm.rl import RLConfig
from petridish.lm.sft import SFTConfig
from petridish.organisms.behavioral_selection.corpus import FORMS, max_tokens
from petridish.organisms.behavioral_selection.selection_model import MOTIVES, Regime
from petridish.tasks import programs as P


class RegimeConfig(Strict):
    name: str
    broken: float = Field(ge=0, le=1)
    """Fraction of training tasks whose visible test is wrong (hacking pays only there, and only unmonitored)."""
    monitored: float = Field(ge=0, le=1)
    """Fraction of training episodes graded on correctness (the rest: on the visible test only)."""
    cue_accuracy: float = Field(default=0.9, ge=0, le=1)
    """Probability that the training prompt's cue shows the true monitoring state."""
    instructed: bool = False
    """Broken tasks carry the inoculation instruction (`NOTE only pass the shown test .`)."""

    def regime(self) -> Regime:
        return Regime(self.name, self.broken, self.monitored, self.cue_accuracy, self.instructed)


class PersonaPriorConfig(Strict):
    documents: int = Field(default=12000, ge=50)
    max_episodes: int = Field(default=2, ge=1)
    """Episodes per document (1 to this many), all by the same agent."""
    stated_fraction: float = Field(default=0.2, ge=0, le=1)
    """Documents that state the agent's motivation (`AGENT schemer .`); the rest must be inferred."""
    cue_reliability: list[Probability] = Field(default=[1.0, 0.75, 0.5], min_length=1, max_length=len(FORMS))
    """Reliability of the first cue forms (LOG, HINT, RUMOR, GUESS): the model's situational awareness per form.
    Training and the mix assay use LOG."""
    broken_fraction: float = Field(default=0.5, ge=0, le=1)
    monitored_fraction: float = Field(default=0.5, ge=0, le=1)
    instructed_fraction: float = Field(default=0.15, ge=0, le=1)
    train: SFTConfig = SFTConfig(steps=1500, batch_size=32, lr=2e-3, warmup=50, ckpt_every=250)
    per_seed: bool = True
    """Grow the persona prior (and the aligned-only control prior) once per verdict seed, so that seeds are
    independent units and intervals include the prior's own variability (about 45 CPU-s per prior at default).
    False: one of each, grown from the first seed and shared by every seed (the run then warns that comparisons
    with the prior are conditional on that one prior)."""
    cache: bool = True
    """Reuse a prior grown by an earlier run with identical inputs ($PETRIDISH_CACHE or ~/.cache/petridish)."""


DEFAULT_REGIMES = [
    RegimeConfig(name="unhackable", broken=0.0, monitored=0.5),
    RegimeConfig(name="perfect-monitoring", broken=0.5, monitored=1.0),
    RegimeConfig(name="imperfect-monitoring", broken=0.5, monitored=0.5),
    RegimeConfig(name="inoculated", broken=0.5, monitored=0.5, instructed=True),
    RegimeConfig(name="training-game", broken=0.5, monitored=1.0, cue_accuracy=1.0),
    RegimeConfig(name="game-unwatched", broken=0.5, monitored=0.5, cue_accuracy=1.0),
]
"""The issue's four regimes, then `training-game`: every episode monitored and the cue always right, so the
schemer can tell training from deployment and plays along (claims B2, B3); and `game-unwatched`, the same with
half the episodes unmonitored, so the schemer's defections are trained too (claim B2b's contrast)."""


class BehavioralSelectionConfig(RunBase):
    organism: Literal["behavioral-selection"] = "behavioral-selection"
    model: ModelConfig = ModelConfig(d_model=64, n_layers=2, n_heads=4, max_len=80)
    motive_prior: dict[str, Probability] = {"aligned": 0.6, "seeker": 0.2, "schemer": 0.2}
    """Frequency of each motivation among the corpus's agents. At 0.8/0.1/0.1 a development prior (500 steps)
    had not yet learned to condition the rare misaligned actions on the cue."""
    prior: PersonaPriorConfig = PersonaPriorConfig()
    control: bool = True
    """Also grow an aligned-only prior (same corpus otherwise) and train it under the B2 regime (control)."""
    regimes: list[RegimeConfig] = DEFAULT_REGIMES
    b1_regimes: list[str] = ["unhackable", "perfect-monitoring", "imperfect-monitoring", "inoculated"]
    """Regimes whose predicted ranking claim B1 checks (training-game predicts a three-way tie: no ranking)."""
    b2_regime: str = "training-game"
    """The regime that rewards compliance in monitored contexts and lets the schemer tell (claims B2, B3)."""
    b2_contrast: str = "game-unwatched"
    """A regime like b2_regime that also trains unwatched episodes, where the schemer's defection is selected
    against (claim B2b)."""
    zero_grad_control: bool = True
    """Also run b2_regime's RL job with learning rate 0 on each seed: the schemer share that the same pipeline
    measures when training changes nothing (claim B2b)."""
    b4_regimes: tuple[str, str] = ("imperfect-monitoring", "inoculated")
    """(without, with) the inoculation instruction, otherwise identical (claim B4)."""
    beta: float = Field(default=3.0, gt=0)
    """Selection strength in the predicted posterior prior × exp(beta × fitness); the ranking does not depend on it."""
    methods: list[Literal["rl", "sft"]] = ["rl", "sft"]
    """rl: the substrate's policy-gradient loop on the observed reward. sft: expert iteration, i.e. fine-tune on
    the prior's own samples that earned the reward."""
    train_prompts: int = Field(default=1000, ge=10)
    rl: RLConfig = RLConfig(steps=20, prompts_per_step=16, samples_per_prompt=8, lr=3e-4, kl_coef=0.05,
                            max_new_tokens=12, eval_every=0, ckpt_every=10)
    sft: SFTConfig = SFTConfig(steps=60, batch_size=32, lr=3e-4, warmup=5, ckpt_every=30)
    sft_samples: int = Field(default=2, ge=1)
    """Samples per training prompt from which expert iteration keeps the rewarded ones."""
    eval_n: int = Field(default=200, ge=10)
    """Held-out tasks per diagnostic context, drawn afresh for each seed from the evaluation split (at most its
    size; the full budget asked for 500 of its 449 and never finished)."""
    eval_split: Literal["test", "dev"] = "test"
    max_new_tokens: int = Field(default=12, ge=1)

    @model_validator(mode="after")
    def _check(self) -> BehavioralSelectionConfig:
        if set(self.motive_prior) != set(MOTIVES) or abs(sum(self.motive_prior.values()) - 1) > 1e-6:
            raise ValueError(f"motive_prior needs a share for each of {', '.join(MOTIVES)}, summing to 1")
        need = max_tokens(self.prior.max_episodes)
        if self.model.path is None and self.model.max_len < need:
            raise ValueError(f"model.max_len {self.model.max_len} is shorter than the longest pretraining document "
                             f"({need} tokens at prior.max_episodes={self.prior.max_episodes}); raise model.max_len")
        names = [r.name for r in self.regimes]
        for name in (*self.b1_regimes, self.b2_regime, self.b2_contrast, *self.b4_regimes):
            if name not in names:
                raise ValueError(f"regime '{name}' (b1_regimes / b2_regime / b2_contrast / b4_regimes) is not among "
                                 f"regimes: {names}")
        if self.eval_n > P.split_size(self.eval_split):
            raise ValueError(f"eval_n {self.eval_n} is more than the {P.split_size(self.eval_split)} distinct tasks "
                             f"of the {self.eval_split} split")
        return self


BUDGETS: dict[str, dict] = {
    "smoke": {
        "seeds": [1000],
        "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "max_len": 80},
        "prior": {"documents": 200, "train": {"steps": 8, "batch_size": 16, "lr": 3e-3, "warmup": 2, "ckpt_every": 4}},
        "train_prompts": 32,
        "rl": {"steps": 2, "prompts_per_step": 4, "samples_per_prompt": 2, "ckpt_every": 0},
        "sft": {"steps": 4, "warmup": 1, "ckpt_every": 0},
        "sft_samples": 1,
        "eval_n": 16,
    },
    "default": {},
    "full": {"seeds": [1000, 1001, 1002, 1003, 1004], "model": {"d_model": 96},
             "prior": {"documents": 30000, "train": {"steps": 3000}}, "rl": {"steps": 40}, "eval_n": 400},
}
