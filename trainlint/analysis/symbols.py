"""What a name or expression holds (optimizer, loss, model, ...), resolved through imports,
assignments, `self.` attributes, helper return values and call-site arguments.

Resolution is sound rather than clever: when bindings disagree the answer is unknown, and a
guess from a variable's name is marked as such so rules can lower their confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst

from trainlint.analysis import calls as C
from trainlint.analysis import kinds as K
from trainlint.analysis import module_facts as M
from trainlint.analysis.branches import in_dead_code
from trainlint.analysis.facts import Binding, ClassFacts, ModuleFacts, Scope
from trainlint.analysis.frameworks import HF_TRAINER_MODEL_HOOKS, is_hf_trainer, lightning_handles_call
from trainlint.analysis.names import dotted, is_self
from trainlint.analysis.project import Project, enclosing_class
from trainlint.analysis.scopes import return_values as return_values
from trainlint.analysis.scopes import visible

# Methods that return their receiver (or an equivalent object of the same kind); `clone()`
# (and `new()`, its older name) are how learn2learn's MAML hands out a copy of the model.
_PASSTHROUGH_METHODS = K.MOVE_METHODS | {"train", "eval", "requires_grad_", "share_memory", "clone", "new"}
# Calls that give back their first argument, or an object that behaves like it (a copy, a wrapper).
_WRAPPERS = {
    "torch.compile",
    "torch.nn.DataParallel",
    "torch.nn.parallel.DistributedDataParallel",
    "torch.jit.script",
    "copy.deepcopy",
    "copy.copy",
    "learn2learn.MAML",
    "learn2learn.algorithms.MAML",
    "learn2learn.algorithms.MetaSGD",
}
_MAX_DEPTH = 8
# Class methods that build an instance and load its weights.
LOADING_CONSTRUCTORS = frozenset({"load_from_checkpoint", "from_pretrained"})


@dataclass(frozen=True)
class Value:
    kind: Optional[str]
    qual: Optional[str] = None  # constructor, e.g. "torch.optim.Adam" or "torch.nn.CrossEntropyLoss"
    origin: Optional[cst.CSTNode] = None  # the expression that created it (identity for matching)
    module: Optional[ModuleFacts] = None  # where `origin` is
    guess: bool = False  # only the variable's name says so
    cls: Optional[ClassFacts] = None  # the project class of a model instance
    scope: Optional[Scope] = None  # where `origin` is evaluated
    # Models of different classes chosen at run time (`A() if x else B()`): each alternative.
    alts: Tuple["Value", ...] = ()


# Where DataParallel/DistributedDataParallel (`.module`) and `torch.compile` (`._orig_mod`) keep
# the model they wrap; the wrappers themselves resolve to that model.
_WRAPPED_MODEL_ATTRS = frozenset({"module", "_orig_mod"})

# What Lightning's `self.optimizers()` and `self.lr_schedulers()` hand back: objects whose
# construction is out of sight (`configure_optimizers` built them), so not told apart from the
# module's other ones.
_LIGHTNING_HANDLES = {
    "optimizers": Value(K.OPTIMIZER, qual="lightning.pytorch.core.optimizer.LightningOptimizer"),
    "lr_schedulers": Value(K.SCHEDULER, qual="lightning.pytorch.LightningModule.lr_schedulers"),
}


def _moves_itself(value: Optional[cst.BaseExpression], key: str) -> bool:
    """`self.x.cuda()`, `self.x.to(dev).half()`: the object at `key` itself, moved or re-moded."""
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        if value.func.attr.value not in _PASSTHROUGH_METHODS:
            return False
        value = value.func.value
        if dotted(value) == key:
            return True
    return False


def _class_of(expr: cst.BaseExpression) -> Optional[cst.BaseExpression]:
    """`x` of `type(x)` or `x.__class__`."""
    if isinstance(expr, cst.Attribute) and expr.attr.value == "__class__":
        return expr.value
    if isinstance(expr, cst.Call) and dotted(expr.func) == "type" and len(expr.args) == 1 and not expr.args[0].keyword:
        return expr.args[0].value
    return None


def _untracked_torch_call(expr: cst.BaseExpression, mod: ModuleFacts) -> bool:
    """A call of a torch class the analysis gives no kind (`RandomSampler(ds)`)."""
    if not isinstance(expr, cst.Call):
        return False
    qual = mod.qualify(expr.func)
    return (
        qual is not None
        and qual.startswith("torch.")
        and qual.rsplit(".", 1)[-1][:1].isupper()
        and K.kind_of_constructor(qual) is None
    )


def _same(values: List[Value]) -> Optional[Value]:
    if not values:
        return None
    first = values[0]
    if any(v.kind != first.kind for v in values):
        return None
    if all(v.origin is first.origin and v.qual == first.qual and v.cls is first.cls for v in values):
        return first
    quals = {v.qual for v in values}
    classes = {id(v.cls) for v in values}
    alts: Tuple[Value, ...] = ()
    if first.kind in (K.MODEL, K.OPTIMIZER) and (len(classes) > 1 or len({id(v.origin) for v in values}) > 1):
        # (an optimizer built on either arm of an `if` stays that optimizer, not an unknown one)
        flat = [a for v in values for a in (v.alts or (v,))]
        alts = tuple({id(a.origin): a for a in flat}.values())
    return Value(
        first.kind,
        qual=first.qual if len(quals) == 1 else None,
        guess=any(v.guess for v in values),
        cls=first.cls if len(classes) == 1 else None,
        alts=alts if len(alts) > 1 else (),
    )


class Resolver:
    def __init__(self, project: Project) -> None:
        self.project = project
        self._memo: Dict[Tuple[int, int], Optional[Value]] = {}
        self._made: Optional[Dict[int, List[Tuple[Scope, cst.Call]]]] = None
        self._typing = 0
        project.instance_class = self.class_of
        project.instance_classes = self.classes_of

    def class_of(self, expr: cst.BaseExpression, scope: Scope) -> Optional[ClassFacts]:
        """The project class of the object `expr` holds, when known."""
        v = self._receiver_value(expr, scope)
        return v.cls if v is not None else None

    def classes_of(self, expr: cst.BaseExpression, scope: Scope) -> List[ClassFacts]:
        """The project classes the object `expr` holds may be of: each arm of a choice
        (`MUNITTrainer(cfg) if munit else UNITTrainer(cfg)`), or the one class."""
        v = self._receiver_value(expr, scope)
        if v is None:
            return []
        return [a.cls for a in (v.alts or (v,)) if isinstance(a.cls, ClassFacts)]

    def _receiver_value(self, expr: cst.BaseExpression, scope: Scope) -> Optional[Value]:
        """What a call's receiver holds, asked while resolving a call."""
        if self._typing >= 2:
            self.project.cut_short += 1  # (what depends on this answer must not be memoised)
            return None  # typing a receiver while typing another: give up rather than recurse
        self._typing += 1
        try:
            return self.value_of(expr, scope)
        finally:
            self._typing -= 1

    # public API -------------------------------------------------------------------------

    def value_of(self, expr: cst.BaseExpression, scope: Scope) -> Optional[Value]:
        return self._value(expr, scope, 0, set())

    def binding_value(self, b: Binding) -> Optional[Value]:
        """What one assignment binds."""
        return self._binding_value(b, 0, set())

    def forward_of(self, func: cst.BaseExpression, scope: Scope) -> Optional[Scope]:
        """The `forward` that calling `func`, a project model instance, runs (one class only)."""
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        v = self.value_of(func, scope)
        if v is None or v.kind != K.MODEL or v.alts or not isinstance(v.cls, ClassFacts):
            return None
        return self.project.method_of(v.cls, "forward")

    def param_value(self, fn: Scope, name: str) -> Optional[Value]:
        """What a parameter holds, from the function's call sites (None for `self`)."""
        return self._param_value(fn, name, 0, set()) if name in fn.params else None

    def attr_value(self, cls: ClassFacts, key: str) -> Optional[Value]:
        """What `self.<attr>` (`key`) holds on an instance of `cls`: the first class of its chain
        that assigns or declares it decides (a subclass's own assignment before its base's)."""
        return self._attr_value(cls, key, 0, set())

    def attr_bindings(self, cls: ClassFacts, key: str) -> List[Binding]:
        """The assignments of `self.<attr>` that an instance of `cls` sees: those of the first
        class of its chain that assigns it."""
        c: Optional[ClassFacts] = cls
        for _ in range(6):
            if c is None:
                break
            if key in c.attrs:
                return list(c.attrs[key])
            bases = self.project.base_classes(c)
            c = bases[0] if bases else None
        return []

    def trained_models(self, optimizer: Value) -> List[Value]:
        """The models whose `.parameters()` an optimizer was built from (also through
        `list(a.parameters()) + list(b.parameters())`, `itertools.chain(...)` and param groups)."""
        call = optimizer.origin
        if not isinstance(call, cst.Call) or optimizer.scope is None:
            return []
        params = next((a.value for a in call.args if a.keyword is None or a.keyword.value == "params"), None)
        out: List[Value] = []
        if params is not None:
            self._models_in(params, optimizer.scope, out, 0)
        return out

    def _models_in(self, expr: cst.BaseExpression, scope: Scope, out: List[Value], depth: int) -> None:
        if depth > 6:
            return
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("parameters", "named_parameters"):
                v = self.value_of(func.value, scope)
                if v is None and is_self(func.value):
                    # `self.optimizer = Adam(self.parameters())` in a model's own method: an
                    # instance of that class, whichever one
                    cls = enclosing_class(scope)
                    if cls is not None and self.is_module_class(cls):
                        v = Value(K.MODEL, qual=cls.name, module=scope.module, cls=cls, scope=scope)
                if v is not None and v.kind == K.MODEL:
                    out.append(v)
                return
            if dotted(func) in ("list", "itertools.chain", "chain", "tuple"):
                for a in expr.args:
                    self._models_in(a.value, scope, out, depth + 1)
        elif isinstance(expr, cst.BinaryOperation):
            self._models_in(expr.left, scope, out, depth + 1)
            self._models_in(expr.right, scope, out, depth + 1)
        elif isinstance(expr, (cst.List, cst.Tuple)):
            for el in expr.elements:
                self._models_in(el.value, scope, out, depth + 1)
        elif isinstance(expr, cst.Dict):
            for item in expr.elements:
                if (
                    isinstance(item, cst.DictElement)
                    and isinstance(item.key, cst.SimpleString)
                    and item.key.evaluated_value == "params"
                ):
                    self._models_in(item.value, scope, out, depth + 1)

    def is_module_class(self, cls: ClassFacts) -> bool:
        return any(q.endswith("Module") for q in self.project.base_quals(cls)) or M.is_module_class(cls, self.project)

    # internals --------------------------------------------------------------------------

    def _value(self, expr: cst.BaseExpression, scope: Scope, depth: int, seen: Set[int]) -> Optional[Value]:
        key = (id(expr), id(scope))
        if key in self._memo:
            return self._memo[key]
        if depth > _MAX_DEPTH or key[0] in seen:
            return None
        seen = seen | {key[0]}
        result = self._compute(expr, scope, depth, seen)
        self._memo[key] = result
        return result

    def _compute(self, expr: cst.BaseExpression, scope: Scope, depth: int, seen: Set[int]) -> Optional[Value]:
        mod = scope.module
        if isinstance(expr, cst.Call):
            return self._call_value(expr, scope, depth, seen)
        if isinstance(expr, (cst.Name, cst.Attribute)):
            # `loss_func = F.binary_cross_entropy_with_logits`: a reference to a loss function.
            qual = mod.qualify(expr)
            if K.is_functional_loss(qual):
                return Value(K.LOSS_FN, qual=qual, origin=expr, module=mod, scope=scope)
        if isinstance(expr, cst.Name):
            return self._name_value(expr, scope, depth, seen)
        if isinstance(expr, cst.Attribute):
            d = dotted(expr)
            if d is not None and d.startswith("self.") and d.count(".") == 1:
                cls = enclosing_class(scope)
                if cls is not None:
                    return self._attr_value(cls, d, depth, seen)
                return None
            if isinstance(expr.value, (cst.Name, cst.Attribute)) and expr.attr.value not in _PASSTHROUGH_METHODS:
                # `context.model` of a project object: the attribute its class sets or declares
                owner = self._value(expr.value, scope, depth + 1, seen)
                if owner is not None and owner.cls is not None and owner.kind in (K.OBJECT, K.MODEL):
                    found = self._attr_value(owner.cls, f"self.{expr.attr.value}", depth + 1, seen)
                    if found is None and owner.kind == K.MODEL and expr.attr.value in _WRAPPED_MODEL_ATTRS:
                        return owner  # `ddp_model.module`: the model the wrapper was given
                    return found
                if (owner is None or owner.cls is None) and isinstance(expr.value, cst.Name) and d is not None:
                    return self._param_attr_value(scope, expr.value.value, d, depth + 1, seen)
            return None
        if isinstance(expr, cst.Subscript):
            # `opts[1]` of `opts = [Adam(...), Adam(...)]`
            elements = self._elements(expr.value, scope, depth + 1, seen)
            if not elements:
                return None
            index = M.int_index(expr)
            if (
                index is not None
                and -len(elements) <= index < len(elements)
                and not isinstance(expr.value, cst.ListComp)
            ):
                return elements[index]
            return _same(elements) if all(elements) else None  # type: ignore[arg-type]
        if isinstance(expr, (cst.IfExp,)):
            # `GradScaler() if amp else None`: the object whenever it is used as one.
            # `RandomSampler(ds) if local else DistributedSampler(ds)`: a torch object the
            # analysis has no kind for is another kind of object, so the other arm decides.
            branches = [e for e in (expr.body, expr.orelse) if not is_none(e) and not _untracked_torch_call(e, mod)]
            vals = [self._value(e, scope, depth + 1, seen) for e in branches]
            return _same([v for v in vals if v is not None]) if vals and all(vals) else None
        del mod
        return None

    def _call_value(self, call: cst.Call, scope: Scope, depth: int, seen: Set[int]) -> Optional[Value]:
        mod = scope.module
        func = call.func
        qual = mod.qualify(func)
        kind = K.kind_of_constructor(qual)
        if qual in _WRAPPERS and call.args:
            return self._value(call.args[0].value, scope, depth + 1, seen)
        if (
            kind == K.LOSS
            and qual is not None
            and not qual.startswith("torch.")
            and self.project.resolve_callee(func, scope) is not None
        ):
            kind = None  # a loss class of the project: read as the class it is
        if kind is not None:
            if kind == K.MODEL and qual is not None and qual.endswith(".from_pretrained"):
                qual = qual[: -len(".from_pretrained")]  # the class: as an annotation names it
            return Value(kind, qual=qual, origin=call, module=mod, scope=scope)
        if isinstance(func, cst.Attribute):
            name = func.attr.value
            if name in _PASSTHROUGH_METHODS:
                inner = self._value(func.value, scope, depth + 1, seen)
                if inner is not None and inner.kind in (K.MODEL, K.LOSS):
                    return inner
            if name in ("prepare", "setup", "setup_module") and len(call.args) == 1:
                recv = self._value(func.value, scope, depth + 1, seen)
                if recv is not None and recv.kind == K.ACCELERATOR:
                    return self._value(call.args[0].value, scope, depth + 1, seen)
        if isinstance(func, cst.Subscript):
            return self._registry_value(func, scope)
        handle = lightning_handles_call(call, scope)
        if handle is not None:
            return _LIGHTNING_HANDLES[handle]
        picked = self._picked_class_value(call, scope) or self._loaded_instance(call, scope, depth, seen)
        if picked is not None:
            return picked
        callee = self.project.resolve_callee(func, scope)
        if isinstance(callee, ClassFacts):
            if self.is_module_class(callee):
                return Value(K.MODEL, qual=callee.name, origin=call, module=mod, cls=callee, scope=scope)
            bases = self.project.base_quals(callee)
            if any(q.startswith(("torch.optim.lr_scheduler.", "transformers.optimization.")) for q in bases):
                # (a warm-up schedule written in the project: `class WarmupLR(_LRScheduler)`)
                return Value(K.SCHEDULER, qual=callee.name, origin=call, module=mod)
            if any(q.startswith("torch.optim.") for q in bases):
                return Value(K.OPTIMIZER, qual=callee.name, origin=call, module=mod)
            return Value(K.OBJECT, qual=callee.name, origin=call, module=mod, cls=callee, scope=scope)
        if isinstance(callee, Scope):
            return self._returns_value(callee, depth + 1, seen)
        # Calling a model gives its output.
        recv_val = self._value(func, scope, depth + 1, seen) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if recv_val is not None and recv_val.kind == K.MODEL:
            return Value(K.TENSOR, qual="model-output", origin=call, module=mod, cls=recv_val.cls)
        if recv_val is not None and recv_val.kind == K.LOSS:
            return Value(K.TENSOR, qual="loss-output", origin=call, module=mod)
        return None

    def _loaded_instance(self, call: cst.Call, scope: Scope, depth: int, seen: Set[int]) -> Optional[Value]:
        """`Net.load_from_checkpoint(path)` (Lightning), `Net.from_pretrained(name)`: an instance
        of the project's model class, with the weights it loads."""
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in LOADING_CONSTRUCTORS):
            return None
        cls = self.project.resolve_callee(func.value, scope)
        if isinstance(cls, ClassFacts) and self.is_module_class(cls):
            return Value(K.MODEL, qual=cls.name, origin=call, module=scope.module, cls=cls, scope=scope)
        of = _class_of(func.value)
        model = self._value(of, scope, depth + 1, seen) if of is not None else None
        if model is not None and model.kind == K.MODEL:
            # `type(model).load_from_checkpoint(path)`: another instance of the model's class
            return Value(K.MODEL, qual=model.qual, origin=call, module=scope.module, cls=model.cls, scope=scope)
        if func.attr.value == "load_from_checkpoint":
            # (Lightning's: whatever the class, what it builds is a LightningModule)
            return Value(K.MODEL, origin=call, module=scope.module, scope=scope)
        return None

    def _picked_class_value(self, call: cst.Call, scope: Scope) -> Optional[Value]:
        """An instance of a class picked at run time: `Net = MODELS[name]; Net(...)` from a
        registry of model classes, `getattr(torch.optim, name)(...)`, also through a name."""
        func = call.func
        if isinstance(func, cst.Call) and optimizer_by_name(func, scope.module):
            return Value(K.OPTIMIZER, qual="torch.optim.Optimizer", origin=call, module=scope.module)
        if isinstance(func, cst.Name):
            owner, found = visible(scope, func)
            if owner is not None and len(found) == 1 and found[0].how == "assign" and found[0].index is None:
                if isinstance(found[0].value, cst.Subscript):
                    return self._registry_value(found[0].value, owner)
                if isinstance(found[0].value, cst.IfExp):
                    return self._chosen_class_value(found[0].value, found[0].scope, call, scope)
                if isinstance(found[0].value, cst.Call) and optimizer_by_name(found[0].value, owner.module):
                    # `optimizer_class = getattr(optim, name); optimizer_class(params, **kw)`
                    return Value(K.OPTIMIZER, qual="torch.optim.Optimizer", origin=call, module=scope.module)
        return None

    def _chosen_class_value(self, choice: cst.IfExp, where: Scope, call: cst.Call, scope: Scope) -> Optional[Value]:
        """`Sampler = RandomSampler if local else DistributedSampler; Sampler(ds)`: an instance
        of a library class chosen by a condition. The alternatives of one known kind (the
        others' kinds unknown to the analysis) are what the object is when it is one."""
        kinds = set()
        quals = []
        for branch in (choice.body, choice.orelse):
            qual = where.module.qualify(branch) if isinstance(branch, (cst.Name, cst.Attribute)) else None
            kind = K.kind_of_constructor(qual)
            if kind is not None:
                kinds.add(kind)
                quals.append(qual)
        if len(kinds) != 1:
            return None
        return Value(kinds.pop(), qual=quals[0], origin=call, module=scope.module, scope=scope)

    def _registry_value(self, func: cst.Subscript, scope: Scope) -> Optional[Value]:
        """`MODELS[name](...)` of a registry written as one dict literal of model classes: each
        class it may build (a union when there are several)."""
        if not isinstance(func.value, cst.Name):
            return None
        owner, found = visible(scope, func.value)
        if owner is None or len(found) != 1 or found[0].how != "assign" or found[0].index is not None:
            return None
        table = found[0].value
        if not isinstance(table, cst.Dict) or not table.elements:
            return None
        values: List[Value] = []
        for el in table.elements:
            if not isinstance(el, cst.DictElement):
                return None  # `**other`: entries we cannot see
            cls = (
                self.project.resolve_callee(el.value, found[0].scope)
                if isinstance(el.value, (cst.Name, cst.Attribute))
                else None
            )
            if not isinstance(cls, ClassFacts) or not self.is_module_class(cls):
                return None
            values.append(
                Value(
                    K.MODEL, qual=cls.name, origin=el.value, module=found[0].scope.module, cls=cls, scope=found[0].scope
                )
            )
        return _same(values)

    def _returns_value(self, fn: Scope, depth: int, seen: Set[int]) -> Optional[Value]:
        rets: List[Value] = []
        for stmt_value in return_values(fn):
            v = self._value(stmt_value, fn, depth + 1, seen)
            if v is None:
                return None
            rets.append(v)
        return _same(rets)

    def _name_value(self, node: cst.Name, scope: Scope, depth: int, seen: Set[int]) -> Optional[Value]:
        owner, found = visible(scope, node)
        if owner is None:
            return None
        if found:
            # `net = net.train()` in a loop reaches itself: the other assignments say what it is.
            found = [b for b in found if not (b.index is None and _moves_itself(b.value, node.value))] or found
            value = self._bindings_value(found, depth, seen)
            if value is None and _name_used_as_model(owner, node.value, found):
                return Value(K.MODEL, guess=True)
            return value
        return self._param_value(owner, node.value, depth, seen)

    def _param_attr_value(self, scope: Scope, name: str, key: str, depth: int, seen: Set[int]) -> Optional[Value]:
        """`pl_module.probe` read in one method, set in another method of the same class on a
        parameter of the same name (`pl_module.probe = Probe()` in a Lightning callback's setup
        hook, read in its batch hooks): the object those methods are all handed."""
        cls = scope.cls
        if cls is None or name not in scope.params or name == "self":
            return None
        binds = [b for m in cls.methods.values() if name in m.params for b in m.bindings.get(key, [])]
        return self._bindings_value(binds, depth, seen) if binds else None

    def _attr_value(self, cls: ClassFacts, key: str, depth: int, seen: Set[int]) -> Optional[Value]:
        c: Optional[ClassFacts] = cls
        hops = 0
        chain: List[ClassFacts] = []
        while c is not None and hops < 6:
            chain.append(c)
            if key in c.attrs:
                # `self.loss = self.loss.cuda()` keeps what the other assignments made
                bindings = [b for b in c.attrs[key] if not _moves_itself(b.value, key)] or c.attrs[key]
                found = self._bindings_value(bindings, depth, seen)
                if found is None and any(_attr_used_as_model(k, key) for k in chain):
                    return Value(K.MODEL, guess=True)
                return found
            declared = _field_annotation(c, key[len("self.") :])
            if declared is not None:
                return self.annotated(declared, c.module.toplevel)
            bases = self.project.base_classes(c)
            c = bases[0] if bases else None
            hops += 1
        return None

    def _bindings_value(self, bindings: List[Binding], depth: int, seen: Set[int]) -> Optional[Value]:
        values: List[Value] = []
        # `x = None` beside real definitions (an optional object) and a model reloaded from
        # a checkpoint after training say nothing about what the name held while it was used.
        informative = [b for b in bindings if not uninformative(b)]
        # `if distributed: sampler = DistributedSampler(ds) else: sampler = RandomSampler(ds)`: as
        # for the arms of a conditional expression, a torch object with no kind is another kind
        # of object, so the other assignments decide.
        tracked = [
            b
            for b in informative
            if not (b.how == "assign" and b.index is None and _untracked_torch_call(b.value, b.scope.module))
        ]
        if tracked:
            informative = tracked
        if len(informative) > 1:
            # Nor does one in an arm that never runs: `if False:`, or `elif model_name ==
            # "R2Plus1D":` under a module constant `model_name = "C3D"` (`branches.py`).
            informative = [b for b in informative if not in_dead_code(b.scope, b.stmt or b.value)] or informative
        for b in informative or bindings:
            v = self._binding_value(b, depth, seen)
            if v is None:
                return None
            values.append(v)
        return _same(values)

    def _elements(self, expr: cst.BaseExpression, scope: Scope, depth: int, seen: Set[int]) -> List[Optional[Value]]:
        """What each element of a list or tuple holds: a literal, a comprehension (its one
        template element), or a name bound to those."""
        if depth > _MAX_DEPTH:
            return []
        if isinstance(expr, (cst.List, cst.Tuple)):
            if any(isinstance(el, cst.StarredElement) for el in expr.elements):
                return []
            return [self._value(el.value, scope, depth + 1, seen) for el in expr.elements]
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
            return [self._value(expr.elt, scope, depth + 1, seen)]
        if isinstance(expr, cst.Name):
            owner, found = visible(scope, expr)
            if owner is None or len(found) != 1 or found[0].index is not None or found[0].how != "assign":
                return []
            return self._elements(found[0].value, found[0].scope, depth + 1, seen)
        return []

    def _binding_value(self, b: Binding, depth: int, seen: Set[int]) -> Optional[Value]:
        if b.how == "for":
            # `for opt in optimizers:` each element, when they all are of one kind
            elements = self._elements(b.value, b.scope, depth + 1, seen) if b.index is None else []
            return _same(elements) if elements and all(elements) else None  # type: ignore[arg-type]
        if b.index is None:
            v = self._value(b.value, b.scope, depth + 1, seen)
            if v is None:
                v = self._rebound_model(b, depth, seen)
            return v
        value = b.value
        if isinstance(value, (cst.Tuple, cst.List)) and b.index < len(value.elements):
            el = value.elements[b.index].value
            return self._value(el, b.scope, depth + 1, seen)
        if isinstance(value, cst.Call) and b.scope.module.qualify(value.func) == "deepspeed.initialize":
            # engine, optimizer, dataloader, scheduler = deepspeed.initialize(model=..., optimizer=...)
            keyword = ("model", "optimizer", "training_data", "lr_scheduler")[b.index] if b.index < 4 else None
            arg = next((a.value for a in value.args if a.keyword is not None and a.keyword.value == keyword), None)
            return self._value(arg, b.scope, depth + 1, seen) if arg is not None else None
        if (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value in ("prepare", "setup", "initialize")
        ):
            if b.index < len(value.args):
                return self._value(value.args[b.index].value, b.scope, depth + 1, seen)
        handle = lightning_handles_call(value, b.scope) if isinstance(value, cst.Call) else None
        if handle is not None:
            return _LIGHTNING_HANDLES[handle]  # `opt_g, opt_d = self.optimizers()`
        if isinstance(value, cst.Call):
            callee = self.project.resolve_callee(value.func, b.scope)
            if isinstance(callee, Scope):
                returned = return_values(callee)
                tuples = [rv for rv in returned if isinstance(rv, cst.Tuple) and b.index < len(rv.elements)]
                vals: List[Value] = []
                for rv in tuples:
                    el = rv.elements[b.index].value
                    if isinstance(el, cst.Name) and el.value == "None":
                        continue  # `return model, None` when not training: the optimizer is optional
                    v = self._value(el, callee, depth + 1, seen)
                    if v is None:
                        return None
                    vals.append(v)
                # (`get_model(train=True)` returns `model, optim`, and `model` alone otherwise: a
                # return that cannot be unpacked into this binding is another mode's)
                if not tuples or any(not isinstance(rv, cst.Tuple) and not isinstance(rv, cst.Name) for rv in returned):
                    return None
                return _same(vals) if vals else None
        return None

    def _rebound_model(self, b: Binding, depth: int, seen: Set[int]) -> Optional[Value]:
        """`model = drop_layers(model, n)`, `net = wrap(net)`: a model handed to a function whose
        result is unknown and bound back to the model's own name is taken to be that model
        (pruned, wrapped, patched), the same convention as `model = model.to(dev)`."""
        value, stmt = b.value, b.stmt
        if not (isinstance(value, cst.Call) and value.args and isinstance(stmt, cst.Assign)):
            return None
        first = value.args[0]
        if first.keyword is not None or first.star or not isinstance(first.value, cst.Name):
            return None
        targets = stmt.targets
        if len(targets) != 1 or not isinstance(targets[0].target, cst.Name):
            return None
        if targets[0].target.value != first.value.value:
            return None
        v = self._value(first.value, b.scope, depth + 1, seen)
        return v if v is not None and v.kind == K.MODEL else None

    def _param_value(self, fn: Scope, name: str, depth: int, seen: Set[int]) -> Optional[Value]:
        idx = fn.params.index(name)
        is_method = C.is_method(fn)
        if is_method and idx == 0:
            return None
        if is_method and idx == 1 and name == "model" and fn.simple_name in HF_TRAINER_MODEL_HOOKS:
            given = self._hf_trainer_model(fn, depth, seen)
            if given is not None:
                return given
        values: List[Value] = []
        callers = self.project.callers(fn)
        made = self._instantiations(fn) if is_method and fn.simple_name == "__init__" else []
        made_ids = {id(call) for _, call in made}
        for caller_scope, call in [*callers, *made]:
            if id(call) in made_ids:
                # `Trainer(model, ...)` passes `model` to `__init__(self, model, ...)`
                arg = C.bind(call, fn, name, True)
            else:
                arg = C.bind(call, fn, name, isinstance(call.func, cst.Attribute))
            if arg is None:
                default = fn.param_nodes[idx].default
                if default is None:
                    return None
                arg, caller_scope = default, fn
            if is_none(arg):
                # `resume(path, model)` leaving `scheduler=None`: says nothing about what the
                # other callers pass (as `x = None` beside a real binding)
                continue
            v = self._value(arg, caller_scope, depth + 1, seen)
            if v is None:  # a caller passes something we cannot see
                return self._declared(fn, idx) or self._usage_guess(fn, name, by_name=False)
            values.append(v)
        agreed = _same(values)
        if agreed is not None:
            return agreed
        if callers or made:
            return None
        default = fn.param_nodes[idx].default
        if default is not None and not is_none(default):
            # no caller in sight (built from a config or a registry): what runs is the default
            v = self._value(default, fn, depth + 1, seen)
            if v is not None:
                return v
        declared = self._declared(fn, idx)
        if declared is not None:
            return declared
        guess = K.guess_kind_from_name(name)
        return Value(guess, guess=True) if guess else self._usage_guess(fn, name)

    def _declared(self, fn: Scope, idx: int) -> Optional[Value]:
        ann = fn.param_nodes[idx].annotation if idx < len(fn.param_nodes) else None
        return self.annotated(ann.annotation, fn) if ann is not None else None

    def annotated(self, ann: cst.BaseExpression, scope: Scope) -> Optional[Value]:
        """What a type annotation declares: `nn.Module`, an optimizer, a loader, a library model,
        a project class (`Optional[X]` and `X | None` are X). The object itself is unseen, so
        the value has no origin."""
        ann = _unwrap_optional(ann)
        mod = scope.module
        qual = mod.qualify(ann)
        kind = K.declared_kind(qual)
        if kind is not None:
            return Value(kind, qual=qual, module=mod)
        callee = self.project.resolve_callee(ann, scope) if isinstance(ann, (cst.Name, cst.Attribute)) else None
        if isinstance(callee, ClassFacts):
            if self.is_module_class(callee):
                return Value(K.MODEL, qual=callee.name, module=mod, cls=callee)
            return Value(K.OBJECT, qual=callee.name, module=mod, cls=callee)
        return None

    @staticmethod
    def _usage_guess(fn: Scope, name: str, by_name: bool = True) -> Optional[Value]:
        """A model known only by what the function does with it (a guess): put in a mode, asked
        for its parameters, or (`by_name`: a helper with no caller in sight, given its model by
        its user) named as a model and called on data."""
        if _used_as_model(fn, name) or (by_name and named_as_model(name) and _called(fn, name)):
            return Value(K.MODEL, guess=True)
        return None

    def _hf_trainer_model(self, fn: Scope, depth: int, seen: Set[int]) -> Optional[Value]:
        """`compute_loss(self, model, inputs)` of a Hugging Face `Trainer` subclass: the Trainer
        passes the model it was built with (`MyTrainer(model=net, ...)`), by every construction."""
        cls = fn.cls
        if cls is None or not is_hf_trainer(cls):
            return None
        values: List[Value] = []
        for s, call, callee in self.project.resolved_calls():
            if callee is not cls:
                continue
            arg = C.arg(call, 0, "model")
            v = self._value(arg, s, depth + 1, seen) if arg is not None else None
            if v is None:
                return None
            values.append(v)
        return _same(values)

    def _instantiations(self, init: Scope) -> List[Tuple[Scope, cst.Call]]:
        """Calls that build an instance of a project class and so run its `__init__`."""
        if self._made is None:
            index: Dict[int, List[Tuple[Scope, cst.Call]]] = {}
            for s, call, callee in self.project.resolved_calls():
                if isinstance(callee, ClassFacts):
                    target = self.project.method_of(callee, "__init__")
                    if target is not None:
                        index.setdefault(id(target), []).append((s, call))
            self._made = index
        return self._made.get(id(init), [])


