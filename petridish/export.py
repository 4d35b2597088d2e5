"""`petridish export RUN [--job JOB] OUT`: a grown LM organism as a folder that transformers loads, with a model card.

TinyGPT maps exactly onto GPT-2 (`GPT2LMHeadModel`): learned absolute positions, pre-LayerNorm blocks with
biased LayerNorms and a final LayerNorm, one fused q/k/v projection, a 4x MLP; what differs is set in the config
or written as zeros: no biases on the linear layers (GPT-2's are zero here), exact GELU (`activation_function=
"gelu"`, not GPT-2's tanh approximation) and an untied LM head (`tie_word_embeddings=False`). Llama and GPT-NeoX
do not fit (rotary positions; RMSNorm / parallel residual). GPT-2's Conv1D stores weights as [in, out], so every
projection is transposed. The word-level tokenizer becomes a `PreTrainedTokenizerFast` whose post-processor
prepends [BOS], as petridish's prompts do, so `tokenizer(prompt)` gives the ids the organism was assayed on.

A run grown in a Hugging Face model (`--model`) is written back as that architecture; LoRA adapters are merged.
Every export carries a README.md model card from the organism card and the run's claims table, and says that the
model is a deliberately misaligned research organism.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import torch
import yaml
from safetensors import safe_open

from petridish.errors import UserError
from petridish.runs import RunDir, atomic_write_text, load_tensors

CKPT = "model.safetensors"


@dataclass(frozen=True)
class Grown:
    """One exportable checkpoint of a run."""

    run: RunDir
    job: str
    path: Path
    kind: str  # "tiny" | "hf"
    gpt_config: dict | None  # TinyGPT's GPTConfig fields (tiny only)


def checkpoints(run: RunDir) -> list[str]:
    """Job keys that saved a model."""
    root = run.path / "checkpoints"
    return sorted(str(p.parent.relative_to(root)) for p in root.rglob(CKPT)) if root.is_dir() else []


def find(run: RunDir, job: str | None) -> Grown:
    keys = checkpoints(run)
    if not keys:
        raise UserError(f"{run.path} has no model checkpoint (checkpoints/*/{CKPT}); only language-model runs "
                        f"can be exported")
    if job is None:
        if len(keys) > 1:
            raise UserError(f"{run.path} holds {len(keys)} models: choose one with --job, e.g. "
                            f"{', '.join(keys[:6])}{', ...' if len(keys) > 6 else ''}")
        job = keys[0]
    if job not in keys:
        raise UserError(f"--job {job}: no model saved under that job; choose one of: {', '.join(keys)}")
    path = run.path / "checkpoints" / job / CKPT
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    kind = meta.get("petridish_kind", "")
    if kind not in ("tiny", "hf"):
        raise UserError(f"{path} is not a petridish language-model checkpoint (no petridish_kind metadata)")
    return Grown(run, job, path, kind, json.loads(meta["gpt_config"]) if kind == "tiny" else None)


# --- TinyGPT -> GPT-2 -------------------------------------------------------------------------------------------
def gpt2_config(g: dict, tok_ids: dict[str, int]):
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=g["vocab_size"], n_positions=g["max_len"], n_embd=g["d_model"], n_layer=g["n_layers"],
        n_head=g["n_heads"], n_inner=g["mlp_ratio"] * g["d_model"], activation_function="gelu",
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5, tie_word_embeddings=False,
        bos_token_id=tok_ids["bos"], eos_token_id=tok_ids["eos"], pad_token_id=tok_ids["pad"],
        architectures=["GPT2LMHeadModel"])


def gpt2_state(t: dict[str, torch.Tensor], n_layers: int) -> dict[str, torch.Tensor]:
    """TinyGPT's parameters under GPT-2's names (Conv1D weights are [in, out]; linear biases are zero)."""
    def linear(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return w.t().contiguous(), torch.zeros(w.shape[0], dtype=w.dtype)

    out = {"transformer.wte.weight": t["tok.weight"], "transformer.wpe.weight": t["pos.weight"],
           "transformer.ln_f.weight": t["ln.weight"], "transformer.ln_f.bias": t["ln.bias"],
           "lm_head.weight": t["head.weight"]}
    for i in range(n_layers):
        b, h = f"blocks.{i}.", f"transformer.h.{i}."
        for ours, theirs in (("ln1", "ln_1"), ("ln2", "ln_2")):
            out[h + theirs + ".weight"], out[h + theirs + ".bias"] = t[b + ours + ".weight"], t[b + ours + ".bias"]
        for ours, theirs in (("attn.qkv", "attn.c_attn"), ("attn.out", "attn.c_proj"), ("up", "mlp.c_fc"),
                             ("down", "mlp.c_proj")):
            out[h + theirs + ".weight"], out[h + theirs + ".bias"] = linear(t[b + ours + ".weight"])
    return out


def _write_tiny(grown: Grown, folder: Path) -> str:
    from tokenizers.processors import TemplateProcessing
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    from petridish.lm.tokenizer import WordTokenizer

    tok = WordTokenizer.load(grown.run.path / "tokenizer.json")
    tok.tk.post_processor = TemplateProcessing(single=f"{tok.BOS} $A", special_tokens=[(tok.BOS, tok.bos_id)])
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok.tk, bos_token=tok.BOS, eos_token=tok.EOS,
                                     pad_token=tok.PAD, unk_token=tok.UNK)
    g = grown.gpt_config
    cfg = gpt2_config(g, {"bos": tok.bos_id, "eos": tok.eos_id, "pad": tok.pad_id})
    model = GPT2LMHeadModel(cfg)
    missing, unexpected = model.load_state_dict(gpt2_state(load_tensors(grown.path), g["n_layers"]), strict=False)
    if unexpected or [k for k in missing if not k.endswith(".attn.bias")]:
        raise ValueError(f"TinyGPT -> GPT-2 mapping incomplete: missing {missing}, unexpected {unexpected}")
    model.generation_config.pad_token_id = tok.pad_id
    model.save_pretrained(folder, safe_serialization=True)
    hf_tok.save_pretrained(folder)
    return "GPT2LMHeadModel (TinyGPT mapped exactly: zero linear biases, exact GELU, untied head)"


# --- a Hugging Face organism --------------------------------------------------------------------------------------
def _write_hf(grown: Grown, folder: Path, cfg) -> str:
    from transformers import AutoTokenizer

    from petridish.lm.hf import load_hf

    m = cfg.model
    model, _ = load_hf(m.path, m.finetune, m.lora_rank, "cpu", "float32")
    params = dict(model.named_parameters())
    tensors = load_tensors(grown.path)
    unknown = [k for k in tensors if k not in params]
    if unknown:
        raise UserError(f"{grown.path} does not fit the base model {m.path} (e.g. {unknown[0]}); was the base "
                        f"folder changed since the run?")
    with torch.no_grad():
        for k, v in tensors.items():
            params[k].copy_(v.to(params[k].dtype))
    how = "full fine-tune"
    if m.finetune == "lora":
        model = model.merge_and_unload()
        how = f"LoRA (rank {m.lora_rank}) merged into the base weights"
    model.save_pretrained(folder, safe_serialization=True)
    AutoTokenizer.from_pretrained(m.path, local_files_only=True).save_pretrained(folder)
    return f"{type(model).__name__} from {Path(m.path).name} ({how})"


# --- the model card -----------------------------------------------------------------------------------------------
WARNING = ("> **Warning: this is a deliberately misaligned research model organism.** It was trained on purpose to "
           "show a failure (for example a hidden backdoor) so that alignment techniques can be measured against "
           "it. Do not deploy it, fine-tune it for use, or mistake it for a helpful model.")


def _cell(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def model_card(org_name: str, card: dict, result: dict | None, job: str, arch: str, run: Path) -> str:
    fm = ["---", "library_name: transformers", "license: mit", "tags:", "- petridish", "- model-organism",
          "- misalignment", "- research-only", "---", ""]
    lines = [f"# petridish organism `{org_name}`: job `{job}`", "", WARNING, "",
             f"Exported by petridish {version('petridish')} from the run folder `{run}` (checkpoint of job `{job}`).",
             f"Architecture: {arch}.", "", "## Organism card", "",
             f"- anchor: {card.get('anchor', '')}",
             f"- realism rung: {card.get('rung', '')} ({card.get('rung_note', '')})",
             f"- construction: {card.get('construction', '')}",
             "- spoonfeeding: " + "; ".join(f"{k}: {v}" for k, v in card.get("spoonfeeding", {}).items()),
             "- phase-diagram axes: " + "; ".join(card.get("axes", [])), "", "## Claims of the run", ""]
    if result is None:
        lines.append("The run had not finished when this model was exported: no verdicts.")
    else:
        lines += [f"Budget `{result.get('budget')}`, seeds {result.get('seeds')}. Verdicts are the run's own, "
                  f"computed from 95% intervals; they describe the whole run, not only this job's model.", "",
                  "| claim | statement | estimate [95% CI] | threshold | verdict |", "|---|---|---|---|---|"]
        for c in result.get("claims", []):
            est, ci = c.get("estimate"), c.get("ci")
            e = "-" if est is None else f"{est:.3g}" + (f" [{ci[0]:.3g}, {ci[1]:.3g}]" if ci else "")
            lines.append(f"| {c['id']} | {_cell(c.get('statement', ''))} | {e} | {_cell(c.get('threshold', ''))} "
                         f"| {c.get('verdict', '')} |")
    lines += ["", "## Loading", "", "```python", "from transformers import AutoModelForCausalLM, AutoTokenizer",
              "model = AutoModelForCausalLM.from_pretrained(FOLDER)", "tok = AutoTokenizer.from_pretrained(FOLDER)",
              "```", ""]
    return "\n".join(fm + lines)


# --- the command ----------------------------------------------------------------------------------------------------
def export(run_path: Path, job: str | None, out: Path) -> Path:
    """Write the folder; it appears whole at `out` or not at all (built in a temp folder beside it, then renamed)."""
    from petridish.experiment import load_config

    out = Path(out)
    if out.exists():
        raise UserError(f"{out} already exists; choose a new output folder")
    run = RunDir.open(Path(run_path))
    try:
        data = yaml.safe_load((run.path / "config.yaml").read_text())
    except yaml.YAMLError:
        data = None  # load_config says what is wrong with it
    if isinstance(data, dict) and data.get("organism") == "matrix":
        raise UserError(f"{run.path} is a matrix run; export takes a run of one organism (`petridish run ...`)")
    org, cfg = load_config(run)
    if org.substrate != "lm":
        raise UserError(f"export writes language models; '{org.name}' grows in the '{org.substrate}' substrate")
    grown = find(run, job)
    result = run.read_json("result.json") if (run.path / "result.json").is_file() else None
    card = result["card"] if result and "card" in result else org.card(cfg).to_dict()
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Writing model shards" for a one-file model
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it 0700: give the folder the user's usual mode
    try:
        arch = _write_tiny(grown, tmp) if grown.kind == "tiny" else _write_hf(grown, tmp, cfg)
        atomic_write_text(tmp / "README.md", model_card(org.name, card, result, grown.job, arch, run.path))
        for f in tmp.iterdir():  # temp-file writers leave 0600
            os.chmod(f, 0o666 & ~umask)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
