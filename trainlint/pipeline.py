"""Running `check` over many files: components, prefilter, cache and worker processes.

1. Read every file's bytes once and make the project plan (`plan.py`): the *context* files
   (the project files linked to them by imports: analysed, never reported on) and the
   components (files linked by imports); each component is analysed as one project.
2. Prefilter: a component none of whose files mentions any token in `RELEVANT_TOKENS` cannot
   hold a finding, so it is not parsed with libcst; each of its files still gets a (fast)
   syntax check, and a file that fails it goes through the full pipeline for its TL001.
3. Cache: a component whose key (see `cache.py`) is stored is not analysed again.
4. The remaining components are analysed in `jobs` worker processes, largest first; the
   results are sorted, so the output is the same whatever the number of jobs.
5. A component too big for one process's share of the work (a whole repository whose files
   all import each other, like timm or torch itself) is parsed by the workers and this
   process together and checked here (`split.py`); the findings are the same.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import heapq
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from trainlint import split
from trainlint.cache import Cache, component_key, default_dir, settings_fingerprint
from trainlint.config import Settings
from trainlint.diagnostics import CheckResult, Diagnostic, diagnostic_from_json
from trainlint.discover import discover
from trainlint.engine import Progress, check_files, fewer_gc_passes, load_file
from trainlint.plan import make_plan, skippable
from trainlint.rules import load_rules
from trainlint.source import read_bytes_or_none
from trainlint.timing import Timings

# Below this many files, worker processes cost more than they save.
MIN_FILES_FOR_WORKERS = 16
# Components are sent to the workers in about this many batches per worker: enough to even
# out the load, few enough that the round trips between processes do not add up.
BATCHES_PER_JOB = 4
# A component is split across processes (see `split.py`) when it holds more than a fair
# share of the work (its bytes over all the bytes to check, times the jobs), at least
# MIN_FILES_FOR_WORKERS files and this many bytes (about half a second of parsing: below
# that, starting processes costs more than it saves).
SPLIT_MIN_BYTES = 1 << 20
# ProcessPoolExecutor's limit on Windows.
MAX_WORKERS = 61 if sys.platform == "win32" else 1 << 16


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


Outcome = Tuple[List[Dict[str, Any]], List[Dict[str, Any]], int, Optional[Dict[str, Dict[str, float]]]]


def analyse(
    paths: Sequence[str],
    settings: Settings,
    profile: bool = False,
    contents: Optional[Sequence[Optional[bytes]]] = None,
    loaded_count: Optional[Callable[[int], None]] = None,
    report: Optional[Sequence[str]] = None,
) -> Outcome:
    """Parse and check one component; results as JSON-able dicts (they cross processes),
    with the component's timings when profiling. `loaded_count(n)`: n files loaded so far.
    `report`: the files reported on (None: all; the others are context)."""
    timings = Timings() if profile else None
    with fewer_gc_passes(), _settled_heap() as settle:
        data = contents if contents is not None else [None] * len(paths)
        loaded = []
        step = _counting(settle, loaded_count)
        for p, d in zip(paths, data):
            loaded.append(load_file(p, d) if timings is None else load_file(p, d, timings=timings))
            step()
        result = check_files(loaded, settings, timings=timings, report=report)
    return _outcome(result, timings)


def _counting(settle: Callable[[], None], loaded_count: Optional[Callable[[int], None]]) -> Callable[[], None]:
    """`settle` after each file loaded, and the count for the progress display."""
    if loaded_count is None:
        return settle
    n = 0

    def step() -> None:
        nonlocal n
        settle()
        n += 1
        loaded_count(n)

    return step


def _outcome(result: CheckResult, timings: Optional[Timings]) -> Outcome:
    return (
        [d.to_json() for d in result.diagnostics],
        [d.to_json() for d in result.suppressed],
        result.internal_errors,
        timings.to_json() if timings is not None else None,
    )


def analyse_batch(
    components: Sequence[Tuple[Sequence[str], Sequence[Optional[bytes]], Optional[Sequence[str]]]],
    settings: Settings,
    profile: bool = False,
) -> List[Outcome]:
    """Several components in one worker task: a task costs a round trip between processes,
    which hundreds of one-file projects would otherwise pay each. The bytes are the ones the
    main process read (and keyed the cache with), not read again."""
    return [analyse(paths, settings, profile, data, report=report) for paths, data, report in components]


# A component to analyse: its files (context files included), its cache key, and the files
# reported on (None: all of them).
Task = Tuple[List[str], Optional[str], Optional[List[str]]]


def _asked(task: Task) -> int:
    """How many of the files asked for a task covers (what the progress display counts)."""
    return len(task[0]) if task[2] is None else len(task[2])


def _batches(todo: List[Task], count: int) -> List[List[Task]]:
    """`todo` (largest component first) dealt into at most `count` batches of about equal
    size in files (each component to the lightest batch so far), largest batch first."""
    loads: List[Tuple[int, int]] = [(0, i) for i in range(max(1, min(count, len(todo))))]
    batches: List[List[Task]] = [[] for _ in loads]
    for item in todo:
        size, i = heapq.heappop(loads)
        batches[i].append(item)
        heapq.heappush(loads, (size + len(item[0]), i))
    return sorted(batches, key=lambda b: -sum(len(t[0]) for t in b))


@contextlib.contextmanager
def _settled_heap() -> Iterator[Callable[[], None]]:
    """Syntax trees and facts live until the component is checked: `settle()` moves every
    object made so far out of the cyclic collector's sight (`gc.freeze`), so that its passes
    during the run do not walk them again and again. Everything is handed back at the end.
    Not done when something else already froze objects (their owner decides when to undo it)."""
    if gc.get_freeze_count() != 0:
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def analyse_split(
    paths: Sequence[str],
    contents: Sequence[Optional[bytes]],
    slices: split.Slices,
    spool: str,
    settings: Settings,
    profile: bool = False,
    loaded_count: Optional[Callable[[int], None]] = None,
    report: Optional[Sequence[str]] = None,
) -> Outcome:
    """One component, parsed by the workers (`split.submit`) and this process together,
    checked here."""
    timings = Timings() if profile else None
    with fewer_gc_passes(), _settled_heap() as settle:
        loaded = split.load_split(paths, contents, slices, spool, _counting(settle, loaded_count), timings)
        result = check_files(loaded, settings, timings=timings, report=report)
    return _outcome(result, timings)


def _pool(jobs: int) -> concurrent.futures.ProcessPoolExecutor:
    # No Future of this pool is ever cancelled: before Python 3.12, a worker's death with a
    # cancelled future pending hangs the pool (CPython issue 107219).
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)


def run(files: Sequence[str], settings: Settings, opts: RunOptions) -> CheckResult:
    result = CheckResult(files=len(files))
    t0 = time.perf_counter()
    contents = [read_bytes_or_none(p) for p in files]
    t1 = time.perf_counter()
    plan = make_plan(files, contents, settings, context=opts.context)
    t2 = time.perf_counter()
    cache = Cache(opts.cache_dir or default_dir(settings)) if opts.use_cache else None
    if cache is not None:
        load_rules()  # rule modules declare their options on import: the fingerprint needs them
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

    jobs = min(opts.jobs or os.cpu_count() or 1, MAX_WORKERS)
    todo.sort(key=lambda t: -len(t[0]))  # largest first keeps the workers evenly loaded
    profile = opts.timings is not None
    big = _to_split(todo, {p: len(d or b"") for p, d in data_of.items()}, jobs, opts.split)
    spool = _spool_folder() if big is not None else None
    if spool is None:
        big = None
        jobs = min(jobs, len(todo))
    rest = todo[1:] if big is not None else todo
    big_data = [data_of[p] for p in big[0]] if big is not None else []
    if jobs > 1 and (big is not None or sum(len(t[0]) for t in todo) >= MIN_FILES_FOR_WORKERS):
        # With a split component this process parses and checks too: one worker fewer.
        workers = jobs - 1 if big is not None else jobs
        with _removed_at_exit(spool), _pool(workers) as pool:
            # The split component's slices first: the workers start on them, then go on with
            # the other components while this process checks it.
            slices = (
                split.submit(pool, big[0], big_data, workers, spool) if big is not None and spool is not None else []
            )
            futures = {
                split.submit_or_failed(
                    pool,
                    analyse_batch,
                    [(paths, [data_of[p] for p in paths], report) for paths, _, report in batch],
                    settings,
                    profile,
                ): batch
                for batch in _batches(rest, workers * BATCHES_PER_JOB)
                if batch
            }
            if big is not None and spool is not None:
                out = analyse_split(
                    big[0], big_data, slices, spool, settings, profile, _progress(opts, done, len(files)), big[2]
                )
                done = _finish(result, out, big[1], cache, done + _asked(big), len(files), opts)
            for fut in concurrent.futures.as_completed(futures):
                try:
                    outs = fut.result()
                except BrokenProcessPool:  # a worker died (out of memory, killed): check them here
                    outs = [
                        analyse(paths, settings, profile, [data_of[p] for p in paths], report=report)
                        for paths, _, report in futures[fut]
                    ]
                for task, out in zip(futures[fut], outs):
                    done = _finish(result, out, task[1], cache, done + _asked(task), len(files), opts)
        if opts.timings is not None:
            opts.timings.workers = jobs
    else:
        for task in todo:
            paths, key, report = task
            # In this process the bytes read above are reused.
            out = analyse(
                paths, settings, profile, [data_of[p] for p in paths], _progress(opts, done, len(files)), report
            )
            done = _finish(result, out, key, cache, done + _asked(task), len(files), opts)
    result.diagnostics.sort(key=Diagnostic.sort_key)
    result.suppressed.sort(key=Diagnostic.sort_key)
    return result


def _spool_folder() -> Optional[str]:
    """A private temporary folder for the trees workers send back; None where none can be made
    (the component is then checked whole in one worker)."""
    try:
        return tempfile.mkdtemp(prefix="trainlint-")
    except OSError:
        return None


@contextlib.contextmanager
def _removed_at_exit(folder: Optional[str]) -> Iterator[None]:
    try:
        yield
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _to_split(todo: List[Task], size: Dict[str, int], jobs: int, force: Optional[bool]) -> Optional[Task]:
    """The largest component (first in `todo`), when it is worth splitting across processes."""
    if not todo or jobs < 2 or force is False:
        return None
    paths = todo[0][0]
    if force:
        return todo[0] if len(paths) > 1 else None
    total = sum(size[p] for t in todo for p in t[0])
    mine = sum(size[p] for p in paths)
    if len(paths) >= MIN_FILES_FOR_WORKERS and mine >= SPLIT_MIN_BYTES and mine * jobs > total:
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
    return result
