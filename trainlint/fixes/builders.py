"""The fix builders of the rules (`fix_tlNNN`): each returns None unless it is sure of the
shape of the code."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import gradmode as GM
from trainlint.analysis import loops as L
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.flow import LossCall, Op
from trainlint.analysis.loops import Event
from trainlint.analysis.names import dotted
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Fix
from trainlint.fixes.core import SAFE, UNSAFE, Changes, Locate, make_fix, parent_of
from trainlint.fixes.edits import (
    ancestors,
    assigned_or_own_statement,
    block_body,
    bound_before,
    insert_after,
    insert_before,
    move,
    names_in,
    own_statement,
    parse_expression,
    parse_statement,
    same_place,
    sibling_in,
    source_of,
    statement_line,
    torch_alias,
)

if TYPE_CHECKING:
    from trainlint.rules import RuleContext


# ---------------------------------------------------------------------------- TL1xx: the loop


def _receiver_code(module: ModuleFacts, call: cst.CSTNode) -> Optional[str]:
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


def _stepped_optimizer(module: ModuleFacts, step: Event) -> Optional[str]:
    """The optimizer a step event updates: `opt` in `opt.step()` or `scaler.step(opt)`."""
    if step.kind == L.SCALER_STEP:
        arg = _first_positional(step.node)
        return source_of(module, arg) if arg is not None and dotted(arg) is not None else None
    return _receiver_code(module, step.node)


def _root_name(code: str) -> str:
    return code.split(".", 1)[0]


def fix_tl101(locate: Locate, backward: Event, step: Event) -> Optional[Fix]:
    """Clear the gradients once per iteration: `opt.zero_grad()` before the backward's statement,
    or, when the step is conditional (gradient accumulation), right after the step."""
    module = backward.module
    if not same_place(backward.scope, backward.via, step.scope, step.via):
        return None
    opt = _stepped_optimizer(module, step)
    if opt is None:
        return None
    guessed = bool(getattr(step.receiver, "guess", False)) and step.kind != L.SCALER_STEP
    call_stmt = parse_statement(module, f"{opt}.zero_grad()")
    accumulation = not set(step.conds) <= set(backward.conds)
    if accumulation:
        line = statement_line(module, step.node)
        if line is None:
            return None
        changes = insert_after(line, call_stmt)
        where = f"after `{source_of(module, step.node)}`, once per real step"
    else:
        line = statement_line(module, backward.node)
        if line is None or not bound_before(locate, module, backward.scope, _root_name(opt), line):
            return None
        changes = insert_before(line, call_stmt)
        where = "before `backward()`"
    return make_fix(module, changes, UNSAFE if guessed else SAFE, f"Call `{opt}.zero_grad()` {where}")


def _anchor(module: ModuleFacts, event: Event, other: Event) -> Optional[cst.CSTNode]:
    """The node standing for `other` in the function where `event` is written: the event
    itself when both are written in one place, or the call of the helper that reaches it."""
    if same_place(event.scope, event.via, other.scope, other.via):
        return other.node
    if not event.via and other.via and other.via[0][0] is event.scope:
        return other.via[0][1]
    return None


def _move_stmt(
    event: Event,
    other: Event,
    after: bool,
    allow_assign: bool = False,
    same_block_only: bool = False,
    lead: Optional[cst.BaseStatement] = None,
) -> Optional[Changes]:
    """Move the statement of `event` just after/before the statement (of the same block) that
    holds `other`, or stands for it (the call of the helper that reaches it)."""
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
    return move(module, line, anchor, after, lead)


def fix_tl102(locate: Locate, zero: Event, step: Event) -> Optional[Fix]:
    """Move `zero_grad()` from between `backward()` and `step()` to just after the step."""
    changes = _move_stmt(zero, step, after=True)
    what = source_of(zero.module, zero.node)
    return make_fix(zero.module, changes, SAFE, f"Move `{what}` after `{source_of(step.module, step.node)}`")


def fix_tl105(locate: Locate, sched: Event, step: Event) -> Optional[Fix]:
    """Move `scheduler.step()` to just after the statement that steps the optimizer."""
    changes = _move_stmt(sched, step, after=True)
    return make_fix(
        sched.module, changes, SAFE, f"Move `{source_of(sched.module, sched.node)}` after the optimizer step"
    )


def fix_tl106(locate: Locate, clip: Event, step: Event, unscale: bool = False) -> Optional[Fix]:
    """Move the clipping statement to just before the optimizer step that follows `backward()`
    (with a GradScaler that does not unscale yet, `scaler.unscale_(opt)` goes first)."""
    module = clip.module
    lead = None
    if unscale:
        parts = _scaler_parts(module, step)
        if parts is None:
            return None
        lead = parse_statement(module, f"{parts[0]}.unscale_({parts[1]})")
    # Only a step written in the clip's own block: clipping inside an accumulation branch is
    # a different computation from clipping every micro-batch.
    changes = _move_stmt(clip, step, after=False, allow_assign=True, same_block_only=True, lead=lead)
    return make_fix(module, changes, SAFE, "Clip between `backward()` and the optimizer step")


def _scaler_parts(module: ModuleFacts, sstep: Event) -> Optional[Tuple[str, str]]:
    scaler = _receiver_code(module, sstep.node)
    opt = _stepped_optimizer(module, sstep)
    if scaler is None or opt is None:
        return None
    return scaler, opt


def fix_tl107_unscale(locate: Locate, clip: Event, sstep: Event) -> Optional[Fix]:
    """`scaler.unscale_(opt)` before clipping, so the threshold applies to the true gradients."""
    module = clip.module
    parts = _scaler_parts(module, sstep)
    line = statement_line(module, clip.node)
    if parts is None or line is None or not same_place(clip.scope, clip.via, sstep.scope, sstep.via):
        return None
    scaler, opt = parts
    changes = insert_before(line, parse_statement(module, f"{scaler}.unscale_({opt})"))
    return make_fix(module, changes, SAFE, f"Call `{scaler}.unscale_({opt})` before clipping")


def fix_tl107_update(locate: Locate, sstep: Event) -> Optional[Fix]:
    """`scaler.update()` right after `scaler.step(opt)`."""
    module = sstep.module
    scaler = _receiver_code(module, sstep.node)
    line = statement_line(module, sstep.node)
    if scaler is None or line is None:
        return None
    changes = insert_after(line, parse_statement(module, f"{scaler}.update()"))
    return make_fix(module, changes, SAFE, f"Call `{scaler}.update()` after `{scaler}.step(...)`")


def fix_tl107_scale(locate: Locate, backward: Event, sstep: Event) -> Optional[Fix]:
    """`loss.backward()` -> `scaler.scale(loss).backward()`."""
    module = backward.module
    scaler = _receiver_code(module, sstep.node)
    call = backward.node
    if scaler is None or not same_place(backward.scope, backward.via, sstep.scope, sstep.via):
        return None
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute) or call.args:
        return None
    if statement_line(module, call) is None:
        return None
    loss = call.func.value
    scaled = cst.Call(func=parse_expression(module, f"{scaler}.scale"), args=[cst.Arg(loss)])
    new = call.with_changes(func=call.func.with_changes(value=scaled))
    return make_fix(
        module, {call: new}, SAFE, f"Scale the loss: `{scaler}.scale({source_of(module, loss)}).backward()`"
    )


# ---------------------------------------------------------------------------- expression helpers


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


_ATOMS = (
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
    if not multiline and (isinstance(new, _ATOMS) or isinstance(parent, _OPEN_SLOTS)):
        return new
    return new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])  # type: ignore[attr-defined]


def _in_lambda(module: ModuleFacts, node: cst.CSTNode) -> bool:
    return any(isinstance(a, cst.Lambda) for a in ancestors(module, node))


def _rename_callee(
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


# ---------------------------------------------------------------------------- TL2xx: the loss

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


def _drop_activation(module: ModuleFacts, node: cst.CSTNode, kinds: Sequence[str]) -> Optional[Changes]:
    """Changes that remove an activation: an inline call replaced by its input; the last layer
    of an `nn.Sequential(...)` removed; a layer attribute's calls in `forward` unwrapped."""
    if isinstance(node, cst.Call) and not _in_lambda(module, node):
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


