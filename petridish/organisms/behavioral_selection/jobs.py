"""Jobs: grow the persona prior (and the aligned-only control prior; both cached) -> assay it -> train it under
each selection regime (RL on the observed reward, or expert-iteration SFT) -> assay again."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from petridish.jobs import JobContext, sub_seed
from petridish.lm import cache
from petridish.lm.build import make_lm, run_tokenizer
from petridish.lm.rl import train_rl
from petridish.lm.sft import train_sft
from petridish.lm.substrate import LM
from petridish.organisms.behavioral_selection import assays as A
from petridish.organisms.behavioral_selection import corpus as C
from petridish.organisms.behavioral_selection import selection_model as S
from petridish.organisms.behavioral_selection.config import BehavioralSelectionConfig
from petridish.tasks import programs as P

CACHE_NAME = "behavioral-selection-prior"
ALIGNED_ONLY = {"aligned": 1.0, "seeker": 0.0, "schemer": 0.0}


def motive_prior(cfg: BehavioralSelectionConfig, control: bool) -> dict[str, float]:
    return ALIGNED_ONLY if control else cfg.motive_prior


def reliability(cfg: BehavioralSelectionConfig) -> dict[str, float]:
    return dict(zip(C.FORMS, cfg.prior.cue_reliability))


def prior_key(cfg: BehavioralSelectionConfig, seed: int, control: bool = False) -> str:
    name = "prior-control" if control else "prior"
    return f"s{seed}/{name}" if cfg.prior.per_seed else name


def diagnostic_contexts(cfg: BehavioralSelectionConfig, seed: int, per_form: bool = True
                        ) -> dict[str, list[C.Episode]]:
    """A seed's held-out diagnostic episodes: a fresh draw of tasks per seed, shared by every job of the seed."""
    return A.contexts(tuple(reliability(cfg)), cfg.eval_n, cfg.eval_split, sub_seed(seed, "eval-tasks"), per_form)


def load_lm(ctx: JobContext, ckpt_key: str | None) -> LM:
    cfg: BehavioralSelectionConfig = ctx.config
    lm = make_lm(cfg.model, run_tokenizer(str(ctx.run_path), cfg.model.path), ctx.args["seed"])
    if ckpt_key is not None:
        lm.load(ctx.run_path / "checkpoints" / ckpt_key / "model.safetensors")
    return lm


def prior_fingerprint(cfg: BehavioralSelectionConfig, seed: int, control: bool) -> str:
    inputs = {"model": cfg.model.model_dump(), "seed": seed, "motives": motive_prior(cfg, control),
              "prior": cfg.prior.model_dump(exclude={"cache"}), "vocabulary": C.vocabulary()}
    return cache.fingerprint(inputs, sources=(P, S, C))


def grow_prior(lm: LM, cfg: BehavioralSelectionConfig, seed: int, control: bool, reporter=None,
               ckpt: Path | None = None, phase: str = "prior") -> str:
    """Train `lm` into the persona prior (aligned-only if `control`), or load it from the cache; returns where it
    came from."""
    pc = cfg.prior
    fp = prior_fingerprint(cfg, seed, control)
    if pc.cache and cache.load_cached(lm, CACHE_NAME, fp):
        return "cache"
    prompts, docs = C.corpus(pc.documents, motive_prior(cfg, control), reliability(cfg), pc.max_episodes,
                             pc.stated_fraction, pc.broken_fraction, pc.monitored_fraction,
                             pc.instructed_fraction, sub_seed(seed, "corpus"))
    train_sft(lm, lm.encode(prompts, docs), pc.train, sub_seed(seed, "prior-batches"), phase, reporter, ckpt=ckpt)
    if pc.cache:
        cache.store(lm, CACHE_NAME, fp)
    return "trained"


