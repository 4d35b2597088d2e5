"""Wall and CPU time of `petridish matrix` (the testbed), per stage.

    python benchmarks/matrix.py [--budget smoke|default] [--organisms a,b,...] [--out DIR]

Runs the matrix once into a fresh folder (default: a temporary one) and prints one JSON line: wall seconds of
the whole command (interpreter start-up and worker spawn included), the CPU seconds of this process and its
children, and result.json's per-stage CPU seconds of the jobs. Run it on an idle machine for the wall time
(CPU seconds are robust to other programs sharing the machine). Target (issue 14): smoke <= 3 min, default over
the whole zoo <= 30 min on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--budget", default="smoke")
    p.add_argument("--organisms", default="")
    p.add_argument("--out", default="")
    a = p.parse_args()
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp()) / "matrix"
    cmd = [sys.executable, "-m", "petridish", "matrix", "--budget", a.budget, "--out", str(out), "--quiet"]
    if a.organisms:
        cmd += ["--organisms", a.organisms]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    timings = json.loads((out / "result.json").read_text())["timings"]
    print(json.dumps({"budget": a.budget, "organisms": a.organisms or "every face", "wall_s": round(wall, 1),
                      "cpu_s": round(ru.ru_utime + ru.ru_stime, 1), "cores": os.cpu_count(),
                      "jobs_cpu_s": timings["jobs_cpu_s"], "per_stage_cpu_s": timings["per_stage_cpu_s"],
                      "run_dir": str(out)}))


if __name__ == "__main__":
    main()
