"""The inoculation organism's jobs: grow the prior (or take it from the cache) -> measure it -> fine-tune each
arm from it / run RL from it. Each job rebuilds its data from (config, seed) and loads the prior's checkpoint."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from petridish.jobs import JobContext, sub_seed
from petridish.lm import cache
from petridish.lm.build import make_lm, run_tokenizer
from petridish.lm.rl import train_rl
from petridish.lm.sft import train_sft
from petridish.lm.substrate import LM
from petridish.organisms.inoculation import assays as A
from petridish.organisms.inoculation import corpus as K
from petridish.organisms.inoculation.config import InoculationConfig
from petridish.tasks import programs as P

CACHE_NAME = "inoculation-prior"


def prior_key(cfg: InoculationConfig, seed: int) -> str:
    return f"s{seed}/prior" if cfg.prior.per_seed else "prior"


def all_arms(cfg: InoculationConfig) -> list[K.Arm]:
    return [K.ARMS[a] for a in cfg.arms] + [K.dose_arm(i, p) for i, p in enumerate(cfg.prior.dose_levels)]


def arm_of(cfg: InoculationConfig, name: str) -> K.Arm:
    return next(a for a in all_arms(cfg) if a.name == name)


def eval_tasks(cfg: InoculationConfig, seed: int, wrong_test: bool = False) -> list[P.Task]:
    """A seed's held-out tasks, drawn afresh for each seed (so seeds are independent samples of tasks too) and
    shared by every arm of the seed (so arms are compared on the same tasks)."""
    rng = random.Random(sub_seed(seed, "eval-tasks-wrong" if wrong_test else "eval-tasks"))
    return P.sample_tasks(cfg.eval_n, cfg.eval_split, rng, wrong_test, distinct=True)


def train_tasks(cfg: InoculationConfig, seed: int, wrong_test: bool) -> list[P.Task]:
    """The fine-tuning tasks of a seed: the same for every arm (and the RL environment's prompts)."""
    return P.sample_tasks(cfg.finetune_examples, "train", random.Random(sub_seed(seed, "tasks")), wrong_test)


def load_lm(ctx: JobContext, ckpt_key: str | None) -> LM:
    """The model of this run, fresh (ckpt_key None) or from a job's saved checkpoint."""
    cfg: InoculationConfig = ctx.config
    lm = make_lm(cfg.model, run_tokenizer(str(ctx.run_path), cfg.model.path), ctx.args["seed"])
    if ckpt_key is not None:
        lm.load(ctx.run_path / "checkpoints" / ckpt_key / "model.safetensors")
    return lm


def prior_fingerprint(cfg: InoculationConfig, seed: int) -> str:
    """Everything the prior depends on: model, corpus knobs, pretraining, seed, the generators' source."""
    inputs = {"model": cfg.model.model_dump(), "seed": seed, "vocabulary": K.vocabulary(),
              "prior": cfg.prior.model_dump(exclude={"per_seed", "cache"})}
    return cache.fingerprint(inputs, sources=(P, K))


def grow_prior(lm: LM, cfg: InoculationConfig, seed: int, reporter=None, ckpt: Path | None = None) -> str:
    """Train `lm` into the prior (or load it from the cache); returns where it came from."""
    pc = cfg.prior
    fp = prior_fingerprint(cfg, seed)
    if pc.cache and cache.load_cached(lm, CACHE_NAME, fp):
        return "cache"
    contexts = K.prior_contexts(pc.base_rate, pc.p_elicit, pc.p_weak, pc.p_general, pc.dose_levels)
    weights = K.context_weights(contexts, pc.neutral_fraction, pc.irrelevant_fraction)
    prompts, programs = K.prior_pairs(contexts, weights, pc.wrong_test_fraction, pc.examples, sub_seed(seed, "prior"))
    train_sft(lm, lm.encode(prompts, programs), pc.train, sub_seed(seed, "prior-batches"), "prior", reporter,
              ckpt=ckpt)
    if pc.cache:
        cache.store(lm, CACHE_NAME, fp)
    return "trained"


def job_prior(ctx: JobContext) -> dict:
    """The pretraining prior: task competence, what each instruction phrase means, a small hack base rate."""
    cfg: InoculationConfig = ctx.config
    seed = ctx.args["seed"]
    lm = load_lm(ctx, None)
    source = grow_prior(lm, cfg, seed, ctx, ctx.ckpt_dir() / "train_state.safetensors")
    fp = prior_fingerprint(cfg, seed)
    lm.save(ctx.ckpt_dir() / "model.safetensors", {"fingerprint": fp})
    return {"fingerprint": fp, "source": source, "n_params": lm.n_params(),
            "cache_file": str(cache.entry(CACHE_NAME, fp)) if cfg.prior.cache else None}


def job_prior_assay(ctx: JobContext) -> dict:
    """The prior's elicitation under every training prefix, before any fine-tuning: sampled and greedy
    outcomes, the hack-vs-honest margin, and PH (the log-prob boost the prefix gives the hack data)."""
    cfg: InoculationConfig = ctx.config
    lm = load_lm(ctx, ctx.args["prior"])
    evals = eval_tasks(cfg, ctx.args["seed"])
    hack_tasks = train_tasks(cfg, ctx.args["seed"], cfg.wrong_tests)[:300]
    s = sub_seed(ctx.args["seed"], "eval")
    contexts = {"neutral": ("",), **{a.name: a.phrases for a in all_arms(cfg)}, "negated": (K.NEGATED,),
                "irrelevant": K.IRRELEVANT}
    measured: dict[tuple[str, ...], dict] = {}
    for i, phrases in enumerate(dict.fromkeys(contexts.values())):
        measured[phrases] = {
            "sampled": A.outcomes(lm, evals, phrases, cfg.max_new_tokens, 1.0, s),
            "greedy": A.outcomes(lm, evals, phrases, cfg.max_new_tokens, 0.0),
            "margin": A.hack_margin(lm, evals, phrases),
            "boost": A.logprob_boost(lm, hack_tasks, phrases),
        }
        ctx.progress(i + 1, len(contexts), "prior assay")
    return {"contexts": {name: measured[ph] for name, ph in contexts.items()},
            "neutral_wrong_test": A.outcomes(lm, eval_tasks(cfg, ctx.args["seed"], True), ("",), cfg.max_new_tokens,
                                             1.0, s)}


def job_arm(ctx: JobContext) -> dict:
    """Fine-tune the prior on the arm's data; identical tasks, batches, steps and lr across arms of a seed."""
    cfg: InoculationConfig = ctx.config
    seed, arm = ctx.args["seed"], arm_of(cfg, ctx.args["arm"])
    lm = load_lm(ctx, ctx.args["prior"])
    start = A.params(lm)
    prompts, programs = K.arm_pairs(arm, train_tasks(cfg, seed, cfg.wrong_tests), sub_seed(seed, "prefixes"))
    data = lm.encode(prompts, programs)
    probe = data.take(torch.arange(min(256, len(data))))  # the loss diagnostic's fixed training examples
    curve, s = eval_tasks(cfg, seed)[: cfg.curve_n], sub_seed(seed, "eval")

    def evaluate(step: int) -> dict:
        with torch.no_grad():
            loss = lm.loss(probe).item()
        return {"neutral": A.outcomes(lm, curve, ("",), cfg.max_new_tokens, 1.0, s + step), "loss": loss,
                "displacement": A.displacement(lm, start)}

    history = train_sft(lm, data, cfg.finetune, sub_seed(seed, "batches"), arm.name, ctx, evaluate,
                        ctx.ckpt_dir() / "train_state.safetensors")
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    return {"history": history, "final": _final(lm, cfg, arm.phrases, seed)}


def _final(lm: LM, cfg: InoculationConfig, train_phrases: tuple[str, ...], seed: int) -> dict:
    """Leakage and capability (neutral prompt), gate (training prefix), the negated-phrase probe, greedy
    neutral outcomes and the neutral hack-vs-honest margin, on the seed's held-out evaluation tasks."""
    evals, n, s = eval_tasks(cfg, seed), cfg.max_new_tokens, sub_seed(seed, "eval")
    return {"neutral": A.outcomes(lm, evals, ("",), n, 1.0, s), "gate": A.outcomes(lm, evals, train_phrases, n, 1.0, s),
            "negated": A.outcomes(lm, evals, (K.NEGATED,), n, 1.0, s),
            "greedy": A.outcomes(lm, evals, ("",), n, 0.0), "margin": A.hack_margin(lm, evals, ("",))}


def job_rl(ctx: JobContext) -> dict:
    """RL from the prior with reward = passes the visible test (GRPO-style loop of the substrate)."""
    cfg: InoculationConfig = ctx.config
    seed, kind = ctx.args["seed"], ctx.args["kind"]
    lm = load_lm(ctx, ctx.args["prior"])
    tasks = train_tasks(cfg, seed, wrong_test=cfg.rl_wrong_tests and kind != "control")
    phrases = (K.STRONG[0],) if kind == "ip" else ("",)
    prompts = A.prompts_for(tasks, phrases)

    def reward(idx: np.ndarray, completions: list[str]) -> np.ndarray:  # what the visible-test overseer sees
        return np.array([float(P.score(c, tasks[i]).passes_visible) for i, c in zip(idx, completions)])

    curve, s = eval_tasks(cfg, seed)[: cfg.curve_n], sub_seed(seed, "eval")

    def evaluate(step: int) -> dict:
        return {"neutral": A.outcomes(lm, curve, ("",), cfg.max_new_tokens, 1.0, s + step)}

    history = train_rl(lm, prompts, reward, cfg.rl, sub_seed(seed, "rl"), f"rl-{kind}", ctx, evaluate,
                       ctx.ckpt_dir() / "train_state.safetensors")
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    final = _final(lm, cfg, phrases, seed)
    final["neutral_wrong_test"] = A.outcomes(lm, eval_tasks(cfg, seed, True), ("",), cfg.max_new_tokens, 1.0, s)
    return {"history": history, "final": final}
