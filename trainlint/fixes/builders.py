"""Changes that several rules' fixes make (drop an activation, rename a loss, move a
statement, name an optimizer); each rule's own `fix_tlNNN` lives in its rule file."""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import loops as L
from trainlint.analysis.facts import ModuleFacts
from trainlint.analysis.flow import LossCall, Op
from trainlint.analysis.loops import Event
from trainlint.analysis.names import dotted
from trainlint.analysis.project import Project
from trainlint.analysis.scopes import scope_index, scope_of_node
from trainlint.analysis.walk import walk
from trainlint.fixes.core import Changes, parent_of
from trainlint.fixes.edits import (
    ancestors,
    assigned_or_own_statement,
    block_body,
    leaves_early,
    move,
    names_in,
    own_statement,
    parse_expression,
    same_place,
    sibling_in,
    source_of,
    statement_line,
    torch_alias,
)
from trainlint.rules.base import RuleContext


def receiver_code(module: ModuleFacts, call: cst.CSTNode) -> Optional[str]:
    """`opt` for `opt.step()`, when the receiver is a plain name or attribute chain."""
    if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and dotted(call.func.value) is not None:
        return source_of(module, call.func.value)
    return None


def _first_positional(call: cst.CSTNode) -> Optional[cst.BaseExpression]:
    if not isinstance(call, cst.Call):
        return None
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            return arg.value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "optimizer":
            return arg.value
    return None


def stepped_optimizer(module: ModuleFacts, step: Event) -> Optional[str]:
    """The optimizer a step event updates: `opt` in `opt.step()` or `scaler.step(opt)`."""
    if step.kind == L.SCALER_STEP:
        arg = _first_positional(step.node)
        return source_of(module, arg) if arg is not None and dotted(arg) is not None else None
    return receiver_code(module, step.node)


def root_name(code: str) -> str:
    return code.split(".", 1)[0]


def _anchor(module: ModuleFacts, event: Event, other: Event) -> Optional[cst.CSTNode]:
    """The node standing for `other` in the function where `event` is written: the event
    itself when both are written in one place, or the call of the helper that reaches it."""
    if same_place(event.scope, event.via, other.scope, other.via):
        return other.node
    if not event.via and other.via and other.via[0][0] is event.scope:
        return other.via[0][1]
    return None


def move_stmt(
    event: Event,
    other: Event,
    after: bool,
    allow_assign: bool = False,
    same_block_only: bool = False,
    lead: Optional[cst.BaseStatement] = None,
) -> Optional[Changes]:
    """Move the statement of `event` just after/before the statement (of the same block) that
    holds `other`, or stands for it (the call of the helper that reaches it). Never past a
    statement that can leave the block early (`if skip: continue`): the moved statement would
    then run on other paths (a skipped batch would stop clearing its gradients, or advancing
    the schedule), a change beyond the one the move is for."""
    module = event.module
    if not isinstance(event.node, cst.Call):
        return None
    found = assigned_or_own_statement(module, event.node) if allow_assign else None
    line: Optional[cst.SimpleStatementLine]
    bound: Optional[str] = None
    if found is not None:
        line, bound = found
    else:
        line = own_statement(module, event.node)
    target = _anchor(module, event, other)
    if line is None or target is None:
        return None
    block = parent_of(module, line)
    if block is None:
        return None
    anchor = sibling_in(module, target, block)
    if anchor is None or anchor is line:
        return None
    if same_block_only and statement_line(module, target) is not anchor:
        return None
    body = list(block_body(block))
    i, j = body.index(line), body.index(anchor)
    passed = body[i + 1 : j + 1] if after else (body[i + 1 : j] if i < j else body[j:i])
    if bound is not None and any(bound in names_in(s) for s in passed):
        return None  # the moved statement's result is read on the way
    if any(leaves_early(s) for s in passed):
        return None
    return move(module, line, anchor, after, lead)


def scaler_parts(module: ModuleFacts, sstep: Event) -> Optional[Tuple[str, str]]:
    scaler = receiver_code(module, sstep.node)
    opt = stepped_optimizer(module, sstep)
    if scaler is None or opt is None:
        return None
    return scaler, opt


