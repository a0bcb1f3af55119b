"""Command-line options a script declares with `argparse` (`parser.add_argument(...)`), read
from the calls that declare them: their destination name and what they default to."""

from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis.facts import ModuleFacts


def dest_of(call: cst.Call) -> Optional[str]:
    """The attribute an `add_argument(...)` call fills: `dest=`, else the first long option
    (`--batch-size` -> `batch_size`), else the first name given."""
    dest = C.arg(call, None, "dest", skip_star=True)
    if isinstance(dest, cst.SimpleString):
        v = dest.evaluated_value
        return v if isinstance(v, str) else None
    names = [a.value.evaluated_value for a in call.args if a.keyword is None and isinstance(a.value, cst.SimpleString)]
    strs = [n for n in names if isinstance(n, str)]
    longs = [n for n in strs if n.startswith("--")]
    pick = longs[0] if longs else (strs[0] if strs else None)
    if pick is None:
        return None
    return pick.lstrip("-").replace("-", "_")


def declarations_of(dest: str, module: ModuleFacts) -> Iterator[cst.Call]:
    """The `add_argument(...)` calls of `module` that fill `dest`."""
    for scope in module.scopes:
        for call in scope.calls:
            if (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "add_argument"
                and dest_of(call) == dest
            ):
                yield call


def off_unless_given(dest: str, module: ModuleFacts) -> Optional[str]:
    """The option (`-s`, `--shuffle`) of a flag that `module` declares with
    `action="store_true"` and no `default=True`: false unless the command line names it."""
    for call in declarations_of(dest, module):
        action = C.arg(call, None, "action", skip_star=True)
        default = C.arg(call, None, "default", skip_star=True)
        if not (isinstance(action, cst.SimpleString) and action.evaluated_value == "store_true"):
            return None
        if default is not None and not (isinstance(default, cst.Name) and default.value == "False"):
            return None
        first = call.args[0].value if call.args else None
        return str(first.evaluated_value) if isinstance(first, cst.SimpleString) else dest
    return None
