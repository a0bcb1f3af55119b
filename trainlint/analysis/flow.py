"""Value flow of tensors: which operation last produced the value an expression holds.

`OpTracer.op(expr, scope)` follows an expression back through local assignments (the
definitions that reach the use), tuple unpacking, shape-only steps (`.view`, `.squeeze`,
`.float()`, indexing), `self.layer(...)` calls, calls of a model (into its `forward`, across
files), helper functions of the project and call-site arguments, and answers with the last
value-changing operation (`Op`): softmax, log_softmax, sigmoid, tanh, relu, a linear/conv
layer, or a tuple of those. Anything else, or definitions that disagree, give None: rules
only report what the facts establish. One exception: a variable holding one of several models
(`model = A() if t else B()`) gives each model's output (alternatives), and a call of it only
those of the models it can reach (by its arguments, or by how its result is unpacked), so the
branches of a loop that call each model its own way give the same alternatives.

Also here: the loss calls of a module (`loss_calls`; a `self.` loss attribute assigned in the
arms of an `if` is the arm the same test picks around the call), those of the base-class
methods its models inherit (`inherited_loss_calls`, traced with the subclass as `self`), the
library calls given a model and a `criterion=` (`library_loss_calls`), and what a loss target
is built from (`label_evidence`), all read by the loss rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import CodeRange

from trainlint.analysis import calls as C
from trainlint.analysis import kinds as K
from trainlint.analysis import module_facts as M
from trainlint.analysis.facts import Binding, ClassFacts, ModuleFacts, Scope
from trainlint.analysis.names import dotted, str_key
from trainlint.analysis.positions import positions
from trainlint.analysis.project import Project, enclosing_class
from trainlint.analysis.scopes import enclosing, inside, reaching, visible
from trainlint.analysis.symbols import Resolver, Value, return_values, uninformative
from trainlint.analysis.walk import children, walk

MAX_DEPTH = 14

# Functions (fully qualified) whose result is one of the operations rules care about.
FUNC_OPS: Dict[str, str] = {
    "torch.nn.functional.softmax": M.SOFTMAX,
    "torch.softmax": M.SOFTMAX,
    "torch.special.softmax": M.SOFTMAX,
    "torch.nn.functional.log_softmax": M.LOG_SOFTMAX,
    "torch.log_softmax": M.LOG_SOFTMAX,
    "torch.special.log_softmax": M.LOG_SOFTMAX,
    "torch.sigmoid": M.SIGMOID,
    "torch.nn.functional.sigmoid": M.SIGMOID,
    "torch.special.expit": M.SIGMOID,
    "torch.tanh": M.TANH,
    "torch.nn.functional.tanh": M.TANH,
    "torch.relu": M.RELU,
    "torch.nn.functional.relu": M.RELU,
    "torch.nn.functional.relu6": M.RELU,
    "torch.nn.functional.relu_": M.RELU,
    "torch.relu_": M.RELU,
    "torch.nn.functional.linear": M.LINEAR,
    "torch.nn.functional.conv1d": M.LINEAR,
    "torch.nn.functional.conv2d": M.LINEAR,
    "torch.nn.functional.conv3d": M.LINEAR,
}
METHOD_OPS: Dict[str, str] = {
    "softmax": M.SOFTMAX,
    "log_softmax": M.LOG_SOFTMAX,
    "sigmoid": M.SIGMOID,
    "sigmoid_": M.SIGMOID,
    "tanh": M.TANH,
    "tanh_": M.TANH,
    "relu": M.RELU,
    "relu_": M.RELU,
}
# Steps that move or reshape values without changing them.
SHAPE_METHODS = frozenset(
    {
        "view",
        "reshape",
        "squeeze",
        "unsqueeze",
        "flatten",
        "contiguous",
        "float",
        "double",
        "half",
        "bfloat16",
        "to",
        "cuda",
        "cpu",
        "permute",
        "transpose",
        "view_as",
        "reshape_as",
        "clone",
        "squeeze_",
        "unsqueeze_",
        "type_as",
        "type",
        "expand",
        "expand_as",
        "resize",
        "resize_as",
    }
)
SHAPE_FUNCS = frozenset(
    {
        "torch.squeeze",
        "torch.unsqueeze",
        "torch.flatten",
        "torch.reshape",
        "torch.permute",
        "torch.transpose",
        "torch.clone",
        "einops.rearrange",  # (axes moved and merged by a pattern: the values stay what they were)
    }
)
SHAPE_ATTRS = frozenset({"T", "mT", "data"})

# Loss families, by torch.nn class name or torch.nn.functional function name.
CROSS_ENTROPY = "cross_entropy"
NLL = "nll"
BCE = "bce"
BCE_LOGITS = "bce_with_logits"
REGRESSION = "regression"
LOSS_FAMILIES: Dict[str, str] = {
    "CrossEntropyLoss": CROSS_ENTROPY,
    "cross_entropy": CROSS_ENTROPY,
    "NLLLoss": NLL,
    "nll_loss": NLL,
    "BCELoss": BCE,
    "binary_cross_entropy": BCE,
    "BCEWithLogitsLoss": BCE_LOGITS,
    "binary_cross_entropy_with_logits": BCE_LOGITS,
    "MSELoss": REGRESSION,
    "mse_loss": REGRESSION,
    "L1Loss": REGRESSION,
    "l1_loss": REGRESSION,
    "SmoothL1Loss": REGRESSION,
    "smooth_l1_loss": REGRESSION,
    "HuberLoss": REGRESSION,
    "huber_loss": REGRESSION,
}

# torch.distributions classes whose `logits=` are normalised inside (a log_softmax, or a
# log-sigmoid): like the loss of that family, they expect raw scores there.
DISTRIBUTION_FAMILIES: Dict[str, str] = {
    "Categorical": CROSS_ENTROPY,
    "OneHotCategorical": CROSS_ENTROPY,
    "Bernoulli": BCE_LOGITS,
}


@dataclass(frozen=True)
class Op:
    """The last value-changing operation behind a tensor."""

    kind: str  # modules.SOFTMAX, LOG_SOFTMAX, SIGMOID, TANH, RELU, LINEAR, TUPLE, ALTERNATIVES
    node: cst.CSTNode  # the call (or layer constructor) that performs it
    module: ModuleFacts
    # The model whose output this is, when the operation sits inside a model: "Net.forward"
    # or "nn.Sequential" / "nn.Linear" (a torch.nn model), with the node that returns it.
    owner: Optional[str] = None
    owner_node: Optional[cst.CSTNode] = None
    owner_module: Optional[ModuleFacts] = None
    elements: Tuple[Optional["Op"], ...] = ()
    keys: Tuple[str, ...] = ()  # of a DICT, one per element
    # For a (log-)softmax: the operation behind its input (a ReLU there clamps the scores).
    input: Optional["Op"] = None
    # The output of one of several models a variable may hold (`model = A() if t else B()`),
    # the one a call can reach (by its arguments, or by how its result is unpacked): the
    # identity of that set of models. Branches that call each model their own way give one
    # such output each, and the value after them is any of them.
    among: Tuple[int, ...] = ()
    # Where a layer built elsewhere (`self.softmax = nn.Softmax(1)`, the `node`) is applied:
    # `self.softmax(logits)` in `forward`.
    applied: Optional[cst.CSTNode] = None
    # Known only by its name: an out-of-sight value called `logits` (raw scores by convention).
    named: bool = False

    def text(self) -> str:
        return snippet(self.module, self.node)


def snippet(module: ModuleFacts, node: cst.CSTNode, limit: int = 60) -> str:
    text = " ".join(module.tree.code_for_node(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def agree(ops: Sequence[Optional[Op]]) -> Optional[Op]:
    """One Op when every candidate is known and of the same kind, else None."""
    if not ops or any(o is None for o in ops):
        return None
    first = ops[0]
    assert first is not None
    if any(o.kind != first.kind for o in ops if o is not None):
        return None
    if first.kind == M.TUPLE:
        n = len(first.elements)
        if any(len(o.elements) != n for o in ops if o is not None):
            return None
        elements = tuple(agree([o.elements[i] for o in ops if o is not None]) for i in range(n))
        return replace(first, elements=elements)
    return first


# ---------------------------------------------------------------------------- positions


def position(module: ModuleFacts, node: cst.CSTNode) -> Optional[CodeRange]:
    """Where a node is (for messages that name the other end of a finding)."""
    try:
        return positions(module).of(node)
    except KeyError:
        return None


def where(module: ModuleFacts, node: cst.CSTNode) -> str:
    """`path:line` for messages. Notebooks get the path only: their program lines are not the
    cell lines users see (the related locations carry the cell and line)."""
    if module.path.endswith(".ipynb"):
        return module.path
    pos = position(module, node)
    return f"{module.path}:{pos.start.line}" if pos is not None else module.path


# ---------------------------------------------------------------------------- the tracer


def tracer_for(project: Project, resolver: Resolver) -> "OpTracer":
    # Kept on the project: a weak-keyed module dictionary would never let go of it, since
    # the tracer refers to its project.
    t = project.once(tracer_for, lambda: OpTracer(project, resolver))
    return t if t.resolver is resolver else OpTracer(project, resolver)


def _logits_field(expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """What `x.logits`, `x["logits"]` or `x.get("logits")` reads the logits of."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "logits":
        return expr.value
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            if index.value.evaluated_value == "logits":
                return expr.value
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "get"
        and expr.args
        and isinstance(expr.args[0].value, cst.SimpleString)
        and expr.args[0].value.evaluated_value == "logits"
    ):
        return expr.func.value
    return None