def _loss_fix_op(lc: LossCall, op: Op) -> Optional[Tuple[ModuleFacts, cst.CSTNode]]:
    """The op's module and node, when the op can be edited in the finding's own file."""
    if op.module is not lc.module:
        return None
    return op.module, op.node


def _owner(op: Op) -> str:
    return f" from `{op.owner}`" if op.owner else ""


def fix_tl201(locate: Locate, lc: LossCall, op: Op) -> Optional[Fix]:
    """Drop the softmax (or log_softmax) in front of a cross-entropy loss, wherever it is
    applied in the same file: inline, earlier in the function, or in the model's `forward`."""
    found = _loss_fix_op(lc, op)
    if found is None:
        return None
    module, node = found
    log = op.kind == "log_softmax"
    changes = _drop_activation(module, node, ("softmax", "log_softmax") if log else ("softmax",))
    what = "log_softmax" if log else "softmax"
    return make_fix(
        module, changes, UNSAFE, f"Remove the {what}{_owner(op)} and feed raw logits to the loss (model outputs change)"
    )


def fix_tl202(locate: Locate, lc: LossCall, op: Op) -> Optional[Fix]:
    """Drop the sigmoid in front of a BCE-with-logits loss."""
    found = _loss_fix_op(lc, op)
    if found is None:
        return None
    module, node = found
    changes = _drop_activation(module, node, ("sigmoid",))
    return make_fix(
        module,
        changes,
        UNSAFE,
        f"Remove the sigmoid{_owner(op)} and feed raw logits to the loss (model outputs change)",
    )


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


