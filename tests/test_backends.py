"""The Ray backend on a real local Ray instance (2 CPUs, started once for this module): the same numbers as the
local pool, a job that raises once is retried, user errors stay one line, an unreachable cluster writes nothing."""

import json
import logging
import os
import socket
import subprocess
import sys

import pytest

from petridish.backends import run_jobs
from petridish.cli import main
from petridish.errors import UserError
from petridish.jobs import Job
from petridish.runs import RunDir

ray = pytest.importorskip("ray")

SWEEP = ["sweep", "safe-interruptibility", "--budget", "smoke", "--seeds", "1", "--quiet",
         "--axis", "interruption_probability=0.3,0.7", "--axis", "ppo.lr=0.001,0.003",
         "--set", "gif=false", "--set", "eval_episodes=10"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING,
             log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    yield
    ray.shutdown()


def _backend():
    from petridish.backends import connect

    return connect("ray")  # joins the module's Ray instance (and leaves it running)


def test_sweep_gives_the_same_numbers_on_ray_as_on_local(tmp_path):
    main([*SWEEP, "--out", str(tmp_path / "local")])
    main([*SWEEP, "--out", str(tmp_path / "ray"), "--backend", "ray"])
    local, on_ray = (json.loads((tmp_path / b / "sweep.json").read_text()) for b in ("local", "ray"))
    assert [c["name"] for c in local["cells"]] == [c["name"] for c in on_ray["cells"]] and len(local["cells"]) == 4
    assert [c["claims"] for c in local["cells"]] == [c["claims"] for c in on_ray["cells"]]
    for cell in local["cells"]:  # every metric too, not only the headline estimates
        a, b = (json.loads((tmp_path / x / cell["run"] / "result.json").read_text()) for x in ("local", "ray"))
        assert a["metrics"] == b["metrics"] and a["claims"] == b["claims"]
    # the cells differ from each other (the axes reach the jobs), so equality above is not vacuous
    assert len({json.dumps(c["claims"]) for c in local["cells"]}) > 1


def square(ctx):
    return {"y": ctx.args["x"] ** 2 + sum(d["y"] for d in ctx.deps.values())}


def flaky(ctx):
    """Raises on its first attempt only (as a job hit by a transient failure would)."""
    attempts = ctx.run_path / "attempts.txt"
    with open(attempts, "a") as f:
        f.write("x\n")
    if len(attempts.read_text().splitlines()) == 1:
        raise RuntimeError("transient failure")
    return square(ctx)


def dies_once(ctx):
    """Kills its own worker process on its first attempt (as an out-of-memory kill or a lost node would)."""
    marker = ctx.run_path / "died"
    if not marker.exists():
        marker.touch()
        os._exit(1)
    return square(ctx)


def bad_input(ctx):
    raise UserError("bad input in a job")


def test_job_that_raises_once_is_retried_and_deps_flow(tmp_path):
    run = RunDir.create(tmp_path / "r")
    jobs = [Job("a", square, args={"x": 2}), Job("b", flaky, ("a",), {"x": 3}), Job("c", square, ("a", "b"), {"x": 1})]
    out = run_jobs(run, jobs, None, 2, 1, backend=_backend())
    assert out["c"]["y"] == 1 + 4 + (9 + 4)
    assert (run.path / "attempts.txt").read_text() == "x\nx\n"  # b ran twice
    assert run.job_output("c")["y"] == 18
    (run.job_file("c")).unlink()  # resume on the other backend (the local pool): only c runs again
    assert run_jobs(run, jobs, None, 1, 1)["c"]["y"] == 18
    assert (run.path / "attempts.txt").read_text() == "x\nx\n"


def test_job_whose_worker_dies_is_retried(tmp_path):
    run = RunDir.create(tmp_path / "r")
    out = run_jobs(run, [Job("a", dies_once, args={"x": 3})], None, 1, 1, backend=_backend())
    assert out["a"]["y"] == 9 and (run.path / "died").exists()


def test_user_error_in_a_ray_job_is_the_plain_error(tmp_path):
    run = RunDir.create(tmp_path / "r")
    with pytest.raises(UserError, match="bad input in a job") as e:
        run_jobs(run, [Job("a", square, args={"x": 1}), Job("b", bad_input, ("a",))], None, 2, 1, backend=_backend())
    assert "\n" not in str(e.value)
    assert run.job_done("a") and not run.job_done("b")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("how", ["--address", "RAY_ADDRESS"])
def test_unreachable_address_is_one_line_and_writes_nothing(tmp_path, how):
    addr = f"127.0.0.1:{_closed_port()}"
    args = ["sweep", "safe-interruptibility", "--budget", "smoke", "--axis", "ppo.lr=0.001", "--backend", "ray",
            "--out", str(tmp_path / "s")]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    if how == "--address":
        args += ["--address", addr]
    else:
        env["RAY_ADDRESS"] = addr
    p = subprocess.run([sys.executable, "-m", "petridish", *args], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "cannot reach a Ray cluster at " + addr in p.stderr
    assert not (tmp_path / "s").exists()


def test_job_larger_than_every_node_is_refused_not_left_waiting(tmp_path):
    run = RunDir.create(tmp_path / "r")
    with pytest.raises(UserError, match="asks for 3 CPU"):
        run_jobs(run, [Job("a", square, args={"x": 1})], None, 1, 3, backend=_backend())
    with pytest.raises(UserError, match="asks for 1 GPU"):
        run_jobs(run, [Job("a", square, args={"x": 1}, gpus=1)], None, 1, 1, backend=_backend())
    assert not run.job_done("a")
