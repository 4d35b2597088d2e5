"""A run is a graph of jobs (grow the base model, insert a backdoor, apply a treatment, ...).

Each job is a module-level function `fn(ctx) -> dict` that reads its dependencies' outputs, writes
checkpoints under its own folder and returns a JSON-able summary, saved atomically as jobs/<key>.json.
A job whose output exists is done, so resuming a killed run re-enters only unfinished jobs (and those
resume from their last in-job checkpoint). Independent jobs run in parallel worker processes with a fixed
number of torch threads each, so results do not depend on scheduling.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import queue
import signal
import sys
import time
import zlib
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from petridish.errors import UserError
from petridish.progress import ProgressUI
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


# --- worker side -----------------------------------------------------------------------------------------
_QUEUE: Any = None


def _die_with_parent() -> None:
    """A worker whose parent is SIGKILLed must not keep training (and racing a resumed run)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _init_worker(q: Any, threads: int) -> None:
    global _QUEUE
    _QUEUE = q
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    torch.set_num_threads(threads)


def _emit_to_queue(msg: tuple) -> None:
    _QUEUE.put(msg)


def _execute(run_path: Path, job: Job, config: Any, deps: dict[str, dict], threads: int,
             emit: Callable[[tuple], None] | None) -> dict:
    torch.set_num_threads(threads)
    ctx = JobContext(run_path, job.key, config, job.args, deps, threads, emit)
    t0, c0 = time.perf_counter(), time.process_time()
    out = job.fn(ctx)
    # cpu_s (this process's CPU time) is robust to other programs sharing the machine; wall_s is not
    out = {**out, "wall_s": round(time.perf_counter() - t0, 3), "cpu_s": round(time.process_time() - c0, 3)}
    RunDir(run_path).save_job_output(job.key, out)
    return out


def _execute_in_worker(run_path: Path, job: Job, config: Any, deps: dict[str, dict], threads: int) -> dict:
    return _execute(run_path, job, config, deps, threads, _emit_to_queue)


# --- scheduler ---------------------------------------------------------------------------------------------
def _check_graph(jobs: list[Job]) -> None:
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate job keys")
    known = set()
    for j in jobs:  # jobs must be listed after their dependencies
        missing = [d for d in j.deps if d not in known]
        if missing:
            raise ValueError(f"job {j.key} depends on {missing}, which are not listed before it")
        known.add(j.key)


def run_jobs(run: RunDir, jobs: list[Job], config: Any, workers: int, threads: int,
             ui: ProgressUI | None = None) -> dict[str, dict]:
    """Run every unfinished job; return all outputs by key."""
    _check_graph(jobs)
    outputs = {j.key: run.job_output(j.key) for j in jobs if run.job_done(j.key)}
    pending = [j for j in jobs if j.key not in outputs]
    ui = ui or ProgressUI(enabled=False)
    ui.start(total=len(jobs), done=len(outputs))
    try:
        if workers <= 1:
            for job in pending:
                ui.job_started(job.key, job.label or job.key)
                deps = {d: outputs[d] for d in job.deps}
                outputs[job.key] = _execute(run.path, job, config, deps, threads, ui.handle)
                ui.job_finished(job.key, outputs[job.key]["wall_s"])
            return outputs
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(q, threads)) as ex:
            running: dict[Future, Job] = {}
            try:
                while pending or running:
                    for job in [j for j in pending if all(d in outputs for d in j.deps)]:
                        if len(running) >= workers:
                            break
                        pending.remove(job)
                        deps = {d: outputs[d] for d in job.deps}
                        running[ex.submit(_execute_in_worker, run.path, job, config, deps, threads)] = job
                        ui.job_started(job.key, job.label or job.key)
                    finished, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                    _drain(q, ui)
                    for fut in finished:
                        job = running.pop(fut)
                        outputs[job.key] = fut.result()  # re-raises the job's exception here
                        ui.job_finished(job.key, outputs[job.key]["wall_s"])
                    if not running and pending and not finished:
                        raise RuntimeError(f"jobs cannot start (unmet dependencies): {[j.key for j in pending]}")
            except BaseException:
                for fut in running:
                    fut.cancel()
                for p in list(getattr(ex, "_processes", {}).values()):
                    p.kill()  # do not wait for long training jobs to finish on error or Ctrl-C
                raise
        return outputs
    finally:
        ui.stop()


def _drain(q: Any, ui: ProgressUI) -> None:
    while True:
        try:
            ui.handle(q.get_nowait())
        except queue.Empty:
            return
        except (EOFError, OSError):
            return


def check_workers_threads(workers: int, threads: int) -> None:
    cores = os.cpu_count() or 1
    if workers * threads > 4 * cores:
        raise UserError(f"workers ({workers}) x threads ({threads}) far exceeds the {cores} CPU cores; "
                        f"lower --set workers=... or threads=...")
