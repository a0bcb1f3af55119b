"""Verdicts on the data's suspicions (TL3xx): input scale, data order, NaN in the inputs."""

from __future__ import annotations

from typing import List, Optional, Tuple

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import input_normaliser, input_scale_problem
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, refuted, unverified
from trainlint.runtime.judging.registry import verdict
from trainlint.runtime.records import InputBatch, LoaderIter, SamplerOrder, TensorStats


def _float_inputs(c: Ctx, d: Diagnostic) -> List[Tuple[InputBatch, TensorStats]]:
    out = []
    for rec in c.prefer(d, c.ev.inputs, lambda r: r.site):
        for t in rec.tensors:
            if str(t.dtype).startswith(("float", "bfloat")) and t.mean is not None:
                out.append((rec, t))
    return out


@verdict("TL301")
def missing_input_normalization(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    found = _float_inputs(c, d)
    if not found:
        return None
    for rec, _ in found:
        norm = input_normaliser(c, rec.model)
        if norm is not None:
            return refuted(
                observed=f"the first batch fed to `{rec.model}` goes straight into `{norm[0]}` "
                f"({norm[1]}), which normalises it",
                where=c.where(rec.site),
            )
    for rec, t in found:
        problem = input_scale_problem(c, t)
        if problem:
            return confirmed(
                observed=f"the first batch fed to `{rec.model}`: {problem}; mean {fmt(t.mean)}, "
                f"std {fmt(t.std)}, range [{fmt(t.min)}, {fmt(t.max)}]",
                expected="roughly zero mean and unit scale",
                where=c.where(rec.site),
                shape=t.shape,
            )
    rec, t = found[0]
    return refuted(
        observed=f"the first batch fed to `{rec.model}` is already on a small scale: mean "
        f"{fmt(t.mean)}, std {fmt(t.std)}, range [{fmt(t.min)}, {fmt(t.max)}]",
        where=c.where(rec.site),
    )


@verdict("TL302")
def unshuffled_training_data(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [
        r
        for r in c.ev.losses
        if r.call == 1 and r.target is not None and r.target.sorted is not None and (r.target.shape or [0])[0] >= 4
    ]
    # The loader the suspicion names: built at its line, or iterated there.
    loaders = [e for e in c.ev.events_of(LoaderIter) if c.at(d, e.site) or c.at(d, e.iter_site)]
    if loaders and all(e.order == SamplerOrder.RANDOM for e in loaders):
        e = loaders[0]
        return refuted(
            observed=f"the DataLoader built here draws its samples in random order (`{e.sampler}`)",
            where=c.where(e.site),
        )
    if not recs:
        return None
    r = recs[0]
    t = r.target
    assert t is not None  # (filtered above)
    if t.distinct == 1 or t.sorted:
        what = "all the same class" if t.distinct == 1 else f"sorted ({t.distinct} distinct values in order)"
        return confirmed(
            observed=f"the labels of the first batch are {what}",
            expected="a mix of labels in random order",
            where=c.where(r.site),
            batch=t.shape,
        )
    # Mixed labels do not show that the loader shuffles: data stored interleaved (0, 1, 2, 3,
    # 0, 1, ...) still comes in the same fixed order every epoch.
    fixed = [e for e in loaders if e.order == SamplerOrder.SEQUENTIAL]
    order = f"; the DataLoader built here iterates in a fixed order (`{fixed[0].sampler}`)" if fixed else ""
    return unverified(
        f"the labels of the first batch are mixed ({t.distinct} distinct values, not in order), "
        f"so the run shows no harm from the data order in it{order}"
    )


@verdict("TL303")
def nan_prone_input(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = c.prefer(d, c.ev.inputs, lambda r: r.site)
    tensors = [(r, t) for r in recs for t in r.tensors if t.finite is not None]
    if not tensors:
        return None
    bad = [(r, t) for r, t in tensors if not t.finite]
    if bad:
        r, t = bad[0]
        return confirmed(
            observed=f"the first batch fed to `{r.model}` contains NaN or Inf (input {t.name})",
            expected="finite inputs",
            where=c.where(r.site),
        )
    r = recs[0]
    return refuted(observed=f"the first batch fed to `{r.model}` is finite", where=c.where(r.site))
