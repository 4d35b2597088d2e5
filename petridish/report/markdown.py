"""A run's claims as a Markdown table (for READMEs, notes and `petridish show --markdown`)."""

from __future__ import annotations

from petridish.report.table import fmt, units_text


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _est(c: dict) -> str:
    if c.get("missing"):
        return "—"
    return f"{fmt(c['estimate'])} [{fmt(c['ci'][0])}, {fmt(c['ci'][1])}]"


def claims_markdown(result: dict) -> str:
    """One row per claim: each condition's estimate and interval, units, threshold, verdict (and why)."""
    rows = ["| claim | estimate [95% CI] | units | threshold (fixed before the run) | verdict |",
            "|---|---|---|---|---|"]
    for c in result["claims"]:
        parts = c.get("conditions") or [c]
        est = "; ".join(_est(p) for p in parts)
        units = "; ".join(dict.fromkeys(units_text(p) for p in parts))
        verdict = f"**{c['verdict']}**" if c["verdict"] != "reproduced" else c["verdict"]
        if c.get("reason"):
            verdict += f" ({c['reason']})"
        if c.get("power"):
            verdict += f"; {c['power']['text']}"
        amend = f" (amends {c['amends']}, registered {c['registered']})" if c.get("amends") else ""
        rows.append(f"| {cell(c['id'] + ' ' + c['statement'] + amend)} | {est} | {units} | {cell(c['threshold'])} | "
                    f"{cell(verdict)} |")
    for g in result.get("gates", []):
        rows.append(f"| gate {cell(g['id'] + ': ' + g['statement'])} | {_est(g)} | {units_text(g)} | "
                    f"{cell(g['threshold'])} | {g['verdict']} |")
    text = "\n".join(rows)
    if result.get("warnings"):
        text += "\n\n" + "\n".join(f"> **Warning:** {w}" for w in result["warnings"])
    return text


def verdict_counts(result: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in result["claims"]:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return counts
