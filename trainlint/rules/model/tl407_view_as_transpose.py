"""TL407 view-as-transpose: `x.view(B, C, T)` on a tensor whose shape was read as `B, T, C`
reorders the sizes without moving the elements."""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Sequence, Tuple, cast

import libcst as cst

from trainlint.analysis import calls
from trainlint.analysis import data as D
from trainlint.analysis import derived as DV
from trainlint.analysis import module_facts as M
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import ModuleFacts, Scope
from trainlint.analysis.names import dotted
from trainlint.analysis.project import enclosing_class
from trainlint.analysis.shapes import RESHAPES, shape_unpack, swap_call
from trainlint.analysis.walk import walk
from trainlint.diagnostics import Diagnostic
from trainlint.rules.base import ERROR, Finding, Rule, RuleContext
from trainlint.runtime.judging.context import Ctx, Verdict, confirmed


def view_as_transpose(ctx: RuleContext) -> Iterator[Finding]:
    yield from _rnn_state_viewed_batch_first(ctx)
    yield from _conv_channels_grouped_in_memory_order(ctx)
    mod = ctx.module
    for scope in mod.scopes:
        for call in scope.calls:
            target = _reshape(call, mod.qualify(call.func))
            if target is None:
                continue
            tensor, sizes = target
            source = (
                _source_dims(scope, call, tensor, sizes)
                or _inline_dims(ctx, scope, call, tensor, sizes)
                or _layout_through_layers(ctx, scope, call, tensor)
            )
            if source is None:
                continue
            anchor, dims, axes = source
            order = _axis_order(_with_unknown_axis(axes, dims, sizes), sizes) or _leading_axis_moved(axes, sizes)
            if order is not None and _relative_shift(scope, call):
                continue
            if (
                order is not None
                and 0 < order[0] <= len(dims)
                and all(_checked_to_be_one(scope, dims[i]) for i in range(order[0]))
            ):
                continue  # `if batch != 1: raise ...` first: the axes passed over have size 1
            if order is None or order == sorted(order):
                moved = _axis_moved_behind_rest(ctx, scope, call, axes, sizes) if anchor is call else None
                if moved is not None:
                    yield _moved_behind_rest_finding(mod, call, tensor.value, moved, sizes)
                continue
            names = [_text(s, mod) for s in sizes]
            fix = f"{tensor.value}.{swap_call(order)}"
            if len(sizes) != len(order) or any(_is_minus_one(s) for s in sizes):
                fix = f"`{fix}.reshape({', '.join(names)})`"  # (a merge or a -1: reshape after the move)
            else:
                fix = f"`{fix}` (add `.contiguous()` before a later `.view`)"
            if anchor is call:  # sizes read inline
                what = f"puts `{names[0]}`, the size of axis {order[0]} of `{tensor.value}`, first"
                related = []
            elif _is_layout(anchor):
                what = (
                    f"gives `{tensor.value}` the sizes ({', '.join(names)}), but it was laid out as ({', '.join(dims)})"
                )
                related = [(mod, anchor, "the layout is set here")]
            else:
                what = f"gives `{tensor.value}` the sizes ({', '.join(names)}), but its shape was read as ({', '.join(dims)})"
                related = [(mod, anchor, "the shape is read here")]
            yield Finding(
                "TL407",
                mod,
                call,
                f"`{mod.tree.code_for_node(call)}` {what}: a view "
                "or reshape keeps the elements in memory order, so this relabels the axes instead "
                "of moving them and silently mixes values across samples, channels or time steps. "
                f"Use {fix}.",
                related=related,
            )


# Layers whose output has the shape of their input.
_SAME_SHAPE = frozenset(
    {
        "torch.nn.Dropout",
        "torch.nn.Identity",
        "torch.nn.LayerNorm",
        "torch.nn.GELU",
        "torch.nn.ReLU",
        "torch.nn.SiLU",
        "torch.nn.Tanh",
        "torch.nn.Sigmoid",
    }
)