def _rename_loss(
    ctx: "RuleContext", lc: LossCall, renames: Dict[str, str]
) -> Optional[Tuple[ModuleFacts, Changes, str, str]]:
    found = _loss_builder(lc)
    if found is None or not _sole_user(ctx, lc, ("linear",)):
        return None
    module, call = found
    qual = module.qualify(call.func) or ""
    last = qual.rsplit(".", 1)[-1]
    if last not in renames or _in_lambda(module, call):
        return None
    new_func = _rename_callee(module, call.func, last, renames[last])
    if new_func is None:
        return None
    return module, {call.func: new_func}, last, renames[last]


def fix_tl203(locate: Locate, ctx: "RuleContext", lc: LossCall) -> Optional[Fix]:
    """`nn.BCELoss` -> `nn.BCEWithLogitsLoss` (`F.binary_cross_entropy` -> `..._with_logits`)."""
    renamed = _rename_loss(
        ctx, lc, {"BCELoss": "BCEWithLogitsLoss", "binary_cross_entropy": "binary_cross_entropy_with_logits"}
    )
    if renamed is None:
        return None
    module, changes, old, new = renamed
    return make_fix(module, changes, UNSAFE, f"Use `{new}` instead of `{old}` on the raw scores")


def fix_tl204(locate: Locate, ctx: "RuleContext", lc: LossCall, op: Op) -> Optional[Fix]:
    """`softmax` -> `log_softmax` before `NLLLoss`; on raw scores, `NLLLoss` -> `CrossEntropyLoss`."""
    if op.kind == "softmax":
        found = _loss_fix_op(lc, op)
        if found is None:
            return None
        module, node = found
        log_call = _to_log_softmax(module, node)
        if log_call is None:
            return None
        return make_fix(
            module,
            {node: log_call},
            UNSAFE,
            "Use `log_softmax` instead of `softmax` before the NLL loss (model outputs change)",
        )
    renamed = _rename_loss(ctx, lc, {"NLLLoss": "CrossEntropyLoss", "nll_loss": "cross_entropy"})
    if renamed is None:
        return None
    module, changes, old, new = renamed
    return make_fix(module, changes, UNSAFE, f"Use `{new}` instead of `{old}` on the raw scores")


def _to_log_softmax(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.CSTNode]:
    if not isinstance(node, cst.Call) or _in_lambda(module, node):
        return None
    qual = module.qualify(node.func)
    if qual in ("torch.nn.functional.softmax", "torch.softmax") or (
        qual and qual.endswith((".Softmax",)) and qual.startswith("torch.nn.")
    ):
        last = qual.rsplit(".", 1)[-1]
        new_func = _rename_callee(module, node.func, last, "LogSoftmax" if last == "Softmax" else "log_softmax")
        return node.with_changes(func=new_func) if new_func is not None else None
    if qual is None and isinstance(node.func, cst.Attribute) and node.func.attr.value == "softmax":
        return node.with_changes(func=node.func.with_changes(attr=cst.Name("log_softmax")))
    return None


