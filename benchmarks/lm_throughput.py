"""LM training and sampling speed of petridish's TinyGPT, as a ratio to a plain-PyTorch GPT in the same process.

    python benchmarks/lm_throughput.py [--threads N] [--repeats 5]

Both models: d_model 128, 4 layers, 4 heads, vocab 512, batch 32, 128 positions per sequence; forward +
backward + AdamW. Runs alternate between the two models and report the median, so machine noise hits both.
Prints one JSON line: tokens_per_s, reference_tokens_per_s, ratio, matmul_gflops, model_gflops,
sample_tokens_per_s (completion tokens per second generating 256 completions at once with the KV cache).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from reference_lm import GPT, matmul_gflops  # noqa: E402

from petridish.lm.model import GPTConfig  # noqa: E402
from petridish.lm.optim import make_optimizer  # noqa: E402
from petridish.lm.substrate import LM, Encoded  # noqa: E402
from petridish.lm.tokenizer import WordTokenizer  # noqa: E402

D, L, H, V, B, T = 128, 4, 4, 512, 32, 128


def time_steps(step, n: int) -> float:
    for _ in range(3):
        step()
    t = time.perf_counter()
    for _ in range(n):
        step()
    return B * T * n / (time.perf_counter() - t)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    ref = GPT(V, D, L, H, T)
    ref_opt = torch.optim.AdamW(ref.parameters(), lr=1e-3)
    x = torch.randint(0, V, (B, T))

    def ref_step():
        ref(x, x).backward()
        ref_opt.step()
        ref_opt.zero_grad()

    tok = WordTokenizer.build([f"t{i}" for i in range(V - 4)])
    lm = LM.tiny(tok, GPTConfig(V, T + 1, D, L, H), seed=0)
    opt = make_optimizer(lm, 1e-3, 0.1)
    ids = torch.randint(4, V, (B, T + 1))  # T + 1 tokens: T positions predict the next token, as in the reference
    mask = torch.ones_like(ids, dtype=torch.bool)
    mask[:, 0] = False
    batch = Encoded(ids, mask, torch.full((B,), T + 1))

    def our_step():
        lm.loss(batch).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    ours, theirs = [], []
    for _ in range(a.repeats):
        ours.append(time_steps(our_step, a.steps))
        theirs.append(time_steps(ref_step, a.steps))
    tps, rtps = statistics.median(ours), statistics.median(theirs)

    prompts = [" ".join(f"t{(i * 7 + j) % (V - 4)}" for j in range(16)) for i in range(256)]
    lm.generate(prompts[:8], 8)
    t = time.perf_counter()
    gen = lm.generate(prompts, 64, temperature=1.0, seed=0, batch_size=256)
    sample_tps = sum(len(g) for g in gen.ids) / (time.perf_counter() - t)

    n = sum(q.numel() for q in ref.parameters() if q.dim() > 1)
    print(json.dumps({
        "tokens_per_s": round(tps), "reference_tokens_per_s": round(rtps), "ratio": round(tps / rtps, 3),
        "matmul_gflops": round(matmul_gflops(), 1), "model_gflops": round(6 * n * tps / 1e9, 1),
        "sample_tokens_per_s": round(sample_tps), "threads": a.threads,
    }))


if __name__ == "__main__":
    main()
