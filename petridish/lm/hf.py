"""Loading a local Hugging Face causal LM (`--model PATH`): config.json + safetensors weights + tokenizer.

Weights are read only from safetensors (`use_safetensors=True`), never from pickle files, and nothing is
fetched from the network.
"""

from __future__ import annotations

import os
from pathlib import Path

from petridish.errors import UserError

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


def load_hf(path: str | Path, finetune: str, lora_rank: int, device: str, dtype: str):
    """(model, HFTokenizer) from a local folder; under finetune='lora' only LoRA adapters are trainable."""
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
    return model.to(device), HFTokenizer(tok)
