"""The RL substrate as a client uses it: gymnasium ids on `import petridish`, and PPO that continues training."""

import subprocess
import sys

import numpy as np
import torch

from petridish.rl.envs import ENVS
from petridish.rl.gmg import CheeseMaze
from petridish.rl.ppo import (
    PPOConfig,
    load_agent,
    load_optimizer,
    make_agent,
    make_optimizer,
    save_agent,
    save_optimizer,
    train,
)
from petridish.rl.registration import IDS


def _client(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_petridish_makes_the_ids_available_without_loading_the_envs():
    r = _client("import sys, gymnasium as gym, petridish\n"
                "assert 'petridish.rl.envs' not in sys.modules and 'torch' not in sys.modules\n"
                "env = gym.make('petridish/CheeseMaze-v0', n_levels=200)\n"
                "obs, _ = env.reset(seed=0); print(type(env.unwrapped).__name__, obs.shape)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("CheeseMazeEnv")


def test_without_import_petridish_the_ids_are_unknown():
    """The control for the test above: a bare gymnasium does not know the ids (so that test can fail)."""
    r = _client("import gymnasium as gym\ngym.make('petridish/CheeseMaze-v0')")
    assert r.returncode != 0 and "petridish" in r.stderr


def test_registered_ids_name_the_env_classes():
    assert set(IDS) == set(ENVS)
    for env_id, (entry, vector_entry) in IDS.items():
        assert entry == f"{ENVS[env_id].__module__}:{ENVS[env_id].__name__}"
        assert vector_entry == f"{ENVS[env_id].Engine.__module__}:{ENVS[env_id].Engine.__name__}"


CFG = PPOConfig(total_steps=1024, n_envs=8, n_steps=32, n_minibatches=2, update_epochs=2, hidden=16)


def _env(seed: int) -> CheeseMaze:
    return CheeseMaze(num_envs=CFG.n_envs, size=5, n_levels=200, seed=seed)


def _params(agent) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in agent.parameters()])


def test_ppo_continues_from_a_saved_agent_and_optimizer(tmp_path):
    opt_steps = 4 * CFG.update_epochs * CFG.n_minibatches  # 1024 / (8 * 32) updates
    agent = make_agent(_env(0), CFG)
    opt = make_optimizer(agent, CFG)
    train(_env(0), CFG, seed=0, agent=agent, opt=opt)
    train(_env(0), CFG, seed=0, agent=agent, opt=opt)  # the same optimizer carries on: its step count adds up
    save_optimizer(opt, tmp_path / "opt.safetensors")
    save_agent(agent, tmp_path / "agent2.safetensors")
    loaded = load_agent(_env(0), CFG, tmp_path / "agent2.safetensors")
    opt2 = load_optimizer(loaded, CFG, tmp_path / "opt.safetensors")
    for a, b in zip(opt.state_dict()["state"].values(), opt2.state_dict()["state"].values()):
        assert float(a["step"]) == float(b["step"]) == 2 * opt_steps
        assert torch.equal(a["exp_avg"], b["exp_avg"]) and torch.equal(a["exp_avg_sq"], b["exp_avg_sq"])
    start = _params(loaded).clone()
    # continuing with a vanishing learning rate keeps the loaded parameters: they are the start point
    tiny = CFG.model_copy(update={"lr": 1e-12})
    cont, _ = train(_env(1), tiny, seed=1, agent=loaded, opt=load_optimizer(loaded, tiny, tmp_path / "opt.safetensors"))
    assert cont is loaded
    assert torch.allclose(_params(cont), start, atol=1e-8)
    torch.manual_seed(1)
    assert not torch.allclose(_params(make_agent(_env(1), CFG)), start, atol=1e-3)  # a fresh agent is elsewhere
    # with the real learning rate it moves, and deterministically for a seed
    runs = [train(_env(2), CFG, seed=2, agent=load_agent(_env(0), CFG, tmp_path / "agent2.safetensors"))[0]
            for _ in range(2)]
    assert torch.equal(_params(runs[0]), _params(runs[1]))
    assert not torch.allclose(_params(runs[0]), start, atol=1e-4)
    assert np.isfinite(_params(runs[0]).numpy()).all()
