"""The run folder: one self-describing directory per invocation.

    config.yaml          fully resolved config
    env.json             versions, git commit, threads, platform, seeds, command line; cache hits (provenance)
    metrics.jsonl        step-wise records (append-only; one write per line)
    jobs/<key>.json      each finished job's output (its existence marks the job done; resume skips it)
    jobs/index.jsonl     the sha256 of each job file, appended before the file appears (its integrity record)
    checkpoints/<key>/   safetensors: stage outputs and in-progress training state
    result.json          claims, metrics, controls, timings, card
    report.html, *.png   the human-readable report
    .lock                held (flock) by the one process that creates or resumes the run; names its pid

Every file except metrics.jsonl is written atomically (temp file + rename), so a killed run never leaves a
half-written file behind, and nothing already finished is rewritten by a resume; a temp file left by a kill is
removed when the run resumes. Files get the user's umask, as `open()` would give them.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch and safetensors load on first use: `petridish show` and one-line errors stay quick
    import torch

from petridish.errors import UserError
from petridish.redact import redact_argv

TMP_SUFFIX = ".tmp"


def umask() -> int:
    """The process's umask, read without changing it where Linux allows (os.umask is a process-wide set)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_error(path: Path, e: OSError) -> UserError:
    """An OS error while writing a run file, as the one line the CLI prints."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return UserError(f"no space left writing {path}; free space and --resume")
    return UserError(f"cannot write {path} ({e.strerror or e}); fix that and --resume")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """The one way petridish writes a file: `write` fills a temp file beside `path`, which is then fsynced and
    renamed over it, so readers (and a resumed run) see the old file or the new one, never a part of one. The mode
    is 0666 & ~umask, as `open()` gives; an OS error (a full disk) is one line and leaves no temp file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    except OSError as e:
        raise write_error(path, e) from None
    try:
        os.close(fd)
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp (and safetensors' writer) make 0600
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise write_error(path, e) from None
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, allow_nan=True) + "\n")


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """safetensors, atomically (write to a temp name in the same folder, then rename)."""
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    def write(tmp: Path) -> None:
        try:
            save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata=metadata)
        except SafetensorError as e:  # an I/O error from the Rust writer: "... (os error 28)"
            code = re.search(r"os error (\d+)", str(e))
            if code:
                raise OSError(int(code.group(1)), os.strerror(int(code.group(1)))) from None
            raise

    atomic_write(path, write)


def remove_temp_files(folder: Path) -> None:
    """Temp files of writes cut short by a kill (only the folder's lock holder may call this)."""
    for p in Path(folder).rglob(f".*{TMP_SUFFIX}"):
        if p.is_file():
            p.unlink(missing_ok=True)


# --- one process per run folder ------------------------------------------------------------------------------
_HELD: dict[Path, int] = {}
"""Folders this process holds the lock of (a process may create a folder, then resume it, e.g. in tests)."""


def lock_folder(folder: Path) -> None:
    """Hold `folder/.lock` (flock) until this process exits; refuse, naming the holder, if another process has it.
    The kernel drops the lock when the holder dies, however it dies, so a killed run never blocks its resume."""
    folder = Path(folder).resolve()
    if folder in _HELD:
        return
    try:
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise write_error(folder / ".lock", e) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise UserError(f"{folder} is in use by process {holder} (a run or resume of it is under way); wait for "
                        f"it to finish, or stop it, then --resume") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD[folder] = fd


def unlock_folder(folder: Path) -> None:
    fd = _HELD.pop(Path(folder).resolve(), None)
    if fd is not None:
        os.close(fd)


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors checkpoint; a missing or corrupt file is a UserError that says what to do."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

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
    import torch

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


JOB_INDEX = "jobs/index.jsonl"
BAD_JOB_FIX = "delete jobs/{key}.json to re-run that job, or pass --rerun-bad"


