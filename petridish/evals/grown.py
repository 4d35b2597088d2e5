"""A grown organism as a model to evaluate: its run folder and checkpoint, its LM rebuilt from them, and the
prompt format of its corpus (how chat messages become the text it was trained on)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from safetensors import safe_open

from petridish.errors import UserError


@dataclass(frozen=True)
class Grown:
    """Where a grown model lives: its run folder, organism, checkpoint (relative to checkpoints/) and file."""

    run: Path
    organism: str
    job: str
    checkpoint: Path
    chat: bool = False  # grown in natural language: prompts are written in the model's chat template


def _run_of(path: Path) -> Path:
    for p in (path, *path.parents):
        if (p / "config.yaml").is_file():
            return p
    raise UserError(f"{path} is not in a petridish run folder (no config.yaml here or above it)")


def locate(ref: str, job: str | None = None) -> Grown:
    """A run folder (its default checkpoint, or `job`) or a checkpoint file inside a run folder."""
    from petridish.experiment import load_config
    from petridish.runs import RunDir

    path = Path(ref).expanduser()
    if not path.exists():
        raise UserError(f"model {ref}: no such file or folder; give a petridish run folder or a checkpoint in one")
    run = _run_of(path.resolve())
    org, cfg = load_config(RunDir.open(run))
    chat = getattr(cfg, "language", "toy") == "natural"
    if org.substrate != "lm":
        raise UserError(f"model {ref}: a run of '{org.name}', which grows in the '{org.substrate}' substrate; "
                        f"only language-model organisms can be served to Inspect")
    if path.is_file():
        ckpt = path.resolve()
        return Grown(run, org.name, str(ckpt.parent.relative_to(run / "checkpoints")), ckpt, chat)
    if org.entry.inspect is None:
        raise UserError(f"model {ref}: a run of '{org.name}', which has no Inspect assay to serve")
    key = job or org.entry.inspect.served_job.format(seed=cfg.seeds[0])
    ckpt = run / "checkpoints" / key / "model.safetensors"
    if not ckpt.is_file():
        have = sorted(str(p.parent.relative_to(run / "checkpoints"))
                      for p in run.glob("checkpoints/**/model.safetensors"))
        raise UserError(f"model {ref}: no checkpoint '{key}'; choose one with -M job=KEY from: "
                        f"{', '.join(have) or '(none: the run has not finished a job)'}")
    return Grown(run, org.name, key, ckpt, chat)


def load_lm(g: Grown, device: str = "auto"):
    """The checkpoint's LM with the run's tokenizer: TinyGPT of the size the checkpoint records, or the run's
    Hugging Face model (with its LoRA adapters when it was fine-tuned with LoRA)."""
    from petridish.experiment import load_config
    from petridish.lm.build import make_lm, resolve_device, run_tokenizer
    from petridish.lm.model import GPTConfig
    from petridish.lm.substrate import LM
    from petridish.runs import RunDir

    _, cfg = load_config(RunDir.open(g.run))
    cfg = cfg.effective()
    tok = run_tokenizer(str(g.run), cfg.model.path, cfg.model.chat)
    try:
        with safe_open(str(g.checkpoint), "pt") as f:
            meta = f.metadata() or {}
    except Exception as e:  # safetensors raises its own error types for a bad header
        raise UserError(f"checkpoint {g.checkpoint} is corrupt ({str(e).splitlines()[0]})") from None
    device = resolve_device(device)
    if meta.get("petridish_kind") == "tiny":
        lm = LM.tiny(tok, GPTConfig(**json.loads(meta["gpt_config"])), seed=0, device=device)
    else:
        lm = make_lm(cfg.model.model_copy(update={"device": device}), tok, seed=0)
    lm.load(g.checkpoint)
    lm.module.eval()
    return lm


def render(organism: str, turns: list[tuple[str, str]]) -> str:
    """The prompt text for (role, text) turns in the organism's corpus format; system text counts as user text."""
    from petridish import organisms

    spec = organisms.entry(organism).inspect
    if spec is None or spec.prompt_format is None:  # plain-text corpora
        return " ".join(t for _, t in turns).strip()
    merged: list[list[str]] = []  # consecutive system / user turns become one user turn
    for role, text in turns:
        role = "assistant" if role == "assistant" else "user"
        if merged and merged[-1][0] == role:
            merged[-1][1] += " " + text
        else:
            merged.append([role, text])
    user, assistant, gen = spec.prompt_format
    return ("".join((assistant if role == "assistant" else user).format(text) for role, text in merged) + gen).strip()
