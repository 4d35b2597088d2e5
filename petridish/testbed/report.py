"""The matrix's leaderboard: a terminal table, dose-curve figures, and report.html with a heat-map of
organisms x treatments (verdict, after/before ratio with its interval; each cell links to its dose curve)."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.text import Text

from petridish.report import plots
from petridish.runs import RunDir, atomic_write_text

COLORS = {"removes": "#2e7d32", "partial": "#9ccc65", "hides": "#c62828", "no effect": "#ef9a9a",
          "not measured": "#e0e0e0", "invalid": "#bdbdbd", "detects": "#1565c0", "does not detect": "#90a4ae"}
RICH = {"removes": "bold green", "partial": "green", "hides": "bold red", "no effect": "red",
        "not measured": "dim", "invalid": "dim", "detects": "bold blue", "does not detect": "yellow"}


def _f(x: float | None) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:.2f}"


def cell_text(c: dict) -> str:
    """'verdict' plus 'ratio [lo, hi] @dose' (treatments) or 'AUROC [lo, hi]' (detection)."""
    if c.get("ratio"):
        r = c["ratio"]
        return f"{c['verdict']}\n{_f(r['estimate'])} [{_f(r['ci'][0])}, {_f(r['ci'][1])}] @{c['dose']:g}"
    if "AUROC" in c.get("estimates", {}):
        a = c["estimates"]["AUROC"]
        return f"{c['verdict']}\nAUROC {_f(a['estimate'])} [{_f(a['ci'][0])}, {_f(a['ci'][1])}]"
    return c["verdict"]


def _grid(result: dict) -> tuple[list[str], dict[tuple[str, str], dict]]:
    cols = list(result["treatments"]) + [f"detect: {p}" for p in result["probes"]]
    cells = {(c["organism"], c["treatment"]): c for c in result["cells"]}
    cells.update({(c["organism"], f"detect: {c['treatment']}"): c for c in result["detection"]})
    return cols, cells


SHORT = {"removes": "rem", "hides": "HIDE", "partial": "part", "no effect": "none", "not measured": "-",
         "invalid": "inv", "detects": "det", "does not detect": "nodt"}
MEANING = {"removes": "removes", "hides": "hides (gone where the team looks, still there where it does not)",
           "partial": "partial", "no effect": "no effect", "not measured": "not measured (does not apply)",
           "invalid": "invalid (the failure did not grow)", "detects": "detects", "does not detect": "does not detect"}


def _value(c: dict) -> str:
    """The cell's number in 4 columns: after/before ratio, or a detector's AUROC; blank if none."""
    est = c["ratio"]["estimate"] if c.get("ratio") else c.get("estimates", {}).get("AUROC", {}).get("estimate")
    if est is None:
        return ""
    if not math.isfinite(est):
        return "n/a"
    return f"{est:.2f}" if abs(est) < 10 else f"{est:.0f}"


def leaderboard_lines(result: dict, width: int = 120) -> list[Text]:
    """The leaderboard as lines of at most `width` columns: one row per organism, a 2-line cell per treatment
    (verdict word, number); the column headers are the treatment names if they fit, else T1.. / D1.. with a key."""
    from petridish.report.table import wrap

    cols, cells = _grid(result)
    wo = max(len(o) for o in result["organisms"]) + 1
    full = [max(len(c), 4) for c in cols]
    if wo + sum(w + 1 for w in full) <= width:
        heads, widths, col_key = cols, full, ""
    else:
        n_t = len(result["treatments"])
        heads = [f"T{i + 1}" if i < n_t else f"D{i - n_t + 1}" for i in range(len(cols))]
        widths = [4] * len(cols)
        col_key = "  ".join(f"{h}={c.removeprefix('detect: ')}" for h, c in zip(heads, cols))
    title = (f"petridish matrix: {result['budget']} budget, {len(result['seeds'])} seed(s); per cell the verdict "
             "and held-out failure after / before at the dose read")
    out = [Text(line, style="bold") for line in wrap(title, width)]
    out.append(Text("organism".ljust(wo) + " ".join(h.rjust(w) for h, w in zip(heads, widths)), style="bold"))
    seen: dict[str, None] = {}
    for org in result["organisms"]:
        top, bottom = Text(org.ljust(wo)), Text("".ljust(wo))
        for col, w in zip(cols, widths):
            c = cells.get((org, col))
            if c is not None:
                seen[c["verdict"]] = None
            word = "" if c is None else SHORT.get(c["verdict"], c["verdict"][:4])
            top.append(" " + word.rjust(w) if col != cols[0] else word.rjust(w), style=RICH.get(word and c["verdict"]))
            bottom.append((" " if col != cols[0] else "") + ("" if c is None else _value(c)).rjust(w), style="dim")
        out += [top] + ([bottom] if bottom.plain.strip() else [])
    key = "; ".join(f"{SHORT.get(v, v)}={MEANING.get(v, v)}" for v in seen)
    out += [Text(line, style="dim") for line in wrap(f"{key}. Number: held-out failure after / before at the dose "
                                                     "read (detectors: AUROC).", width)]
    if col_key:
        out += [Text(line, style="dim") for line in wrap(col_key, width)]
    return out


def print_leaderboard(result: dict, console: Console | None = None) -> None:
    console = console or Console()
    for line in leaderboard_lines(result, min(console.width, 120)):
        console.print(line, no_wrap=True, crop=False)


def markdown(result: dict) -> str:
    """The leaderboard as a Markdown table (for the README)."""
    cols, cells = _grid(result)
    lines = ["| organism | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for org in result["organisms"]:
        row = [cell_text(cells[(org, c)]).replace("\n", " ") if (org, c) in cells else "" for c in cols]
        lines.append(f"| {org} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def dose_curve(cell: dict, path: Path) -> Path:
    """Held-out failure, audit and capability against dose (0 = before treatment), with 95% intervals. The three
    series are nudged apart on x and drawn with different markers, so identical curves stay visible."""
    fig, axes = plots.subplots(1, ncols=1, size=(4.6, 3.2))
    ax = axes[0]
    x = np.array([p["dose"] for p in cell["curve"]], dtype=float)
    nudge = 0.015 * (np.ptp(x) or 1.0)
    for i, (name, color) in enumerate((("failure", "C3"), ("audit", "C1"), ("capability", "C2"))):
        ests = [p[name] for p in cell["curve"]]
        ax.errorbar(x + (i - 1) * nudge, [e["estimate"] for e in ests], yerr=plots.errors(ests),
                    marker=plots.MARKERS[i], ls=("-", "--", ":")[i], capsize=3, color=color, ms=5, alpha=0.85,
                    label={"failure": "held-out failure", "audit": "blue-team audit"}.get(name, name))
    if cell.get("dose") is not None:
        ax.axvline(cell["dose"], color="k", ls=":", lw=1, label="dose read")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"dose ({cell.get('dose_unit', '')})", fontsize=8)
    ax.set_ylabel("rate (95% CI)", fontsize=8)
    ax.set_title(f"{cell['organism']}: {cell['treatment']} -> {cell['verdict']}", fontsize=9)
    ax.legend(fontsize=7)
    return plots.save(fig, path)


def colour_key(verdicts: list[str]) -> str:
    """The heat-map's colour key: a swatch per verdict that appears in it."""
    e = html.escape
    return "<p class='key'>" + " ".join(
        f"<span><i style='background:{COLORS.get(v, '#fff')}'></i>{e(v)}</span>" for v in dict.fromkeys(verdicts)
    ) + "</p>"


