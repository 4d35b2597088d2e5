"""One organism's job graph from its face: grow the organism and its never-failing control, probe the grown model,
apply every treatment at every dose to it, and assay each model.

`petridish matrix` builds each of its rows with `face_jobs`, and a `FaceOrganism`'s `run` IS `face_jobs`, so a
model grown by either command is the same job: the same key (`{organism}/s{seed}/grown`), arguments, checkpoint
and output. Job outputs are read back as typed records (`GrowOutput`, `SeedRecords`), never by parsing keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from petridish.faces import Assay, Detection, Face, TreatmentSpec
from petridish.jobs import Job, JobContext
from petridish.stats import Counts


def key(organism: str, seed: int, what: str) -> str:
    return f"{organism}/s{seed}/{what}"


def treated(name: str, dose: float) -> str:
    """The last part of a treated model's key: `<treatment>@<dose>`."""
    return f"{name}@{dose:g}"


@dataclass(frozen=True)
class GrowOutput:
    """What a grow or treat job returns: the model's checkpoint (relative to the run folder) and its assay."""

    ckpt: str
    assay: Assay

    def to_dict(self) -> dict:
        return {"ckpt": self.ckpt, "assay": {name: [c.k, c.n] for name, c in vars(self.assay).items()}}

    @staticmethod
    def of(out: dict) -> GrowOutput:
        return GrowOutput(out["ckpt"], Assay(**{k: Counts(*v) for k, v in out["assay"].items()}))


def detections_of(out: dict) -> list[Detection]:
    """A detect job's output as Detection records."""
    return [Detection(d["method"], tuple(d["scores"]), tuple(d["labels"])) for d in out["detections"]]


def face_config(face: Face, ctx: JobContext) -> Any:
    """The organism's config in this job: a run's own (`petridish run`: the config names this organism), or the
    face's at the budget of a run that spans many organisms (`petridish matrix`)."""
    cfg = ctx.config
    return cfg if getattr(cfg, "organism", None) == face.organism else face.config(cfg.budget)


def job_grow(face: Face, ctx: JobContext) -> dict:
    cfg, seed = face_config(face, ctx), ctx.args["seed"]
    ckpt = face.grow(ctx, cfg, seed, control=ctx.args["control"])
    return GrowOutput(str(ckpt.relative_to(ctx.run_path)), face.assay(cfg, seed, ckpt)).to_dict()


def job_treat(face: Face, ctx: JobContext) -> dict:
    """A treatment at one dose on the grown model; a prevention treatment grows a fresh model with it instead."""
    cfg, seed = face_config(face, ctx), ctx.args["seed"]
    if ctx.args["prevention"]:
        ckpt = face.grow(ctx, cfg, seed, control=False, prevention=ctx.args["treatment"])
    else:
        grown = ctx.run_path / GrowOutput.of(ctx.deps[ctx.args["grown"]]).ckpt
        ckpt = face.treat(ctx, cfg, seed, grown, ctx.args["treatment"], ctx.args["dose"])
    return GrowOutput(str(ckpt.relative_to(ctx.run_path)), face.assay(cfg, seed, ckpt)).to_dict()


def job_detect(face: Face, ctx: JobContext) -> dict:
    cfg = face_config(face, ctx)
    grown = ctx.run_path / GrowOutput.of(ctx.deps[ctx.args["grown"]]).ckpt
    return {"detections": [asdict(d) for d in face.detect(cfg, ctx.args["seed"], grown)]}


def face_jobs(organism: str, face: Face, cfg: Any, seeds: Sequence[int],
              treatments: Sequence[TreatmentSpec] | None = None) -> list[Job]:
    """Per seed: `grown`, `control`, `detect` and `<treatment>@<dose>` for each treatment (default: the face's)."""
    specs = face.treatments(cfg) if treatments is None else treatments
    out: list[Job] = []
    for seed in seeds:
        base = {"organism": organism, "seed": seed}
        grown = key(organism, seed, "grown")
        out.append(Job(grown, partial(job_grow, face), args={**base, "control": False},
                       label=f"{organism} s{seed} grow"))
        out.append(Job(key(organism, seed, "control"), partial(job_grow, face), args={**base, "control": True},
                       label=f"{organism} s{seed} control"))
        out.append(Job(key(organism, seed, "detect"), partial(job_detect, face), deps=(grown,),
                       args={**base, "grown": grown}, label=f"{organism} s{seed} detect"))
        for spec in specs:
            for dose in spec.doses:
                out.append(Job(key(organism, seed, treated(spec.name, dose)), partial(job_treat, face),
                               deps=() if spec.prevention else (grown,),
                               args={**base, "grown": grown, "treatment": spec.name, "dose": dose,
                                     "prevention": spec.prevention},
                               label=f"{organism} s{seed} {treated(spec.name, dose)}"))
    return out


@dataclass(frozen=True)
class SeedRecords:
    """Every assay of one seed's models, typed: what an organism's analysis reads instead of job outputs."""

    seed: int
    grown: Assay
    control: Assay
    treated: dict[str, dict[float, Assay]]  # treatment -> dose -> the treated model's assay
    detections: list[Detection]


def records(organism: str, seeds: Sequence[int], treatments: Sequence[TreatmentSpec],
            outputs: dict[str, dict]) -> list[SeedRecords]:
    """The job outputs of `face_jobs(organism, ..., seeds, treatments)` as one record per seed."""
    def assay(seed: int, what: str) -> Assay:
        return GrowOutput.of(outputs[key(organism, seed, what)]).assay

    return [SeedRecords(seed, assay(seed, "grown"), assay(seed, "control"),
                        {s.name: {d: assay(seed, treated(s.name, d)) for d in s.doses} for s in treatments},
                        detections_of(outputs[key(organism, seed, "detect")])) for seed in seeds]