def facts_of_value(value: Optional[Value], project: Project) -> Optional[M.ModelFacts]:
    """Model facts for a resolved model value: a project class instance, an nn.Sequential, or a
    single torch.nn layer used as the model."""
    if value is None or value.kind != K.MODEL:
        return None
    if value.cls is not None:
        return M.class_facts(value.cls, project) if M.is_module_class(value.cls, project) else None
    name = M.nn_layer_name(value.qual)
    if name is not None and isinstance(value.origin, cst.Call) and value.module is not None:
        if name.endswith(("Loss", "Loss2d")) or name in ("DataParallel", "DistributedDataParallel"):
            return None
        return M.sequential_facts(value.origin, value.module, project)
    return None


def mode_dependent_layer_of(value: Optional[Value], project: Project) -> Optional[M.Layer]:
    """A dropout/batch-norm layer of the model `value` holds; for a value that is one of several
    models (a trainer class given a different model by each script), the first model's layer
    when every one of them has such a layer."""
    if value is None:
        return None
    layers = []
    for one in value.alts or (value,):
        facts = facts_of_value(one, project)
        layer = facts.mode_dependent_layer() if facts is not None else None
        if layer is None:
            return None
        layers.append(layer)
    return layers[0]


_Key = Tuple[int, int, int, int, int]


