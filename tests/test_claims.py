"""Verdicts from estimates: the vocabulary, gates, `within`, missing claims and run warnings."""

import math

import pytest

from petridish.claims import (
    INCONCLUSIVE,
    INVALID,
    NOT_MEASURED,
    NOT_REPRODUCED,
    REPRODUCED,
    ClaimSpec,
    Condition,
    Findings,
    Gate,
    judge_all,
)
from petridish.stats import Counts, Estimate, binomial, rate, seed_mean


def est(lo: float, hi: float) -> Estimate:
    return Estimate((lo + hi) / 2, lo, hi, "hand-made", 3, 300, (lo, (lo + hi) / 2, hi))


@pytest.mark.parametrize("cond,lo,hi,want", [
    (Condition("x", ">=", 0.9), 0.92, 0.97, REPRODUCED),
    (Condition("x", ">=", 0.9), 0.5, 0.8, NOT_REPRODUCED),
    (Condition("x", ">=", 0.9), 0.85, 0.95, INCONCLUSIVE),
    (Condition("x", "<=", 0.02), 0.0, 0.01, REPRODUCED),
    (Condition("x", ">", 0.0), 0.0, 0.1, INCONCLUSIVE),
    (Condition("x", "within", 0.0, tol=0.05), -0.03, 0.04, REPRODUCED),
    (Condition("x", "within", 0.0, tol=0.05), -0.10, -0.06, NOT_REPRODUCED),
    (Condition("x", "within", 0.0, tol=0.05), 0.06, 0.2, NOT_REPRODUCED),
    (Condition("x", "within", 0.0, tol=0.05), -0.08, 0.01, INCONCLUSIVE),
])
def test_condition_verdicts(cond, lo, hi, want):
    assert cond.verdict(est(lo, hi)) == want


def test_within_needs_a_tolerance():
    with pytest.raises(ValueError):
        Condition("x", "within", 0.0)
    with pytest.raises(ValueError):
        Condition("x", ">=", 0.0, tol=0.1)


INSTALLED = Gate("G1", "the failure is installed", Condition("failure before", ">=", 0.5))
A = ClaimSpec("A", "it persists", (Condition("after / before", ">=", 0.5),), gates=("G1",))
B = ClaimSpec("B", "capability kept", (Condition("accuracy gap", "within", 0.0, tol=0.05),))
C = ClaimSpec("C", "never measured here", (Condition("q", ">", 0.0),))


def run(estimates: dict, gate: Estimate | None, seeds: int = 3):
    f = Findings(estimates=estimates, gates={"G1": gate} if gate else {})
    return judge_all((A, B, C), (INSTALLED,), f, seeds)


def test_every_registered_claim_appears_in_order_and_missing_ones_are_not_measured():
    claims, gates, warnings = run({"A": (est(0.7, 0.9),), "B": (est(-0.02, 0.03),)}, est(0.8, 0.95))
    assert [c["id"] for c in claims] == ["A", "B", "C"]
    assert [c["verdict"] for c in claims] == [REPRODUCED, REPRODUCED, NOT_MEASURED]
    assert "did not measure" in claims[2]["reason"] and gates[0]["verdict"] == REPRODUCED
    assert claims[0]["gates"] == ["G1"] and not warnings


def test_a_failed_gate_makes_its_claims_invalid_and_warns():
    claims, _, warnings = run({"A": (est(0.0, 0.2),), "B": (est(-0.02, 0.03),)}, est(0.0, 0.01))
    assert claims[0]["verdict"] == INVALID and "gate G1 failed" in claims[0]["reason"]
    assert claims[1]["verdict"] == REPRODUCED  # B is not gated by G1
    assert any("G1 failed" in w for w in warnings)


def test_an_inconclusive_gate_caps_the_verdict_and_a_missing_gate_means_not_measured():
    claims, _, _ = run({"A": (est(0.0, 0.2),)}, est(0.4, 0.6))
    assert claims[0]["verdict"] == INCONCLUSIVE and "G1 inconclusive" in claims[0]["reason"]
    claims, _, _ = run({"A": (est(0.7, 0.9),)}, None)
    assert claims[0]["verdict"] == NOT_MEASURED and "G1 not measured" in claims[0]["reason"]


def test_empty_counts_never_give_a_verdict():
    empty = rate([Counts(0, 0)] * 3)
    for spec in (Condition("x", "<=", 0.95), Condition("x", ">=", 0.001)):
        assert spec.verdict(empty) == NOT_MEASURED
    claims, _, _ = run({"A": (empty,)}, est(0.8, 0.9))
    assert claims[0]["verdict"] == NOT_MEASURED and "no evaluation cases" in claims[0]["reason"]
    assert math.isnan(claims[0]["estimate"])


def test_few_seeds_and_degenerate_runs_warn():
    _, _, warnings = run({"A": (est(0.7, 0.9),)}, est(0.8, 0.9), seeds=1)
    assert any("only 1 seed" in w for w in warnings)
    claims, _, warnings = run({}, est(0.0, 0.01))
    assert {c["verdict"] for c in claims} == {INVALID, NOT_MEASURED}
    assert any(w.startswith("DEGENERATE RUN") for w in warnings)


def test_estimates_for_an_unregistered_claim_are_refused():
    with pytest.raises(ValueError, match="unregistered"):
        run({"Z": (est(0, 1),)}, None)


def test_amended_claim_carries_its_registration():
    amended = ClaimSpec("A'", "amended", (Condition("q", ">", 0.0),), amends="A", registered="2026-11-29",
                        reason="the dose is now chosen by a rule")
    claims, _, _ = judge_all((A, amended), (INSTALLED,), Findings({"A'": (est(0.1, 0.2),)}), 3)
    assert claims[1]["amends"] == "A" and claims[1]["registered"] == "2026-11-29" and claims[1]["verdict"] == REPRODUCED


