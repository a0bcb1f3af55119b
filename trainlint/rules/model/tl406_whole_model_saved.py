"""TL406 whole-model-saved: `torch.save(model, path)` pickles the module object, not its weights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AbstractSet, Callable, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint import fixes
from trainlint.analysis import calls as C
from trainlint.analysis import kinds as K
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.scopes import visible
from trainlint.diagnostics import Fix
from trainlint.fixes.core import SAFE, UNSAFE, Locate, make_fix
from trainlint.rules.base import WARNING, Finding, Rule, RuleContext
from trainlint.rules.graph.common import compact_code

# What only a module answers: a loaded object used this way was saved whole on purpose.
_MODULE_USES = frozenset(
    {"eval", "train", "parameters", "named_parameters", "modules", "children", "forward", "cuda", "to", "half"}
)

# What the saving function may ask of the object it saves (`model.state_dict()` for a
# checkpoint beside the whole-module save counts too).
_SAVED_MODULE_USES = _MODULE_USES | {"state_dict"}


@dataclass
class _Loads:
    """The project's `torch.load` calls, by how their result is used."""

    as_module: bool = False  # some load is called, or put in eval mode, ...: whole-module saves are deliberate
    paths: Set[str] = field(default_factory=set)  # path texts of loads not given to `load_state_dict`
    into_state_dict: List[Tuple[ModuleFacts, cst.Call, str]] = field(default_factory=list)


def _is_load(module: ModuleFacts, call: cst.Call) -> bool:
    return module.qualify(call.func) == "torch.load"


def _bound_names(scope: Scope, call: cst.Call) -> List[str]:
    return [n for n, bs in scope.bindings.items() if any(b.value is call and b.index is None for b in bs)]


def _used_as_module(
    scope: Scope, mentions: Callable[[cst.BaseExpression], bool], uses: AbstractSet[str] = _MODULE_USES
) -> bool:
    """The object that `mentions` recognises is called in `scope` (`net(x)`) or asked for one
    of `uses` (`net.eval()`, `torch.load(p).to(device)`): only a module answers so."""
    for c in scope.calls:
        func = c.func
        if isinstance(func, cst.Attribute) and func.attr.value in uses and mentions(func.value):
            return True
        if mentions(func):
            return True
    return False


def _the_load(load: cst.Call, names: List[str]) -> Callable[[cst.BaseExpression], bool]:
    """Recognises the loaded object: the `torch.load(...)` call itself or a name bound to it."""
    return lambda e: e is load or (isinstance(e, cst.Name) and e.value in names)


# What only a module answers, asked of an entry of a loaded checkpoint (`.to()` and `.half()`
# are left out: a dict of tensors answers them too).
_MODULE_ONLY = frozenset({"eval", "train", "parameters", "named_parameters", "modules", "children", "forward", "fuse"})


def _entry_used_as_module(scope: Scope, load: cst.Call, names: List[str]) -> bool:
    """`ckpt["model"].float().fuse().eval()`: an entry of the loaded checkpoint used as a module."""
    is_load = _the_load(load, names)
    for c in scope.calls:
        func = c.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in _MODULE_ONLY):
            continue
        e: cst.BaseExpression = func.value
        for _ in range(8):
            if isinstance(e, cst.Call) and isinstance(e.func, cst.Attribute):
                e = e.func.value
            elif isinstance(e, cst.Subscript):
                if is_load(e.value):
                    return True
                e = e.value
            else:
                break
    return False


def _chain(key: str) -> Callable[[cst.BaseExpression], bool]:
    """Recognises a name or attribute chain by its text (`model`, `self.model`)."""
    return lambda e: dotted(e) == key


def _into_state_dict(scope: Scope, load: cst.Call, names: List[str]) -> bool:
    """`m.load_state_dict(torch.load(p))`, also through a name and a checkpoint's key
    (`ckpt = torch.load(p); m.load_state_dict(ckpt["model"])`)."""
    for c in scope.calls:
        if isinstance(c.func, cst.Attribute) and c.func.attr.value == "load_state_dict" and c.args:
            first = c.args[0].value
            if isinstance(first, cst.Subscript):
                first = first.value
            if first is load or (isinstance(first, cst.Name) and first.value in names):
                return True
    return False


def _project_loads(ctx: RuleContext) -> _Loads:
    def build() -> _Loads:
        out = _Loads()
        for m in ctx.project.modules:
            if "load" not in m.text:
                continue
            for scope in m.scopes:
                for call in scope.calls:
                    if not _is_load(m, call):
                        continue
                    names = _bound_names(scope, call)
                    path = C.arg(call, 0, "f")
                    text = compact_code(m, path) if path is not None else ""
                    if _used_as_module(scope, _the_load(call, names)) or _entry_used_as_module(scope, call, names):
                        out.as_module = True
                    elif _into_state_dict(scope, call, names):
                        out.into_state_dict.append((m, call, text))
                    else:
                        out.paths.add(text)
        return out

    return ctx.project.memo(_project_loads, ctx.project.modules[0], build)


