"""Write the result tables of README.md and docs/results.md from run folders (never typed by hand).

    python scripts/readme_results.py RUN_DIR [RUN_DIR ...] [--readme PATH] [--results PATH]

A matrix run folder (`petridish matrix`) fills README.md's `<!-- results:matrix -->` with its leaderboard. Each
other run folder's result.json replaces the block between `<!-- results:ORGANISM -->` and `<!-- /results -->` in
docs/results.md with that organism's claims table (a new organism gets a new section at the end), and README.md's
zoo table between `<!-- results:zoo -->` and `<!-- /results -->` gets one row per organism run given (rows of
organisms not given are kept). Re-runnable: the same run folders give the same files.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from petridish import organisms
from petridish.report.markdown import cell, claims_markdown, verdict_counts

ROOT = Path(__file__).resolve().parent.parent
ORDER = ("reproduced", "not reproduced", "inconclusive", "not measured", "invalid")


def block(text: str, name: str, body: str, file: str = "README.md") -> str:
    pat = re.compile(rf"(<!-- results:{re.escape(name)} -->\n).*?(<!-- /results -->)", re.S)
    if not pat.search(text):
        raise SystemExit(f"{file} has no block `<!-- results:{name} -->` ... `<!-- /results -->`")
    return pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def organism_block(text: str, name: str, body: str) -> str:
    """docs/results.md with the organism's claims table replaced, or appended as a new section."""
    if f"<!-- results:{name} -->" not in text:
        text = text.rstrip("\n") + f"\n\n## {name}\n\n<!-- results:{name} -->\n<!-- /results -->\n"
    return block(text, name, body, "docs/results.md")


def zoo_row(result: dict) -> str:
    org = organisms.get(result["organism"])
    counts = verdict_counts(result)
    verdicts = " / ".join(str(counts.get(v, 0)) for v in ORDER)
    t = result["timings"]
    seeds = result["seeds"]
    return (f"| `{org.name}` | {cell(org.anchor)} | {verdicts} | {seeds[0]}-{seeds[-1]} ({len(seeds)}) | "
            f"{t['jobs_cpu_s']:,.0f} |")


def main(paths: list[str], readme: Path = ROOT / "README.md", results_md: Path = ROOT / "docs" / "results.md") -> None:
    text, detail = readme.read_text(), results_md.read_text()
    results = [json.loads((Path(p) / "result.json").read_text()) for p in paths]
    zoo = re.search(r"<!-- results:zoo -->\n(.*?)<!-- /results -->", text, re.S)
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z-]+)` \|.*$", zoo.group(1) if zoo else "", re.M)}
    for r in results:
        if r.get("kind") == "matrix":
            from petridish.testbed.report import markdown

            text = block(text, "matrix", markdown(r))
            continue
        rows[r["organism"]] = zoo_row(r)
        detail = organism_block(detail, r["organism"], claims_markdown(r))
    head = ("| organism | anchor | claims: reproduced / not reproduced / inconclusive / not measured / invalid | "
            "seeds | default run: CPU-s of jobs |\n|---|---|---|---|---|")
    text = block(text, "zoo", head + "\n" + "\n".join(rows[n] for n in organisms.names() if n in rows))
    readme.write_text(text)
    results_md.write_text(detail)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dirs", nargs="+")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--results", type=Path, default=ROOT / "docs" / "results.md")
    a = ap.parse_args()
    main(a.run_dirs, a.readme, a.results)
