"""Evidence -> verdict on each static suspicion: confirmed or refuted, with what was observed.

One function per rule code, registered with `@verdict("TLnnn")`, in one module per family. A
function returns None when the run never produced the evidence it needs; the finding is then
`unverified` (never dropped). A refutation always says what was seen instead. Readings shared
by several verdicts are in `judging/common.py`.
"""

from trainlint.runtime.judging.registry import NO_RUNTIME_CHECK, VERDICTS
from trainlint.runtime.judging.verdicts import data, graph, hparams, loop, loss, model  # noqa: F401  (registers)

__all__ = ["NO_RUNTIME_CHECK", "VERDICTS"]
