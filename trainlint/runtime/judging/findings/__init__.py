"""Runtime-only findings (TL901-TL913), one function per code registered with
`@finding("TLnnn")`, each located at the user's code; and TL003, how the run ended."""

from trainlint.runtime.judging.findings import activations, functions, gradients, losses, parameters, values  # noqa: F401
from trainlint.runtime.judging.findings.script import script_error
from trainlint.runtime.judging.registry import FINDINGS

__all__ = ["FINDINGS", "script_error"]
