"""The `trainlint` command: check (the default), rules, explain, and the optional trace/lsp."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple

import click

from trainlint import __version__, registry
from trainlint.config import Settings, cli_settings_or_exit

if TYPE_CHECKING:
    from trainlint.baseline import Baseline, Outcome
    from trainlint.diagnostics import CheckResult

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
    "--statistics",
    is_flag=True,
    help="Print the number of findings per rule (suppressed and baselined ones counted apart).",
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
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Hide the findings recorded in this baseline file; fail only on new ones (default: the configuration's `baseline`).",
)
@click.option(
    "--update-baseline",
    is_flag=True,
    help="Record the current findings in the baseline file (created if missing), then exit 0.",
)
@click.option(
    "--no-shrink-baseline",
    is_flag=True,
    help="Leave the baseline file as it is (read-only CI); by default entries whose finding is gone are dropped.",
)
@click.option("--no-baseline", is_flag=True, help="Ignore the configured baseline: report every finding.")
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Add a `# noqa: CODE` comment for every finding (those in the baseline excepted), then exit.",
)
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
    baseline_file: Optional[str],
    update_baseline: bool,
    no_shrink_baseline: bool,
    no_baseline: bool,
    add_noqa: bool,
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
    baseline = _load_baseline(settings, baseline_file, no_baseline, update_baseline, add_noqa, fix or diff)
    shrink = not no_shrink_baseline
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
                baseline,
                shrink,
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
        outcome = (
            _reconcile(result, baseline, paths, settings, force_exclude, update_baseline)
            if baseline is not None
            else None
        )
        # Offer only the fixes that `--fix` would then apply, where fixes are shown: the text
        # hint, the JSON `fix` field, SARIF's `fixes`.
        shows_fixes = output_format in ("json", "sarif") or (output_format == "text" and not quiet and not statistics)
        fixable = fixable_files(result) if shows_fixes and not (add_noqa or update_baseline) else []
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
    if baseline is not None and outcome is not None:
        _save_baseline(baseline, outcome, update_baseline, shrink, quiet)
    if add_noqa or update_baseline:
        sys.exit(_add_noqa(result, paths, settings, force_exclude, quiet) if add_noqa else _status(result, True))
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
    sys.exit(_status(result, exit_zero))


def _status(result: Any, exit_zero: bool) -> int:
    if result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.diagnostics and not exit_zero else EXIT_CLEAN


def _load_baseline(
    settings: Settings,
    cli_path: Optional[str],
    ignore_config: bool,
    update: bool,
    add_noqa: bool,
    fixing: bool,
) -> Optional[Baseline]:
    """The baseline file in use (`--baseline`, else the configuration's), read; None without one.
    A combination of options that makes no sense is a usage error; an unreadable file exits 2."""
    from trainlint import baseline

    if cli_path is not None and ignore_config:
        raise click.UsageError("--baseline and --no-baseline contradict each other")
    path = cli_path or (None if ignore_config else settings.baseline)
    if update and path is None:
        raise click.UsageError(
            "--update-baseline needs a baseline file: --baseline FILE, or `baseline` in the configuration"
        )
    if update and (fixing or add_noqa):
        raise click.UsageError("--update-baseline cannot be combined with --fix, --diff or --add-noqa")
    if add_noqa and fixing:
        raise click.UsageError("--add-noqa cannot be combined with --fix or --diff")
    if path is None:
        return None
    try:
        return baseline.load(path, missing_ok=update)
    except baseline.BaselineError as exc:
        click.echo(f"trainlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)


def _reconcile(
    result: CheckResult,
    loaded: Baseline,
    paths: Sequence[str],
    settings: Settings,
    force_exclude: bool,
    update: bool,
) -> Outcome:
    """Move the baselined findings out of those reported; what the baseline should now hold."""
    from trainlint import baseline

    checked = _checked_files(result, paths, settings, force_exclude)
    return baseline.reconcile(result, loaded, checked, settings, update=update)


def _checked_files(result: CheckResult, paths: Sequence[str], settings: Settings, force_exclude: bool) -> List[str]:
    """The files the run checked: as `check_paths` recorded them, else found again (a result
    that `--fix` made in memory does not record them)."""
    if result.checked is not None:
        return result.checked
    from trainlint.discover import discover

    return discover(list(paths) or ["."], settings, force_exclude)[0]


def _save_baseline(loaded: Baseline, outcome: Outcome, update: bool, shrink: bool, quiet: bool) -> None:
    """Write the recorded findings (`--update-baseline`), or drop the entries whose finding is
    gone (unless `--no-shrink-baseline`)."""
    from trainlint import baseline

    changed = outcome.entries != loaded.entries or (update and loaded.raw is None)
    if not (update or (shrink and changed)):
        return
    if changed:
        try:
            baseline.write(loaded, outcome.entries)
        except baseline.BaselineError as exc:
            click.echo(f"trainlint: {'error' if update else 'warning'}: {exc}", err=True)
            if update:
                sys.exit(EXIT_ERROR)
            return
    if quiet:
        return
    if update:
        n = len(outcome.entries)
        click.echo(
            f"Baseline {loaded.path}: {n} finding{_s(n)} recorded ({outcome.added} added, {outcome.removed} removed).",
            err=True,
        )
    else:
        n = outcome.removed
        click.echo(
            f"Baseline {loaded.path}: {n} entr{'y' if n == 1 else 'ies'} removed (their findings are gone).", err=True
        )


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _add_noqa(result: CheckResult, paths: Sequence[str], settings: Settings, force_exclude: bool, quiet: bool) -> int:
    """`--add-noqa`: comment every finding shown; say what was added and what was left."""
    from trainlint.add_noqa import add_noqa
    from trainlint.report.text import location

    report = add_noqa(result.diagnostics, _checked_files(result, paths, settings, force_exclude))
    for warning in report.warnings:
        click.echo(f"trainlint: warning: {warning}", err=True)
    for d, why in report.left:
        click.echo(f"trainlint: warning: {location(d)}: {d.code} left without a noqa comment: {why}", err=True)
    if not quiet:
        n, files = report.added, report.files
        click.echo(f"Added {n} noqa directive{_s(n)} to {files} file{_s(files)}.", err=True)
    if result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if report.left else EXIT_CLEAN


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
    baseline: Optional[Baseline] = None,
    shrink: bool = True,
) -> int:
    """`--fix` / `--diff`: fix in memory, check every fix, then write (or print the diff). The
    baseline hides findings from what `--fix` reports; `--diff` reports none."""
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
            click.echo(
                f"Would fix {n} problem{'s' if n != 1 else ''}{_by_fixes(run)}." if n else "No fixes available.",
                err=True,
            )
        return EXIT_FINDINGS if text else EXIT_CLEAN
    problems = write_changes(run)
    for problem in problems:
        click.echo(f"trainlint: warning: {problem}", err=True)
    result = run.result
    if problems:  # what is on disk is not what was fixed in memory: report from the disk
        result = check_paths(paths, settings, force_exclude=force_exclude)
    if baseline is not None:
        _save_baseline(
            baseline, _reconcile(result, baseline, paths, settings, force_exclude, False), False, shrink, quiet
        )
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
        fixed = f"Fixed {n} problem{'s' if n != 1 else ''}{_by_fixes(run)}. " if n else ""
        click.echo(fixed + summary_line(result), err=True)
    if result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.diagnostics and not exit_zero else EXIT_CLEAN


def _by_fixes(run: Any) -> str:
    """When fixing one finding also resolves another (a `no_grad` that ends a graph kept in
    the loop), the fixes applied are fewer than the problems gone: say both."""
    applied = len(run.applied)
    if applied == run.resolved:
        return ""
    return f" ({applied} fix{'es' if applied != 1 else ''} applied)"


def _print_statistics(result: Any, output_format: str) -> None:
    found = Counter(d.code for d in result.diagnostics)
    suppressed = Counter(d.code for d in result.suppressed)
    baselined = Counter(d.code for d in result.baselined)
    codes = sorted(set(found) | set(suppressed) | set(baselined))
    if output_format == "json":
        rows = [
            {
                "code": c,
                "name": registry.RULES[c].name,
                "count": found[c],
                "suppressed": suppressed[c],
                "baselined": baselined[c],
            }
            for c in codes
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for c in codes:
        click.echo(f"{found[c]:5d}  {c}  {registry.RULES[c].name}{_set_apart(suppressed[c], baselined[c])}")
    total = sum(found.values())
    extra = _set_apart(sum(suppressed.values()), sum(baselined.values()))
    click.echo(f"{total:5d}  problem{'' if total == 1 else 's'} in total{extra}")


def _set_apart(suppressed: int, baselined: int) -> str:
    parts = [f"{suppressed} suppressed"] if suppressed else []
    parts += [f"{baselined} in the baseline"] if baselined else []
    return f"  ({', '.join(parts)})" if parts else ""


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
