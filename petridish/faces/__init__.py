"""An organism's standard face for the testbed: grow, treat, assay, detect, the same for every substrate."""
from __future__ import annotations
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from petridish.jobs import JobContext
from petridish.stats import Counts

@dataclass(frozen=True)
class Assay:
    """One model measured three ways (counts of cases for one seed)."""
    failure: Counts     # the bad behaviour where the safety team cannot look (triggered prompts, unwatched episodes, deployment levels)
    audit: Counts       # the same bad behaviour where the safety team can look (its own clean prompts / watched episodes / training levels)
    capability: Counts  # the intended task done right

@dataclass(frozen=True)
class Detection:
    """Scores of a detector on labelled cases (label 1 = the model is about to do the bad thing), for one seed."""
    method: str                 # "probe-mean-diff", "probe-logistic", "random-best", "trivial-cue", ...
    scores: tuple[float, ...]
    labels: tuple[int, ...]

@dataclass(frozen=True)
class TreatmentSpec:
    name: str                   # e.g. "safety-sft", "safety-rl", "adversarial", "inoculation", "safety-ppo",
                                # "partial-oversight", "diverse-levels", "adversarial-levels"
    doses: tuple[float, ...]    # increasing; the dose axis (e.g. multiples of a base number of steps, or a penalty weight)
    dose_unit: str              # what a dose means, for the plot axis
    prevention: bool = False    # applied while growing (e.g. inoculation prompting), not after

class Face(ABC):
    """What the matrix needs from an organism. Checkpoints are paths inside the run folder (safetensors)."""
    substrate: ClassVar[str]    # "lm" | "rl"

    def __init__(self, organism: str) -> None:
        self.organism = organism  # its registered name (petridish.organisms.face builds faces)

    @abstractmethod
    def config(self, budget: str) -> Any: """The organism config at this budget (the matrix's budget)."""
    @abstractmethod
    def treatments(self, cfg: Any) -> tuple[TreatmentSpec, ...]: ...
    @abstractmethod
    def grow(self, ctx: JobContext, cfg: Any, seed: int, control: bool, prevention: str = "") -> Path:
        """Grow the organism (control=True: the never-failing negative control; prevention: a prevention
        treatment's name applied during growth) and save it under ctx.ckpt_dir(); return the checkpoint path."""
    @abstractmethod
    def treat(self, ctx: JobContext, cfg: Any, seed: int, ckpt: Path, treatment: str, dose: float) -> Path:
        """Apply a treatment through the blue-team view only (never the trigger, the deployment cue or the held-out
        assay) and save the treated model under ctx.ckpt_dir(); return its path."""
    @abstractmethod
    def assay(self, cfg: Any, seed: int, ckpt: Path) -> Assay: ...
    def detect(self, cfg: Any, seed: int, ckpt: Path) -> list[Detection]:
        """Detectors of 'about to do the bad thing' on held-out cases (blue-team-built probes plus the baselines
        that keep them honest: best of N random directions, a trivial detector). Empty if the model has no
        activations to probe."""
        return []