class OpTracer:
    def __init__(self, project: Project, resolver: Resolver) -> None:
        self.project = project
        self.resolver = resolver
        self._memo: Dict[_Key, Optional[Op]] = {}
        # The model whose forward is being traced: `self.fc` in an inherited forward means the
        # subclass's layer.
        self._self_stack: List[M.ModelFacts] = []
        # The instance an inherited method is read for (`op(..., receiver=)`): `self(x)` in a
        # base class's training step is the subclass's forward.
        self._bound: List[M.ModelFacts] = []
        # A project layer read for one construction (`GraphLayer(h, n, activation=F.softmax)`):
        # `self.activation(h)` in its forward is the argument that call gives.
        self._instance: List[Tuple[ClassFacts, cst.Call, Scope]] = []

    # public ---------------------------------------------------------------------------

    def op(self, expr: cst.BaseExpression, scope: Scope, receiver: Optional[ClassFacts] = None) -> Optional[Op]:
        """The last operation behind `expr`; with `receiver`, `self` in `scope` (a method the
        receiver's class inherits) is an instance of that class."""
        if receiver is None or not M.is_module_class(receiver, self.project):
            return self._op(expr, scope, 0, frozenset())
        self._bound.append(M.class_facts(receiver, self.project))
        try:
            return self._op(expr, scope, 0, frozenset())
        finally:
            self._bound.pop()

    def model_output(self, facts: M.ModelFacts) -> Optional[Op]:
        if facts.root is not None:
            out = self.layer_op(facts.root, 0, frozenset())
            if out is None:
                return None
            return replace(out, owner=facts.name, owner_node=facts.node, owner_module=facts.module)
        fwd = facts.forward
        if fwd is None:
            return None
        returns = return_values(fwd)
        if not returns:
            return None
        self._self_stack.append(facts)
        try:
            ops = [self._op(r, fwd, 1, frozenset()) for r in returns]
        finally:
            self._self_stack.pop()
        out = agree(ops)
        if out is None:
            return None
        owner = {"owner": f"{facts.name}.forward", "owner_node": returns[0], "owner_module": fwd.module}
        if out.kind == M.TUPLE:
            # `logits, feats = model(x)`: each element is still this model's output
            elements = tuple(replace(e, **owner) if e is not None else None for e in out.elements)  # type: ignore[arg-type]
            return replace(out, elements=elements, **owner)  # type: ignore[arg-type]
        return replace(out, **owner)  # type: ignore[arg-type]

    def layer_op(self, layer: M.Layer, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        if depth > MAX_DEPTH:
            return None
        if layer.cls is not None:
            if not M.is_module_class(layer.cls, self.project):
                return None
            facts = M.class_facts(layer.cls, self.project)
            out = facts.output(self.resolver)
            if out is None and isinstance(layer.node, cst.Call) and not self._instance and _configured(facts):
                self._instance.append((layer.cls, layer.node, layer.scope))
                try:
                    out = self.model_output(facts)  # (this construction's own: not cached)
                finally:
                    self._instance.pop()
            return out
        name = layer.type_name
        if name is None:
            return _activation_argument_op(layer)
        if name in M.LAYER_OPS:
            return Op(M.LAYER_OPS[name], layer.node, layer.module)
        if name == "Sequential":
            known = layer.children[len(layer.children) - layer.known_tail :] if layer.dynamic else layer.children
            for child in reversed(known):
                if child.type_name in M.PASSTHROUGH_LAYERS:
                    continue
                return self.layer_op(child, depth + 1, stack)
        return None

    # internals --------------------------------------------------------------------------

    def _self_facts(self, scope: Scope) -> Optional[M.ModelFacts]:
        cls = enclosing_class(scope)
        if cls is None or not M.is_module_class(cls, self.project):
            return None
        for facts in self._self_stack[-1:] + self._bound[-1:]:
            if facts.cls is cls or (facts.cls is not None and _inherits(facts.cls, cls, self.project)):
                return facts
        return M.class_facts(cls, self.project)

    def _op(self, expr: cst.BaseExpression, scope: Scope, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        top = id(self._self_stack[-1]) if self._self_stack else 0
        bound = id(self._bound[-1]) if self._bound else 0
        inst = id(self._instance[-1][1]) if self._instance else 0
        key = (id(expr), id(scope), top, bound, inst)
        if key in self._memo:
            return self._memo[key]
        if depth > MAX_DEPTH or id(expr) in stack:
            return None
        result = self._compute(expr, scope, depth, stack | {id(expr)})
        self._memo[key] = result
        return result

    def _compute(self, expr: cst.BaseExpression, scope: Scope, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        logits_of = _logits_field(expr)
        if logits_of is not None and self._unseen_model_output(logits_of, scope):
            # `outputs.logits` of a Hugging Face model (or any model whose forward is out of
            # sight): the scores its linear head returns, before any softmax.
            return Op(M.LINEAR, expr, scope.module)
        if isinstance(expr, cst.Call):
            return self._call(expr, scope, depth, stack)
        if isinstance(expr, cst.Name):
            return self._name(expr, scope, depth, stack)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, (cst.Divide, cst.Multiply)):
            return self._scaled(expr, scope, depth, stack)
        if isinstance(expr, cst.Subscript):
            base = self._op(expr.value, scope, depth + 1, stack)
            if base is None:
                return None
            if base.kind == M.TUPLE:
                i = M.int_index(expr)
                if i is None or not -len(base.elements) <= i < len(base.elements):
                    return None
                return base.elements[i]
            if base.kind == M.DICT:
                key = str_key(expr)
                return base.elements[base.keys.index(key)] if key in base.keys else None
            return base
        if isinstance(expr, (cst.Tuple, cst.List)):
            elements = []
            for el in expr.elements:
                if isinstance(el, cst.StarredElement):
                    return None
                elements.append(self._op(el.value, scope, depth + 1, stack))
            return Op(M.TUPLE, expr, scope.module, elements=tuple(elements))
        if isinstance(expr, cst.Dict):
            # `return {"scores": s, "features": h}`: read back by `out["scores"]`
            keys: List[str] = []
            values: List[Optional[Op]] = []
            for item in expr.elements:
                if not isinstance(item, cst.DictElement) or not isinstance(item.key, cst.SimpleString):
                    return None
                entry = item.key.evaluated_value
                if not isinstance(entry, str) or entry in keys:
                    return None
                keys.append(entry)
                values.append(self._op(item.value, scope, depth + 1, stack))
            return Op(M.DICT, expr, scope.module, elements=tuple(values), keys=tuple(keys))
        if isinstance(expr, cst.IfExp):
            return agree([self._op(expr.body, scope, depth + 1, stack), self._op(expr.orelse, scope, depth + 1, stack)])
        if isinstance(expr, cst.Attribute) and expr.attr.value in SHAPE_ATTRS:
            return self._op(expr.value, scope, depth + 1, stack)
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            return self._kept_on_self(expr.attr.value, scope, depth, stack)
        return None

    def _scaled(self, expr: cst.BinaryOperation, scope: Scope, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        """`logits / self.temperature`: raw scores scaled by a number are raw scores;
        `torch.sigmoid(h) * mask.float()`: probabilities zeroed where padded are probabilities."""
        left = self._op(expr.left, scope, depth + 1, stack)
        if left is not None and left.kind == M.LINEAR and _scalar(expr.right):
            return left
        if not isinstance(expr.operator, cst.Multiply):
            return None
        if _is_mask(expr.right):
            probs = left
        elif _is_mask(expr.left):
            probs = self._op(expr.right, scope, depth + 1, stack)
        else:
            return None
        return probs if probs is not None and probs.kind in (M.SIGMOID, M.SOFTMAX) else None

    def _kept_on_self(self, attr: str, scope: Scope, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        """`self.pred = F.log_softmax(out, dim=1)` in one method, read by the loss in another
        (`self.criterion(self.pred, y)`): what every method of the class assigns it, when none
        of them is the constructor (where attributes hold layers, not outputs)."""
        cls = scope.cls
        found = cls.attrs.get(f"self.{attr}", []) if cls is not None else []
        if not found or any(b.how != "assign" or b.scope.simple_name == "__init__" for b in found):
            return None
        return agree([self._binding(b, depth + 1, stack) for b in found])

    def _unseen_model_output(self, expr: cst.BaseExpression, scope: Scope) -> bool:
        """`model(**inputs)`, or a name bound only to such calls, where `model` is a model
        whose forward the analysis cannot read (a library model, a model parameter)."""
        calls: List[cst.BaseExpression] = [expr]
        if isinstance(expr, cst.Name):
            owner, found = visible(scope, expr)
            if owner is None or not found or any(b.how != "assign" or b.index is not None for b in found):
                return False
            calls = [b.value for b in found]
        for call in calls:
            if not isinstance(call, cst.Call) or not isinstance(call.func, (cst.Name, cst.Attribute)):
                return False
            value = self.resolver.value_of(call.func, scope)
            if value is None or value.kind != K.MODEL or facts_of_value(value, self.project) is not None:
                return False
        return True

    def _name(self, node: cst.Name, scope: Scope, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        name = node.value
        owner, found = visible(scope, node)
        if owner is None:
            return None
        if not found:
            if name not in owner.params:
                return None
            out = self._param(owner, name, depth + 1, stack)
            if out is None and not self.project.callers(owner):
                out = _named_logits(node, owner)  # (callers in sight know better than a name)
            return out
        if name in owner.stores and all(_allocates(b) for b in found):
            # `outs = torch.zeros(T, B, C); outs[t] = model(x[t])`: what was stored
            return agree([self._op(b.value, b.scope, depth + 1, stack) for b in owner.stores[name]])
        ops = [self._binding(b, depth + 1, stack) for b in found]
        return agree(ops) or _chosen_models(ops) or _activated_on_a_path(ops)

    def _binding(self, b: Binding, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        if b.how == "for":
            return self._element(b, depth, stack)
        if b.how != "assign":
            return None
        if b.index is None:
            return self._op(b.value, b.scope, depth, stack)
        value = b.value
        if isinstance(value, (cst.Tuple, cst.List)):
            if b.index < len(value.elements) and not isinstance(value.elements[b.index], cst.StarredElement):
                return self._op(value.elements[b.index].value, b.scope, depth, stack)
            return None
        if isinstance(value, cst.Call) and isinstance(value.func, (cst.Name, cst.Attribute)):
            # `out, hidden = model(x, h)` with a model chosen among several: the ones that
            # return a tuple
            handled, op = self._chosen_model_call(value.func, value, b.scope, b.index)
            if handled:
                return op
        whole = self._op(value, b.scope, depth, stack)
        if whole is None or whole.kind != M.TUPLE or b.index >= len(whole.elements):
            return None
        return whole.elements[b.index]

    def _element(self, b: Binding, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        """`for out in outputs`: a row of a tensor carries the tensor's last operation (a softmax
        over the last axis stays one); an element of a list or tuple of operations, the one
        they all share. `enumerate(x)` and `zip(a, b)` hand out their arguments' elements."""
        iterable: cst.BaseExpression = b.value
        index = b.index
        if isinstance(iterable, cst.Call) and iterable.args and not any(a.star for a in iterable.args):
            fname = dotted(iterable.func)
            if fname == "enumerate" and index == 1:
                iterable, index = iterable.args[0].value, None
            elif fname == "zip" and index is not None and index < len(iterable.args):
                iterable, index = iterable.args[index].value, None
        if index is not None:
            return None
        whole = self._op(iterable, b.scope, depth, stack)
        if whole is not None and whole.kind == M.TUPLE:
            return agree(whole.elements) if whole.elements else None
        return whole

    def _param(self, fn: Scope, name: str, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        if C.is_method(fn) and fn.params.index(name) == 0:
            return None
        callers = self.project.callers(fn)
        if not callers:
            return None
        ops: List[Optional[Op]] = []
        for caller_scope, call in callers:
            arg = C.bind(call, fn, name, isinstance(call.func, cst.Attribute))
            if arg is None:
                return None
            ops.append(self._op(arg, caller_scope, depth, stack))
        return agree(ops)

    def _call(self, call: cst.Call, scope: Scope, depth: int, stack: FrozenSet[int]) -> Optional[Op]:
        # Each part answers (handled, op): a handled call ends the search even with no op.
        for part in (self._library_call, self._method_call, self._self_call):
            handled, op = part(call, scope, depth, stack)
            if handled:
                return op
        func = call.func
        if isinstance(func, cst.Name):
            bindings = scope.bindings.get(func.value)
            if bindings is not None and len(bindings) == 1:
                layer = M.layer_from_expr(func.value, func, scope, self.project)
                if layer is not None and layer.cls is None and not layer.is_container:
                    return self.layer_op(layer, depth + 1, stack)
                last = self._last_layer_iterated(bindings[0], scope)
                if last is not None:
                    return self.layer_op(last, depth + 1, stack)
        if isinstance(func, cst.Call):
            # `nn.Softmax(dim=1)(out)`: a layer built and called in one expression
            layer = M.layer_from_expr("(inline)", func, scope, self.project)
            return self.layer_op(layer, depth + 1, stack) if layer is not None and not layer.is_container else None
        if isinstance(func, (cst.Name, cst.Attribute)):
            out = self._model_call(func, call, scope, depth, stack)
            if out is not None:
                return out
        callee = self.project.resolve_callee(func, scope)
        if isinstance(callee, Scope):
            rets = return_values(callee)
            if not rets:
                return None
            return agree([self._op(r, callee, depth + 1, stack) for r in rets])
        return None

    def _last_layer_iterated(self, b: Binding, scope: Scope) -> Optional[M.Layer]:
        """`for layer in self.layers: h = layer(h)`: the value left after the loop comes from
        the container's last layer (`enumerate(self.layers)` too), when that one is known."""
        if b.how != "for":
            return None
        iterable, index = b.value, b.index
        if isinstance(iterable, cst.Call) and dotted(iterable.func) == "enumerate" and index == 1 and iterable.args:
            iterable, index = iterable.args[0].value, None
        d = dotted(iterable)
        if index is not None or d is None or not d.startswith("self.") or d.count(".") != 1:
            return None
        facts = self._self_facts(scope)
        container = facts.layer(d[5:]) if facts is not None else None
        if container is None or container.type_name not in ("ModuleList", "Sequential") or not container.children:
            return None
        if container.dynamic and container.known_tail < 1:
            return None
        return container.children[-1]

    def _library_call(
        self, call: cst.Call, scope: Scope, depth: int, stack: FrozenSet[int]
    ) -> Tuple[bool, Optional[Op]]:
        """A torch function: an activation, a shape-only step, log/exp, or another op (unknown)."""
        mod = scope.module
        qual = mod.qualify(call.func)
        if qual is None:
            return False, None
        first = call.args[0].value if call.args and call.args[0].star == "" else None
        if qual in FUNC_OPS:
            return True, self._activation(FUNC_OPS[qual], call, first, scope, depth, stack)
        if qual in SHAPE_FUNCS or qual in M.FUNCTIONAL_DROPOUTS:
            return True, (self._op(first, scope, depth + 1, stack) if first is not None else None)
        if qual == "torch.log" and first is not None:
            return True, self._log_of(call, first, scope, depth, stack)
        if qual == "torch.exp" and first is not None:
            return True, self._exp_of(call, first, scope, depth, stack)
        return qual.startswith("torch."), None

    def _method_call(
        self, call: cst.Call, scope: Scope, depth: int, stack: FrozenSet[int]
    ) -> Tuple[bool, Optional[Op]]:
        """A tensor method (`x.softmax(1)`, `x.view(...)`, `x.log()`) or a `.forward(...)` call."""
        func = call.func
        if not isinstance(func, cst.Attribute) or scope.module.qualify(func) is not None:
            return False, None
        meth = func.attr.value
        recv = func.value
        is_self = isinstance(recv, cst.Name) and recv.value == "self"
        if not is_self:
            if meth in METHOD_OPS:
                return True, self._activation(METHOD_OPS[meth], call, recv, scope, depth, stack)
            if meth in SHAPE_METHODS:
                return True, self._op(recv, scope, depth + 1, stack)
            if meth == "log" and not call.args:
                return True, self._log_of(call, recv, scope, depth, stack)
            if meth == "exp" and not call.args:
                return True, self._exp_of(call, recv, scope, depth, stack)
        if meth == "forward" and is_self:
            return True, self._self_output(scope)  # `self.forward(x)` is `self(x)`
        if meth == "forward":
            return True, self._model_call(recv, call, scope, depth, stack)
        return False, None

    def _self_call(self, call: cst.Call, scope: Scope, depth: int, stack: FrozenSet[int]) -> Tuple[bool, Optional[Op]]:
        """`self(x)` inside a model, or one of its layers, `self.fc(x)`."""
        func = call.func
        if isinstance(func, cst.Name) and func.value == "self":
            return True, self._self_output(scope)
        d = dotted(func)
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            facts = self._self_facts(scope)
            if facts is not None:
                layer = facts.layer(d[5:])
                if layer is not None and layer.type_name in M.PASSTHROUGH_LAYERS and len(call.args) == 1:
                    # `self.dropout(x)`: the values of `x`, some zeroed
                    return True, self._op(call.args[0].value, scope, depth + 1, stack)
                if layer is not None:
                    op = self.layer_op(layer, depth + 1, stack)
                    if op is not None and op.node is layer.node and op.module is scope.module:
                        op = replace(op, applied=call)
                    return True, op
                given = self._constructor_argument(facts, d)
                if given is not None:
                    return True, _activation_value_op(given[0], given[1].module)
        return False, None

    def _constructor_argument(self, facts: M.ModelFacts, attr: str) -> Optional[Tuple[cst.BaseExpression, Scope]]:
        """What the construction being read passes for the `__init__` parameter stored in
        `self.<attr>` (`self.activation = activation`), and where that call is."""
        if not self._instance or facts.cls is not self._instance[-1][0]:
            return None
        cls, ctor, where = self._instance[-1]
        param = _stored_parameter(self.resolver, cls, attr)
        init = self.project.method_of(cls, "__init__")
        if param is None or init is None:
            return None
        given = C.bind(ctor, init, param, True)
        return (given, where) if given is not None else None

    def _self_output(self, scope: Scope) -> Optional[Op]:
        facts = self._self_facts(scope)
        return facts.output(self.resolver) if facts is not None and facts is not self._current() else None

    def _current(self) -> Optional[M.ModelFacts]:
        return self._self_stack[-1] if self._self_stack else None

    def _model_call(
        self, target: cst.BaseExpression, call: cst.Call, scope: Scope, depth: int, stack: FrozenSet[int]
    ) -> Optional[Op]:
        if not isinstance(target, (cst.Name, cst.Attribute)):
            return None
        handled, op = self._chosen_model_call(target, call, scope, None)
        if handled:
            return op
        value = self.resolver.value_of(target, scope)
        facts = facts_of_value(value, self.project)
        if facts is None or facts in self._self_stack:
            return None
        return facts.output(self.resolver)

    def _chosen_model_call(
        self, target: cst.BaseExpression, call: cst.Call, scope: Scope, unpack: Optional[int]
    ) -> Tuple[bool, Optional[Op]]:
        """A call of a variable that holds one of several models (`model = A() if big else
        B()`). The models whose `forward` cannot take the call's arguments are not the one
        called there; with `unpack` (`out, h = model(x, h)`: element `unpack` of the result),
        neither are those that return a single tensor while others return a tuple. When each
        remaining model's output is known: that output (one model), or all of them (a rule
        judges each path on its own). (handled, op); not handled: no choice of models."""
        if not isinstance(target, (cst.Name, cst.Attribute)):
            return False, None
        value = self.resolver.value_of(target, scope)
        if value is None or not value.alts:
            return False, None
        among = tuple(sorted(id(a.origin if a.origin is not None else a.cls) for a in value.alts))
        outs: List[Optional[Op]] = []
        for alt in value.alts:
            facts = facts_of_value(alt, self.project)
            if facts is not None and not _accepts(facts, call):
                continue
            outs.append(None if facts is None or facts in self._self_stack else facts.output(self.resolver))
        if unpack is not None:
            if any(o is not None and o.kind == M.TUPLE for o in outs):
                outs = [o for o in outs if o is None or o.kind == M.TUPLE]
            outs = [
                o.elements[unpack] if o is not None and o.kind == M.TUPLE and unpack < len(o.elements) else None
                for o in outs
            ]
        # (a model whose own layer is chosen among several: each of its choices)
        outs = [e for o in outs for e in (o.elements if o is not None and o.kind == M.ALTERNATIVES else (o,))]
        known = [o for o in outs if o is not None and o.kind not in (M.TUPLE, M.ALTERNATIVES)]
        if not outs or len(known) != len(outs):
            return True, agree(outs) if unpack is None else None
        if len(known) == 1 and len(value.alts) > 1:
            return True, replace(known[0], among=among)
        distinct = list({id(o.node): o for o in known}.values())  # (one class built at several sites)
        if len(distinct) > 1:
            return True, Op(M.ALTERNATIVES, call, scope.module, elements=tuple(distinct))
        return True, known[0]

    def _activation(
        self,
        kind: str,
        call: cst.Call,
        inner: Optional[cst.BaseExpression],
        scope: Scope,
        depth: int,
        stack: FrozenSet[int],
    ) -> Op:
        if kind not in (M.LOG_SOFTMAX, M.SOFTMAX) or inner is None:
            return Op(kind, call, scope.module)
        return Op(kind, call, scope.module, input=self._op(inner, scope, depth + 1, stack))

    def _log_of(
        self, call: cst.Call, inner: cst.BaseExpression, scope: Scope, depth: int, stack: FrozenSet[int]
    ) -> Optional[Op]:
        op = self._op(inner, scope, depth + 1, stack)
        if op is not None and op.kind == M.SOFTMAX:
            return Op(M.LOG_SOFTMAX, call, scope.module)
        return None

    def _exp_of(
        self, call: cst.Call, inner: cst.BaseExpression, scope: Scope, depth: int, stack: FrozenSet[int]
    ) -> Optional[Op]:
        """`torch.exp(F.log_softmax(x))` is a softmax."""
        op = self._op(inner, scope, depth + 1, stack)
        if op is not None and op.kind == M.LOG_SOFTMAX:
            return Op(M.SOFTMAX, call, scope.module)
        return None


_ALLOCATIONS = frozenset(
    {
        "zeros",
        "empty",
        "ones",
        "full",
        "zeros_like",
        "empty_like",
        "ones_like",
        "full_like",
        "new_zeros",
        "new_empty",
        "new_ones",
        "new_full",
    }
)


_WRAPS_TENSOR = frozenset({"torch.autograd.Variable", "torch.autograd.variable.Variable"})


def _allocates(b: Binding) -> bool:
    """A binding to a fresh buffer (`torch.zeros(...)`, `x.new_zeros(...)`, `[None] * n`)."""
    v = b.value
    if b.how != "assign" or b.index is not None:
        return False
    if isinstance(v, cst.BinaryOperation) and isinstance(v.left, cst.List):
        return True
    while isinstance(v, cst.Call):
        func = v.func
        if isinstance(func, cst.Attribute) and func.attr.value in SHAPE_METHODS and isinstance(func.value, cst.Call):
            v = func.value  # torch.zeros(...).to(device)
        elif b.scope.module.qualify(func) in _WRAPS_TENSOR and v.args:
            v = v.args[0].value  # Variable(torch.zeros(...))
        else:
            name = (
                func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
            )
            return name in _ALLOCATIONS
    return False


# Activations that leave their mark on a value whichever other path reaches the use: a softmax
# applied in one branch (`if ids is not None: logits = logits.softmax(-1)`) still feeds the loss
# after it on that path, while the other path's value is unknown.
_PATH_ACTIVATIONS = frozenset({M.SOFTMAX, M.SIGMOID})


def _activated_on_a_path(ops: Sequence[Optional[Op]]) -> Optional[Op]:
    known = [o for o in ops if o is not None and not o.named]  # (a name is no sign of a path)
    if not known or len(known) == len(ops) or any(o.kind != known[0].kind for o in known):
        return None
    return known[0] if known[0].kind in _PATH_ACTIVATIONS else None


def _chosen_models(ops: Sequence[Optional[Op]]) -> Optional[Op]:
    """Definitions that disagree, each the output of a different model chosen among the same
    ones (`if transformer: out = model(x)` / `else: out, h = model(x, h)`): any of them."""
    if len(ops) < 2 or any(o is None or not o.among or o.owner_node is None for o in ops):
        return None
    first = ops[0]
    assert first is not None
    if any(o.among != first.among for o in ops if o is not None):
        return None
    if len({id(o.owner_node) for o in ops if o is not None}) != len(ops):
        return None
    return Op(M.ALTERNATIVES, first.node, first.module, elements=tuple(ops))


def _accepts(facts: M.ModelFacts, call: cst.Call) -> bool:
    """Whether the model's `forward` can be called with the call's arguments (True when a
    `*args` or `**kwargs` on either side leaves it open)."""
    fwd = facts.forward
    if facts.root is not None or fwd is None or not isinstance(fwd.node, cst.FunctionDef):
        return True
    if any(a.star for a in call.args):
        return True
    ps = fwd.node.params
    positional = list(ps.posonly_params) + list(ps.params)
    if C.is_method(fwd) and positional:
        positional = positional[1:]
    npos = sum(1 for a in call.args if a.keyword is None)
    keywords = {a.keyword.value for a in call.args if a.keyword is not None}
    if npos > len(positional) and not isinstance(ps.star_arg, cst.Param):
        return False
    names = {p.name.value for p in positional[npos:]} | {p.name.value for p in ps.kwonly_params}
    if not isinstance(ps.star_kwarg, cst.Param) and keywords - names:
        return False
    required = [p for p in positional[npos:] if p.default is None] + [p for p in ps.kwonly_params if p.default is None]
    return all(p.name.value in keywords for p in required)


def _inherits(cls: ClassFacts, base: ClassFacts, project: Project, depth: int = 0) -> bool:
    if depth > 5:
        return False
    for b in project.base_classes(cls):
        if b is base or _inherits(b, base, project, depth + 1):
            return True
    return False


def strip_shape(expr: cst.BaseExpression, module: ModuleFacts) -> cst.BaseExpression:
    """The expression under shape-only steps: `out.squeeze(1).float()` -> `out`."""
    while True:
        if isinstance(expr, cst.Call):
            func = expr.func
            qual = module.qualify(func)
            if qual in SHAPE_FUNCS and expr.args:
                expr = expr.args[0].value
                continue
            if (
                qual is None
                and isinstance(func, cst.Attribute)
                and func.attr.value in SHAPE_METHODS | {"long", "int", "type"}
            ):
                expr = func.value
                continue
        if isinstance(expr, cst.Subscript):
            expr = expr.value
            continue
        if isinstance(expr, cst.Attribute) and expr.attr.value in SHAPE_ATTRS:
            expr = expr.value
            continue
        return expr


# ---------------------------------------------------------------------------- loss calls


@dataclass
class LossCall:
    node: cst.Call
    scope: Scope
    family: str  # CROSS_ENTROPY, NLL, BCE, BCE_LOGITS, REGRESSION
    name: str  # "CrossEntropyLoss" or "F.cross_entropy", for messages
    input: Optional[cst.BaseExpression]
    target: Optional[cst.BaseExpression]
    ctor: Optional[cst.CSTNode] = None  # where the loss module was built
    ctor_module: Optional[ModuleFacts] = None
    guess: bool = False  # the loss object is known only from its variable's name
    # A call in a method inherited from a base class, read for an instance of this class (its
    # `self.criterion` and `self(x)` are the subclass's).
    receiver: Optional[ClassFacts] = None
    # A library call given both the model and the criterion (`NeuralNet(Net, criterion=
    # nn.CrossEntropyLoss)`): the loss is fed this model's output; `node` is that call and
    # `input` the model argument.
    model: Optional[M.ModelFacts] = None
    # `Categorical(logits=x)` and alike: no loss, but it normalises `x` as its family's loss does.
    distribution: bool = False

    @property
    def module(self) -> ModuleFacts:
        return self.scope.module


def loss_calls(module: ModuleFacts, resolver: Resolver) -> List[LossCall]:
    """Every call of a recognised loss in a module (nn loss instances resolved by what built them)."""
    return _each_call(loss_calls, module, resolver, _loss_call)


def _each_call(
    key: Callable[..., object],
    module: ModuleFacts,
    resolver: Resolver,
    read: Callable[[cst.Call, Scope, Resolver], Optional["LossCall"]],
) -> List["LossCall"]:
    """What `read` makes of each call of the module, once per run (memoised under `key`)."""
    return resolver.project.memo(
        key,
        module,
        lambda: [
            lc for scope in module.scopes for call in scope.calls if (lc := read(call, scope, resolver)) is not None
        ],
    )


def inherited_loss_calls(module: ModuleFacts, resolver: Resolver) -> List[LossCall]:
    """The loss calls of methods that the nn.Module classes of a module inherit from project
    base classes (a base class's training step calling `self.criterion(self(x), y)`), each read
    for an instance of the subclass: its `receiver`."""
    project = resolver.project

    def build() -> List[LossCall]:
        out: List[LossCall] = []
        for cls in module.classes.values():
            if not M.is_module_class(cls, project):
                continue
            for method in _inherited_methods(cls, project):
                for call in _loss_candidates(method):
                    lc = _loss_call(call, method, resolver, receiver=cls)
                    if lc is not None:
                        out.append(lc)
        return out

    return project.memo(inherited_loss_calls, module, build)


# The keywords that name the model in a library call that trains it with a `criterion=`.
_MODEL_KEYWORDS = ("module", "model", "net", "network")


def library_loss_calls(module: ModuleFacts, resolver: Resolver) -> List[LossCall]:
    """Calls of a library (not torch, not the project) that are given a model and a torch
    loss as `criterion=` and feed the one's output to the other (skorch's `NeuralNet(Net,
    criterion=nn.CrossEntropyLoss)`, trainer classes alike, and ignite's
    `create_supervised_trainer(model, optimizer, loss_fn)`). Only the cross-entropy family: a
    library may turn probabilities into log-probabilities for an NLL loss (skorch does), but
    none softmaxes the scores it hands a loss that normalises them itself."""
    return _each_call(library_loss_calls, module, resolver, _library_loss_call)


# Library trainers that take the loss as a positional argument: (qualified name, the
# position of the model, the position of the loss).
_TRAINER_FACTORIES = {
    "ignite.engine.create_supervised_trainer": (0, 2),
    "ignite.engine.engine.create_supervised_trainer": (0, 2),
}


def _library_loss_call(call: cst.Call, scope: Scope, resolver: Resolver) -> Optional[LossCall]:
    mod = scope.module
    qual = mod.qualify(call.func)
    positions = _TRAINER_FACTORIES.get(qual or "")
    if positions is not None:
        # ignite's `create_supervised_trainer(model, optimizer, loss_fn)`: each step feeds the
        # model's output to `loss_fn`
        crit = C.arg(call, positions[1], "loss_fn")
    else:
        crit = C.arg(call, None, "criterion")
    if crit is None:
        return None
    if qual is not None and qual.startswith("torch."):
        return None  # torch's own API
    if resolver.project.resolve_callee(call.func, scope) is not None:
        return None  # project code: traced where it calls the loss
    loss = _criterion_class(crit, scope, resolver)
    if loss is None or LOSS_FAMILIES[loss] != CROSS_ENTROPY:
        return None
    model_expr = C.arg(call, positions[0], "model") if positions is not None else C.arg(call, 0, None)
    for kw in _MODEL_KEYWORDS:
        model_expr = model_expr or C.arg(call, None, kw)
    if model_expr is None:
        return None
    facts = _model_argument(model_expr, scope, resolver)
    if facts is None:
        return None
    return LossCall(call, scope, CROSS_ENTROPY, loss, model_expr, None, crit, mod, model=facts)


def _criterion_class(expr: cst.BaseExpression, scope: Scope, resolver: Resolver) -> Optional[str]:
    """The torch.nn loss class a `criterion=` argument names or builds (`nn.CrossEntropyLoss`,
    `nn.CrossEntropyLoss()`, a variable holding one)."""
    qual = scope.module.qualify(expr)
    if qual is None and isinstance(expr, (cst.Name, cst.Attribute)):
        value = resolver.value_of(expr, scope)
        if value is None or value.kind != K.LOSS or value.guess or not value.qual:
            return None
        qual = value.qual
    elif qual is None and isinstance(expr, cst.Call):
        qual = scope.module.qualify(expr.func)
    if qual is None or not qual.startswith("torch.nn."):
        return None
    last = qual.rsplit(".", 1)[-1]
    return last if last in LOSS_FAMILIES and last[:1].isupper() else None


def _model_argument(expr: cst.BaseExpression, scope: Scope, resolver: Resolver) -> Optional[M.ModelFacts]:
    """The model a library call is given: a project nn.Module class (it builds the instance
    itself) or an instance of one."""
    if isinstance(expr, (cst.Name, cst.Attribute)):
        sym = resolver.project.resolve_callee(expr, scope)
        if isinstance(sym, ClassFacts):
            return M.class_facts(sym, resolver.project) if M.is_module_class(sym, resolver.project) else None
    value = resolver.value_of(expr, scope)
    if value is None or value.guess or value.alts:
        return None
    return facts_of_value(value, resolver.project)


def _loss_candidates(method: Scope) -> List[cst.Call]:
    """The calls of a method that may be a loss once `self` is known: `self.<attr>(...)` (or its
    `.forward`) for an attribute that is no method of the class, and the functional losses."""
    cache: Dict[int, List[cst.Call]] = method.module.memo(_loss_candidates, dict)
    if id(method) in cache:
        return cache[id(method)]
    out: List[cst.Call] = []
    for call in method.calls:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "forward":
            func = func.value
        d = dotted(func)
        if d is not None and d.startswith("self.") and d.count(".") == 1:
            if method.cls is None or d[5:] not in method.cls.methods:
                out.append(call)
            continue
        qual = method.module.qualify(call.func)
        if qual is not None and qual.startswith("torch.nn.functional.") and qual.rsplit(".", 1)[-1] in LOSS_FAMILIES:
            out.append(call)
    cache[id(method)] = out
    return out


def _inherited_methods(cls: ClassFacts, project: Project) -> List[Scope]:
    """The methods an instance of `cls` runs that a project base class defines."""
    names: Set[str] = set()
    todo, seen = list(project.base_classes(cls)), {id(cls)}
    while todo and len(seen) < 12:
        base = todo.pop()
        if id(base) in seen:
            continue
        seen.add(id(base))
        names.update(base.methods)
        todo.extend(project.base_classes(base))
    out: List[Scope] = []
    for name in sorted(names - set(cls.methods)):
        m = project.method_of(cls, name)
        if m is not None and m.cls is not cls:
            out.append(m)
    return out


def _loss_value(
    func: cst.BaseExpression, call: cst.Call, scope: Scope, resolver: Resolver, receiver: Optional[ClassFacts]
) -> Optional[Value]:
    """What the called object is: `self.criterion` of the receiver's class when the method is
    read for a subclass; a loss assigned in exclusive branches chosen by a test on `self`, the
    branch the same test selects around the call."""
    d = dotted(func)
    if d is None or not d.startswith("self.") or d.count(".") != 1:
        return resolver.value_of(func, scope)
    cls = receiver if receiver is not None else enclosing_class(scope)
    value = resolver.attr_value(receiver, d) if receiver is not None else resolver.value_of(func, scope)
    if cls is not None and (value is None or (value.kind == K.LOSS and value.qual is None)):
        guarded = _guarded_attr_value(cls, d, call, scope, resolver)
        if guarded is not None:
            return guarded
    return value


def _guarded_attr_value(cls: ClassFacts, key: str, call: cst.Call, scope: Scope, resolver: Resolver) -> Optional[Value]:
    """`if self.discrete: self.loss = CrossEntropyLoss() else: self.loss = MSELoss()` in
    `__init__`, then `if self.discrete: ... self.loss(out, a)`: the same test, over attributes
    only `__init__` sets, picks the same branch in both places. Every assignment must sit under
    a test the call shares, and those on the call's side must agree."""
    bindings = [b for b in resolver.attr_bindings(cls, key) if not uninformative(b)]
    if not any((v := resolver.binding_value(b)) is not None and v.kind == K.LOSS for b in bindings):
        return None  # (most attributes: no loss is ever assigned, and no test needs reading)
    use = dict(_guards(scope, call, cls, resolver))
    if not use:
        return None
    kept: List[Binding] = []
    for b in bindings:
        shared = [(test, arm) for test, arm in _guards(b.scope, b.value, cls, resolver) if test in use]
        if not shared:
            return None  # set whatever the test says: it may hold either
        if all(use[test] == arm for test, arm in shared):
            kept.append(b)
    values = [resolver.binding_value(b) for b in kept]
    if not values or any(v is None for v in values):
        return None
    first = values[0]
    assert first is not None
    if any(v is None or v.qual != first.qual or v.kind != first.kind for v in values):
        return None
    return first


def _guards(scope: Scope, node: cst.CSTNode, cls: ClassFacts, resolver: Resolver) -> List[Tuple[str, bool]]:
    """The `if` tests around a node that read only `self` attributes set in `__init__` (as
    normalised text), each with the arm the node is in (True: the body)."""
    out: List[Tuple[str, bool]] = []
    for c in enclosing(scope, node):
        if isinstance(c, cst.If) and _fixed_test(c.test, cls, resolver):
            text = " ".join(scope.module.tree.code_for_node(c.test).split())
            out.append((text, inside(scope, c.body, node)))
    return out


_TEST_NODES = (
    cst.Comparison,
    cst.ComparisonTarget,
    cst.BooleanOperation,
    cst.UnaryOperation,
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.BaseCompOp,
    cst.BaseBooleanOp,
    cst.Not,
    cst.LeftParen,
    cst.RightParen,
    cst.BaseParenthesizableWhitespace,
    cst.Comment,
    cst.Newline,
    cst.EmptyLine,
    cst.TrailingWhitespace,
)


def _fixed_test(test: cst.BaseExpression, cls: ClassFacts, resolver: Resolver) -> bool:
    """A test of constants and `self.<attr>` values that only `__init__` assigns (the answer
    stays the same for the object's life)."""
    attrs = 0
    todo: List[cst.CSTNode] = [test]
    while todo:
        n = todo.pop()
        if isinstance(n, cst.Attribute):
            d = dotted(n)
            if d is None or not d.startswith("self.") or d.count(".") != 1:
                return False
            bindings = resolver.attr_bindings(cls, d)
            if not bindings or any(b.scope.simple_name != "__init__" for b in bindings):
                return False
            attrs += 1
            continue
        if isinstance(n, cst.Name):
            if n.value not in ("True", "False", "None"):
                return False
            continue
        if not isinstance(n, _TEST_NODES):
            return False
        todo.extend(children(n))
    return attrs > 0


# Methods of containers, strings and modules that never call a loss object (`state.get(k)`,
# `kwargs.update(...)`, `self.register_buffer(...)`): not worth resolving their receiver.
_NOT_A_LOSS_CALL = frozenset(
    {
        "get",
        "update",
        "append",
        "extend",
        "insert",
        "pop",
        "setdefault",
        "items",
        "keys",
        "values",
        "add",
        "remove",
        "discard",
        "format",
        "join",
        "split",
        "replace",
        "startswith",
        "endswith",
        "register_parameter",
        "register_buffer",
        "add_module",
        "add_argument",
        "load_state_dict",
        "state_dict",
    }
)


def _loss_call(
    call: cst.Call,
    scope: Scope,
    resolver: Resolver,
    receiver: Optional[ClassFacts] = None,
    unwrapping: FrozenSet[int] = frozenset(),
) -> Optional[LossCall]:
    mod = scope.module
    func = call.func
    qual = mod.qualify(func)
    family: Optional[str] = None
    name = ""
    ctor: Optional[cst.CSTNode] = None
    ctor_module: Optional[ModuleFacts] = None
    guess = False
    if qual is not None:
        last = qual.rsplit(".", 1)[-1]
        if qual.startswith("torch.nn.functional.") and last in LOSS_FAMILIES:
            family, name = LOSS_FAMILIES[last], f"F.{last}"
        elif qual.startswith("torch.distributions.") and last in DISTRIBUTION_FAMILIES:
            return _distribution_call(call, scope, last, receiver)
        else:
            return None
    elif isinstance(func, (cst.Name, cst.Attribute, cst.Call)):
        if not call.args:
            return None  # (a loss is called on its input: `self.reset()`, `super().__init__()`)
        if isinstance(func, cst.Attribute) and (
            func.attr.value in METHOD_OPS or func.attr.value in SHAPE_METHODS or func.attr.value in _NOT_A_LOSS_CALL
        ):
            return None
        if isinstance(func, cst.Attribute) and func.attr.value == "forward":
            func = func.value  # `criterion.forward(out, y)` is `criterion(out, y)`
        if isinstance(func, cst.Name) and resolver.project.resolve_callee(func, scope) is not None:
            return None  # a project function or class by its name: a call of it is no loss object's
        value = _loss_value(func, call, scope, resolver, receiver)
        if value is None or not value.qual:
            return None
        if receiver is not None and value.kind == K.MODEL:
            return None  # a project loss module called from an inherited method: not followed
        if value.kind == K.MODEL and value.cls is not None:
            return _wrapped_loss_call(call, scope, value.cls, resolver, unwrapping)
        last = value.qual.rsplit(".", 1)[-1]
        if value.kind == K.LOSS_FN and last in LOSS_FAMILIES:
            family, name, ctor, ctor_module = LOSS_FAMILIES[last], f"F.{last}", value.origin, value.module
        elif value.kind != K.LOSS or last not in LOSS_FAMILIES or not value.qual.startswith("torch.nn."):
            return None
        else:
            family, name, ctor, ctor_module, guess = LOSS_FAMILIES[last], last, value.origin, value.module, value.guess
    if family is None:
        return None
    return LossCall(
        call,
        scope,
        family,
        name,
        C.arg(call, 0, "input"),
        C.arg(call, 1, "target"),
        ctor,
        ctor_module,
        guess,
        receiver,
    )


def _distribution_call(call: cst.Call, scope: Scope, cls: str, receiver: Optional[ClassFacts]) -> Optional[LossCall]:
    """`Categorical(logits=x)`: `x` is normalised as cross-entropy normalises its input. Given
    `probs=` (the first argument) instead, the distribution takes probabilities: nothing to check."""
    logits = C.arg(call, 1, "logits")
    if logits is None:
        return None
    family = DISTRIBUTION_FAMILIES[cls]
    return LossCall(call, scope, family, f"{cls}(logits=...)", logits, None, receiver=receiver, distribution=True)


def _wrapped_loss_call(
    call: cst.Call, scope: Scope, cls: ClassFacts, resolver: Resolver, unwrapping: FrozenSet[int]
) -> Optional[LossCall]:
    """A call of a project loss module whose `forward` returns a torch loss of its own
    arguments (`MyLoss()(out, y)` with `return self.ce(out, y)`): the torch loss, with this
    call's arguments as its input and target."""
    forward = resolver.project.method_of(cls, "forward")
    if forward is None or len(forward.params) < 3 or id(cls) in unwrapping:
        return None  # (a module that wraps itself: `unwrapping` holds the classes being read)
    params = forward.params[1:]
    inside = unwrapping | {id(cls)}
    inner_calls = [lc for c in forward.calls if (lc := _loss_call(c, forward, resolver, None, inside)) is not None]
    if len(inner_calls) != 1:
        return None  # several torch losses combined: no one input to judge
    inner = inner_calls[0]
    if inner.input is None or inner.target is None:
        return None
    # The argument reaches the loss as it came, or only reshaped (`pred.permute(0, 2, 3, 1)`,
    # `pred[mask].view(-1, c)`: a 2D criterion flattening its pixels); anything else
    # transformed it before the loss saw it.
    pin = _param_through_shape(forward, inner.input)
    ptg = _param_through_shape(forward, inner.target)
    if pin is None or ptg is None or pin not in params or ptg not in params:
        return None
    i, t = params.index(pin), params.index(ptg)
    return replace(
        inner,
        node=call,
        scope=scope,
        input=C.arg(call, i, pin),
        target=C.arg(call, t, ptg),
    )


def _param_through_shape(fn: Scope, expr: cst.BaseExpression, depth: int = 0) -> Optional[str]:
    """The parameter of `fn` whose value `expr` is, through shape-only steps and reassignments
    made of them; None when anything else may have changed it."""
    expr = strip_shape(expr, fn.module)
    if not isinstance(expr, cst.Name) or depth > 8:
        return None
    defs = reaching(fn, expr.value, expr)
    if not defs:
        return expr.value if expr.value in fn.params else None
    found: Set[str] = set()
    for b in defs:
        if b.how != "assign" or b.index is not None or b.scope is not fn:
            return None
        p = _param_through_shape(fn, b.value, depth + 1)
        if p is None:
            return None
        found.add(p)
    return found.pop() if len(found) == 1 else None


# ---------------------------------------------------------------------------- class-label targets


@dataclass(frozen=True)
class LabelEvidence:
    """Why a tensor holds class labels: built by `one_hot`, or integer class ids."""

    kind: str  # "one_hot" | "class_ids"
    node: cst.CSTNode
    module: ModuleFacts

    def text(self) -> str:
        return snippet(self.module, self.node)


_INT_DTYPES = frozenset(
    {"torch.long", "torch.int64", "torch.int", "torch.int32", "torch.int16", "torch.int8", "torch.uint8"}
)
_LABEL_PASSTHROUGH = SHAPE_METHODS | {"type", "squeeze"}


class LabelTracer:
    """Follows a loss target back to what built it, looking for class labels."""

    def __init__(self, project: Project, resolver: Resolver) -> None:
        self.project = project
        self.resolver = resolver

    def evidence(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Optional[LabelEvidence]:
        if depth > MAX_DEPTH:
            return None
        mod = scope.module
        if isinstance(expr, cst.Subscript):
            return self.evidence(expr.value, scope, depth + 1)
        if isinstance(expr, cst.Name):
            return self._name(expr, scope, depth)
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        qual = mod.qualify(func)
        if qual is not None:
            last = qual.rsplit(".", 1)[-1]
            if qual == "torch.nn.functional.one_hot":
                return LabelEvidence("one_hot", expr, mod)
            if qual == "torch.randint" and _randint_from_zero(expr):
                return LabelEvidence("class_ids", expr, mod)
            if qual == "torch.argmax" or qual == "torch.LongTensor":
                return LabelEvidence("class_ids", expr, mod)
            if qual in ("torch.tensor", "torch.as_tensor") and expr.args and _int_literal(expr.args[0].value):
                if _dtype(expr, mod) in (None,) or _dtype(expr, mod) in _INT_DTYPES:
                    return LabelEvidence("class_ids", expr, mod)
            if (
                qual.startswith("torch.")
                and last in ("full", "zeros", "ones", "tensor", "empty")
                and _dtype(expr, mod) in _INT_DTYPES
            ):
                return LabelEvidence("class_ids", expr, mod)
            if qual in SHAPE_FUNCS and expr.args:
                return self.evidence(expr.args[0].value, scope, depth + 1)
            if qual.startswith("torch."):
                return None
        if isinstance(func, cst.Attribute) and qual is None:
            meth = func.attr.value
            if meth in ("long", "argmax"):
                return LabelEvidence("class_ids", expr, mod)
            if meth in ("to", "type") and expr.args and mod.qualify(expr.args[0].value) in _INT_DTYPES:
                return LabelEvidence("class_ids", expr, mod)
            if meth in _LABEL_PASSTHROUGH:
                return self.evidence(func.value, scope, depth + 1)
            return None
        callee = self.project.resolve_callee(func, scope)
        if isinstance(callee, Scope):
            rets = return_values(callee)
            found = [self.evidence(r, callee, depth + 1) for r in rets]
            return found[0] if found and all(f is not None and f.kind == found[0].kind for f in found) else None  # type: ignore[union-attr]
        return None

    def _name(self, node: cst.Name, scope: Scope, depth: int) -> Optional[LabelEvidence]:
        owner, found = visible(scope, node)
        if owner is None:
            return None
        if not found:
            return self._param(owner, node.value, depth + 1) if node.value in owner.params else None
        evs = [self._binding(b, depth + 1) for b in found]
        if all(e is not None for e in evs) and len({e.kind for e in evs if e is not None}) == 1:
            return evs[0]
        return None

    def _param(self, fn: Scope, name: str, depth: int) -> Optional[LabelEvidence]:
        if C.is_method(fn) and fn.params.index(name) == 0:
            return None
        callers = self.project.callers(fn)
        evs: List[Optional[LabelEvidence]] = []
        for caller_scope, call in callers:
            arg = C.bind(call, fn, name, isinstance(call.func, cst.Attribute))
            if arg is None:
                return None
            evs.append(self.evidence(arg, caller_scope, depth))
        if evs and all(e is not None for e in evs):
            return evs[0]
        return None

    def _binding(self, b: Binding, depth: int) -> Optional[LabelEvidence]:
        if b.how == "for":
            if b.index is None:
                return None
            return self._element(b.value, b.index, b.scope, depth)
        if b.how != "assign":
            return None
        if b.index is None:
            return self.evidence(b.value, b.scope, depth)
        value = b.value
        if isinstance(value, (cst.Tuple, cst.List)):
            if b.index < len(value.elements):
                return self.evidence(value.elements[b.index].value, b.scope, depth)
            return None
        if isinstance(value, cst.Name):
            # `x, y = batch` where `batch` is an element of a data loader
            for inner in reaching(b.scope, value.value, value):
                if inner.how == "for" and inner.index is None:
                    return self._element(inner.value, b.index, inner.scope, depth + 1)
        return None

    def _element(self, iterable: cst.BaseExpression, index: int, scope: Scope, depth: int) -> Optional[LabelEvidence]:
        """Element `index` of the batches a loader (over a TensorDataset) yields."""
        if (
            isinstance(iterable, cst.Name)
            and iterable.value in scope.params
            and not reaching(scope, iterable.value, iterable)
        ):
            # a loader passed in: every call site must pass one with class labels there
            if depth > MAX_DEPTH:
                return None
            found: List[Optional[LabelEvidence]] = []
            for caller_scope, call in self.project.callers(scope):
                arg = C.bind(call, scope, iterable.value, isinstance(call.func, cst.Attribute))
                found.append(self._element(arg, index, caller_scope, depth + 1) if arg is not None else None)
            if found and all(f is not None and f.kind == found[0].kind for f in found):  # type: ignore[union-attr]
                return found[0]
            return None
        dataset = self._dataset_call(iterable, scope, depth, want="DataLoader")
        if dataset is None:
            return None
        call, call_scope = dataset
        ds_arg = C.arg(call, 0, "dataset")
        if ds_arg is None:
            return None
        tensors = self._dataset_call(ds_arg, call_scope, depth + 1, want="TensorDataset")
        if tensors is None:
            return None
        tcall, tscope = tensors
        if index >= len(tcall.args) or tcall.args[index].star:
            return None
        return self.evidence(tcall.args[index].value, tscope, depth + 1)

    def _dataset_call(
        self, expr: cst.BaseExpression, scope: Scope, depth: int, want: str
    ) -> Optional[Tuple[cst.Call, Scope]]:
        if depth > MAX_DEPTH:
            return None
        if isinstance(expr, cst.Call):
            qual = scope.module.qualify(expr.func) or ""
            if qual.startswith("torch.utils.data.") and qual.rsplit(".", 1)[-1] == want:
                return expr, scope
            callee = self.project.resolve_callee(expr.func, scope)
            if isinstance(callee, Scope):
                rets = return_values(callee)
                if len(rets) == 1:
                    return self._dataset_call(rets[0], callee, depth + 1, want)
            return None
        if isinstance(expr, cst.Name):
            found: List[Binding] = []
            s: Optional[Scope] = scope
            while s is not None and not found:
                if expr.value in s.bindings:
                    found = reaching(s, expr.value, expr) if s is scope else list(s.bindings[expr.value])
                s = s.parent if not found else s
            if len(found) == 1 and found[0].how == "assign":
                b = found[0]
                if b.index is None:
                    return self._dataset_call(b.value, b.scope, depth + 1, want)
                if isinstance(b.value, (cst.Tuple, cst.List)) and b.index < len(b.value.elements):
                    return self._dataset_call(b.value.elements[b.index].value, b.scope, depth + 1, want)
                if isinstance(b.value, cst.Call):
                    callee = self.project.resolve_callee(b.value.func, b.scope)
                    if isinstance(callee, Scope):
                        rets = return_values(callee)
                        if len(rets) == 1 and isinstance(rets[0], cst.Tuple) and b.index < len(rets[0].elements):
                            return self._dataset_call(rets[0].elements[b.index].value, callee, depth + 1, want)
        return None


def _randint_from_zero(call: cst.Call) -> bool:
    """`torch.randint(high, size)` or `torch.randint(0, high, size)`: class ids start at 0
    (ratings from 1 to 5 are a regression target as often as not)."""
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    low = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "low"), None)
    if low is not None:
        return M.number(low) == 0
    if len(positional) >= 3:
        return M.number(positional[0]) == 0
    return len(positional) == 2 and isinstance(positional[1], (cst.Tuple, cst.List, cst.Name, cst.Attribute, cst.Call))


def _int_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return bool(expr.elements) and all(_int_literal(el.value) for el in expr.elements)
    return isinstance(expr, cst.Integer)


def _dtype(call: cst.Call, module: ModuleFacts) -> Optional[str]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "dtype":
            return module.qualify(arg.value) or "?"
    return None


# ---------------------------------------------------------------------------- comparisons


def equality_comparisons(scope: Scope) -> List[cst.Comparison]:
    """`a == b` comparisons written in a scope (accuracy computations)."""
    cache: Dict[int, List[cst.Comparison]] = scope.module.memo(equality_comparisons, dict)
    if id(scope) in cache:
        return cache[id(scope)]
    out = [
        node
        for node in walk(scope.node)
        if isinstance(node, cst.Comparison) and any(isinstance(t.operator, cst.Equal) for t in node.comparisons)
    ]
    cache[id(scope)] = out
    return out


# ------------------------------------------------------------ branches chosen by one setting


def guarded_op(tracer: "OpTracer", lc: "LossCall") -> Optional[Op]:
    """The operation feeding a loss call that sits under a test of a setting of its object
    (`if self.method == "multiclass": return F.cross_entropy(y_pred, y)`), when the value comes
    from a method of the same object whose returns are chosen by the same setting
    (`if self.method == "multiclass": return F.softmax(x, 1)`): only the returns whose tests
    agree with the loss call's can reach it. None unless those all give one known operation."""
    assert lc.input is not None
    cls = lc.scope.cls
    tests = _setting_tests(lc.scope, lc.node)
    if cls is None or not tests:
        return None
    ops: List[Optional[Op]] = []
    for call, scope in producing_calls(tracer.project, strip_shape(lc.input, lc.module), lc.scope):
        callee = tracer.project.resolve_callee(call.func, scope)
        if not isinstance(callee, Scope) or callee.cls is not cls:
            return None
        kept = [r for r in return_values(callee) if _compatible(_setting_tests(callee, r), tests)]
        if not kept:
            return None
        ops += [tracer.op(r, callee) for r in kept]
    return agree(ops) if ops else None


def producing_calls(project: Project, expr: cst.BaseExpression, scope: Scope) -> List[Tuple[cst.Call, Scope]]:
    """The calls whose result `expr` is: itself, the one value of a local name, or what every
    caller passes for a parameter (one hop)."""
    if isinstance(expr, cst.Call):
        return [(expr, scope)]
    if not isinstance(expr, cst.Name):
        return []
    if expr.value in scope.params:
        fn = scope
        out: List[Tuple[cst.Call, Scope]] = []
        callers = project.callers(fn)
        for caller, call in callers[:8]:
            arg = C.bind(call, fn, expr.value, isinstance(call.func, cst.Attribute))
            found = (
                producing_calls(project, arg, caller)
                if isinstance(arg, (cst.Call, cst.Name))
                and not (isinstance(arg, cst.Name) and arg.value in caller.params)
                else []
            )
            if not found:
                return []
            out += found
        return out
    bound = reaching(scope, expr.value, expr)
    if len(bound) != 1 or bound[0].how != "assign" or bound[0].index is not None:
        return []
    value = bound[0].value
    return [(value, scope)] if isinstance(value, cst.Call) else []


# (setting, value or None for a truth test, the arm taken: True for the body)
_Test = Tuple[str, Optional[str], bool]


def _setting_tests(scope: Scope, node: cst.CSTNode) -> List[_Test]:
    """The `if self.x == <literal>:` / `if self.x:` tests around a node, with the arm it is in."""
    out: List[_Test] = []
    for c in enclosing(scope, node):
        if not isinstance(c, cst.If):
            continue
        test, arm = c.test, inside(scope, c.body, node)
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            test, arm = test.expression, not arm
        if _self_attr(test) is not None:
            out.append((_self_attr(test) or "", None, arm))
        elif (
            isinstance(test, cst.Comparison)
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, (cst.Equal, cst.NotEqual))
            and _self_attr(test.left) is not None
            and isinstance(test.comparisons[0].comparator, (cst.SimpleString, cst.Integer, cst.Name))
        ):
            comp = test.comparisons[0].comparator
            value = comp.evaluated_value if isinstance(comp, cst.SimpleString) else getattr(comp, "value", None)
            if isinstance(test.comparisons[0].operator, cst.NotEqual):
                arm = not arm
            out.append((_self_attr(test.left) or "", repr(value), arm))
    return out


def _self_attr(expr: cst.BaseExpression) -> Optional[str]:
    d = dotted(expr)
    return d if d is not None and d.startswith("self.") and d.count(".") == 1 else None


def _compatible(a: List[_Test], b: List[_Test]) -> bool:
    """No setting is both equal to one value and to another (or to a value and not to it)."""
    for sa, va, arm_a in a:
        for sb, vb, arm_b in b:
            if sa != sb:
                continue
            if va == vb and arm_a != arm_b:
                return False
            if va is not None and vb is not None and va != vb and arm_a and arm_b:
                return False
    return True


# `activation="softmax"` of a library model (segmentation_models_pytorch's heads).
_ACTIVATION_NAMES = {
    "softmax": M.SOFTMAX,
    "softmax2d": M.SOFTMAX,
    "logsoftmax": M.LOG_SOFTMAX,
    "log_softmax": M.LOG_SOFTMAX,
    "sigmoid": M.SIGMOID,
}


def _activation_argument_op(layer: M.Layer) -> Optional[Op]:
    """A layer of a library out of sight built with `activation=...` (DGL's graph convolutions
    take `activation=F.relu`, segmentation models `activation="softmax"`): the activation it
    applies to its output last. `functools.partial(F.softmax, dim=1)` is that function."""
    node = layer.node
    if not isinstance(node, cst.Call):
        return None
    act = C.arg(node, None, "activation", skip_star=True)
    return _activation_value_op(act, layer.module) if act is not None else None


def _activation_value_op(act: cst.BaseExpression, mod: ModuleFacts) -> Optional[Op]:
    """The operation an activation given as a value applies: a function (`F.softmax`), a
    layer (`nn.Softmax(dim=1)`), its name (`"softmax"`), or `functools.partial` of a function."""
    if isinstance(act, cst.Call) and mod.qualify(act.func) == "functools.partial" and act.args:
        act = act.args[0].value
    kind: Optional[str]
    if isinstance(act, cst.SimpleString):
        kind = _ACTIVATION_NAMES.get(str(act.evaluated_value).lower())
    elif isinstance(act, cst.Call):
        name = M.nn_layer_name(mod.qualify(act.func))
        kind = M.LAYER_OPS.get(name) if name is not None and name not in M.WEIGHT_LAYERS else None
    else:
        kind = FUNC_OPS.get(mod.qualify(act) or "")
    return Op(kind, act, mod) if kind is not None else None


def _stored_parameter(resolver: Resolver, cls: ClassFacts, attr: str) -> Optional[str]:
    """The `__init__` parameter that `self.<attr>` holds (`self.activation = activation`),
    when that is its only assignment."""
    bindings = resolver.attr_bindings(cls, attr)
    if len(bindings) != 1 or bindings[0].how != "assign" or bindings[0].index is not None:
        return None
    b = bindings[0]
    if (
        not b.scope.name.endswith("__init__")
        or not isinstance(b.value, cst.Name)
        or b.value.value not in b.scope.params
    ):
        return None
    return b.value.value


def _configured(facts: M.ModelFacts) -> bool:
    """A forward that calls `self.<attr>` where `<attr>` is no layer of the class: a callable
    handed to `__init__` (an activation) may decide its output."""
    fwd = facts.forward
    if fwd is None or facts.cls is None:
        return False
    for call in fwd.calls:
        d = dotted(call.func)
        if d is not None and d.startswith("self.") and d.count(".") == 1 and facts.layer(d[5:]) is None:
            if d in facts.cls.attrs:
                return True
    return False


def _named_logits(node: cst.Name, fn: Scope) -> Optional[Op]:
    """A parameter called `logits` (or `..._logits`) that no visible caller fills: raw scores
    by the name's own convention."""
    name = node.value
    if name == "logits" or name.endswith("_logits"):
        return Op(M.LINEAR, node, fn.module, named=True)
    return None


def _is_mask(expr: cst.BaseExpression) -> bool:
    """`mask`, `self.pad_mask`, `mask_cls.float()`, `mask[:, :, None].type_as(x)`: a 0/1 mask
    named as one, cast or reshaped."""
    while True:
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value not in ("float", "type_as", "to", "unsqueeze", "half", "bool", "long", "int"):
                return False
            expr = expr.func.value
        elif isinstance(expr, cst.Subscript):
            expr = expr.value
        else:
            break
    name = expr.value if isinstance(expr, cst.Name) else expr.attr.value if isinstance(expr, cst.Attribute) else ""
    return "mask" in name.lower()


def _scalar(expr: cst.BaseExpression) -> bool:
    """A number, or a plain name or attribute (`T`, `self.temperature`): what a temperature is."""
    return isinstance(expr, (cst.Integer, cst.Float, cst.Name, cst.Attribute))
