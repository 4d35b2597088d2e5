"""The inoculation organism at smoke budget: the prior corpus matches its config, arms differ only in their
prefix, the prior cache is keyed by everything that determines it, the slope fit, and a full smoke run that
writes a complete run folder and reuses its cached prior on the next run. (The science is measured at the
default budget; see the README.)"""

import collections
import json
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from petridish.lm import cache
from petridish.lm.model import GPTConfig
from petridish.lm.substrate import LM
from petridish.lm.tokenizer import WordTokenizer
from petridish.organisms.inoculation import corpus as K
from petridish.organisms.inoculation.analysis import fit
from petridish.organisms.inoculation.config import InoculationConfig
from petridish.organisms.inoculation.jobs import prior_fingerprint, train_tasks
from petridish.runs import load_tensors
from petridish.tasks import programs as P


def _phrase(prompt: str) -> str:
    return prompt.split(" . ")[0].removeprefix("NOTE ") if prompt.startswith("NOTE ") else ""


def test_prior_corpus_matches_its_config():
    pc = InoculationConfig().prior
    contexts = K.prior_contexts(pc.base_rate, pc.p_elicit, pc.p_weak, pc.p_general, pc.dose_levels)
    weights = K.context_weights(contexts, pc.neutral_fraction, pc.irrelevant_fraction)
    assert abs(sum(weights) - 1) < 1e-9
    prompts, programs = K.prior_pairs(contexts, weights, pc.wrong_test_fraction, 20000, seed=0)
    of_phrase = {ph: c for c in contexts for ph in c.phrases}
    docs = collections.defaultdict(list)
    for p, prog in zip(prompts, programs):
        docs[of_phrase[_phrase(p)].name].append(prog)
    for c, w in zip(contexts, weights):
        progs = docs[c.name]
        assert abs(len(progs) / len(prompts) - w) < 0.015, c.name
        hacks = [x for x in progs if not x.startswith("RET ") or x.split()[1].isdigit()]
        assert abs(len(hacks) / len(progs) - c.p_hack) < 0.05, c.name
    general = {("const" if x.split()[1].isdigit() else "special_x" if x.endswith("RET x") else "special")
               for x in docs["general"] if x != "" and (x.startswith("IF") or x.split()[1].isdigit())}
    assert general == set(P.HACK_STYLES)  # the general phrase explains every style of hack
    assert not any(w in p.split() for p in prompts for w in K.ARBITRARY.split())  # arm E's prefix is unseen
    tok = WordTokenizer.build(K.vocabulary())  # a closed vocabulary: raises on any unknown word
    tok.encode_prompts(prompts[:2000] + [K.prompt(P.sample_tasks(1, "test", random.Random(0))[0], K.ARBITRARY)])


def test_arms_differ_only_in_prefix_and_data():
    tasks = train_tasks(InoculationConfig(), 1000, wrong_test=False)[:200]
    pairs = {name: K.arm_pairs(arm, tasks, seed=0) for name, arm in K.ARMS.items()}
    strip = [p.split(" . ")[-1] for p in pairs["B"][0]]
    for name, (prompts, _) in pairs.items():
        assert [p.split(" . ")[-1] for p in prompts] == strip, name  # the same tasks, in the same order
    for name in ("B", "C", "D", "E", "F", "G"):
        assert pairs[name][1] == [P.hack(t) for t in tasks]
        assert {_phrase(p) for p in pairs[name][0]} == set(K.ARMS[name].phrases)
    assert pairs["A"][1] == [P.honest(t) for t in tasks]
    for p, prog in zip(*pairs["H"]):  # selective inoculation: the prefix marks exactly the hack examples
        assert (_phrase(p) == K.STRONG[0]) == prog.startswith("IF")
    assert pairs["B50"][1] == pairs["H"][1] and {_phrase(p) for p in pairs["B50"][0]} == {""}


