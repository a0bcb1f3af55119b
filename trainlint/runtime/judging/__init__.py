"""The parent's judgement of a traced run (no torch): the records filed as `evidence`, one
verdict per static rule (`judge`; each verdict is in its rule's file), the runtime-only findings (`findings/`), the `merge` of
both with the static findings, and the `report` that holds the result.
"""
