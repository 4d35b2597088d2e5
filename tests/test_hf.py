"""A local Hugging Face causal LM through the same substrate interface (a tiny random Llama saved by the test)."""

import torch
from helpers import save_tiny_llama

from petridish.lm.build import ModelConfig, make_lm, make_tokenizer
from petridish.lm.sft import SFTConfig, train_sft

WORDS = [f"w{i}" for i in range(12)] + ["copy", ":"]


def test_hf_model_loss_generate_hidden_save_load(tmp_path):
    folder = save_tiny_llama(tmp_path / "llama", WORDS)
    cfg = ModelConfig(path=str(folder), device="cpu")
    tok = make_tokenizer(cfg, [])
    lm = make_lm(cfg, tok, seed=0)
    assert lm.kind == "hf" and lm.n_layers == 2
    batch = lm.encode(["copy w1 w2 :"] * 4, ["w1 w2"] * 4)
    assert torch.isfinite(lm.loss(batch))
    gen = lm.generate(["copy w1 :", "copy w1 w2 w3 :"], 5, temperature=1.0, seed=0)
    assert len(gen.texts) == 2 and all(len(ids) <= 5 for ids in gen.ids)
    hs = lm.hidden_states(["copy w1 :", "copy w1 w2 w3 :"])
    assert hs.shape == (3, 2, 32)
    before = lm.loss(batch).item()
    train_sft(lm, batch, SFTConfig(steps=20, lr=1e-2, batch_size=4, warmup=0), seed=0, phase="t")
    assert lm.loss(batch).item() < before
    lm.save(tmp_path / "m.safetensors")
    other = make_lm(cfg, tok, seed=0).load(tmp_path / "m.safetensors")
    assert abs(other.loss(batch).item() - lm.loss(batch).item()) < 1e-5


def test_hf_lora_trains_only_adapters(tmp_path):
    folder = save_tiny_llama(tmp_path / "llama", WORDS)
    cfg = ModelConfig(path=str(folder), finetune="lora", lora_rank=4, device="cpu")
    lm = make_lm(cfg, make_tokenizer(cfg, []), seed=0)
    trainable = lm.trainable_parameters()
    assert trainable and sum(p.numel() for p in trainable) < 0.5 * lm.n_params()
    assert all("lora" in k for k in lm.state_tensors())
    batch = lm.encode(["copy w1 w2 :"] * 4, ["w1 w2"] * 4)
    before = lm.loss(batch).item()
    train_sft(lm, batch, SFTConfig(steps=20, lr=1e-2, batch_size=4, warmup=0), seed=0, phase="t")
    assert lm.loss(batch).item() < before


def test_dtype_auto_is_bfloat16_only_on_a_gpu_that_supports_it(monkeypatch):
    from petridish.lm.build import resolve_dtype

    assert resolve_dtype("auto", "cpu") == "float32"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert resolve_dtype("auto", "cuda") == "bfloat16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert resolve_dtype("auto", "cuda") == "float32"
    assert resolve_dtype("bfloat16", "cpu") == "bfloat16"  # an explicit choice is kept
