"""Reference learning algorithms, in closed form: what a trained in-context learner is compared against.

- `gd`: K steps of gradient descent from W = 0 on the in-context loss L(W) = 1/(2N) sum_i (W x_i - y_i)^2;
- `tune_gd_rate`: the line-searched learning rate of K-step GD on the training distribution;
- `least_squares`: the minimum-norm least-squares fit of the context (the optimum when y is noise-free);
- `ridge_prefix`: the Bayes estimator under the Gaussian task prior N(0, I) (posterior mean, lambda = noise^2);
- `dmmse_prefix`: the Bayes estimator under the discrete prior over M pretraining tasks (Raventós et al.).
The `_prefix` estimators predict every y_k from the pairs before it (position k sees k-1 pairs), as a causal
transformer does.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize_scalar


def gd(x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor, eta: float, steps: int = 1) -> torch.Tensor:
    """x [B, N, d], y [B, N], xq [B, d] -> the query prediction W_steps x_q [B], GD written out step by step."""
    N = x.shape[1]
    W = torch.zeros(x.shape[0], x.shape[2], dtype=x.dtype)  # [B, d]
    for _ in range(steps):
        resid = torch.einsum("bnd,bd->bn", x, W) - y  # [B, N]
        grad = torch.einsum("bn,bnd->bd", resid, x) / N  # [B, d]  dL/dW
        W = W - eta * grad
    return (W * xq).sum(-1)


def gd_loss(x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor, yq: torch.Tensor, eta: float, steps: int) -> float:
    with torch.no_grad():
        err = gd(x.double(), y.double(), xq.double(), eta, steps) - yq.double()
    loss = 0.5 * float((err**2).mean())
    return loss if np.isfinite(loss) else float("inf")


def tune_gd_rate(x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor, yq: torch.Tensor, steps: int) -> float:
    """The rate minimising the query loss of `steps`-step GD on these tasks: a log grid, then Brent's method
    between the best point's neighbours (the loss is a polynomial in eta, not convex for steps > 1)."""
    grid = np.geomspace(1e-3, 1e2, 151)
    losses = [gd_loss(x, y, xq, yq, float(e), steps) for e in grid]
    i = int(np.argmin(losses))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(lambda e: gd_loss(x, y, xq, yq, float(e), steps), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-6 * hi})
    return float(res.x) if res.fun <= losses[i] else float(grid[i])


def least_squares(x: torch.Tensor, y: torch.Tensor, xq: torch.Tensor) -> torch.Tensor:
    """Minimum-norm least squares on the context, in float64: x [B, N, d], y [B, N], xq [B, d] -> [B]."""
    w = torch.linalg.pinv(x.double()) @ y.double()[..., None]  # [B, d, 1]
    return (w[..., 0] * xq.double()).sum(-1).to(x.dtype)


def ridge_prefix(x: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    """Posterior-mean predictions at every position: x [B, K, d], y [B, K] -> [B, K]; position 0 predicts 0.
    w_k = (X_<k^T X_<k + lam I)^-1 X_<k^T y_<k, from running sums of x x^T and x y."""
    x64, y64 = x.double(), y.double()
    d = x.shape[2]
    xx = torch.cumsum(torch.einsum("bki,bkj->bkij", x64, x64), 1)  # [B, K, d, d] sums over pairs <= k
    xy = torch.cumsum(x64 * y64[..., None], 1)  # [B, K, d]
    xx = torch.cat([torch.zeros_like(xx[:, :1]), xx[:, :-1]], 1)  # shift: position k sees pairs < k
    xy = torch.cat([torch.zeros_like(xy[:, :1]), xy[:, :-1]], 1)
    w = torch.linalg.solve(xx + lam * torch.eye(d, dtype=torch.float64), xy[..., None])[..., 0]  # [B, K, d]
    return (w * x64).sum(-1).to(x.dtype)


def dmmse_prefix(x: torch.Tensor, y: torch.Tensor, pool: torch.Tensor, noise: float, chunk: int = 64) -> torch.Tensor:
    """Posterior-mean predictions under the uniform prior over `pool` [M, d], Gaussian noise of std `noise`:
    p(m | pairs < k) ~ exp(-sum_{i<k} (y_i - w_m.x_i)^2 / (2 noise^2)); w_k = sum_m p(m) w_m. -> [B, K]."""
    pool64 = pool.double()
    out = []
    for s in range(0, x.shape[0], chunk):  # [chunk, K, M] at a time keeps memory small for M ~ 2^14
        xc, yc = x[s : s + chunk].double(), y[s : s + chunk].double()
        sq = (yc[..., None] - xc @ pool64.T) ** 2  # [c, K, M]
        loglik = -torch.cumsum(sq, 1) / (2 * noise**2)
        loglik = torch.cat([torch.zeros_like(loglik[:, :1]), loglik[:, :-1]], 1)  # pairs < k
        w = torch.softmax(loglik, -1) @ pool64  # [c, K, d]
        out.append((w * xc).sum(-1))
    return torch.cat(out).to(x.dtype)
