"""Seed-batched TinyGPT SFT (petridish.lm.batched) against the unbatched trainer it must reproduce."""

from __future__ import annotations

import pytest
import torch

from petridish.errors import UserError
from petridish.lm.batched import SeedStack, stack_batches, train_sft_seeds
from petridish.lm.model import GPTConfig
from petridish.lm.sft import SFTConfig, train_sft
from petridish.lm.substrate import LM, Encoded
from petridish.lm.tokenizer import WordTokenizer

WORDS = [f"w{i}" for i in range(20)]
TOK = WordTokenizer.build(WORDS)
CFG = GPTConfig(TOK.vocab_size, 32, 16, 2, 2)
SEEDS = [3, 7, 11]
SFT = SFTConfig(steps=30, batch_size=8, lr=3e-3, warmup=3, ckpt_every=0)


def reversal(seed: int) -> Encoded:
    """Prompts of 2-7 words and their reversals: each seed its own data, of different lengths."""
    g = torch.Generator().manual_seed(seed)
    prompts, completions = [], []
    for _ in range(40):
        seq = [WORDS[int(j)] for j in torch.randint(0, 20, (int(torch.randint(2, 8, (1,), generator=g)),), generator=g)]
        prompts.append(" ".join(seq))
        completions.append(" ".join(reversed(seq)))
    return LM.tiny(TOK, CFG, 0).encode(prompts, completions)


def max_diff(a: LM, b: LM) -> float:
    return max((p - q).abs().max().item() for p, q in zip(a.module.parameters(), b.module.parameters()))


def test_first_step_loss_matches_each_seed_alone():
    lms, datas = [LM.tiny(TOK, CFG, s) for s in SEEDS], [reversal(s) for s in SEEDS]
    batches = [d.take(torch.arange(i, i + 6)) for i, d in enumerate(datas)]
    batched = SeedStack(lms).loss(*stack_batches(batches, TOK.pad_id))
    alone = torch.stack([lm.loss(b) for lm, b in zip(lms, batches)])
    assert torch.allclose(batched, alone, atol=1e-5)
    assert len(set(b.ids.shape[1] for b in batches)) > 1  # padding to the longest seed was exercised


def test_smoke_run_matches_unbatched_and_is_reproducible(tmp_path):
    datas = [reversal(s) for s in SEEDS]
    alone = [LM.tiny(TOK, CFG, s) for s in SEEDS]
    hist_alone = [train_sft(lm, d, SFT, s, "x", eval_fn=lambda i, lm=lm, d=d: {"loss": lm.loss(d).item()})
                  for lm, d, s in zip(alone, datas, SEEDS)]
    runs = []
    for _ in range(2):
        lms = [LM.tiny(TOK, CFG, s) for s in SEEDS]
        evals = [lambda i, lm=lm, d=d: {"loss": lm.loss(d).item()} for lm, d in zip(lms, datas)]
        runs.append((lms, train_sft_seeds(lms, datas, SFT, SEEDS, "x", eval_fns=evals)))
    (lms, hist), (lms2, hist2) = runs
    for a, b, b2 in zip(alone, lms, lms2):
        assert max_diff(a, b) < 1e-5  # the whole smoke run stays within float rounding of the unbatched one
        assert max_diff(b, b2) == 0.0  # same config and seeds -> same numbers
    for ha, hb in zip(hist_alone, hist):
        assert [h["step"] for h in hb] == [0, 30]
        assert hb[0]["loss"] == pytest.approx(ha[0]["loss"], abs=1e-6)
        assert hb[-1]["loss"] == pytest.approx(ha[-1]["loss"], abs=1e-4)
        assert hb[-1]["loss"] < hb[0]["loss"] - 0.2  # it learned
    lms[1].save(tmp_path / "seed7.safetensors")  # a seed's checkpoint loads into the unbatched code
    assert max_diff(LM.tiny(TOK, CFG, 0).load(tmp_path / "seed7.safetensors"), alone[1]) < 1e-5


def test_resume_after_a_kill_gives_the_uninterrupted_run(tmp_path):
    datas, cfg = [reversal(s) for s in SEEDS[:2]], SFT.model_copy(update={"ckpt_every": 10})
    whole = [LM.tiny(TOK, CFG, s) for s in SEEDS[:2]]
    train_sft_seeds(whole, datas, cfg, SEEDS[:2], "x", ckpt=tmp_path / "group.safetensors")

    class Kill(Exception):
        pass

    def kill_at_15(i: int) -> dict:
        if i == 15:
            raise Kill
        return {}

    killed = [LM.tiny(TOK, CFG, s) for s in SEEDS[:2]]
    with pytest.raises(Kill):
        train_sft_seeds(killed, datas, cfg.model_copy(update={"eval_at": [15]}), SEEDS[:2], "x",
                        eval_fns=[kill_at_15, kill_at_15], ckpt=tmp_path / "group2.safetensors")
    assert (tmp_path / "group2.safetensors").exists()
    with pytest.raises(UserError, match="another seed group"):  # the same file, resumed with other seeds
        train_sft_seeds([LM.tiny(TOK, CFG, s) for s in SEEDS[1::-1]], datas[::-1], cfg, SEEDS[1::-1], "x",
                        ckpt=tmp_path / "group2.safetensors")
    resumed = [LM.tiny(TOK, CFG, s) for s in SEEDS[:2]]
    train_sft_seeds(resumed, datas, cfg, SEEDS[:2], "x", ckpt=tmp_path / "group2.safetensors")
    assert all(max_diff(a, b) == 0.0 for a, b in zip(whole, resumed))
    assert not (tmp_path / "group2.safetensors").exists()


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="one data set"):
        train_sft_seeds([LM.tiny(TOK, CFG, 1)], [], SFT, [1], "x")
