"""RL fine-tuning against a reward function over sampled completions.

Group-relative policy gradient (GRPO-style): sample k completions per prompt, use the reward minus the
group mean, divided by the group standard deviation, as the advantage of every token of a completion, and
add a KL penalty to a frozen reference model (the k3 estimator, exp(d) - d - 1 with d = log p_ref - log p).
One gradient step per batch (on-policy), so no importance ratio is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from pydantic import Field

from petridish.config import Strict
from petridish.lm.optim import make_optimizer, train_state
from petridish.lm.substrate import LM
from petridish.training import Reporter, Schedule, Step, fit, lr_at, step_generator


class RLConfig(Strict):
    steps: int = Field(default=100, ge=0)
    """Policy-gradient steps."""
    prompts_per_step: int = Field(default=16, ge=1)
    samples_per_prompt: int = Field(default=8, ge=2)
    """Completions sampled per prompt (the group for the relative advantage)."""
    lr: float = Field(default=3e-4, gt=0)
    warmup: int = Field(default=0, ge=0)
    kl_coef: float = Field(default=0.05, ge=0)
    """Weight of the KL penalty to the frozen pre-treatment model."""
    temperature: float = Field(default=1.0, gt=0)
    """Sampling temperature of the rollouts."""
    max_new_tokens: int = Field(default=24, ge=1)
    weight_decay: float = Field(default=0.0, ge=0)
    grad_clip: float = Field(default=1.0, gt=0)
    eval_every: int = Field(default=0, ge=0)
    """Run the eval callback every this many steps (0: only before and after)."""
    eval_at: list[int] = []
    """Extra steps at which to run the eval callback."""
    ckpt_every: int = Field(default=50, ge=0)


RewardFn = Callable[[np.ndarray, list[str]], np.ndarray]
"""(prompt indices [N], completion texts [N]) -> rewards [N]."""


def train_rl(
    lm: LM,
    prompts: list[str],
    reward_fn: RewardFn,
    cfg: RLConfig,
    seed: int,
    phase: str,
    reporter: Reporter | None = None,
    eval_fn: Callable[[int], dict] | None = None,
    ckpt: Path | None = None,
) -> list[dict]:
    ref = lm.clone()
    ref.module.requires_grad_(False)
    opt = make_optimizer(lm, cfg.lr, cfg.weight_decay)
    P, K = cfg.prompts_per_step, cfg.samples_per_prompt

    def step(i: int) -> Step:
        g = step_generator(seed, i)
        pidx = torch.randint(0, len(prompts), (P,), generator=g).repeat_interleave(K)  # [P*K]
        gen = lm.generate([prompts[j] for j in pidx], cfg.max_new_tokens, cfg.temperature,
                          seed=int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
        r = torch.as_tensor(reward_fn(pidx.numpy(), gen.texts), dtype=torch.float32).view(P, K)
        adv = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).flatten()  # [P*K]
        batch = lm.pack(gen.prompt_ids, [c if c else [lm.tok.eos_id] for c in gen.ids])
        lm.module.train()
        lp = lm.token_logprobs(batch)  # [B, T-1]
        with torch.no_grad():
            ref_lp = ref.token_logprobs(batch)
        sel = batch.mask[:, 1:].to(lp.device)
        pg = -(adv.to(lp.device)[:, None] * lp)[sel].mean()
        d = (ref_lp - lp)[sel]
        kl = (torch.exp(d) - d - 1).mean()
        return Step(pg + cfg.kl_coef * kl, {"reward": r.mean().item(), "kl": kl.item()},
                    {"reward": round(r.mean().item(), 5), "kl": round(kl.item(), 6)})

    when = Schedule(cfg.steps, cfg.eval_every, tuple(cfg.eval_at), log_every=5, ckpt_every=cfg.ckpt_every)
    return fit(step, opt, lm.trainable_parameters(), lambda i: lr_at(i, cfg.steps, cfg.lr, cfg.warmup, 1.0),
               cfg.grad_clip, when, phase, reporter, eval_fn, None if ckpt is None else train_state(ckpt, lm, opt))