def fix_tl207(locate: Locate, module: ModuleFacts, call: cst.Call) -> Optional[Fix]:
    """Pass `dim=-1` explicitly: the class axis of `(batch, classes)` and `(batch, steps,
    classes)` outputs (for `(N, C, H, W)` maps the class axis is 1: review)."""
    if _in_lambda(module, call) or any(a.star for a in call.args):
        return None
    return make_fix(
        module,
        {call: add_keyword(module, call, "dim", "-1")},
        UNSAFE,
        "Pass `dim=-1` (the last axis; for (N, C, H, W) outputs the class axis is `dim=1`)",
    )


# ---------------------------------------------------------------------------- TL3xx: data


def fix_tl302(locate: Locate, module: ModuleFacts, call: cst.Call, known_map_style: bool) -> Optional[Fix]:
    """`shuffle=True` on a training DataLoader: added when absent (safe for a map-style
    dataset), or replacing an explicit `shuffle=False` (unsafe: it was written on purpose)."""
    if _in_lambda(module, call) or any(a.star for a in call.args):
        return None
    arg = C.arg_node(call, 2, "shuffle")
    if arg is None:
        new = add_keyword(module, call, "shuffle", "True")
        return make_fix(
            module, {call: new}, SAFE if known_map_style else UNSAFE, "Pass `shuffle=True` to the training DataLoader"
        )
    return make_fix(module, {arg.value: cst.Name("True")}, UNSAFE, "Set `shuffle=True` on the training DataLoader")


# ---------------------------------------------------------------------------- TL6xx: manual updates


def _update_line(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.SimpleStatementLine]:
    line = statement_line(module, node)
    if line is None or len(line.body) != 1:
        return None
    small = line.body[0]
    if small is not node and not (isinstance(small, cst.Expr) and small.value is node):
        return None
    return line


def _lexically_no_grad(module: ModuleFacts, node: cst.CSTNode) -> bool:
    """Inside `with torch.no_grad():` (or inference_mode), or a function decorated with it."""
    for a in ancestors(module, node):
        if isinstance(a, cst.With) and any(GM.disables_grad(item.item, module) for item in a.items):
            return True
        if isinstance(a, cst.FunctionDef):
            return GM.function_disables_grad(a, module)
    return False


def _in_place(module: ModuleFacts, node: cst.CSTNode) -> Optional[cst.AugAssign]:
    """`w = w - lr * w.grad` -> `w -= lr * w.grad`, or None for any other shape."""
    if not isinstance(node, cst.Assign) or len(node.targets) != 1:
        return None
    target, value = node.targets[0].target, node.value
    if not isinstance(value, cst.BinaryOperation) or not isinstance(value.operator, cst.Subtract) or value.lpar:
        return None
    if source_of(module, value.left).strip() != source_of(module, target).strip():
        return None
    return cst.AugAssign(target=target, operator=cst.SubtractAssign(), value=value.right, semicolon=node.semicolon)


def _wrap_group(
    module: ModuleFacts, lines: List[cst.SimpleStatementLine], replaced: Dict[int, cst.SimpleStatementLine]
) -> Optional[Changes]:
    """One `with torch.no_grad():` around consecutive statements of a block (each run of
    consecutive ones gets its own)."""
    alias = torch_alias(module)
    block = parent_of(module, lines[0])
    if alias is None or block is None or any(parent_of(module, ln) is not block for ln in lines):
        return None
    body = list(block_body(block))
    order = sorted(lines, key=body.index)
    runs: List[List[cst.SimpleStatementLine]] = []
    for ln in order:
        if runs and body.index(ln) == body.index(runs[-1][-1]) + 1:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    changes: Changes = {}
    for run in runs:
        inner = [replaced.get(id(ln), ln) for ln in run]
        inner = [inner[0].with_changes(leading_lines=[])] + inner[1:]
        changes[run[0]] = cst.With(
            items=[cst.WithItem(item=parse_expression(module, f"{alias}.no_grad()"))],
            body=cst.IndentedBlock(body=inner),
            leading_lines=run[0].leading_lines,
        )
        for ln in run[1:]:
            changes[ln] = cst.RemovalSentinel.REMOVE
    return changes


