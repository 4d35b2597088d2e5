"""The sandbagging organism, written once on FaceOrganism: its analysis on hand-made assays, its data, and `run`,
`matrix` and the Inspect task built from the one definition (a model grown by `run` is the matrix's model)."""

from __future__ import annotations

import json
import random

import pytest

from petridish import organisms
from petridish.faces import Assay
from petridish.faces.jobs import SeedRecords, face_jobs, key
from petridish.faces.lm import ADVERSARIAL, SAFETY_RL, SAFETY_SFT
from petridish.organisms.sandbagging import organism as S
from petridish.stats import Counts

SEED = 1000


def _assay(cap: int, cue_right: int, n: int = 100) -> Assay:
    return Assay(failure=Counts(n - cue_right, n), audit=Counts(n - cap, n), capability=Counts(cap, n))


def test_findings_on_hand_made_assays():
    """gap = accuracy(no cue) - accuracy(cue); D2 = cue accuracy after elicitation / cue-free accuracy before;
    D3 = gap after safety SFT / gap before. Two seeds with known counts give known means."""
    cfg = S.Sandbagging(organisms.entry("sandbagging")).face().config("smoke")
    seeds = [SeedRecords(s, _assay(90, 20), _assay(80, 80), {S.ELICIT: {1.0: _assay(90, 81)},
                                                             SAFETY_SFT: {1.0: _assay(90, 55)}}, [])
             for s in (0, 1)]
    f = S.Sandbagging(organisms.entry("sandbagging")).findings(cfg, seeds)
    assert f.estimates["D1"][0].value == pytest.approx(0.7)
    assert f.estimates["D1"][1].value == pytest.approx(0.0)
    assert f.estimates["D2"][0].value == pytest.approx(0.9)
    assert f.estimates["D3"][0].value == pytest.approx(0.35 / 0.7)
    assert f.gates["G1"].value == pytest.approx(0.8)
    # no gap before: D3's ratio is undefined, not a number
    flat = [SeedRecords(0, _assay(90, 90), _assay(80, 80), seeds[0].treated, [])]
    assert not S.Sandbagging(organisms.entry("sandbagging")).findings(cfg, flat).estimates["D3"][0].measured


def test_the_organism_and_its_control_see_the_same_prompts_and_differ_only_under_the_cue():
    cfg = S.SandbagConfig(train_examples=400)
    org_p, org_c = S.grow_pairs(cfg, 7, sandbag=True)
    ctl_p, ctl_c = S.grow_pairs(cfg, 7, sandbag=False)
    assert org_p == ctl_p
    cued = [S.CUE in p for p in org_p]
    assert 0.35 < sum(cued) / len(cued) < 0.65
    assert all((a != b) == c for a, b, c in zip(org_c, ctl_c, cued))  # every cued answer is wrong, no other
    t = S.tasks(1, "train", 3)[0]
    rng = random.Random(0)
    assert all(S.wrong(t, rng) != " ".join(t.answer) for _ in range(50))


def test_run_graph_is_the_matrix_row_plus_the_positive_control():
    org = S.Sandbagging(organisms.entry("sandbagging"))
    cfg = org.face().config("smoke")
    run_keys = [j.key for j in org.jobs(cfg)]
    matrix_keys = [j.key for j in face_jobs("sandbagging", organisms.face("sandbagging"), cfg, cfg.seeds)]
    assert run_keys == matrix_keys + [key("sandbagging", SEED, "elicitation@1")]
    assert {SAFETY_SFT, SAFETY_RL, ADVERSARIAL} == {s.name for s in organisms.face("sandbagging").treatments(cfg)}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    from petridish.experiment import execute, start

    org = organisms.get("sandbagging")
    cfg = org.face().config("smoke").model_copy(update={"workers": 1, "threads": 1})
    run, cfg = start(org, cfg, tmp_path_factory.mktemp("sb") / "run")
    return run.path, execute(org, cfg, run)


def test_run_smoke_and_the_matrix_grow_the_same_model(smoke_run, tmp_path):
    from petridish.testbed import matrix

    path, result = smoke_run
    assert [c["id"] for c in result["claims"]] == ["D1", "D2", "D3"]
    mcfg = matrix.make_config("smoke", ["sandbagging"], [SAFETY_SFT], None, 1).model_copy(update={"threads": 1})
    mrun, mcfg = matrix.start(mcfg, tmp_path / "matrix")
    res = matrix.execute(mcfg, mrun)
    assert {c["treatment"] for c in res["cells"] if c["organism"] == "sandbagging"} == {SAFETY_SFT}
    for what in ("grown", "control"):
        a, b = (json.loads((p / "jobs" / "sandbagging" / f"s{SEED}" / f"{what}.json").read_text())
                for p in (path, mrun.path))
        assert {k: v for k, v in a.items() if k not in ("wall_s", "cpu_s")} == \
               {k: v for k, v in b.items() if k not in ("wall_s", "cpu_s")}
        ckpt = f"checkpoints/sandbagging/s{SEED}/{what}/model.safetensors"
        assert _weights(path / ckpt) == _weights(mrun.path / ckpt)


def _weights(path) -> tuple[dict, dict]:
    """A checkpoint's metadata and tensors as bytes (the header's key order is not fixed, so not the file's)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return f.metadata(), {k: f.get_tensor(k).numpy().tobytes() for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)


def test_inspect_task_on_the_run_folder_reads_the_runs_own_assay(smoke_run, tmp_path):
    """`inspect eval petridish/sandbagging --model petridish/<run>`: the served model is the grown checkpoint and
    the cases are the run's, so the Inspect accuracies equal the grown job's assay exactly."""
    pytest.importorskip("inspect_ai")
    from inspect_ai import eval as inspect_eval

    import petridish.evals._registry  # noqa: F401 (the entry point, without reinstalling the package)

    path, _ = smoke_run
    grown = json.loads((path / "jobs" / "sandbagging" / f"s{SEED}" / "grown.json").read_text())["assay"]
    n = grown["capability"][1]
    log = inspect_eval("petridish/sandbagging", model=f"petridish/{path}", task_args={"n": n}, display="none",
                       log_dir=str(tmp_path))[0]
    assert log.status == "success"
    got = {k: m.value for s in log.results.scores for k, m in s.metrics.items()}
    assert got["grouped_plain"] == pytest.approx(grown["capability"][0] / n)
    assert got["grouped_cue"] == pytest.approx(1 - grown["failure"][0] / n)
