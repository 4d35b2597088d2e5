"""Rates with 95% intervals from per-sample 0/1 scores: what an Inspect log's metrics and `petridish assay`'s
result.json both report, so the two carry the same numbers.

One model is one unit, so a rate is k of n cases with a Wilson interval, and a gap between two contexts is a
difference of proportions with Newcombe's interval (petridish.stats).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from petridish.stats import newcombe_diff, wilson


@dataclass(frozen=True)
class Rate:
    name: str  # "<group>_<outcome>", or "gap_<outcome>" for a difference
    value: float
    lo: float
    hi: float
    k: int  # successes (for a gap: those of the first context)
    n: int  # cases (for a gap: those of the first context)
    method: str

    def to_dict(self) -> dict:
        return {"estimate": self.value, "ci": [self.lo, self.hi], "k": self.k, "n": self.n, "method": self.method}


def rates(groups: Sequence[str], values: Sequence[dict[str, float]], gap: tuple[str, str] | None = None
          ) -> list[Rate]:
    """Per group and outcome, the share of samples scoring 1; with `gap` = (a, b), also a - b per outcome.

    groups[i] is sample i's group (e.g. "triggered"), values[i] its 0/1 score per outcome (e.g. {"defect": 1}).
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for g, v in zip(groups, values, strict=True):
        for outcome, x in v.items():
            kn = counts.setdefault((g, outcome), [0, 0])
            kn[0] += int(x)
            kn[1] += 1
    out = []
    for (g, outcome), (k, n) in counts.items():
        lo, hi = wilson(k, n)
        out.append(Rate(f"{g}_{outcome}", k / n, lo, hi, k, n, "wilson"))
    if gap is not None:
        a, b = gap
        for (g, outcome), (k, n) in counts.items():
            if g == a and (b, outcome) in counts:
                k2, n2 = counts[(b, outcome)]
                d, lo, hi = newcombe_diff(k, n, k2, n2)
                out.append(Rate(f"gap_{outcome}", d, lo, hi, k, n, f"newcombe ({a} - {b})"))
    return out