def fix_tl602(locate: Locate, problem: str, events: Sequence[Event]) -> Optional[Fix]:
    """Hand-written updates made right: `w -= lr * w.grad` (descent, in place) under
    `torch.no_grad()`; `problem` is the rule's: "rebind", "ascent" or "grad-enabled"."""
    if not events or any(e.module is not events[0].module for e in events):
        return None
    module = events[0].module
    lines = []
    for e in events:
        line = _update_line(module, e.node)
        if line is None:
            return None
        lines.append(line)
    names = ", ".join(f"`{source_of(module, e.arg).strip()}`" for e in events if e.arg is not None)
    if problem == "ascent":
        changes: Changes = {}
        for e in events:
            node = e.node
            if not isinstance(node, cst.AugAssign) or not isinstance(node.operator, cst.AddAssign):
                return None
            op = node.operator
            changes[node] = node.with_changes(
                operator=cst.SubtractAssign(
                    whitespace_before=op.whitespace_before, whitespace_after=op.whitespace_after
                )
            )
        return make_fix(module, changes, UNSAFE, f"Subtract the gradient from {names} (descent) instead of adding it")
    if problem == "rebind":
        replaced: Dict[int, cst.SimpleStatementLine] = {}
        for e, line in zip(events, lines):
            aug = _in_place(module, e.node)
            if aug is None:
                return None
            replaced[id(line)] = line.with_changes(body=[aug])
        loose = [ln for ln in lines if not _lexically_no_grad(module, ln)]
        wrapped = _wrap_group(module, loose, replaced) if loose else {}
        if wrapped is None:
            return None
        changes = {ln: replaced[id(ln)] for ln in lines if ln not in loose}
        changes.update(wrapped)
        return make_fix(module, changes, UNSAFE, f"Update {names} in place under `torch.no_grad()`")
    if problem == "grad-enabled":
        return make_fix(
            module, _wrap_group(module, lines, {}), UNSAFE, f"Run the update of {names} under `torch.no_grad()`"
        )
    return None


_INPLACE_METHODS = {"sub_", "add_", "copy_", "addcdiv_", "addcmul_", "mul_", "div_"}


def _mentions_grad(node: cst.CSTNode) -> bool:
    return any(isinstance(n, cst.Attribute) and n.attr.value == "grad" for n in walk(node))