def _scripted(arg: cst.BaseExpression, scope: Scope) -> bool:
    """`scripted = torch.jit.script(model)`: a TorchScript module, saved with `torch.jit.save`."""
    if not isinstance(arg, cst.Name):
        return False
    _, bindings = visible(scope, arg)
    return any(
        isinstance(b.value, cst.Call) and (scope.module.qualify(b.value.func) or "").startswith("torch.jit.")
        for b in bindings
    )


def whole_model_saved(ctx: RuleContext) -> Iterator[Finding]:
    mod = ctx.module
    if "save" not in mod.text:
        return
    for scope in mod.scopes:
        for call in scope.calls:
            if mod.qualify(call.func) != "torch.save":
                continue
            obj = C.arg(call, 0, "obj")
            if obj is None:
                continue
            if isinstance(obj, cst.Attribute) and obj.attr.value == "state_dict":
                yield _uncalled_state_dict(mod, call, obj)
                continue
            value = ctx.resolver.value_of(obj, scope)
            if value is None or value.kind != K.MODEL or _scripted(obj, scope):
                continue
            key = dotted(obj)
            if value.guess and (key is None or not _used_as_module(scope, _chain(key), _SAVED_MODULE_USES)):
                continue  # (a name alone says too little about what is pickled: its use here must say module)
            loads = _project_loads(ctx)
            if loads.as_module:
                continue  # the project loads a whole module back and uses it: saving one is deliberate
            path = C.arg(call, 1, "f")
            path_text = compact_code(mod, path) if path is not None else None
            if path_text is not None and path_text in loads.paths:
                continue  # the same file is loaded back whole
            if not loads.into_state_dict:
                # No loader in sight: official examples pair a whole-module save with an
                # inference script, not linked by imports, that loads it whole on purpose.
                continue
            text = compact_code(mod, obj)
            same = [(m, load) for m, load, p in loads.into_state_dict if p == path_text]
            related: List[Tuple[ModuleFacts, cst.CSTNode, str]]
            if same:
                crash = " The project loads this very file into `load_state_dict`, which fails on a module."
                related = [
                    (m, load, "loaded here into `load_state_dict`, which needs tensors, not a module")
                    for m, load in same
                ]
            else:
                crash = " The project loads its weights with `load_state_dict`, which such a file does not fit."
                m, load, _ = loads.into_state_dict[0]
                related = [(m, load, "the project's loader: `load_state_dict` of a loaded file")]
            yield Finding(
                "TL406",
                mod,
                call,
                f"`torch.save({text}, ...)` pickles the whole module: the file records the class by its "
                "import path, so it loads only where that code still exists unchanged, and `torch.load` "
                "refuses it by default (`weights_only=True` since PyTorch 2.6)."
                f"{crash} Save the weights: `torch.save({text}.state_dict(), ...)`, and load them with "
                "`model.load_state_dict(torch.load(path))`.",
                related=related,
                fix_builder=fixes.hook(fix_tl406, mod, obj),
            )


def _uncalled_state_dict(mod: ModuleFacts, call: cst.Call, obj: cst.Attribute) -> Finding:
    """`torch.save(model.state_dict, path)`: the bound method, not the dict it returns."""
    text = compact_code(mod, obj)
    return Finding(
        "TL406",
        mod,
        call,
        f"`{text}` is not called: `torch.save` pickles the bound method, and with it the whole "
        f"`{compact_code(mod, obj.value)}` object, not its weights; the file loads only where that "
        "code exists unchanged, `torch.load` refuses it by default, and `load_state_dict` cannot "
        f"use it. Call it: `torch.save({text}(), ...)`.",
        fix_builder=fixes.hook(fix_tl406_call, mod, obj),
    )


def fix_tl406_call(locate: Locate, module: ModuleFacts, obj: cst.Attribute) -> Optional[Fix]:
    """`torch.save(m.state_dict, p)` -> `torch.save(m.state_dict(), p)`: what was meant."""
    return make_fix(module, {obj: cst.Call(func=obj)}, SAFE, "Call `state_dict()`")


def fix_tl406(locate: Locate, module: ModuleFacts, obj: cst.BaseExpression) -> Optional[Fix]:
    """`torch.save(model, p)` -> `torch.save(model.state_dict(), p)`: unsafe, since whatever
    loads the file must then build the model and call `load_state_dict`."""
    if not isinstance(obj, (cst.Name, cst.Attribute, cst.Call)):
        return None
    new = cst.Call(func=cst.Attribute(value=obj, attr=cst.Name("state_dict")))
    return make_fix(
        module, {obj: new}, UNSAFE, "Save `state_dict()` (the loading side must build the model and load it)"
    )


RULE = Rule(
    code="TL406",
    name="whole-model-saved",
    family="model",
    severity=WARNING,
    summary="`torch.save(model)` pickles the whole module where its `state_dict()` was meant.",
    fixable=True,
    check=whole_model_saved,
    fixes=(fix_tl406, fix_tl406_call),
    no_runtime_check="saving happens after the traced steps, and what a file holds is a matter of code",
)
