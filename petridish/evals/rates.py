"""Rates with 95% intervals from per-sample 0/1 scores: what an Inspect log's metrics and `petridish assay`'s
result.json both report, so the two carry the same numbers.

A model evaluated once is one unit (one seed in petridish.stats' terms): a rate is k of n cases with the stats
layer's one-seed interval, and a gap between two contexts is their difference of rates (petridish.stats.diff;
the contexts' cases are treated as independent samples, which is conservative when they are the same tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from petridish.stats import Counts, Estimate, diff, rate


@dataclass(frozen=True)
class Rate:
    name: str  # "<group>_<outcome>", or "gap_<outcome>" for a difference
    k: int  # successes (for a gap: those of the first context)
    n: int  # cases (for a gap: those of the first context)
    estimate: Estimate

    def to_dict(self) -> dict:
        return {**self.estimate.to_dict(), "k": self.k, "n": self.n}


def rates(groups: Sequence[str], values: Sequence[dict[str, float]], gap: tuple[str, str] | None = None
          ) -> list[Rate]:
    """Per group and outcome, the share of samples scoring 1; with `gap` = (a, b), also a - b per outcome.

    groups[i] is sample i's group (e.g. "triggered"), values[i] its 0/1 score per outcome (e.g. {"defect": 1}).
    """
    counts: dict[tuple[str, str], Counts] = {}
    for g, v in zip(groups, values, strict=True):
        for outcome, x in v.items():
            c = counts.get((g, outcome), Counts(0, 0))
            counts[(g, outcome)] = Counts(c.k + int(x), c.n + 1)
    out = [Rate(f"{g}_{outcome}", c.k, c.n, rate([c])) for (g, outcome), c in counts.items()]
    if gap is not None:
        a, b = gap
        out += [Rate(f"gap_{outcome}", c.k, c.n, diff([c], [counts[(b, outcome)]]))
                for (g, outcome), c in counts.items() if g == a and (b, outcome) in counts]
    return out
