"""The RL substrate: gymnasium compliance, the batched engine's mechanics, level pools, scripted policies, PPO."""

from collections import deque

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import petridish.rl  # noqa: F401 (registers the ids)
from petridish.rl.envs import ENVS
from petridish.rl.evaluate import agent_policy, bfs_policy, random_policy, run_episodes
from petridish.rl.gmg import CheeseMaze, CoinCorridor, build_pool
from petridish.rl.levels import MOVES
from petridish.rl.ppo import PPOConfig, train
from petridish.rl.render import episode_frames, side_by_side, write_gif

SMALL = {"n_levels": 200}


@pytest.mark.parametrize("env_id", list(ENVS))
def test_registered_envs_pass_check_env(env_id):
    kwargs = SMALL if env_id in ("petridish/CheeseMaze-v0", "petridish/CoinCorridor-v0") else {}
    env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    check_env(env.unwrapped)
    env.reset(seed=0)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8


def test_make_vec_gives_the_batched_engine():
    vec = gym.make_vec("petridish/CheeseMaze-v0", num_envs=8, vectorization_mode="vector_entry_point", **SMALL)
    assert isinstance(vec, CheeseMaze)
    obs, _ = vec.reset(seed=0)
    assert obs.shape == (8, *vec.single_observation_space.shape) and vec.observation_space.contains(obs)


