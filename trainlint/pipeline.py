"""Running `check` over many files: plan, prefilter, cache, then the worker processes.

1. Read every file's bytes once and make the project plan (`plan.py`): the *context* files
   (the project files linked to them by imports: analysed, never reported on) and the
   import components (files linked by imports, resolved as Python would find them, never
   across projects); each component is analysed as one project, because rules follow values
   across its files.
2. Prefilter: a component none of whose files mentions any token in `RELEVANT_TOKENS` cannot
   hold a finding, so it is not parsed with libcst; each of its files still gets a (fast)
   syntax check, and a file that fails it goes through the full pipeline for its TL001.
3. Cache: a component whose key (see `cache.py`) is stored is not analysed again.
4. The remaining components are dealt to `jobs` worker processes (`pool.py`): in tasks of
   about equal size in bytes, largest first, each worker taking the next task as it finishes
   one; a worker's memory stays near that of the component it checks. The results are
   sorted, so the output is the same whatever the number of jobs.
5. A component too big for one process's share of the work (a whole repository whose files
   all import each other, like timm or torch itself) cannot be cut: its rules read facts of
   the whole component (the callers of a function, whether any of its modules builds an
   optimizer, which module a name resolves to among all of them). Its parsing, most of the
   cost, is shared instead: its files are parsed by the workers and this process together,
   the workers' trees are sent back (`tree_transfer.py`), and the component is checked
   here (`split.py`); the findings are the same.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from trainlint import pool, split
from trainlint.cache import Cache, component_key, default_dir, settings_fingerprint
from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic, diagnostic_from_json
from trainlint.discover import discover
from trainlint.engine import Progress
from trainlint.plan import make_plan, skippable
from trainlint.pool import Outcome, Task
from trainlint.source import read_bytes_or_none
from trainlint.timing import Timings

# A component is split across processes (see `split.py`) when it holds more than a fair
# share of the work (its bytes over all the bytes to check, times the jobs), at least
# pool.MIN_FILES_FOR_WORKERS files and this many bytes (about half a second of parsing:
# below that, starting processes costs more than it saves).
SPLIT_MIN_BYTES = 1 << 20


@dataclass
class RunOptions:
    jobs: int = 0  # 0: one per CPU
    use_cache: bool = True
    cache_dir: Optional[str] = None
    prefilter: bool = True
    split: Optional[bool] = None  # None: split components too big for one process; tests force it
    progress: Optional[Progress] = None
    timings: Optional[Timings] = None  # `check --profile`
    # Also load the project files the checked ones import or are imported by (`context.py`),
    # so that a file has the same findings however it is selected.
    context: bool = True


def _asked(task: Task) -> int:
    """How many of the files asked for a task covers (what the progress display counts)."""
    return len(task[0]) if task[2] is None else len(task[2])


def run(files: Sequence[str], settings: Settings, opts: RunOptions) -> CheckResult:
    result = CheckResult(files=len(files))
    t0 = time.perf_counter()
    contents = [read_bytes_or_none(p) for p in files]
    t1 = time.perf_counter()
    plan = make_plan(files, contents, settings, context=opts.context)
    t2 = time.perf_counter()
    cache = Cache(opts.cache_dir or default_dir(settings)) if opts.use_cache else None
    fingerprint = settings_fingerprint(settings) if cache else ""

    todo: List[Task] = []
    done = 0
    data_of: Dict[str, Optional[bytes]] = {}
    for group in plan.tasks():
        paths, report = group.paths, group.report
        if opts.prefilter and all(skippable(p, d) for p, d in zip(paths, group.data)):
            done += group.asked
            continue
        key = None
        if cache is not None and all(d is not None for d in group.data):
            key = component_key(paths, [d or b"" for d in group.data], fingerprint, report)
            hit = cache.get(key)
            if hit is not None:
                _merge(result, hit["diagnostics"], hit["suppressed"], 0)
                done += group.asked
                continue
        data_of.update(zip(paths, group.data))
        todo.append((paths, key, report))
    if opts.progress is not None:
        opts.progress("checking", done, len(files))

    if opts.timings is not None:
        opts.timings.add("read", t1 - t0)
        opts.timings.add("context", t2 - t1)
        opts.timings.add("plan", time.perf_counter() - t2)

    jobs = min(opts.jobs or os.cpu_count() or 1, pool.MAX_WORKERS)
    size = {p: len(d or b"") for p, d in data_of.items()}
    todo.sort(key=lambda t: -sum(size[p] for p in t[0]))  # largest first keeps the workers evenly loaded
    profile = opts.timings is not None
    big = _to_split(todo, size, jobs, opts.split)
    spool = split.spool_folder() if big is not None else None
    if spool is None:
        big = None
        jobs = min(jobs, len(todo))
    rest = todo[1:] if big is not None else todo
    if jobs > 1 and (big is not None or sum(len(t[0]) for t in todo) >= pool.MIN_FILES_FOR_WORKERS):
        # With a split component this process parses and checks too: one worker fewer.
        workers = jobs - 1 if big is not None else jobs
        with split.removed_at_exit(spool), pool.executor(workers) as ex:
            # The split component's slices first: the workers start on them, then go on with
            # the other components while this process checks it.
            if big is not None and spool is not None:
                big_data = [data_of[p] for p in big[0]]
                slices = split.submit(ex, big[0], big_data, workers, spool)
            running = pool.start(ex, rest, data_of, workers, settings, profile)
            if big is not None and spool is not None:
                out = split.analyse_split(
                    big[0], big_data, slices, spool, settings, profile, _progress(opts, done, len(files)), big[2]
                )
                done = _finish(result, out, big[1], cache, done + _asked(big), len(files), opts)
            for task, out in pool.finished(running, data_of, settings, profile):
                done = _finish(result, out, task[1], cache, done + _asked(task), len(files), opts)
        if opts.timings is not None:
            opts.timings.workers = jobs
    else:
        # Smallest first: the garbage of the small ones is collected before the big ones (see
        # `pool.COLLECT_EVERY_BYTES`), and that of the largest, last, goes with the process.
        for task in reversed(todo):
            paths, key, report = task
            # In this process the bytes read above are reused.
            out = pool.analyse(
                paths, settings, profile, [data_of[p] for p in paths], _progress(opts, done, len(files)), report
            )
            done = _finish(result, out, key, cache, done + _asked(task), len(files), opts)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    result.suppressed.sort(key=Diagnostic.sort_key)
    return result


def _to_split(todo: List[Task], size: Dict[str, int], jobs: int, force: Optional[bool]) -> Optional[Task]:
    """The largest component (first in `todo`), when it is worth splitting across processes."""
    if not todo or jobs < 2 or force is False:
        return None
    paths = todo[0][0]
    if force:
        return todo[0] if len(paths) > 1 else None
    total = sum(size[p] for t in todo for p in t[0])
    mine = sum(size[p] for p in paths)
    if len(paths) >= pool.MIN_FILES_FOR_WORKERS and mine >= SPLIT_MIN_BYTES and mine * jobs > total:
        return todo[0]
    return None


def _progress(opts: RunOptions, done: int, total: int) -> Optional[Callable[[int], None]]:
    """Progress within a component checked in this process (a repository can be one)."""
    progress = opts.progress
    if progress is None:
        return None
    # Short of the total until the rules of the last component have run too.
    return lambda n: progress("checking", min(done + n, total - 1), total)


def _finish(
    result: CheckResult,
    out: Outcome,
    key: Optional[str],
    cache: Optional[Cache],
    done: int,
    total: int,
    opts: RunOptions,
) -> int:
    diags, suppressed, internal, timings = out
    if timings is not None and opts.timings is not None:
        opts.timings.merge(timings, worker=False)
    _merge(result, diags, suppressed, internal)
    # A component whose rules crashed is not cached: the next run should try again.
    if cache is not None and key is not None and internal == 0:
        cache.put(key, diags, suppressed)
    if opts.progress is not None:
        opts.progress("checking", done, total)
    return done


def _merge(result: CheckResult, diags: List[Dict[str, Any]], suppressed: List[Dict[str, Any]], internal: int) -> None:
    result.diagnostics.extend(diagnostic_from_json(d) for d in diags)
    result.suppressed.extend(diagnostic_from_json(d) for d in suppressed)
    result.internal_errors += internal


def check_paths(
    paths: Sequence[str],
    settings: Settings,
    force_exclude: bool = False,
    progress: Optional[Progress] = None,
    options: Optional[RunOptions] = None,
) -> CheckResult:
    """Lint files and folders. Without `options`: one process, no cache (library use);
    the CLI passes jobs and cache settings."""
    opts = options or RunOptions(jobs=1, use_cache=False)
    if progress is not None:
        opts.progress = progress
    t0 = time.perf_counter()
    files, problems = discover(paths, settings, force_exclude)
    if opts.timings is not None:
        opts.timings.add("discover", time.perf_counter() - t0)
    result = run(files, settings, opts)
    result.diagnostics = sorted(problems + result.diagnostics, key=Diagnostic.sort_key)
    result.checked = list(files)
    return result
