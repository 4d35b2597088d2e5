"""A cross-run cache of grown models, for a stage that many runs start from unchanged (e.g. an organism's
pretraining prior): pay for it once, reuse it in every later run with the same inputs.

An entry is `<root>/<name>/<fingerprint>.safetensors`, where the fingerprint hashes everything that determines
the model (configs, seed, the source of the data generators and of the substrate, library versions, threads).
The fingerprint is also stored in the file's metadata and checked on load, so a renamed or half-copied file is
never used. The root is $PETRIDISH_CACHE, or ~/.cache/petridish; delete it at any time to free space.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from petridish import training
from petridish.errors import UserError
from petridish.lm import model, optim, sft, substrate
from petridish.lm.substrate import LM


def cache_root() -> Path:
    return Path(os.environ.get("PETRIDISH_CACHE") or Path.home() / ".cache" / "petridish")


def fingerprint(inputs: dict[str, Any], sources: tuple[ModuleType, ...] = ()) -> str:
    """A short hash of JSON-able inputs, the text of the given modules and of the substrate that trains every
    model (network, optimiser, training loop), the torch version and its thread count (which changes the order
    of floating-point reductions, hence the weights)."""
    h = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode())
    for module in (*sources, model, optim, sft, substrate, training):
        h.update(inspect.getsource(module).encode())
    h.update(f"{torch.__version__} threads={torch.get_num_threads()}".encode())
    return h.hexdigest()[:16]


def entry(name: str, fp: str) -> Path:
    return cache_root() / name / f"{fp}.safetensors"


def load_cached(lm: LM, name: str, fp: str) -> bool:
    """Load the cached model into `lm` if a valid entry exists; False if there is none (or it is unusable)."""
    path = entry(name, fp)
    if not path.is_file():
        return False
    try:
        with safe_open(str(path), "pt") as f:
            if (f.metadata() or {}).get("fingerprint") != fp:
                return False
        lm.load(path)
    except (SafetensorError, OSError, ValueError, UserError):
        return False
    return True


def store(lm: LM, name: str, fp: str) -> Path:
    """Save `lm` as the entry (atomically; concurrent writers of the same entry write identical files)."""
    path = entry(name, fp)
    lm.save(path, {"fingerprint": fp})
    return path
