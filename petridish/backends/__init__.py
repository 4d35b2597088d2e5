"""Where a run's jobs execute: the local process pool (the default) or Ray (`--backend ray [--address ADDR]`).

A backend takes the pending tasks of a graph (listed after their dependencies) and the outputs already known, runs
each task once its dependencies are done, and adds every task's output by key; jobs save their own outputs, so the
same run folder resumes on either backend.
"""

from __future__ import annotations

import os
from typing import Protocol

from petridish.errors import UserError
from petridish.jobs import Task
from petridish.progress import ProgressUI

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
