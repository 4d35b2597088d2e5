"""The Ray backend: each job a Ray task with its CPU threads (and GPUs) declared, dependencies passed as object
references, retried when its worker dies or it raises, progress sent back through a small actor.

Without an address it starts a private local Ray instance sized to this machine, every service on 127.0.0.1, its
token file private; with one (`--address`, or RAY_ADDRESS) it joins that cluster (sending this machine's Ray token
if it has one), whose nodes must all have petridish installed and see the run folder at the same path (a shared
filesystem): jobs write their checkpoints and outputs there themselves.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import tempfile

import ray
from ray.exceptions import AuthenticationError, RayTaskError

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


def _check_reachable(address: str) -> str:
    """Fail in a second with one line, rather than after Ray's long connection timeout; the host."""
    if address in ("auto", "local"):
        return address
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"Ray address '{address}' is not HOST:PORT (e.g. 10.0.0.1:6379 or ray://10.0.0.1:10001)")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as e:
        raise UserError(f"cannot reach a Ray cluster at {address} ({e.strerror or e}); start one with "
                        f"`ray start --head` or fix --address / RAY_ADDRESS") from None
    return host


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@contextlib.contextmanager
def _loopback_node(on: bool):
    """Bind this node's services to 127.0.0.1. Ray turns a node address of 127.0.0.1 into the machine's network
    address (services.resolve_ip_for_localhost), so GCS, raylet, workers and this driver would listen on every
    interface, except where its ENABLE_RAY_CLUSTER switch is off (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0): off, the
    loopback address is kept, which is right for a private instance and for joining a head that listens on it."""
    from ray._private import ray_constants

    was = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = was and not on
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = was


def _private_token() -> None:
    """Token authentication (Ray's default for a new instance) reads ~/.ray/auth_token, which Ray creates 0644:
    create it 0600 first where it is missing, so that other users of the machine cannot read it."""
    from ray._private.authentication.authentication_token_generator import generate_new_authentication_token
    from ray._private.authentication.authentication_token_setup import _get_default_token_path
    from ray._raylet import AuthenticationTokenLoader

    loader = AuthenticationTokenLoader.instance()
    if os.environ.get("RAY_AUTH_MODE", "token").lower() != "token" or loader.has_token(ignore_auth_mode=True):
        return
    path = _get_default_token_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(generate_new_authentication_token())
    loader.reset_cache()


def _use_token_if_present() -> None:
    """`ray start` turns token authentication on when this machine has a token, but a driver given an address never
    does (Ray 2.5x), so it is refused with InvalidAuthToken: send the token whenever there is one (unless
    RAY_AUTH_MODE says otherwise; a cluster without authentication ignores it)."""
    from ray._private.authentication.authentication_token_setup import maybe_enable_token_auth_if_token_available

    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


@contextlib.contextmanager
def _stderr_captured():
    """Ray's core logs why a connection fails (e.g. InvalidAuthToken) on fd 2 and then raises a bare "Failed to
    connect": keep those lines to put the reason in the one-line error (replayed as they were on success)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        lines: list[str] = []
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            f.seek(0)
            lines += f.read().decode(errors="replace").splitlines()


def _ray_reason(lines: list[str]) -> str:
    """The last reason Ray's core logged for not reaching the GCS, e.g. "Unauthenticated: RPC error: InvalidAuthToken:
    Authentication token is missing or incorrect"."""
    reasons = [line.split("GCS server: ", 1)[1] for line in lines if "GCS server: " in line]
    return reasons[-1] if reasons else ""


QUIET = {"logging_level": logging.WARNING, "log_to_driver": False}


def _join(address: str) -> None:
    """Connect to a running cluster; a refusal is one line with Ray's own reason (and the fix, for a token)."""
    host = _check_reachable(address)
    _use_token_if_present()
    error = ""
    with _stderr_captured() as logged:
        try:
            with _loopback_node(host in LOOPBACK):
                ray.init(address=address, **QUIET)
        except (ConnectionError, RuntimeError, ValueError, AuthenticationError) as e:
            error = str(e).splitlines()[0]
    if not error:
        sys.stderr.write("".join(f"{line}\n" for line in logged))
        return
    reason = _ray_reason(logged)
    hint = ("; the cluster uses token authentication: give this machine its token (RAY_AUTH_TOKEN, or the head's "
            "~/.ray/auth_token copied here with mode 0600)" if "InvalidAuthToken" in reason else "")
    raise UserError(f"cannot join the Ray cluster at {address}: {error}" + (f" ({reason})" if reason else "") + hint)


def _start_local() -> None:
    """A new private instance even if another one runs on this machine, every service on 127.0.0.1; Ray's token
    authentication (on by default for a local instance) guards its ports, so its notice about it is muted."""
    logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    _private_token()
    with _loopback_node(True):
        ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, **QUIET)


class RayBackend:
    name = "ray"

    def __init__(self, address: str | None = None):
        self.owned = not ray.is_initialized()  # a caller that already connected (tests, notebooks) keeps its Ray
        if self.owned and address:
            _join(address)
        elif self.owned:
            _start_local()

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
