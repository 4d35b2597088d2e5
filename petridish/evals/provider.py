"""`--model petridish/<run folder or checkpoint>`: a grown organism served to Inspect (or `petridish/smollm2-135m`:
a named chat model, `petridish models`).

Inspect calls `generate` once per sample, concurrently. Requests are collected into batches (those that arrive
while a batch is generating form the next one) and run through the substrate's batched KV-cache sampler on a
worker thread, so throughput is close to petridish's own assays. Model args (`-M key=value`): job (a
checkpoint key under checkpoints/, e.g. s1000/backdoor-none), device (auto | cpu | cuda), batch_size (prompts
generated at once, default 256).
Nothing here needs the network: token counts come from the organism's own tokenizer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from inspect_ai._util.error import PrerequisiteError
from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from petridish.errors import UserError
from petridish.evals.grown import load_lm, locate, render
from petridish.lm.build import ModelConfig, make_lm
from petridish.lm.models import MODELS
from petridish.lm.models import resolve as resolve_named
from petridish.lm.substrate import LM

DEFAULT_MAX_TOKENS = 48


@dataclass(eq=False)
class _Request:
    prompt: str
    future: asyncio.Future
    key: tuple[int, float, int]  # (max new tokens, temperature, seed): requests in one batch share it


@dataclass
class Batcher:
    """Collects concurrent generation requests and runs them together, one collection at a time, through the
    substrate's sampler (which generates `batch_size` prompts at once, similar lengths together)."""

    lm: LM
    batch_size: int
    max_pending: int = 1024  # requests taken in one collection (Inspect's samples in flight)
    pending: list[_Request] = field(default_factory=list)
    worker: asyncio.Task | None = None

    async def generate(self, prompt: str, max_new: int, temperature: float, seed: int) -> tuple[str, int]:
        """(completion text, completion tokens) for one prompt."""
        fut = asyncio.get_running_loop().create_future()
        self.pending.append(_Request(prompt, fut, (max_new, temperature, seed)))
        if self.worker is None or self.worker.done():
            self.worker = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self.pending:
            seen = 0  # wait while requests keep arriving (Inspect starts samples one by one)
            while seen != len(self.pending) < self.max_pending:
                seen = len(self.pending)
                await asyncio.sleep(0.02)
            key = self.pending[0].key
            batch = [r for r in self.pending if r.key == key][: self.max_pending]
            taken = {id(r) for r in batch}
            self.pending = [r for r in self.pending if id(r) not in taken]
            max_new, temperature, seed = key
            try:
                gen = await asyncio.to_thread(self.lm.generate, [r.prompt for r in batch], max_new, temperature,
                                              seed, self.batch_size)
            except Exception as e:  # a failed batch fails each of its samples, and the next batch still runs
                for r in batch:
                    r.future.set_exception(e)
                continue
            for r, text, ids in zip(batch, gen.texts, gen.ids):
                r.future.set_result((text, len(ids)))


class PetridishAPI(ModelAPI):
    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig | None = None, **model_args: Any):
        config = config or GenerateConfig()
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        unknown = set(model_args) - {"job", "device", "batch_size"}
        if unknown:
            raise ValueError(f"petridish model: unknown model args {sorted(unknown)}; use job, device, batch_size")
        try:
            if model_name in MODELS:  # a named chat model, untrained: the natural-language assays' clean baseline
                self.grown, self.chat = None, True
                mcfg = ModelConfig(path=resolve_named(model_name), chat=True, device=model_args.get("device", "auto"))
                self.lm = make_lm(mcfg, None, seed=0)
                self.lm.module.eval()
            else:
                self.grown = locate(model_name, model_args.get("job"))
                self.chat = self.grown.chat
                self.lm = load_lm(self.grown, str(model_args.get("device", "auto")))
        except UserError as e:  # Inspect prints a PrerequisiteError as its message alone, without a traceback
            raise PrerequisiteError(str(e)) from None
        self.batcher = Batcher(self.lm, int(model_args.get("batch_size", 256)))
        if config.max_connections is None:  # the Model's own config (get_model passes the same object)
            # every sample in flight from the start: Inspect's default adaptive concurrency starts small and
            # ramps up, as suits a rate-limited API, which here would only make small batches
            config.max_connections = self.batcher.max_pending

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> ModelOutput:
        if self.chat:  # the model's own chat template
            prompt = self.lm.tok.tok.apply_chat_template([{"role": m.role, "content": m.text} for m in input],
                                                         add_generation_prompt=True, tokenize=False)
        else:
            prompt = render(self.grown.organism, [(m.role, m.text) for m in input])
        max_new = config.max_tokens or DEFAULT_MAX_TOKENS
        n_in = len(self.lm.tok.encode_prompts([prompt])[0])  # a prompt the tokenizer rejects fails alone
        text, n_out = await self.batcher.generate(prompt, max_new, config.temperature or 0.0, config.seed or 0)
        choice = ChatCompletionChoice(message=ChatMessageAssistant(content=text, model=self.model_name,
                                                                   source="generate"),
                                      stop_reason="max_tokens" if n_out >= max_new else "stop")
        return ModelOutput(model=self.model_name, choices=[choice],
                           usage=ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out))

    async def count_text_tokens(self, text: str) -> int:
        """The organism's own tokenizer (Inspect's default downloads a tiktoken encoding)."""
        try:
            return len(self.lm.tok.encode_completions([text])[0]) if text.strip() else 0
        except ValueError:  # a word outside a grown organism's closed vocabulary
            return len(text.split())

    def max_tokens(self) -> int | None:
        return DEFAULT_MAX_TOKENS

    def max_connections(self) -> int:
        """Samples in flight at once: what one collection of requests takes."""
        return self.batcher.max_pending

    def canonical_name(self) -> str:
        return self.model_name if self.grown is None else f"{self.grown.organism}:{self.grown.job}"
