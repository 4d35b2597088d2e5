"""PPO (clipped surrogate, GAE, value loss, entropy bonus) over a batched gridworld, CleanRL-style.

Read top to bottom: the arguments, the actor-critic network, then `train`: collect a rollout of
n_steps x n_envs transitions, compute advantages with GAE, and take update_epochs passes of minibatch
gradient steps. Deterministic for a seed on CPU (torch's generator drives action sampling; the engine's numpy
generator drives the environment). One BLAS thread per process: see benchmarks/env_throughput.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from petridish.config import Strict
from petridish.hooks import HookPoint
from petridish.rl.grid import GridEngine
from petridish.runs import load_tensors, save_tensors


class PPOConfig(Strict):
    total_steps: int = Field(default=1_000_000, ge=1)
    """Environment steps to train for, summed over the parallel environments."""
    n_envs: int = Field(default=128, ge=1)
    """Parallel environments (rows of the batched engine)."""
    n_steps: int = Field(default=64, ge=1)
    """Rollout length per environment per update; one batch is n_envs * n_steps transitions."""
    lr: float = Field(default=1e-3, gt=0)
    """Adam learning rate."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over training."""
    gamma: float = Field(default=0.97, gt=0, le=1)
    """Discount factor."""
    gae_lambda: float = Field(default=0.95, ge=0, le=1)
    """GAE lambda (bias-variance trade-off of the advantage estimate)."""
    n_minibatches: int = Field(default=4, ge=1)
    """Minibatches per epoch."""
    update_epochs: int = Field(default=4, ge=1)
    """Passes over each batch."""
    clip_coef: float = Field(default=0.2, gt=0)
    """PPO ratio clip (also used to clip the value update)."""
    ent_coef: float = Field(default=0.01, ge=0)
    """Entropy bonus weight (at the start of training)."""
    ent_coef_final: float | None = Field(default=None, ge=0)
    """If set, the entropy weight decays linearly from ent_coef to this (explore early, commit late)."""
    vf_coef: float = Field(default=0.5, ge=0)
    """Value loss weight."""
    max_grad_norm: float = Field(default=0.5, gt=0)
    """Global gradient norm clip."""
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    reward_scale: float = Field(default=1.0, gt=0)
    """Multiply rewards by this before learning, to keep value targets near 1 (returns are reported unscaled)."""
    arch: Literal["mlp", "cnn"] = "mlp"
    """Policy body: an MLP on the flattened symbolic layers, or a small CNN (2 conv layers) then one dense layer."""
    hidden: int = Field(default=128, ge=4)
    """Width of the dense layers."""
    log_every: int = Field(default=10, ge=1)
    """Updates between training-curve records."""


def layer_init(layer: nn.Module, std: float = np.sqrt(2), bias: float = 0.0) -> nn.Module:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class Agent(nn.Module):
    """Actor-critic with a shared body: obs [B, C, H, W] uint8 -> (logits [B, A], value [B])."""

    def __init__(self, obs_shape: tuple[int, int, int], n_actions: int, arch: str = "mlp", hidden: int = 128):
        super().__init__()
        C, H, W = obs_shape
        if arch == "mlp":
            self.body = nn.Sequential(nn.Flatten(), layer_init(nn.Linear(C * H * W, hidden)), nn.ReLU(),
                                      layer_init(nn.Linear(hidden, hidden)), nn.ReLU())
        else:
            self.body = nn.Sequential(layer_init(nn.Conv2d(C, 16, 3, padding=1)), nn.ReLU(),
                                      layer_init(nn.Conv2d(16, 32, 3, padding=1)), nn.ReLU(), nn.Flatten(),
                                      layer_init(nn.Linear(32 * H * W, hidden)), nn.ReLU())
        self.actor = layer_init(nn.Linear(hidden, n_actions), std=0.01)
        self.critic = layer_init(nn.Linear(hidden, 1), std=1.0)
        self.hook_obs = HookPoint()  # [B, C, H, W] float: the observation as the network reads it

    def hook_aliases(self) -> dict[str, str]:
        """TransformerLens-style names of the activations (petridish.hooks): each block's output after its ReLU
        ([B, hidden] for dense blocks, [B, ch, H, W] for conv blocks), the policy logits [B, A], the value [B, 1]."""
        relus = [i for i, m in enumerate(self.body) if isinstance(m, nn.ReLU)]
        return {**{f"blocks.{j}.hook_post": f"body.{i}" for j, i in enumerate(relus)},
                "hook_policy_logits": "actor", "hook_value": "critic"}

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(self.hook_obs(obs.float()))  # [B, hidden]
        return self.actor(h), self.critic(h).squeeze(-1)

    @torch.no_grad()
    def act(self, obs: np.ndarray, greedy: bool = False, generator: torch.Generator | None = None) -> np.ndarray:
        """Actions [B] for numpy observations: sampled from the policy, or its most likely action."""
        logits, _ = self(torch.from_numpy(obs))
        if greedy:
            return logits.argmax(-1).numpy()
        return torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(-1).numpy()


