"""Parsing one import component in several processes (see `pipeline.py`, step 5).

A component is checked as one project, in one process, because its rules follow values
across its files. When it is too big for one process's share of the work, the parsing,
which is most of the cost, is shared: its files are cut into slices of consecutive files,
every slice is offered to the worker processes as a task, and the main process parses
slices from the end at the same time. Whoever creates a slice's claim file in the spool
folder first parses it (`O_EXCL`: exactly one wins). A worker pickles its trees into the
spool folder (a few megabytes; sent through the pool's pipe they would wait on the busy
main process), and the main process loads them through `tree_transfer`.

libcst's trees are Python objects: pickling one costs about 0.4 of parsing it and
unpickling about 0.3 (`tree_transfer`), which is why the main process parses what it can
itself. The trees are the ones the main process would have parsed, so the findings are
the same.

Anything a worker does not deliver (it died, it could not write, a tree too deep to
pickle, a file with a problem) is parsed by the main process, which also reports the
file's problem exactly as a one-process run does.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import os
import shutil
import tempfile
import time
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from trainlint import tree_transfer
from trainlint.config import Settings
from trainlint.engine import LoadedFile, check_files, fewer_gc_passes, load_file, parse_tree
from trainlint.pool import Outcome, counting, outcome, settled_heap, submit_or_failed
from trainlint.timing import Timings

# Slices offered per worker: small enough that the main process can take back, from the
# end, what the workers have not reached by the time it gets there.
SLICES_PER_WORKER = 24
# Whether the main process parses slices too (tests turn it off so that every tree comes
# from a worker).
MAIN_TAKES_SLICES = True

SliceResult = Optional[Tuple[List[int], float]]
Slices = List[Tuple[List[int], "concurrent.futures.Future[SliceResult]"]]


def _claim(spool: str, k: int) -> bool:
    try:
        os.close(os.open(os.path.join(spool, f"{k}.claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        return True
    except OSError:  # taken already, or the folder is gone: not ours
        return False


def _trees_file(spool: str, k: int) -> str:
    return os.path.join(spool, f"{k}.trees")


def parse_slice(k: int, paths: Sequence[str], contents: Sequence[bytes], spool: str) -> SliceResult:
    """Worker side: slice `k`'s trees pickled into the spool folder; the length of each
    tree's bytes there (-1 for a file left to the main process) and the seconds spent.
    None when the main process claimed the slice first or nothing could be written."""
    if not _claim(spool, k):
        return None
    t0 = time.perf_counter()
    sizes: List[int] = []
    try:
        with open(_trees_file(spool, k), "wb") as out, fewer_gc_passes():
            for path, data in zip(paths, contents):
                tree = parse_tree(path, data)
                try:
                    blob = None if tree is None else tree_transfer.dump(tree)
                except Exception:  # too deep to pickle, out of memory: the main process parses it
                    blob = None
                if blob is None:
                    sizes.append(-1)
                else:
                    out.write(blob)
                    sizes.append(len(blob))
    except OSError:  # no room to spool
        return None
    return sizes, time.perf_counter() - t0


def slices_of(contents: Sequence[Optional[bytes]], count: int) -> List[List[int]]:
    """Indices of the files read, in runs of consecutive files of about `1/count` of the bytes each."""
    total = sum(len(d) for d in contents if d is not None) or 1
    out: List[List[int]] = [[]]
    size = 0
    for i, d in enumerate(contents):
        if d is None:
            continue
        if out[-1] and size + len(d) > total / count:
            out.append([])
            size = 0
        out[-1].append(i)
        size += len(d)
    return [sl for sl in out if sl]


def submit(
    pool: concurrent.futures.Executor,
    paths: Sequence[str],
    contents: Sequence[Optional[bytes]],
    workers: int,
    spool: str,
) -> Slices:
    """Offer every slice of a component to the workers, first slice first."""
    return [
        (sl, submit_or_failed(pool, parse_slice, k, [paths[i] for i in sl], [contents[i] or b"" for i in sl], spool))
        for k, sl in enumerate(slices_of(contents, workers * SLICES_PER_WORKER))
    ]


def spool_folder() -> Optional[str]:
    """A private temporary folder for the trees workers send back; None where none can be made
    (the component is then checked whole in one worker)."""
    try:
        return tempfile.mkdtemp(prefix="trainlint-")
    except OSError:
        return None


@contextlib.contextmanager
def removed_at_exit(folder: Optional[str]) -> Iterator[None]:
    try:
        yield
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def analyse_split(
    paths: Sequence[str],
    contents: Sequence[Optional[bytes]],
    slices: Slices,
    spool: str,
    settings: Settings,
    profile: bool = False,
    loaded_count: Optional[Callable[[int], None]] = None,
    report: Optional[Sequence[str]] = None,
) -> Outcome:
    """One component, parsed by the workers (`submit`) and this process together, checked here."""
    timings = Timings() if profile else None
    with fewer_gc_passes(), settled_heap() as settle:
        loaded = load_split(paths, contents, slices, spool, counting(settle, loaded_count), timings)
        result = check_files(loaded, settings, timings=timings, report=report)
    return outcome(result, timings)


def load_split(
    paths: Sequence[str],
    contents: Sequence[Optional[bytes]],
    slices: Slices,
    spool: str,
    settle: Callable[[], None],
    timings: Optional[Timings] = None,
) -> List[LoadedFile]:
    """Every file of the component loaded in this process, parsed here or by a worker."""
    loaded: List[Optional[LoadedFile]] = [None] * len(paths)
    mine = set()
    if MAIN_TAKES_SLICES:
        # From the end, until a slice a worker has claimed (the workers go from the front).
        for k in range(len(slices) - 1, -1, -1):
            if not _claim(spool, k):
                break
            mine.add(k)
            for i in slices[k][0]:
                loaded[i] = load_file(paths[i], contents[i], timings=timings)
                settle()
    for k, (sl, fut) in enumerate(slices):
        if k in mine:
            continue
        try:
            got = fut.result()
        except Exception:  # the worker died (out of memory, killed): the pool is broken
            got = None
        sizes, seconds = got if got is not None else ([-1] * len(sl), 0.0)
        if timings is not None:
            timings.add("parse", seconds)
        trees = _unpickle(_trees_file(spool, k), sizes, timings) if got is not None else [None] * len(sl)
        for i, tree in zip(sl, trees):
            loaded[i] = load_file(paths[i], contents[i], timings=timings, tree=tree)
            settle()
    # Files that could not be read at all: reading them again gives their TL001.
    return [lf if lf is not None else load_file(p, d, timings=timings) for p, lf, d in zip(paths, loaded, contents)]


def _unpickle(where: str, sizes: List[int], timings: Optional[Timings]) -> List[Any]:
    """The trees a worker spooled (None for each file it left to this process)."""
    t0 = time.perf_counter()
    try:
        with open(where, "rb") as fh:
            data = memoryview(fh.read())
    except OSError:
        return [None] * len(sizes)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(where)
    # The trees' objects all live until the end of the run: no collector pass could free any.
    was = gc.isenabled()
    gc.disable()
    out: List[Any] = []
    try:
        at = 0
        for size in sizes:
            if size < 0:
                out.append(None)
                continue
            try:
                out.append(tree_transfer.load(data[at : at + size]))
            except Exception:  # unreadable: this process parses the file itself
                out.append(None)
            at += size
    finally:
        if was:
            gc.enable()
    if timings is not None:
        timings.add("unpickle", time.perf_counter() - t0)
    return out