class RunDir:
    """A run folder. `create` makes a new one (refusing a non-empty folder), `resume` reopens one to continue it
    (both hold its lock for this process's lifetime); `open` reads one."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, path: Path) -> RunDir:
        path = Path(path)
        exists = UserError(f"run folder {path} already exists; pass --resume {path} to continue it, "
                           f"or choose another --out")
        if (path.exists() and not path.is_dir()) or (path.is_dir() and any(p.name != ".lock" for p in path.iterdir())):
            raise exists  # before taking the lock, so that a refused folder gets no .lock file either
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise write_error(path, e) from None
        held = path.resolve() in _HELD
        lock_folder(path)  # two processes creating the same folder at once: one of them stops here
        if any(p.name != ".lock" for p in path.iterdir()):
            if not held:
                unlock_folder(path)
            raise exists
        return cls(path)

    @classmethod
    def open(cls, path: Path) -> RunDir:
        path = Path(path)
        if not (path / "config.yaml").is_file():
            raise UserError(f"{path} is not a petridish run folder (no config.yaml); give the folder "
                            f"that `petridish run` wrote")
        return cls(path)

    @classmethod
    def resume(cls, path: Path, rerun_bad: bool = False) -> RunDir:
        """Reopen a run to continue it: hold its lock, drop temp files a kill left, and (rerun_bad) delete the job
        files that fail their check so that those jobs run again."""
        run = cls.open(path)
        lock_folder(run.path)
        remove_temp_files(run.path)
        run._adopt_unindexed_jobs()
        if rerun_bad:
            for key in run.bad_jobs():
                p = run.job_file(key)
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        return run

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
        except (json.JSONDecodeError, UnicodeDecodeError, IsADirectoryError) as e:
            raise UserError(f"{p} is corrupt ({str(e).splitlines()[0]}); re-run `petridish run --resume "
                            f"{self.path}`") from None

    def _append_line(self, name: str, record: dict) -> None:
        """One os.write per line on an O_APPEND descriptor: lines from concurrent workers never interleave."""
        line = (json.dumps(record) + "\n").encode()
        path = self.path / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as e:
            raise write_error(path, e) from None

    def append_metric(self, record: dict) -> None:
        self._append_line("metrics.jsonl", record)

    def read_metrics(self) -> list[dict]:
        """All metric records; a record re-logged after a resume replaces the earlier one: same job, phase, step and
        the same fields (a loss and an eval logged at one step are two records, both kept)."""
        p = self.path / "metrics.jsonl"
        if not p.exists():
            return []
        seen: dict[tuple, dict] = {}
        for line in p.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            seen[(r.get("job"), r.get("phase"), r.get("step"), tuple(sorted(r)))] = r
        return list(seen.values())

    # --- jobs --------------------------------------------------------------------------------------------
    def job_file(self, key: str) -> Path:
        return self.path / "jobs" / f"{key}.json"

    def job_done(self, key: str) -> bool:
        """A job file exists (job_output checks it: a bad file is reported, never re-run or used silently)."""
        return self.job_file(key).exists()

    def _job_index(self) -> dict[str, str]:
        """Job key -> sha256 of its file; the last record of a key wins (a re-run job appends a new one)."""
        try:
            lines = (self.path / JOB_INDEX).read_text().splitlines()
        except FileNotFoundError:
            return {}
        index = {}
        for line in lines:
            try:
                r = json.loads(line)
                index[r["key"]] = r["sha256"]
            except (json.JSONDecodeError, KeyError, TypeError):
                continue  # a line cut short by a kill
        return index

    def _read_job(self, key: str) -> tuple[dict | None, bytes, str | None]:
        """(output, its bytes, None), or (None, b"", what is wrong with the file's form)."""
        p = self.job_file(key)
        if p.is_dir():
            return None, b"", "a directory"
        try:
            data = p.read_bytes()
        except OSError as e:
            return None, b"", f"unreadable ({e.strerror})"
        if not data.strip():
            return None, b"", "empty"
        try:
            out = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None, b"", "not valid JSON (cut short?)"
        if not isinstance(out, dict) or "wall_s" not in out:
            return None, b"", "not a job output"
        return out, data, None

    def _check_job(self, key: str, index: dict[str, str]) -> tuple[dict | None, str | None]:
        """(output, None), or (None, what is wrong with the job's file)."""
        out, data, problem = self._read_job(key)
        if problem:
            return None, problem
        if key not in index:
            return None, f"without an integrity record in {JOB_INDEX}"
        if hashlib.sha256(data).hexdigest() != index[key]:
            return None, "edited since the job wrote it (its sha256 differs from its record)"
        return out, None

    def job_output(self, key: str) -> dict:
        out, problem = self._check_job(key, self._job_index())
        if problem:
            raise UserError(f"the output of job '{key}' ({self.job_file(key)}) is {problem}; "
                            + BAD_JOB_FIX.format(key=key))
        return out

    def _adopt_unindexed_jobs(self) -> None:
        """A run folder written before job files had integrity records (no jobs/index.jsonl at all): record the
        hashes of its well-formed job files as they are now, and say so, rather than re-running every job."""
        jobs = self.path / "jobs"
        if (self.path / JOB_INDEX).exists() or not jobs.is_dir():
            return
        adopted = 0
        for f in sorted(jobs.rglob("*.json")):
            key = str(f.relative_to(jobs))[: -len(".json")]
            _, data, problem = self._read_job(key)
            if problem is None:
                self._append_line(JOB_INDEX, {"key": key, "sha256": hashlib.sha256(data).hexdigest()})
                adopted += 1
        if adopted:
            print(f"petridish: {self.path} predates job integrity records; its {adopted} well-formed job files are "
                  f"trusted as they are now (recorded in {JOB_INDEX})", file=sys.stderr)

    def bad_jobs(self) -> list[str]:
        """The keys of every job file under jobs/ that fails its check."""
        index = self._job_index()
        jobs = self.path / "jobs"
        keys = sorted(str(p.relative_to(jobs))[: -len(".json")] for p in jobs.rglob("*.json")) if jobs.is_dir() else []
        return [k for k in keys if self._check_job(k, index)[1]]

    def save_job_output(self, key: str, out: dict) -> None:
        """The job file and its integrity record: the record goes first, so a file never exists without one."""
        data = (json.dumps(out, indent=1, allow_nan=True) + "\n").encode()
        self._append_line(JOB_INDEX, {"key": key, "sha256": hashlib.sha256(data).hexdigest()})
        atomic_write_bytes(self.job_file(key), data)

    def ckpt_dir(self, key: str) -> Path:
        d = self.path / "checkpoints" / key
        d.mkdir(parents=True, exist_ok=True)
        return d
