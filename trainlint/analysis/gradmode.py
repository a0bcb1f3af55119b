"""One answer to "are gradients off here?": `torch.no_grad()`, `torch.inference_mode()`,
`torch.set_grad_enabled(False)` as a context or a decorator, and project decorator factories
that wrap them (`@smart_inference_mode()` defined in the project's utils)."""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set

import libcst as cst

from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.scopes import blocks
from trainlint.analysis.walk import walk

NO_GRAD_CONTEXTS = (
    "torch.no_grad",
    "torch.inference_mode",
    "torch.autograd.no_grad",
    "torch.autograd.grad_mode.no_grad",
    # MONAI's `with eval_mode(net):` puts the nets in eval mode and runs the block under no_grad
    "monai.networks.eval_mode",
    "monai.networks.utils.eval_mode",
)
_ENABLE_GRAD = ("torch.enable_grad", "torch.autograd.enable_grad")
_SET_GRAD = ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled")


def _is_false(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "False"


def disables_grad(expr: cst.BaseExpression, module: ModuleFacts) -> bool:
    """`torch.no_grad()`, `torch.inference_mode()` (not `(False)`), `torch.set_grad_enabled(False)`."""
    if not isinstance(expr, cst.Call):
        return False
    qual = module.qualify(expr.func)
    if qual in NO_GRAD_CONTEXTS:
        return not (qual == "torch.inference_mode" and expr.args and _is_false(expr.args[0].value))
    if qual in _SET_GRAD and expr.args:
        return _is_false(expr.args[0].value)
    return False


def enables_grad(expr: cst.BaseExpression, module: ModuleFacts) -> bool:
    """`torch.enable_grad()`, `torch.set_grad_enabled(True)`."""
    if not isinstance(expr, cst.Call):
        return False
    qual = module.qualify(expr.func)
    if qual in _ENABLE_GRAD:
        return True
    if qual in _SET_GRAD and expr.args:
        a = expr.args[0].value
        return isinstance(a, cst.Name) and a.value == "True"
    return False


def may_switch_off(module: ModuleFacts) -> bool:
    """The module calls `torch.set_grad_enabled` with anything but a literal `True` (`False`,
    or a run-time flag such as `phase == "train"`): where that reaches cannot be told statically,
    so a rule that needs gradients to be on stays silent on such a module."""
    for s in module.scopes:
        for call in s.calls:
            if module.qualify(call.func) in _SET_GRAD and call.args and not literal_on(call.args[0].value):
                return True
    return False


def literal_on(arg: cst.BaseExpression) -> bool:
    """A literal `True` or a non-zero integer."""
    return (isinstance(arg, cst.Name) and arg.value == "True") or (isinstance(arg, cst.Integer) and arg.value != "0")


def function_disables_grad(fn: cst.FunctionDef, module: ModuleFacts) -> bool:
    """The function is decorated with a no-grad decorator: `@torch.no_grad()`, `@torch.no_grad`,
    `@torch.inference_mode()`, or a project factory that returns one."""
    for dec in fn.decorators:
        d = dec.decorator
        if isinstance(d, cst.Call):
            if disables_grad(d, module) or _project_factory(d.func, module):
                return True
        elif module.qualify(d) in NO_GRAD_CONTEXTS or _project_factory(d, module):
            return True
    return False


def scope_disables_grad(scope: Scope) -> bool:
    """The scope or a function around it is decorated with a no-grad decorator."""
    s: Optional[Scope] = scope
    while s is not None:
        if isinstance(s.node, cst.FunctionDef) and function_disables_grad(s.node, s.module):
            return True
        s = s.parent
    return False


def _project_factory(target: cst.BaseExpression, module: ModuleFacts) -> bool:
    """A project function used as a decorator whose body builds `torch.no_grad` or
    `torch.inference_mode` and never re-enables gradients."""
    project = module.project
    if project is None:
        return False
    fn = project.resolve_callee(target, module.toplevel)
    if not isinstance(fn, Scope):
        return False
    cache: Dict[int, bool] = project.memo(_project_factory, fn.module, dict)
    if id(fn) not in cache:
        quals = {fn.module.qualify(n) for n in walk(fn.node) if isinstance(n, (cst.Attribute, cst.Name))}
        cache[id(fn)] = bool(quals & set(NO_GRAD_CONTEXTS)) and not quals & set(_ENABLE_GRAD)
    return cache[id(fn)]


def no_grad_nodes(module: ModuleFacts) -> Set[int]:
    """Ids of statements and calls lexically inside `with torch.no_grad():` (or
    `inference_mode`), inside functions decorated with either, and after a statement that
    switches gradients off in its block (`torch.set_grad_enabled(False)`,
    `torch.no_grad().__enter__()`) up to one that switches them on again."""
    return module.memo(no_grad_nodes, lambda: _no_grad_nodes(module))


# Words without which a module's own code cannot switch gradients off (a project decorator
# factory still can: decorated functions are asked about separately).
_SWITCH_WORDS = ("no_grad", "inference_mode", "set_grad_enabled", "__enter__", "eval_mode")


def _no_grad_nodes(module: ModuleFacts) -> Set[int]:
    out: Set[int] = set()
    text = module.text
    if not any(w in text for w in _SWITCH_WORDS) and not any(
        isinstance(s.node, cst.FunctionDef) and s.node.decorators and function_disables_grad(s.node, module)
        for s in module.scopes
    ):
        return out  # (most modules: nothing to walk)
    # A switch at the top level also covers the functions defined after it (an inference
    # script), unless the module turns gradients on again somewhere.
    into_functions = ("enable_grad" not in text and "set_grad_enabled" not in text) or not any(
        enables_grad(call, module) for scope in module.scopes for call in scope.calls
    )

    def inside(node: cst.CSTNode) -> None:
        kept = [x for x in walk(node) if isinstance(x, (cst.BaseSmallStatement, cst.Call, cst.BaseStatement))]
        out.update(id(x) for x in kept)
        for x in kept:  # `with torch.enable_grad():` inside turns them on again
            if isinstance(x, cst.With) and any(enables_grad(item.item, module) for item in x.items):
                out.difference_update(id(y) for y in walk(x.body))

    # Only statements are walked to find the blocks; expressions only inside those blocks.
    stack: List[cst.CSTNode] = []
    suites: List[Sequence[cst.CSTNode]] = [module.tree.body]
    while suites or stack:
        if suites:
            switched = False
            for n in suites.pop():
                switch = _grad_switch(n, module)
                if switch is not None:
                    switched = switch is False
                elif switched and (into_functions or not isinstance(n, cst.FunctionDef)):
                    inside(n)
                else:
                    stack.append(n)
            continue
        n = stack.pop()
        body: Optional[cst.CSTNode] = None
        if isinstance(n, cst.With) and any(disables_grad(item.item, module) for item in n.items):
            body = n.body
        elif isinstance(n, cst.FunctionDef) and function_disables_grad(n, module):
            body = n.body
        if body is not None:
            inside(body)
            continue
        if isinstance(n, cst.FunctionDef) and isinstance(n.body, cst.IndentedBlock):
            suites.append(n.body.body)
        elif isinstance(n, cst.BaseCompoundStatement):
            # Each block keeps its own switch state: one set in an `if` body ends with it.
            orelse = getattr(n, "orelse", None)
            if isinstance(orelse, cst.If):
                stack.append(orelse)
            suites.extend(b.body for b in blocks(n) if isinstance(b, cst.IndentedBlock))
    return out


def _grad_switch(stmt: cst.CSTNode, module: ModuleFacts) -> Optional[bool]:
    """False for a statement that switches gradients off for what follows
    (`torch.set_grad_enabled(False)`, `torch.no_grad().__enter__()`), True for one that
    switches them on (`torch.set_grad_enabled(True)`), else None."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Expr):
        return None
    call = stmt.body[0].value
    if not isinstance(call, cst.Call):
        return None
    if isinstance(call.func, cst.Attribute) and call.func.attr.value == "__enter__":
        return False if disables_grad(call.func.value, module) else None
    if module.qualify(call.func) in _SET_GRAD:
        return False if disables_grad(call, module) else True if enables_grad(call, module) else None
    return None
