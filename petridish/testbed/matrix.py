"""The testbed matrix: every treatment at every dose on every organism, as one run folder.

Job graph (petridish.jobs): per (organism, seed), `grown` and `control` (the never-failing negative control) are
grown once and assayed; `detect` probes the grown model; every treatment at every dose starts from the grown
checkpoint (`<treatment>@<dose>`) and is assayed. Then `assemble` turns the assays into cell verdicts
(petridish.testbed.verdicts) and `report` writes the leaderboard, the heat-map and the dose curves.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError

from petridish import organisms as registry
from petridish.backends import Backend, run_jobs
from petridish.config import RunBase, format_validation_error, resolve_parallelism, to_yaml
from petridish.errors import UserError
from petridish.faces import Assay, Detection
from petridish.jobs import Job, JobContext, check_workers_threads
from petridish.progress import ProgressUI
from petridish.runs import RunDir, atomic_write_text, environment
from petridish.stats import Counts, rate
from petridish.testbed.verdicts import PROBES, detection_cell, not_measured_cell, treatment_cell

SEEDS = {"smoke": [1000], "default": [1000, 1001, 1002], "full": [1000, 1001, 1002, 1003, 1004]}


class MatrixConfig(RunBase):
    organism: Literal["matrix"] = "matrix"
    organisms: list[str] = Field(default_factory=registry.with_faces, min_length=1)
    """Organisms (rows); each needs a testbed face (registered with its organism)."""
    treatments: list[str] = Field(default=[])
    """Treatments (columns) to run; empty = every treatment each organism's face offers."""


def make_config(budget: str, organisms: list[str] | None, treatments: list[str] | None, seeds: int | None,
                workers: int | None) -> MatrixConfig:
    """A validated matrix config; unknown organisms or treatments are one-line user errors."""
    if budget not in SEEDS:
        raise UserError(f"unknown budget '{budget}'; choose one of: {', '.join(SEEDS)}")
    orgs = organisms or registry.with_faces()
    for o in orgs:
        registry.face(o)
    if len(set(orgs)) != len(orgs):
        raise UserError("--organisms lists an organism twice")
    if treatments:
        offered = {s.name for o in orgs for s in _face_treatments(o, budget)}
        unknown = [t for t in treatments if t not in offered]
        if unknown:
            raise UserError(f"unknown treatment(s) {', '.join(unknown)} for these organisms; choose from: "
                            f"{', '.join(sorted(offered))}")
    if seeds is not None and seeds < 1:
        raise UserError("--seeds must be at least 1")
    data = {"budget": budget, "organisms": orgs, "treatments": treatments or [],
            "seeds": SEEDS[budget] if seeds is None else list(range(1000, 1000 + seeds))}
    if workers is not None:
        data["workers"] = workers
    try:
        return MatrixConfig.model_validate(data)
    except ValidationError as e:
        raise UserError(format_validation_error(e, MatrixConfig)) from None


def _face_treatments(organism: str, budget: str):
    face = registry.face(organism)
    return face.treatments(face.config(budget))


# --- jobs ------------------------------------------------------------------------------------------------------
def key(organism: str, seed: int, what: str) -> str:
    return f"{organism}/s{seed}/{what}"


def _assay_dict(a: Assay) -> dict:
    return {name: [c.k, c.n] for name, c in vars(a).items()}


def job_grow(ctx: JobContext) -> dict:
    face = registry.face(ctx.args["organism"])
    cfg = face.config(ctx.config.budget)
    ckpt = face.grow(ctx, cfg, ctx.args["seed"], control=ctx.args["control"])
    return {"ckpt": str(ckpt.relative_to(ctx.run_path)), "assay": _assay_dict(face.assay(cfg, ctx.args["seed"], ckpt))}


def job_treat(ctx: JobContext) -> dict:
    """A treatment at one dose on the grown model; a prevention treatment grows a fresh model with it instead."""
    face = registry.face(ctx.args["organism"])
    cfg = face.config(ctx.config.budget)
    if ctx.args["prevention"]:
        ckpt = face.grow(ctx, cfg, ctx.args["seed"], control=False, prevention=ctx.args["treatment"])
    else:
        grown = ctx.run_path / ctx.deps[ctx.args["grown"]]["ckpt"]
        ckpt = face.treat(ctx, cfg, ctx.args["seed"], grown, ctx.args["treatment"], ctx.args["dose"])
    return {"ckpt": str(ckpt.relative_to(ctx.run_path)), "assay": _assay_dict(face.assay(cfg, ctx.args["seed"], ckpt))}


def job_detect(ctx: JobContext) -> dict:
    face = registry.face(ctx.args["organism"])
    cfg = face.config(ctx.config.budget)
    grown = ctx.run_path / ctx.deps[ctx.args["grown"]]["ckpt"]
    return {"detections": [asdict(d) for d in face.detect(cfg, ctx.args["seed"], grown)]}


def jobs(cfg: MatrixConfig) -> list[Job]:
    out: list[Job] = []
    for org in cfg.organisms:
        specs = [s for s in _face_treatments(org, cfg.budget) if not cfg.treatments or s.name in cfg.treatments]
        for seed in cfg.seeds:
            base = {"organism": org, "seed": seed}
            grown = key(org, seed, "grown")
            out.append(Job(grown, job_grow, args={**base, "control": False}, label=f"{org} s{seed} grow"))
            out.append(Job(key(org, seed, "control"), job_grow, args={**base, "control": True},
                           label=f"{org} s{seed} control"))
            out.append(Job(key(org, seed, "detect"), job_detect, deps=(grown,), args={**base, "grown": grown},
                           label=f"{org} s{seed} detect"))
            for spec in specs:
                for dose in spec.doses:
                    out.append(Job(key(org, seed, f"{spec.name}@{dose:g}"), job_treat,
                                   deps=() if spec.prevention else (grown,),
                                   args={**base, "grown": grown, "treatment": spec.name, "dose": dose,
                                         "prevention": spec.prevention},
                                   label=f"{org} s{seed} {spec.name}@{dose:g}"))
    return out


