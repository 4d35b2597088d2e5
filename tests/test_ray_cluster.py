"""Ray on one machine, in subprocesses of their own (no Ray in this process): every service petridish starts
listens on loopback only and the token it creates is private; a cluster started with `ray start` (token
authentication on) is joined with `--address`, and a driver without the token gets Ray's reason in one line."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")
pytest.importorskip("ray")

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}

LOCAL = """
import json, os, sys
import psutil
from petridish.backends import connect, run_jobs
from petridish.jobs import Job
from petridish.runs import RunDir

def square(ctx):
    return {"y": ctx.args["x"] ** 2}

backend = connect("ray")
out = run_jobs(RunDir.create(sys.argv[1]), [Job("a", square, args={"x": 3})], None, 1, 1, backend=backend)
tag = os.environ["PETRIDISH_TEST_TAG"]
listening = []
for p in psutil.process_iter():
    try:
        if p.environ().get("PETRIDISH_TEST_TAG") != tag:
            continue
        listening += [[p.name(), c.laddr.ip, c.laddr.port] for c in p.net_connections("inet")
                      if c.status == psutil.CONN_LISTEN]
    except psutil.Error:
        continue
print(json.dumps({"y": out["a"]["y"], "listening": listening}))
backend.close()
"""


def _env(tag: str, home: Path, **extra) -> dict:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PETRIDISH_TEST_TAG": tag, "HOME": str(home),
           "RAY_USAGE_STATS_ENABLED": "0", **extra}
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_AUTH_MODE", None)
    return env


def _kill_tagged(tag: str) -> None:
    """Stop what a test started, by pid (never `ray stop`, which stops every Ray instance of the machine)."""
    for p in psutil.process_iter():
        try:
            if p.environ().get("PETRIDISH_TEST_TAG") == tag:
                p.kill()
        except psutil.Error:
            continue


@pytest.fixture
def tag():
    t = uuid.uuid4().hex
    yield t
    _kill_tagged(t)


def test_local_instance_listens_on_loopback_only_and_its_token_is_private(tmp_path, tag):
    home = tmp_path / "home"
    home.mkdir()
    p = subprocess.run([sys.executable, "-c", LOCAL, str(tmp_path / "r")], capture_output=True, text=True,
                       timeout=300, env=_env(tag, home))
    assert p.returncode == 0, p.stderr
    seen = json.loads(p.stdout.strip().splitlines()[-1])
    assert seen["y"] == 9
    names = {name for name, _, _ in seen["listening"]}
    assert {"gcs_server", "raylet"} <= names and len(seen["listening"]) >= 4, seen  # the check sees Ray's servers
    beyond = [x for x in seen["listening"] if x[1] not in LOOPBACK]
    assert not beyond, f"listening beyond loopback: {beyond}"
    token = home / ".ray" / "auth_token"
    assert token.stat().st_mode & 0o777 == 0o600 and len(token.read_text().strip()) >= 32


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_join_a_cluster_started_with_ray_start(tmp_path, tag):
    home, stranger = tmp_path / "home", tmp_path / "stranger"
    stranger.mkdir()
    (home / ".ray").mkdir(parents=True)
    token = home / ".ray" / "auth_token"
    token.write_text(uuid.uuid4().hex + uuid.uuid4().hex)  # a token on the head: `ray start` turns auth on
    token.chmod(0o600)
    port = _free_port()
    # RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 keeps --node-ip-address=127.0.0.1 (Ray otherwise swaps in the network
    # address), so this test's cluster listens on loopback only
    env = _env(tag, home, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    ray = str(Path(sys.executable).parent / "ray")
    head = subprocess.Popen([ray, "start", "--head", "--block", "--node-ip-address=127.0.0.1", f"--port={port}",
                             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(3)  # the raylet registers after the GCS accepts connections
        run = [sys.executable, "-m", "petridish", "sweep", "safe-interruptibility", "--budget", "smoke", "--seeds",
               "1", "--quiet", "--axis", "ppo.lr=0.001", "--set", "gif=false", "--set", "eval_episodes=10",
               "--backend", "ray", "--address", f"127.0.0.1:{port}"]
        p = subprocess.run([*run, "--out", str(tmp_path / "s")], capture_output=True, text=True, timeout=300,
                           env=_env(tag, home))
        assert p.returncode == 0, p.stderr[-3000:]
        cells = json.loads((tmp_path / "s" / "sweep.json").read_text())["cells"]
        assert len(cells) == 1 and cells[0]["claims"]
        # a driver without the token: Ray's reason and the fix, in one line
        p = subprocess.run([*run, "--out", str(tmp_path / "t")], capture_output=True, text=True, timeout=300,
                           env=_env(tag, stranger))
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr[-3000:]
        assert "InvalidAuthToken" in p.stderr and "give this machine its token" in p.stderr
        assert not (tmp_path / "t").exists()
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
