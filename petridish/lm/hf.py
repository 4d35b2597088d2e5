"""Loading a local Hugging Face causal LM (`--model PATH`): config.json + safetensors weights + tokenizer.

Weights are read only from safetensors (`use_safetensors=True`), never from pickle files, and nothing is
fetched from the network. Every path that loads a folder (`run --model`, `assay --model`, a run's workers)
checks it first with `check_causal_lm_folder`. The loaded model gets TinyGPT's hook-point names (`attach_hook_points`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch.nn as nn

from petridish.errors import UserError
from petridish.hooks import HookPoint

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def check_causal_lm_folder(path: str | Path) -> None:
    """Fail early, in one line, if `path` is not a local causal-LM folder we can load and hook: config.json of a
    decoder whose blocks have the layout `attach_hook_points` needs, and safetensors weights (never pickle) whose
    names and shapes are the ones that config describes. Reads only config.json and the weight files' headers;
    the model is built on the meta device, so this costs no memory."""
    p = Path(path)
    if not p.is_dir():
        raise UserError(f"--model {p}: not a folder; give a local Hugging Face model folder "
                        f"(config.json, model.safetensors, tokenizer files)")
    if not (p / "config.json").is_file():
        raise UserError(f"--model {p}: no config.json, so this is not a Hugging Face model folder")
    model = _meta_model(p)
    _check_weights(p, model)


def _meta_model(p: Path) -> nn.Module:
    """The model config.json describes, with no storage (meta tensors): its parameter names, shapes and blocks."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    from transformers.utils import logging

    try:
        cfg = AutoConfig.from_pretrained(p, local_files_only=True)
    except Exception as e:
        raise UserError(f"--model {p}: config.json cannot be read ({_first_line(e)})") from None
    if cfg.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES or cfg.is_encoder_decoder:
        raise UserError(f"--model {p}: model_type '{cfg.model_type}' is not a causal LM; petridish needs a "
                        f"decoder-only model (e.g. llama, gpt2, qwen2, mistral)")
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # HF's notes on the config are not the user's problem here
    try:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(cfg)
    except Exception as e:  # a config with values the architecture rejects (e.g. heads not dividing the width)
        raise UserError(f"--model {p}: config.json does not describe a buildable '{cfg.model_type}' model "
                        f"({_first_line(e)})") from None
    finally:
        logging.set_verbosity(verbosity)
    try:
        decoder_layers(model)
    except ValueError as e:
        raise UserError(f"--model {p}: model_type '{cfg.model_type}' is not supported ({e}); petridish needs a "
                        f"decoder-only model such as llama, gpt2, qwen2 or mistral") from None
    return model


def _weight_files(p: Path) -> list[Path]:
    """The safetensors files `from_pretrained(use_safetensors=True)` reads: model.safetensors, else the shards
    model.safetensors.index.json names."""
    if (p / "model.safetensors").is_file():
        return [p / "model.safetensors"]
    index = p / "model.safetensors.index.json"
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise UserError(f"--model {p}: {index.name} cannot be read ({_first_line(e)})") from None
        missing = [s for s in shards if not (p / s).is_file()]
        if missing:
            raise UserError(f"--model {p}: {index.name} names {missing[0]}, which is not in the folder")
        return [p / s for s in shards]
    pickles = sorted(f.name for f in p.iterdir() if f.suffix in (".bin", ".pt", ".pth", ".ckpt", ".pkl"))
    raise UserError(f"--model {p}: no model.safetensors (or model.safetensors.index.json)"
                    + (f"; {pickles[0]} is a pickle file, which petridish never loads" if pickles else "")
                    + "; convert with `model.save_pretrained(path, safe_serialization=True)`")


def _check_weights(p: Path, model: nn.Module) -> None:
    """Every parameter of `model` is in the weight files, with its shape (a tied parameter needs one of its names)."""
    from safetensors import safe_open

    shapes: dict[str, tuple[int, ...]] = {}
    for f in _weight_files(p):
        try:
            with safe_open(str(f), "pt") as st:
                shapes.update({k: tuple(st.get_slice(k).get_shape()) for k in st.keys()})  # noqa: SIM118 (not iterable)
        except Exception as e:  # safetensors' own error types for an empty, truncated or corrupt file
            raise UserError(f"--model {p}: {f.name} cannot be read ({_first_line(e)}); the file is corrupt, "
                            f"truncated or empty") from None
    names: dict[int, list[str]] = {}  # tied parameters (GPT-2's lm_head and wte) are one tensor with two names
    params: dict[int, nn.Parameter] = {}
    for name, prm in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(prm), []).append(name)
        params[id(prm)] = prm
    prefix = model.base_model_prefix + "."
    bare = {i: [n.removeprefix(prefix) for n in ns] for i, ns in names.items()}
    if not any(k.startswith(prefix) for k in shapes) and any(n in shapes for ns in bare.values() for n in ns):
        names = bare  # weights saved from the base model (no `model.` prefix), as from_pretrained accepts
    missing = []
    for i, ns in names.items():
        found = [n for n in ns if n in shapes]
        if not found:
            missing.append(ns[0])
        elif shapes[found[0]] != tuple(params[i].shape):
            raise UserError(f"--model {p}: weight '{found[0]}' has shape {list(shapes[found[0]])} but config.json "
                            f"implies {list(params[i].shape)}; the config does not describe these weights")
    if missing:
        raise UserError(f"--model {p}: the weights lack {len(missing)} of the {len(names)} tensors config.json "
                        f"describes (e.g. '{missing[0]}'); they are not this model's weights")


def _first_line(e: Exception) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:200] if lines else type(e).__name__


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


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The model's blocks, each with an attention (`attn` or `self_attn`) and an `mlp` submodule; ValueError if the
    architecture is laid out otherwise (BERT, GPT-NeoX, ...)."""
    n = model.config.num_hidden_layers
    layers = next((m for _, m in model.named_modules() if isinstance(m, nn.ModuleList) and len(m) == n), None)
    if layers is None:
        raise ValueError(f"no list of its {n} blocks")
    for layer in layers:
        if not (hasattr(layer, "attn") or hasattr(layer, "self_attn")) or not hasattr(layer, "mlp"):
            raise ValueError(f"its blocks ({type(layer).__name__}) have no attn / self_attn and mlp submodules")
    return layers


def attach_hook_points(model: nn.Module) -> None:
    """Give a Hugging Face decoder (GPT-2, Llama and their kin, LoRA-wrapped or not) TinyGPT's hook-point names:
    `hook_embed`, `hook_pos_embed` (learned positions only), `blocks.{i}.hook_resid_pre`, `.hook_attn_out`,
    `.hook_mlp_out`, `.hook_resid_post`. The points are parameter-free modules added to the model; forward hooks on
    the HF modules route their tensors through them, so hooks on a point can read or replace the activation.
    (`hook_resid_mid` has no tensor of its own inside HF blocks, so it is absent.)"""
    n = model.config.num_hidden_layers
    layers = decoder_layers(model)
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
