"""Stored smoke outputs: the numbers each organism's smoke run gave before a refactor, so that moving code can be
shown to change no number (issue 20). `check(name, body)` compares a result body (claims, gates, metrics, or any
JSON-like record such as assays and detections) with `tests/stored/<name>.json`; with PETRIDISH_RECORD_STORED=1
it writes that file instead. Every number and string leaf is compared, floats to a relative 1e-6."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

STORED = Path(__file__).parent / "stored"
TEXT = {"statement", "threshold", "reason", "method", "note", "label", "quantity", "what"}
"""Prose fields: they quote numbers already compared, and their wording is not a number."""
MEASURED = ("_per_s", "fingerprint")
"""Leaves that are not results: speeds (timings of this machine) and fingerprints (hashes of the source code)."""


def _result(path: str) -> bool:
    return not any(part.endswith(MEASURED) for part in path.split("/"))


def flatten(x: Any, path: str = "") -> dict[str, Any]:
    """{"claims/R1/estimate": 0.25, ...}: list items under a record's id (claims, gates) or their index."""
    if isinstance(x, dict):
        out: dict[str, Any] = {}
        for k, v in x.items():
            if k not in TEXT:
                out.update(flatten(v, f"{path}/{k}"))
        return out
    if isinstance(x, (list, tuple)):
        out = {}
        for i, v in enumerate(x):
            name = v.get("id") or v.get("method") if isinstance(v, dict) else None
            out.update(flatten(v, f"{path}/{name or i}"))
        return out
    return {path: x}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        a, b = float(a), float(b)
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def check(name: str, body: Any, keys: tuple[str, ...] = ("claims", "gates", "metrics")) -> None:
    """Assert `body`'s numbers (only `keys` of a dict that has them) equal the stored ones."""
    if isinstance(body, dict) and any(k in body for k in keys):
        body = {k: body.get(k) for k in keys}
    got = {k: v for k, v in flatten(json.loads(json.dumps(body, default=asdict))).items() if _result(k)}
    file = STORED / f"{name}.json"
    if os.environ.get("PETRIDISH_RECORD_STORED") == "1":
        STORED.mkdir(exist_ok=True)
        file.write_text(json.dumps(got, indent=0, sort_keys=True) + "\n")
        return
    want = {k: v for k, v in json.loads(file.read_text()).items() if _result(k)}
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    differ = [(k, want[k], got[k]) for k in sorted(set(want) & set(got)) if not _same(want[k], got[k])]
    assert not (missing or extra or differ), (f"{name}: {len(differ)} numbers differ from {file.name} "
                                              f"(first: {differ[:5]}), missing {missing[:5]}, new {extra[:5]}")
