"""Plot helpers shared by organisms: curves with bands over seeds."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from petridish.runs import atomic_write  # noqa: E402


def band(ax, x, per_seed: np.ndarray, label: str, color=None, style: str = "-") -> None:
    """Mean over seeds with a min-max band; per_seed is [S, len(x)]."""
    per_seed = np.asarray(per_seed, dtype=float)
    mean = np.nanmean(per_seed, 0)
    line = ax.plot(x, mean, style, label=label, color=color, marker="o", ms=3)[0]
    if per_seed.shape[0] > 1:
        ax.fill_between(x, np.nanmin(per_seed, 0), np.nanmax(per_seed, 0), color=line.get_color(), alpha=0.2)


def save(fig, path: Path) -> Path:
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
