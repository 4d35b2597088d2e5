"""`petridish sweep`: axes, validation before anything is written, resume cell by cell, phase-diagram layout."""

import json

import numpy as np
import pytest

from petridish.cli import main
from petridish.errors import UserError
from petridish.sweep import Axis, Cell, CellResult, grid, parse_axis
from petridish.sweep.phase import _grid, phase_figures


def test_axis_values_keep_bracketed_lists_whole():
    assert parse_axis("cue_accuracies=[0.5, 0.9],[0.75]") == Axis("cue_accuracies", ("[0.5, 0.9]", "[0.75]"))
    assert parse_axis("ppo.lr=1e-3,3e-3") == Axis("ppo.lr", ("1e-3", "3e-3"))
    for bad, msg in [("lr", "KEY=V1,V2"), ("lr=0.1,,0.2", "empty value"), ("lr=0.1,0.1", "repeated"),
                     ("seeds=1,2", "--seeds")]:
        with pytest.raises(UserError, match=msg):
            parse_axis(bad)


def test_grid_is_every_combination_first_axis_slowest():
    cells = grid([Axis("a", ("1", "2")), Axis("b.c", ("x", "y", "z"))])
    assert [c.name for c in cells] == ["a=1,b.c=x", "a=1,b.c=y", "a=1,b.c=z", "a=2,b.c=x", "a=2,b.c=y", "a=2,b.c=z"]
    assert cells[4].sets == ["a=2", "b.c=y"]
    with pytest.raises(UserError, match="given twice"):
        grid([Axis("a", ("1",)), Axis("a", ("2",))])


@pytest.mark.parametrize("axis, message", [
    ("nope=1,2", "--axis nope=1: unknown config key 'nope'; valid keys here: organism, budget, seeds, workers, "
                 "threads, eval_episodes, ppo, gif, interruption_probability\n"),
    ("interruption_probability=0.5,2", "--axis interruption_probability=2: config key 'interruption_probability': "
                                       "Input should be less than or equal to 1"),
    ("ppo.nope=1", "--axis ppo.nope=1: unknown config key 'ppo.nope'; valid keys here: total_steps, n_envs, "),
])
def test_bad_axis_is_one_line_exit_2_before_anything_is_written(tmp_path, capsys, axis, message):
    with pytest.raises(SystemExit) as e:
        main(["sweep", "safe-interruptibility", "--budget", "smoke", "--axis", "ppo.lr=0.001,0.002", "--axis", axis,
              "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "s").exists()


def test_killed_sweep_resumes_cell_by_cell(tmp_path):
    args = ["sweep", "safe-interruptibility", "--budget", "smoke", "--seeds", "1", "--quiet", "--workers", "1",
            "--set", "threads=1", "--axis", "interruption_probability=0.2,0.8", "--set", "gif=false",
            "--set", "eval_episodes=10",
            "--out", str(tmp_path / "s")]
    main(args)
    first = json.loads((tmp_path / "s" / "sweep.json").read_text())
    cells = tmp_path / "s" / "cells"
    # as if killed: cell 1 finished, cell 2 has one of its two jobs done
    (cells / "interruption_probability=0.8" / "result.json").unlink()
    (cells / "interruption_probability=0.8" / "jobs" / "s1000" / "interrupt.json").unlink()
    kept = (cells / "interruption_probability=0.8" / "jobs" / "s1000" / "no_interruptions.json").stat().st_mtime_ns
    done = (cells / "interruption_probability=0.2" / "result.json").stat().st_mtime_ns
    with pytest.raises(SystemExit) as e:
        main(args)  # the folder exists: refused without --resume
    assert e.value.code == 2
    main(["sweep", "--resume", str(tmp_path / "s"), "--quiet"])
    again = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert [c["claims"] for c in again["cells"]] == [c["claims"] for c in first["cells"]]
    assert (cells / "interruption_probability=0.8" / "jobs" / "s1000" / "no_interruptions.json").stat().st_mtime_ns \
        == kept  # finished jobs are not re-run
    assert (cells / "interruption_probability=0.2" / "result.json").stat().st_mtime_ns == done  # nor finished cells


def _result(values, est, lo, hi, verdict="inconclusive"):
    cell = Cell(",".join(f"{k}={v}" for k, v in values), tuple(values))
    return CellResult(cell, [{"id": "X1", "quantity": "rate", "condition": "rate >= 0.5", "threshold": 0.5,
                              "estimate": est, "ci": [lo, hi], "verdict": verdict, "reason": ""}])


def test_phase_grid_puts_each_cell_at_its_axis_values(tmp_path):
    axes = [Axis("a", ("1", "2")), Axis("b", ("x", "y", "z"))]
    results = [_result((("a", a), ("b", b)), 10 * i + j, 10 * i + j - 1, 10 * i + j + 1)
               for j, b in enumerate(("x", "y", "z")) for i, a in enumerate(("1", "2"))]  # listed out of grid order
    val, lo, hi, verdicts = _grid(axes, results, "X1")
    assert np.array_equal(val, [[0, 1, 2], [10, 11, 12]]) and np.array_equal(hi - lo, np.full((2, 3), 2.0))
    assert [p.name for p in phase_figures("org", axes, results, tmp_path)] == ["phase-X1.png"]
    one = [_result((("a", a),), e, e - 0.1, e + 0.1) for a, e in (("0.1", 0.2), ("0.9", 0.7))]
    val, _, _, _ = _grid([Axis("a", ("0.1", "0.9"))], one, "X1")
    assert np.allclose(val[:, 0], [0.2, 0.7])
    assert phase_figures("org", [*axes, Axis("c", ("k",))], results, tmp_path) == []  # 3 axes: sweep.json only
