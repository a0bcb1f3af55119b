"""Verdicts on what the loss functions were fed (TL2xx): probabilities where logits belong, and
the reverse; class labels in a regression loss."""

from __future__ import annotations

from typing import Optional

from trainlint.diagnostics import Diagnostic
from trainlint.runtime.judging.common import loss_where, probabilities
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed, fmt, num, refuted
from trainlint.runtime.judging.evidence import finite
from trainlint.runtime.judging.registry import verdict
from trainlint.runtime.records import REGRESSION_LOSSES

# Layers whose output is bounded on one side or both: not logits.
SQUASHERS = {
    "ReLU",
    "ReLU6",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Hardtanh",
    "Hardsigmoid",
    "Softplus",
    "ELU",
    "GELU",
    "SiLU",
}


@verdict("TL201")
def softmax_before_cross_entropy(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("cross_entropy",)) if r.rows]
    if not recs:
        return None
    for r in recs:
        kind = probabilities(c, r)
        rows = r.rows
        if kind is not None and rows is not None:
            return confirmed(
                observed=f"the rows of the cross-entropy input are {kind}: values in "
                f"[{fmt(r.input.min)}, {fmt(r.input.max)}], row sums in "
                f"[{fmt(rows.row_sum_min)}, {fmt(rows.row_sum_max)}], logsumexp in "
                f"[{fmt(rows.lse_min)}, {fmt(rows.lse_max)}]",
                expected="raw logits (any real values)",
                num_classes=r.num_classes,
                **loss_where(c, r),
            )
    r = recs[0]
    rows = r.rows
    assert rows is not None  # (filtered above)
    return refuted(
        observed=f"the cross-entropy input looks like raw logits: values in [{fmt(r.input.min)}, "
        f"{fmt(r.input.max)}], row sums in [{fmt(rows.row_sum_min)}, {fmt(rows.row_sum_max)}]",
        **loss_where(c, r),
    )


@verdict("TL202")
def sigmoid_before_bce_with_logits(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("binary_cross_entropy_with_logits",)) if finite(r.input.min)]
    if not recs:
        return None
    inside = [r for r in recs if num(r.input.min) >= 0 and num(r.input.max) <= 1]
    if len(inside) == len(recs):
        r = recs[0]
        return confirmed(
            observed=f"every input of the BCE-with-logits loss lies in [0, 1] "
            f"(min {fmt(r.input.min)}, max {fmt(r.input.max)}): sigmoid outputs",
            expected="raw logits",
            **loss_where(c, r),
        )
    r = next(r for r in recs if r not in inside)
    return refuted(
        observed=f"the BCE-with-logits input leaves [0, 1] (min {fmt(r.input.min)}, max "
        f"{fmt(r.input.max)}): raw logits",
        **loss_where(c, r),
    )


@verdict("TL203")
def bce_on_logits(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("binary_cross_entropy",)) if finite(r.input.min)]
    if not recs:
        return None
    outside = [r for r in recs if num(r.input.min) < 0 or num(r.input.max) > 1]
    if outside:
        r = outside[0]
        return confirmed(
            observed=f"the BCELoss input leaves [0, 1] (min {fmt(r.input.min)}, max "
            f"{fmt(r.input.max)}): logits, not probabilities",
            expected="probabilities in [0, 1]",
            **loss_where(c, r),
        )
    r = recs[0]
    return refuted(
        observed=f"every BCELoss input lies in [0, 1] (min {fmt(r.input.min)}, max {fmt(r.input.max)})",
        **loss_where(c, r),
    )


@verdict("TL204")
def nll_without_log_softmax(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("nll_loss",)) if r.rows]
    if not recs:
        return None
    tol = float(c.opts("TL204").get("logsumexp_tolerance", 0.1))
    for r in recs:
        rows = r.rows
        assert rows is not None  # (filtered above)
        worst = max(abs(num(rows.lse_min, 0.0)), abs(num(rows.lse_max, 0.0)))
        if worst > tol or not finite(rows.lse_max):
            kind = "softmax probabilities" if probabilities(c, r) == "probabilities" else "not log-probabilities"
            return confirmed(
                observed=f"logsumexp of the NLL input rows is in [{fmt(rows.lse_min)}, {fmt(rows.lse_max)}]: {kind}",
                expected="logsumexp of each row = 0 (log_softmax output)",
                **loss_where(c, r),
            )
    r = recs[0]
    rows = r.rows
    assert rows is not None
    return refuted(
        observed=f"the NLL input rows are log-probabilities (logsumexp in [{fmt(rows.lse_min)}, {fmt(rows.lse_max)}])",
        **loss_where(c, r),
    )


@verdict("TL205")
def regression_loss_for_classification(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, REGRESSION_LOSSES) if r.target]
    if not recs:
        return None
    limit = int(c.opts("TL205").get("max_distinct", 20))
    for r in recs:
        t = r.target
        if t is not None and t.integer and t.distinct is not None and t.distinct <= limit:
            return confirmed(
                observed=f"the regression loss's targets are whole numbers with {t.distinct} distinct "
                f"value(s) in [{fmt(t.min)}, {fmt(t.max)}]: class labels",
                expected="continuous targets",
                **loss_where(c, r),
            )
    r = recs[0]
    t = r.target
    assert t is not None
    what = "take fractional values" if not t.integer else f"take {t.distinct} distinct values"
    return refuted(
        observed=f"the regression loss's targets {what} (range [{fmt(t.min)}, {fmt(t.max)}])",
        **loss_where(c, r),
    )


@verdict("TL206")
def activation_on_logits(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    recs = [r for r in c.loss_records(d, ("cross_entropy",)) if finite(r.input.min)]
    if not recs:
        return None
    for r in recs:
        inp = r.input
        producer = r.produced_by.layer_type if r.produced_by else None
        if num(inp.min) >= 0:
            return confirmed(
                observed=f"every logit fed to cross-entropy is >= 0 (min {fmt(inp.min)}, max "
                f"{fmt(inp.max)}){f', output of {producer}' if producer else ''}",
                expected="unbounded logits from a final Linear layer",
                **loss_where(c, r),
            )
        if producer in SQUASHERS:
            return confirmed(
                observed=f"the logits come straight out of a `{producer}` layer (range "
                f"[{fmt(inp.min)}, {fmt(inp.max)}])",
                expected="unbounded logits from a final Linear layer",
                **loss_where(c, r),
            )
    r = recs[0]
    return refuted(
        observed=f"the logits are unbounded both ways (range [{fmt(r.input.min)}, {fmt(r.input.max)}])",
        **loss_where(c, r),
    )
