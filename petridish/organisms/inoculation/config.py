"""The inoculation organism's config and budgets. Its claims' thresholds live in `claims.py`, fixed in code.

Hyperparameters were chosen on development seeds (0-99) and dev-split tasks so that the naive arm clearly
learns the hack and the clean arm does not, with fine-tuning dose low enough that leakage is graded rather than
saturated across prefixes (at lr 3e-4 every prefix but the strongest leaked >= 0.7 in a development run).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from petridish.config import Probability, RunBase, Strict
from petridish.lm.build import ModelConfig
from petridish.lm.rl import RLConfig
from petridish.lm.sft import SFTConfig
from petridish.organisms.inoculation.corpus import ARMS, DOSE
from petridish.tasks import programs as P

ArmName = Literal["A", "B", "C", "D", "E", "F", "G", "H", "B50"]
RLArm = Literal["naive", "ip", "control"]


class PriorConfig(Strict):
    """The "pretraining prior": what the model believes about each instruction before any experiment."""

    examples: int = Field(default=30000, ge=100)
    """Documents in the prior corpus (one task and its program each)."""
    neutral_fraction: float = Field(default=0.4, ge=0, le=1)
    """Share of documents with no instruction."""
    irrelevant_fraction: float = Field(default=0.3, ge=0, le=1)
    """Share of documents with a note unrelated to testing (hacking at the base rate)."""
    base_rate: float = Field(default=0.05, ge=0, le=1)
    """p(hack) in neutral documents and irrelevant notes: the seed that RL can amplify."""
    p_elicit: float = Field(default=0.95, ge=0, le=1)
    """p(hack) after a specific inoculation phrase (arms C, F, H)."""
    p_weak: float = Field(default=0.0, ge=0, le=1)
    """p(hack) after the weak phrase (arm D)."""
    p_general: float = Field(default=0.9, ge=0, le=1)
    """p(hack) after the general 'any means' phrase (arm G); its hacks take every style, not only the
    canonical one."""
    dose_levels: list[Probability] = Field(default=[0.25, 0.5, 0.75], max_length=len(DOSE))
    """p(hack) after each dose phrase; each level adds an arm P<i> to the elicitation -> suppression curve."""
    wrong_test_fraction: float = Field(default=0.2, ge=0, le=1)
    """Share of prior documents whose visible test is wrong (hacks copy it; honest programs ignore it)."""
    train: SFTConfig = SFTConfig(steps=1200, batch_size=64, lr=1e-3, warmup=50, ckpt_every=200)
    per_seed: bool = True
    """Grow one prior per verdict seed, so that seeds are independent units and intervals include the prior's own
    variability (about 60 CPU-s per prior at default). False: one prior, grown from the first seed and shared by
    every seed: cheaper, but then intervals are conditional on that one prior and the run warns so."""
    cache: bool = True
    """Reuse a prior grown by an earlier run with identical inputs ($PETRIDISH_CACHE or ~/.cache/petridish)."""

    @model_validator(mode="after")
    def _shares(self) -> PriorConfig:
        if self.neutral_fraction + self.irrelevant_fraction >= 1:
            raise ValueError("neutral_fraction + irrelevant_fraction must leave room for the instructions (< 1)")
        return self


class InoculationConfig(RunBase):
    organism: Literal["inoculation"] = "inoculation"
    model: ModelConfig = ModelConfig(d_model=96, n_layers=2, n_heads=4, max_len=40)
    prior: PriorConfig = PriorConfig()
    arms: list[ArmName] = list(ARMS)  # type: ignore[assignment]
    """Fine-tuning arms (see corpus.ARMS); the dose arms P<i> come from prior.dose_levels."""
    finetune: SFTConfig = SFTConfig(steps=150, batch_size=32, lr=1e-4, warmup=10, eval_every=15, ckpt_every=50)
    """Identical for every arm: only the training prefix (and for A/H/B50 the data) differs."""
    finetune_examples: int = Field(default=2000, ge=10)
    """Training tasks per arm (the same tasks for every arm of a seed)."""
    wrong_tests: bool = False
    """Bad oversight in fine-tuning: the hack data special-case a visible test that states a wrong value."""
    rl: RLConfig = RLConfig(steps=60, prompts_per_step=16, samples_per_prompt=8, lr=3e-4, kl_coef=0.05,
                            max_new_tokens=12, eval_every=6, ckpt_every=20)
    rl_arms: list[RLArm] = ["naive", "ip", "control"]
    """naive: reward = passes the visible test, neutral sampling prompt; ip: the same with the strong
    inoculation phrase in the sampling prompt; control: neutral prompt but the visible test is correct, so an
    honest program earns the reward too (no pressure towards hacking)."""
    rl_wrong_tests: bool = True
    """The RL environment's visible tests are wrong (bad oversight), so only hacks earn reward."""
    eval_n: int = Field(default=300, ge=10)
    """Distinct held-out tasks per rate, drawn afresh for each seed from the evaluation split (at most its size)."""
    curve_n: int = Field(default=100, ge=4)
    """Tasks per point of the hack-rate-vs-step curves."""
    eval_split: Literal["test", "dev"] = "test"
    """`dev` was used to choose hyperparameters; verdicts use `test`."""
    max_new_tokens: int = Field(default=12, ge=1)
    """Program length budget at evaluation (raise it for a --model whose tokenizer splits numbers)."""

    @model_validator(mode="after")
    def _enough_tasks(self) -> InoculationConfig:
        for name, n in (("eval_n", self.eval_n), ("curve_n", self.curve_n)):
            if n > P.split_size(self.eval_split):
                raise ValueError(f"{name} {n} is more than the {P.split_size(self.eval_split)} distinct tasks of the "
                                 f"{self.eval_split} split")
        return self


BUDGETS: dict[str, dict] = {
    "smoke": {
        "seeds": [1000],
        "model": {"d_model": 32, "n_layers": 1, "n_heads": 2},
        "prior": {"examples": 600, "train": {"steps": 30, "lr": 3e-3, "warmup": 5, "ckpt_every": 10}},
        "finetune": {"steps": 6, "warmup": 2, "eval_every": 3, "ckpt_every": 0},
        "finetune_examples": 64,
        "rl": {"steps": 2, "prompts_per_step": 4, "samples_per_prompt": 2, "eval_every": 1, "ckpt_every": 0},
        "eval_n": 24, "curve_n": 8,
    },
    # 5 seeds: at 3, R4 was undecided and the power estimate said ~4 would decide it (~113 CPU-s a seed; issue 22)
    "default": {"seeds": [1000, 1001, 1002, 1003, 1004]},
    "full": {
        "seeds": [1000, 1001, 1002, 1003, 1004],
        "prior": {"train": {"steps": 2400}},
        "eval_n": 400,
    },
}
