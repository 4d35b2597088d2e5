"""The local process pool against a local Ray instance, on the same work.

    python benchmarks/backends.py [--reps N]

1. The same 12-job smoke sweep (safe-interruptibility, 3 cells x 2 seeds x 2 arms) as a `petridish sweep` command on
   each backend, start-up included (interpreter, imports, worker processes, Ray's own start); the backends alternate
   over --reps repetitions and the ratio is of the medians. The two sweeps' sweep.json claims must be identical.
2. Per-task scheduling overhead: 200 no-op jobs through each backend (the whole petridish path: a task per job, its
   output saved atomically, progress plumbing), and 200 bare Ray tasks for reference; wall / 200 in ms. Ray is
   started and its workers warm; the local pool starts its processes per run, as it does in `petridish run`.

Prints one JSON line. Target (issue 16): Ray <= 1.25x the local pool's wall on this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_NOOP = 200
SWEEP = ["sweep", "safe-interruptibility", "--budget", "smoke", "--quiet", "--set", "gif=false",
         "--axis", "interruption_probability=0.3,0.5,0.7"]


def sweep_wall(backend: str, out: Path) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "petridish", *SWEEP, "--backend", backend, "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def noop(ctx) -> dict:
    return {}


def noop_ms(backend, tmp: Path, n: int = N_NOOP) -> float:
    from petridish.backends import run_jobs
    from petridish.jobs import Job
    from petridish.runs import RunDir

    jobs = [Job(f"n{i:03d}", noop) for i in range(n)]
    run = RunDir.create(tmp)
    workers = os.cpu_count() or 1
    t = time.perf_counter()
    run_jobs(run, jobs, None, workers, 1, backend=backend)
    return 1000 * (time.perf_counter() - t) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=1)
    reps = ap.parse_args().reps
    import ray

    from petridish.backends import connect

    with tempfile.TemporaryDirectory() as d:
        walls: dict[str, list[float]] = {"local": [], "ray": []}
        for i in range(reps):
            for b in ("local", "ray"):
                walls[b].append(sweep_wall(b, Path(d) / f"{b}{i}"))
        claims = {b: [c["claims"] for c in json.loads((Path(d) / f"{b}0" / "sweep.json").read_text())["cells"]]
                  for b in walls}
        local_ms = noop_ms(connect("local"), Path(d) / "noop-local")
        on_ray = connect("ray")  # a local Ray instance sized to this machine, as `--backend ray` starts
        noop_ms(on_ray, Path(d) / "warm-ray", 20)  # workers import petridish once
        ray_ms = noop_ms(on_ray, Path(d) / "noop-ray")

        @ray.remote(num_cpus=1)
        def bare() -> None:
            return None

        ray.get([bare.remote() for _ in range(20)])  # warm the workers
        t = time.perf_counter()
        ray.get([bare.remote() for _ in range(N_NOOP)])
        bare_ms = 1000 * (time.perf_counter() - t) / N_NOOP
        on_ray.close()
    med = {b: statistics.median(w) for b, w in walls.items()}
    print(json.dumps({
        "sweep_jobs": 12, "cpus": os.cpu_count(), "reps": reps,
        "sweep_wall_s": {b: [round(x, 2) for x in w] for b, w in walls.items()},
        "ray_over_local": round(med["ray"] / med["local"], 3),
        "same_claims": claims["local"] == claims["ray"],
        "noop_ms_per_task": {"local_pool": round(local_ms, 2), "ray_backend": round(ray_ms, 2),
                             "bare_ray_task": round(bare_ms, 2)},
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