def _layout_through_layers(
    ctx: RuleContext, scope: Scope, call: cst.Call, tensor: cst.Name
) -> Optional[Tuple[cst.CSTNode, List[str], Axes]]:
    """The layout an explicit reshape gave `tensor` a few layers back: `x = t.reshape(B, H, W,
    D)`, `x = self.proj(x)` (an `nn.Linear`: a new last size), `x = self.drop(x)`; then
    `x.reshape(B, C, H, W)` moves the channels by relabelling."""
    name, use, linear = tensor.value, cast(cst.CSTNode, call), None
    for _ in range(6):
        defs, open_before = SC.scope_index(scope).reaching(name, use)
        if len(defs) != 1 or open_before or defs[0].how != "assign" or defs[0].path:
            return None
        value = defs[0].value
        if not isinstance(value, cst.Call):
            return None
        dims = _explicit_sizes(value)
        if dims is not None:
            if linear is not None:
                dims[-1] = f"{linear} output"
            return value, dims, {d: (i,) for i, d in enumerate(dims) if not d.endswith(" output")}
        layer = ctx.resolver.value_of(value.func, scope)
        arg = value.args[0].value if len(value.args) == 1 else None
        if layer is None or not (isinstance(arg, cst.Name) and arg.value == name):
            return None
        if layer.qual == "torch.nn.Linear" and linear is None:
            linear = dotted(value.func) or "Linear"
        elif layer.qual not in _SAME_SHAPE:
            return None
        use = value
    return None


def _explicit_sizes(call: cst.Call) -> Optional[List[str]]:
    """The sizes of `<any tensor>.reshape(a, b, c)` / `.view(...)` when each is a distinct name."""
    parts = _reshape_parts(call, None)
    if parts is None:
        return None
    texts = [dotted(x) for x in parts[1]]
    if len(texts) < 3 or any(t is None for t in texts) or len(set(texts)) != len(texts):
        return None
    return [t for t in texts if t is not None]


def _with_unknown_axis(axes: Axes, dims: List[str], sizes: Sequence[cst.BaseExpression]) -> Axes:
    """`axes` with the one size no name matches (`C`) given to the one axis of unknown size (a
    Linear's output), when there is exactly one of each."""
    unknown = [i for i, d in enumerate(dims) if d.endswith(" output")]
    texts = [dotted(x) or _inline_read(x) for x in sizes if not _is_minus_one(x)]
    missing = [t for t in texts if t is not None and t not in axes]
    if len(unknown) != 1 or len(missing) != 1 or len(texts) != len(sizes):
        return axes
    return {**axes, missing[0]: (unknown[0],)}


def _is_layout(anchor: cst.CSTNode) -> bool:
    return isinstance(anchor, cst.Call) and _explicit_sizes(anchor) is not None


def _relative_shift(scope: Scope, call: cst.Call) -> bool:
    """The relative-position shift (Transformer-XL, Funnel): `x = x.reshape(b, h, k, q)`, then
    `x = x[:, :, 1:]`, then a reshape back. Relabelling the axes is the point: with the first
    row dropped, each row of the result starts one position further along."""
    idx = SC.scope_index(scope)
    pos = idx.position(call)
    if pos is None:
        return False
    name = next(
        (n for n, defs in idx.defs.items() for d in defs if d.order == pos.order and d.how == "assign" and not d.path),
        None,
    )
    if name is None:
        return False
    later = [d for d in idx.defs[name] if d.order > pos.order and d.how == "assign" and not d.path]
    for i, d in enumerate(later):
        v = d.value
        if not (isinstance(v, cst.Subscript) and isinstance(v.value, cst.Name) and v.value.value == name):
            continue
        if not any(isinstance(e.slice, cst.Slice) and e.slice.lower is not None for e in v.slice):
            continue
        return any(_reshapes(c, name) for b in later[i + 1 :] for c in walk(b.value))
    return False


def _reshapes(node: cst.CSTNode, name: str) -> bool:
    """`name.view(...)`, `name.reshape(...)` or `torch.reshape(name, ...)`, whatever the sizes."""
    if not isinstance(node, cst.Call):
        return False
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value in RESHAPES:
        if isinstance(func.value, cst.Name) and func.value.value == name:
            return True
        first = node.args[0].value if node.args else None
        return dotted(func) == "torch.reshape" and isinstance(first, cst.Name) and first.value == name
    return False


def _text(size: cst.BaseExpression, mod: ModuleFacts) -> str:
    return "-1" if _is_minus_one(size) else dotted(size) or mod.tree.code_for_node(size)


