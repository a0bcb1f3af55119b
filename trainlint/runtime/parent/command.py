"""`trainlint trace`: run the user's script for a few instrumented steps and judge every suspicion.

Importing this module must not import torch (the base install has none); the child process
imports it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

import click

from trainlint.runtime.judging.context import fmt
from trainlint.runtime.judging.registry import EVAL_WAIT_STEPS
from trainlint.runtime.parent.progress import Progress
from trainlint.runtime.records import LrFindSettings

if TYPE_CHECKING:
    from trainlint.runtime.judging.report import TraceReport
    from trainlint.runtime.judging.run_compare import SavedRun
    from trainlint.runtime.records import WatchSettings

EXIT_ERROR = 2


# `python -m torch.distributed.run` (torchrun) and the older `torch.distributed.launch`.
_LAUNCHER_MODULES = ("torch.distributed.run", "torch.distributed.launch")


def _is_launcher(script: Optional[str], module: Optional[str]) -> bool:
    if module is not None:
        return module in _LAUNCHER_MODULES
    return script is not None and os.path.basename(script) in ("torchrun", "torchrun.py")


# torchrun options that take a value as the next argument (the others are flags).
_LAUNCHER_VALUED = {
    "--nproc-per-node",
    "--nproc_per_node",
    "--nnodes",
    "--node-rank",
    "--node_rank",
    "--master-addr",
    "--master_addr",
    "--master-port",
    "--master_port",
    "--rdzv-backend",
    "--rdzv_backend",
    "--rdzv-endpoint",
    "--rdzv_endpoint",
    "--rdzv-id",
    "--rdzv_id",
    "--rdzv-conf",
    "--rdzv_conf",
    "--max-restarts",
    "--max_restarts",
    "--monitor-interval",
    "--monitor_interval",
    "--start-method",
    "--start_method",
    "--role",
    "--log-dir",
    "--log_dir",
    "-r",
    "--redirects",
    "-t",
    "--tee",
    "--local-addr",
    "--local_addr",
}


def _launched(args: Tuple[str, ...], nproc: int) -> Tuple[Optional[str], Optional[str], Tuple[str, ...], int]:
    """(script, module, script arguments, ranks) of a torchrun command line's worker."""
    i = 0
    options: Dict[str, str] = {}
    while i < len(args) and args[i].startswith("-") and args[i] != "-m":
        name, eq, value = args[i].partition("=")
        if not eq and name in _LAUNCHER_VALUED and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        options[name.replace("_", "-")] = value
        i += 1
    nodes = options.get("--nnodes", "1")
    if nodes.split(":")[-1] != "1":
        raise ValueError(f"only single-node runs can be traced (--nnodes={nodes})")
    per_node = options.get("--nproc-per-node", str(nproc))
    if not per_node.isdigit() or int(per_node) < 1:
        raise ValueError(f"--nproc-per-node must be a number of processes here, not {per_node!r}")
    rest = args[i:]
    if rest[:1] == ("-m",) and len(rest) >= 2:
        return None, rest[1], rest[2:], int(per_node)
    if not rest:
        raise ValueError("the launcher's command line names no script to run")
    if not os.path.isfile(rest[0]):
        raise ValueError(f"no such script: {rest[0]}")
    return rest[0], None, rest[1:], int(per_node)


def _torch_available() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