# Calls that load a saved object: rebinding a name to one after training does not change what
# the name held while it trained.
_RESTORES = {"torch.load", "torch.jit.load", "pickle.load", "joblib.load", "dill.load"}


def _unwrap_optional(ann: cst.BaseExpression) -> cst.BaseExpression:
    """X of `Optional[X]` and of `X | None`."""
    if isinstance(ann, cst.Subscript) and dotted(ann.value) in ("Optional", "typing.Optional") and len(ann.slice) == 1:
        inner = ann.slice[0].slice
        if isinstance(inner, cst.Index):
            return inner.value
    if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
        if is_none(ann.right):
            return ann.left
        if is_none(ann.left):
            return ann.right
    return ann


def _field_annotation(cls: ClassFacts, name: str) -> Optional[cst.BaseExpression]:
    """`name: X` declared in the class body (a dataclass field, a typed attribute)."""
    for stmt in cls.node.body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if (
                    isinstance(small, cst.AnnAssign)
                    and isinstance(small.target, cst.Name)
                    and small.target.value == name
                ):
                    return small.annotation.annotation
    return None


def optimizer_by_name(call: cst.Call, mod: ModuleFacts) -> bool:
    """`getattr(torch.optim, args.optim)`: an optimizer class chosen by its name."""
    return (
        isinstance(call.func, cst.Name)
        and call.func.value == "getattr"
        and len(call.args) >= 2
        and mod.qualify(call.args[0].value) in ("torch.optim", "optim")
    )


