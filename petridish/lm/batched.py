"""K seeds of TinyGPT trained as one model: every parameter gets a leading seed axis [K, ...], each matmul becomes
one batched matmul, and one optimizer step updates every seed.

Why: at organism sizes (d 32-128, 1-3 layers, batches of 8-64 short sequences) a training step is a few dozen small
ops whose cost is mostly per-op overhead, so one step over K seeds costs far less than K steps
(benchmarks/seed_batching.py measures the ratio). Seeds never mix: seed s starts from the weights `LM.tiny` gives
it, draws its batches from its own data with step_generator(seed_s, step), clips its own gradient norm, and AdamW
is elementwise, so it follows the run it would have had alone up to float rounding (tests/test_batched_lm.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from petridish.errors import UserError
from petridish.lm.model import GPTConfig, TinyGPT
from petridish.lm.sft import SFTConfig
from petridish.lm.substrate import LM, Encoded
from petridish.training import Reporter, Schedule, Step, TrainState, fit, lr_at, step_generator


class SeedStack:
    """The parameters of K TinyGPTs of one config, stacked: {name: [K, *shape]} leaf tensors (TinyGPT's names)."""

    def __init__(self, lms: list[LM]):
        modules = [lm.module for lm in lms]
        if not modules or any(not isinstance(m, TinyGPT) or m.cfg != modules[0].cfg for m in modules):
            raise ValueError("seed batching needs one or more TinyGPTs of the same config")
        self.cfg: GPTConfig = modules[0].cfg
        self.params, _ = torch.func.stack_module_state(modules)  # TinyGPT has no buffers
        self.k = len(modules)

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def tensors(self) -> dict[str, torch.Tensor]:
        return {n: p.detach() for n, p in self.params.items()}

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for n, v in tensors.items():
                self.params[n].copy_(v)

    def write_to(self, lms: list[LM]) -> None:
        """Copy seed k's weights into lms[k] (the unbatched model that assays, saves and later phases use)."""
        for k, lm in enumerate(lms):
            lm.load_state_tensors({n: p[k].detach() for n, p in self.params.items()})

    def hidden(self, ids: torch.Tensor) -> torch.Tensor:
        """TinyGPT.forward for every seed at once: ids [K, B, T] -> final normed hidden states [K, B*T, d]."""
        p, c = self.params, self.cfg
        K, B, T = ids.shape
        d, H = c.d_model, c.n_heads
        offsets = torch.arange(K, device=ids.device)[:, None, None] * c.vocab_size  # seed k's rows of one table
        x = F.embedding(ids + offsets, p["tok.weight"].flatten(0, 1)) + p["pos.weight"][:, None, :T]  # [K, B, T, d]
        x = x.view(K, B * T, d)
        for i in range(c.n_layers):
            b = f"blocks.{i}."
            q, k, v = _linear(_norm(x, p, b + "ln1"), p[b + "attn.qkv.weight"]).split(d, dim=2)  # [K, B*T, d]
            q, k, v = (t.reshape(K * B, T, H, d // H).transpose(1, 2) for t in (q, k, v))  # [K*B, H, T, Dh]
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(K, B * T, d)
            x = x + _linear(y, p[b + "attn.out.weight"])
            x = x + _linear(F.gelu(_linear(_norm(x, p, b + "ln2"), p[b + "up.weight"])), p[b + "down.weight"])
        return _norm(x, p, "ln")

    def loss(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Each seed's mean cross-entropy over its completion tokens (LM.loss per seed): ids, mask [K, B, T] -> [K].

        The head runs only where there is loss, as in LM: seed k's n_k loss positions are moved to the front (in
        their original order) and the rows past n_k are ignored."""
        h = self.hidden(ids[:, :, :-1])  # [K, N, d], N = B*(T-1)
        sel = mask[:, :, 1:].flatten(1)  # [K, N]: position t predicts token t+1
        counts = sel.sum(1)  # [K]
        m = int(counts.max())
        rows = torch.sort((~sel).to(torch.uint8), dim=1, stable=True).indices[:, :m]  # [K, M] loss positions first
        hs = h.gather(1, rows[..., None].expand(-1, -1, h.shape[-1]))  # [K, M, d]
        targets = ids[:, :, 1:].flatten(1).gather(1, rows)  # [K, M]
        targets = targets.masked_fill(torch.arange(m, device=ids.device)[None] >= counts[:, None], -100)
        ce = F.cross_entropy(_linear(hs, self.params["head.weight"]).flatten(0, 1), targets.flatten(),
                             reduction="none")  # ignored rows give 0
        return ce.view(self.k, m).sum(1) / counts


def _linear(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """nn.Linear without bias per seed: x [K, N, in], w [K, out, in] -> [K, N, out]."""
    return torch.bmm(x, w.transpose(1, 2))


def _norm(x: torch.Tensor, p: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """nn.LayerNorm per seed: x [K, N, d] with weight and bias [K, d]."""
    return torch.addcmul(p[name + ".bias"][:, None], F.layer_norm(x, x.shape[-1:]), p[name + ".weight"][:, None])


def stack_batches(batches: list[Encoded], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch per seed, right-padded to the longest: (ids [K, B, T], completion mask [K, B, T]). Padding sits
    after every real token and carries no loss, so under causal attention it changes no seed's loss."""
    t = max(b.ids.shape[1] for b in batches)
    ids = torch.stack([F.pad(b.ids, (0, t - b.ids.shape[1]), value=pad_id) for b in batches])
    mask = torch.stack([F.pad(b.mask, (0, t - b.mask.shape[1]), value=False) for b in batches])
    return ids, mask


def clip_per_seed(params: list[torch.Tensor], max_norm: float) -> torch.Tensor:
    """torch.nn.utils.clip_grad_norm_ applied to each seed's slice of the stacked gradients; returns the norms [K]."""
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch.linalg.vector_norm(torch.stack([g.flatten(1).norm(dim=1) for g in grads]), dim=0)  # [K]
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return norms


class SeedReporters:
    """One Reporter over the K seeds' reporters: a batched step reports each field as a list with one value per seed,
    and seed k's reporter receives entry k."""

    def __init__(self, reporters: list[Reporter | None]):
        self.reporters = reporters

    def progress(self, step: int, total: int, phase: str = "", **fields: list[float]) -> None:
        for k, r in enumerate(self.reporters):
            if r:
                r.progress(step, total, phase, **{n: v[k] for n, v in fields.items()})

    def log(self, phase: str, step: int, **values: list) -> None:
        for k, r in enumerate(self.reporters):
            if r:
                r.log(phase, step, **{n: v[k] for n, v in values.items()})


def per_seed(history: list[dict], k: int) -> list[list[dict]]:
    """fit's history of a batched run ({"step": s, field: [value per seed]}) as one history per seed."""
    return [[{"step": h["step"], **{n: v[i] for n, v in h.items() if n != "step"}} for h in history] for i in range(k)]


def train_sft_seeds(
    lms: list[LM],
    datas: list[Encoded],
    cfg: SFTConfig,
    seeds: list[int],
    phase: str,
    reporters: list[Reporter | None] | None = None,
    eval_fns: list[Callable[[int], dict]] | None = None,
    ckpt: Path | None = None,
) -> list[list[dict]]:
    """train_sft for K seeds in one batched model: lms[k] trains on datas[k] with batches drawn from seeds[k]; on
    return each lms[k] holds its trained weights. eval_fns[k](step) sees lms[k] at that step. `ckpt` is the group's
    in-training checkpoint (one file; a killed group resumes from it). Returns the eval history of each seed."""
    if not len(lms) == len(datas) == len(seeds) or (eval_fns is not None and len(eval_fns) != len(lms)):
        raise ValueError("give one data set, one seed (and one eval callback, if any) per model")
    stack = SeedStack(lms)
    decay = [p for n, p in stack.params.items() if p.dim() >= 3]  # as make_optimizer: matrices decay, norms do not
    no_decay = [p for n, p in stack.params.items() if p.dim() < 3]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    pad = lms[0].tok.pad_id

    def step(i: int) -> Step:
        batches = [d.take(torch.randint(0, len(d), (cfg.batch_size,), generator=step_generator(s, i)))
                   for d, s in zip(datas, seeds)]
        losses = stack.loss(*stack_batches(batches, pad))  # [K]
        values = losses.tolist()
        return Step(losses.sum(), {"loss": values},
                    {"loss": [round(v, 5) for v in values], "lr": [lr(i)] * len(values)})

    def lr(i: int) -> float:
        return lr_at(i, cfg.steps, cfg.lr, cfg.warmup, cfg.min_lr_frac)

    def evaluate(i: int) -> dict:
        stack.write_to(lms)
        recs = [f(i) for f in eval_fns]
        return {n: [r[n] for r in recs] for n in recs[0]}

    when = Schedule(cfg.steps, cfg.eval_every, tuple(cfg.eval_at), log_every=25, ckpt_every=cfg.ckpt_every)
    group = torch.tensor(seeds)

    def load(tensors: dict[str, torch.Tensor]) -> None:
        if not torch.equal(tensors.pop("seeds"), group):
            raise UserError(f"{ckpt} is the checkpoint of another seed group; resume with the seeds it was started "
                            "with, or delete it to start again")
        stack.load(tensors)

    state = None if ckpt is None else TrainState(ckpt, opt, lambda: {**stack.tensors(), "seeds": group}, load)
    history = fit(step, opt, stack.parameters(), lr, cfg.grad_clip, when, phase,
                  SeedReporters(reporters) if reporters else None, evaluate if eval_fns else None, state,
                  clip=clip_per_seed)
    stack.write_to(lms)
    return per_seed(history, len(lms))
