"""The traced side: runs inside the user's process, the only part that imports torch.

`main` starts the script under a `tracer.Tracer`; the tracer holds one watcher per concern
(`modules`, `flow`, `activations`, `passes`, `optimizer`, `gradients`, `backward`, `losses`,
`loop_calls`, `data`, `functions`), which send `records` through a sink (`sinks`).
"""