def _inline_dims(
    ctx: RuleContext, scope: Scope, call: cst.Call, tensor: cst.Name, sizes: Sequence[cst.BaseExpression]
) -> Optional[Tuple[cst.CSTNode, List[str], Axes]]:
    """Sizes read where they are used, off the tensor itself or off the token ids an embedding
    layer turned into it (`embeds = self.embed(tokens)` keeps the axes of `tokens`):
    `embeds.view(tokens.size(1), batch, -1)`."""
    sources = {tensor.value}
    made = SC.reaching(scope, tensor.value, call)
    if len(made) == 1 and made[0].index is None and isinstance(made[0].value, cst.Call):
        ids = _embedding_input(ctx, scope, made[0].value)
        if ids is not None:
            sources.add(ids)
    axes: Axes = {}
    for s in sizes:
        read = _read_of(s)
        if read is None or read[0] not in sources or _transposed_in_place(scope, read[0]):
            continue
        axes[f"{read[0]}.shape[{read[1]}]"] = (read[1],)
    if not axes:
        return None
    names = sorted(axes, key=lambda n: axes[n][0])
    return call, names, axes


def _embedding_input(ctx: RuleContext, scope: Scope, value: cst.Call) -> Optional[str]:
    """`tokens` of `self.embed(tokens)` where `self.embed` is an `nn.Embedding` of the class."""
    d = dotted(value.func)
    if d is None or not d.startswith("self.") or d.count(".") != 1 or len(value.args) != 1:
        return None
    arg = value.args[0].value
    cls = enclosing_class(scope)
    if not isinstance(arg, cst.Name) or cls is None or not M.is_module_class(cls, ctx.project):
        return None
    layer = M.class_facts(cls, ctx.project).layer(d[5:])
    return arg.value if layer is not None and layer.cls is None and layer.type_name == "Embedding" else None


def _leading_axis_moved(axes: Axes, sizes: Sequence[cst.BaseExpression]) -> Optional[List[int]]:
    """When other sizes are unknown (`self.batch_size`): a first new axis sized like a later
    axis of the source (`x.view(x.size(1), batch, -1)`) relabels, since the source's first
    axis can only be folded into it when it has size 1. The order a transpose would give."""
    first = _inline_read(sizes[0]) or dotted(sizes[0])
    group = axes.get(first or "")
    if group is None or len(group) != 1 or group[0] == 0:
        return None
    read = [axes.get(_inline_read(s) or dotted(s) or "") for s in sizes]
    if all(r is not None for r in read) and _increasing([a for r in read if r is not None for a in r]):
        # Every size is one of the source's, in its order (`torch.reshape(reg, (reg.shape[2],
        # reg.shape[3]))`): the element count only matches when the axes left out have size 1,
        # so this drops them, as a squeeze does.
        return None
    k = group[0]
    return [k] + [i for i in range(k + 1) if i != k]


def _increasing(axes: Sequence[int]) -> bool:
    return all(a < b for a, b in zip(axes, axes[1:]))


def _axis_moved_behind_rest(
    ctx: RuleContext, scope: Scope, call: cst.Call, axes: Axes, sizes: Sequence[cst.BaseExpression]
) -> Optional[int]:
    """`x.view(x.size(0), -1, x.size(1))` in a model with convolutions: the axis named after a
    `-1` that sits between named sizes, when the named sizes are the leading axes in order.
    The `-1` then takes the axes after them (the spatial axes of a feature map), so the named
    axis is moved behind those; with two axes it would be 1, hence the convolutions asked for."""
    minus = [i for i, s in enumerate(sizes) if _is_minus_one(s)]
    if len(minus) != 1 or minus[0] in (0, len(sizes) - 1):
        return None
    groups = [axes.get(_inline_read(s) or "") for s in sizes]
    if any(g is None for i, g in enumerate(groups) if i != minus[0]):
        return None
    after = [a for g in groups[minus[0] + 1 :] if g is not None for a in g]
    named = [a for g in groups if g is not None for a in g]
    if len(after) != 1 or named != list(range(len(named))):
        return None
    cls = enclosing_class(scope)
    if cls is None or not M.is_module_class(cls, ctx.project):
        return None
    if not any(
        (layer.type_name or "").startswith(("Conv", "ConvTranspose"))
        for layer in M.class_facts(cls, ctx.project).walk()
    ):
        return None
    return after[0]


