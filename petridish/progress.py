"""Progress display: an overall jobs bar and one bar per running job (steps, loss, ETA), via rich.

On a terminal it is live; elsewhere (CI logs, pipes) it prints one line per finished job instead.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressUI:
    def __init__(self, enabled: bool = True, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.enabled = enabled
        self.tasks: dict[str, TaskID] = {}
        self.labels: dict[str, str] = {}
        self.progress: Progress | None = None
        self.total = self.done = 0

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                console=self.console, transient=False,
            )
            self.progress.start()
            self.overall = self.progress.add_task("jobs", total=total, completed=done, info="")
        elif self.enabled and done:
            self.console.print(f"resuming: {done}/{total} jobs already done")

    def job_started(self, key: str, label: str) -> None:
        self.labels[key] = label
        if self.progress:
            self.tasks[key] = self.progress.add_task(f"  {label}", total=None, info="")

    def handle(self, msg: tuple) -> None:
        kind, key, phase, step, total, fields = msg
        if self.progress and key in self.tasks:
            info = " ".join(f"{k} {v:.3g}" for k, v in fields.items())
            self.progress.update(self.tasks[key], completed=step, total=total, info=f"{phase} {info}".strip())

    def job_finished(self, key: str, wall_s: float) -> None:
        self.done += 1
        if self.progress:
            self.progress.remove_task(self.tasks.pop(key))
            self.progress.update(self.overall, completed=self.done)
        elif self.enabled:
            print(f"[{self.done}/{self.total}] {self.labels.get(key, key)} ({wall_s:.1f} s)", file=sys.stderr,
                  flush=True)

    def stop(self) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None
