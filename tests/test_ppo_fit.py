"""PPO on the shared training loop: the same numbers as before the move (stored from main), and a run killed
mid-training resumes from its checkpoint to the numbers of the uninterrupted run."""

from __future__ import annotations

import json

import pytest
import torch

from petridish.rl.ppo import PPOConfig, train
from tests.ppo_reference import CASES, PATH, run


@pytest.mark.parametrize("name", list(CASES))
def test_ppo_numbers_match_those_stored_from_main(name):
    # compared as JSON text: exact floats, and a NaN (no episode finished yet) equals a NaN
    assert json.dumps(run(name)) == json.dumps(json.loads(PATH.read_text())[name])


class Killed(Exception):
    pass


@pytest.mark.parametrize("name", ["maze", "tomato", "treacherous"])
def test_a_killed_ppo_run_resumes_to_the_uninterrupted_numbers(tmp_path, name):
    Engine, kw, _ = CASES[name]
    cfg = PPOConfig(total_steps=6 * 8 * 8, n_envs=8, n_steps=8, hidden=8, log_every=1, ckpt_every=2,
                    ent_coef_final=0.0)
    torch.set_num_threads(1)
    whole, curve = train(Engine(num_envs=8, **kw), cfg, seed=5)
    ckpt = tmp_path / "ppo.safetensors"

    def kill_at_update_5(step: int, total: int, rec: dict) -> None:
        if step == 5 * 64:
            raise Killed
    with pytest.raises(Killed):
        train(Engine(num_envs=8, **kw), cfg, seed=5, progress=kill_at_update_5, ckpt=ckpt)
    assert ckpt.exists()  # written after update 4
    seen: list[int] = []
    resumed, curve2 = train(Engine(num_envs=8, **kw), cfg, seed=5, progress=lambda s, t, r: seen.append(s), ckpt=ckpt)
    assert seen == [5 * 64, 6 * 64]  # updates 1-4 came from the checkpoint, not a rerun
    assert not ckpt.exists()  # a finished loop deletes its checkpoint
    # the same episodes (counts and returns exact); losses to float tolerance (a resumed process's kernels may round
    # the last bit differently: seen on TomatoWatering: 5e-8 absolute)
    for a, b in zip(curve, curve2, strict=True):
        assert (a["step"], a["episodes"]) == (b["step"], b["episodes"])
        assert {k: v for k, v in b.items() if k != "steps_per_s"} == \
            pytest.approx({k: v for k, v in a.items() if k != "steps_per_s"}, rel=1e-5, abs=1e-6, nan_ok=True)
    for p, q in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-7)