def _moved_behind_rest_finding(
    mod: ModuleFacts, call: cst.Call, tensor: str, axis: int, sizes: Sequence[cst.BaseExpression]
) -> Finding:
    names = ", ".join(_text(s, mod) for s in sizes)
    return Finding(
        "TL407",
        mod,
        call,
        f"`{mod.tree.code_for_node(call)}` gives axis {axis} of `{tensor}` the last place, behind the "
        "axes the `-1` takes (the spatial axes of a convolution's output): a view or reshape keeps the "
        "elements in memory order, so this relabels the axes instead of moving them and each "
        "'vector' mixes channels and positions. "
        f"Use `{tensor}.movedim({axis}, -1).reshape({names})` (for a feature map, "
        f"`{tensor}.flatten(2).transpose(1, 2)`).",
    )


def _checked_to_be_one(scope: Scope, name: str) -> bool:
    """The function stops unless `name` is 1: `if name != 1: raise ...` or `assert name == 1`."""
    for node in DV.own_nodes(scope.node):
        if isinstance(node, cst.If) and _compares_to_one(node.test, name, cst.NotEqual):
            if any(isinstance(n, cst.Raise) for n in walk(node.body)):
                return True
        if isinstance(node, cst.Assert) and _compares_to_one(node.test, name, cst.Equal):
            return True
    return False


def _compares_to_one(test: cst.BaseExpression, name: str, op: type) -> bool:
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    return (
        isinstance(target.operator, op)
        and dotted(test.left) == name
        and isinstance(target.comparator, cst.Integer)
        and target.comparator.value == "1"
    )


def _is_minus_one(size: cst.BaseExpression) -> bool:
    return (
        isinstance(size, cst.UnaryOperation)
        and isinstance(size.operator, cst.Minus)
        and isinstance(size.expression, cst.Integer)
        and size.expression.value == "1"
    )


def _reshape_parts(
    node: cst.CSTNode, qual: Optional[str]
) -> Optional[Tuple[cst.BaseExpression, List[cst.BaseExpression]]]:
    """(the tensor, the sizes as written) of `x.view(a, b, c)`, `x.reshape((a, b, c))` or, when
    `qual` says the call is `torch.reshape`, `torch.reshape(x, (a, b, c))`."""
    if not isinstance(node, cst.Call):
        return None
    args = list(node.args)
    if any(a.star or a.keyword is not None for a in args):
        return None
    func = node.func
    if qual in ("torch.reshape",) and len(args) == 2:
        tensor: cst.BaseExpression = args[0].value
        sizes = [args[1].value]
    elif isinstance(func, cst.Attribute) and func.attr.value in RESHAPES:
        tensor, sizes = func.value, [a.value for a in args]
    else:
        return None
    if len(sizes) == 1 and isinstance(sizes[0], (cst.Tuple, cst.List)):
        sizes = [e.value for e in sizes[0].elements if not isinstance(e, cst.StarredElement)]
    return tensor, sizes


def _reshape(call: cst.Call, qual: Optional[str]) -> Optional[Tuple[cst.Name, List[cst.BaseExpression]]]:
    """(the tensor, its new sizes) of `x.view(a, b, c)`, `x.reshape((a, b, -1))` or
    `torch.reshape(x, (a, b, c))` when every size is a name (`n`, `self.heads`) or one `-1`."""
    parts = _reshape_parts(call, qual)
    if parts is None:
        return None
    tensor, sizes = parts
    if (
        isinstance(tensor, cst.Call)
        and isinstance(tensor.func, cst.Attribute)
        and tensor.func.attr.value == "contiguous"
        and not tensor.args
    ):
        tensor = tensor.func.value  # (a copy in the same order: the view reads the same layout)
    if not isinstance(tensor, cst.Name) or len(sizes) < 2 or sum(map(_is_minus_one, sizes)) > 1:
        return None
    texts = [dotted(s) or _inline_read(s) for s in sizes if not _is_minus_one(s)]
    if any(t is None for t in texts) or len(set(texts)) != len(texts):
        return None
    return tensor, sizes


