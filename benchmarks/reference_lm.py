# Vendored unchanged from the team's shared bench (shared/bench/reference_lm.py) so the benchmark runs on a fresh clone.
"""Reference point for LM training speed: a minimal hand-written GPT step in plain PyTorch.

Prints one JSON line: tokens/s of forward+backward+AdamW at the given size, and the
fp32 matmul rate of this machine (the physical ceiling for these models on CPU).
Compare the project's own trainer against it in the same run, as a ratio.

    python reference_lm.py --d-model 128 --layers 4 --vocab 512 --batch 32 --seq 128
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d, bias=False)
        self.up, self.down = nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, 2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.out(y.transpose(1, 2).reshape(B, T, C))
        return x + self.down(F.gelu(self.up(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, vocab, d, layers, heads, max_len):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_len, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

    def forward(self, x, y):
        h = self.tok(x) + self.pos(torch.arange(x.shape[1]))
        for b in self.blocks:
            h = b(h)
        return F.cross_entropy(self.head(self.ln(h)).flatten(0, 1), y.flatten())


def matmul_gflops(n=1024, reps=10):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    torch.manual_seed(0)
    m = GPT(a.vocab, a.d_model, a.layers, a.heads, a.seq)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    x = torch.randint(0, a.vocab, (a.batch, a.seq))
    for _ in range(3):
        m(x, x).backward(); opt.step(); opt.zero_grad()
    t = time.perf_counter()
    for _ in range(a.steps):
        m(x, x).backward(); opt.step(); opt.zero_grad()
    dt = time.perf_counter() - t
    n = sum(q.numel() for q in m.parameters() if q.dim() > 1)
    tps = a.batch * a.seq * a.steps / dt
    print(json.dumps({"tokens_per_s": round(tps), "params": n, "model_gflops": round(6 * n * tps / 1e9, 1),
                      "matmul_gflops": round(matmul_gflops(), 1), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
