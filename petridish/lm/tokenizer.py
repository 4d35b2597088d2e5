"""Tokenizers behind one small interface.

`WordTokenizer`: a word-level vocabulary built from an organism's closed word list (Hugging Face
`tokenizers`' WordLevel model with whitespace splitting), saved with the run as tokenizer.json.
`HFTokenizer`: any local Hugging Face tokenizer, for `--model PATH`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from tokenizers import Tokenizer, models, pre_tokenizers

from petridish.errors import UserError


class TextTokenizer(Protocol):
    pad_id: int
    eos_id: int
    bos_id: int | None
    vocab_size: int

    def encode_prompts(self, texts: list[str]) -> list[list[int]]: ...
    def encode_completions(self, texts: list[str]) -> list[list[int]]: ...
    def decode(self, ids: list[int]) -> str: ...


class WordTokenizer:
    PAD, BOS, EOS, UNK = "[PAD]", "[BOS]", "[EOS]", "[UNK]"

    def __init__(self, tk: Tokenizer):
        self.tk = tk
        self.pad_id = tk.token_to_id(self.PAD)
        self.bos_id = tk.token_to_id(self.BOS)
        self.eos_id = tk.token_to_id(self.EOS)
        self.unk_id = tk.token_to_id(self.UNK)
        self.vocab_size = tk.get_vocab_size()

    @classmethod
    def build(cls, words: Iterable[str]) -> WordTokenizer:
        vocab: dict[str, int] = {}
        for w in [cls.PAD, cls.BOS, cls.EOS, cls.UNK, *words]:
            vocab.setdefault(w, len(vocab))
        tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token=cls.UNK))
        tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        return cls(tk)

    def save(self, path: Path) -> None:
        from petridish.runs import atomic_write_text

        atomic_write_text(Path(path), self.tk.to_str())

    @classmethod
    def load(cls, path: Path) -> WordTokenizer:
        try:
            return cls(Tokenizer.from_file(str(path)))
        except Exception as e:  # tokenizers raises a bare Exception on bad files
            raise UserError(f"tokenizer {path} is missing or corrupt ({str(e).splitlines()[0]})") from None

    def _encode(self, texts: list[str]) -> list[list[int]]:
        out = [e.ids for e in self.tk.encode_batch(texts, add_special_tokens=False)]
        for t, ids in zip(texts, out):
            if self.unk_id in ids:  # a closed vocabulary: an unknown word is a bug in the organism's data
                raise ValueError(f"word outside the vocabulary in {t!r}")
        return out

    def encode_prompts(self, texts: list[str]) -> list[list[int]]:
        return [[self.bos_id, *ids] for ids in self._encode(texts)]

    def encode_completions(self, texts: list[str]) -> list[list[int]]:
        return self._encode(texts)

    def decode(self, ids: list[int]) -> str:
        return self.tk.decode(ids, skip_special_tokens=True)


class HFTokenizer:
    """A local Hugging Face tokenizer behind the same interface. Plain text prompts get the BOS token and their
    completions are encoded after a space; with `chat`, prompts are chat-template text (which carries its own
    special tokens) and a completion follows the generation prompt directly, as the model's own answers do."""

    def __init__(self, tok, chat: bool = False):  # transformers.PreTrainedTokenizerBase
        self.tok, self.chat = tok, chat
        if tok.eos_token_id is None:
            raise UserError("the --model tokenizer has no end-of-sequence token; set eos_token in its "
                            "tokenizer_config.json")
        self.eos_id = tok.eos_token_id
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        self.bos_id = tok.bos_token_id
        self.vocab_size = len(tok)

    def encode_prompts(self, texts: list[str]) -> list[list[int]]:
        ids = self.tok(texts, add_special_tokens=False)["input_ids"]
        bos = [self.bos_id] if self.bos_id is not None and not self.chat else []
        return [bos + x for x in ids]

    def encode_completions(self, texts: list[str]) -> list[list[int]]:
        space = "" if self.chat else " "
        return self.tok([space + t for t in texts], add_special_tokens=False)["input_ids"]

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(ids, skip_special_tokens=True).strip()