# --- run -----------------------------------------------------------------------------------------------------
def start(cfg: MatrixConfig, out: Path) -> tuple[RunDir, MatrixConfig]:
    cfg = resolve_parallelism(cfg, n_parallel_jobs=len(jobs(cfg)))
    check_workers_threads(cfg.workers, cfg.threads)
    run = RunDir.create(out)
    atomic_write_text(run.path / "config.yaml", to_yaml(cfg))
    run.write_json("env.json", environment(cfg.seeds, cfg.threads, cfg.workers))
    return run, cfg


def load_config(run: RunDir) -> MatrixConfig:
    try:
        data = yaml.safe_load((run.path / "config.yaml").read_text())
    except yaml.YAMLError as e:
        raise UserError(f"{run.path / 'config.yaml'} is corrupt ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict) or data.get("organism") != "matrix":
        raise UserError(f"{run.path} is not a matrix run folder; resume it with `petridish run --resume`")
    try:
        return MatrixConfig.model_validate(data)
    except ValidationError as e:
        raise UserError(f"{run.path / 'config.yaml'}: {format_validation_error(e, MatrixConfig)}") from None


def execute(cfg: MatrixConfig, run: RunDir, ui: ProgressUI | None = None, backend: Backend | None = None) -> dict:
    """Run every unfinished job (on the backend; default the local pool), then write result.json, the dose curves
    and report.html."""
    from petridish.testbed.report import write_report

    t0 = time.perf_counter()
    outputs = run_jobs(run, jobs(cfg), cfg, cfg.workers, cfg.threads, ui, backend)
    ui = ui or ProgressUI(enabled=False)
    ui.status("judging cells")
    result = assemble(cfg, outputs)
    result["timings"] = timings(outputs, time.perf_counter() - t0)
    run.write_json("result.json", result)
    ui.status("writing report.html and dose curves")
    write_report(result, run)
    return result


def timings(outputs: dict[str, dict], wall: float) -> dict:
    """Wall and CPU seconds per stage (grow, control, detect, each treatment), summed over organisms and seeds."""
    wall_s: dict[str, float] = {}
    cpu_s: dict[str, float] = {}
    for k, out in outputs.items():
        stage = k.split("/")[-1].split("@")[0]
        wall_s[stage] = round(wall_s.get(stage, 0.0) + out.get("wall_s", 0.0), 2)
        cpu_s[stage] = round(cpu_s.get(stage, 0.0) + out.get("cpu_s", 0.0), 2)
    return {"wall_s": round(wall, 2), "jobs_cpu_s": round(sum(cpu_s.values()), 2), "per_stage_s": wall_s,
            "per_stage_cpu_s": cpu_s}


def _assay(out: dict) -> Assay:
    return Assay(**{k: Counts(*v) for k, v in out["assay"].items()})


def assemble(cfg: MatrixConfig, outputs: dict[str, dict]) -> dict:
    """Every cell of the matrix with its verdict, estimates and dose curve."""
    all_treatments: list[str] = []
    cells, detection, configs = [], [], {}
    for org in cfg.organisms:
        face = registry.face(org)
        fcfg = face.config(cfg.budget)
        configs[org] = fcfg.dump() if hasattr(fcfg, "dump") else fcfg.model_dump(mode="json") \
            if hasattr(fcfg, "model_dump") else {}
        specs = {s.name: s for s in face.treatments(fcfg)}
        shared = getattr(face, "shared_cases", False)  # every seed assayed on the same cases (e.g. levels)
        before = [_assay(outputs[key(org, s, "grown")]) for s in cfg.seeds]
        control = [_assay(outputs[key(org, s, "control")]) for s in cfg.seeds]
        for name in cfg.treatments or list(specs):
            if name not in all_treatments:
                all_treatments.append(name)
            if name not in specs:
                cells.append(not_measured_cell(org, name, f"'{name}' does not apply to {org}").to_dict())
                continue
            after = {d: [_assay(outputs[key(org, s, f"{name}@{d:g}")]) for s in cfg.seeds] for d in specs[name].doses}
            cell = treatment_cell(org, name, before, after, control, shared).to_dict()
            cell["dose_unit"] = specs[name].dose_unit
            cells.append(cell)
        dets = [[Detection(d["method"], tuple(d["scores"]), tuple(d["labels"]))
                 for d in outputs[key(org, s, "detect")]["detections"]] for s in cfg.seeds]
        fail0 = rate([a.failure for a in before], shared)
        detection += [detection_cell(org, p, dets, fail0).to_dict() for p in PROBES]
    for name in all_treatments:  # organisms without a treatment another organism has get a not-measured cell
        for org in cfg.organisms:
            if not any(c["organism"] == org and c["treatment"] == name for c in cells):
                cells.append(not_measured_cell(org, name, f"'{name}' does not apply to {org}").to_dict())
    return {"kind": "matrix", "budget": cfg.budget, "seeds": cfg.seeds, "organisms": cfg.organisms,
            "treatments": all_treatments, "probes": list(PROBES), "cells": cells, "detection": detection,
            "thresholds": thresholds(), "configs": configs}


def thresholds() -> dict:
    from petridish.testbed import verdicts as V

    return {k: getattr(V, k) for k in ("GATE_FAILURE", "AUDIT_PASS", "REMOVE_FRACTION", "HIDE_FRACTION",
                                       "CAPABILITY_POINTS", "DETECT_AUROC")}

