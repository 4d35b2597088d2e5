"""A sweep's results: the terminal table (a row per cell, a column per claim) and a phase diagram per claim
(one axis: the headline estimate as a curve with its 95% interval band; two axes: a heat-map with the value,
interval and verdict written in each cell)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import yaml
from rich.table import Table

from petridish.report import plots
from petridish.report.table import COLORS, fmt
from petridish.sweep import Axis, CellResult


def sweep_table(title: str, axes: list[Axis], results: list[CellResult]) -> Table:
    t = Table(title=title, show_lines=True)
    for a in axes:
        t.add_column(a.key, overflow="fold")
    ids = [c["id"] for c in results[0].claims]
    for cid in ids:
        t.add_column(cid, overflow="fold")
    for r in results:
        by_id = {c["id"]: c for c in r.claims}
        cols = []
        for cid in ids:
            c = by_id.get(cid)
            if c is None:
                cols.append("-")
                continue
            color = COLORS.get(c["verdict"], "white")
            cols.append(f"{fmt(c['estimate'])} [{fmt(c['ci'][0])}, {fmt(c['ci'][1])}]\n[{color}]{c['verdict']}"
                        f"[/{color}]")
        t.add_row(*(v for _, v in r.cell.values), *cols)
    return t


def _numbers(raw: tuple[str, ...]) -> list[float] | None:
    """The axis values as numbers, or None if any is not a plain number (then the axis is categorical)."""
    vals = [yaml.safe_load(v) for v in raw]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in vals):
        return [float(v) for v in vals]
    return None


def _grid(axes: list[Axis], results: list[CellResult], cid: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """value, lo, hi [len(axis0), len(axis1) or 1] and verdicts in the same layout, for claim `cid`."""
    shape = tuple(len(a.raw) for a in axes) + ((1,) if len(axes) == 1 else ())
    val, lo, hi = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    verdicts = np.full(shape, "", dtype=object)
    for r in results:
        idx = tuple(a.raw.index(v) for a, (_, v) in zip(axes, r.cell.values)) + ((0,) if len(axes) == 1 else ())
        c = next((c for c in r.claims if c["id"] == cid), None)
        if c is not None:
            val[idx], lo[idx], hi[idx], verdicts[idx] = c["estimate"], c["ci"][0], c["ci"][1], c["verdict"]
    return val, lo, hi, verdicts


def phase_figures(organism: str, axes: list[Axis], results: list[CellResult], folder: Path) -> list[Path]:
    """phase-<claim>.png per claim for a 1- or 2-axis sweep (none for more axes: read sweep.json)."""
    if len(axes) > 2 or not results:
        return []
    files = []
    for claim in results[0].claims:
        val, lo, hi, verdicts = _grid(axes, results, claim["id"])
        title = f"{organism} {claim['id']}: {claim['quantity']}"
        thr = claim["threshold"]
        if len(axes) == 1:
            fig, (ax,) = plots.subplots(1, ncols=1, size=(5.2, 3.6))
            x = _numbers(axes[0].raw)
            xs = np.array(x) if x is not None else np.arange(len(axes[0].raw))
            ax.plot(xs, val[:, 0], "o-", color="C0")
            ax.fill_between(xs, lo[:, 0], hi[:, 0], color="C0", alpha=0.25, label="95% CI")
            if x is None:
                ax.set_xticks(xs, axes[0].raw)
            if thr is not None:
                ax.axhline(thr, color="k", ls=":", lw=1, label=claim["condition"])
            ax.set_xlabel(axes[0].key)
            ax.set_ylabel(claim["quantity"])
            ax.legend(fontsize=7)
        else:
            fig, (ax,) = plots.subplots(1, ncols=1, size=(1.9 * len(axes[1].raw) + 2.4, 1.2 * len(axes[0].raw) + 1.6))
            im = ax.imshow(val, cmap="viridis", aspect="auto")  # rows: axis 0, columns: axis 1
            fig.colorbar(im, ax=ax, label=claim["id"])
            ax.set_yticks(range(len(axes[0].raw)), axes[0].raw)
            ax.set_xticks(range(len(axes[1].raw)), axes[1].raw)
            ax.set_ylabel(axes[0].key)
            ax.set_xlabel(axes[1].key)
            mid = np.nanmean(val) if np.isfinite(val).any() else 0.0
            for i, j in np.ndindex(val.shape):
                ax.text(j, i, f"{fmt(val[i, j])}\n[{fmt(lo[i, j])}, {fmt(hi[i, j])}]\n{verdicts[i, j]}",
                        ha="center", va="center", fontsize=7, color="w" if val[i, j] < mid else "k")
        ax.set_title(title, fontsize=9)
        files.append(plots.save(fig, folder / f"phase-{re.sub(r'[^A-Za-z0-9._-]', '_', claim['id'])}.png"))
    return files
