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

    def pathways(self, layer: int = 0) -> dict[str, float]:
        """How strongly a layer uses the two routes by which y_i can reach the query's prediction. Its y-slot
        output is -(1/N) sum_i (u . e_i)(e_i^T B e_q) with u = V^T P[-1] and B = K^T Q, so y_i enters through
          gd:    u_y y_i  x_i^T B_xx x_q   (value reads y, attention compares x's: any matrix, GD when B_xx ~ I)
          rank1: (u_x . x_i)  y_i B_yx x_q (value reads x, attention reads y: at most a rank-one matrix)."""
        with torch.no_grad():
            u = self.wv[layer].T @ self.proj[layer][-1]  # [D]
            B = self.wk[layer].T @ self.wq[layer]  # [D, D]
            d = self.d
            return {"gd": float(u[d].abs() * B[:d, :d].norm()), "rank1": float(u[:d].norm() * B[d, :d].norm())}

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
