"""A small softmax transformer for in-context regression (after Garg et al. 2022, Raventós et al. 2023).

Each (x_i, y_i) pair is one context token (as in von Oswald et al.), followed by K query tokens (x_k, 0). A mask
lets context token i see context tokens <= i, and query k see context tokens < k and itself, so query k predicts
y_k from the k-1 pairs before it: K causal predictions per sequence, as with the papers' interleaved x, y
tokens, but without the x-to-y binding step that keeps interleaved models on their initial loss plateau for
thousands of steps (too long for a CPU budget). The blocks are the lm substrate's pre-LN GPT `Block`.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from petridish.lm.model import Block, GPTConfig


def query_mask(k: int) -> torch.Tensor:
    """[1, 1, 2K, 2K] bool, True = may attend: contexts causally, query k -> contexts < k and itself."""
    ctx = torch.tril(torch.ones(k, k, dtype=torch.bool))
    m = torch.zeros(2 * k, 2 * k, dtype=torch.bool)
    m[:k, :k] = ctx
    m[k:, :k] = torch.tril(torch.ones(k, k, dtype=torch.bool), diagonal=-1)
    m[k:, k:] = torch.eye(k, dtype=torch.bool)
    return m[None, None]


class ICLTransformer(nn.Module):
    def __init__(self, d: int, k: int, width: int = 64, n_layers: int = 2, n_heads: int = 2, init_std: float = 0.02):
        super().__init__()
        cfg = GPTConfig(vocab_size=0, max_len=2 * k, d_model=width, n_layers=n_layers, n_heads=n_heads)
        self.read_in = nn.Linear(d + 2, width)  # (x, y, is_query)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(n_layers))
        self.ln = nn.LayerNorm(width)
        self.read_out = nn.Linear(width, 1)
        self.register_buffer("mask", query_mask(k), persistent=False)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, init_std)
        for name, p in self.named_parameters():  # GPT-2: scale the residual projections by depth
            if name.endswith(("attn.out.weight", "down.weight")):
                nn.init.normal_(p, 0.0, init_std / math.sqrt(2 * n_layers))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x [B, K, d], y [B, K] -> predictions [B, K]; the k-th sees pairs < k and x_k only."""
        B, K, _ = x.shape
        ctx = torch.cat([x, y[..., None], torch.zeros(B, K, 1)], -1)  # [B, K, d+2]
        qry = torch.cat([x, torch.zeros(B, K, 1), torch.ones(B, K, 1)], -1)  # [B, K, d+2]
        h = self.read_in(torch.cat([ctx, qry], 1))  # [B, 2K, width]
        for i, block in enumerate(self.blocks):
            h = block(h, self.mask, None, i)
        return self.read_out(h[:, K:])[..., 0]  # query positions: [B, K]