def _inline_read(size: cst.BaseExpression) -> Optional[str]:
    """A key for a size read where it is used (`x.size(1)`, `x.shape[1]`, `x.size()[1]`)."""
    read = _read_of(size)
    return f"{read[0]}.shape[{read[1]}]" if read is not None else None


def _read_of(value: cst.BaseExpression) -> Optional[Tuple[str, int]]:
    """(tensor name, axis) of `t.size(i)`, `t.shape[i]` or `t.size()[i]`."""
    owner: Optional[cst.BaseExpression] = None
    index: Optional[cst.BaseExpression] = None
    if isinstance(value, cst.Subscript) and len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
        base, index = value.value, value.slice[0].slice.value
        if isinstance(base, cst.Attribute) and base.attr.value == "shape":
            owner = base.value
        elif (
            isinstance(base, cst.Call)
            and isinstance(base.func, cst.Attribute)
            and base.func.attr.value == "size"
            and not base.args
        ):
            owner = base.func.value
    elif isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "size":
        owner = value.func.value
        if len(value.args) == 1 and value.args[0].keyword is None:
            index = value.args[0].value
    if not isinstance(owner, cst.Name) or not isinstance(index, cst.Integer):
        return None
    return owner.value, int(index.value)


# Constructors whose positional arguments are the new tensor's sizes.
_SIZED = frozenset({"torch.zeros", "torch.ones", "torch.empty", "torch.randn", "torch.rand"})


# A tensor's axes as the code reads them: each name, the axes (in order) whose sizes it holds.
Axes = Dict[str, Tuple[int, ...]]


def _source_dims(
    scope: Scope, call: cst.Call, tensor: cst.Name, sizes: Sequence[cst.BaseExpression]
) -> Optional[Tuple[cst.CSTNode, List[str], Axes]]:
    """Where `tensor`'s sizes are written out, their names in axis order, and the axes behind
    each name: the unpack `a, b, c = tensor.shape` the reshape's names come from, the sizes
    read one by one (`n = tensor.shape[0]`, `hw = tensor.shape[2] * tensor.shape[3]`), or the
    constructor `tensor = torch.zeros(a, b, c)`; None unless `tensor` still holds that tensor."""
    named = [s for s in sizes if isinstance(s, cst.Name)]
    first = named[0] if named else None
    defs = SC.reaching(scope, first.value, call) if first is not None else []
    unpack = shape_unpack(defs[0].stmt) if len(defs) == 1 and defs[0].how == "assign" else None
    if unpack is not None and defs[0].index is not None:
        if unpack[0] != tensor.value or not all(isinstance(e.value, cst.Name) for e in unpack[1]):
            return None
        dims = [e.value.value for e in unpack[1] if isinstance(e.value, cst.Name)]
        for s in named:  # every name from this very unpack
            d = SC.reaching(scope, s.value, call)
            if s.value in dims and (len(d) != 1 or d[0].value is not defs[0].value):
                return None
        if not _unchanged(scope, tensor.value, defs[0].value, call):
            return None
        return defs[0].stmt or defs[0].value, dims, {d: (i,) for i, d in enumerate(dims)}
    indexed = _indexed_dims(scope, call, tensor, named)
    if indexed is not None:
        return indexed
    made = SC.reaching(scope, tensor.value, call)
    if len(made) != 1 or made[0].index is not None or not isinstance(made[0].value, cst.Call):
        return None
    ctor = made[0].value
    if scope.module.qualify(ctor.func) not in _SIZED or any(a.star for a in ctor.args):
        return None
    texts = [dotted(a.value) for a in ctor.args if a.keyword is None]
    if len(texts) < 2 or any(t is None for t in texts) or len(set(texts)) != len(texts):
        return None
    if _transposed_in_place(scope, tensor.value):
        return None
    dims = [t for t in texts if t is not None]
    return ctor, dims, {d: (i,) for i, d in enumerate(dims)}


