"""The Ray backend: each job a Ray task with its CPU threads (and GPUs) declared, dependencies passed as object
references, retried when its worker dies or it raises, progress sent back through a small actor.

Without an address it starts a private local Ray instance sized to this machine; with one (`--address`, or
RAY_ADDRESS) it joins that cluster, whose nodes must all have petridish installed and see the run folder at the same
path (a shared filesystem): jobs write their checkpoints and outputs there themselves.
"""

from __future__ import annotations

import logging
import os
import socket

import ray
from ray.exceptions import RayTaskError

from petridish.errors import UserError
from petridish.jobs import Task, execute_task
from petridish.progress import ProgressUI

RETRIES = 2
"""A task whose worker dies, or that raises, runs again up to this many times (it resumes from its checkpoints)."""
POLL_S = 0.2


@ray.remote(num_cpus=0)
class _Inbox:
    """Progress messages from the tasks; the driver takes them in batches (messages from one task stay in order)."""

    def __init__(self) -> None:
        self.msgs: list[tuple] = []

    def put(self, msg: tuple) -> None:
        self.msgs.append(msg)

    def take(self) -> list[tuple]:
        msgs, self.msgs = self.msgs, []
        return msgs


@ray.remote
def _run_task(task: Task, threads: int, inbox, *deps: dict) -> dict:
    inbox.put.remote(("started", task.key))
    return execute_task(task, dict(zip(task.job.deps, deps, strict=True)), threads, inbox.put.remote)


def _check_reachable(address: str) -> None:
    """Fail in a second with one line, rather than after Ray's long connection timeout."""
    if address in ("auto", "local"):
        return
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"Ray address '{address}' is not HOST:PORT (e.g. 10.0.0.1:6379 or ray://10.0.0.1:10001)")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as e:
        raise UserError(f"cannot reach a Ray cluster at {address} ({e.strerror or e}); start one with "
                        f"`ray start --head` or fix --address / RAY_ADDRESS") from None


class RayBackend:
    name = "ray"

    def __init__(self, address: str | None = None):
        self.owned = not ray.is_initialized()  # a caller that already connected (tests, notebooks) keeps its Ray
        if not self.owned:
            return
        quiet = {"logging_level": logging.WARNING, "log_to_driver": False}
        if address:
            _check_reachable(address)
            try:
                ray.init(address=address, **quiet)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise UserError(f"cannot join the Ray cluster at {address}: {str(e).splitlines()[0]}") from None
        else:  # "local": a new private instance even if another one runs on this machine; Ray's token
            # authentication (on by default for a local instance) guards its ports, so its notice about it is muted
            logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
            ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, **quiet)

    def describe(self, workers: int, threads: int) -> str:
        nodes = [n for n in ray.nodes() if n["Alive"]]
        cpus = sum(n["Resources"].get("CPU", 0) for n in nodes)
        gpus = sum(n["Resources"].get("GPU", 0) for n in nodes)
        return f"ray: {len(nodes)} node(s), {cpus:g} CPU(s), {gpus:g} GPU(s); {threads} thread(s) per job"

    def _check_fits(self, pending: list[Task], threads: int) -> None:
        """A task larger than every node would wait forever; say so now."""
        nodes = [n["Resources"] for n in ray.nodes() if n["Alive"]]
        cpus = max((r.get("CPU", 0) for r in nodes), default=0)
        gpus = max((r.get("GPU", 0) for r in nodes), default=0)
        if threads > cpus:
            raise UserError(f"each job asks for {threads} CPU(s) but the largest Ray node has {cpus:g}; "
                            f"lower --set threads=...")
        need = max((t.job.gpus for t in pending), default=0)
        if need > gpus:
            raise UserError(f"a job asks for {need:g} GPU(s) but the largest Ray node has {gpus:g}")

    def run(self, pending: list[Task], outputs: dict[str, dict], workers: int, threads: int,
            ui: ProgressUI) -> None:
        """Submit the whole graph at once (Ray starts each task when its inputs exist); `workers` is not used: the
        cluster's CPUs bound concurrency."""
        if not pending:
            return
        self._check_fits(pending, threads)
        inbox = _Inbox.remote()
        refs: dict[str, ray.ObjectRef] = {}
        waiting: dict[ray.ObjectRef, Task] = {}
        for t in pending:
            deps = [refs[d] if d in refs else outputs[d] for d in t.deps]
            ref = _run_task.options(num_cpus=threads, num_gpus=t.job.gpus, max_retries=RETRIES,
                                    retry_exceptions=True, name=t.label).remote(t, threads, inbox, *deps)
            refs[t.key] = ref
            waiting[ref] = t
        by_key = {t.key: t for t in pending}
        started: set[str] = set()

        def start(key: str) -> None:
            if key not in started:  # a retried task reports its start again
                started.add(key)
                ui.job_started(key, by_key[key].label)

        try:
            while waiting:
                ready, _ = ray.wait(list(waiting), num_returns=len(waiting), timeout=POLL_S)
                for msg in ray.get(inbox.take.remote()):
                    if msg[0] == "started":
                        start(msg[1])
                    elif msg[1] in started and msg[1] not in outputs:
                        ui.handle(msg)
                for ref in ready:
                    t = waiting.pop(ref)
                    try:
                        outputs[t.key] = ray.get(ref)
                    except RayTaskError as e:  # a user error stays one line; a bug keeps its remote traceback
                        raise (e.cause if isinstance(e.cause, UserError) else e) from None
                    start(t.key)
                    ui.job_finished(t.key, outputs[t.key]["wall_s"])
        except BaseException:
            for ref in waiting:
                ray.cancel(ref, force=True)  # do not leave training jobs running on error or Ctrl-C
            raise
        finally:
            ray.kill(inbox)

    def close(self) -> None:
        if self.owned and ray.is_initialized():
            ray.shutdown()
