from petridish.claims import ClaimSpec, Condition, Findings, Gate, judge_all
from petridish.report.markdown import claims_markdown, verdict_counts
from petridish.stats import Counts, rate


def test_claims_markdown_from_a_hand_made_result():
    gate = Gate("G", "installed", Condition("before", ">=", 0.5))
    a = ClaimSpec("A", "it persists", (Condition("after", ">=", 0.5),), gates=("G",))
    b = ClaimSpec("B", "unmeasured", (Condition("q", ">", 0.0),))
    f = Findings({"A": (rate([Counts(270, 300)] * 3),)}, gates={"G": rate([Counts(0, 300)] * 3)})
    claims, gates, warnings = judge_all((a, b), (gate,), f, 3)
    md = claims_markdown({"claims": claims, "gates": gates, "warnings": warnings})
    lines = md.splitlines()
    assert lines[2].startswith("| A it persists | 0.900 [") and "3 seeds x 300 cases" in lines[2]
    assert "**invalid** (gate G failed" in lines[2]
    assert lines[3].startswith("| B unmeasured | — |") and "**not measured**" in lines[3]
    assert lines[4].startswith("| gate G: installed | 0.000 [0.000, ") and lines[4].endswith("| not reproduced |")
    assert "DEGENERATE RUN" in md
    assert verdict_counts({"claims": claims}) == {"invalid": 1, "not measured": 1}
