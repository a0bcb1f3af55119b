"""Model facts: the layers an `nn.Module` class (or an `nn.Sequential(...)` literal) declares,
and what its `forward` returns.

Layers come from `self.x = ...` assignments (any method, usually `__init__`) and
`self.add_module("x", ...)`, looking inside `nn.Sequential`, `nn.ModuleList` and
`nn.ModuleDict`. A project class inherits the layers and the `forward` of its project bases.
Facts are computed once per class (or Sequential call) and memoised with the run's project.

What `forward` returns is traced by `trainlint.analysis.flow` (it needs the value flow of
tensors); `ModelFacts.output()` asks it lazily and memoises the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import kinds as K
from trainlint.analysis import scopes as SC
from trainlint.analysis.facts import Binding, ClassFacts, ModuleFacts, Scope
from trainlint.analysis.names import dotted, is_self
from trainlint.analysis.project import Project
from trainlint.analysis.walk import walk

if TYPE_CHECKING:
    from trainlint.analysis.flow import Op
    from trainlint.analysis.symbols import Resolver

# Kinds of operation a tensor's last step can be (shared with flow.py).
SOFTMAX = "softmax"
LOG_SOFTMAX = "log_softmax"
SIGMOID = "sigmoid"
TANH = "tanh"
RELU = "relu"
LINEAR = "linear"  # a Linear/Conv layer or F.linear: raw scores
TUPLE = "tuple"
# A dict literal (`return {"scores": s}`): `elements` in the order of `keys`.
DICT = "dict"
# A model chosen at run time among classes whose outputs differ: `elements` holds each one.
ALTERNATIVES = "alternatives"

# torch.nn layer class -> the operation it performs last.
LAYER_OPS: Dict[str, str] = {
    "Softmax": SOFTMAX,
    "Softmax2d": SOFTMAX,
    "LogSoftmax": LOG_SOFTMAX,
    "Sigmoid": SIGMOID,
    "Tanh": TANH,
    "ReLU": RELU,
    "ReLU6": RELU,
    "Linear": LINEAR,
    "LazyLinear": LINEAR,
    "Bilinear": LINEAR,
    "Conv1d": LINEAR,
    "Conv2d": LINEAR,
    "Conv3d": LINEAR,
    "ConvTranspose1d": LINEAR,
    "ConvTranspose2d": LINEAR,
    "ConvTranspose3d": LINEAR,
    "LazyConv1d": LINEAR,
    "LazyConv2d": LINEAR,
    "LazyConv3d": LINEAR,
}
WEIGHT_LAYERS = frozenset(k for k, v in LAYER_OPS.items() if v == LINEAR)
DROPOUT_LAYERS = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"})
BATCHNORM_LAYERS = frozenset(
    {
        "BatchNorm1d",
        "BatchNorm2d",
        "BatchNorm3d",
        "SyncBatchNorm",
        "LazyBatchNorm1d",
        "LazyBatchNorm2d",
        "LazyBatchNorm3d",
    }
)
NORM_LAYERS = BATCHNORM_LAYERS | frozenset(
    {
        "LayerNorm",
        "GroupNorm",
        "InstanceNorm1d",
        "InstanceNorm2d",
        "InstanceNorm3d",
        "LazyInstanceNorm1d",
        "LazyInstanceNorm2d",
        "LazyInstanceNorm3d",
        "LocalResponseNorm",
        "RMSNorm",
    }
)
EMBEDDING_LAYERS = frozenset({"Embedding", "EmbeddingBag"})
# Layers that change nothing about the values at the end of a Sequential.
PASSTHROUGH_LAYERS = DROPOUT_LAYERS | frozenset({"Flatten", "Unflatten", "Identity"})
# Layers with dropout built in (active unless `dropout=0`); RNNs only when dropout > 0 is given.
_DEFAULT_DROPOUT = frozenset(
    {
        "Transformer",
        "TransformerEncoderLayer",
        "TransformerDecoderLayer",
    }
)
_OPTIONAL_DROPOUT = frozenset({"LSTM", "GRU", "RNN", "MultiheadAttention"})
CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})

SEQUENTIAL = "torch.nn.Sequential"


def nn_layer_name(qual: Optional[str]) -> Optional[str]:
    """`torch.nn.Linear` / `torch.nn.modules.linear.Linear` -> `Linear`; None for other names."""
    if not qual or not qual.startswith("torch.nn.") or qual.startswith("torch.nn.functional."):
        return None
    if qual.startswith(("torch.nn.init.", "torch.nn.utils.", "torch.nn.parallel.")):
        return None
    last = qual.rsplit(".", 1)[-1]
    return last if last[:1].isupper() else None


@dataclass(eq=False)
class Layer:
    """One declared submodule: `self.fc1 = nn.Linear(...)`, or an element of a container."""

    name: str  # "fc1", "net[2]", "convs[*]"
    node: cst.BaseExpression  # the expression that builds it
    module: ModuleFacts
    scope: Scope
    qual: Optional[str] = None  # "torch.nn.Linear", for torch.nn layers
    cls: Optional[ClassFacts] = None  # a project nn.Module class
    children: List["Layer"] = field(default_factory=list)
    dynamic: bool = False  # a container whose elements are not all known (`*layers`, comprehension)
    known_tail: int = 0  # for a dynamic container: how many of its last children are known exactly

    @property
    def type_name(self) -> Optional[str]:
        if self.cls is not None:
            return self.cls.name
        return nn_layer_name(self.qual)

    @property
    def is_container(self) -> bool:
        return self.type_name in CONTAINERS and self.cls is None

    def text(self) -> str:
        return self.module.tree.code_for_node(self.node)


@dataclass(eq=False)
class ModelFacts:
    """What is known about one model: a project nn.Module class or an nn.Sequential literal."""

    name: str  # "Net" or "nn.Sequential"
    node: cst.CSTNode  # the ClassDef, or the Sequential call
    module: ModuleFacts
    project: Project
    cls: Optional[ClassFacts] = None
    # self.<attr> -> candidate layers (several when the attribute is assigned more than once).
    attrs: Dict[str, List[Layer]] = field(default_factory=dict)
    root: Optional[Layer] = None  # the Sequential itself
    forward: Optional[Scope] = None
    _output: Optional["Op"] = None
    _output_done: bool = False

    def layer(self, attr: str) -> Optional[Layer]:
        """The layer `self.<attr>` holds, when every assignment agrees on its type."""
        cands = self.attrs.get(attr)
        if not cands:
            return None
        first = cands[0]
        if any(c.qual != first.qual or c.cls is not first.cls for c in cands[1:]):
            return None
        return first if len(cands) == 1 or not first.is_container else None

    def top_layers(self) -> List[Layer]:
        if self.root is not None:
            return [self.root]
        return [layer for cands in self.attrs.values() for layer in cands]

    def walk(self) -> Iterator[Layer]:
        """Every layer, inside containers and inside project submodule classes (bounded)."""
        seen: Set[int] = set()
        yield from _walk(self.top_layers(), self.project, seen, 0)

    def mode_dependent_layer(self) -> Optional[Layer]:
        """A layer that behaves differently in train and eval mode (dropout, batch norm), if any;
        else a functional dropout that follows the mode (`F.dropout(x, p, training=self.training)`)
        in the model's `forward` or a project submodule's."""
        layers = list(self.walk())
        for layer in layers:
            if _is_mode_dependent(layer):
                return layer
        forwards = [self.forward] + [self.project.method_of(x.cls, "forward") for x in layers if x.cls is not None]
        for fwd in self._with_helpers([f for f in forwards if f is not None]):
            for call in fwd.calls:
                if _mode_following_dropout(call, fwd):
                    name = fwd.module.tree.code_for_node(call.func)
                    return Layer(name, call, fwd.module, fwd, qual="torch.nn.Dropout")
        return None

    def _with_helpers(self, forwards: List[Scope]) -> List[Scope]:
        """The forwards and the methods of their own class they call (`self.conv_pass(x)`),
        two calls deep: dropout often sits in such a helper."""
        out: List[Scope] = []
        todo = [(f, 0) for f in forwards]
        while todo:
            fn, depth = todo.pop()
            if any(f is fn for f in out):
                continue
            out.append(fn)
            if depth >= 2 or fn.cls is None:
                continue
            for call in fn.calls:
                if isinstance(call.func, cst.Attribute) and is_self(call.func.value):
                    helper = self.project.resolve_callee(call.func, fn)
                    if isinstance(helper, Scope):
                        todo.append((helper, depth + 1))
        return out

    def output(self, resolver: "Resolver") -> Optional["Op"]:
        """The last operation `forward` applies (None when unknown or when returns disagree)."""
        if not self._output_done:
            self._output_done = True  # set first: a model that calls itself stays unknown
            from trainlint.analysis.flow import tracer_for

            self._output = tracer_for(self.project, resolver).model_output(self)
        return self._output


def _walk(layers: List[Layer], project: Project, seen: Set[int], depth: int) -> Iterator[Layer]:
    for layer in layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer
        yield from _walk(layer.children, project, seen, depth)
        if layer.cls is not None and depth < 4 and id(layer.cls) not in seen:
            seen.add(id(layer.cls))
            yield from _walk(class_facts(layer.cls, project).top_layers(), project, seen, depth + 1)


# Dropout zeroes and rescales entries: what a ReLU, sigmoid or softmax made stays as bounded
# (`flow.OpTracer` looks through them).
FUNCTIONAL_DROPOUTS = frozenset(
    {
        "torch.nn.functional.dropout",
        "torch.nn.functional.dropout1d",
        "torch.nn.functional.dropout2d",
        "torch.nn.functional.dropout3d",
        "torch.nn.functional.alpha_dropout",
        "torch.nn.functional.feature_alpha_dropout",
        "torch.dropout",
    }
)


def _mode_following_dropout(call: cst.Call, fn: Scope) -> bool:
    """`F.dropout(x, p=..., training=self.training)`: on in training mode only."""
    if fn.module.qualify(call.func) not in FUNCTIONAL_DROPOUTS:
        return False
    training = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "training"), None)
    return training is not None and dotted(training) == "self.training"


def _is_mode_dependent(layer: Layer) -> bool:
    name = layer.type_name
    if layer.cls is not None or name is None:
        return False
    if name in DROPOUT_LAYERS or name in BATCHNORM_LAYERS:
        p = _kwarg_number(layer.node, "p", 0)
        return not (name in DROPOUT_LAYERS and p == 0)
    if name in _DEFAULT_DROPOUT:
        return _kwarg_number(layer.node, "dropout", None) != 0
    if name in _OPTIONAL_DROPOUT:
        p = _kwarg_number(layer.node, "dropout", None)
        return p is not None and p > 0
    return False


def _kwarg_number(node: cst.BaseExpression, name: str, position: Optional[int]) -> Optional[float]:
    if not isinstance(node, cst.Call):
        return None
    for i, arg in enumerate(node.args):
        if (arg.keyword is not None and arg.keyword.value == name) or (
            arg.keyword is None and position is not None and i == position
        ):
            return number(arg.value)
    return None


def int_index(sub: cst.Subscript) -> Optional[int]:
    """The literal integer of `x[2]` or `x[-1]` (None for slices and computed indexes)."""
    if len(sub.slice) != 1:
        return None
    el = sub.slice[0].slice
    if not isinstance(el, cst.Index):
        return None
    n = number(el.value)
    if n is None or n != int(n) or not isinstance(el.value, (cst.Integer, cst.UnaryOperation)):
        return None
    return int(n)


def number(expr: cst.BaseExpression) -> Optional[float]:
    """The value of a numeric literal (`1`, `0.5`, `-1e-3`, `1.`), else None."""
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = number(expr.expression)
        return -inner if inner is not None else None
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            return float(expr.evaluated_value)
        except (ValueError, OverflowError):
            return None
    return None


# ---------------------------------------------------------------------------- building


def holds_no_parameters(cls: ClassFacts, project: Project) -> bool:
    """A project module class that builds no layer and holds no `nn.Parameter` (a mel
    spectrogram with buffers only, a time-stretch augmentation): its forward trains nothing
    and, on data that does not require gradients, records no graph."""
    if not is_module_class(cls, project) or class_facts(cls, project).top_layers() or project.base_classes(cls):
        return False
    for method in cls.methods.values():
        for c in method.calls:
            qual = cls.module.qualify(c.func) or ""
            name = c.func.attr.value if isinstance(c.func, cst.Attribute) else qual.rsplit(".", 1)[-1]
            if qual.endswith("Parameter") or name in _ADDS_PARAMETERS:
                return False
            called = dotted(c.func) or ""
            if called in cls.attrs:
                return False  # `self.encoder(x)`: a part, maybe handed to the constructor
    # (an attribute built by a call that may return a module, `build_embedder(cfg)`, may hold some)
    return not any(
        isinstance(b.value, cst.Call) and not _plain_tensor_call(cls.module.qualify(b.value.func))
        for bindings in cls.attrs.values()
        for b in bindings
    )


_ADDS_PARAMETERS = frozenset({"add_module", "register_module", "register_parameter", "ModuleList", "ModuleDict"})


def _plain_tensor_call(qual: Optional[str]) -> bool:
    """`torch.hann_window(n)`, `torch.zeros(...)`: a tensor, not a module that may hold parameters."""
    return qual is not None and qual.startswith("torch.") and not qual.startswith("torch.nn.")


def is_module_class(cls: ClassFacts, project: Project) -> bool:
    return any(K.is_module_base(q) or q.endswith("LightningModule") for q in project.base_quals(cls)) or (
        _module_of_an_unseen_base(cls, project)
    )


def _module_of_an_unseen_base(cls: ClassFacts, project: Project) -> bool:
    """`class SERM(AbstractModel)` with the base in a file out of sight: a class whose
    `__init__` builds torch.nn layers and that defines `forward` is a module."""
    init, forward = cls.methods.get("__init__"), cls.methods.get("forward")
    if init is None or forward is None or not cls.bases or len(project.base_classes(cls)) == len(cls.bases):
        return False
    return any(nn_layer_name(cls.module.qualify(c.func)) is not None for c in init.calls)


def class_facts(cls: ClassFacts, project: Project) -> ModelFacts:
    cache = _cache(cls.module, project)
    key = id(cls.node)
    if key in cache:
        return cache[key]
    facts = ModelFacts(name=cls.name, node=cls.node, module=cls.module, project=project, cls=cls)
    cache[key] = facts  # before filling: a class whose layers mention itself must not loop
    for base in reversed(project.base_classes(cls)):
        base_facts = class_facts(base, project)
        facts.attrs.update(base_facts.attrs)
    own: Dict[str, List[Layer]] = {}
    for key_name, bindings in cls.attrs.items():
        attr = key_name[5:]  # strip "self."
        layers = [_layer_from_binding(attr, b, project) for b in bindings]
        found = [layer for layer in layers if layer is not None]
        if found:
            own[attr] = found
    facts.attrs.update(own)
    facts.forward = project.method_of(cls, "forward")
    return facts


def sequential_facts(call: cst.Call, module: ModuleFacts, project: Project) -> Optional[ModelFacts]:
    """Facts for a model built by a torch.nn constructor call: `nn.Sequential(...)`, or a single
    layer used as the whole model (`model = nn.Linear(10, 1)`)."""
    cache = _cache(module, project)
    key = id(call)
    if key in cache:
        return cache[key]
    scope = scope_of_call(module, call)
    if scope is None:
        return None
    root = layer_from_expr("model", call, scope, project)
    if root is None or root.cls is not None:
        return None
    facts = ModelFacts(name=f"nn.{root.type_name}", node=call, module=module, project=project, root=root)
    cache[key] = facts
    return facts


def scope_of_call(module: ModuleFacts, call: cst.Call) -> Optional[Scope]:
    index = module.memo(scope_of_call, lambda: {id(c): s for s in module.scopes for c in s.calls})
    return index.get(id(call))


def _cache(module: ModuleFacts, project: Project) -> Dict[int, ModelFacts]:
    """The run's model facts of a module's classes and Sequentials (they read other files)."""
    return project.memo(_cache, module, dict)


def _layer_from_binding(attr: str, b: Binding, project: Project) -> Optional[Layer]:
    if b.how != "assign":
        return None
    if b.index is not None:
        # self.fc1, self.fc2 = nn.Linear(...), nn.Linear(...)
        value = b.value
        if isinstance(value, (cst.Tuple, cst.List)) and b.index < len(value.elements):
            el = value.elements[b.index]
            if not isinstance(el, cst.StarredElement):
                return layer_from_expr(attr, el.value, b.scope, project)
        return None
    return layer_from_expr(attr, b.value, b.scope, project)


def layer_from_expr(
    name: str, expr: cst.BaseExpression, scope: Scope, project: Project, depth: int = 0
) -> Optional[Layer]:
    """The layer an expression builds: a torch.nn constructor, a project module class, or a
    local name bound once to one of those."""
    if depth > 6:
        return None
    mod = scope.module
    if isinstance(expr, cst.Name):
        bindings = scope.bindings.get(expr.value)
        if bindings is not None and len(bindings) == 1 and bindings[0].index is None and bindings[0].how == "assign":
            return layer_from_expr(name, bindings[0].value, bindings[0].scope, project, depth + 1)
        return None
    if not isinstance(expr, cst.Call):
        return None
    qual = mod.qualify(expr.func)
    if qual is not None and qual.endswith((".to", ".cuda")):
        qual = None
    if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in K.MOVE_METHODS:
        return layer_from_expr(name, expr.func.value, scope, project, depth + 1)
    layer_name = nn_layer_name(qual)
    if layer_name is not None:
        layer = Layer(name=name, node=expr, module=mod, scope=scope, qual=qual)
        if layer_name in CONTAINERS:
            _fill_container(layer, layer_name, expr, scope, project, depth)
        return layer
    callee = project.resolve_callee(expr.func, scope)
    if isinstance(callee, ClassFacts) and is_module_class(callee, project):
        return Layer(name=name, node=expr, module=mod, scope=scope, cls=callee)
    if isinstance(callee, Scope):
        # a factory (`self.conv_block = self.build_conv_block(...)`): the layer it returns
        returned = [r for r in SC.return_values(callee) if not (isinstance(r, cst.Name) and r.value == "None")]
        if len(returned) == 1:
            return layer_from_expr(name, returned[0], callee, project, depth + 1)
        return None
    if callee is None and qual is not None and C.arg(expr, None, "activation", skip_star=True) is not None:
        # a library layer out of sight told its output activation (DGL's `GraphConv(...,
        # activation=F.relu)`): known by that alone (`flow.OpTracer.layer_op`)
        return Layer(name=name, node=expr, module=mod, scope=scope, qual=qual)
    return None


def _fill_container(layer: Layer, kind: str, call: cst.Call, scope: Scope, project: Project, depth: int) -> None:
    tail: Optional[int] = None  # how many trailing elements are known when the layer is dynamic
    if kind == "Sequential":
        elements, tail = _sequential_elements(layer, call, scope)
    elif call.args:
        elements = _collection_elements(layer, kind, call.args[0].value, scope)
    else:
        elements = []
    if kind == "ModuleList" and not layer.dynamic:
        # `self.layers = nn.ModuleList(); self.layers.append(...)`, also in a loop: then only
        # the elements appended after that loop are known in place
        name = _bound_name(call, scope)
        added, dynamic, known = _grown(name, call, scope) if name is not None else ([], False, 0)
        elements = [*elements, *added]
        if dynamic:
            layer.dynamic = True
            tail = known
    for i, el in enumerate(elements):
        child = layer_from_expr(
            f"{layer.name}[{'*' if layer.dynamic and kind != 'Sequential' else i}]", el, scope, project, depth + 1
        )
        if child is None:
            layer.dynamic = True
            if tail is not None and i >= len(elements) - tail:
                tail = len(elements) - i - 1  # an unknown element: only what follows it is known
            continue
        layer.children.append(child)
    if layer.dynamic and tail:
        layer.known_tail = min(tail, len(layer.children))


def _sequential_elements(layer: Layer, call: cst.Call, scope: Scope) -> Tuple[List[cst.BaseExpression], Optional[int]]:
    """The elements of `nn.Sequential(...)`, those added to it later included, and how many
    trailing ones are known (marks `layer` dynamic where some are not)."""
    elements: List[cst.BaseExpression] = []
    args = list(call.args)
    tail: Optional[int] = None
    keyed = _keyed_elements(args[0].value, scope) if len(args) == 1 and args[0].star == "" else None
    if len(args) == 1 and args[0].star == "" and _is_ordered_dict(args[0].value, scope):
        elements = _dict_values(args[0].value)
        if not elements:
            layer.dynamic = True
    elif keyed is not None:
        elements, dynamic, known = keyed
        if dynamic:
            layer.dynamic, tail = True, known
    else:
        for arg in args:
            if arg.star == "*":
                grown = _list_elements(arg.value, scope)
                if grown is None:
                    layer.dynamic = True
                    tail = None
                    continue
                listed, dynamic, known = grown
                if dynamic:
                    layer.dynamic, tail = True, known
                elif tail is not None:
                    tail += len(listed)
                elements.extend(listed)
            elif arg.star == "":
                elements.append(arg.value)
                if tail is not None:
                    tail += 1
            else:
                layer.dynamic = True
                tail = None
    # `seq = nn.Sequential(); seq.add_module("fc", ...)`, `seq.append(...)`
    name = _bound_name(call, scope)
    if name is not None:
        added, dynamic, known = _grown(name, call, scope)
        if added:
            elements.extend(added)
            if dynamic or layer.dynamic:
                layer.dynamic = True
                tail = known if dynamic else (tail + len(added) if tail is not None else len(added))
    return elements, tail


def _collection_elements(layer: Layer, kind: str, value: cst.BaseExpression, scope: Scope) -> List[cst.BaseExpression]:
    """The elements of `nn.ModuleList(value)` / `nn.ModuleDict(value)` (marks `layer` dynamic
    where they are not all listed)."""
    in_list = _list_literal(value, scope) if kind == "ModuleList" else None
    if in_list is not None:
        return in_list
    if isinstance(value, (cst.ListComp, cst.GeneratorExp)):
        layer.dynamic = True
        return [value.elt]  # one template element, repeated an unknown number of times
    if isinstance(value, cst.Dict) or _is_ordered_dict(value, scope):
        return _dict_values(value)
    layer.dynamic = True
    return []


def _is_ordered_dict(expr: cst.BaseExpression, scope: Scope) -> bool:
    if not isinstance(expr, cst.Call):
        return False
    return scope.module.qualify(expr.func) in ("collections.OrderedDict", "OrderedDict")


def _dict_values(expr: cst.BaseExpression) -> List[cst.BaseExpression]:
    if isinstance(expr, cst.Dict):
        return [el.value for el in expr.elements if isinstance(el, cst.DictElement)]
    if isinstance(expr, cst.Call) and expr.args:
        inner = expr.args[0].value
        if isinstance(inner, cst.Dict):
            return _dict_values(inner)
        if isinstance(inner, (cst.List, cst.Tuple)):
            out = []
            for el in inner.elements:
                pair = el.value
                if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                    out.append(pair.elements[1].value)
            return out
    return []


def _list_literal(expr: cst.BaseExpression, scope: Scope) -> Optional[List[cst.BaseExpression]]:
    """Elements of a list/tuple literal, or of a name bound once to one and never appended to."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        out = []
        for el in expr.elements:
            if isinstance(el, cst.StarredElement):
                return None
            out.append(el.value)
        return out
    if isinstance(expr, cst.Name):
        bindings = scope.bindings.get(expr.value)
        if bindings is None or len(bindings) != 1 or bindings[0].index is not None:
            return None
        for call in scope.calls:
            f = call.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Name) and f.value.value == expr.value:
                return None  # layers.append(...), layers.extend(...): built dynamically
        if _augmented(scope, expr.value):
            return None
        return _list_literal(bindings[0].value, scope)
    return None


