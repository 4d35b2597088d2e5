"""The results printed at the end of a run and by `petridish show`: a compact claims table that fits a terminal.

One block per claim: id, estimate [95% CI] (one line per condition) and verdict on the first lines, then the
statement and its threshold wrapped at word boundaries underneath. A gate's reason is printed once, in the gates
block, and a claim it gates names it ("invalid: gate G2 failed") instead of repeating it.
"""

from __future__ import annotations

import textwrap

from rich.console import Console
from rich.table import Table
from rich.text import Text

COLORS = {"reproduced": "green", "not reproduced": "red", "inconclusive": "yellow", "not measured": "magenta",
          "invalid": "magenta"}
MAX_WIDTH = 120
SMOKE_NOTE = ("smoke budget: a plumbing check (tiny models, a few steps) for tests; its verdicts say nothing about "
              "the claim. For a result run the default budget (`petridish run ORGANISM`).")


def fmt(x: float) -> str:
    if x != x:  # nan
        return "n/a"
    return f"{x:.3f}" if abs(x) < 100 else f"{x:.1f}"


def units_text(c: dict) -> str:
    """seeds x cases per seed, as the interval counted them."""
    if "seeds" not in c:
        return f"n={c.get('n', '?')}"
    if not c["seeds"]:
        return "-"
    return f"{c['seeds']} seeds" + (f" x {c['cases']} cases" if c.get("cases") else "")


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns, broken at spaces only (a word longer than the line stays whole)."""
    return textwrap.wrap(text, max(width, 20), break_long_words=False, break_on_hyphens=False) or [""]


def _units(c: dict) -> str:
    u = units_text(c)
    return "" if u == "-" else f"; {u}"


def _interval(p: dict) -> str:
    return "—" if p.get("missing") else f"{fmt(p['estimate'])} [{fmt(p['ci'][0])}, {fmt(p['ci'][1])}]"


def gated_verdict(c: dict, gates: dict[str, dict]) -> str | None:
    """'gate G2 failed' when the claim's verdict comes from its gates (their reasons are printed once, below)."""
    if not c.get("reason", "").startswith("gate "):
        return None
    mine = [gates[g] for g in c.get("gates", []) if g in gates]
    for verdict, word in (("not reproduced", "failed"), ("not measured", "not measured"),
                          ("inconclusive", "inconclusive")):  # the precedence of petridish.claims.judge
        bad = [g["id"] for g in mine if g["verdict"] == verdict]
        if bad:
            return f"gate{'s' if len(bad) > 1 else ''} {', '.join(bad)} {word}"
    return None


def _block(cid: str, intervals: list[str], verdict: str, verdict_note: list[str], body: list[str],
           widths: tuple[int, int], width: int) -> list[Text]:
    """One claim (or gate): id | interval per condition | verdict (+ notes), then the body lines indented."""
    wid, west = widths
    indent = wid + 2
    vcol = indent + west + 2
    color = COLORS.get(verdict, "white")
    right = [Text(verdict, style=f"bold {color}")]
    for note in verdict_note:
        right += [Text(line, style="dim") for line in wrap(note, width - vcol)]
    lines = []
    for i in range(max(len(intervals), len(right))):
        t = Text((cid if i == 0 else "").ljust(wid) + "  ")
        t.append((intervals[i] if i < len(intervals) else "").ljust(west) + "  ")
        if i < len(right):
            t.append_text(right[i])
        t.rstrip()
        lines.append(t)
    for para in body:
        lines += [Text(" " * indent + line) for line in wrap(para, width - indent)]
    return lines


def result_lines(result: dict, width: int = MAX_WIDTH) -> list[Text]:
    """The whole result as lines no wider than `width` (capped at MAX_WIDTH)."""
    width = min(width, MAX_WIDTH)
    claims, gate_list = result["claims"], result.get("gates", [])
    gates = {g["id"]: g for g in gate_list}
    seeds = result["seeds"]
    title = f"{result['organism']}: {result['budget']} budget"
    if seeds:
        title += f", seed {seeds[0]}" if len(seeds) == 1 else f", {len(seeds)} seeds {seeds[0]}-{seeds[-1]}"
    out = [Text(line, style="bold") for line in wrap(title, width)]
    if result.get("budget") == "smoke":
        out += [Text(line, style="yellow") for line in wrap(SMOKE_NOTE, width)]
    items = claims + gate_list
    intervals = {id(c): [_interval(p) for p in (c.get("conditions") or [c])] for c in items}
    wid = max([len(c["id"]) for c in items] + [5])
    west = max([len(s) for c in items for s in intervals[id(c)]] + [len("estimate [95% CI]")])
    head = Text("claim".ljust(wid) + "  " + "estimate [95% CI]".ljust(west) + "  verdict", style="bold")
    rule = Text("─" * min(width, len(head.plain) + 20), style="dim")
    if claims:  # an assay (`petridish assay`) has rates only
        out += [Text(""), head, rule]
        for c in claims:
            gated = gated_verdict(c, gates)
            notes = [gated] if gated else ([c["reason"]] if c.get("reason") else [])
            if c.get("power"):
                notes.append(c["power"]["text"])
            amend = f" (amends {c['amends']}, registered {c['registered']})" if c.get("amends") else ""
            body = [f"{c['statement']}{amend}.", f"Needs {c['threshold']}{_units(c)}."]
            if c.get("note"):
                body.append(c["note"])
            out += _block(c["id"], intervals[id(c)], c["verdict"], notes, body, (wid, west), width)
    if gate_list:
        out += [Text(""), Text("gates: controls a claim needs; a failed gate makes its claims invalid", style="bold"),
                rule]
        for g in gate_list:
            gated = [c["id"] for c in claims if g["id"] in c.get("gates", [])]
            failed = g["verdict"] == "not reproduced"
            note = [f"-> {', '.join(gated)} invalid" if failed else f"gates {', '.join(gated)}"] if gated else []
            body = [f"{g['statement']}.", f"Needs {g['threshold']}{_units(g)}."]
            if g.get("missing"):
                body.append(f"Not measured: {g['missing']}")
            out += _block(g["id"], intervals[id(g)], g["verdict"], note, body, (wid, west), width)
    failed = tuple(f"gate {g['id']} failed (" for g in gate_list if g["verdict"] == "not reproduced")
    warnings = [w for w in result.get("warnings", []) if not w.startswith(failed or ("\0",))]  # said above
    if warnings:
        out.append(Text(""))
    for w in warnings:
        out += [Text(line, style="red") for line in wrap(f"WARNING: {w}", width)]
    return out


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
    width = min(console.width, MAX_WIDTH)
    for line in result_lines(result, width):
        console.print(line, no_wrap=True, crop=False)
    for t in extra_tables(result):
        console.print(t, width=width)
    tm = result.get("timings", {})
    if tm:
        console.print(f"wall time {tm.get('wall_s', 0):.0f} s; jobs: {tm.get('jobs_cpu_s', 0):.0f} CPU-s")