def test_a_failed_condition_decides_even_when_another_is_not_measured():
    """Issue 22: one condition `not reproduced` and another `not measured` used to read `not measured`."""
    two = ClaimSpec("D", "two parts", (Condition("p", ">=", 0.5), Condition("q", ">=", 0.5)))
    claims, _, _ = judge_all((two,), (), Findings({"D": (est(0.1, 0.2), Estimate.not_measured("no cases"))}), 3)
    assert claims[0]["verdict"] == NOT_REPRODUCED
    claims, _, _ = judge_all((two,), (), Findings({"D": (est(0.6, 0.7), Estimate.not_measured("no cases"))}), 3)
    assert claims[0]["verdict"] == NOT_MEASURED


def test_power_of_a_seed_bound_estimate_by_hand():
    """Per-seed values mean 0.6, SD 0.1, 3 seeds, against >= 0.5: t(2) 0.1 / sqrt(3) = 0.248 straddles; at n
    seeds the half-width is t(n-1) 0.1 / sqrt(n), first below 0.1 at n = 7 (t(5) / sqrt(6) = 1.05, t(6) / sqrt(7)
    = 0.925). Cases cannot help: the seeds' own spread binds."""
    spec = ClaimSpec("E", "seed-bound", (Condition("x", ">=", 0.5),))
    e = seed_mean([0.5, 0.6, 0.7], 300, [1e-6] * 3)
    rec = judge_all((spec,), (), Findings({"E": (e,)}), 3)[0][0]
    assert rec["verdict"] == INCONCLUSIVE
    assert rec["power"] == {"seeds": 7, "cases": None, "text": "inconclusive at 3 seeds; ~7 seeds would decide"}
    assert Condition("x", ">=", 0.5).verdict(seed_mean([0.6 + 0.1 * z for z in _unit_sd(7)])) == REPRODUCED


def _unit_sd(n: int) -> list[float]:
    """n values with mean 0 and sample SD exactly 1."""
    import numpy as np

    z = np.linspace(-1, 1, n)
    return list((z - z.mean()) / z.std(ddof=1))


def test_power_of_a_case_bound_estimate_by_hand():
    """Seeds that agree (0.55 each) with case variance 0.01 on 100 cases: the half-width 1.96 sqrt(0.01 / 3) =
    0.113 against a margin of 0.05 needs 3 (0.113 / 0.05)^2 = 15.4 -> 16 seeds, or 100 (0.113 / 0.05)^2 = 512.2 -> 513
    cases per seed."""
    spec = ClaimSpec("F", "case-bound", (Condition("x", ">=", 0.5),))
    e = seed_mean([0.55] * 3, 100, [0.01] * 3)
    h = e.value - e.lo
    rec = judge_all((spec,), (), Findings({"F": (e,)}), 3)[0][0]
    assert rec["verdict"] == INCONCLUSIVE
    assert rec["power"]["seeds"] == math.ceil(3 * (h / 0.05) ** 2) == 16
    assert rec["power"]["cases"] == math.ceil(100 * (h / 0.05) ** 2) == 513
    assert rec["power"]["text"] == "inconclusive at 3 seeds; ~16 seeds or ~513 cases per seed would decide"


def test_power_of_a_count_of_seeds_and_of_an_estimate_on_its_threshold():
    spec = ClaimSpec("G", "most seeds", (Condition("fraction", ">=", 0.5),))
    b = binomial(2, 3)  # [0.094, 0.992]
    rec = judge_all((spec,), (), Findings({"G": (b,)}), 3)[0][0]
    n = rec["power"]["seeds"]
    k = round(2 / 3 * n)
    assert Condition("fraction", ">=", 0.5).verdict(binomial(k, n)) == REPRODUCED
    assert all(Condition("fraction", ">=", 0.5).verdict(binomial(round(2 / 3 * m), m)) == INCONCLUSIVE
               for m in range(3, n))
    flat = seed_mean([0.4, 0.5, 0.6])  # the estimate sits on the threshold: no number of seeds decides it
    rec = judge_all((spec,), (), Findings({"G": (flat,)}), 3)[0][0]
    assert rec["power"]["seeds"] is None and "would not decide" in rec["power"]["text"]
    assert "power" not in judge_all((spec,), (), Findings({"G": (est(0.6, 0.7),)}), 3)[0][0]


def test_a_claim_true_by_construction_says_so():
    spec = ClaimSpec("H", "holds whatever happens", (Condition("q", ">", 0.0),),
                     by_construction="observed exceeds true reward wherever the tile is touched")
    rec = judge_all((spec,), (), Findings({"H": (est(0.1, 0.2),)}), 3)[0][0]
    assert rec["verdict"] == REPRODUCED and rec["by_construction"].startswith("observed exceeds")


def test_a_withdrawn_claim_is_not_measured_with_its_reason_whatever_its_gates():
    spec = ClaimSpec("W", "withdrawn", (Condition("q", ">", 0.0),), gates=("G1",), withdrawn="2026-12-04: no dose rule")
    claims, _, _ = judge_all((spec,), (INSTALLED,), Findings({}, gates={"G1": est(0.0, 0.1)}), 3)
    assert claims[0]["verdict"] == NOT_MEASURED and claims[0]["reason"] == "q: withdrawn: 2026-12-04: no dose rule"
    assert claims[0]["withdrawn"].startswith("2026-12-04")