def _indexed_dims(
    scope: Scope, call: cst.Call, tensor: cst.Name, named: Sequence[cst.Name]
) -> Optional[Tuple[cst.CSTNode, List[str], Axes]]:
    """Every name a size read off `tensor` by index, and together they cover its axes
    `0..k` with no gap: `b = x.shape[0]; c = x.shape[1]; hw = x.shape[2] * x.shape[3]`."""
    axes: Axes = {}
    anchor: Optional[cst.CSTNode] = None
    for s in named:
        d = SC.reaching(scope, s.value, call)
        if len(d) != 1 or d[0].how != "assign" or d[0].index is not None or d[0].value is None:
            return None
        read = _axes_read(d[0].value, tensor.value)
        if read is None or not _unchanged(scope, tensor.value, d[0].value, call):
            return None
        axes[s.value] = read
        anchor = anchor or d[0].stmt or d[0].value
    every = sorted(a for group in axes.values() for a in group)
    if anchor is None or len(axes) < 2 or every != list(range(len(every))):
        return None
    return anchor, sorted(axes, key=lambda n: axes[n][0]), axes


def _axes_read(value: cst.BaseExpression, tensor: str) -> Optional[Tuple[int, ...]]:
    """(i,) of a size read off `tensor` (`_read_of`); (i, i + 1, ...) of their product over
    consecutive axes."""
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Multiply):
        left, right = _axes_read(value.left, tensor), _axes_read(value.right, tensor)
        if left is None or right is None or right[0] != left[-1] + 1:
            return None
        return left + right
    read = _read_of(value)
    return (read[1],) if read is not None and read[0] == tensor else None


def _unchanged(scope: Scope, name: str, unpack_value: cst.CSTNode, call: cst.Call) -> bool:
    """`name` holds the same value at the unpack and at the reshape (no transpose between)."""
    then = {id(b) for b in SC.reaching(scope, name, unpack_value)}
    now = {id(b) for b in SC.reaching(scope, name, call)}
    return then == now and not _transposed_in_place(scope, name)


def _axis_order(axes: Axes, sizes: Sequence[cst.BaseExpression]) -> Optional[List[int]]:
    """The source axes behind the reshape's sizes, in its order, with a `-1` standing for the
    axes no name takes (in their order); None when a size is not one of the source's names, or
    when axes are left over with no `-1` to take them."""
    ndim = 1 + max(a for group in axes.values() for a in group)
    taken: List[Optional[Tuple[int, ...]]] = []
    for s in sizes:
        if _is_minus_one(s):
            taken.append(None)
            continue
        text = dotted(s) or _inline_read(s)
        if text not in axes:
            return None
        taken.append(axes[text])
    used = {a for group in taken if group is not None for a in group}
    rest = [i for i in range(ndim) if i not in used]
    if None not in taken and rest:
        return None
    order: List[int] = []
    for group in taken:
        order += rest if group is None else list(group)
    return order


def _transposed_in_place(scope: Scope, name: str) -> bool:
    for call in scope.calls:
        f = call.func
        if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == name:
            if f.attr.value in ("transpose_", "t_", "swapaxes_", "swapdims_", "resize_", "set_"):
                return True
    return False


def verdict_tl407(c: Ctx, d: Diagnostic) -> Optional[Verdict]:
    """Confirmed when the traced training pass ran the reshape and its output reordered the
    input's sizes (TL920's record at this line). Sizes that happen to be equal at run time, or a
    reshape outside the model's first training pass, leave it unverified."""
    for v in c.ev.views:
        if c.at(d, v.site):
            return confirmed(
                observed=f"`.{v.fn}` turned a tensor of shape {tuple(v.input_shape)} into {tuple(v.output_shape)}",
                expected="a transpose or permute when axes change places",
                where=c.where(v.site),
                runtime_finding="TL920",
            )
    return None


RULE = Rule(
    code="TL407",
    name="view-as-transpose",
    family="model",
    severity=ERROR,
    summary="`view`/`reshape` used where a transpose was meant: the axes are relabelled, not swapped.",
    check=view_as_transpose,
    verdict=verdict_tl407,
)


# ------------------------------------------------------------------ an RNN's final state

_RNNS = {"torch.nn.LSTM": (1, 0), "torch.nn.GRU": (1,), "torch.nn.RNN": (1,)}  # where h_n is in the result