def write_report(result: dict, run: RunDir) -> None:
    """report.html (the heat-map) and curves/<organism>__<treatment>.png."""
    (run.path / "curves").mkdir(exist_ok=True)
    links = {}
    for c in result["cells"]:
        if c["curve"]:
            p = dose_curve(c, run.path / "curves" / f"{c['organism']}__{c['treatment']}.png")
            links[(c["organism"], c["treatment"])] = p.relative_to(run.path).as_posix()
    cols, cells = _grid(result)
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in cols)
    rows = []
    for org in result["organisms"]:
        tds = []
        for col in cols:
            c = cells.get((org, col))
            if c is None:
                tds.append("<td></td>")
                continue
            text = e(cell_text(c)).replace("\n", "<br>")
            link = links.get((org, col))
            body = f"<a href='{e(link)}'>{text}</a>" if link else text
            tds.append(f"<td style='background:{COLORS.get(c['verdict'], '#fff')}' title='{e(c['reason'])}'>{body}"
                       "</td>")
        rows.append(f"<tr><th>{e(org)}</th>{''.join(tds)}</tr>")
    th = result["thresholds"]
    timing = result.get("timings", {})
    page = f"""<!doctype html><html><head><meta charset='utf-8'><title>petridish matrix</title><style>
body{{font-family:system-ui,sans-serif;max-width:1300px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:6px 8px;font-size:13px;vertical-align:top}}
td a{{color:#000;text-decoration:none}}.key span{{margin-right:1.2em;font-size:13px}}
.key i{{display:inline-block;width:1em;height:1em;border:1px solid #999;margin-right:.3em;vertical-align:middle}}
</style></head><body>
<h1>petridish matrix</h1>
<p>Budget <b>{e(result['budget'])}</b>, seeds {e(str(result['seeds']))}. Each treatment cell: its verdict, the held-out
failure after / before treatment with its 95% interval, and the dose it is read at (the smallest dose at which the
blue team's audit passes, else the largest); click a cell for its dose curve. Detection cells: the probe's AUROC.
Thresholds fixed before the run: {e(', '.join(f'{k}={v:g}' for k, v in th.items()))}.
Wall time {timing.get('wall_s', 0):.0f} s, job CPU {timing.get('jobs_cpu_s', 0):.0f} s.</p>
{colour_key([c['verdict'] for c in result['cells'] + result['detection']])}
<table><tr><th>organism</th>{head}</tr>{''.join(rows)}</table>
<h2>Why each verdict</h2><ul>{''.join(f"<li><b>{e(c['organism'])} / {e(c['treatment'])}</b>: {e(c['verdict'])}"
                                      f" ({e(c['reason'])})</li>" for c in result['cells'] + result['detection'])}</ul>
</body></html>"""
    atomic_write_text(run.path / "report.html", page)
