"""The run folder: one self-describing directory per invocation.

    config.yaml          fully resolved config
    env.json             versions, git commit, threads, platform, seeds, command line
    metrics.jsonl        step-wise records (append-only; one write per line)
    jobs/<key>.json      each finished job's output (its existence marks the job done; resume skips it)
    checkpoints/<key>/   safetensors: stage outputs and in-progress training state
    result.json          claims, metrics, controls, timings, card
    report.html, *.png   the human-readable report

Every file except metrics.jsonl is written atomically (temp file + rename), so a killed run never leaves a
half-written file behind, and nothing already finished is rewritten by a resume.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from petridish.errors import UserError
from petridish.redact import redact_argv


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, allow_nan=True) + "\n")


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """safetensors, atomically (write to a temp name in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp, metadata=metadata)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors checkpoint; a missing or corrupt file is a UserError that says what to do."""
    if not Path(path).is_file():
        raise UserError(f"checkpoint not found: {path} (delete the job's output in jobs/ to recompute it)")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise UserError(
            f"checkpoint {path} is corrupt ({str(e).splitlines()[0]}); delete it to recompute, or start a new run"
        ) from None


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment(seeds: list[int], threads: int, workers: int) -> dict:
    pkgs = {}
    for name in ("petridish", "torch", "numpy", "scipy", "scikit-learn", "transformers", "tokenizers",
                 "safetensors", "peft", "gymnasium", "pydantic", "matplotlib"):
        try:
            pkgs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pkgs[name] = None
    return {
        "packages": pkgs,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads_per_worker": threads,
        "workers": workers,
        "cuda": torch.cuda.is_available(),
        "git_commit": _git_commit(),
        "seeds": seeds,
        "argv": redact_argv(sys.argv),  # `-M api_key=...` and kin masked
    }


class RunDir:
    """A run folder. Create with `RunDir.create` (refuses a non-empty folder) or open with `RunDir.open`."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, path: Path) -> RunDir:
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise UserError(f"run folder {path} already exists; pass --resume {path} to continue it, "
                            f"or choose another --out")
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> RunDir:
        path = Path(path)
        if not (path / "config.yaml").is_file():
            raise UserError(f"{path} is not a petridish run folder (no config.yaml); give the folder "
                            f"that `petridish run` wrote")
        return cls(path)

    # --- files -----------------------------------------------------------------------------------------
    def write_json(self, name: str, obj: Any) -> None:
        atomic_write_json(self.path / name, obj)

    def read_json(self, name: str) -> Any:
        p = self.path / name
        try:
            return json.loads(p.read_text())
        except FileNotFoundError:
            raise UserError(f"{p} is missing; the run has not finished (resume it with --resume {self.path})") \
                from None
        except json.JSONDecodeError as e:
            raise UserError(f"{p} is corrupt ({e}); re-run `petridish run --resume {self.path}`") from None

    def append_metric(self, record: dict) -> None:
        """One os.write per line on an O_APPEND descriptor: lines from concurrent workers never interleave."""
        line = (json.dumps(record) + "\n").encode()
        fd = os.open(self.path / "metrics.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def read_metrics(self) -> list[dict]:
        """All metric records; a record re-logged after a resume replaces the earlier one (same job, step, name)."""
        p = self.path / "metrics.jsonl"
        if not p.exists():
            return []
        seen: dict[tuple, dict] = {}
        for line in p.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            seen[(r.get("job"), r.get("phase"), r.get("step"), r.get("name"))] = r
        return list(seen.values())

    # --- jobs --------------------------------------------------------------------------------------------
    def job_file(self, key: str) -> Path:
        return self.path / "jobs" / f"{key}.json"

    def job_done(self, key: str) -> bool:
        return self.job_file(key).is_file()

    def job_output(self, key: str) -> dict:
        return self.read_json(f"jobs/{key}.json")

    def save_job_output(self, key: str, out: dict) -> None:
        atomic_write_json(self.job_file(key), out)

    def ckpt_dir(self, key: str) -> Path:
        d = self.path / "checkpoints" / key
        d.mkdir(parents=True, exist_ok=True)
        return d
