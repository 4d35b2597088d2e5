"""Faults: workers die with a SIGKILLed run, one process per run folder, job files with an integrity record, a full
disk as one line, files with the user's umask."""

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
import torch

from petridish import runs
from petridish.cli import main
from petridish.errors import UserError
from petridish.runs import RunDir, atomic_write_json, atomic_write_text, save_tensors, unlock_folder

SMOKE = ["run", "safe-interruptibility", "--budget", "smoke", "--seeds", "1", "--workers", "2", "--quiet",
         "--set", "gif=false", "--set", "eval_episodes=10"]
JOB = "s1000/interrupt"
FIX = "delete jobs/s1000/interrupt.json to re-run that job, or pass --rerun-bad"


def _petridish() -> list[str]:
    """The console script where installed (what users type), else `python -m petridish`."""
    script = Path(sys.executable).parent / "petridish"
    return [str(script)] if script.exists() else [sys.executable, "-m", "petridish"]


def _env(**extra) -> dict:
    return {**os.environ, "PYTHONWARNINGS": "ignore", **extra}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "run"
    p = subprocess.run([*_petridish(), *SMOKE, "--out", str(out)], capture_output=True, text=True, timeout=600,
                       env=_env())
    assert p.returncode == 0, p.stderr
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(run, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


def _numbers(run: Path):
    r = json.loads((run / "result.json").read_text())
    return r["claims"], r["metrics"], r["controls"]


def _error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as e:
        main(list(argv))
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "\n" not in err and "Traceback" not in err, err
    return err


# --- workers die with their parent ---------------------------------------------------------------------------
def _tagged(tag: str) -> list[psutil.Process]:
    """Live processes whose environment carries the tag: the run, its workers, its resource tracker (wherever they
    were reparented)."""
    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("PETRIDISH_TEST_TAG") == tag and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.Error:
            continue
    return found


def _survivors(tag: str, grace: float = 5.0) -> list[str]:
    deadline = time.time() + grace
    while (left := _tagged(tag)) and time.time() < deadline:
        time.sleep(0.1)
    return [" ".join(p.cmdline())[:120] for p in left if p.is_running()]


def test_sigkill_at_random_moments_leaves_no_process_and_resumes(finished, tmp_path):
    out = tmp_path / "killed"
    rng = random.Random(26)
    for i in range(4):
        tag = uuid.uuid4().hex
        argv = [*SMOKE, "--out", str(out)] if i == 0 else ["run", "--resume", str(out), "--quiet"]
        proc = subprocess.Popen([*_petridish(), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=_env(PETRIDISH_TEST_TAG=tag))
        if i == 0:  # the folder must exist to be resumed
            while not (out / "config.yaml").exists() and proc.poll() is None:
                time.sleep(0.01)
        if i % 2:  # while the workers start (import torch, ...): the moment the issue found them orphaned
            while not [p for p in _tagged(tag) if p.pid != proc.pid] and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 1.5))
        else:
            time.sleep(rng.uniform(0.3, 5.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not _survivors(tag), f"kill {i}: processes outlived the run: {_survivors(tag, 0)}"
    tag = uuid.uuid4().hex
    p = subprocess.run([*_petridish(), "run", "--resume", str(out), "--quiet"], capture_output=True, text=True,
                       timeout=600, env=_env(PETRIDISH_TEST_TAG=tag))
    assert p.returncode == 0, p.stderr
    assert _numbers(out) == _numbers(finished)
    assert not list(out.rglob("*.tmp"))
    assert not _survivors(tag)


def test_resume_removes_temp_files_of_a_killed_write(finished, tmp_path):
    run = _copy(finished, tmp_path)
    (run / "jobs" / "s1000" / ".interrupt.json.x1.tmp").write_bytes(b"")  # a write cut short by SIGKILL
    (run / ".report.html.x2.tmp").write_bytes(b"<html")
    RunDir.resume(run)
    unlock_folder(run)
    assert not list(run.rglob("*.tmp"))


# --- one process per run folder --------------------------------------------------------------------------------
HOLD = """
import sys, time
from petridish.runs import RunDir
RunDir.{how}(sys.argv[1])
print("held", flush=True)
time.sleep(60)
"""


def test_second_process_on_a_run_folder_refuses_naming_the_holder(finished, tmp_path):
    run = _copy(finished, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD.format(how="resume"), str(run)], stdout=subprocess.PIPE,
                              text=True, env=_env())
    try:
        assert holder.stdout.readline().strip() == "held"
        p = subprocess.run([*_petridish(), "run", "--resume", str(run), "--quiet"], capture_output=True, text=True,
                           timeout=300, env=_env())
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert f"is in use by process {holder.pid}" in p.stderr
    finally:
        holder.kill()
        holder.wait()
    RunDir.resume(run)  # the kernel released the dead holder's lock
    unlock_folder(run)


START = """
import sys, time
from pathlib import Path
from petridish.errors import UserError
from petridish.runs import RunDir
print("ready", flush=True)
while not Path(sys.argv[2]).exists():
    pass
try:
    RunDir.create(sys.argv[1])
    print("created", flush=True)
    time.sleep(3)
except UserError as e:
    print(e, flush=True)
"""


def test_two_creates_at_the_same_instant_one_wins(tmp_path):
    for attempt in range(2):
        folder, go = tmp_path / f"r{attempt}", tmp_path / f"go{attempt}"
        procs = [subprocess.Popen([sys.executable, "-c", START, str(folder), str(go)], stdout=subprocess.PIPE,
                                  text=True, env=_env()) for _ in range(2)]
        assert [p.stdout.readline().strip() for p in procs] == ["ready", "ready"]  # both wait on the go file
        go.touch()
        said = [p.communicate(timeout=60)[0].strip() for p in procs]
        assert sorted(s == "created" for s in said) == [False, True], said
        loser = next(s for s in said if s != "created")
        assert "is in use by process" in loser or "already exists" in loser, loser


# --- job files with an integrity record ------------------------------------------------------------------------
def _edit_count(p: Path) -> None:
    text = p.read_text()
    i = next(i for i, c in enumerate(text) if c.isdigit() and text[i - 1] == " ")
    p.write_text(text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:])  # still valid JSON, one digit changed


