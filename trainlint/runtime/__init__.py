"""The runtime tracer behind `trainlint trace`, in three parts and one schema.

- `child/`: runs inside the traced process, the only part that imports torch: hooks and
  wrappers, one watcher per concern, that send records as they are gathered.
- `parent/`: the `trace` command, the child process and its pipe, the static half of a trace.
- `judging/`: the records filed as evidence, a verdict per static rule, the runtime-only
  findings, and their merge with the static findings into a `TraceReport`.
- `records.py`: every record that crosses the pipe, and its encoding; the only thing both
  sides share. `api.py` is the Python API (it runs the child side in-process for `tracing()`).
"""
