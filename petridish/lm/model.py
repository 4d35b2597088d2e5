"""TinyGPT: a lean pre-LayerNorm GPT for organisms trained from scratch on CPU.

Our own module rather than a Hugging Face class: at benchmark size HF's generic LlamaForCausalLM trained at
0.49x the speed of a plain PyTorch GPT on this CPU (benchmarks/lm_throughput.py measures ours). Two things
make it faster than a plain GPT on our workloads: the LM head runs only at positions that carry loss (prompt
tokens are masked in fine-tuning), and generation uses a preallocated key/value cache.

Named hook points (TransformerLens names: `hook_embed`, `hook_pos_embed`, `blocks.{i}.hook_resid_pre`,
`blocks.{i}.hook_attn_out`, `blocks.{i}.hook_resid_mid`, `blocks.{i}.hook_mlp_out`, `blocks.{i}.hook_resid_post`)
let probes and activation patching reach any layer through `petridish.hooks` without editing this file.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from petridish.hooks import HookPoint


@dataclass
class GPTConfig:
    vocab_size: int
    max_len: int = 128
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    mlp_ratio: int = 4

    def to_dict(self) -> dict:
        return asdict(self)


class KVCache:
    """Keys and values of every layer for a batch being decoded: [L, B, H, T_max, Dh], filled up to `.len`."""

    def __init__(self, cfg: GPTConfig, batch: int, max_len: int, device: torch.device, dtype: torch.dtype):
        dh = cfg.d_model // cfg.n_heads
        self.k = torch.zeros(cfg.n_layers, batch, cfg.n_heads, max_len, dh, device=device, dtype=dtype)
        self.v = torch.zeros_like(self.k)
        self.len = 0


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.h = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.out = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, cache: KVCache | None, layer: int) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))  # [B, H, T, Dh]
        if cache is not None:
            s = cache.len
            cache.k[layer, :, :, s : s + T] = k
            cache.v[layer, :, :, s : s + T] = v
            k, v = cache.k[layer, :, :, : s + T], cache.v[layer, :, :, : s + T]  # [B, H, S, Dh]
        if mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # mask [B, 1, T, S] bool
        return self.out(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.up = nn.Linear(cfg.d_model, cfg.mlp_ratio * cfg.d_model, bias=False)
        self.down = nn.Linear(cfg.mlp_ratio * cfg.d_model, cfg.d_model, bias=False)
        self.hook_resid_pre, self.hook_attn_out, self.hook_resid_mid = HookPoint(), HookPoint(), HookPoint()
        self.hook_mlp_out, self.hook_resid_post = HookPoint(), HookPoint()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, cache: KVCache | None, layer: int) -> torch.Tensor:
        x = self.hook_resid_pre(x)  # [B, T, d]
        x = self.hook_resid_mid(x + self.hook_attn_out(self.attn(self.ln1(x), mask, cache, layer)))
        return self.hook_resid_post(x + self.hook_mlp_out(self.down(F.gelu(self.up(self.ln2(x))))))


class TinyGPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.hook_embed, self.hook_pos_embed = HookPoint(), HookPoint()
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2: scale the residual projections by depth
            if name.endswith(("attn.out.weight", "down.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(
        self,
        ids: torch.Tensor,  # [B, T]
        pos: torch.Tensor | None = None,  # [B, T] or None for 0..T-1
        mask: torch.Tensor | None = None,  # [B, 1, T, S] attention mask or None for causal
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """Final normed hidden states [B, T, d]; apply `.head` for logits where they are needed."""
        if pos is None:
            pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.hook_embed(self.tok(ids)) + self.hook_pos_embed(self.pos(pos))  # [B, T, d]
        for i, block in enumerate(self.blocks):
            x = block(x, mask, cache, i)
        if cache is not None:
            cache.len += ids.shape[1]
        return self.ln(x)
