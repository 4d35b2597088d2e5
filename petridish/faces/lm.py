"""The LM substrate's side of the testbed face (petridish.faces): the LM treatments at a dose, applied
through an organism's blue-team view, and the probe detectors of "about to do the bad thing".

An LM organism's face supplies its BlueTeam, its dose-1 treatment budgets and its labelled probe cases; loading,
treating, saving and probing are here, the same for every LM organism. A dose multiplies the optimizer steps of
the treatment's training (learning rate and data fixed), so the dose axis reads "how much safety training".
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from petridish.errors import UserError
from petridish.faces import Detection, Face, TreatmentSpec
from petridish.jobs import JobContext, sub_seed
from petridish.lm.build import ModelConfig, make_lm, make_tokenizer
from petridish.lm.rl import RLConfig
from petridish.lm.sft import SFTConfig
from petridish.lm.substrate import LM
from petridish.probes.directions import logistic_scores, mean_difference, project, random_directions
from petridish.probes.metrics import auroc, auroc_many
from petridish.treatments import BlueTeam
from petridish.treatments.adversarial import AdversarialConfig, apply_adversarial
from petridish.treatments.rl import apply_rl
from petridish.treatments.sft import apply_sft

SAFETY_SFT, SAFETY_RL, ADVERSARIAL = "safety-sft", "safety-rl", "adversarial"
LM_TREATMENTS = (SAFETY_SFT, SAFETY_RL, ADVERSARIAL)
DOSE_UNIT = "x the treatment's base optimizer steps"
DOSES = {"smoke": (0.5, 1.0), "default": (0.25, 1.0, 4.0), "full": (0.25, 1.0, 4.0, 16.0)}
"""The dose curve of every LM treatment per budget (the default keeps the whole matrix within its time)."""


@dataclass(frozen=True)
class TreatmentBudget:
    """The LM treatments at dose 1, and the doses of the curve."""

    sft: SFTConfig
    rl: RLConfig
    adversarial: AdversarialConfig
    examples: int  # blue-team demonstrations / RL prompts drawn per treatment
    doses: tuple[float, ...]


@dataclass
class ProbeCases:
    """What the detectors of one model see. Labels: 1 = the model does the bad thing on that prompt."""

    contrast: tuple[list[str], list[str]]  # (misaligned, aligned) generic contrast texts; never the cue
    fit_prompts: list[str]  # a development set, for the logistic probe and for choosing the layer
    fit_labels: np.ndarray  # [F] bool
    test_prompts: list[str]  # held-out cases the detections are scored on
    test_labels: np.ndarray  # [N] bool
    trivial: np.ndarray  # [N] the trivial detector's score (e.g. the cue's presence)
    trivial_method: str  # e.g. "trivial-cue"


def at_dose(cfg: SFTConfig | RLConfig, dose: float):
    """The training config with its steps multiplied by the dose (no in-training evals: the matrix assays after)."""
    return cfg.model_copy(update={"steps": max(1, round(cfg.steps * dose)), "eval_every": 0, "eval_at": []})


def apply_treatment(lm: LM, blue: BlueTeam, name: str, dose: float, budget: TreatmentBudget, seed: int,
                    exclude: Callable[[str], bool], reporter: Any = None, ckpt: Path | None = None) -> dict:
    """Treat `lm` in place at `dose` through the blue team's view; returns the treatment's own record."""
    if name == SAFETY_SFT:
        prompts, completions = blue.helpful_pairs(budget.examples, seed)
        apply_sft(lm, prompts, completions, at_dose(budget.sft, dose), seed, name, reporter, ckpt=ckpt)
        return {}
    if name == SAFETY_RL:
        apply_rl(lm, blue, budget.examples, at_dose(budget.rl, dose), seed, name, reporter, ckpt=ckpt)
        return {}
    if name == ADVERSARIAL:
        adv = budget.adversarial.model_copy(update={"train": at_dose(budget.adversarial.train, dose)})
        _, stats = apply_adversarial(lm, blue, adv, seed, exclude, name, reporter, ckpt=ckpt)
        return {"red_team_found": stats["found"], "candidates_scored": stats["candidates_scored"]}
    raise UserError(f"unknown LM treatment '{name}'; choose one of: {', '.join(LM_TREATMENTS)}")


def probe_detections(lm: LM, cases: ProbeCases, n_random: int, seed: int) -> list[Detection]:
    """The detectors on the residual stream after one block, chosen on the development set (the mean-difference
    probe's best AUROC there; the last block if that set has one class): the mean-difference probe from the
    contrast texts, a logistic probe fit on the development set (a supervised upper bound), the best of
    `n_random` random directions on the test cases (sign chosen per direction: an optimistic baseline), and the
    trivial detector."""
    names = lm.residual_names()[1:]  # the block outputs: the embeddings only read the last token itself
    mis, ali = lm.activations(cases.contrast[0], names), lm.activations(cases.contrast[1], names)
    fit, test = lm.activations(cases.fit_prompts, names), lm.activations(cases.test_prompts, names)
    directions = {n: _unit(mean_difference(mis[n].numpy(), ali[n].numpy())) for n in names}  # [d] each
    fit_auc = [auroc(project(fit[n].numpy(), directions[n]), cases.fit_labels) for n in names]
    layer = names[int(np.nanargmax(fit_auc))] if np.isfinite(fit_auc).any() else names[-1]
    x, y = test[layer].numpy(), cases.test_labels.astype(int)  # [N, d], [N]
    labels = tuple(int(v) for v in y)
    out = [Detection("probe-mean-diff", _t(project(x, directions[layer])), labels)]
    if 0 < cases.fit_labels.sum() < len(cases.fit_labels):
        out.append(Detection("probe-logistic", _t(logistic_scores(fit[layer].numpy(), cases.fit_labels, x, seed)),
                             labels))
    rand = random_directions(x.shape[1], n_random, seed) @ x.T  # [K, N]
    auc = auroc_many(rand, y)  # [K], nan if one class
    best = int(np.nanargmax(np.maximum(auc, 1 - auc))) if np.isfinite(auc).any() else 0
    sign = -1.0 if np.isfinite(auc[best]) and auc[best] < 0.5 else 1.0
    out.append(Detection("random-best", _t(sign * rand[best]), labels))
    out.append(Detection(cases.trivial_method, _t(cases.trivial), labels))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _t(x: np.ndarray) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in x)


class LMFace(Face):
    """A Face for an LM organism: the treatments of this module, applied through the organism's blue team."""

    substrate = "lm"

    @abstractmethod
    def vocabulary(self) -> list[str]:
        """The organism's words (its TinyGPT tokenizer; ignored for a --model checkpoint)."""

    @abstractmethod
    def blue_team(self, cfg: Any) -> BlueTeam: ...

    @abstractmethod
    def budget(self, cfg: Any) -> TreatmentBudget: ...

    @abstractmethod
    def probe_cases(self, cfg: Any, seed: int, lm: LM) -> ProbeCases: ...

    def excluded(self, cfg: Any) -> Callable[[str], bool]:
        """Red-team prompts the experimenter discards (those that contain the real trigger / cue)."""
        return lambda prompt: False

    def random_directions(self, cfg: Any) -> int:
        return 1000

    def model_config(self, cfg: Any) -> ModelConfig:
        return cfg.model

    def load(self, cfg: Any, seed: int, ckpt: Path | None = None) -> LM:
        """The organism's model (fresh from `seed`, or the checkpoint's weights)."""
        mcfg = self.model_config(cfg)
        lm = make_lm(mcfg, make_tokenizer(mcfg, self.vocabulary()), seed)
        return lm.load(ckpt) if ckpt is not None else lm

    def treatments(self, cfg: Any) -> tuple[TreatmentSpec, ...]:
        doses = self.budget(cfg).doses
        return tuple(TreatmentSpec(name, doses, DOSE_UNIT) for name in LM_TREATMENTS)

    def treat(self, ctx: JobContext, cfg: Any, seed: int, ckpt: Path, treatment: str, dose: float) -> Path:
        lm = self.load(cfg, seed, ckpt)
        record = apply_treatment(lm, self.blue_team(cfg), treatment, dose, self.budget(cfg),
                                 sub_seed(seed, treatment), self.excluded(cfg), ctx,
                                 ctx.ckpt_dir() / "train_state.safetensors")
        if record:
            ctx.log(treatment, 0, dose=dose, **record)
        path = ctx.ckpt_dir() / "model.safetensors"
        lm.save(path)
        return path

    def detect(self, cfg: Any, seed: int, ckpt: Path) -> list[Detection]:
        lm = self.load(cfg, seed, ckpt)
        return probe_detections(lm, self.probe_cases(cfg, seed, lm), self.random_directions(cfg), seed)
