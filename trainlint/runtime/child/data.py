"""DataLoaders: where each was built and in what order its first iteration draws samples; in
overfit mode, every iteration hands out the first batch again.
"""

from __future__ import annotations

import functools
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Optional, Tuple

from trainlint.runtime.child import sites
from trainlint.runtime.child.patching import Patcher
from trainlint.runtime.records import CodeSite, LoaderIter, SamplerOrder

if TYPE_CHECKING:
    from trainlint.runtime.child.tracer import Tracer

RANDOM_SAMPLERS = ("RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler")


def sampler_order(loader: Any) -> Tuple[str, str]:
    """(sampler class name, a `SamplerOrder`) of a DataLoader."""
    sampler = getattr(loader, "sampler", None)
    name = type(sampler).__name__
    if name in RANDOM_SAMPLERS:
        return name, SamplerOrder.RANDOM
    if name == "SequentialSampler":
        return name, SamplerOrder.SEQUENTIAL
    if name == "DistributedSampler":
        return name, SamplerOrder.RANDOM if getattr(sampler, "shuffle", False) else SamplerOrder.SEQUENTIAL
    return name, SamplerOrder.UNKNOWN


def install(tracer: Tracer, patcher: Patcher) -> None:
    _data_loaders(tracer, patcher)
    if tracer.overfit:
        _repeat_first_batch(tracer, patcher)


def _data_loaders(tracer: Tracer, patcher: Patcher) -> None:
    from torch.utils.data import DataLoader

    built: "weakref.WeakKeyDictionary[Any, Optional[CodeSite]]" = weakref.WeakKeyDictionary()
    seen: "weakref.WeakSet[Any]" = weakref.WeakSet()

    def make_init(original: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(original)
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if tracer.active:
                try:
                    built[self] = sites.code_site(sites.user_site(skip_self_of=self))
                except Exception:
                    pass

        return init

    def make_iter(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def iterate(self: Any) -> Any:
            if tracer.recording:
                try:
                    if self not in seen:
                        seen.add(self)
                        sampler, order = sampler_order(self)
                        tracer.event(
                            LoaderIter(
                                sampler=sampler,
                                order=order,
                                site=built.get(self),
                                iter_site=sites.code_site(sites.user_site()),
                            )
                        )
                except Exception as exc:
                    tracer.internal("loader", exc)
            return original(self)

        return iterate

    patcher.replace(DataLoader, "__init__", make_init)
    patcher.replace(DataLoader, "__iter__", make_iter)


def _repeat_first_batch(tracer: Tracer, patcher: Patcher) -> None:
    from torch.utils.data import DataLoader

    first_batches: Dict[int, Any] = {}

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def iterate(self: Any) -> Any:
            if not tracer.active:
                return original(self)
            tracer.loader_used = True
            key = id(self)
            if key not in first_batches:
                it = original(self)
                try:
                    first_batches[key] = next(iter(it))
                finally:
                    del it
            batch = first_batches[key]
            try:
                count: Optional[int] = len(self)
            except TypeError:
                count = None
            return _repeat(batch, count)

        return iterate

    patcher.replace(DataLoader, "__iter__", make)


def _repeat(batch: Any, count: Optional[int]) -> Iterator[Any]:
    i = 0
    while count is None or i < count:
        i += 1
        yield batch
