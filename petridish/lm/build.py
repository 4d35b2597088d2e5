"""The model section of an LM organism's config, and building the model it describes."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

import torch
from pydantic import Field, model_validator

from petridish.config import Strict
from petridish.lm.model import GPTConfig
from petridish.lm.substrate import LM
from petridish.lm.tokenizer import TextTokenizer, WordTokenizer


class ModelConfig(Strict):
    """TinyGPT trained from scratch (default), or a local Hugging Face causal LM when `path` is set."""

    path: str | None = None
    """Local Hugging Face causal-LM folder (what `--model PATH` sets). None = TinyGPT from scratch."""
    d_model: int = Field(default=128, ge=8)
    n_layers: int = Field(default=3, ge=1)
    n_heads: int = Field(default=4, ge=1)
    max_len: int = Field(default=96, ge=8)
    finetune: Literal["full", "lora"] = "full"
    """For Hugging Face models: train all weights, or LoRA adapters (peft)."""
    lora_rank: int = Field(default=8, ge=1)
    chat: bool = False
    """For Hugging Face models: prompts are rendered with the model's chat template (natural-language organisms)."""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    """Weights of a Hugging Face model: auto = bfloat16 on a GPU that supports it, else float32."""

    @model_validator(mode="after")
    def _heads_divide_width(self) -> ModelConfig:
        if self.path is None:
            check_heads(self.d_model, self.n_heads)
        return self


def check_heads(d_model: int, n_heads: int) -> None:
    """Attention splits the width evenly between the heads."""
    if d_model % n_heads:
        raise ValueError(f"n_heads {n_heads} does not divide d_model {d_model}; choose a divisor of d_model")


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str, device: str) -> str:
    if dtype == "auto":
        return "bfloat16" if device.startswith("cuda") and torch.cuda.is_bf16_supported() else "float32"
    return dtype


def make_tokenizer(cfg: ModelConfig, words: Iterable[str]) -> TextTokenizer:
    """A word-level tokenizer over the organism's words, or the --model checkpoint's own tokenizer."""
    if cfg.path:
        return hf_tokenizer(cfg.path, cfg.chat)
    return WordTokenizer.build(words)


def hf_tokenizer(path: str, chat: bool = False) -> TextTokenizer:
    from transformers import AutoTokenizer

    from petridish.lm.hf import check_causal_lm_folder
    from petridish.lm.tokenizer import HFTokenizer

    check_causal_lm_folder(path)
    return HFTokenizer(AutoTokenizer.from_pretrained(path, local_files_only=True), chat)


def make_lm(cfg: ModelConfig, tok: TextTokenizer, seed: int) -> LM:
    """A fresh model: TinyGPT initialised from `seed`, or the --model checkpoint's pretrained weights."""
    device = resolve_device(cfg.device)
    if cfg.path:
        from petridish.lm.hf import load_hf

        module, hf_tok = load_hf(cfg.path, cfg.finetune, cfg.lora_rank, device, resolve_dtype(cfg.dtype, device),
                                 cfg.chat)
        torch.manual_seed(seed)
        return LM(module, hf_tok, "hf", device)
    gcfg = GPTConfig(tok.vocab_size, cfg.max_len, cfg.d_model, cfg.n_layers, cfg.n_heads)
    return LM.tiny(tok, gcfg, seed, device)


@lru_cache(maxsize=4)
def run_tokenizer(run_path: str, hf_path: str | None, chat: bool = False) -> TextTokenizer:
    """The tokenizer of a run: the HF model's own, or the word tokenizer saved in the run folder (cached: every
    job of a worker process reuses it)."""
    return hf_tokenizer(hf_path, chat) if hf_path else WordTokenizer.load(f"{run_path}/tokenizer.json")
