"""`trainlint trace`: run the user's script for a few instrumented steps and judge every suspicion.

Importing this module must not import torch (the base install has none); the child process
imports it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any, Optional, Tuple

import click

from trainlint.runtime.judging.context import fmt
from trainlint.runtime.judging.registry import EVAL_WAIT_STEPS
from trainlint.runtime.parent.progress import Progress

EXIT_ERROR = 2


def _torch_available() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


@click.command("trace", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("script", required=False)
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option("-m", "module", metavar="MODULE", default=None, help="Run a module as `python -m MODULE` does.")
@click.option("--steps", type=click.IntRange(min=1), default=2, show_default=True, help="Optimizer steps to trace.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    help="Seconds before the script (and everything it started) is killed.",
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
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
def trace(
    script: Optional[str],
    script_args: Tuple[str, ...],
    module: Optional[str],
    steps: int,
    timeout: float,
    eval_wait: int,
    overfit: int,
    output_format: str,
    select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    config: Optional[str],
    isolated: bool,
    no_static: bool,
    quiet: bool,
) -> None:
    """Run SCRIPT for a few instrumented optimizer steps and confirm or refute each finding.

    \b
    trainlint trace train.py --steps 2 -- --epochs 1 --lr 0.1
    trainlint trace -m mypackage.train -- --config small.yaml

    The script runs unmodified in a child process (same interpreter, arguments and working
    folder), is stopped after --steps optimizer steps, and its static findings come back
    confirmed, refuted or unverified, with the runtime-only findings TL901-TL913.
    Exit status: 0 every suspicion refuted and nothing observed, 1 findings, 2 the script
    could not be started.
    """
    if module is not None and script is not None:
        script_args = (script,) + script_args
        script = None
    if module is None and script is None:
        raise click.UsageError("give a SCRIPT to trace, or -m MODULE")
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
    total = overfit or steps
    progress = Progress(total, quiet)
    shown = script or f"-m {module}"

    def static_done(files: Any) -> None:
        if files:
            progress.say(f"static checks done on {len(files)} file(s)")
        progress.say(f"running {shown} under the tracer ({total} step(s), timeout {fmt(timeout)} s)")

    try:
        report = run_trace(
            target,
            steps=steps,
            timeout=timeout,
            overfit=overfit,
            settings=settings,
            run_static=not no_static,
            on_record=progress,
            on_static_done=static_done,
            eval_wait=eval_wait,
            # JSON goes to stdout, so the script's own prints go to stderr.
            stdout=sys.stderr if output_format == "json" else None,
        )
    except KeyboardInterrupt:
        click.echo("trainlint: interrupted", err=True)
        sys.exit(130)
    click.echo(report.render(output_format), nl=False)
    sys.exit(report.exit_code)