def is_none(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def uninformative(b: Binding) -> bool:
    if b.how != "assign" or b.index is not None:
        return False
    if is_none(b.value):
        return True
    return isinstance(b.value, cst.Call) and b.scope.module.qualify(b.value.func) in _RESTORES


# Calls that only a model answers (a tensor has none of them, an optimizer none but zero_grad).
_MODEL_METHODS = frozenset(
    {"eval", "train", "parameters", "named_parameters", "state_dict", "load_state_dict", "modules"}
)


def _used_as_model(fn: Scope, name: str) -> bool:
    """A parameter with no visible caller that the function puts in eval/train mode or asks for
    its parameters: a model, by what is done with it (a guess: rules lower their confidence).
    A constructor's parameter kept as `self.x = name` counts by what the class's methods do
    with `self.x`."""
    if _calls_model_method(fn, name):
        return True
    if fn.cls is None or fn.simple_name != "__init__":
        return False
    kept = [
        key
        for key, bindings in fn.cls.attrs.items()
        if any(b.scope is fn and isinstance(b.value, cst.Name) and b.value.value == name for b in bindings)
    ]
    return any(_calls_model_method(m, key) for key in kept for m in fn.cls.methods.values())


# Calls that only a model answers, of those a trainer or a runner object does not have too
# (`self.trainer.train()`).
_STRICT_MODEL_METHODS = frozenset({"eval", "parameters", "named_parameters", "modules"})


def _attr_used_as_model(cls: ClassFacts, key: str) -> bool:
    """`self.module_` built by a factory or a config (no binding we can read), which the class's
    methods (a subclass's too, the class that reads it) put in eval mode or ask for its
    parameters, or wrap in `nn.DataParallel` (`self.model = nn.DataParallel(self.model)`): a
    model, by what is done with it."""
    wrapped = any(
        isinstance(b.value, cst.Call) and (cls.module.qualify(b.value.func) or "") in _DATA_PARALLEL
        for b in cls.attrs.get(key, ())
    )
    return wrapped or any(
        isinstance(c.func, cst.Attribute)
        and c.func.attr.value in _STRICT_MODEL_METHODS
        and (c.func.attr.value != "eval" or not c.args)
        and dotted(c.func.value) == key
        for m in cls.methods.values()
        for c in m.calls
    )


_DATA_PARALLEL = frozenset(
    {
        "torch.nn.DataParallel",
        "torch.nn.parallel.DataParallel",
        "torch.nn.parallel.DistributedDataParallel",
        "torch.nn.parallel.distributed.DistributedDataParallel",
    }
)


def named_as_model(name: str) -> bool:
    """`model`, `net`, `task_model`, `seg_net`: a parameter named for the model it receives."""
    low = name.lower()
    return low in ("model", "net", "network") or low.endswith(("_model", "_net", "_network"))


def _called(fn: Scope, name: str) -> bool:
    """`name(...)` is called in the function (a forward pass, when `name` is a model)."""
    return any(isinstance(c.func, cst.Name) and c.func.value == name for c in fn.calls)


def _name_used_as_model(owner: Scope, name: str, bindings: List[Binding]) -> bool:
    """A name built by calls we cannot resolve (`net = Detector(...)` with the class picked from
    a module imported by name, `model = build(cfg)` from a package out of sight) that its code
    puts in eval mode or asks for its parameters, or that is named for a model and called: a
    model, by what is done with it (a guess). A module-level name counts the whole module's
    code, a local one its function's."""
    if not all(b.how == "assign" and isinstance(b.value, cst.Call) for b in bindings):
        return False
    module = owner.module
    whole, local = module.memo(_model_receivers, lambda: _model_receivers(module))
    # (`model = build(cfg)`, then `model(batch)`: named for a model and called on data; `Model =
    # registry[name]` is a class, called to build one)
    named = named_as_model(name) and not name[:1].isupper() and _imports_torch(module)
    if owner.name != "<module>":
        return name in local.get(id(owner), ()) or (named and _called(owner, name))
    return name in whole or (named and name in module.memo(_called_names, lambda: _called_names(module)))


def _imports_torch(module: ModuleFacts) -> bool:
    """The module imports torch, or names it (brought by a star import): a `model` called in
    a TensorFlow or MXNet script is none of ours."""
    return any(q == "torch" or q.startswith("torch.") for q in module.imports.alias.values()) or (
        bool(module.imports.stars) and "torch." in module.text
    )


def _called_names(module: ModuleFacts) -> Set[str]:
    """The plain names called anywhere in the module (`model(x)`)."""
    return {c.func.value for sc in module.scopes for c in sc.calls if isinstance(c.func, cst.Name)}


def _model_receivers(module: ModuleFacts) -> Tuple[Set[Optional[str]], Dict[int, Set[Optional[str]]]]:
    """Every name of the module that gets `.eval()`/`.parameters()`..., and per scope those that
    get it without arguments."""
    whole: Set[Optional[str]] = set()
    local: Dict[int, Set[Optional[str]]] = {}
    for sc in module.scopes:
        for c in sc.calls:
            if isinstance(c.func, cst.Attribute) and c.func.attr.value in _STRICT_MODEL_METHODS:
                whole.add(dotted(c.func.value))
                if not c.args:
                    local.setdefault(id(sc), set()).add(dotted(c.func.value))
    return whole, local


def _calls_model_method(fn: Scope, receiver: str) -> bool:
    return any(
        isinstance(c.func, cst.Attribute) and c.func.attr.value in _MODEL_METHODS and dotted(c.func.value) == receiver
        for c in fn.calls
    )
