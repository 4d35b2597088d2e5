"""The mesa-gd organism's pre-registered claims. Thresholds are fixed here, before any run (they follow the
issue and the paper's statements, not pilot results); verdicts are computed in `analysis.py`."""

from petridish.claims import ClaimSpec, Condition

M1 = ClaimSpec(
    "M1", "one trained linear self-attention layer implements one step of gradient descent on the in-context "
    "least-squares loss (von Oswald et al. 2023)",
    (Condition("model cos (trained LSA vs one-step GD, d y_hat / d x_q)", ">=", 0.99),
     Condition("test loss trained / one-step GD with tuned rate", "<=", 1.02),
     Condition("test loss trained / one-step GD with tuned rate", ">=", 0.98)))
M4 = ClaimSpec(
    "M4", "the deepest trained LSA stack does better than the same number of plain GD steps with a tuned rate "
    "(the paper's GD++ finding)",
    (Condition("test loss deepest LSA / multi-step GD with tuned rate", "<", 1.0),))
CLAIMS = (M1, M4)