CORRUPTIONS = {
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
    "empty": lambda p: p.write_bytes(b""),
    "{}": lambda p: p.write_text("{}"),
    "wrong type": lambda p: p.write_text("[1, 2, 3]"),
    "field of wrong type": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "seed": "1000"})),
    "directory": lambda p: (p.unlink(), p.mkdir()),
    "plausible edit": _edit_count,
}


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_corrupt_job_file_is_one_line_naming_the_job_and_the_fix(finished, tmp_path, capsys, how):
    run = _copy(finished, tmp_path)
    before = (run / "result.json").read_bytes()
    CORRUPTIONS[how](run / "jobs" / f"{JOB}.json")
    err = _error(capsys, "run", "--resume", str(run), "--quiet")
    assert f"the output of job '{JOB}'" in err and err.endswith(FIX), err
    assert (run / "result.json").read_bytes() == before  # nothing used, nothing rewritten
    unlock_folder(run)


def test_rerun_bad_reruns_exactly_the_bad_jobs(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path)
    jobs = run / "jobs" / "s1000"
    CORRUPTIONS["plausible edit"](jobs / "interrupt.json")
    good = (jobs / "no_interruptions.json").read_bytes()
    _error(capsys, "run", "--rerun-bad", "--quiet", "safe-interruptibility")  # only with --resume
    main(["run", "--resume", str(run), "--rerun-bad", "--quiet"])
    unlock_folder(run)
    assert (jobs / "no_interruptions.json").read_bytes() == good  # not re-run
    redone, original = (json.loads((r / "jobs" / f"{JOB}.json").read_text()) for r in (run, finished))
    assert redone["eval"] == original["eval"]  # the same numbers (wall_s, steps_per_s are timings)
    assert [h["episode_return"] for h in redone["history"]] == [h["episode_return"] for h in original["history"]]
    assert RunDir.open(run).bad_jobs() == [] and _numbers(run) == _numbers(finished)