def make_agent(env: GridEngine, cfg: PPOConfig) -> Agent:
    return Agent(env.single_observation_space.shape, int(env.single_action_space.n), cfg.arch, cfg.hidden)


def save_agent(agent: Agent, path: Path) -> None:
    save_tensors(path, agent.state_dict())


def load_agent(env: GridEngine, cfg: PPOConfig, path: Path) -> Agent:
    agent = make_agent(env, cfg)
    agent.load_state_dict(load_tensors(path))
    return agent


def make_optimizer(agent: Agent, cfg: PPOConfig) -> torch.optim.Adam:
    return torch.optim.Adam(agent.parameters(), lr=cfg.lr, eps=1e-5)


def save_optimizer(opt: torch.optim.Adam, path: Path) -> None:
    """Adam's moments and step counts as flat tensors ("<param index>.<name>"); hyperparameters come from the config."""
    save_tensors(path, {f"{i}.{k}": v for i, st in opt.state_dict()["state"].items() for k, v in st.items()})


def load_optimizer(agent: Agent, cfg: PPOConfig, path: Path) -> torch.optim.Adam:
    """An optimizer over `agent`'s parameters with the moments saved by `save_optimizer` (to continue training)."""
    opt = make_optimizer(agent, cfg)
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, v in load_tensors(path).items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": opt.state_dict()["param_groups"]})
    return opt


