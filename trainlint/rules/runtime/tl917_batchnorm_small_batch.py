"""TL917 batchnorm-small-batch: BatchNorm trains on batch statistics of too few samples per device."""

from __future__ import annotations

from typing import List, Optional

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging.common import runtime_finding
from trainlint.runtime.judging.context import Ctx, names_shown
from trainlint.runtime.records import NormBatch

# Batch statistics of one or two samples are mostly noise (and of one sample with one value
# per channel, an error). Wu & He, "Group Normalization" (ECCV 2018), Fig. 1: ResNet-50's
# ImageNet error with BatchNorm rises from 23.6% at 32 images per worker to 27.3% at 4 and
# 34.7% at 2.
TOO_FEW = 2
# Under data parallelism without SyncBatchNorm each rank normalises its own shard, so a batch
# that looks fine globally is this small per rank (the same figure: already +3.7 points at 4).
TOO_FEW_PER_RANK = 4


def findings_tl917(c: Ctx) -> List[Diagnostic]:
    small = [(n, why) for n in c.ev.norm_batches.values() if (why := _too_small(n)) is not None]
    if not small:
        return []
    first, why = small[0]
    layers = names_shown([n.layer for n, _ in small], most=4)
    return [
        runtime_finding(
            c,
            "TL917",
            f"{len(small)} BatchNorm layer(s) ({layers}) train on {why}: their batch statistics "
            "are too noisy to normalise with, and the running statistics used at evaluation inherit "
            "that noise. " + _fix(first),
            first.site,
            {
                "observed": f"`{first.layer}` ({first.layer_type}) normalised at most {first.batch} sample(s) per forward "
                + (f"on each of {first.world_size} ranks" if first.world_size > 1 else "in training mode"),
                "expected": f"more than {TOO_FEW_PER_RANK if _per_rank(first) else TOO_FEW} samples per batch statistic",
                "layers": [n.layer for n, _ in small[:20]],
            },
        )
    ]


def _per_rank(n: NormBatch) -> bool:
    return n.world_size > 1 and not n.synced


def _too_small(n: NormBatch) -> Optional[str]:
    samples = n.batch * n.world_size if n.synced else n.batch
    if samples <= TOO_FEW:
        return f"batches of {samples} sample(s)"
    if _per_rank(n) and n.batch <= TOO_FEW_PER_RANK:
        return f"{n.batch} sample(s) per rank (each of {n.world_size} ranks normalises its own shard)"
    return None


def _fix(n: NormBatch) -> str:
    if _per_rank(n):
        return (
            "Convert the model with `torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)` before "
            "wrapping it in DDP, so the statistics span every rank's batch, or raise the per-rank batch."
        )
    return (
        "Use a larger batch, or a normalisation that does not depend on it (`GroupNorm`, "
        "`LayerNorm`); when fine-tuning a pretrained network with small batches, keep its "
        "BatchNorm layers in eval mode (frozen statistics)."
    )


RULE = Rule(
    code="TL917",
    name="batchnorm-small-batch",
    family="runtime",
    severity=WARNING,
    summary="BatchNorm trains on batch statistics of too few samples per device.",
    kind="runtime",
    runtime_check=findings_tl917,
)
