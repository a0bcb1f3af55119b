"""TL918 loss-spike: Under `trace --watch`, a loss many times its running median."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List

from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import WARNING, Rule
from trainlint.runtime.judging import watch
from trainlint.runtime.judging.context import Ctx


@dataclass(frozen=True)
class Options:
    """Thresholds of the watcher (`trace --watch`)."""

    spike_factor: float = 5.0


def findings_tl918(c: Ctx) -> List[Diagnostic]:
    return watch.findings(c, "TL918")


RULE = Rule(
    code="TL918",
    name="loss-spike",
    family="runtime",
    severity=WARNING,
    summary="Under `trace --watch`, a loss many times its running median.",
    kind="runtime",
    options=Options,
    runtime_check=findings_tl918,
)