def _rnn_state_viewed_batch_first(ctx: RuleContext) -> Iterator[Finding]:
    """`h_n[-2:].view(batch, -1)`: an LSTM/GRU's final hidden state is laid out (num_layers *
    num_directions, batch, hidden) whatever `batch_first` says, so a view that puts the batch
    first pairs rows of different sequences."""
    mod = ctx.module
    if "view" not in mod.text and "reshape" not in mod.text:
        return
    for scope in mod.scopes:
        for call in scope.calls:
            func = call.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in ("view", "reshape") or len(call.args) < 2:
                continue
            if any(a.star or a.keyword is not None for a in call.args) or not _batch_size(call.args[0].value):
                continue
            state, rows = _state_rows(func.value)
            if state is None:
                continue
            layer = _rnn_of(ctx, scope, state, call)
            if layer is None:
                continue
            qual, ctor, home = layer
            if rows < 2 and not _several_rows(ctor):
                continue
            text = mod.tree.code_for_node(func.value)
            size = mod.tree.code_for_node(call.args[0].value)
            cls = qual.rsplit(".", 1)[-1]
            yield Finding(
                "TL407",
                mod,
                call,
                f"`{mod.tree.code_for_node(call)}` puts `{size}` first, but `{text}` comes from the final "
                f"hidden state of `nn.{cls}`, laid out (num_layers * num_directions, batch, hidden) even "
                "with `batch_first=True`: the view keeps memory order, so each row mixes the states of "
                f"different sequences instead of joining one sequence's directions or layers. Move the batch "
                f"axis first: `{text}.transpose(0, 1).reshape({size}, -1)` (or `torch.cat([h[-2], h[-1]], "
                "dim=1)`).",
                related=[(home, ctor, f"the `nn.{cls}` is built here")],
            )


def _batch_size(expr: cst.BaseExpression) -> bool:
    """A size that names the batch: `batch_size`, `bs`, `B`, `self.batch_size`, or a size read
    from another tensor (`x.size(0)`)."""
    if _read_of(expr) is not None:
        return True
    d = dotted(expr)
    if d is None:
        return False
    last = d.rsplit(".", 1)[-1]
    return "batch" in last.lower() or last in ("bs", "B", "N")


def _state_rows(expr: cst.BaseExpression) -> Tuple[Optional[str], int]:
    """(the name viewed, how many leading rows are known to be there): `h` gives (h, 0), and
    `h[-2:]` or `h[0:2]` gives (h, 2)."""
    if isinstance(expr, cst.Name):
        return expr.value, 0
    if not (isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name) and len(expr.slice) == 1):
        return None, 0
    sl = expr.slice[0].slice
    if not isinstance(sl, cst.Slice) or sl.step is not None:
        return None, 0
    lower, upper = D.number(sl.lower), D.number(sl.upper)
    if lower is not None and lower < 0 and sl.upper is None:
        return expr.value.value, int(-lower)
    if lower is not None and upper is not None and lower >= 0 and upper > lower:
        return expr.value.value, int(upper - lower)
    return None, 0


def _rnn_of(ctx: RuleContext, scope: Scope, name: str, use: cst.CSTNode) -> Optional[Tuple[str, cst.Call, ModuleFacts]]:
    """(the class, the constructor) of the recurrent layer whose final hidden state `name` holds:
    `out, (h, c) = self.lstm(x)`, `out, h = self.gru(x)`."""
    defs, open_before = SC.scope_index(scope).reaching(name, use)
    if len(defs) != 1 or open_before or defs[0].how != "assign" or not isinstance(defs[0].value, cst.Call):
        return None
    layer = ctx.resolver.value_of(defs[0].value.func, scope)
    if layer is None or layer.qual not in _RNNS or not isinstance(layer.origin, cst.Call) or layer.module is None:
        return None
    return (layer.qual, layer.origin, layer.module) if defs[0].path == _RNNS[layer.qual] else None


def _several_rows(ctor: cst.Call) -> bool:
    """The layer is built bidirectional or with several layers (literally)."""
    layers = D.number(calls.arg(ctor, 2, "num_layers"))
    return D.is_true(calls.arg(ctor, 6, "bidirectional")) or (layers is not None and layers >= 2)


# Layers that keep their input's layout: a head's activation between its last conv and the view.
_ELEMENTWISE = frozenset({"ReLU", "LeakyReLU", "Sigmoid", "Tanh", "ELU", "GELU", "SiLU", "Identity", "Dropout"})


