"""Progress display: an overall jobs bar named after the run and one bar per running job (steps, loss, ETA), via
rich; between jobs and after the last one it says what it is doing ("judging claims", "writing the report").

On a terminal it is live; elsewhere (CI logs, pipes) it prints one line per finished job instead.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column
from rich.text import Text


class StepsColumn(ProgressColumn):
    """'27/300' once the job has said how many steps it takes, 'starting' before; never squeezed."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True, min_width=9, justify="right"))

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("starting", style="dim")
        return Text(f"{int(task.completed)}/{int(task.total)}", style="progress.download")


class EtaColumn(ProgressColumn):
    """'eta 0:01:23' once there is a rate to extrapolate; blank before (no '-:--:--')."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=True, min_width=11))

    def render(self, task: Task) -> Text:
        left = task.time_remaining
        if left is None or task.total is None or task.finished:
            return Text("")
        m, s = divmod(int(left), 60)
        h, m = divmod(m, 60)
        return Text(f"eta {h}:{m:02d}:{s:02d}", style="progress.remaining")


class ProgressUI:
    def __init__(self, enabled: bool = True, console: Console | None = None, name: str = "jobs"):
        self.console = console or Console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.enabled = enabled
        self.name = name
        self.tasks: dict[str, TaskID] = {}
        self.labels: dict[str, str] = {}
        self.progress: Progress | None = None
        self.total = self.done = 0

    def start(self, total: int, done: int) -> None:
        self.total, self.done = total, done
        if self.live:
            self.progress = Progress(
                # the job's name as wide as it needs up to 45% of the line; phase and loss get the rest
                TextColumn("{task.description}", table_column=Column(
                    no_wrap=True, overflow="ellipsis", max_width=max(24, int(0.45 * self.console.width)))),
                BarColumn(bar_width=10), StepsColumn(),
                TextColumn("{task.fields[info]}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")),
                TimeElapsedColumn(), EtaColumn(),
                console=self.console, transient=False, expand=True,
            )
            self.progress.start()
            self.overall = self.progress.add_task(self.name, total=total, completed=done, info="jobs done")
        elif self.enabled and done:
            self.console.print(f"resuming: {done}/{total} jobs already done")

    def job_started(self, key: str, label: str) -> None:
        self.labels[key] = label
        if self.progress:
            room = max(24, int(0.45 * self.console.width)) - 2
            shown = label if len(label) <= room else "…" + label[-(room - 1):]  # the end names the step
            self.tasks[key] = self.progress.add_task(f"  {shown}", total=None, info="")

    def handle(self, msg: tuple) -> None:
        kind, key, phase, step, total, fields = msg
        if self.progress and key in self.tasks:
            info = " ".join(f"{k} {v:.3g}" for k, v in fields.items())
            if phase and phase not in self.labels.get(key, "").split():  # the label often names it already
                info = f"{phase} {info}"
            self.progress.update(self.tasks[key], completed=step, total=total, info=info.strip())

    def job_finished(self, key: str, wall_s: float) -> None:
        self.done += 1
        if self.progress:
            self.progress.remove_task(self.tasks.pop(key))
            self.progress.update(self.overall, completed=self.done)
        elif self.enabled:
            print(f"[{self.done}/{self.total}] {self.labels.get(key, key)} ({wall_s:.1f} s)", file=sys.stderr,
                  flush=True)

    def status(self, text: str) -> None:
        """What the run does between jobs (preparing data, judging claims, writing the report)."""
        if self.enabled:
            self.console.print(f"[dim]{self.name}: {text}...[/dim]" if self.live else f"{self.name}: {text}...",
                               highlight=False)

    def stop(self) -> None:
        if self.progress:
            self.progress.stop()
            self.progress = None
