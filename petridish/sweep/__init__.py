"""`petridish sweep`: an organism over a grid of config values (its risk factors), one run folder per cell.

    SWEEP_DIR/sweep.json         the grid (axes, cells) and, once finished, every claim's estimate/CI/verdict per cell
    SWEEP_DIR/cells/<cell>/      an ordinary run folder (config.yaml, jobs/, result.json, report.html...)
    SWEEP_DIR/phase-<claim>.png  a phase diagram per claim: its headline estimate over the axes

Every cell's config is validated before anything is written; every cell's run folder is then created at once, so a
killed sweep resumes from its folders alone (a finished cell is skipped, an unfinished one resumes job by job).
All cells' jobs form one graph (keys prefixed by the cell), so the backend's workers stay busy across cells; each
cell ends with a job that writes its result.json and report once the cell's own jobs are done.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from petridish import organisms
from petridish.backends import Backend, run_tasks
from petridish.claims import ClaimSpec
from petridish.config import RunBase, resolve, resolve_parallelism
from petridish.errors import UserError
from petridish.experiment import finish, load_config, start
from petridish.jobs import Job, JobContext, Task, check_workers_threads, tasks_of
from petridish.organisms.base import Organism
from petridish.progress import ProgressUI
from petridish.runs import RunDir, atomic_write_json, lock_folder, remove_temp_files

FIXED_KEYS = {"organism": "the organism", "budget": "--budget", "seeds": "--seeds", "workers": "--workers",
              "threads": "--set threads=..."}
"""Keys that are not risk factors: a sweep sets them once, for every cell."""


@dataclass(frozen=True)
class Axis:
    key: str  # a config key, dotted for sub-configs (e.g. ppo.lr)
    raw: tuple[str, ...]  # the values as typed, in order (YAML scalars, or lists in brackets)


@dataclass(frozen=True)
class Cell:
    name: str  # its folder under cells/, e.g. "cue_accuracies=[0.5],interruption_probability=0.3"
    values: tuple[tuple[str, str], ...]  # (key, raw value) per axis

    @property
    def sets(self) -> list[str]:
        return [f"{k}={v}" for k, v in self.values]


@dataclass
class CellResult:
    cell: Cell
    claims: list[dict]  # per claim: id, quantity, condition, threshold, estimate, ci, verdict, reason


def _split_top_level(text: str) -> list[str]:
    """'0.1,[0.5,0.9],x' -> ['0.1', '[0.5,0.9]', 'x']: commas inside brackets belong to the value."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += (ch in "[{") - (ch in "]}")
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [*parts, cur.strip()]


def parse_axis(text: str) -> Axis:
    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UserError(f"--axis expects KEY=V1,V2,... (e.g. --axis cue_accuracies=[0.5],[0.9]), got '{text}'")
    if key in FIXED_KEYS:
        raise UserError(f"--axis {key}: not a sweep axis; set it for every cell with {FIXED_KEYS[key]}")
    raw = tuple(_split_top_level(values))
    if any(not v for v in raw):
        raise UserError(f"--axis {key}: empty value in '{values}'; give values separated by commas")
    if len(set(raw)) != len(raw):
        raise UserError(f"--axis {key}: a value is repeated in '{values}'")
    return Axis(key, raw)


def _folder_name(values: tuple[tuple[str, str], ...]) -> str:
    name = ",".join(f"{k}={v}" for k, v in values)
    return re.sub(r"[^A-Za-z0-9._=,+\-\[\]]", "_", name)


def grid(axes: list[Axis]) -> list[Cell]:
    """Every combination of the axes' values, the first axis varying slowest."""
    keys = [a.key for a in axes]
    if len(set(keys)) != len(keys):
        raise UserError(f"--axis: a key is given twice ({', '.join(keys)}); list all its values in one --axis")
    cells = [Cell(_folder_name(tuple(zip(keys, combo))), tuple(zip(keys, combo)))
             for combo in itertools.product(*(a.raw for a in axes))]
    if len({c.name for c in cells}) != len(cells):
        raise UserError("--axis: two cells' values give the same folder name; write the values differently")
    return cells


def plan(org: Organism, axes: list[Axis], budget: str, config_file: str | None, sets: list[str],
         extra: dict) -> list[tuple[Cell, RunBase]]:
    """Every cell's validated config (a bad axis key or value fails here, before anything is written)."""
    if not axes:
        raise UserError("give at least one --axis KEY=V1,V2,... (see the organism's config keys)")
    for a in axes:  # each value alone first, so that the error names the --axis it comes from
        for v in a.raw:
            try:
                resolve(org.Config, org.name, budget, org.budgets, config_file, [*sets, f"{a.key}={v}"], extra)
            except UserError as e:
                raise UserError(f"--axis {a.key}={v}: {e}") from None
    out = []
    for cell in grid(axes):
        try:
            cfg = resolve(org.Config, org.name, budget, org.budgets, config_file, [*sets, *cell.sets], extra)
        except UserError as e:
            raise UserError(f"--axis cell {cell.name}: {e}") from None
        out.append((cell, cfg))
    return out


