"""Optional experiment trackers fed by a run's metrics stream: `--log tensorboard` or `--log wandb` (offline).

The driver follows metrics.jsonl (what every job's `JobContext.log` appends, on any backend) and forwards each
record's numeric fields as scalar series `JOB/FIELD` (a `[k, n]` count as its rate k/n), at the record's step.
One writer per invocation, in the driver: workers and Ray nodes need nothing, and W&B gets one run rather than
one per worker process. The follower saves how far it has read, so a resumed run goes on where logging stopped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from petridish.errors import UserError
from petridish.runs import atomic_write_json

KINDS: tuple[str, ...] = ("tensorboard", "wandb")
POLL_S = 2.0


@dataclass(frozen=True)
class Scalar:
    tag: str
    value: float
    step: int


@dataclass(frozen=True)
class Source:
    """A metrics.jsonl to follow; `prefix` names it among several (a sweep's cells)."""

    prefix: str
    path: Path


def scalars(record: dict, prefix: str = "") -> list[Scalar]:
    """The scalar series of one metrics record: `PREFIX JOB[/PHASE]/FIELD`, the phase only where the job key does
    not already end with it."""
    job, phase, step = record.get("job", ""), record.get("phase", ""), int(record.get("step", 0))
    base = job if not phase or job.endswith(phase) else f"{job}/{phase}"
    out = []
    for k, v in record.items():
        if k in ("job", "phase", "step") or isinstance(v, bool):
            continue
        if isinstance(v, (int, float)):
            out.append(Scalar(f"{prefix}{base}/{k}", float(v), step))
        elif isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v) and v[1] > 0:
            out.append(Scalar(f"{prefix}{base}/{k}", v[0] / v[1], step))  # a [k, n] count: its rate
    return out


class Sink(Protocol):
    def write(self, scalars: list[Scalar]) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class TensorBoardSink:
    """Event files under `folder` (`tensorboard --logdir folder`)."""

    def __init__(self, folder: Path):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder))

    def write(self, scalars: list[Scalar]) -> None:
        for s in scalars:
            self.writer.add_scalar(s.tag, s.value, s.step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class WandbSink:
    """An offline W&B run under `folder` (`wandb sync` uploads it later); each job's series has its own step axis."""

    def __init__(self, folder: Path, name: str):
        import wandb

        folder.mkdir(parents=True, exist_ok=True)
        self.wandb = wandb
        self.run = wandb.init(mode="offline", dir=str(folder), project="petridish", name=name)
        self.axes: set[str] = set()

    def write(self, scalars: list[Scalar]) -> None:
        rows: dict[tuple[str, int], dict[str, float]] = {}  # one W&B row per series and step (one metrics record)
        for s in scalars:
            rows.setdefault((s.tag.rsplit("/", 1)[0], s.step), {})[s.tag] = s.value
        for (series, step), values in rows.items():
            if series not in self.axes:  # W&B's step must grow across a run: give each job its own step metric
                self.run.define_metric(f"{series}/step")
                self.run.define_metric(f"{series}/*", step_metric=f"{series}/step")
                self.axes.add(series)
            self.run.log({f"{series}/step": step, **values})

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.run.finish()


def require(kind: str) -> None:
    """Fail in one line, before anything is written, when the tracker's package is missing."""
    if kind not in KINDS:
        raise UserError(f"--log {kind}: unknown tracker; choose one of: {', '.join(KINDS)}")
    module = "torch.utils.tensorboard" if kind == "tensorboard" else "wandb"
    try:
        __import__(module)
    except ImportError:
        raise UserError(f"--log {kind} needs the {kind} package: pip install '{kind}' "
                        f"(or `pip install -e '.[{kind}]'` in a clone)") from None


def open_sink(kind: str, top: Path) -> Sink:
    folder = top / kind
    return TensorBoardSink(folder) if kind == "tensorboard" else WandbSink(folder, top.name)


class Follower:
    """Reads the complete lines appended to each source since the last read and forwards their scalars."""

    def __init__(self, sink: Sink, sources: list[Source], state: Path):
        self.sink, self.sources, self.state = sink, sources, state
        self.offsets: dict[str, int] = json.loads(state.read_text()) if state.is_file() else {}

    def poll(self) -> None:
        for src in self.sources:
            key = str(src.path)
            start = self.offsets.get(key, 0)
            try:
                with open(src.path, "rb") as f:
                    f.seek(start)
                    data = f.read()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n") + 1  # a line still being written waits for the next poll
            for line in data[:end].splitlines():
                try:
                    self.sink.write(scalars(json.loads(line), src.prefix))
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill (runs.read_metrics skips it too)
            self.offsets[key] = start + end
        self.sink.flush()
        atomic_write_json(self.state, self.offsets)


@contextmanager
def follow(kind: str, top: Path, sources: list[Source]) -> Iterator[None]:
    """Forward the sources' metrics to a `kind` tracker under `top/kind/` while the block runs, and all of them
    once it ends."""
    require(kind)
    sink = open_sink(kind, top)
    follower = Follower(sink, sources, top / kind / "followed.json")
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(POLL_S):
            follower.poll()

    thread = threading.Thread(target=loop, name="petridish-tracking", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        follower.poll()
        sink.close()