def add_keyword(module: ModuleFacts, call: cst.Call, name: str, value: str) -> cst.Call:
    """`f(a, b)` -> `f(a, b, name=value)`, following the call's layout (one argument per line
    stays one per line; a trailing comma stays trailing)."""
    new_arg = cst.Arg(
        value=parse_expression(module, value),
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new_arg])
    last = args[-1]
    sep: cst.BaseParenthesizableWhitespace = cst.SimpleWhitespace(" ")
    if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
        sep = args[-2].comma.whitespace_after
    elif isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        sep = call.whitespace_before_args
    if isinstance(last.comma, cst.Comma):
        new_arg = new_arg.with_changes(comma=last.comma)
    else:
        new_arg = new_arg.with_changes(whitespace_after_arg=last.whitespace_after_arg)
    args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=sep), whitespace_after_arg=cst.SimpleWhitespace(""))
    args.append(new_arg)
    return call.with_changes(args=args)


ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.BaseNumber,
    cst.BaseString,
    cst.List,
    cst.Tuple,
    cst.Dict,
    cst.Set,
)


# Where any expression may stand without parentheses.
_OPEN_SLOTS = (cst.Arg, cst.Return, cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Expr, cst.Element, cst.DictElement)


def replacement_for(module: ModuleFacts, old: cst.BaseExpression, new: cst.BaseExpression) -> cst.BaseExpression:
    """`new` put where `old` was: old's own parentheses kept, new ones added where the
    surrounding syntax needs an atom (or where `new` spans lines)."""
    if getattr(old, "lpar", None):
        return new.with_changes(lpar=old.lpar, rpar=old.rpar)  # type: ignore[attr-defined]
    if getattr(new, "lpar", None):
        return new
    multiline = "\n" in module.tree.code_for_node(new) or "\r" in module.tree.code_for_node(new)
    parent = parent_of(module, old)
    if not multiline and (isinstance(new, ATOMS) or isinstance(parent, _OPEN_SLOTS)):
        return new
    return new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])  # type: ignore[attr-defined]


def in_lambda(module: ModuleFacts, node: cst.CSTNode) -> bool:
    return any(isinstance(a, cst.Lambda) for a in ancestors(module, node))


def rename_callee(
    module: ModuleFacts, func: cst.BaseExpression, old_qual_last: str, new_last: str
) -> Optional[cst.BaseExpression]:
    """`nn.BCELoss` -> `nn.BCEWithLogitsLoss`; for a bare imported name, the new name when the
    module already imports it, else the torch-rooted spelling."""
    if isinstance(func, cst.Attribute) and func.attr.value == old_qual_last:
        return func.with_changes(attr=cst.Name(new_last))
    if isinstance(func, cst.Name):
        qual = module.qualify(func)
        if qual is None:
            return None
        target = qual.rsplit(".", 1)[0] + "." + new_last
        for local, full in sorted(module.imports.alias.items()):
            if full == target:
                return cst.Name(local)
        alias = torch_alias(module)
        if alias is not None and target.startswith("torch."):
            return parse_expression(module, alias + target[len("torch") :])
    return None


# Calls that apply an activation to their first argument (or to their receiver, as a method).
_ACTIVATION_FUNCS = {
    "softmax": ("torch.nn.functional.softmax", "torch.softmax", "torch.Tensor.softmax"),
    "log_softmax": ("torch.nn.functional.log_softmax", "torch.log_softmax"),
    "sigmoid": ("torch.sigmoid", "torch.nn.functional.sigmoid", "torch.special.expit"),
}


_LAYER_CLASSES = {"softmax": ("Softmax",), "log_softmax": ("LogSoftmax",), "sigmoid": ("Sigmoid",)}


def _activation_input(module: ModuleFacts, call: cst.Call, kinds: Sequence[str]) -> Optional[cst.BaseExpression]:
    """The tensor an activation call applies to: `x` in `F.softmax(x, 1)`, `x.softmax(1)`,
    `torch.sigmoid(x)`, `torch.log(F.softmax(x, 1))`."""
    qual = module.qualify(call.func)
    names = {q for k in kinds for q in _ACTIVATION_FUNCS[k]}
    if qual in names:
        arg = C.arg_node(call, 0, "input")
        return arg.value if arg is not None else None
    if (
        qual is None
        and isinstance(call.func, cst.Attribute)
        and call.func.attr.value in kinds
        and dotted(call.func.value) != "self"
    ):
        return call.func.value
    inner = None
    if qual == "torch.log" and call.args and isinstance(call.args[0].value, cst.Call):
        inner = call.args[0].value
    elif qual is None and isinstance(call.func, cst.Attribute) and call.func.attr.value == "log" and not call.args:
        inner = call.func.value if isinstance(call.func.value, cst.Call) else None
    if inner is not None and "log_softmax" in kinds:
        return _activation_input(module, inner, ("softmax",))
    return None


