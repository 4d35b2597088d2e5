"""Run folders and the job scheduler: atomic writes, metric records, parallel jobs, errors."""

import json

import pytest
import torch

from petridish.backends import run_jobs
from petridish.errors import UserError
from petridish.jobs import Job
from petridish.runs import RunDir, atomic_write_json, load_tensors, save_tensors


def test_atomic_json_and_no_temp_files_left(tmp_path):
    atomic_write_json(tmp_path / "a.json", {"x": 1})
    atomic_write_json(tmp_path / "a.json", {"x": 2})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_tensors_roundtrip_and_corrupt_checkpoint(tmp_path):
    save_tensors(tmp_path / "m.safetensors", {"w": torch.arange(4.0)})
    assert torch.equal(load_tensors(tmp_path / "m.safetensors")["w"], torch.arange(4.0))
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(UserError, match="is corrupt"):
        load_tensors(tmp_path / "bad.safetensors")
    with pytest.raises(UserError, match="checkpoint not found"):
        load_tensors(tmp_path / "missing.safetensors")


def test_metrics_dedup_and_truncated_line(tmp_path):
    run = RunDir.create(tmp_path / "r")
    run.append_metric({"job": "a", "phase": "p", "step": 1, "loss": 2.0})
    run.append_metric({"job": "a", "phase": "p", "step": 1, "eval_acc": 0.25})  # another record of the same step
    run.append_metric({"job": "a", "phase": "p", "step": 1, "loss": 1.5})  # re-logged after a resume
    with open(run.path / "metrics.jsonl", "a") as f:
        f.write('{"job": "a", "ph')  # a line cut short by a kill
    assert run.read_metrics() == [{"job": "a", "phase": "p", "step": 1, "loss": 1.5},
                                  {"job": "a", "phase": "p", "step": 1, "eval_acc": 0.25}]


def test_create_refuses_nonempty(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "x").write_text("keep")
    with pytest.raises(UserError, match="already exists"):
        RunDir.create(tmp_path / "r")


def square(ctx):
    return {"y": ctx.args["x"] ** 2 + sum(d["y"] for d in ctx.deps.values())}


def fail(ctx):
    raise UserError("bad input in a job")


@pytest.mark.parametrize("workers", [1, 2])
def test_jobs_run_in_dependency_order_and_resume(tmp_path, workers):
    run = RunDir.create(tmp_path / "r")
    jobs = [Job("a", square, args={"x": 2}), Job("b", square, args={"x": 3}),
            Job("c", square, ("a", "b"), {"x": 1})]
    out = run_jobs(run, jobs, None, workers, 1)
    assert out["c"]["y"] == 1 + 4 + 9
    assert run.job_done("c") and out["c"]["wall_s"] >= 0
    (run.job_file("c")).unlink()
    assert run_jobs(run, jobs, None, workers, 1)["c"]["y"] == 14  # only c re-runs


@pytest.mark.parametrize("workers", [1, 2])
def test_job_errors_propagate(tmp_path, workers):
    run = RunDir.create(tmp_path / "r")
    with pytest.raises(UserError, match="bad input"):
        run_jobs(run, [Job("a", square, args={"x": 1}), Job("b", fail, ("a",))], None, workers, 1)
    assert run.job_done("a") and not run.job_done("b")


def test_graph_must_list_dependencies_first(tmp_path):
    with pytest.raises(ValueError, match="not listed before"):
        run_jobs(RunDir.create(tmp_path / "r"), [Job("b", square, ("a",)), Job("a", square)], None, 1, 1)