def create(org: Organism, axes: list[Axis], cells: list[tuple[Cell, RunBase]],
           out: Path) -> list[tuple[Cell, RunDir, RunBase]]:
    """The sweep folder, sweep.json (the grid) and every cell's run folder (with its config as resolved)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"sweep folder {out} already exists; pass --resume {out} to continue it, or choose another "
                        f"--out")
    n_jobs = sum(len(org.jobs(cfg)) for _, cfg in cells)
    resolved = [resolve_parallelism(cfg, n_parallel_jobs=n_jobs) for _, cfg in cells]
    check_workers_threads(resolved[0].workers, resolved[0].threads)
    out.mkdir(parents=True, exist_ok=True)
    lock_folder(out)
    atomic_write_json(out / "sweep.json", _record(org, axes, [c for c, _ in cells], resolved[0]))
    return [(cell, *start(org, cfg, out / "cells" / cell.name)) for (cell, _), cfg in zip(cells, resolved)]


def open_sweep(path: Path, rerun_bad: bool = False) -> tuple[Organism, list[Axis], list[tuple[Cell, RunDir, RunBase]]]:
    """An existing sweep's grid and cells, locked for this process (for --resume)."""
    try:
        rec = json.loads((path / "sweep.json").read_text())
    except (OSError, json.JSONDecodeError):
        raise UserError(f"{path} is not a petridish sweep folder (no readable sweep.json); give the folder that "
                        f"`petridish sweep` wrote") from None
    lock_folder(path)
    org = organisms.get(rec["organism"])
    axes = [Axis(a["key"], tuple(a["values"])) for a in rec["axes"]]
    cells = []
    for cell in grid(axes):
        run = RunDir.resume(path / "cells" / cell.name, rerun_bad)
        cells.append((cell, run, load_config(run)[1]))
    remove_temp_files(path)
    return org, axes, cells


RESULT_KEY = "_result"


def write_result(ctx: JobContext) -> dict:
    """A cell's result.json and report, as the last job of its cell: cells finish in parallel, on any node."""
    finish(organisms.get(ctx.config.organism), ctx.config, ctx.run, ctx.deps, ctx.args["started"])
    return {}


def run(org: Organism, axes: list[Axis], cells: list[tuple[Cell, RunDir, RunBase]], path: Path, backend: Backend,
        ui: ProgressUI | None = None) -> list[CellResult]:
    """Run every unfinished cell (all their jobs in one graph), write each cell's result.json, then sweep.json."""
    started = time.time()
    tasks = []
    for cell, r, cfg in cells:
        if (r.path / "result.json").is_file():
            continue
        org.prepare(cfg, r)
        r.job_file(RESULT_KEY).unlink(missing_ok=True)  # result.json is what marks a cell done
        jobs = tasks_of(r, org.jobs(cfg), cfg, prefix=f"{cell.name}/")
        result = Job(RESULT_KEY, write_result, tuple(t.job.key for t in jobs), {"started": started}, "result.json")
        tasks += [*jobs, Task(f"{cell.name}/{RESULT_KEY}", result, r.path.resolve(), cfg, tuple(t.key for t in jobs))]
    cfg0 = cells[0][2]
    run_tasks(tasks, cfg0.workers, cfg0.threads, ui, backend)
    specs = {spec.id: spec for spec in org.claims}
    results = [CellResult(cell, [_claim(c, specs.get(c["id"])) for c in r.read_json("result.json")["claims"]])
               for cell, r, _ in cells]
    atomic_write_json(path / "sweep.json", _record(org, axes, [c for c, _, _ in cells], cfg0, results,
                                                   round(time.time() - started, 2)))
    return results


def _claim(c: dict, spec: ClaimSpec | None) -> dict:
    """A claim record of result.json reduced to its headline (the registered claim's first condition)."""
    cond = spec.conditions[0] if spec else None
    return {"id": c["id"], "quantity": cond.quantity if cond else c["id"],
            "condition": cond.text() if cond else c.get("threshold", ""), "threshold": cond.threshold if cond else None,
            "estimate": c["estimate"], "ci": list(c["ci"]), "verdict": c["verdict"], "reason": c.get("reason", "")}


def _record(org: Organism, axes: list[Axis], cells: list[Cell], cfg: RunBase, results: Sequence[CellResult] = (),
            wall_s: float | None = None) -> dict:
    """sweep.json: the grid, and each cell's claims once the sweep has finished (null before)."""
    done = {r.cell.name: r for r in results}
    return {
        "organism": org.name, "budget": cfg.budget, "seeds": cfg.seeds,
        "axes": [{"key": a.key, "values": list(a.raw)} for a in axes],
        "cells": [{"name": c.name, "run": f"cells/{c.name}", "values": dict(c.values),
                   "claims": done[c.name].claims if c.name in done else None} for c in cells],
        "wall_s": wall_s,
    }
