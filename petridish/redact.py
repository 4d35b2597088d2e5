"""Secrets kept out of run folders: a model argument whose name looks like a credential (`-M api_key=...`,
`-M token=...`) is written as `***` in config.yaml, env.json's command line, result.json and the reports."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRET = re.compile(r"key|token|secret|passw|credential", re.IGNORECASE)


def is_secret(name: str) -> bool:
    return bool(_SECRET.search(name))


def redact(args: dict[str, Any]) -> dict[str, Any]:
    """`args` with every secret-looking value masked."""
    return {k: MASK if is_secret(k) else v for k, v in args.items()}


def redact_argv(argv: list[str]) -> list[str]:
    """A command line with the value of every secret-looking `NAME=VALUE` word masked."""
    out = []
    for word in argv:
        name, sep, _ = word.partition("=")
        out.append(f"{name}={MASK}" if sep and is_secret(name) else word)
    return out