def drop_activation(module: ModuleFacts, node: cst.CSTNode, kinds: Sequence[str]) -> Optional[Changes]:
    """Changes that remove an activation: an inline call replaced by its input; the last layer
    of an `nn.Sequential(...)` removed; a layer attribute's calls in `forward` unwrapped."""
    if isinstance(node, cst.Call) and not in_lambda(module, node):
        inner = _activation_input(module, node, kinds)
        if inner is not None:
            return {node: replacement_for(module, node, inner)}
        layer = nn_layer_of(module, node)
        if layer in {c for k in kinds for c in _LAYER_CLASSES[k]}:
            return _drop_layer(module, node)
    return None


def nn_layer_of(module: ModuleFacts, call: cst.Call) -> Optional[str]:
    qual = module.qualify(call.func)
    if qual is not None and qual.startswith("torch.nn.") and qual.count(".") >= 2:
        return qual.rsplit(".", 1)[-1]
    return None


def _drop_layer(module: ModuleFacts, layer: cst.Call) -> Optional[Changes]:
    parent = parent_of(module, layer)
    # The last layer of nn.Sequential(a, b, nn.Softmax(dim=1)).
    if isinstance(parent, cst.Arg) and parent.keyword is None and not parent.star:
        seq = parent_of(module, parent)
        if not isinstance(seq, cst.Call) or module.qualify(seq.func) != "torch.nn.Sequential":
            return None
        args = list(seq.args)
        if args[-1] is not parent or len(args) < 2:
            return None
        removed = args.pop()
        prev = args[-1]
        args[-1] = prev.with_changes(
            comma=removed.comma if isinstance(removed.comma, cst.Comma) else cst.MaybeSentinel.DEFAULT,
            whitespace_after_arg=removed.whitespace_after_arg,
        )
        return {seq: seq.with_changes(args=args)}
    # self.act = nn.Softmax(dim=1) in __init__, then self.act(h) in forward: call sites unwrapped.
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
        attr = dotted(parent.targets[0].target)
        cls = next((a for a in ancestors(module, layer) if isinstance(a, cst.ClassDef)), None)
        if attr is None or not attr.startswith("self.") or cls is None:
            return None
        facts = module.classes.get(cls.name.value)
        forward = facts.methods.get("forward") if facts is not None else None
        if forward is None or len(facts.attrs.get(attr, [])) != 1:  # type: ignore[union-attr]
            return None
        changes: Changes = {}
        for call in forward.calls:
            if (
                dotted(call.func) == attr
                and len(call.args) == 1
                and not call.args[0].star
                and call.args[0].keyword is None
            ):
                changes[call] = replacement_for(module, call, call.args[0].value)
        return changes or None
    return None


def loss_fix_op(lc: LossCall, op: Op, project: Project) -> Optional[Tuple[ModuleFacts, cst.CSTNode]]:
    """The op's module and node: in the loss's file or in another file of the project (the
    model's `forward` in `models.py`); the fix then edits that file. None when the activated
    value also feeds something other than the loss: removing the activation would change
    predictions, metrics or another branch of the model as well."""
    if _read_twice(op.module, op.node) or _in_shared_helper(project, op.module, op.node, lc):
        return None
    return op.module, op.node


def _read_twice(module: ModuleFacts, node: cst.CSTNode) -> bool:
    """`p = softmax(x)` whose `p` is read more than once after it (the loss, and a metric,
    the returned predictions or another layer)."""
    parent = parent_of(module, node)
    if not isinstance(parent, cst.Assign) or len(parent.targets) != 1:
        return False
    target = parent.targets[0].target
    scope = scope_of_node(module, node)
    if not isinstance(target, cst.Name) or scope is None:
        return False
    stmt = statement_line(module, node)
    idx = scope_index(scope)
    reads = 0
    after = False  # (reads before the assignment see an older value, or one around a loop)
    own = {id(x) for x in walk(parent)}  # (`x = softmax(f(x))` reads the older `x`)
    for n in (x for st in scope.body for x in walk(st)):
        if n is parent or n is stmt:
            after = True
        if not after or id(n) in own or not isinstance(n, cst.Name) or n.value != target.value:
            continue
        if _other_arm(module, parent, n):
            continue
        if isinstance(parent_of(module, n), cst.AssignTarget):
            continue
        defs, _ = idx.reaching(n.value, n)
        if any(d.stmt is parent or d.stmt is stmt for d in defs):
            reads += 1
    return reads > 1


