"""Run an organism into a run folder: config -> jobs -> assemble -> result.json -> report."""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from pydantic import ValidationError

from petridish import organisms
from petridish.backends import Backend, run_jobs
from petridish.config import RunBase, format_validation_error, resolve_parallelism, to_yaml
from petridish.errors import UserError
from petridish.jobs import check_workers_threads
from petridish.organisms.base import Organism
from petridish.progress import ProgressUI
from petridish.report.html import write_report
from petridish.runs import RunDir, atomic_write_text, environment


def start(organism: Organism, cfg: RunBase, out: Path) -> tuple[RunDir, RunBase]:
    """Create the run folder (refusing an existing one) and write config.yaml and env.json."""
    jobs = organism.jobs(cfg)
    cfg = resolve_parallelism(cfg, n_parallel_jobs=len(jobs))
    check_workers_threads(cfg.workers, cfg.threads)
    run = RunDir.create(out)
    atomic_write_text(run.path / "config.yaml", to_yaml(cfg))
    run.write_json("env.json", environment(cfg.seeds, cfg.threads, cfg.workers))
    return run, cfg


def load_config(run: RunDir) -> tuple[Organism, RunBase]:
    """The organism and resolved config of an existing run folder."""
    try:
        data = yaml.safe_load((run.path / "config.yaml").read_text())
    except yaml.YAMLError as e:
        raise UserError(f"{run.path / 'config.yaml'} is corrupt ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict) or "organism" not in data:
        raise UserError(f"{run.path / 'config.yaml'} does not name an organism; is this a petridish run folder?")
    org = organisms.get(data["organism"])
    try:
        return org, org.Config.model_validate(data)
    except ValidationError as e:
        raise UserError(f"{run.path / 'config.yaml'}: {format_validation_error(e, org.Config)}") from None


def execute(organism: Organism, cfg: RunBase, run: RunDir, ui: ProgressUI | None = None,
            backend: Backend | None = None) -> dict:
    """Run every unfinished job (on the backend; default the local pool), then write result.json and the report."""
    started = time.time()
    ui = ui or ProgressUI(enabled=False)
    ui.status("preparing data")
    organism.prepare(cfg, run)
    outputs = run_jobs(run, organism.jobs(cfg), cfg, cfg.workers, cfg.threads, ui, backend)
    return finish(organism, cfg, run, outputs, started, ui)


def finish(organism: Organism, cfg: RunBase, run: RunDir, outputs: dict[str, dict], started: float,
           ui: ProgressUI | None = None) -> dict:
    """result.json and the report from the finished jobs' outputs (by job key). started: time.time() when this
    session started (a sweep's: its cells may finish in other processes or on other nodes)."""
    ui = ui or ProgressUI(enabled=False)
    ui.status("judging claims")
    body = organism.assemble(cfg, outputs, run)
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    for key, out in outputs.items():
        stage = key.split("/")[-1].split("@")[0]
        stages[stage] = round(stages.get(stage, 0.0) + out.get("wall_s", 0.0), 2)
        stages_cpu[stage] = round(stages_cpu.get(stage, 0.0) + out.get("cpu_s", 0.0), 2)
    result = {
        "organism": organism.name,
        "budget": cfg.budget,
        "seeds": cfg.seeds,
        "warnings": body.get("warnings", []),
        "claims": body["claims"],
        "gates": body.get("gates", []),
        "metrics": body.get("metrics", {}),
        "controls": body.get("controls", {}),
        "timings": {
            "wall_s": round(time.time() - started, 2),  # this session (a resumed run counts only its part)
            "jobs_wall_s": round(sum(o.get("wall_s", 0.0) for o in outputs.values()), 2),
            "jobs_cpu_s": round(sum(o.get("cpu_s", 0.0) for o in outputs.values()), 2),
            "per_stage_s": stages,
            "per_stage_cpu_s": stages_cpu,
        },
        "card": organism.card(cfg).to_dict(),
    }
    if body.get("tables"):  # optional extra tables: [{"title", "columns", "rows"}] of preformatted cells
        result["tables"] = body["tables"]
    run.write_json("result.json", result)
    record_provenance(run, outputs)
    ui.status("writing report.html and plots")
    write_report(organism, cfg, result, run)
    return result


def record_provenance(run: RunDir, outputs: dict[str, dict]) -> None:
    """Where each job's model came from, for the jobs that say ("source": "trained" / "cache"), in env.json: a
    cache hit changes no number, and a run resumed after its cache entry was stored must give the same result.json."""
    provenance = {key: out["source"] for key, out in outputs.items() if "source" in out}
    if provenance:
        env = run.read_json("env.json") if (run.path / "env.json").is_file() else {}
        run.write_json("env.json", {**env, "provenance": provenance})
