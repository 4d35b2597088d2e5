"""One interface over two kinds of causal LM: petridish's TinyGPT and a local Hugging Face checkpoint.

Organisms and treatments speak text (prompt, completion) and call only what is here: the masked loss on
prompt/completion pairs, per-token log-probabilities (for RL), batched generation with a KV cache, hidden
states per layer at the last prompt token (for probes), and safetensors save/load.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from petridish.hooks import capture
from petridish.lm.model import GPTConfig, KVCache, TinyGPT
from petridish.lm.tokenizer import TextTokenizer
from petridish.runs import load_tensors, save_tensors


@dataclass
class Encoded:
    """Right-padded prompt+completion sequences. ids [N, T]; mask [N, T] marks completion tokens (incl. EOS)."""

    ids: torch.Tensor
    mask: torch.Tensor
    lens: torch.Tensor  # [N] real lengths

    def __len__(self) -> int:
        return self.ids.shape[0]

    def take(self, idx: torch.Tensor) -> Encoded:
        """A batch trimmed to its longest sequence."""
        lens = self.lens[idx]
        t = int(lens.max())
        return Encoded(self.ids[idx, :t], self.mask[idx, :t], lens)


@dataclass
class Generation:
    texts: list[str]
    ids: list[list[int]]  # completion token ids, EOS included when it was produced
    prompt_ids: list[list[int]]


class LM:
    def __init__(self, module: nn.Module, tok: TextTokenizer, kind: str, device: str = "cpu"):
        self.module = module.to(device)
        self.tok = tok
        self.kind = kind  # "tiny" | "hf"
        self.device = torch.device(device)

    # --- construction ------------------------------------------------------------------------------------
    @classmethod
    def tiny(cls, tok: TextTokenizer, cfg: GPTConfig, seed: int, device: str = "cpu") -> LM:
        torch.manual_seed(seed)
        return cls(TinyGPT(cfg), tok, "tiny", device)

    def clone(self) -> LM:
        """An independent copy (e.g. the frozen reference for a KL penalty)."""
        return LM(copy.deepcopy(self.module), self.tok, self.kind, str(self.device))

    @property
    def n_layers(self) -> int:
        if self.kind == "tiny":
            return self.module.cfg.n_layers
        return self.module.config.num_hidden_layers

    @property
    def max_len(self) -> int:
        if self.kind == "tiny":
            return self.module.cfg.max_len
        return getattr(self.module.config, "max_position_embeddings", 4096)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.module.parameters())

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.module.parameters() if p.requires_grad]

    # --- data ----------------------------------------------------------------------------------------------
    def encode(self, prompts: list[str], completions: list[str]) -> Encoded:
        p_ids = self.tok.encode_prompts(prompts)
        c_ids = self.tok.encode_completions(completions)
        return self.pack(p_ids, [c + [self.tok.eos_id] for c in c_ids])

    def pack(self, p_ids: list[list[int]], c_ids: list[list[int]]) -> Encoded:
        lens = [len(p) + len(c) for p, c in zip(p_ids, c_ids)]
        T = max(lens)
        if self.max_len < T:
            raise ValueError(f"sequence of {T} tokens exceeds the model's max_len {self.max_len}")
        ids = torch.full((len(lens), T), self.tok.pad_id, dtype=torch.long)
        mask = torch.zeros((len(lens), T), dtype=torch.bool)
        for i, (p, c) in enumerate(zip(p_ids, c_ids)):
            ids[i, : len(p) + len(c)] = torch.tensor(p + c)
            mask[i, len(p) : len(p) + len(c)] = True
        return Encoded(ids, mask, torch.tensor(lens))

    # --- compute -------------------------------------------------------------------------------------------
    def _target_logits(self, batch: Encoded) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Logits at the positions that predict completion tokens: ([M, V] logits, [M] targets, [B, T-1] sel)."""
        ids = batch.ids.to(self.device)
        sel = batch.mask[:, 1:].to(self.device)  # position t predicts token t+1
        targets = ids[:, 1:][sel]
        if self.kind == "tiny":
            h = self.module(ids[:, :-1])  # [B, T-1, d]
            return self.module.head(h[sel]), targets, sel  # head only where there is loss
        am = (torch.arange(ids.shape[1], device=self.device)[None] < batch.lens.to(self.device)[:, None]).long()
        h = self.module.get_decoder()(input_ids=ids[:, :-1], attention_mask=am[:, :-1]).last_hidden_state
        return self.module.get_output_embeddings()(h[sel]).float(), targets, sel  # head only where there is loss

    def loss(self, batch: Encoded) -> torch.Tensor:
        """Mean cross-entropy over completion tokens (prompt tokens are masked)."""
        logits, targets, _ = self._target_logits(batch)
        return F.cross_entropy(logits, targets)

    def token_logprobs(self, batch: Encoded) -> torch.Tensor:
        """log p(token) for every completion token, [B, T-1], zero elsewhere."""
        logits, targets, sel = self._target_logits(batch)
        lp = torch.log_softmax(logits, -1).gather(1, targets[:, None])[:, 0]
        out = torch.zeros(sel.shape, device=self.device, dtype=lp.dtype)
        out[sel] = lp
        return out

    @torch.no_grad()
    def sequence_logprob(self, prompts: list[str], completions: list[str], batch_size: int = 256) -> torch.Tensor:
        """Summed log-probability of each completion (with its EOS) given its prompt, [N]."""
        enc = self.encode(prompts, completions)
        out = []
        for s in range(0, len(enc), batch_size):
            out.append(self.token_logprobs(enc.take(torch.arange(s, min(s + batch_size, len(enc))))).sum(1))
        return torch.cat(out).cpu()

    @torch.no_grad()
    def generate(self, prompts: list[str], max_new_tokens: int, temperature: float = 0.0, seed: int = 0,
                 batch_size: int = 256) -> Generation:
        """Complete each prompt (greedy if temperature == 0), stopping at EOS. Deterministic for a seed."""
        was_training = self.module.training
        self.module.eval()
        p_ids = self.tok.encode_prompts(prompts)
        order = sorted(range(len(p_ids)), key=lambda i: len(p_ids[i]))  # batch similar lengths together
        out: list[list[int]] = [[] for _ in p_ids]
        gen = torch.Generator(device=self.device).manual_seed(seed)
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            chunk = [p_ids[i] for i in idx]
            fn = self._generate_tiny if self.kind == "tiny" else self._generate_hf
            for i, c in zip(idx, fn(chunk, max_new_tokens, temperature, gen)):
                out[i] = c
        self.module.train(was_training)
        texts = [self.tok.decode([t for t in c if t != self.tok.eos_id]) for c in out]
        return Generation(texts, out, p_ids)

    def _left_pad(self, p_ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        L = max(len(p) for p in p_ids)
        ids = torch.full((len(p_ids), L), self.tok.pad_id, dtype=torch.long)
        mask = torch.zeros((len(p_ids), L), dtype=torch.bool)
        for i, p in enumerate(p_ids):
            ids[i, L - len(p) :] = torch.tensor(p)
            mask[i, L - len(p) :] = True
        return ids.to(self.device), mask.to(self.device)

    def _sample(self, logits: torch.Tensor, temperature: float, gen: torch.Generator) -> torch.Tensor:
        if temperature <= 0:
            return logits.argmax(-1)
        probs = torch.softmax(logits.float() / temperature, -1)
        return torch.multinomial(probs, 1, generator=gen)[:, 0]

    def _tiny_prefill(self, p_ids: list[list[int]], cache_len: int):
        m: TinyGPT = self.module
        ids, mask = self._left_pad(p_ids)  # [B, L]
        B, L = ids.shape
        pos = (mask.long().cumsum(1) - 1).clamp(min=0)
        causal = torch.tril(torch.ones(L, L, dtype=torch.bool, device=self.device))
        att = causal[None, None] & mask[:, None, None, :]  # [B, 1, L, L]
        att |= torch.eye(L, dtype=torch.bool, device=self.device)[None, None]  # pad rows see themselves
        cache = KVCache(m.cfg, B, cache_len, self.device, m.tok.weight.dtype) if cache_len else None
        h = m(ids, pos, att, cache)  # [B, L, d]
        return h, mask, pos, cache

    def _generate_tiny(self, p_ids, max_new, temperature, gen) -> list[list[int]]:
        m: TinyGPT = self.module
        L = max(len(p) for p in p_ids)
        max_new = min(max_new, m.cfg.max_len - L)
        h, mask, pos, cache = self._tiny_prefill(p_ids, L + max_new)
        B = len(p_ids)
        keys = torch.cat([mask, torch.zeros(B, max_new, dtype=torch.bool, device=self.device)], 1)  # [B, L+new]
        next_pos = pos[:, -1:] + 1  # [B, 1]
        logits = m.head(h[:, -1])  # [B, V]
        done = torch.zeros(B, dtype=torch.bool, device=self.device)
        toks = []
        for t in range(max_new):
            tok = self._sample(logits, temperature, gen)
            tok = torch.where(done, torch.full_like(tok, self.tok.pad_id), tok)
            toks.append(tok)
            done |= tok == self.tok.eos_id
            if bool(done.all()) or t == max_new - 1:
                break
            keys[:, L + t] = True
            h = m(tok[:, None], next_pos, keys[:, None, None, : L + t + 1], cache)  # [B, 1, d]
            logits = m.head(h[:, -1])
            next_pos = next_pos + 1
        seqs = torch.stack(toks, 1).tolist()  # [B, new]
        return [self._cut(s) for s in seqs]

    def _cut(self, seq: list[int]) -> list[int]:
        return seq[: seq.index(self.tok.eos_id) + 1] if self.tok.eos_id in seq else seq

    def _generate_hf(self, p_ids, max_new, temperature, gen) -> list[list[int]]:
        ids, mask = self._left_pad(p_ids)
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen, device=self.device)))
        out = self.module.generate(
            input_ids=ids, attention_mask=mask.long(), max_new_tokens=max_new, do_sample=temperature > 0,
            temperature=temperature if temperature > 0 else None, top_k=None, top_p=None,
            eos_token_id=self.tok.eos_id, pad_token_id=self.tok.pad_id,
        )
        return [self._cut(s) for s in out[:, ids.shape[1] :].tolist()]

    def residual_names(self) -> list[str]:
        """Hook points of the residual stream: the embeddings (block 0's input), then each block's output."""
        return ["blocks.0.hook_resid_pre", *(f"blocks.{i}.hook_resid_post" for i in range(self.n_layers))]

    @torch.no_grad()
    def activations(self, prompts: list[str], names: list[str], position: int = -1,
                    batch_size: int = 256) -> dict[str, torch.Tensor]:
        """Activations at named hook points (`petridish.hooks`) at one prompt position: {name: [N, d]}.

        position counts from the end of each prompt: -1 is the last prompt token (prompts are left-padded, so
        the same index picks the same relative position in every prompt of a batch).
        """
        if position >= 0:
            raise ValueError("position counts from the end of the prompt: use -1 for the last token")
        was_training = self.module.training
        self.module.eval()
        p_ids = self.tok.encode_prompts(prompts)
        if min(len(p) for p in p_ids) < -position:
            raise ValueError(f"a prompt is shorter than {-position} tokens")
        chunks: dict[str, list[torch.Tensor]] = {n: [] for n in names}
        for s in range(0, len(p_ids), batch_size):
            chunk = p_ids[s : s + batch_size]
            with capture(self.module, names) as acts:
                if self.kind == "tiny":
                    self._tiny_prefill(chunk, 0)
                else:
                    ids, mask = self._left_pad(chunk)
                    self.module(input_ids=ids, attention_mask=mask.long())
            for n in names:
                chunks[n].append(acts[n][:, position].float().cpu())  # [B, d]
        self.module.train(was_training)
        return {n: torch.cat(c) for n, c in chunks.items()}

    def hidden_states(self, prompts: list[str], position: int = -1, batch_size: int = 256) -> torch.Tensor:
        """Residual stream at one prompt position, [n_layers + 1, N, d] (embeddings, then each block)."""
        acts = self.activations(prompts, self.residual_names(), position, batch_size)
        return torch.stack([acts[n] for n in self.residual_names()])

    # --- persistence ---------------------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        """What a checkpoint holds: every parameter (tied ones once), or only the trainable ones under LoRA."""
        lora = self.kind == "hf" and any(not p.requires_grad for p in self.module.parameters())
        seen, out = set(), {}
        for name, p in self.module.named_parameters(remove_duplicate=True):
            if (lora and not p.requires_grad) or p.data_ptr() in seen:
                continue
            seen.add(p.data_ptr())
            out[name] = p.detach()
        return out

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        params = dict(self.module.named_parameters(remove_duplicate=True))
        unknown = [k for k in tensors if k not in params]
        if unknown:
            raise ValueError(f"checkpoint has tensors this model lacks: {unknown[:3]}")
        with torch.no_grad():
            for k, v in tensors.items():
                params[k].copy_(v.to(params[k].dtype))

    def save(self, path: Path, metadata: dict[str, str] | None = None) -> None:
        meta = {**(metadata or {}), "petridish_kind": self.kind}
        if self.kind == "tiny":
            meta["gpt_config"] = json.dumps(self.module.cfg.to_dict())
        save_tensors(path, self.state_tensors(), meta)

    def load(self, path: Path) -> LM:
        self.load_state_tensors(load_tensors(path))
        return self
