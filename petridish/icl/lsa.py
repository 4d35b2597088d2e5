"""A stack of linear self-attention (LSA) layers, and the weights that make it run gradient descent.

After von Oswald et al. 2023 (arXiv:2212.07677): no softmax, no MLP, no LayerNorm, one head. Layer l updates
every token e_j (context and query) with the context tokens as keys and values:

    e_j <- e_j + P_l  sum_{i<=N} (V_l e_i) (K_l e_i)^T (Q_l e_j) / N

The prediction is read as minus the query's y-slot, so a layer that writes -dW x into y-slots is a GD step.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class LSA(nn.Module):
    def __init__(self, d: int, n_layers: int, init_scale: float = 0.002):
        super().__init__()
        D = d + 1
        self.d = d

        def mats() -> nn.Parameter:
            return nn.Parameter(init_scale * torch.randn(n_layers, D, D))  # [L, D, D]

        self.wq, self.wk, self.wv, self.proj = mats(), mats(), mats(), mats()

    @property
    def n_layers(self) -> int:
        return self.wq.shape[0]

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        """tokens [B, N+1, d+1] (the last one is the query (x_q, 0)) -> predictions y_hat [B]."""
        N = e.shape[1] - 1
        for l in range(self.n_layers):
            ctx = e[:, :N]  # [B, N, D] keys and values come from the context only
            q = e @ self.wq[l].T  # [B, N+1, D]
            k = ctx @ self.wk[l].T  # [B, N, D]
            v = ctx @ self.wv[l].T  # [B, N, D]
            attn = q @ k.transpose(1, 2) / N  # [B, N+1, N], no softmax
            e = e + (attn @ v) @ self.proj[l].T  # [B, N+1, D]
        return -e[:, -1, -1]

    @classmethod
    def gd(cls, d: int, n_layers: int, eta: float) -> LSA:
        """The construction: each layer is one GD step of rate eta on L(W) = 1/(2N) sum_i (W x_i - y_i)^2, from
        W = 0. K = Q project onto x; V copies -y; P writes eta times that into the y-slot. The context y-slots then
        hold the residuals y_i - W x_i, so the next layer takes the next step, and the query's holds -W x_q."""
        m = cls(d, n_layers)
        D = d + 1
        kq = torch.zeros(D, D)
        kq[:d, :d] = torch.eye(d)
        v = torch.zeros(D, D)
        v[d, d] = -1.0
        p = torch.zeros(D, D)
        p[d, d] = eta
        with torch.no_grad():
            for l in range(n_layers):
                m.wq[l], m.wk[l], m.wv[l], m.proj[l] = kq, kq, v, p
        return m