def _is_update(stmt: cst.CSTNode) -> Optional[str]:
    """The target text of an in-place update from a gradient (`w -= lr * w.grad`,
    `p.sub_(lr * p.grad)`)."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    target_node: Optional[cst.BaseExpression] = None
    if isinstance(small, cst.AugAssign) and _mentions_grad(small.value):
        target_node = small.target
    elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        func = small.value.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value in _INPLACE_METHODS
            and any(_mentions_grad(a.value) for a in small.value.args)
        ):
            target_node = func.value
    if target_node is None:
        return None
    target = dotted(target_node) if isinstance(target_node, (cst.Name, cst.Attribute)) else None
    if target is None or target.endswith((".grad", ".data")):
        return None
    return target


def fix_tl603(locate: Locate, module: ModuleFacts, node: cst.CSTNode) -> Optional[Fix]:
    """After the run of hand-written updates holding `node`, clear each updated tensor's
    gradient (`w.grad = None`), unless the block reads a gradient after that point."""
    line = _update_line(module, node)
    block = parent_of(module, line) if line is not None else None
    if line is None or block is None or _is_update(line) is None:
        return None
    body = list(block_body(block))
    i = body.index(line)
    start, end = i, i
    while start > 0 and _is_update(body[start - 1]):
        start -= 1
    while end + 1 < len(body) and _is_update(body[end + 1]):
        end += 1
    targets = list(dict.fromkeys(t for t in (_is_update(s) for s in body[start : end + 1]) if t))
    rest = body[end + 1 :]
    if any(isinstance(n, cst.Attribute) and n.attr.value == "grad" for s in rest for n in walk(s)):
        return None  # a gradient is read after the update: clearing it would break that read
    resets = [parse_statement(module, f"{t}.grad = None") for t in targets]
    changes: Changes = {body[end]: cst.FlattenSentinel([body[end], *resets])}  # type: ignore[list-item]
    names = ", ".join(f"`{t}.grad`" for t in targets)
    return make_fix(module, changes, UNSAFE, f"Clear {names} after the update")


# ---------------------------------------------------------------------------- TL604

_NUMERIC_CONSUMERS = {"print", "float", "int", "round", "str", "format", "abs", "min", "max"}


def fix_tl604(
    locate: Locate, module: ModuleFacts, scope: Scope, node: cst.CSTNode, acc: str, inc: cst.BaseExpression
) -> Optional[Fix]:
    """Accumulate a number, not the graph: `total += loss.item()` when the total is a local
    number that is only printed or computed with and `loss` is the scalar that was
    backpropagated; otherwise `.detach()`, which keeps the total a tensor."""
    if _in_lambda(module, node) or statement_line(module, node) is None:
        return None
    method = "item" if _item_is_safe(module, scope, node, acc, inc) else "detach"
    base = (
        inc
        if isinstance(inc, _ATOMS) or inc.lpar
        else inc.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    )  # type: ignore[attr-defined]
    new = cst.Call(func=cst.Attribute(value=base, attr=cst.Name(method)))
    return make_fix(module, {inc: new}, SAFE, f"Accumulate `{source_of(module, inc)}.{method}()`")


def _item_is_safe(module: ModuleFacts, scope: Scope, node: cst.CSTNode, acc: str, inc: cst.BaseExpression) -> bool:
    if not isinstance(node, (cst.AugAssign, cst.Assign)) or "." in acc or not isinstance(inc, cst.Name):
        return False
    # `.item()` needs a one-element tensor: the value `backward()` was called on without arguments.
    scalar = any(
        isinstance(c.func, cst.Attribute)
        and c.func.attr.value == "backward"
        and not c.args
        and isinstance(c.func.value, cst.Name)
        and c.func.value.value == inc.value
        for c in scope.calls
    )
    inits = [b for b in scope.bindings.get(acc, []) if b.stmt is not node]
    if not scalar or not inits or not all(isinstance(b.value, (cst.Integer, cst.Float)) for b in inits):
        return False
    owners = {id(b.stmt) for b in scope.bindings.get(acc, [])} | {id(node)}
    body = scope.node.body if isinstance(scope.node, cst.FunctionDef) else scope.node
    for n in walk(body):
        if isinstance(n, cst.Name) and n.value == acc and not _numeric_use(module, n, owners):
            return False
    return True


def _numeric_use(module: ModuleFacts, name: cst.Name, owners: set) -> bool:
    """The total is read where a float does as well as a tensor: printed, formatted,
    compared, combined arithmetically into something that is itself only read that way."""
    cur: cst.CSTNode = name
    while True:
        parent = parent_of(module, cur)
        if parent is None:
            return False
        if id(parent) in owners:
            return True  # the accumulation or the initialisation itself
        if isinstance(parent, cst.AssignTarget):
            cur = parent
            continue
        if isinstance(
            parent,
            (
                cst.BinaryOperation,
                cst.UnaryOperation,
                cst.Comparison,
                cst.ComparisonTarget,
                cst.FormattedStringExpression,
            ),
        ):
            if isinstance(parent, cst.FormattedStringExpression):
                return True
            cur = parent
            continue
        if isinstance(parent, cst.Arg):
            call = parent_of(module, parent)
            return (
                isinstance(call, cst.Call) and isinstance(call.func, cst.Name) and call.func.value in _NUMERIC_CONSUMERS
            )
        if isinstance(parent, (cst.If, cst.While, cst.IfExp)) and getattr(parent, "test", None) is cur:
            return True
        return False


# ---------------------------------------------------------------------------- TL4xx: modes and no_grad


def _model_name(module: ModuleFacts, forward: Event) -> Optional[str]:
    """`model` for `model(x)` / `model.forward(x)` / `self.net(x)`, if it is a plain name."""
    node = forward.node
    if not isinstance(node, cst.Call):
        return None
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "forward":
        func = func.value
    return source_of(module, func) if dotted(func) is not None else None


def _pass_statement(module: ModuleFacts, loop: Optional[L.LoopFacts], forward: Event) -> Optional[cst.CSTNode]:
    """The statement that is the evaluation pass: the loop, or (outside loops) the statement
    line of the forward call, when it is alone on its line."""
    if loop is not None:
        return loop.node if isinstance(parent_of(module, loop.node), (cst.IndentedBlock, cst.Module)) else None
    line = statement_line(module, forward.node)
    return line if line is not None and len(line.body) == 1 else None


def fix_tl403_eval(locate: Locate, loop: Optional[L.LoopFacts], forward: Event) -> Optional[Fix]:
    """`model.eval()` before the evaluation pass and `model.train()` after it: the model
    leaves the pass in the (training) mode it entered with."""
    module = forward.module
    scope = loop.scope if loop is not None else forward.scope
    if forward.via or forward.scope is not scope:
        return None
    name = _model_name(module, forward)
    stmt = _pass_statement(module, loop, forward)
    if name is None or stmt is None or not bound_before(locate, module, scope, _root_name(name), stmt):
        return None
    changes: Changes = {
        stmt: cst.FlattenSentinel(
            [parse_statement(module, f"{name}.eval()"), stmt, parse_statement(module, f"{name}.train()")]
        )
    }  # type: ignore[list-item]
    what = "loop" if loop is not None else "pass"
    return make_fix(
        module, changes, SAFE, f"Call `{name}.eval()` before the evaluation {what} and `{name}.train()` after it"
    )


def fix_tl403_restore(locate: Locate, loop: L.LoopFacts, forward: Event) -> Optional[Fix]:
    """`model.train()` as the first statement of each iteration of the training loop that
    also switches the model to eval mode."""
    module = loop.scope.module
    if forward.via or forward.scope is not loop.scope:
        return None
    name = _model_name(module, forward)
    body = loop.node.body
    if name is None or not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    first = body.body[0]
    return make_fix(
        module,
        insert_before(first, parse_statement(module, f"{name}.train()")),
        SAFE,
        f"Call `{name}.train()` at the start of each iteration",
    )


_EVAL_WORDS = re.compile(
    r"(^|_)(eval|evaluate|evaluation|val|valid|validate|validation|test|predict|inference|infer)(_|$)", re.I
)
_GRAD_KINDS = (L.BACKWARD, L.AUTOGRAD_GRAD, L.STEP, L.SCALER_STEP, L.MANUAL_UPDATE)


def fix_tl404(locate: Locate, ctx: "RuleContext", loop: Optional[L.LoopFacts], forward: Event) -> Optional[Fix]:
    """Evaluation without autograd: `@torch.no_grad()` on a function named for evaluation
    that computes no gradient anywhere, else the pass (the loop, or the statement) wrapped in
    `with torch.no_grad():` (with the module's own name for torch)."""
    module = forward.module
    scope = loop.scope if loop is not None else forward.scope
    alias = torch_alias(module)
    if alias is None or forward.via or forward.scope is not scope:
        return None
    fn = scope.node
    if (
        isinstance(fn, cst.FunctionDef)
        and _EVAL_WORDS.search(fn.name.value)
        and not any(e.kind in _GRAD_KINDS for e in ctx.loops.body_events(scope, 0))
    ):
        deco = cst.Decorator(decorator=parse_expression(module, f"{alias}.no_grad()"))
        new_fn = fn.with_changes(decorators=[*fn.decorators, deco])
        return make_fix(module, {fn: new_fn}, SAFE, f"Decorate `{fn.name.value}` with `@{alias}.no_grad()`")
    stmt = _pass_statement(module, loop, forward)
    if not isinstance(stmt, (cst.BaseCompoundStatement, cst.SimpleStatementLine)):
        return None
    block = cst.With(
        items=[cst.WithItem(item=parse_expression(module, f"{alias}.no_grad()"))],
        body=cst.IndentedBlock(body=[stmt.with_changes(leading_lines=[])]),
        leading_lines=stmt.leading_lines,
    )
    what = "loop" if loop is not None else "pass"
    return make_fix(module, {stmt: block}, SAFE, f"Run the evaluation {what} under `with {alias}.no_grad():`")


def fix_tl405(locate: Locate, module: ModuleFacts, method: Scope, call: cst.Call) -> Optional[Fix]:
    """`F.dropout(x, p)` -> `F.dropout(x, p, training=self.training)` in a module method."""
    if not method.params or method.params[0] != "self" or _in_lambda(module, call) or any(a.star for a in call.args):
        return None
    new = add_keyword(module, call, "training", "self.training")
    return make_fix(module, {call: new}, SAFE, "Pass `training=self.training`")
