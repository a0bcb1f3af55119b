"""The `trainlint` command: check (the default), rules, explain, and the optional trace/lsp."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from typing import Any, List, Optional, Sequence, Tuple

import click

from trainlint import __version__, registry
from trainlint.config import Settings, cli_settings_or_exit

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _DefaultToCheck(click.Group):
    """`trainlint src/` means `trainlint check src/`, as with ruff."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="trainlint")
def main() -> None:
    """Find the silent bugs of PyTorch training code.

    `trainlint PATH...` is short for `trainlint check PATH...`.
    """


def selection_options(fn: Any) -> Any:
    fn = click.option(
        "--select",
        multiple=True,
        metavar="CODES",
        help="Only these rules: codes or prefixes (TL1, TL10, TL101, ALL), comma-separated.",
    )(fn)
    fn = click.option("--ignore", multiple=True, metavar="CODES", help="Disable these rules (codes or prefixes).")(fn)
    fn = click.option(
        "--extend-select", multiple=True, metavar="CODES", help="Enable these rules on top of the selection."
    )(fn)
    fn = click.option(
        "--config",
        type=click.Path(dir_okay=False),
        default=None,
        help="Read this TOML file instead of discovering pyproject.toml / trainlint.toml.",
    )(fn)
    fn = click.option("--isolated", is_flag=True, help="Ignore every configuration file.")(fn)
    return fn


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@selection_options
@click.option(
    "--output-format",
    "--format",
    "output_format",
    default="text",
    show_default=True,
    help="text, json, sarif or github.",
)
@click.option(
    "--statistics", is_flag=True, help="Print the number of findings per rule (suppressed ones counted apart)."
)
@click.option(
    "--profile",
    is_flag=True,
    help="Print on stderr where the time went: per phase (read, parse, facts, rules, positions, output) and per rule.",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary line.")
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply exclude patterns to files named on the command line too (for pre-commit).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Processes (default 0: one per CPU); the output is the same whatever N.",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the results cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache folder (default: $TRAINLINT_CACHE_DIR or .trainlint_cache next to the config).",
)
@click.option(
    "--no-prefilter", is_flag=True, help="Parse every file, even those that mention nothing the rules look for."
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what remains.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Include the unsafe fixes (with --fix or --diff; alone, show them as available).",
)
@click.option(
    "--diff", is_flag=True, help="Print the fixes as a unified diff and write nothing (exit 1 if there is a diff)."
)
@click.option("--show-fixes", is_flag=True, help="With --fix, list the fixes that were applied.")
def check(
    paths: Sequence[str],
    select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    extend_select: Tuple[str, ...],
    config: Optional[str],
    isolated: bool,
    output_format: str,
    statistics: bool,
    profile: bool,
    exit_zero: bool,
    quiet: bool,
    force_exclude: bool,
    jobs: int,
    no_cache: bool,
    cache_dir: Optional[str],
    no_prefilter: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    show_fixes: bool,
) -> None:
    """Lint Python files, folders and notebooks (default: the current folder)."""
    from trainlint.fixes.apply import fix_paths, fixable_files, keep_verified_fixes
    from trainlint.pipeline import RunOptions, check_paths
    from trainlint.progress import for_stderr
    from trainlint.report import formatters
    from trainlint.report.text import summary_line, use_color

    fmts = formatters()
    if output_format not in fmts:
        raise click.UsageError(f"unknown output format {output_format!r}; choose from {', '.join(sorted(fmts))}")
    settings = cli_settings_or_exit(config, isolated, select, ignore, extend_select, EXIT_ERROR)
    missing = [p for p in paths if not (os.path.exists(p) or os.path.islink(p))]
    if missing:
        raise click.UsageError(f"no such file or folder: {', '.join(missing)}")
    progress = for_stderr()
    if fix or diff:
        if profile:
            click.echo("trainlint: --profile is not supported with --fix/--diff; ignored", err=True)
        sys.exit(
            _fix(
                list(paths) or ["."],
                settings,
                force_exclude,
                unsafe_fixes,
                diff,
                show_fixes,
                output_format,
                statistics,
                exit_zero,
                quiet,
            )
        )
    timings = None
    if profile:
        from trainlint.timing import Timings

        timings = Timings()
    started = time.perf_counter()
    try:
        options = RunOptions(
            jobs=jobs, use_cache=not no_cache, cache_dir=cache_dir, prefilter=not no_prefilter, timings=timings
        )
        result = check_paths(
            list(paths) or ["."], settings, force_exclude=force_exclude, progress=progress, options=options
        )
        # Offer only the fixes that `--fix` would then apply, where fixes are shown: the text
        # hint, the JSON `fix` field, SARIF's `fixes`.
        shows_fixes = output_format in ("json", "sarif") or (output_format == "text" and not quiet and not statistics)
        fixable = fixable_files(result) if shows_fixes else []
        if fixable:
            try:
                keep_verified_fixes(result, fix_paths(fixable, settings, unsafe=True, force_exclude=force_exclude))
            except Exception as exc:  # the findings stand; only the fix offers go unverified
                click.echo(f"trainlint: warning: fixes not verified ({type(exc).__name__}: {exc})", err=True)
    except Exception as exc:  # a defect of trainlint: say so, exit 2
        click.echo(f"trainlint: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    finally:
        if progress is not None:
            progress.close()
    output_started = time.perf_counter()
    if statistics:
        _print_statistics(result, output_format)
    else:
        out = fmts[output_format](result)
        if out:
            click.echo(out, nl=False, color=output_format == "text" and use_color())
    if not quiet and output_format == "text" and not statistics:
        click.echo(summary_line(result), err=True)
        hint = _fix_hint(result.diagnostics, unsafe_fixes)
        if hint:
            click.echo(hint, err=True)
    if timings is not None:
        now = time.perf_counter()
        timings.add("output", now - output_started)
        click.echo(timings.render(elapsed=now - started), err=True, nl=False)
    if result.internal_errors:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if result.diagnostics and not exit_zero else EXIT_CLEAN)