@click.command("trace", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("script", required=False)
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option("-m", "module", metavar="MODULE", default=None, help="Run a module as `python -m MODULE` does.")
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=None,
    help="Optimizer steps to trace (default 2; with --lr-find, the range test's steps, default 100).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds before the script (and everything it started) is killed.  [default: 300; none with --watch]",
)
@click.option(
    "--eval-wait",
    "eval_wait",
    type=click.IntRange(min=0),
    default=EVAL_WAIT_STEPS,
    show_default=True,
    help="When a finding needs an evaluation pass (TL403-TL405) and none ran within --steps, "
    "go on for up to this many more optimizer steps (watching forward passes only); 0: never.",
)
@click.option(
    "--overfit-batch",
    "overfit",
    type=click.IntRange(min=0),
    default=0,
    help="Feed the first batch K times (K optimizer steps) and check the loss falls (TL912).",
)
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules (codes or prefixes, comma-separated).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Disable these rules.")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Enable these rules on top of the selection.")
@click.option("--config", type=click.Path(dir_okay=False), default=None, help="Read this TOML file for settings.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--no-static", is_flag=True, help="Skip the static checks; report runtime findings only.")
@click.option(
    "--nproc-per-node",
    "nproc",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Run this many ranks at once, each with the environment torchrun gives a worker "
    "(RANK, WORLD_SIZE, MASTER_ADDR, ...), and merge their findings into one report. "
    "`-m torch.distributed.run -- --nproc_per_node=N SCRIPT` is read the same way.",
)
@click.option(
    "--lr-find",
    "lr_find",
    is_flag=True,
    help="Run a learning-rate range test instead of the instrumented steps: every param group's "
    "lr rises exponentially from --lr-min to --lr-max over --steps optimizer steps (set right "
    "before each step, over any scheduler), stopping once the smoothed loss diverges; reports "
    "the suggested range and compares the script's lr with it (TL914).",
)
@click.option(
    "--lr-min",
    "lr_min",
    type=click.FloatRange(min=0.0, min_open=True),
    default=LrFindSettings.min_lr,
    show_default=True,
    help="With --lr-find: the first rate tried.",
)
@click.option(
    "--lr-max",
    "lr_max",
    type=click.FloatRange(min=0.0, min_open=True),
    default=LrFindSettings.max_lr,
    show_default=True,
    help="With --lr-find: the last rate tried.",
)
@click.option(
    "--report",
    "report_path",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the trace as a self-contained HTML page (loss per step, per-layer gradient "
    "norms, activation statistics, update/weight ratios, the lr range test, each finding linked to "
    "its plot). It is formatted after the run from what was collected: the traced steps cost the same.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed random, numpy and torch in the traced process before the script starts, so that "
    "two traces can be compared (a script that seeds itself overrides it).",
)
@click.option("--no-seed", is_flag=True, help="Do not seed: the script draws what it would draw on its own.")
@click.option(
    "--save",
    "save_path",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save this run's per-step, per-layer evidence (loss, gradient norms, update ratios, "
    "activation statistics) as JSON, to compare a later trace with it (--baseline).",
)
@click.option(
    "--baseline",
    "baseline_path",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Compare this run with one saved by --save, layer by layer (aligned by name) and step by "
    "step, and report where they first diverge beyond noise.",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Let the script run to its end (or until Ctrl-C) under sampled audits instead of the "
    "instrumented steps, printing each symptom as it appears: a non-finite loss or gradient "
    "(TL901), a loss spike (TL918), a gradient explosion (TL903), a stalled loss (TL912).",
)
@click.option(
    "--audit-every",
    "audit_every",
    type=click.IntRange(min=1),
    default=None,
    help="With --watch: audit every N optimizer steps (default: chosen so that audits cost about 2% "
    "of the steps' time, between every step and every 100th).",
)
@click.option(
    "--stop-on",
    "stop_on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="With --watch: end the run at the first symptom of this severity or worse, and report.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
def trace(
    script: Optional[str],
    script_args: Tuple[str, ...],
    module: Optional[str],
    steps: Optional[int],
    timeout: Optional[float],
    eval_wait: int,
    overfit: int,
    output_format: str,
    select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    config: Optional[str],
    isolated: bool,
    no_static: bool,
    nproc: int,
    lr_find: bool,
    lr_min: float,
    lr_max: float,
    report_path: Optional[str],
    seed: int,
    no_seed: bool,
    save_path: Optional[str],
    baseline_path: Optional[str],
    watch: bool,
    audit_every: Optional[int],
    stop_on: Optional[str],
    quiet: bool,
) -> None:
    """Run SCRIPT for a few instrumented optimizer steps and confirm or refute each finding.

    \b
    trainlint trace train.py --steps 2 -- --epochs 1 --lr 0.1
    trainlint trace -m mypackage.train -- --config small.yaml
    trainlint trace --nproc-per-node 2 train_ddp.py
    trainlint trace --lr-find train.py --lr-min 1e-6 --lr-max 1 --steps 100
    trainlint trace train.py --steps 20 --report report.html
    trainlint trace train.py --steps 5 --save good.json      (on a known-good commit)
    trainlint trace train.py --steps 5 --baseline good.json  (after a change)
    trainlint trace train.py --watch --stop-on error

    The script runs unmodified in a child process (same interpreter, arguments and working
    folder), is stopped after --steps optimizer steps, and its static findings come back
    confirmed, refuted or unverified, with the runtime-only findings TL901-TL919. With
    --lr-find the run is a learning-rate range test instead: it suggests a range of rates,
    judges TL501 by it, and reports TL914 when the script's rate is far outside it. With
    --watch the script runs to its end under sampled audits, and each symptom is printed as
    it appears.
    Exit status: 0 every suspicion refuted and nothing observed, 1 findings, 2 the script
    could not be started.
    """
    if module is not None and script is not None:
        script_args = (script,) + script_args
        script = None
    if module is None and script is None:
        raise click.UsageError("give a SCRIPT to trace, or -m MODULE")
    if _is_launcher(script, module):
        # Traced as is, the launcher itself would run and its workers (other processes) would
        # go unseen: the ranks are started here instead, as the launcher would start them.
        try:
            script, module, script_args, nproc = _launched(tuple(script_args), nproc)
        except ValueError as exc:
            click.echo(f"trainlint: error: {exc}", err=True)
            sys.exit(EXIT_ERROR)
    if lr_find and (overfit or nproc > 1):
        raise click.UsageError(
            "--lr-find runs one process on the script's own batches: drop --overfit-batch/--nproc-per-node"
        )
    if lr_find and lr_min >= lr_max:
        raise click.UsageError(f"--lr-min ({lr_min:g}) must be below --lr-max ({lr_max:g})")
    _check_watch_options(watch, audit_every, stop_on, lr_find or bool(overfit) or nproc > 1 or bool(baseline_path))
    baseline = _files_before_the_run(report_path, save_path, baseline_path, lr_find)
    if not _torch_available():
        click.echo("trainlint: error: `trainlint trace` needs PyTorch: install trainlint[trace]", err=True)
        sys.exit(EXIT_ERROR)
    if script is not None and not os.path.isfile(script):
        click.echo(f"trainlint: error: no such script: {script}", err=True)
        sys.exit(EXIT_ERROR)
    from trainlint.config import cli_settings_or_exit

    settings = cli_settings_or_exit(config, isolated, select, ignore, extend_select, EXIT_ERROR)

    from trainlint.runtime.api import run_trace
    from trainlint.runtime.parent.runner import Target

    target = Target(script=script, module=module, argv=list(script_args))
    range_test = LrFindSettings(min_lr=lr_min, max_lr=lr_max, steps=steps or 100) if lr_find else None
    watching = _watch_settings(audit_every, stop_on) if watch else None
    steps = steps or 2
    total = range_test.steps if range_test is not None else overfit or steps
    progress = Progress(0 if watch else total, quiet)
    if timeout is None:
        timeout = NO_TIMEOUT if watch else DEFAULT_TIMEOUT
    shown = script or f"-m {module}"

    def static_done(files: Any) -> None:
        if files:
            progress.say(f"static checks done on {len(files)} file(s)")
        if range_test is not None:
            progress.say(
                f"running {shown} for a learning-rate range test ({total} step(s), lr {fmt(lr_min)} -> "
                f"{fmt(lr_max)}, timeout {fmt(timeout)} s)"
            )
        elif watching is not None:
            every = f"every {audit_every} step(s)" if audit_every else "at an interval that keeps them cheap"
            progress.say(f"running {shown} to its end under the watcher (audits {every}; Ctrl-C stops it)")
        else:
            progress.say(f"running {shown} under the tracer ({total} step(s), timeout {fmt(timeout)} s)")

    try:
        report = run_trace(
            target,
            steps=steps,
            timeout=timeout,
            overfit=overfit,
            settings=settings,
            run_static=not no_static and not watch,
            on_record=progress,
            on_static_done=static_done,
            eval_wait=eval_wait,
            # JSON goes to stdout, so the script's own prints go to stderr.
            stdout=sys.stderr if output_format == "json" else None,
            nproc=nproc,
            lr_find=range_test,
            seed=None if no_seed else seed,
            watch=watching,
        )
    except KeyboardInterrupt:
        click.echo("trainlint: interrupted", err=True)
        sys.exit(130)
    if baseline is not None and baseline_path is not None:
        report.compare_with(baseline, baseline_path)
    click.echo(report.render(output_format), nl=False)
    _files_after_the_run(report, output_format, report_path, save_path)
    sys.exit(report.exit_code)


DEFAULT_TIMEOUT = 300.0
NO_TIMEOUT = 10.0**9  # `--watch` runs as long as the script does


def _check_watch_options(watch: bool, audit_every: Optional[int], stop_on: Optional[str], other_mode: bool) -> None:
    if not watch and (audit_every is not None or stop_on is not None):
        raise click.UsageError("--audit-every and --stop-on go with --watch")
    if watch and other_mode:
        raise click.UsageError(
            "--watch runs one process to its end: drop --lr-find/--overfit-batch/--nproc-per-node/--baseline"
        )


def _watch_settings(audit_every: Optional[int], stop_on: Optional[str]) -> "WatchSettings":
    from trainlint import registry
    from trainlint.runtime.api import WATCH_CHECKS
    from trainlint.runtime.records import WatchSettings

    worst = {"error": ("error",), "warning": ("error", "warning")}.get(stop_on or "", ())
    stop = [code for code in WATCH_CHECKS if registry.RULES[code].severity.value in worst]
    return WatchSettings(every=audit_every, stop_codes=stop)


def _files_before_the_run(
    report_path: Optional[str], save_path: Optional[str], baseline_path: Optional[str], lr_find: bool
) -> Optional["SavedRun"]:
    """Checked before the run, which may take minutes, rather than after it: the files to
    write can be written, and the baseline to compare with reads as a saved run."""
    for path, what in ((report_path, "the report"), (save_path, "the run")):
        problem = unwritable(path) if path is not None else ""
        if problem:
            click.echo(f"trainlint: error: cannot write {what} {path}: {problem}", err=True)
            sys.exit(EXIT_ERROR)
    if baseline_path is None:
        return None
    from trainlint.runtime.judging import run_compare

    if lr_find:
        raise click.UsageError("--baseline compares instrumented steps: drop --lr-find")
    try:
        return run_compare.read(baseline_path)
    except run_compare.RunFileError as exc:
        click.echo(f"trainlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)


def _files_after_the_run(
    report: "TraceReport", output_format: str, report_path: Optional[str], save_path: Optional[str]
) -> None:
    # With JSON on stdout, the lines go to stderr so that stdout stays one JSON document.
    for path, render, what in (
        (report_path, lambda: report.render("html"), "html report written to"),
        (save_path, lambda: report.saved_run_json(), "run saved to"),
    ):
        if path is None:
            continue
        try:
            write_atomically(path, render())
        except OSError as exc:
            click.echo(f"trainlint: error: cannot write {path}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_ERROR)
        click.echo(f"{what} {path}", err=output_format == "json")


def unwritable(path: str) -> str:
    """Why `path` cannot be written ("" when it can, as far as can be told before writing)."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return "it is a folder"
    if not os.path.isdir(folder):
        return f"no such folder: {folder}"
    if not os.access(folder, os.W_OK):
        return f"the folder {folder} is not writable"
    return ""


def write_atomically(path: str, text: str) -> None:
    """Write through a temporary file in the same folder, then rename it into place: a reader
    never sees half a page, and a failed write leaves an existing file as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".trainlint-report-", suffix=".tmp", dir=folder)
    try:
        # mkstemp makes the file private (0600); a report is as readable as any file written.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
