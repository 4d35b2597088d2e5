"""Named hook points on TinyGPT and on Hugging Face GPT-2 / Llama: the names exist, capture returns the real
activations (checked against the model's own outputs), a hook can replace an activation, and copies reroute."""

import pytest
import torch
from helpers import save_tiny_gpt2, save_tiny_llama

from petridish.hooks import capture, hook_names
from petridish.lm.build import ModelConfig, make_lm, make_tokenizer
from petridish.lm.model import GPTConfig
from petridish.lm.substrate import LM
from petridish.lm.tokenizer import WordTokenizer

WORDS = [f"w{i}" for i in range(12)] + ["copy", ":"]
PROMPTS = ["copy w1 :", "copy w1 w2 w3 :", "copy w4 w4 :"]
BLOCK = ("hook_resid_pre", "hook_attn_out", "hook_mlp_out", "hook_resid_post")


def tiny() -> LM:
    tok = WordTokenizer.build(WORDS)
    return LM.tiny(tok, GPTConfig(tok.vocab_size, 32, 32, 2, 4), seed=0)


def hf(tmp_path, kind: str, lora: bool = False) -> LM:
    save = save_tiny_llama if kind == "llama" else save_tiny_gpt2
    cfg = ModelConfig(path=str(save(tmp_path / kind, WORDS)), device="cpu", finetune="lora" if lora else "full")
    return make_lm(cfg, make_tokenizer(cfg, []), seed=0)


def test_tinygpt_hook_points_add_up_to_the_residual_stream():
    lm = tiny()
    names = hook_names(lm.module)
    assert {"hook_embed", "hook_pos_embed", "blocks.1.hook_resid_mid"} | {f"blocks.1.{n}" for n in BLOCK} <= set(names)
    ids = torch.tensor([[3, 4, 5, 6]])
    with capture(lm.module, names) as a:
        final = lm.module(ids)  # [1, 4, d]
    torch.testing.assert_close(a["blocks.0.hook_resid_pre"], a["hook_embed"] + a["hook_pos_embed"])
    for i in range(2):
        b = f"blocks.{i}."
        torch.testing.assert_close(a[b + "hook_resid_mid"], a[b + "hook_resid_pre"] + a[b + "hook_attn_out"])
        torch.testing.assert_close(a[b + "hook_resid_post"], a[b + "hook_resid_mid"] + a[b + "hook_mlp_out"])
    torch.testing.assert_close(a["blocks.1.hook_resid_pre"], a["blocks.0.hook_resid_post"])
    torch.testing.assert_close(lm.module.ln(a["blocks.1.hook_resid_post"]), final)
    with pytest.raises(KeyError), capture(lm.module, ["blocks.7.hook_resid_post"]):
        pass


def test_a_hook_point_can_patch_the_activation():
    lm = tiny()
    ids = torch.tensor([[3, 4, 5]])
    clean = lm.module(ids)
    h = lm.module.get_submodule("blocks.0.hook_mlp_out").register_forward_hook(lambda m, i, o: torch.zeros_like(o))
    patched = lm.module(ids)
    h.remove()
    assert not torch.allclose(clean, patched)
    torch.testing.assert_close(lm.module(ids), clean)


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_hf_hook_points_match_output_hidden_states(tmp_path, kind):
    lm = hf(tmp_path, kind)
    names = hook_names(lm.module)
    assert "hook_embed" in names and all(f"blocks.{i}.{n}" in names for i in range(2) for n in BLOCK)
    assert ("hook_pos_embed" in names) == (kind == "gpt2")
    ids, mask = lm._left_pad(lm.tok.encode_prompts(PROMPTS))
    with capture(lm.module, names) as a:
        out = lm.module(input_ids=ids, attention_mask=mask.long(), output_hidden_states=True)
    hs = out.hidden_states  # embeddings, then each block; HF applies the final norm to the last one
    torch.testing.assert_close(a["blocks.0.hook_resid_pre"], hs[0])
    torch.testing.assert_close(a["blocks.1.hook_resid_pre"], a["blocks.0.hook_resid_post"])
    torch.testing.assert_close(a["blocks.0.hook_resid_post"], hs[1])
    final_norm = lm.module.transformer.ln_f if kind == "gpt2" else lm.module.model.norm
    torch.testing.assert_close(final_norm(a["blocks.1.hook_resid_post"]), hs[2])
    if kind == "gpt2":
        torch.testing.assert_close(a["blocks.0.hook_resid_pre"], a["hook_embed"] + a["hook_pos_embed"])
    assert lm.hidden_states(PROMPTS).shape == (3, 3, 32)


def test_hf_patching_clone_and_lora(tmp_path):
    lm = hf(tmp_path, "llama")
    ids = torch.tensor([[4, 5, 6]])
    clean = lm.module(input_ids=ids).logits
    h = lm.module.get_submodule("blocks.1.hook_attn_out").register_forward_hook(lambda m, i, o: o * 0)
    assert not torch.allclose(lm.module(input_ids=ids).logits, clean)
    h.remove()
    other = lm.clone()  # a deep copy routes its activations through its own hook points
    with torch.no_grad():
        for p in other.module.parameters():
            p.add_(0.1)
    name = "blocks.1.hook_resid_post"
    with capture(lm.module, [name]) as a, capture(other.module, [name]) as b:
        lm.module(input_ids=ids)
        other.module(input_ids=ids)
    assert set(a) == set(b) == {name} and not torch.allclose(a[name], b[name])
    lora = hf(tmp_path, "llama", lora=True)
    assert "blocks.1.hook_resid_post" in hook_names(lora.module)
    assert lora.hidden_states(PROMPTS).shape == (3, 3, 32)