def _conv_channels_grouped_in_memory_order(ctx: RuleContext) -> Iterator[Finding]:
    """A detection head whose last `nn.Conv2d` makes `num_anchors * k` channels, viewed as
    `(batch, -1, k)` straight from its `(N, C, H, W)` output (`out.view(x.shape[0], -1, 4)`):
    the groups of `k` run along the width, not the channels, so each row mixes positions and
    anchors. The channels must go last first (`out.permute(0, 2, 3, 1)`)."""
    mod = ctx.module
    for cls in mod.classes.values():
        if not M.is_module_class(cls, ctx.project):
            continue
        facts = M.class_facts(cls, ctx.project)
        for fn in cls.methods.values():
            for call in fn.calls:
                if not (isinstance(call.func, cst.Attribute) and call.func.attr.value in RESHAPES):
                    continue
                sizes = [a.value for a in call.args if a.keyword is None and not a.star]
                tensor = call.func.value
                if (
                    len(sizes) != 3
                    or len(call.args) != 3
                    or not _is_minus_one(sizes[1])
                    or not isinstance(tensor, cst.Name)
                ):
                    continue
                group = _group_name(sizes[2])
                conv = _conv_behind(facts, fn, tensor, call)
                if group is None or conv is None:
                    continue
                out_channels = calls.arg(conv.node, 1, "out_channels") if isinstance(conv.node, cst.Call) else None
                if not _multiple_of(out_channels, group):
                    continue
                text = mod.tree.code_for_node(call)
                size0 = mod.tree.code_for_node(sizes[0])
                size2 = mod.tree.code_for_node(sizes[2])
                yield Finding(
                    "TL407",
                    mod,
                    call,
                    f"`{text}` groups the output of `{conv.text()}`, laid out `(N, C, H, W)`, into rows of "
                    f"`{size2}` values in memory order: those run along the width axis, not the "
                    f"`{_channels_text(out_channels, conv.module)}` channels, so each row mixes positions and anchors "
                    "instead of holding one anchor's values. Move the channels last first: "
                    f"`{tensor.value}.permute(0, 2, 3, 1).reshape({size0}, -1, {size2})`.",
                    related=[(conv.module, conv.node, "the convolution whose channels are grouped")],
                )


def _channels_text(node: Optional[cst.BaseExpression], mod: ModuleFacts) -> str:
    return mod.tree.code_for_node(node) if node is not None else "C"


def _group_name(size: cst.BaseExpression) -> Optional[str]:
    """The text a conv's channel product would use for `k`: `4`, or `num_classes` for
    `self.num_classes`."""
    if isinstance(size, cst.Integer):
        return size.value
    if isinstance(size, cst.Attribute):
        return size.attr.value
    if isinstance(size, cst.Name):
        return size.value
    return None


def _multiple_of(channels: Optional[cst.BaseExpression], group: str) -> bool:
    """`num_anchors * 4` (or `4 * num_anchors`) for the group `4`."""
    if not (isinstance(channels, cst.BinaryOperation) and isinstance(channels.operator, cst.Multiply)):
        return False
    return any(_group_name(side) == group for side in (channels.left, channels.right))


def _conv_behind(facts: M.ModelFacts, fn: Scope, tensor: cst.Name, use: cst.CSTNode) -> Optional[M.Layer]:
    """The `nn.Conv2d` layer whose output `tensor` holds at `use`, through elementwise layers
    (`out = self.output(out); out = self.output_act(out)`)."""
    name, at = tensor.value, use
    for _ in range(4):
        defs, outer = SC.scope_index(fn).reaching(name, at)
        if outer or len(defs) != 1 or defs[0].how != "assign" or defs[0].path:
            return None
        value = defs[0].value
        if not (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and isinstance(value.func.value, cst.Name)
            and value.func.value.value == "self"
        ):
            return None
        layer = facts.layer(value.func.attr.value)
        kind = layer.type_name if layer is not None else None
        if kind == "Conv2d":
            return layer
        if kind not in _ELEMENTWISE or not value.args or not isinstance(value.args[0].value, cst.Name):
            return None
        name, at = value.args[0].value.value, defs[0].stmt
    return None
