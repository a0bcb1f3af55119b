"""The runtime tracer behind `trainlint trace`.

Only the modules that run inside the traced process (hooks, wrappers, probes, gradcheck,
child) import torch; everything the parent process uses (command, runner, evidence, verdicts,
findings, report, render, thresholds) works without it.
"""