def test_a_folder_from_before_integrity_records_is_adopted_not_rerun(finished, tmp_path, capsys):
    """No jobs/index.jsonl at all (written by an older petridish): its well-formed job files are recorded as they
    are, with a warning, and resume re-judges from them; a malformed one is still refused."""
    run = _copy(finished, tmp_path)
    (run / "jobs" / "index.jsonl").unlink()
    main(["run", "--resume", str(run), "--quiet"])
    unlock_folder(run)
    assert "predates job integrity records" in capsys.readouterr().err
    assert RunDir.open(run).bad_jobs() == [] and _numbers(run) == _numbers(finished)
    legacy = _copy(finished, tmp_path / "b")
    (legacy / "jobs" / "index.jsonl").unlink()
    CORRUPTIONS["truncated"](legacy / "jobs" / f"{JOB}.json")
    with pytest.raises(SystemExit) as e:
        main(["run", "--resume", str(legacy), "--quiet"])
    warning, err = capsys.readouterr().err.strip().splitlines()  # the adoption warning, then the one-line error
    assert e.value.code == 2 and "predates" in warning and f"the output of job '{JOB}'" in err and err.endswith(FIX)
    unlock_folder(legacy)


# --- a full disk ----------------------------------------------------------------------------------------------
def _no_space(*_a, **_k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_full_disk_is_one_line_and_leaves_no_temp_file(tmp_path, monkeypatch):
    atomic_write_json(tmp_path / "a.json", {"x": 1})
    monkeypatch.setattr(runs.os, "fsync", _no_space)
    for write, name in ((lambda p: atomic_write_json(p, {"x": 2}), "a.json"),
                        (lambda p: atomic_write_text(p, "<html>"), "report.html"),
                        (lambda p: save_tensors(p, {"w": torch.zeros(3)}), "m.safetensors")):
        with pytest.raises(UserError) as e:
            write(tmp_path / name)
        assert str(e.value) == f"no space left writing {tmp_path / name}; free space and --resume"
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no temp file, no half file


def test_full_disk_inside_safetensors_and_metrics_is_one_line(tmp_path, monkeypatch):
    from safetensors import SafetensorError

    def rust_no_space(*_a, **_k):
        raise SafetensorError("Error while serializing: IoError(No space left on device (os error 28))")

    import safetensors.torch

    monkeypatch.setattr(safetensors.torch, "save_file", rust_no_space)  # runs.save_tensors imports it when it writes
    with pytest.raises(UserError, match="^no space left writing .*m.safetensors; free space and --resume$"):
        save_tensors(tmp_path / "m.safetensors", {"w": torch.zeros(3)})
    assert list(tmp_path.iterdir()) == []

    class FullOS:
        def __getattr__(self, name):
            return _no_space if name == "write" else getattr(os, name)

    run = RunDir(tmp_path)
    monkeypatch.setattr(runs, "os", FullOS())
    with pytest.raises(UserError, match="^no space left writing .*metrics.jsonl; free space and --resume$"):
        run.append_metric({"job": "a", "step": 1})


def test_full_disk_while_writing_the_report_is_one_line_from_the_cli(finished, tmp_path, monkeypatch, capsys):
    run = _copy(finished, tmp_path)
    monkeypatch.setattr(runs.os, "fsync", _no_space)
    err = _error(capsys, "report", str(run))
    assert err.startswith("petridish: error: no space left writing ") and err.endswith("; free space and --resume")
    assert not list(run.rglob("*.tmp"))


# --- the user's umask --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_every_writer_gives_files_the_users_umask(tmp_path, mask):
    from petridish.report import plots
    from petridish.rl.render import write_gif

    old = os.umask(mask)
    try:
        run = RunDir.create(tmp_path / "r")
        run.write_json("result.json", {"x": 1})
        atomic_write_text(run.path / "report.html", "<html>")
        atomic_write_text(run.path / "config.yaml", "a: 1\n")
        save_tensors(run.path / "checkpoints" / "m.safetensors", {"w": torch.zeros(2)})
        run.save_job_output("s1/a", {"y": 1, "wall_s": 0.0})
        run.append_metric({"job": "s1/a", "step": 1})
        fig, _ = plots.subplots(1)
        plots.save(fig, run.path / "plot.png")
        import numpy as np

        write_gif([np.zeros((4, 4, 3), np.uint8)] * 2, run.path / "a.gif")
        unlock_folder(run.path)
    finally:
        os.umask(old)
    files = [p for p in run.path.rglob("*") if p.is_file()]
    assert len(files) == 10  # the 8 above, the job index and the lock
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: oct(0o666 & ~mask) for p in files}
