"""Worker processes: what a worker runs, and how the components are dealt to the workers.

A component (files linked by imports, `plan.py`) is analysed as one project, in one process:
`analyse` parses it, builds the facts and runs the rules, and returns JSON-able results (they
cross processes). The components of a run are dealt into tasks of about equal size in bytes,
largest first, a few per worker (`deal`); the workers take the next task as they finish one,
so a few big components and hundreds of small ones keep every worker busy to the end. A task
whose worker died (out of memory, killed) is analysed in the main process instead; the
results are the same.

A worker's memory stays near that of the component it is checking: a component's facts hold
reference cycles, which a full collection frees once enough source has been analysed
(`_collect_if_due`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import heapq
import multiprocessing
import sys
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

from trainlint.config import Settings
from trainlint.diagnostics import CheckResult
from trainlint.engine import check_files, fewer_gc_passes, load_file
from trainlint.timing import Timings

# Below this many files, worker processes cost more than they save.
MIN_FILES_FOR_WORKERS = 16
# Components are dealt into about this many tasks per worker: enough to even out the load,
# few enough that the round trips between processes do not add up.
TASKS_PER_WORKER = 4
# See `_collect_if_due`: about 25,000 lines, some 60 MB of syntax trees and facts.
COLLECT_EVERY_BYTES = 1 << 20
# ProcessPoolExecutor's limit on Windows.
MAX_WORKERS = 61 if sys.platform == "win32" else 1 << 16

T = TypeVar("T")
# A component's diagnostics and suppressed diagnostics (as JSON), its rule failures, and its
# timings when profiling.
Outcome = Tuple[List[Dict[str, Any]], List[Dict[str, Any]], int, Optional[Dict[str, Dict[str, float]]]]
# A component to analyse: its files (context files included), its cache key, and the files
# reported on (None: all of them).
Task = Tuple[List[str], Optional[str], Optional[List[str]]]


def analyse(
    paths: Sequence[str],
    settings: Settings,
    profile: bool = False,
    contents: Optional[Sequence[Optional[bytes]]] = None,
    loaded_count: Optional[Callable[[int], None]] = None,
    report: Optional[Sequence[str]] = None,
) -> Outcome:
    """Parse and check one component, with its timings when profiling. `loaded_count(n)`: n
    files loaded so far. `report`: the files reported on (None: all; the others are context)."""
    timings = Timings() if profile else None
    data = contents if contents is not None else [None] * len(paths)
    _collect_if_due()
    with fewer_gc_passes(), settled_heap() as settle:
        loaded = []
        step = counting(settle, loaded_count)
        for p, d in zip(paths, data):
            loaded.append(load_file(p, d) if timings is None else load_file(p, d, timings=timings))
            step()
        result = check_files(loaded, settings, timings=timings, report=report)
    _garbage[0] += sum(len(d or b"") for d in data)
    return outcome(result, timings)


def analyse_batch(
    components: Sequence[Tuple[Sequence[str], Sequence[Optional[bytes]], Optional[Sequence[str]]]],
    settings: Settings,
    profile: bool = False,
) -> List[Outcome]:
    """Several components in one worker task: a task costs a round trip between processes,
    which hundreds of one-file projects would otherwise pay each. The bytes are the ones the
    main process read (and keyed the cache with), not read again."""
    return [analyse(paths, settings, profile, data, report=report) for paths, data, report in components]


def outcome(result: CheckResult, timings: Optional[Timings]) -> Outcome:
    return (
        [d.to_json() for d in result.diagnostics],
        [d.to_json() for d in result.suppressed],
        result.internal_errors,
        timings.to_json() if timings is not None else None,
    )


def counting(settle: Callable[[], None], loaded_count: Optional[Callable[[int], None]]) -> Callable[[], None]:
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


@contextlib.contextmanager
def settled_heap() -> Iterator[Callable[[], None]]:
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


_garbage = [0]  # source bytes analysed in this process since the last full collection


def _collect_if_due() -> None:
    """A component's facts hold reference cycles (scopes and their modules): they are freed by
    a full collection, which costs a pass over every object. One runs before a component once
    the components analysed since the last one hold COLLECT_EVERY_BYTES of source, so that a
    process's memory stays near one component's, hundreds of small components do not pay a
    pass each, and the last component of a process (whose memory goes at its exit) none."""
    if _garbage[0] >= COLLECT_EVERY_BYTES:
        _garbage[0] = 0
        gc.collect()


# ---------------------------------------------------------------------------- the workers


def executor(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    # No Future of this pool is ever cancelled: before Python 3.12, a worker's death with a
    # cancelled future pending hangs the pool (CPython issue 107219).
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, MAX_WORKERS), mp_context=ctx)


def submit_or_failed(
    pool: concurrent.futures.Executor, fn: Callable[..., T], *args: Any
) -> "concurrent.futures.Future[T]":
    """`pool.submit`, or a future already failed when the pool broke (a worker died while
    tasks were still being handed out): the callers' fallbacks then do the work here."""
    try:
        return pool.submit(fn, *args)
    except BrokenProcessPool as exc:
        failed: "concurrent.futures.Future[T]" = concurrent.futures.Future()
        failed.set_running_or_notify_cancel()
        failed.set_exception(exc)
        return failed


def deal(todo: Sequence[Task], size: Dict[str, int], count: int) -> List[List[Task]]:
    """`todo` (largest component first) dealt into at most `count` tasks of about equal size
    in bytes (each component to the lightest task so far), largest task first."""
    loads: List[Tuple[int, int]] = [(0, i) for i in range(max(1, min(count, len(todo))))]
    tasks: List[List[Task]] = [[] for _ in loads]
    for item in todo:
        load, i = heapq.heappop(loads)
        tasks[i].append(item)
        heapq.heappush(loads, (load + sum(size[p] for p in item[0]), i))
    return sorted((t for t in tasks if t), key=lambda t: -sum(size[p] for c in t for p in c[0]))


def start(
    pool: concurrent.futures.Executor,
    todo: Sequence[Task],
    data_of: Dict[str, Optional[bytes]],
    workers: int,
    settings: Settings,
    profile: bool,
) -> Dict["concurrent.futures.Future[List[Outcome]]", List[Task]]:
    """Hand `todo` (largest component first) to the workers, in tasks."""
    size = {p: len(data_of[p] or b"") for task in todo for p in task[0]}
    return {
        submit_or_failed(
            pool,
            analyse_batch,
            [(paths, [data_of[p] for p in paths], report) for paths, _, report in task],
            settings,
            profile,
        ): task
        for task in deal(todo, size, workers * TASKS_PER_WORKER)
    }


def finished(
    running: Dict["concurrent.futures.Future[List[Outcome]]", List[Task]],
    data_of: Dict[str, Optional[bytes]],
    settings: Settings,
    profile: bool,
) -> Iterator[Tuple[Task, Outcome]]:
    """Each component of the tasks `start` handed out, with its outcome, as they finish. A
    task whose worker died is analysed here."""
    for fut in concurrent.futures.as_completed(running):
        try:
            outs = fut.result()
        except BrokenProcessPool:
            outs = [
                analyse(paths, settings, profile, [data_of[p] for p in paths], report=report)
                for paths, _, report in running[fut]
            ]
        yield from zip(running[fut], outs)
