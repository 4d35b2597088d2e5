"""The LM substrate: generation, masked loss, hidden states, save/load, deterministic and resumable training."""

import random

import pytest
import torch

from petridish.lm.build import ModelConfig, make_lm, make_tokenizer
from petridish.lm.model import GPTConfig
from petridish.lm.optim import make_optimizer, train_state
from petridish.lm.rl import RLConfig, train_rl
from petridish.lm.sft import SFTConfig, train_sft
from petridish.lm.substrate import LM
from petridish.lm.tokenizer import WordTokenizer

WORDS = [f"w{i}" for i in range(12)] + ["copy", ":"]


def copy_data(n=400, seed=0):
    rng = random.Random(seed)
    P, C = [], []
    for _ in range(n):
        xs = [f"w{rng.randrange(12)}" for _ in range(rng.randint(2, 4))]
        P.append("copy " + " ".join(xs) + " :")
        C.append(" ".join(xs))
    return P, C


@pytest.fixture
def lm():
    tok = WordTokenizer.build(WORDS)
    return LM.tiny(tok, GPTConfig(tok.vocab_size, 32, 32, 2, 4), seed=0)


def test_cached_generation_equals_full_recompute(lm):
    P, _ = copy_data(20)
    gen = lm.generate(P, 6)
    for prompt, got in zip(P, gen.ids):
        ids = lm.tok.encode_prompts([prompt])[0]
        out = []
        for _ in range(6):
            nxt = lm.module.head(lm.module(torch.tensor([ids + out]))[0, -1]).argmax().item()
            out.append(nxt)
            if nxt == lm.tok.eos_id:
                break
        assert got == out


def test_sampling_is_deterministic_for_a_seed(lm):
    P, _ = copy_data(30)
    a = lm.generate(P, 6, temperature=1.0, seed=3).ids
    assert a == lm.generate(P, 6, temperature=1.0, seed=3).ids
    assert a != lm.generate(P, 6, temperature=1.0, seed=4).ids


def test_loss_ignores_prompt_tokens(lm):
    a = lm.encode(["copy w1 w2 :"], ["w1 w2"])
    b = lm.encode(["copy w5 w7 w9 w3 :"], ["w1 w2"])
    # change the prompt: the loss is over completion tokens only, so it is defined on the same 3 targets
    assert a.mask.sum() == b.mask.sum() == 3
    assert torch.isfinite(lm.loss(a)) and torch.isfinite(lm.loss(b))


def test_hidden_states_shape_and_left_padding_invariance(lm):
    hs = lm.hidden_states(["copy w1 :", "copy w1 w2 w3 w4 :"])
    assert hs.shape == (3, 2, 32)
    alone = lm.hidden_states(["copy w1 :"])
    torch.testing.assert_close(hs[:, 0], alone[:, 0], atol=1e-5, rtol=1e-4)


def test_training_learns_and_is_deterministic(lm, tmp_path):
    P, C = copy_data()
    data = lm.encode(P, C)
    cfg = SFTConfig(steps=120, lr=3e-3, batch_size=32, warmup=10)
    before = lm.loss(data.take(torch.arange(64))).item()
    train_sft(lm, data, cfg, seed=1, phase="t")
    after = lm.loss(data.take(torch.arange(64))).item()
    assert after < 0.5 * before
    lm.save(tmp_path / "m.safetensors")
    tok = lm.tok
    twin = LM.tiny(tok, GPTConfig(tok.vocab_size, 32, 32, 2, 4), seed=0)
    train_sft(twin, data, cfg, seed=1, phase="t")
    for (k, v), (_, w) in zip(lm.state_tensors().items(), twin.state_tensors().items()):
        assert torch.equal(v, w), k
    fresh = LM.tiny(tok, GPTConfig(tok.vocab_size, 32, 32, 2, 4), seed=5).load(tmp_path / "m.safetensors")
    assert fresh.generate(P[:20], 6).ids == lm.generate(P[:20], 6).ids


def test_resumed_training_matches_uninterrupted(tmp_path):
    tok = WordTokenizer.build(WORDS)
    P, C = copy_data()

    def fresh():
        return LM.tiny(tok, GPTConfig(tok.vocab_size, 32, 32, 2, 4), seed=0)

    cfg = SFTConfig(steps=40, lr=3e-3, batch_size=16, ckpt_every=15)
    full = fresh()
    train_sft(full, full.encode(P, C), cfg, seed=2, phase="t")

    class Killed(Exception):
        pass

    class KillAt31:  # dies after step 31, i.e. after the step-30 checkpoint
        def progress(self, step, total, phase="", **fields):
            if step == 31:
                raise Killed

        def log(self, *args, **kwargs):
            pass

    ckpt = tmp_path / "state.safetensors"
    with pytest.raises(Killed):
        part = fresh()
        train_sft(part, part.encode(P, C), cfg, seed=2, phase="t", reporter=KillAt31(), ckpt=ckpt)
    probe = fresh()
    assert train_state(ckpt, probe, make_optimizer(probe, cfg.lr, cfg.weight_decay)).load()[0] == 30
    resumed = fresh()
    train_sft(resumed, resumed.encode(P, C), cfg, seed=2, phase="t", ckpt=ckpt)
    assert not ckpt.exists()  # a finished training deletes its in-training state
    for (k, v), (_, w) in zip(full.state_tensors().items(), resumed.state_tensors().items()):
        assert torch.equal(v, w), k


def test_rl_raises_reward(lm):
    P, C = copy_data(200)
    train_sft(lm, lm.encode(P, C), SFTConfig(steps=60, lr=3e-3, batch_size=32), seed=0, phase="warm")
    target = lm.tok.encode_completions(["w3"])[0][0]

    def reward(idx, completions):  # reward saying w3 first: a behaviour the SFT data does not prefer
        return [1.0 if c.split()[:1] == ["w3"] else 0.0 for c in completions]

    def rate():
        g = lm.generate(P[:100], 4, temperature=1.0, seed=9)
        return sum(ids[:1] == [target] for ids in g.ids) / 100

    before = rate()
    train_rl(lm, P, reward, RLConfig(steps=25, prompts_per_step=8, samples_per_prompt=8, lr=3e-3, kl_coef=0.0,
                                     max_new_tokens=4), seed=0, phase="rl")
    assert rate() > before + 0.2


def test_model_config_builds_tiny_by_default():
    cfg = ModelConfig(d_model=16, n_layers=1, n_heads=2, max_len=16)
    tok = make_tokenizer(cfg, WORDS)
    lm = make_lm(cfg, tok, seed=0)
    assert lm.kind == "tiny" and lm.n_layers == 1