def _python_bfs(free: np.ndarray, src: tuple[int, int]) -> np.ndarray:
    dist = np.full(free.shape, -1)
    dist[src] = 0
    q = deque([src])
    while q:
        r, c = q.popleft()
        for dr, dc in MOVES:
            nr, nc = r + dr, c + dc
            if free[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = dist[r, c] + 1
                q.append((nr, nc))
    return dist


def test_level_pools_are_solvable_disjoint_and_their_distance_maps_correct():
    params = (7, 0.25, 1)
    train_pool, n_proxy = build_pool("maze", "train", 300, 0, params)
    test_pool, _ = build_pool("maze", "test", 300, 0, params)
    assert n_proxy == 300 and len(train_pool) == 600 and len(test_pool) > 250
    assert not set(train_pool.level_keys().tolist()) & set(test_pool.level_keys().tolist())
    cheese = train_pool.channel("cheese")
    for i in range(0, 600, 37):
        free = ~train_pool.layers[i, 0].astype(bool)
        goal = tuple(np.argwhere(train_pool.layers[i, cheese])[0])
        assert (train_pool.maps["dist_goal"][i] == _python_bfs(free, goal)).all()
        assert train_pool.maps["start_goal"][i] > 0 and train_pool.maps["start_proxy"][i] > 0
    # proxy-consistent training levels have the cheese in the corner; test levels never do
    corner = np.zeros(train_pool.layers.shape[2:], bool)
    corner[1, -2] = True
    assert train_pool.layers[:300, cheese][:, corner].all()
    assert not test_pool.layers[:, cheese][:, corner].any()


def test_engine_moves_blocks_and_autoresets():
    env = CheeseMaze(num_envs=64, seed=0, **SMALL)
    env.reset(seed=0)
    walls = env.grid[:, env.WALL].astype(bool)
    for _ in range(200):
        before = env.pos.copy()
        a = np.random.default_rng(1).integers(0, 4, 64)
        _, reward, terminated, truncated, info = env.step(a)
        target = before + MOVES[a]
        hit_wall = walls[np.arange(64), target[:, 0], target[:, 1]]
        moved = ~(terminated | truncated)  # finished rows were reset to a new level
        assert (env.pos[moved & hit_wall] == before[moved & hit_wall]).all()
        assert (env.pos[moved & ~hit_wall] == target[moved & ~hit_wall]).all()
        assert (reward[terminated] == 1).all() and (reward[~terminated] == 0).all()
        if "episode" in info:
            done = info["_episode"]
            assert (info["episode"]["first_goal"][done & terminated] == info["episode"]["l"][done & terminated]).all()
            assert (env.t[done] == 0).all()
        walls = env.grid[:, env.WALL].astype(bool)
        assert (env.grid[:, env.AGENT].reshape(64, -1).sum(1) == 1).all()


def test_engine_is_deterministic_for_a_seed():
    def trajectory(seed):
        env = CoinCorridor(num_envs=16, alpha=0.5, seed=123, **SMALL)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        rng = np.random.default_rng(0)
        for _ in range(100):
            out.append(env.step(rng.integers(0, 4, 16))[0])
        return np.stack(out)

    assert (trajectory(5) == trajectory(5)).all()
    assert (trajectory(5) != trajectory(6)).any()


def test_alpha_sets_the_fraction_of_randomised_training_levels():
    env = CheeseMaze(num_envs=1, alpha=0.25, seed=0, **SMALL)
    lv = env.sample_levels(20_000)
    assert abs((lv >= env.n_proxy).mean() - 0.25) < 0.02
    assert (CheeseMaze(num_envs=1, alpha=0.0, seed=0, **SMALL).sample_levels(5000) < 200).all()


@pytest.mark.parametrize("Engine", [CheeseMaze, CoinCorridor])
def test_scripted_policies_bound_the_rates(Engine):
    env = Engine(num_envs=150, split="test", autoreset=False, **SMALL)
    levels = np.arange(150)
    off = ~env.pool.maps["on_way"][levels]
    goal = run_episodes(env, bfs_policy("dist_goal"), levels)
    assert (goal["first_goal"] == env.pool.maps["start_goal"][levels]).all()  # shortest paths, never lava
    assert (goal["first_death"] < 0).all()
    proxy = run_episodes(env, bfs_policy("dist_proxy"), levels)
    # off-path goals are never collected on the way (on-the-way ones may be, which ends the episode)
    assert (proxy["first_proxy"][off] == env.pool.maps["start_proxy"][levels][off]).all()
    assert (proxy["first_goal"][off] < 0).all() and (proxy["first_goal"][~off] > 0).any()
    rand = run_episodes(env, random_policy(0), levels)
    assert 0 < (rand["first_goal"] > 0).mean() < 1


def test_render_text_rgb_and_gif(tmp_path):
    env = CheeseMaze(num_envs=1, split="test", autoreset=False, **SMALL)
    frames, record = episode_frames(env, bfs_policy("dist_goal"), level=0)
    text = env.render_text(0)
    assert "#" in text and "M" in text and len(text.splitlines()) == env.grid.shape[2]
    assert frames[0].shape == (env.grid.shape[2] * 16, env.grid.shape[3] * 16, 3)
    assert record["first_goal"] == len(frames) - 1
    path = write_gif(side_by_side([frames, frames[:2]]), tmp_path / "ep.gif")
    assert path.read_bytes()[:6] == b"GIF89a"


def test_ppo_is_deterministic_and_learns_a_small_maze():
    cfg = PPOConfig(total_steps=24_576, n_envs=32, n_steps=32, hidden=32, lr=3e-3, ent_coef=0.01, log_every=4)
    kw = {"size": 4, "density": 0.0, "alpha": 1.0, **SMALL}
    torch.set_num_threads(1)
    a1, h1 = train(CheeseMaze(num_envs=32, **kw), cfg, seed=3)
    a2, h2 = train(CheeseMaze(num_envs=32, **kw), cfg, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a1.state_dict().values(), a2.state_dict().values()))
    assert [h["episode_return"] for h in h1] == [h["episode_return"] for h in h2]
    n = len(build_pool("maze", "test", 200, 0, (4, 0.0, 1))[0])  # a 4 x 4 room has few distinct levels
    test = CheeseMaze(num_envs=n, split="test", autoreset=False, size=4, density=0.0, **SMALL)
    levels = np.arange(n)
    trained = (run_episodes(test, agent_policy(a1, greedy=False), levels)["first_goal"] > 0).mean()
    rand = (run_episodes(test, random_policy(0), levels)["first_goal"] > 0).mean()
    steps_trained = run_episodes(test, agent_policy(a1, greedy=False), levels)["l"].mean()
    steps_random = run_episodes(test, random_policy(0), levels)["l"].mean()
    assert trained >= rand and steps_trained < 0.7 * steps_random, (trained, rand, steps_trained, steps_random)
    # CleanRL's diagnostics: the k3 KL estimate (r - 1 - log r) is >= 0 for every ratio and small for a clipped
    # update; explained variance is at most 1
    assert all(0 <= h["approx_kl"] < 0.1 and 0 <= h["clipfrac"] <= 1 for h in h1), h1
    assert all(np.isfinite(h["explained_variance"]) and h["explained_variance"] <= 1 for h in h1), h1