def _other_arm(module: ModuleFacts, a: cst.CSTNode, b: cst.CSTNode) -> bool:
    """`a` and `b` sit in different arms of one `if`/`else`: they never run in one pass."""
    path_b = {id(x): x for x in [b, *ancestors(module, b)]}
    prev: cst.CSTNode = a
    for up in ancestors(module, a):
        if isinstance(up, cst.If) and id(up) in path_b:
            arms = [up.body, up.orelse]
            mine = next((k for k, arm in enumerate(arms) if arm is prev), None)
            theirs = next((k for k, arm in enumerate(arms) if arm is not None and id(arm) in path_b), None)
            return mine is not None and theirs is not None and mine != theirs
        prev = up
    return False


def _in_shared_helper(project: Project, module: ModuleFacts, node: cst.CSTNode, lc: LossCall) -> bool:
    """The activation is in a helper function (not a model's `forward`, not the loss's own
    function) that several places call: `predict()` reaches it as well as the loss."""
    scope = scope_of_node(module, node)
    if scope is None or not isinstance(scope.node, cst.FunctionDef) or scope is lc.scope:
        return False
    if scope.name in ("forward", "__call__"):
        return False
    return len(project.callers(scope)) > 1


def owner_phrase(op: Op) -> str:
    return f" from `{op.owner}`" if op.owner else ""


def _loss_builder(lc: LossCall) -> Optional[Tuple[ModuleFacts, cst.Call]]:
    """The call to rename for a loss: the constructor of a loss module (same file), or the
    functional call itself."""
    if lc.ctor is None:
        return lc.module, lc.node
    if lc.ctor_module is not lc.module or not isinstance(lc.ctor, cst.Call):
        return None
    return lc.module, lc.ctor


def _sole_user(ctx: "RuleContext", lc: LossCall, kinds: Sequence[str]) -> bool:
    """Every call of the loss object that `lc` calls is fed by one of `kinds` (renaming its
    constructor must not break another call that feeds it correctly)."""
    from trainlint.analysis import flow as FL

    if lc.ctor is None:
        return True
    tracer = FL.tracer_for(ctx.project, ctx.resolver)
    for other in FL.loss_calls(lc.module, ctx.resolver):
        if other.ctor is not lc.ctor or other is lc:
            continue
        op = tracer.op(other.input, other.scope) if other.input is not None else None
        if op is None or op.kind not in kinds:
            return False
    return True


def rename_loss(
    ctx: "RuleContext", lc: LossCall, renames: Dict[str, str]
) -> Optional[Tuple[ModuleFacts, Changes, str, str]]:
    found = _loss_builder(lc)
    if found is None or not _sole_user(ctx, lc, ("linear",)):
        return None
    module, call = found
    qual = module.qualify(call.func) or ""
    last = qual.rsplit(".", 1)[-1]
    if last not in renames or in_lambda(module, call):
        return None
    new_func = rename_callee(module, call.func, last, renames[last])
    if new_func is None:
        return None
    return module, {call.func: new_func}, last, renames[last]


def update_line(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.SimpleStatementLine]:
    line = statement_line(module, node)
    if line is None or len(line.body) != 1:
        return None
    small = line.body[0]
    if small is not node and not (isinstance(small, cst.Expr) and small.value is node):
        return None
    return line


def pass_statement(module: ModuleFacts, loop: Optional[L.LoopFacts], forward: Event) -> Optional[cst.CSTNode]:
    """The statement that is the evaluation pass: the loop, or (outside loops) the statement
    line of the forward call, when it is alone on its line."""
    if loop is not None:
        return loop.node if isinstance(parent_of(module, loop.node), (cst.IndentedBlock, cst.Module)) else None
    line = statement_line(module, forward.node)
    return line if line is not None and len(line.body) == 1 else None
