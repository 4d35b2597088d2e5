"""The default backend: a pool of spawned worker processes on this machine (or this process, for one worker)."""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

import torch

from petridish.jobs import Task, execute_task
from petridish.progress import ProgressUI

# --- worker side -----------------------------------------------------------------------------------------
_QUEUE: Any = None

_BOOT = """
import ctypes, os, signal, threading, time
try:
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux with glibc)
except (OSError, AttributeError):
    pass  # no prctl here: the watchdog below
if os.getppid() != parent:  # the parent died before the line above
    os._exit(1)
def _watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGKILL)
threading.Thread(target=_watch, daemon=True).start()
from petridish.backends.local import _init_worker
_init_worker(q, threads)
"""
"""A worker's first instructions, run by the builtin `exec` as the pool's initializer: unpickling a function of
petridish would import the package (and torch) first, seconds during which a SIGKILLed parent would leave the worker
orphaned for good. The kernel kills the worker with its parent (PR_SET_PDEATHSIG, Linux); where that is missing, or
the parent died first, a thread watching the parent's pid does."""


def _init_worker(q: Any, threads: int) -> None:
    global _QUEUE
    _QUEUE = q
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    torch.set_num_threads(threads)


def _emit_to_queue(msg: tuple) -> None:
    _QUEUE.put(msg)


def _execute_in_worker(task: Task, deps: dict[str, dict], threads: int) -> dict:
    return execute_task(task, deps, threads, _emit_to_queue)


# --- scheduler ---------------------------------------------------------------------------------------------
class LocalPool:
    name = "local"

    def run(self, pending: list[Task], outputs: dict[str, dict], workers: int, threads: int, ui: ProgressUI) -> None:
        """Run the pending tasks (listed after their dependencies), adding each output to `outputs` by key."""
        if workers <= 1:
            for task in pending:
                ui.job_started(task.key, task.label)
                outputs[task.key] = execute_task(task, task.dep_outputs(outputs), threads, ui.handle)
                ui.job_finished(task.key, outputs[task.key]["wall_s"])
            return
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=exec,
                                 initargs=(_BOOT, {"q": q, "threads": threads, "parent": os.getpid()})) as ex:
            running: dict[Future, Task] = {}
            try:
                while pending or running:
                    for task in [t for t in pending if all(d in outputs for d in t.deps)]:
                        if len(running) >= workers:
                            break
                        pending.remove(task)
                        running[ex.submit(_execute_in_worker, task, task.dep_outputs(outputs), threads)] = task
                        ui.job_started(task.key, task.label)
                    finished, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                    _drain(q, ui)
                    for fut in finished:
                        task = running.pop(fut)
                        outputs[task.key] = fut.result()  # re-raises the job's exception here
                        ui.job_finished(task.key, outputs[task.key]["wall_s"])
                    if not running and pending and not finished:
                        raise RuntimeError(f"jobs cannot start (unmet dependencies): {[t.key for t in pending]}")
            except BaseException:
                for fut in running:
                    fut.cancel()
                for p in list(getattr(ex, "_processes", {}).values()):
                    p.kill()  # do not wait for long training jobs to finish on error or Ctrl-C
                raise

    def describe(self, workers: int, threads: int) -> str:
        return f"{workers} worker(s) x {threads} thread(s)"

    def close(self) -> None:
        pass


def _drain(q: Any, ui: ProgressUI) -> None:
    while True:
        try:
            ui.handle(q.get_nowait())
        except queue.Empty:
            return
        except (EOFError, OSError):
            return
