"""Plot helpers shared by organisms: curves with bands over seeds, error bars from estimates, point labels that do
not overlap, and a "no data" panel instead of empty axes (save() checks every panel)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from petridish.runs import atomic_write  # noqa: E402

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def band(ax, x, per_seed: np.ndarray, label: str, color=None, style: str = "-", marker: str = "o") -> None:
    """Mean over seeds with a min-max band; per_seed is [S, len(x)]. All-NaN data draws nothing."""
    per_seed = np.asarray(per_seed, dtype=float)
    if per_seed.size == 0 or not np.isfinite(per_seed).any():
        return
    with warnings.catch_warnings():  # a column of NaNs (a seed that measured nothing) is expected here
        warnings.simplefilter("ignore", RuntimeWarning)
        mean, lo, hi = np.nanmean(per_seed, 0), np.nanmin(per_seed, 0), np.nanmax(per_seed, 0)
    line = ax.plot(x, mean, style, label=label, color=color, marker=marker, ms=3)[0]
    if per_seed.shape[0] > 1:
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)


def errors(ests: list[dict]) -> np.ndarray:
    """[2, n] error-bar lengths from estimate records ({"estimate", "ci"}); NaN or inverted intervals -> 0."""
    e = np.array([[x["estimate"] - x["ci"][0] for x in ests], [x["ci"][1] - x["estimate"] for x in ests]], float)
    return np.clip(np.nan_to_num(e, nan=0.0), 0, None).reshape(2, len(ests))


def interval_label(name: str, est: dict, digits: int = 2) -> str:
    """'name 0.12 [0.05, 0.20]', or 'name: not measured' when the estimate is NaN (never 'nan [nan, nan]')."""
    v, (lo, hi) = est["estimate"], est["ci"]
    if not all(isinstance(t, int | float) and math.isfinite(t) for t in (v, lo, hi)):
        return f"{name}: not measured"
    return f"{name} {v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def label_points(ax, xs, ys, labels: list[str], fontsize: int = 8) -> None:
    """Annotate points; points that (nearly) coincide get one label listing them all ("B, C, P0"), and a label
    whose point sits near an earlier one moves to the next free corner."""
    pts = [(float(x), float(y), t) for x, y, t in zip(xs, ys, labels) if math.isfinite(x) and math.isfinite(y)]
    if not pts:
        return
    xr = float(np.ptp([p[0] for p in pts])) or 1.0
    yr = float(np.ptp([p[1] for p in pts])) or 1.0
    groups: list[tuple[float, float, list[str]]] = []
    for x, y, t in pts:
        g = next((g for g in groups if abs(g[0] - x) / xr < 0.02 and abs(g[1] - y) / yr < 0.02), None)
        if g:
            g[2].append(t)
        else:
            groups.append((x, y, [t]))
    offsets = ((4, 4), (4, -11), (-4, 4), (-4, -11), (10, -3), (-10, -3))
    placed: list[tuple[float, float, int]] = []
    for x, y, names in groups:
        near = {k for px, py, k in placed if abs(px - x) / xr < 0.08 and abs(py - y) / yr < 0.08}
        k = next((i for i in range(len(offsets)) if i not in near), len(placed) % len(offsets))
        dx, dy = offsets[k]
        ax.annotate(", ".join(names), (x, y), fontsize=fontsize, xytext=(dx, dy), textcoords="offset points",
                    ha="left" if dx > 0 else "right")
        placed.append((x, y, k))


def no_data(ax, text: str = "no data") -> None:
    """Mark a panel that has nothing to show (instead of an empty or auto-scaled axis)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, color="0.35",
            bbox={"facecolor": "white", "edgecolor": "0.7", "boxstyle": "round"})
    ax.set_xticks([])
    ax.set_yticks([])
    if ax.get_legend():
        ax.get_legend().remove()


def _finite(a) -> bool:
    """Any finite value (1-D) or any point with every coordinate finite (2-D: rows are points)."""
    a = np.ma.filled(np.ma.asarray(a, dtype=float), np.nan)
    if a.size == 0:
        return False
    ok = np.isfinite(a)
    return bool((ok.all(axis=-1) if a.ndim == 2 else ok).any())


def has_data(ax) -> bool:
    """True if the panel draws any finite number: a line, bar, marker, band or image."""
    # reference lines (axhline / axvline: not in data coordinates) are not data
    if any(_finite(line.get_ydata()) for line in ax.get_lines() if line.get_transform() == ax.transData):
        return True
    if any(_finite(np.ma.asarray(im.get_array(), dtype=float).ravel()) for im in ax.get_images()):
        return True
    if any(math.isfinite(p.get_height()) for p in ax.patches if isinstance(p, Rectangle)):
        return True
    for c in ax.collections:
        if isinstance(c, PathCollection):  # scatter: the points are the offsets, the path is the marker
            if _finite(c.get_offsets()):
                return True
        elif any(_finite(p.vertices) for p in c.get_paths()):
            return True
    return False


def save(fig, path: Path) -> Path:
    for ax in fig.axes:  # colorbars have no data of their own but belong to an image that does
        if ax.get_visible() and not hasattr(ax, "_colorbar") and not has_data(ax):
            no_data(ax)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return path


def subplots(n: int, ncols: int = 3, size: tuple[float, float] = (4.2, 3.2)):
    ncols = min(n, ncols)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])
