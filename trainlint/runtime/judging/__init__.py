"""The parent's judgement of a traced run (no torch): the records filed as `evidence`, one
verdict per static suspicion (`judge`), the runtime-only findings, the `merge` of both with the
static findings, and the `report` that holds the result. Each rule's verdict or runtime check
is in its rule's file.
"""
