"""Code that runs a backward or an optimizer step without training a model for real: unit
tests and fixtures, throughput and profiling probes. The loop, model and graph rules leave it
alone: a test that checks one step, or a benchmark that times twenty, is not a training run
whose silent bugs cost GPU hours."""

from __future__ import annotations

import os
import re
from typing import Dict, FrozenSet, Iterator, Optional, Set

from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.loops import LoopAnalyzer, LoopFacts

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_PROBE_WORDS = frozenset(
    {"benchmark", "benchmarks", "bench", "profile", "profiler", "profiling", "throughput", "timing", "speedtest", "oom"}
)
_TEST_DIRS = frozenset({"tests", "test", "testing"})
# The folders that hold a project's unit tests for certain (`testing/` also holds experiment
# runners: `testing/unet_runner.py` trains).
UNIT_TEST_DIRS = frozenset({"tests", "test"})


def words(text: str) -> Set[str]:
    """The lower-case words of an identifier or a snippet (`evalLoop`, `eval_loop` -> eval, loop)."""
    return {w.lower() for w in _WORD.findall(text.replace("_", " "))}


# Other array and deep-learning frameworks: their models record no autograd graph, have no
# `zero_grad` and no modes in PyTorch's sense (a MegEngine or Paddle port beside the PyTorch code).
_OTHER_FRAMEWORKS = frozenset(
    {"megengine", "paddle", "jittor", "mindspore", "oneflow", "tensorflow", "keras", "jax", "flax", "mxnet"}
)


def written_for_another_framework(module: ModuleFacts) -> bool:
    """The module imports another framework (`import megengine as mge`) and not torch."""
    return module.memo(written_for_another_framework, lambda: _other_framework_only(module))


def _other_framework_only(module: ModuleFacts) -> bool:
    heads = {q.split(".", 1)[0] for q in module.imports.alias.values()}
    return "torch" not in heads and bool(heads & _OTHER_FRAMEWORKS)


def is_test_code(scope: Scope, dirs: FrozenSet[str] = _TEST_DIRS) -> bool:
    """pytest/unittest conventions: `test_*.py`, `*_test.py`, `conftest.py`, a `tests/` folder,
    `test*` functions and methods, and pytest fixtures. `dirs`: the folder names that count."""
    path = scope.module.path.replace("\\", "/")
    base = os.path.basename(path)
    if base == "conftest.py" or ((base.startswith("test_") or base.endswith("_test.py")) and _has_tests(scope.module)):
        return True
    if dirs & set(path.split("/")[-3:-1]):
        return True  # `tests/unit/test_x.py`; a folder higher up says nothing about the project...
    if not os.path.isabs(path) and path.split("/")[0] == "tests":
        return True  # ...unless it is the project's own top-level `tests/` (its test scripts too)
    s: Optional[Scope] = scope
    while s is not None:
        if s.cls is not None and s.cls.name.startswith("Test") and _test_case_class(s.cls):
            return True  # a test case class's methods
        if s.simple_name.startswith("test") and s.simple_name not in _EVALUATION_NAMES:
            return True
        if any(d.rsplit(".", 1)[-1] == "fixture" for d in s.decorators):
            return True
        s = s.parent
    return False


def _test_case_class(cls: ClassFacts) -> bool:
    """A `Test*` class a test runner collects: a `unittest.TestCase`, or a class without
    `__init__` (pytest skips classes that have one: `class Test:` holding a model, a loader
    and a criterion is a project's evaluation runner)."""
    if "__init__" not in cls.methods:
        return True
    return any("TestCase" in cls.module.tree.code_for_node(b) for b in cls.bases)


def _has_tests(module: ModuleFacts) -> bool:
    """A file named like a test module that holds tests (`test*` functions, `Test*` classes, a
    test framework import). Some projects name their training scripts `copymem_test.py`."""
    return module.memo(_has_tests, lambda: _holds_tests(module))


def _holds_tests(module: ModuleFacts) -> bool:
    heads = {q.split(".", 1)[0] for q in module.imports.alias.values()}
    return (
        bool(heads & {"pytest", "unittest"})
        or any(c.startswith("Test") for c in module.classes)
        or any(sc.simple_name.startswith("test") and sc.simple_name not in _EVALUATION_NAMES for sc in module.scopes)
    )


# `def test(model, loader)` in a training script evaluates the model on the test split (the
# PyTorch MNIST example's shape); pytest collects such names only from test files.
_EVALUATION_NAMES = frozenset(
    {
        "test",
        "testing",
        "test_epoch",
        "test_one_epoch",
        "test_step",
        "test_loop",
        "test_net",
        "test_model",
        "test_network",
    }
)


def is_probe(scope: Scope) -> bool:
    """A throughput, profiling or out-of-memory probe: a function (or the file) named for
    benchmarking (`scan_batches_for_oom` runs backward on the largest batches and clears)."""
    base = os.path.splitext(os.path.basename(scope.module.path))[0]
    if words(base) & _PROBE_WORDS:
        return True
    s: Optional[Scope] = scope
    while s is not None:
        if s.name != "<module>" and words(s.simple_name) & _PROBE_WORDS:
            return True
        s = s.parent
    return False


def not_training(scope: Scope) -> bool:
    """Test code or a probe (asked for every loop by several rules: kept per scope)."""
    known: Dict[int, bool] = scope.module.memo(not_training, dict)
    if id(scope) not in known:
        known[id(scope)] = is_test_code(scope) or is_probe(scope)
    return known[id(scope)]


def training_loops(loops: LoopAnalyzer, module: ModuleFacts) -> Iterator[LoopFacts]:
    """The module's loops, less those of tests and benchmarks."""
    return (lf for lf in loops.loops_of(module) if not not_training(lf.scope))
