"""A run is a graph of jobs (grow the base model, insert a backdoor, apply a treatment, ...).

Each job is a module-level function `fn(ctx) -> dict` that reads its dependencies' outputs, writes
checkpoints under its own folder and returns a JSON-able summary, saved atomically as jobs/<key>.json.
A job whose output exists is done, so resuming a killed run re-enters only unfinished jobs (and those
resume from their last in-job checkpoint). Independent jobs run in parallel on a backend (petridish/backends:
the local process pool, or Ray) with a fixed number of torch threads each, so results do not depend on scheduling.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from petridish.errors import UserError
from petridish.runs import RunDir


def sub_seed(seed: int, name: str) -> int:
    """A seed for one purpose within a job (data, batches, sampling), distinct per purpose and stable across runs."""
    return (seed * 7919 + zlib.crc32(name.encode())) % (2**31)


@dataclass
class Job:
    key: str  # unique and path-safe, e.g. "seed1000/backdoor-normal"
    fn: Callable[[JobContext], dict]
    deps: tuple[str, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # shown on the progress bar
    gpus: float = 0.0  # GPUs the job needs: the Ray backend reserves them; the local pool runs it where it is


@dataclass(frozen=True)
class Task:
    """A job of a given run folder, as a backend schedules it (keys and deps are unique across the whole graph)."""

    key: str
    job: Job
    run_path: Path
    config: Any
    deps: tuple[str, ...]

    @property
    def label(self) -> str:
        """The progress-bar label: the job's own, after the sweep cell's prefix if any."""
        return self.key[: len(self.key) - len(self.job.key)] + (self.job.label or self.job.key)

    def dep_outputs(self, outputs: dict[str, dict]) -> dict[str, dict]:
        """The dependencies' outputs keyed as the job knows them (its own run's keys)."""
        return {jd: outputs[td] for jd, td in zip(self.job.deps, self.deps, strict=True)}


@dataclass
class JobContext:
    run_path: Path
    key: str
    config: Any
    args: dict[str, Any]
    deps: dict[str, dict]
    threads: int
    _emit: Callable[[tuple], None] | None = None
    _last_emit: float = 0.0

    @property
    def run(self) -> RunDir:
        return RunDir(self.run_path)

    def ckpt_dir(self) -> Path:
        return self.run.ckpt_dir(self.key)

    def progress(self, step: int, total: int, phase: str = "", **fields: float) -> None:
        """Report progress (rate-limited); also the point where an orphaned worker notices and exits."""
        now = time.monotonic()
        if self._emit is None or (now - self._last_emit < 0.25 and step < total):
            return
        self._last_emit = now
        self._emit(("progress", self.key, phase, step, total, fields))

    def log(self, phase: str, step: int, **values: Any) -> None:
        """Append one metrics.jsonl record for this job."""
        self.run.append_metric({"job": self.key, "phase": phase, "step": step, **values})


def execute_task(task: Task, deps: dict[str, dict], threads: int, emit: Callable[[tuple], None] | None) -> dict:
    """Run one job in this process (any backend's worker) and save its output; progress goes out under the task key."""
    torch.set_num_threads(threads)
    tag = None if emit is None else (lambda msg: emit((msg[0], task.key, *msg[2:])))
    ctx = JobContext(task.run_path, task.job.key, task.config, task.job.args, deps, threads, tag)
    t0, c0 = time.perf_counter(), time.process_time()
    out = task.job.fn(ctx)
    # cpu_s (this process's CPU time) is robust to other programs sharing the machine; wall_s is not
    out = {**out, "wall_s": round(time.perf_counter() - t0, 3), "cpu_s": round(time.process_time() - c0, 3)}
    RunDir(task.run_path).save_job_output(task.job.key, out)
    return out


# --- the graph -----------------------------------------------------------------------------------------------
def tasks_of(run: RunDir, jobs: list[Job], config: Any, prefix: str = "") -> list[Task]:
    """A run's jobs as tasks; a sweep prefixes each cell's keys with the cell's name to schedule all cells at once."""
    return [Task(prefix + j.key, j, run.path.resolve(), config, tuple(prefix + d for d in j.deps)) for j in jobs]


def check_graph(tasks: list[Task]) -> None:
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate job keys")
    known = set()
    for t in tasks:  # jobs must be listed after their dependencies
        missing = [d for d in t.deps if d not in known]
        if missing:
            raise ValueError(f"job {t.key} depends on {missing}, which are not listed before it")
        known.add(t.key)


def check_workers_threads(workers: int, threads: int) -> None:
    cores = os.cpu_count() or 1
    if workers * threads > 4 * cores:
        raise UserError(f"workers ({workers}) x threads ({threads}) far exceeds the {cores} CPU cores; "
                        f"lower --set workers=... or threads=...")
