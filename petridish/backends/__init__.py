"""Where a run's jobs execute: the local process pool (the default) or Ray (`--backend ray [--address ADDR]`).

A backend takes the pending tasks of a graph (listed after their dependencies) and the outputs already known, runs
each task once its dependencies are done, and adds every task's output by key; jobs save their own outputs, so the
same run folder resumes on either backend.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from petridish.errors import UserError
from petridish.jobs import Job, Task, check_graph, tasks_of
from petridish.progress import ProgressUI
from petridish.runs import RunDir

BACKENDS = ("local", "ray")


class Backend(Protocol):
    name: str

    def run(self, pending: list[Task], outputs: dict[str, dict], workers: int, threads: int,
            ui: ProgressUI) -> None: ...

    def describe(self, workers: int, threads: int) -> str: ...

    def close(self) -> None: ...


def connect(name: str, address: str | None = None) -> Backend:
    """The named backend, connected (a Ray cluster is reached here, before any run folder is written)."""
    if name == "local":
        if address:
            raise UserError("--address names a Ray cluster; add --backend ray, or drop --address")
        from petridish.backends.local import LocalPool

        return LocalPool()
    if name == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UserError("--backend ray needs Ray: pip install 'petridish[ray]'") from None
        from petridish.backends.ray_backend import RayBackend

        return RayBackend(address or os.environ.get("RAY_ADDRESS") or None)
    raise UserError(f"unknown backend '{name}'; choose one of: {', '.join(BACKENDS)}")


# --- running a graph ----------------------------------------------------------------------------------------
def run_tasks(tasks: list[Task], workers: int, threads: int, ui: ProgressUI | None = None,
              backend: Backend | None = None) -> dict[str, dict]:
    """Run every unfinished task on the backend (default: the local process pool); return all outputs by key."""
    check_graph(tasks)
    outputs = {t.key: RunDir(t.run_path).job_output(t.job.key) for t in tasks if RunDir(t.run_path).job_done(t.job.key)}
    pending = [t for t in tasks if t.key not in outputs]
    ui = ui or ProgressUI(enabled=False)
    ui.start(total=len(tasks), done=len(outputs))
    try:
        (backend or connect("local")).run(pending, outputs, workers, threads, ui)
        return outputs
    finally:
        ui.stop()


def run_jobs(run: RunDir, jobs: list[Job], config: Any, workers: int, threads: int,
             ui: ProgressUI | None = None, backend: Backend | None = None) -> dict[str, dict]:
    """Run every unfinished job of one run folder; return all outputs by job key."""
    return run_tasks(tasks_of(run, jobs, config), workers, threads, ui, backend)
