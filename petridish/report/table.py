"""The results table printed at the end of a run and by `petridish show`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

COLORS = {"reproduced": "green", "not reproduced": "red", "inconclusive": "yellow", "not measured": "magenta",
          "invalid": "magenta"}


def fmt(x: float) -> str:
    if x != x:  # nan
        return "n/a"
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.1f}"


def claims_table(result: dict) -> Table:
    t = Table(title=f"{result['organism']} ({result['budget']} budget, seeds {result['seeds']})", show_lines=True)
    for col in ("claim", "estimate", "95% CI", "units", "threshold", "verdict"):
        t.add_column(col, overflow="fold")
    for c in result["claims"]:
        est = fmt(c["estimate"])
        ci = f"[{fmt(c['ci'][0])}, {fmt(c['ci'][1])}]"
        units = units_text(c)
        for part in c.get("conditions", [])[1:]:
            est += f"\n{part['quantity']}: {fmt(part['estimate'])}"
            ci += f"\n[{fmt(part['ci'][0])}, {fmt(part['ci'][1])}]"
            units += f"\n{units_text(part)}"
        color = COLORS.get(c["verdict"], "white")
        verdict = f"[{color}]{c['verdict']}[/{color}]" + (f"\n{c['reason']}" if c.get("reason") else "")
        gates = f" (gated by {', '.join(c['gates'])})" if c.get("gates") else ""
        t.add_row(f"{c['id']}: {c['statement']}{gates}", est, ci, units, c["threshold"], verdict)
    return t


def units_text(c: dict) -> str:
    """seeds x cases per seed, as the interval counted them."""
    if "seeds" not in c:
        return f"n={c.get('n', '?')}"
    if not c["seeds"]:
        return "-"
    return f"{c['seeds']} seeds" + (f" x {c['cases']} cases" if c.get("cases") else "")


def extra_tables(result: dict) -> list[Table]:
    """An organism's optional extra tables (e.g. one row per arm), stored in result.json under "tables"."""
    out = []
    for spec in result.get("tables", []):
        t = Table(title=spec["title"], show_lines=False)
        for col in spec["columns"]:
            t.add_column(col, overflow="fold")
        for row in spec["rows"]:
            t.add_row(*row)
        out.append(t)
    return out


def print_result(result: dict, console: Console | None = None) -> None:
    console = console or Console()
    if result["claims"]:  # an assay (`petridish assay`) has rates only
        console.print(claims_table(result))
    for g in result.get("gates", []):
        color = COLORS.get(g["verdict"], "white")
        console.print(f"gate {g['id']}: {g['statement']}: {fmt(g['estimate'])} [{fmt(g['ci'][0])}, "
                      f"{fmt(g['ci'][1])}], needs {g['threshold']} -> [{color}]{g['verdict']}[/{color}]")
    for w in result.get("warnings", []):
        console.print(f"[bold red]WARNING[/bold red]: {w}")
    for t in extra_tables(result):
        console.print(t)
    tm = result.get("timings", {})
    if tm:
        console.print(f"wall time {tm.get('wall_s', 0):.0f} s; jobs: {tm.get('jobs_cpu_s', 0):.0f} CPU-s")