def train(env: GridEngine, cfg: PPOConfig, seed: int, progress: Callable[[int, int, dict], None] | None = None,
          agent: Agent | None = None, opt: torch.optim.Adam | None = None) -> tuple[Agent, list[dict]]:
    """Train on `env` (with cfg.n_envs rows) for cfg.total_steps; return the agent and its curve.

    A fresh agent unless `agent` is given: then training continues from its parameters (in place), with `opt`
    (its optimizer, e.g. from `load_optimizer`, updated in place) or a fresh Adam. The learning rate schedule
    restarts from cfg.lr."""
    assert env.num_envs == cfg.n_envs, (env.num_envs, cfg.n_envs)
    torch.manual_seed(seed)
    if agent is None:
        agent = make_agent(env, cfg)
    if opt is None:
        opt = make_optimizer(agent, cfg)
    T, N = cfg.n_steps, cfg.n_envs
    batch = T * N
    minibatch = batch // cfg.n_minibatches
    n_updates = max(1, cfg.total_steps // batch)
    obs_buf = torch.zeros((T, N, *env.single_observation_space.shape), dtype=torch.uint8)
    act_buf = torch.zeros((T, N), dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros((T, N)) for _ in range(4))

    obs_np, _ = env.reset(seed=seed)
    obs = torch.from_numpy(obs_np)
    done = torch.zeros(N)
    history: list[dict] = []
    ep_returns: list[float] = []
    ep_lengths: list[int] = []
    t0 = time.perf_counter()
    for update in range(1, n_updates + 1):
        frac = (update - 1) / n_updates
        if cfg.anneal_lr:
            opt.param_groups[0]["lr"] = cfg.lr * (1.0 - frac)
        ent_coef = cfg.ent_coef if cfg.ent_coef_final is None else cfg.ent_coef + frac * (cfg.ent_coef_final -
                                                                                           cfg.ent_coef)

        # --- rollout ---------------------------------------------------------------------------------------
        for t in range(T):
            obs_buf[t], done_buf[t] = obs, done
            with torch.no_grad():
                logits, value = agent(obs)
                logp_all = logits.log_softmax(-1)  # [N, A]
                action = torch.multinomial(logp_all.exp(), 1).squeeze(-1)  # [N]
            act_buf[t], val_buf[t] = action, value
            logp_buf[t] = logp_all.gather(1, action[:, None]).squeeze(1)
            obs_np, reward, terminated, truncated, info = env.step(action.numpy())
            rew_buf[t] = torch.from_numpy(reward) * cfg.reward_scale
            obs, done = torch.from_numpy(obs_np), torch.from_numpy((terminated | truncated).astype(np.float32))
            if "episode" in info:
                m = info["_episode"]
                ep_returns.extend(info["episode"]["r"][m].tolist())
                ep_lengths.extend(info["episode"]["l"][m].tolist())

        # --- advantages (GAE); an episode's end (terminated or truncated) cuts the bootstrap -------------------
        with torch.no_grad():
            next_value = agent(obs)[1]
        adv = torch.zeros((T, N))
        last = torch.zeros(N)
        for t in reversed(range(T)):
            nonterminal = 1.0 - (done if t == T - 1 else done_buf[t + 1])
            nv = next_value if t == T - 1 else val_buf[t + 1]
            delta = rew_buf[t] + cfg.gamma * nv * nonterminal - val_buf[t]
            last = delta + cfg.gamma * cfg.gae_lambda * nonterminal * last
            adv[t] = last
        ret = adv + val_buf

        # --- optimise ----------------------------------------------------------------------------------------
        b_obs, b_act = obs_buf.reshape(batch, *obs_buf.shape[2:]), act_buf.reshape(batch)
        b_logp, b_adv, b_ret, b_val = logp_buf.reshape(batch), adv.reshape(batch), ret.reshape(batch), \
            val_buf.reshape(batch)
        clipfracs, approx_kls = [], []
        for _ in range(cfg.update_epochs):
            perm = torch.randperm(batch)
            for start in range(0, batch, minibatch):
                mb = perm[start : start + minibatch]
                logits, value = agent(b_obs[mb])
                logp_all = logits.log_softmax(-1)
                logp = logp_all.gather(1, b_act[mb, None]).squeeze(1)
                entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
                logratio = logp - b_logp[mb]
                ratio = logratio.exp()
                mb_adv = b_adv[mb]
                if cfg.norm_adv:
                    mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio,
                                    -mb_adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
                v_clipped = b_val[mb] + (value - b_val[mb]).clamp(-cfg.clip_coef, cfg.clip_coef)
                v_loss = 0.5 * torch.max((value - b_ret[mb]) ** 2, (v_clipped - b_ret[mb]) ** 2).mean()
                loss = pg_loss - ent_coef * entropy + cfg.vf_coef * v_loss
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), cfg.max_grad_norm)
                opt.step()
                with torch.no_grad():  # CleanRL's diagnostics: how far this minibatch moved the policy
                    approx_kls.append(((ratio - 1) - logratio).mean().item())  # the k3 estimator of KL(old || new)
                    clipfracs.append(((ratio - 1).abs() > cfg.clip_coef).float().mean().item())
        var_ret = b_ret.var().item()  # how much of the returns' variance the value head explains (1 = all)
        explained_var = float("nan") if var_ret == 0 else 1.0 - (b_ret - b_val).var().item() / var_ret

        steps = update * batch
        if update % cfg.log_every == 0 or update == n_updates:
            rec = {"step": steps, "episode_return": float(np.mean(ep_returns)) if ep_returns else float("nan"),
                   "episode_length": float(np.mean(ep_lengths)) if ep_lengths else float("nan"),
                   "episodes": len(ep_returns), "entropy": entropy.item(), "value_loss": v_loss.item(),
                   "policy_loss": pg_loss.item(), "clipfrac": float(np.mean(clipfracs)),
                   "approx_kl": float(np.mean(approx_kls)), "explained_variance": explained_var,
                   "steps_per_s": steps / (time.perf_counter() - t0)}
            history.append(rec)
            ep_returns, ep_lengths = [], []
            if progress:
                progress(steps, n_updates * batch, rec)
    return agent, history