def _bound_name(call: cst.Call, scope: Scope) -> Optional[str]:
    """The local name a constructor call is assigned to (`seq = nn.Sequential()`)."""
    for name, bindings in scope.bindings.items():
        if name.count(".") <= 1 and any(b.value is call and b.index is None and b.how == "assign" for b in bindings):
            return name  # `seq` or `self.seq`
    return None


def _list_elements(expr: cst.BaseExpression, scope: Scope) -> Optional[Tuple[List[cst.BaseExpression], bool, int]]:
    """What a list holds: a literal, or a name bound to one and then grown with `append`,
    `extend` or `+=` (`layers = []; layers.append(nn.Linear(...)); nn.Sequential(*layers)`).
    Returns the elements in order, whether some were added in a loop or under a condition
    (so their number is unknown), and how many of the last ones are known exactly."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        listed = _list_literal(expr, scope)
        return (listed, False, len(listed)) if listed is not None else None
    if not isinstance(expr, cst.Name):
        return None
    found = SC.reaching(scope, expr.value, expr)
    if len(found) != 1 or found[0].index is not None or found[0].how != "assign" or found[0].stmt is None:
        return None
    first = _list_literal(found[0].value, scope)
    if first is None:
        return None
    added, dynamic, known = _grown(expr.value, found[0].stmt, scope)
    return [*first, *added], dynamic, known if dynamic else len(first) + len(added)


def _keyed_elements(expr: cst.BaseExpression, scope: Scope) -> Optional[Tuple[List[cst.BaseExpression], bool, int]]:
    """What an `OrderedDict` bound to a name holds once filled key by key (`layers =
    OrderedDict(); layers["fc"] = nn.Linear(...); nn.Sequential(layers)`), as `_list_elements`."""
    if not isinstance(expr, cst.Name):
        return None
    found = SC.reaching(scope, expr.value, expr)
    if len(found) != 1 or found[0].index is not None or found[0].how != "assign" or found[0].stmt is None:
        return None
    if not _is_ordered_dict(found[0].value, scope):
        return None
    first = _dict_values(found[0].value)
    added, dynamic, known = _grown(expr.value, found[0].stmt, scope, keyed=True)
    return [*first, *added], dynamic, known if dynamic else len(first) + len(added)


def _grown(
    name: str, origin: cst.CSTNode, scope: Scope, keyed: bool = False
) -> Tuple[List[cst.BaseExpression], bool, int]:
    """Elements added to the list or Sequential bound to `name` at `origin`, in source order;
    whether any was added in a loop or under a condition; how many of the last ones were
    added unconditionally after every such addition. With `keyed`, `name` is a dict, and each
    `name[key] = value` adds an element (in a list it replaces one: the order is then unknown)."""
    start = SC.order(scope, origin)
    if start is None:
        return [], False, 0
    base = len(SC.enclosing(scope, origin))
    events: List[Tuple[int, List[cst.BaseExpression], bool]] = []
    for call in scope.calls:
        f = call.func
        if not (
            isinstance(f, cst.Attribute) and isinstance(f.value, (cst.Name, cst.Attribute)) and dotted(f.value) == name
        ):
            continue
        at = SC.order(scope, call)
        if at is None or at < start:
            continue
        method = f.attr.value
        args = [a.value for a in call.args if not a.star and a.keyword is None]
        if method == "append" and len(args) == 1:
            items: Optional[List[cst.BaseExpression]] = args
        elif method == "add_module" and len(args) == 2:
            items = [args[1]]
        elif method == "extend" and len(args) == 1:
            items = _list_literal(args[0], scope)
        elif method in ("insert", "pop", "remove", "reverse", "sort", "clear", "__setitem__"):
            items = None
        else:
            continue
        conditional = len(SC.enclosing(scope, call)) > base
        events.append((at, items or [], conditional or items is None))
    for store in scope.stores.get(name, []):
        at = SC.order(scope, store.stmt) if store.stmt is not None else None
        if at is not None and at > start:
            nested = len(SC.enclosing(scope, store.stmt)) > base if store.stmt is not None else True
            events.append((at, [store.value] if keyed else [], nested or not keyed))
    for node in _augmentations(scope, name):
        at = SC.order(scope, node)
        if at is not None and at > start:
            listed = _list_literal(node.value, scope)
            events.append((at, listed or [], listed is None or len(SC.enclosing(scope, node)) > base))
    events.sort(key=lambda e: e[0])
    out: List[cst.BaseExpression] = []
    dynamic, known = False, 0
    for _, items, uncertain in events:
        out.extend(items)
        if uncertain:
            dynamic, known = True, 0
        else:
            known += len(items)
    return out, dynamic, known


def _augmented(scope: Scope, name: str) -> bool:
    """`name += [...]` somewhere in the scope: the list is built dynamically."""
    return any(True for _ in _augmentations(scope, name))


def _augmentations(scope: Scope, name: str) -> Iterator[cst.AugAssign]:
    """The `name += ...` statements of the scope."""
    for node in walk(scope.node):
        if isinstance(node, cst.AugAssign) and isinstance(node.target, cst.Name) and node.target.value == name:
            yield node
