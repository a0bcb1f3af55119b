"""TL003: how the traced run ended. The runtime-only findings (TL901-TL913) are each in their
rule's file (`Rule.runtime_check`)."""

from trainlint.runtime.judging.findings.script import script_error

__all__ = ["script_error"]
