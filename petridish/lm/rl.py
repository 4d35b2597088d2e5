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
from petridish.lm.optim import load_train_state, make_optimizer, save_train_state
from petridish.lm.substrate import LM
from petridish.training import Reporter, lr_at, step_generator


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
    start, history = 0, []
    if ckpt is not None and ckpt.exists():
        start, history = load_train_state(ckpt, lm, opt)
    P, K = cfg.prompts_per_step, cfg.samples_per_prompt

    def evaluate(step: int) -> None:
        if eval_fn is not None:
            rec = {"step": step, **eval_fn(step)}
            history.append(rec)
            if reporter:
                reporter.log(phase, step, **{k: v for k, v in rec.items() if k != "step"})

    if start == 0:
        evaluate(0)
    for step in range(start, cfg.steps):
        g = step_generator(seed, step)
        pidx = torch.randint(0, len(prompts), (P,), generator=g).repeat_interleave(K)  # [P*K]
        gen = lm.generate([prompts[i] for i in pidx], cfg.max_new_tokens, cfg.temperature,
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
        loss = pg + cfg.kl_coef * kl
        lr = lr_at(step, cfg.steps, cfg.lr, cfg.warmup, 1.0)
        for grp in opt.param_groups:
            grp["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lm.trainable_parameters(), cfg.grad_clip)
        opt.step()
        done = step + 1
        if reporter:
            reporter.progress(done, cfg.steps, phase, reward=r.mean().item(), kl=kl.item())
            if done % 5 == 0 or done == cfg.steps:
                reporter.log(phase, done, reward=round(r.mean().item(), 5), kl=round(kl.item(), 6))
        if (cfg.eval_every and done % cfg.eval_every == 0 or done in cfg.eval_at) and done < cfg.steps:
            evaluate(done)
        if ckpt is not None and cfg.ckpt_every and done % cfg.ckpt_every == 0 and done < cfg.steps:
            save_train_state(ckpt, lm, opt, done, history)
    if cfg.steps > 0 and not (history and history[-1]["step"] == cfg.steps):
        evaluate(cfg.steps)
    if ckpt is not None:
        ckpt.unlink(missing_ok=True)
    return history
