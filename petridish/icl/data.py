"""In-context linear regression: tasks w, inputs x, targets y = w.x + noise, and the LSA token layout.

A sequence holds K (x, y) pairs of one task. The LSA layout (von Oswald et al.) puts each pair in one token
e_i = (x_i, y_i) and hides the last pair's y: the model predicts it. (The transformer builds its own tokens.)
Every draw comes from a generator seeded by (seed, purpose, step), so runs repeat and resumed runs agree.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

import torch

XDist = Literal["uniform", "normal"]


def generator(seed: int, *keys: str | int) -> torch.Generator:
    """A generator for one purpose (e.g. ("train", step) or ("test",)), distinct per purpose and seed."""
    h = zlib.crc32(repr((seed, *keys)).encode())
    return torch.Generator().manual_seed(seed * 1_000_003 + h)


@dataclass
class Batch:
    x: torch.Tensor  # [B, K, d] inputs
    y: torch.Tensor  # [B, K] targets (with noise)
    w: torch.Tensor  # [B, d] each sequence's task vector


def sample_tasks(n: int, d: int, gen: torch.Generator) -> torch.Tensor:
    """n task vectors from the intended distribution N(0, I_d): [n, d]."""
    return torch.randn(n, d, generator=gen)


def sample_batch(
    n: int, k: int, d: int, gen: torch.Generator, x_dist: XDist = "uniform", noise: float = 0.0,
    pool: torch.Tensor | None = None,
) -> Batch:
    """n sequences of k pairs. Tasks come from `pool` [M, d] (uniformly) if given, else fresh from N(0, I)."""
    w = sample_tasks(n, d, gen) if pool is None else pool[torch.randint(0, pool.shape[0], (n,), generator=gen)]
    x = torch.rand(n, k, d, generator=gen) * 2 - 1 if x_dist == "uniform" else torch.randn(n, k, d, generator=gen)
    y = torch.einsum("bkd,bd->bk", x, w)
    if noise > 0:
        y = y + noise * torch.randn(n, k, generator=gen)
    return Batch(x, y, w)


def lsa_tokens(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[B, K, d], [B, K] -> tokens [B, K, d+1] with the last token's y zeroed (it is the query)."""
    y = torch.cat([y[:, :-1], torch.zeros_like(y[:, -1:])], 1)
    return torch.cat([x, y[..., None]], -1)


def split_lsa(e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """LSA tokens [B, N+1, d+1] -> context inputs [B, N, d], context targets [B, N], query input [B, d]."""
    return e[:, :-1, :-1], e[:, :-1, -1], e[:, -1, :-1]
