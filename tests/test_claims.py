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
from petridish.stats import Counts, Estimate, rate


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
    assert {c["verdict"] for c in claims} == {NOT_MEASURED}
    assert any(w.startswith("DEGENERATE RUN") for w in warnings)


def test_estimates_for_an_unregistered_claim_are_refused():
    with pytest.raises(ValueError, match="unregistered"):
        run({"Z": (est(0, 1),)}, None)


def test_amended_claim_carries_its_registration():
    amended = ClaimSpec("A'", "amended", (Condition("q", ">", 0.0),), amends="A", registered="2026-11-29",
                        reason="the dose is now chosen by a rule")
    claims, _, _ = judge_all((A, amended), (INSTALLED,), Findings({"A'": (est(0.1, 0.2),)}), 3)
    assert claims[1]["amends"] == "A" and claims[1]["registered"] == "2026-11-29" and claims[1]["verdict"] == REPRODUCED


def test_a_claim_never_run_stays_not_measured_even_under_a_failed_gate():
    claims, _, _ = run({}, est(0.0, 0.01))
    assert claims[0]["verdict"] == NOT_MEASURED and "did not measure" in claims[0]["reason"]
