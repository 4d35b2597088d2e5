"""Loading a local Hugging Face causal LM (`--model PATH`): config.json + safetensors weights + tokenizer.

Weights are read only from safetensors (`use_safetensors=True`), never from pickle files, and nothing is
fetched from the network. The loaded model gets TinyGPT's hook-point names (`attach_hook_points`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch.nn as nn

from petridish.errors import UserError
from petridish.hooks import HookPoint

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def check_causal_lm_folder(path: str | Path) -> None:
    """Fail early, in one line, if `path` is not a local causal-LM folder we can load."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    p = Path(path)
    if not p.is_dir():
        raise UserError(f"--model {p}: not a folder; give a local Hugging Face model folder "
                        f"(config.json, *.safetensors, tokenizer files)")
    if not (p / "config.json").is_file():
        raise UserError(f"--model {p}: no config.json, so this is not a Hugging Face model folder")
    try:
        cfg = AutoConfig.from_pretrained(p, local_files_only=True)
    except Exception as e:
        raise UserError(f"--model {p}: config.json cannot be read ({str(e).splitlines()[0]})") from None
    if cfg.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise UserError(f"--model {p}: model_type '{cfg.model_type}' is not a causal LM; petridish needs a "
                        f"decoder-only model (e.g. llama, gpt2, qwen2, mistral)")
    if not any(p.glob("*.safetensors")):
        raise UserError(f"--model {p}: no *.safetensors weights (petridish does not load pickle .bin files; "
                        f"convert with `model.save_pretrained(path, safe_serialization=True)`)")


def load_hf(path: str | Path, finetune: str, lora_rank: int, device: str, dtype: str, chat: bool = False):
    """(model, HFTokenizer) from a local folder; under finetune='lora' only LoRA adapters are trainable. chat: the
    prompts will be chat-template text (see `HFTokenizer`)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from petridish.lm.tokenizer import HFTokenizer

    check_causal_lm_folder(path)
    try:
        tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as e:
        raise UserError(f"--model {path}: tokenizer cannot be loaded ({str(e).splitlines()[0]})") from None
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, local_files_only=True, use_safetensors=True, dtype=getattr(torch, dtype)
        )
    except Exception as e:
        raise UserError(f"--model {path}: weights cannot be loaded ({str(e).splitlines()[0]}); the checkpoint "
                        f"may be corrupt or incomplete") from None
    if finetune == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=lora_rank, lora_alpha=2 * lora_rank, target_modules="all-linear"))
    attach_hook_points(model)
    return model.to(device), HFTokenizer(tok, chat)


class _Route:
    """A forward hook that passes a module's output tensor (the first item of a tuple) through a hook point."""

    def __init__(self, point: HookPoint):
        self.point = point  # an attribute, not a closure, so `copy.deepcopy(model)` reroutes to the copy's point

    def __call__(self, module: nn.Module, args: tuple, out):
        return (self.point(out[0]), *out[1:]) if isinstance(out, tuple) else self.point(out)


class _RouteInput(_Route):
    """A forward pre-hook that passes a block's input hidden states through a hook point."""

    def __call__(self, module: nn.Module, args: tuple, kwargs: dict):
        if args:
            return (self.point(args[0]), *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": self.point(kwargs["hidden_states"])}


class _BlockPoints(nn.Module):
    def __init__(self):
        super().__init__()
        self.hook_resid_pre, self.hook_attn_out = HookPoint(), HookPoint()
        self.hook_mlp_out, self.hook_resid_post = HookPoint(), HookPoint()


def attach_hook_points(model: nn.Module) -> None:
    """Give a Hugging Face decoder (GPT-2, Llama and their kin, LoRA-wrapped or not) TinyGPT's hook-point names:
    `hook_embed`, `hook_pos_embed` (learned positions only), `blocks.{i}.hook_resid_pre`, `.hook_attn_out`,
    `.hook_mlp_out`, `.hook_resid_post`. The points are parameter-free modules added to the model; forward hooks on
    the HF modules route their tensors through them, so hooks on a point can read or replace the activation.
    (`hook_resid_mid` has no tensor of its own inside HF blocks, so it is absent.)"""
    n = model.config.num_hidden_layers
    layers = next(m for _, m in model.named_modules() if isinstance(m, nn.ModuleList) and len(m) == n)  # blocks
    model.hook_embed = HookPoint()
    model.get_input_embeddings().register_forward_hook(_Route(model.hook_embed))
    wpe = [m for name, m in model.named_modules() if name.endswith("wpe")]  # GPT-2's learned positions
    if wpe:
        model.hook_pos_embed = HookPoint()
        wpe[0].register_forward_hook(_Route(model.hook_pos_embed))
    model.blocks = nn.ModuleList(_BlockPoints() for _ in range(n))
    for layer, points in zip(layers, model.blocks):
        layer.register_forward_pre_hook(_RouteInput(points.hook_resid_pre), with_kwargs=True)
        layer.register_forward_hook(_Route(points.hook_resid_post))
        attn = layer.attn if hasattr(layer, "attn") else layer.self_attn
        attn.register_forward_hook(_Route(points.hook_attn_out))
        layer.mlp.register_forward_hook(_Route(points.hook_mlp_out))
