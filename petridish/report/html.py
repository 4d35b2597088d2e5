"""report.html: one self-contained page (plots embedded as PNG) a person can look at instead of reading JSON."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from PIL import Image

from petridish.config import to_yaml
from petridish.report.table import fmt, gated_verdict, units_text
from petridish.runs import RunDir, atomic_write_text

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee}pre{background:#f7f7f7;padding:1em;overflow:auto}
.v-reproduced{color:#070;font-weight:bold}.v-not{color:#b00;font-weight:bold}.v-inconclusive{color:#a60}.v-na{color:#808}
.warn{background:#fee;border:2px solid #b00;padding:.5em 1em}
figure{margin:1.5em 0}figcaption{color:#555}"""


def _enlarge(path: Path, min_width: int = 480) -> str:
    """A small episode GIF (a few cells of 24 px) drawn at a whole multiple of its size, pixels kept sharp."""
    if path.suffix != ".gif":
        return ""
    with Image.open(path) as im:
        w = im.width
    k = -(-min_width // w)
    return f" style='width:{w * k}px;image-rendering:pixelated'" if k > 1 else ""


def _verdict_class(v: str) -> str:
    return {"reproduced": "v-reproduced", "not reproduced": "v-not", "inconclusive": "v-inconclusive"}.get(v, "v-na")


def write_report(organism, cfg, result: dict, run: RunDir) -> None:
    figures = organism.plots(cfg, result, run)
    e = html.escape
    rows = []
    gates_by_id = {g["id"]: g for g in result.get("gates", [])}
    for c in result["claims"]:
        parts = c.get("conditions") or [c | {"quantity": ""}]
        est = "<br>".join(f"{e(p['quantity'])} " + ("<i>not measured</i>" if p.get("missing") else
                          f"{fmt(p['estimate'])} [{fmt(p['ci'][0])}, {fmt(p['ci'][1])}] "
                          f"<small>({e(units_text(p))}; {e(p.get('method', ''))})</small>") for p in parts)
        note = f"<br><i>{e(c['note'])}</i>" if c.get("note") else ""
        note += f"<br>gated by {e(', '.join(c['gates']))}" if c.get("gates") else ""
        why = gated_verdict(c, gates_by_id) or c.get("reason")  # a gate's reason is in the gates table, once
        reason = f"<br><small>{e(why)}</small>" if why else ""
        if c.get("power"):
            reason += f"<br><small><i>{e(c['power']['text'])}</i></small>"
        rows.append(f"<tr><td><b>{e(c['id'])}</b> {e(c['statement'])}{note}"
                    f"</td><td>{est}</td><td>{e(c['threshold'])}</td><td class='{_verdict_class(c['verdict'])}'>"
                    f"{e(c['verdict'])}{reason}</td></tr>")
    gates = "".join(f"<tr><td><b>{e(g['id'])}</b> {e(g['statement'])}</td><td>{fmt(g['estimate'])} [{fmt(g['ci'][0])}, "
                    f"{fmt(g['ci'][1])}]</td><td>{e(g['threshold'])}</td><td class='{_verdict_class(g['verdict'])}'>"
                    f"{e(g['verdict'])}</td></tr>" for g in result.get("gates", []))
    warnings = "".join(f"<p class='warn'><b>Warning:</b> {e(w)}</p>" for w in result.get("warnings", []))
    tables = []
    for spec in result.get("tables", []):
        head = "".join(f"<th>{e(c)}</th>" for c in spec["columns"])
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in spec["rows"])
        tables.append(f"<h3>{e(spec['title'])}</h3><table><tr>{head}</tr>{body}</table>")
    figs = []
    for caption, path in figures:
        data = base64.b64encode(path.read_bytes()).decode()
        mime = "image/gif" if path.suffix == ".gif" else "image/png"  # GIFs show a policy's episodes
        figs.append(f"<figure><img src='data:{mime};base64,{data}'{_enlarge(path)}><figcaption>{e(caption)}"
                    "</figcaption></figure>")
    card = result.get("card", {})
    card_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(json.dumps(v) if not isinstance(v, str) else v)}</td></tr>"
                        for k, v in card.items())
    env = (run.path / "env.json").read_text() if (run.path / "env.json").exists() else "{}"
    page = f"""<!doctype html><html><head><meta charset='utf-8'><title>petridish: {e(result['organism'])}</title>
<style>{CSS}</style></head><body>
<h1>{e(result['organism'])}</h1>
<p>{e(organism.summary)}<br>Budget <b>{e(result['budget'])}</b>, seeds {e(str(result['seeds']))},
wall time {result['timings'].get('wall_s', 0):.0f} s. Intervals are 95%; verdicts compare them with thresholds fixed
before the run (reproduced: the whole interval passes; not reproduced: none of it does; inconclusive: it straddles;
not measured: no estimate, with the reason; invalid: a control the claim needs failed, so it was not testable).</p>
{warnings}
<h2>Claims</h2><table><tr><th>claim</th><th>estimate [95% CI]</th><th>threshold</th><th>verdict</th></tr>
{''.join(rows)}</table>
{'<h3>Gates (controls the claims need)</h3><table>' + gates + '</table>' if gates else ''}
{''.join(tables)}
<h2>Figures</h2>{''.join(figs) or '<p>none</p>'}
<h2>Organism card</h2><table>{card_rows}</table>
<h2>Config</h2><pre>{e(to_yaml(cfg))}</pre>
<h2>Environment</h2><pre>{e(env)}</pre>
</body></html>"""
    atomic_write_text(run.path / "report.html", page)

