"""PPO (clipped surrogate, GAE, value loss, entropy bonus) over a batched gridworld, CleanRL-style.

Read top to bottom: the arguments, the actor-critic network, then `train`: collect a rollout of
n_steps x n_envs transitions, compute advantages with GAE, and take update_epochs passes of minibatch
gradient steps, each one step of the shared loop (petridish.training.fit: resume, checkpoints, metrics).
Deterministic for a seed on CPU (a torch generator seeded with it drives initialisation, action sampling and
minibatch order; the engine's numpy generator drives the environment). One BLAS thread per process: see
benchmarks/env_throughput.py.
"""

from __future__ import annotations

import json
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
from petridish.training import Schedule, Step, TrainState, fit


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
    ckpt_every: int = Field(default=25, ge=0)
    """Updates between in-training checkpoints, when the caller gives a path (0: never)."""


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


class _Curve:
    """The Reporter that PPO hands to `fit`: keeps the training curve (in environment steps) and forwards each
    record to the caller's `progress(step, total, record)`."""

    def __init__(self, per_update: int, batch: int, total: int, progress: Callable[[int, int, dict], None] | None):
        self.per_update, self.batch, self.total, self.callback = per_update, batch, total, progress
        self.records: list[dict] = []

    def progress(self, step: int, total: int, phase: str = "", **fields: float) -> None:
        """Progress goes out with each logged record (environment steps), not per optimizer step."""

    def log(self, phase: str, step: int, **values) -> None:
        rec = {"step": step // self.per_update * self.batch, **values}
        self.records.append(rec)
        if self.callback:
            self.callback(rec["step"], self.total, rec)


def train(env: GridEngine, cfg: PPOConfig, seed: int, progress: Callable[[int, int, dict], None] | None = None,
          agent: Agent | None = None, opt: torch.optim.Adam | None = None,
          ckpt: Path | None = None) -> tuple[Agent, list[dict]]:
    """Train on `env` (with cfg.n_envs rows) for cfg.total_steps; return the agent and its curve.

    A fresh agent unless `agent` is given: then training continues from its parameters (in place), with `opt`
    (its optimizer, e.g. from `load_optimizer`, updated in place) or a fresh Adam. The learning rate schedule
    restarts from cfg.lr. The loop is `petridish.training.fit`, one of its steps per minibatch; with `ckpt`, it
    saves the agent, Adam, the environment's episodes and every RNG every cfg.ckpt_every updates, and a killed
    run resumes from there to the same numbers."""
    assert env.num_envs == cfg.n_envs, (env.num_envs, cfg.n_envs)
    torch.manual_seed(seed)
    if agent is None:
        agent = make_agent(env, cfg)
    if opt is None:
        opt = make_optimizer(agent, cfg)
    gen = torch.Generator()  # action sampling and minibatch order: the seeded stream, after the initialisation
    gen.set_state(torch.get_rng_state())
    T, N = cfg.n_steps, cfg.n_envs
    batch = T * N
    minibatch = batch // cfg.n_minibatches
    starts = range(0, batch, minibatch)
    per_update = cfg.update_epochs * len(starts)  # optimizer steps per update
    n_updates = max(1, cfg.total_steps // batch)
    obs_buf = torch.zeros((T, N, *env.single_observation_space.shape))  # float: converted once, as the net reads it
    act_buf = torch.zeros((T, N), dtype=torch.long)
    logp_buf, rew_buf, done_buf, val_buf, adv, ret = (torch.zeros((T, N)) for _ in range(6))
    b_obs, b_act = obs_buf.view(batch, *obs_buf.shape[2:]), act_buf.view(batch)
    b_logp, b_adv, b_ret, b_val = logp_buf.view(batch), adv.view(batch), ret.view(batch), val_buf.view(batch)

    obs_np, _ = env.reset(seed=seed)
    live = {"obs": torch.from_numpy(obs_np).float(), "done": torch.zeros(N)}  # the step the next rollout starts at
    episodes: dict[str, list] = {"r": [], "l": []}  # finished since the last record
    clipfracs: list[float] = []
    approx_kls: list[float] = []
    perm = torch.empty(0, dtype=torch.long)
    ent_coef = cfg.ent_coef
    t0, first_update = time.perf_counter(), 0

    @torch.inference_mode()
    def collect() -> None:
        """A rollout of T steps from `live` into the buffers, then advantages by GAE; an episode's end (terminated
        or truncated) cuts the bootstrap."""
        obs, done = live["obs"], live["done"]
        for t in range(T):
            obs_buf[t], done_buf[t] = obs, done
            logits, value = agent(obs)
            logp_all = logits.log_softmax(-1)  # [N, A]
            action = torch.multinomial(logp_all.exp(), 1, generator=gen).squeeze(-1)  # [N]
            act_buf[t], val_buf[t] = action, value
            logp_buf[t] = logp_all.gather(1, action[:, None]).squeeze(1)
            obs_np, reward, terminated, truncated, info = env.step(action.numpy())
            rew_buf[t] = torch.from_numpy(reward) * cfg.reward_scale
            obs, done = torch.from_numpy(obs_np).float(), torch.from_numpy((terminated | truncated).astype(np.float32))
            if "episode" in info:
                m = info["_episode"]
                episodes["r"].extend(info["episode"]["r"][m].tolist())
                episodes["l"].extend(info["episode"]["l"][m].tolist())
        live["obs"], live["done"] = obs, done
        next_value = agent(obs)[1]
        last = torch.zeros(N)
        for t in reversed(range(T)):
            nonterminal = 1.0 - (done if t == T - 1 else done_buf[t + 1])
            nv = next_value if t == T - 1 else val_buf[t + 1]
            delta = rew_buf[t] + cfg.gamma * nv * nonterminal - val_buf[t]
            last = delta + cfg.gamma * cfg.gae_lambda * nonterminal * last
            adv[t] = last
        torch.add(adv, val_buf, out=ret)

    def step(i: int) -> Step:
        nonlocal perm, ent_coef
        u, j = divmod(i, per_update)
        if j == 0:
            frac = u / n_updates
            ent_coef = cfg.ent_coef if cfg.ent_coef_final is None else cfg.ent_coef + frac * (cfg.ent_coef_final -
                                                                                               cfg.ent_coef)
            collect()
        if j % len(starts) == 0:  # a new epoch: a new minibatch order
            perm = torch.randperm(batch, generator=gen)
        start = starts[j % len(starts)]
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
        pg_loss = torch.max(-mb_adv * ratio, -mb_adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)).mean()
        v_clipped = b_val[mb] + (value - b_val[mb]).clamp(-cfg.clip_coef, cfg.clip_coef)
        v_loss = 0.5 * torch.max((value - b_ret[mb]) ** 2, (v_clipped - b_ret[mb]) ** 2).mean()
        loss = pg_loss - ent_coef * entropy + cfg.vf_coef * v_loss
        with torch.no_grad():  # CleanRL's diagnostics: how far this minibatch moves the policy
            approx_kls.append(((ratio - 1) - logratio).mean().item())  # the k3 estimator of KL(old || new)
            clipfracs.append(((ratio - 1).abs() > cfg.clip_coef).float().mean().item())
        update = u + 1
        if j < per_update - 1 or not (update % cfg.log_every == 0 or update == n_updates):
            return Step(loss, {}, {})
        var_ret = b_ret.var().item()  # how much of the returns' variance the value head explains (1 = all)
        explained_var = float("nan") if var_ret == 0 else 1.0 - (b_ret - b_val).var().item() / var_ret
        r, lens = episodes["r"], episodes["l"]
        rec = {"episode_return": float(np.mean(r)) if r else float("nan"),
               "episode_length": float(np.mean(lens)) if lens else float("nan"),
               "episodes": len(r), "entropy": entropy.item(), "value_loss": v_loss.item(),
               "policy_loss": pg_loss.item(), "clipfrac": float(np.mean(clipfracs)),
               "approx_kl": float(np.mean(approx_kls)), "explained_variance": explained_var,
               "steps_per_s": (update - first_update) * batch / (time.perf_counter() - t0)}
        r.clear(), lens.clear(), clipfracs.clear(), approx_kls.clear()
        return Step(loss, {}, rec)

    curve = _Curve(per_update, batch, n_updates * batch, progress)
    state = None
    if ckpt is not None:
        def tensors() -> dict[str, torch.Tensor]:
            arrays, _ = env.episode_state()
            return {**{f"agent.{k}": v for k, v in agent.state_dict().items()}, "live.obs": live["obs"],
                    "live.done": live["done"], "rng": gen.get_state(),
                    **{f"env.{k}": torch.from_numpy(np.ascontiguousarray(a)) for k, a in arrays.items()}}

        def load(t: dict[str, torch.Tensor]) -> None:
            agent.load_state_dict({k[6:]: v for k, v in t.items() if k.startswith("agent.")})
            live["obs"], live["done"] = t["live.obs"], t["live.done"]
            gen.set_state(t["rng"])
            env.load_episode_state({k[4:]: v.numpy() for k, v in t.items() if k.startswith("env.")},
                                   json.loads(meta_in["env_rngs"]))

        meta_in: dict[str, str] = {}

        def load_meta(meta: dict[str, str]) -> None:
            nonlocal first_update
            meta_in.update(meta)
            first_update = int(meta["step"]) // per_update
            saved = json.loads(meta["ppo"])
            curve.records[:] = saved["curve"]
            episodes.update(saved["episodes"])
            clipfracs[:], approx_kls[:] = saved["clipfracs"], saved["approx_kls"]

        state = TrainState(ckpt, opt, tensors, load, lambda: {
            "ppo": json.dumps({"curve": curve.records, "episodes": episodes, "clipfracs": clipfracs,
                               "approx_kls": approx_kls}), "env_rngs": json.dumps(env.episode_state()[1])}, load_meta)
    lr = (lambda i: cfg.lr * (1.0 - (i // per_update) / n_updates)) if cfg.anneal_lr else (lambda i: cfg.lr)
    fit(step, opt, list(agent.parameters()), lr, cfg.max_grad_norm,
        Schedule(n_updates * per_update, log_every=cfg.log_every * per_update,
                 ckpt_every=cfg.ckpt_every * per_update), "ppo", curve, state=state)
    return agent, curve.records