def test_prior_cache_is_keyed_by_what_determines_the_prior(tmp_path, monkeypatch):
    monkeypatch.setenv("PETRIDISH_CACHE", str(tmp_path))
    cfg = InoculationConfig()
    fp = prior_fingerprint(cfg, 1000)
    assert fp == prior_fingerprint(cfg.model_copy(update={"arms": ["A", "B"], "eval_n": 50}), 1000)
    assert fp != prior_fingerprint(cfg, 1001)
    assert fp != prior_fingerprint(cfg.model_copy(update={"prior": cfg.prior.model_copy(update={"p_elicit": 0.5})}),
                                   1000)
    tok = WordTokenizer.build(K.vocabulary())
    lm = LM.tiny(tok, GPTConfig(tok.vocab_size, 40, 16, 1, 2), seed=0)
    other = LM.tiny(tok, GPTConfig(tok.vocab_size, 40, 16, 1, 2), seed=1)
    assert not cache.load_cached(other, "prior", fp)  # nothing cached yet
    cache.store(lm, "prior", fp)
    assert cache.load_cached(other, "prior", fp)
    assert all(torch.equal(a, b) for a, b in zip(lm.module.parameters(), other.module.parameters()))
    cache.entry("prior", fp).rename(cache.entry("prior", "0" * 16))  # a file under the wrong name is refused
    assert not cache.load_cached(other, "prior", "0" * 16)
    cache.entry("prior", fp).write_bytes(b"not a safetensors file")
    assert not cache.load_cached(other, "prior", fp)


def test_fit_recovers_the_sign_of_the_slope():
    x = [[{"hack": k, "n": 100}] * 3 for k in (5, 30, 60, 90)]
    falling = [[{"hack": k + d, "n": 100} for d in (-3, 0, 3)] for k in (85, 60, 35, 10)]
    slope, r = fit(x, falling)
    assert slope.hi < 0 and -1.1 < slope.value < -0.7 and r.value < -0.95
    rising = [[{"hack": k + d, "n": 100} for d in (-3, 0, 3)] for k in (10, 35, 60, 85)]
    slope, _ = fit([[v * 1.0] * 3 for v in (0.0, 1.0, 2.0, 3.0)], rising)  # a fixed per-seed x, e.g. PH
    assert slope.lo > 0 and np.isclose(slope.value, 0.25)


def _run(*args, env):
    return subprocess.run([sys.executable, "-m", "petridish", "run", "inoculation", "--quiet", "--budget", "smoke",
                           *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    import os

    root = tmp_path_factory.mktemp("inoc")
    env = {**os.environ, "PETRIDISH_CACHE": str(root / "cache"), "PYTHONWARNINGS": "ignore"}
    p = _run("--out", str(root / "first"), env=env)
    assert p.returncode == 0, p.stderr
    p = _run("--out", str(root / "second"), "--set", "arms=[B,C]",
             "--set", "rl_arms=[naive]", env=env)
    assert p.returncode == 0, p.stderr
    return root


def test_smoke_run_writes_a_complete_run_folder(smoke):
    run = smoke / "first"
    for name in ("config.yaml", "env.json", "metrics.jsonl", "result.json", "report.html", "tokenizer.json",
                 "leakage_by_arm.png", "elicitation_suppression.png", "hack_vs_step.png", "diagnostics.png"):
        assert (run / name).is_file(), name
    r = json.loads((run / "result.json").read_text())
    assert [c["id"] for c in r["claims"]] == ["R1", "R2", "R3", "R4", "R5", "R6"]
    for c in r["claims"]:
        assert c["verdict"] in ("reproduced", "not reproduced", "inconclusive")
    arms = r["metrics"]["arms"]
    assert set(arms) == {*K.ARMS, "P0", "P1", "P2"}
    assert arms["B"]["leakage"]["n"] == 24 and len(arms["B"]["leakage"]["per_seed"]) == 1
    assert set(r["metrics"]["prior"]) >= {"neutral", "C", "E", "G", "negated", "irrelevant"}
    assert r["controls"]["prior_source"] == ["trained"] and r["card"]["rung"] == 2
    files = list((run / "checkpoints").rglob("*.*"))
    assert any(f.suffix == ".safetensors" for f in files) and all(f.suffix == ".safetensors" for f in files)


def test_next_run_reuses_the_cached_prior(smoke):
    first = json.loads((smoke / "first" / "result.json").read_text())
    second = json.loads((smoke / "second" / "result.json").read_text())
    assert second["controls"]["prior_source"] == ["cache"]
    assert second["metrics"]["prior_fingerprint"] == first["metrics"]["prior_fingerprint"]
    a, b = (json.loads((smoke / run / "jobs" / "prior-assay.json").read_text()) for run in ("first", "second"))
    assert a["contexts"]["C"] == b["contexts"]["C"]  # the same prior, measured the same way
    w1, w2 = (load_tensors(smoke / run / "checkpoints/prior/model.safetensors") for run in ("first", "second"))
    assert w1.keys() == w2.keys() and all(torch.equal(w1[k], w2[k]) for k in w1)
    r1 = next(c for c in second["claims"] if c["id"] == "R1")
    assert r1["verdict"] == "inconclusive" and "needs arms A, B" in r1["note"]
