"""Algorithm-identity assays: does a model compute what a reference algorithm computes?

For a predictor that maps the LSA tokens [B, N+1, d+1] to y_hat [B], the sensitivity d y_hat / d x_q is the
implicit weight vector it learned in context (exactly so when y_hat is linear in x_q). von Oswald et al. compare
two predictors by the cosine and the L2 distance of those sensitivities ("model cos", "model diff") and by the
distance of their predictions ("preds diff"), task by task.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.func import grad

from petridish.icl import baselines
from petridish.icl.data import split_lsa

Predictor = Callable[[torch.Tensor], torch.Tensor]  # tokens [B, T, d+1] -> y_hat [B]


def query_sensitivity(predict: Predictor, tokens: torch.Tensor) -> torch.Tensor:
    """d y_hat / d x_q per sequence, via torch.func: tokens [B, T, d+1] -> [B, d]. Sequences do not interact
    (tests/test_icl.py checks it), so one gradient of the summed predictions holds every sequence's own gradient:
    one backward pass instead of a vmap over B single-sequence passes."""
    return grad(lambda e: predict(e).sum())(tokens)[:, -1, :-1]


def gd_predictor(eta: float, steps: int) -> Predictor:
    """Explicit K-step GD (baselines.gd) read off the same tokens a model sees."""
    return lambda e: baselines.gd(*split_lsa(e), eta, steps)


def least_squares_predictor(e: torch.Tensor) -> torch.Tensor:
    return baselines.least_squares(*split_lsa(e))


def compare(a: Predictor, b: Predictor, tokens: torch.Tensor, yq: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-sequence [B] values: model cos and model diff of the sensitivities, preds diff, and both losses."""
    with torch.no_grad():
        pa, pb = a(tokens), b(tokens)
    ga, gb = query_sensitivity(a, tokens), query_sensitivity(b, tokens)
    out = {
        "model_cos": F.cosine_similarity(ga, gb, dim=-1),
        "model_diff": (ga - gb).norm(dim=-1),
        "preds_diff": (pa - pb).abs(),
        "loss_a": 0.5 * (pa - yq) ** 2,
        "loss_b": 0.5 * (pb - yq) ** 2,
    }
    return {k: v.detach() for k, v in out.items()}