def job_prior(ctx: JobContext) -> dict:
    """Persona-structured pretraining (from scratch, or continued on a --model checkpoint)."""
    cfg: BehavioralSelectionConfig = ctx.config
    seed, control = ctx.args["seed"], ctx.args["control"]
    lm = load_lm(ctx, None)
    source = grow_prior(lm, cfg, seed, control, ctx, ctx.ckpt_dir() / "train_state.safetensors", ctx.key)
    fp = prior_fingerprint(cfg, seed, control)
    lm.save(ctx.ckpt_dir() / "model.safetensors", {"fingerprint": fp})
    return {"fingerprint": fp, "source": source, "n_params": lm.n_params(),
            "assay": A.assay(lm, diagnostic_contexts(cfg, seed), cfg.max_new_tokens, sub_seed(seed, "eval"))}


def regime_episodes(cfg: BehavioralSelectionConfig, regime: S.Regime, seed: int
                    ) -> tuple[list[C.Episode], list[bool]]:
    """The regime's training episodes (lead cue form, shown with the regime's cue accuracy) and whether each
    is truly monitored."""
    rng = random.Random(sub_seed(seed, f"regime-{regime.name}"))
    episodes, monitored = [], []
    for _ in range(cfg.train_prompts):
        mon, brk = rng.random() < regime.monitored, rng.random() < regime.broken
        episodes.append(C.episode(rng, C.FORMS[0], regime.cue_accuracy, mon, brk, regime.instructed and brk))
        monitored.append(mon)
    return episodes, monitored


def observed_reward(completion: str, ep: C.Episode, monitored: bool) -> float:
    action = C.classify(completion, ep.task)
    if action not in S.ACTIONS:  # a wrong or malformed program passes nothing
        return 0.0
    return S.reward(action, monitored, ep.task.test_is_wrong, ep.instructed)


def select(lm: LM, cfg: BehavioralSelectionConfig, regime: S.Regime, method: str, seed: int, reporter=None,
           ckpt: Path | None = None, phase: str = "train", zero_grad: bool = False) -> dict:
    """Select `lm` in place on the regime's observed reward: RL (policy gradient with KL to the prior), or expert
    iteration (SFT on the prior's own rewarded samples). `zero_grad`: the same RL at learning rate 0 (a control).
    Returns the data stats of expert iteration."""
    episodes, monitored = regime_episodes(cfg, regime, seed)
    prompts = [e.prompt() for e in episodes]
    if method == "rl":
        def reward(idx: np.ndarray, completions: list[str]) -> np.ndarray:
            return np.array([observed_reward(c, episodes[i], monitored[i]) for i, c in zip(idx, completions)])

        rl = cfg.rl.model_copy(update={"lr": 0.0}) if zero_grad else cfg.rl
        train_rl(lm, prompts, reward, rl, sub_seed(seed, "rl"), phase, reporter, ckpt=ckpt)
        return {}
    reps = [i for i in range(len(episodes)) for _ in range(cfg.sft_samples)]
    texts = lm.generate([prompts[i] for i in reps], cfg.max_new_tokens, 1.0, sub_seed(seed, "samples")).texts
    kept = [(prompts[i], t.split(C.END)[0].strip() + f" {C.END}") for i, t in zip(reps, texts)
            if observed_reward(t, episodes[i], monitored[i]) > 0]
    if kept:  # kept 0: nothing trained (the analysis warns)
        train_sft(lm, lm.encode([p for p, _ in kept], [c for _, c in kept]), cfg.sft, sub_seed(seed, "sft"),
                  phase, reporter, ckpt=ckpt)
    return {"sampled": len(reps), "kept": len(kept)}


def job_train(ctx: JobContext) -> dict:
    """Train the prior under one regime and method, then assay it."""
    cfg: BehavioralSelectionConfig = ctx.config
    seed, method = ctx.args["seed"], ctx.args["method"]
    regime = next(r.regime() for r in cfg.regimes if r.name == ctx.args["regime"])
    lm = load_lm(ctx, ctx.args["prior"])
    stats = select(lm, cfg, regime, method, seed, ctx, ctx.ckpt_dir() / "train_state.safetensors", ctx.key,
                   zero_grad=ctx.args.get("zero_grad", False))
    lm.save(ctx.ckpt_dir() / "model.safetensors")
    ctxs = diagnostic_contexts(cfg, seed, per_form=regime.name == cfg.b2_regime)  # the compliance gap is B3's
    return {"assay": A.assay(lm, ctxs, cfg.max_new_tokens, sub_seed(seed, "eval")), "data": stats}
