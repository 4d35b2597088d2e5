"""The goal-misgeneralization organisms at smoke budget: a complete run folder with claims, controls, plots and
the GIF; jobs are deterministic for a seed. (The science is measured at the default budget; see the README.)"""

import json

from petridish.config import resolve
from petridish.organisms import get
from petridish.organisms.goal_misgen.jobs import eval_sets


def test_smoke_run_writes_a_complete_run_folder(cli, tmp_path):
    out = tmp_path / "run"
    p = cli("run", "goal-misgen-maze", "--budget", "smoke", "--seeds", "1", "--workers", "1", "--quiet", "--out",
            str(out))
    assert p.returncode == 0, p.stderr
    r = json.loads((out / "result.json").read_text())
    assert [c["id"] for c in r["claims"]] == ["G1", "G2", "G3"]
    for c in r["claims"]:
        assert c["verdict"] in ("reproduced", "not reproduced", "inconclusive") and len(c["ci"]) == 2
    bounds = r["controls"]["scripted_bounds"]
    assert bounds["bfs_goal/test"]["goal"] == 1.0 and bounds["bfs_proxy/test"]["proxy_first"] == 1.0
    assert bounds["bfs_proxy/test"]["goal"] == 0.0
    test = r["metrics"]["by_alpha"]["alpha0"]["sampled/test"]
    assert test["goal"]["n"] == 40 and 0 <= test["neither"]["estimate"] <= 1
    assert r["card"]["rung"] == 3 and "alpha" in r["card"]["axes"][0]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64") >= 2 and "data:image/gif;base64" in html
    assert (out / "checkpoints" / "s1000" / "alpha0" / "agent.safetensors").is_file()


def test_jobs_are_deterministic_and_test_levels_are_fixed(tmp_path):
    from petridish.jobs import JobContext
    from petridish.organisms.goal_misgen.jobs import job_train

    org = get("goal-misgen-coin")
    cfg = resolve(org.Config, org.name, "smoke", org.budgets, sets=["seeds=[1000]"])
    sets = eval_sets(cfg)
    assert len(sets["test"][1]) == cfg.test_levels and len(sets["onway"][1]) == cfg.onway_levels
    outs = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        ctx = JobContext(tmp_path / str(i), "s1000/alpha0", cfg, {"seed": 1000, "alpha": 0.0}, {}, 1)
        outs.append(job_train(ctx))
    for o in outs:
        for h in o["history"]:
            h.pop("steps_per_s")
    assert json.dumps(outs[0]) == json.dumps(outs[1])  # (NaN != NaN, but their JSON matches)