def _fix_hint(diagnostics: Sequence[Any], unsafe: bool) -> str:
    safe = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability == "safe")
    risky = sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability != "safe")
    if unsafe and safe + risky:
        return f"{safe + risky} fixable with `--fix --unsafe-fixes`."
    parts = []
    if safe:
        parts.append(f"{safe} fixable with `--fix`")
    if risky:
        parts.append(f"{risky} more with `--fix --unsafe-fixes` (review them: they change behaviour)")
    return "; ".join(parts) + ("." if parts else "")


def _fix(
    paths: List[str],
    settings: Settings,
    force_exclude: bool,
    unsafe: bool,
    diff: bool,
    show_fixes: bool,
    output_format: str,
    statistics: bool,
    exit_zero: bool,
    quiet: bool,
) -> int:
    """`--fix` / `--diff`: fix in memory, check every fix, then write (or print the diff)."""
    from trainlint.fixes.apply import describe_applied, fix_paths, unified_diff, write_changes
    from trainlint.pipeline import check_paths
    from trainlint.report import formatters
    from trainlint.report.text import summary_line, use_color

    try:
        run = fix_paths(paths, settings, unsafe=unsafe, force_exclude=force_exclude)
    except Exception as exc:  # a defect of trainlint: say so, exit 2, write nothing
        click.echo(f"trainlint: internal error: {type(exc).__name__}: {exc}", err=True)
        return EXIT_ERROR
    for rec in run.dropped:
        click.echo(
            f"trainlint: warning: {rec.path}: fix for {rec.code} not applied ({rec.description}): {rec.reason}",
            err=True,
        )
    for warning in run.warnings:
        click.echo(f"trainlint: warning: {warning}", err=True)
    if diff:
        text = unified_diff(run)
        if text:
            click.echo(text, nl=False)
        n = run.resolved
        if not quiet:
            click.echo(f"Would fix {n} problem{'s' if n != 1 else ''}." if n else "No fixes available.", err=True)
        return EXIT_FINDINGS if text else EXIT_CLEAN
    problems = write_changes(run)
    for problem in problems:
        click.echo(f"trainlint: warning: {problem}", err=True)
    result = run.result
    if problems:  # what is on disk is not what was fixed in memory: report from the disk
        result = check_paths(paths, settings, force_exclude=force_exclude)
    if show_fixes:
        click.echo("\n".join(describe_applied(run)), err=True)
    if statistics:
        _print_statistics(result, output_format)
    else:
        out = formatters()[output_format](result)
        if out:
            click.echo(out, nl=False, color=output_format == "text" and use_color())
    if not quiet and output_format == "text" and not statistics:
        n = run.resolved if not problems else 0
        fixed = f"Fixed {n} problem{'s' if n != 1 else ''}. " if n else ""
        click.echo(fixed + summary_line(result), err=True)
    if result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.diagnostics and not exit_zero else EXIT_CLEAN


def _print_statistics(result: Any, output_format: str) -> None:
    found = Counter(d.code for d in result.diagnostics)
    suppressed = Counter(d.code for d in result.suppressed)
    codes = sorted(set(found) | set(suppressed))
    if output_format == "json":
        rows = [
            {"code": c, "name": registry.RULES[c].name, "count": found[c], "suppressed": suppressed[c]} for c in codes
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for c in codes:
        extra = f"  ({suppressed[c]} suppressed)" if suppressed[c] else ""
        click.echo(f"{found[c]:5d}  {c}  {registry.RULES[c].name}{extra}")
    total = sum(found.values())
    extra = f"  ({sum(suppressed.values())} suppressed)" if suppressed else ""
    click.echo(f"{total:5d}  problem{'' if total == 1 else 's'} in total{extra}")


@main.command("rules")
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def rules_cmd(output_format: str) -> None:
    """List every rule: code, name, family, default, fixable, summary."""
    from trainlint.rules import load_rules

    load_rules()
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "family": r.family,
            "kind": r.kind,
            "severity": r.severity.value,
            "default": r.default_enabled,
            "fixable": r.fixable,
            "summary": r.summary,
        }
        for r in registry.all_rules()
    ]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        flags = ("on " if row["default"] else "off") + (" fix" if row["fixable"] else "    ")
        click.echo(f"{row['code']}  {row['name']:<36} {row['family']:<8} {flags}  {row['summary']}")


@main.command()
@click.argument("rule")
def explain(rule: str) -> None:
    """Print a rule's page (by code, e.g. TL101, or name, e.g. missing-zero-grad)."""
    from trainlint.pages import page_for

    info = registry.lookup(rule)
    if info is None:
        click.echo(f"trainlint: error: unknown rule {rule!r} (see `trainlint rules`)", err=True)
        sys.exit(EXIT_ERROR)
    page = page_for(info.code)
    if page is None:
        click.echo(f"{info.code} {info.name}: {info.summary}")
        click.echo("(the rule's page is missing from this installation)", err=True)
        return
    click.echo(page, nl=not page.endswith("\n"))


def _register_optional() -> None:
    try:
        from trainlint.runtime.parent.command import trace
    except ImportError:
        pass
    else:
        main.add_command(trace)
    try:
        from trainlint.lsp_command import lsp
    except ImportError:
        pass
    else:
        main.add_command(lsp)


_register_optional()


if __name__ == "__main__":
    main()
