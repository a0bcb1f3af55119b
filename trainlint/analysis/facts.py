"""One pass over a parsed module: imports, classes, functions, bindings and call sites.

Everything the rules ask about a module is read from these facts; the rules never walk
the tree for their own purposes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

import libcst as cst

from trainlint.analysis.names import ImportTable, dotted
from trainlint.analysis.walk import children

T = TypeVar("T")

# The key under which `self.add_module(name, layer)` records a layer whose name is computed
# at run time: no attribute access can reach it, but it is one of the model's layers.
DYNAMIC_SUBMODULE = "self.<add_module>"


@dataclass
class Binding:
    """`target = value`; `index` is set when the target is one element of a tuple unpack."""

    value: cst.BaseExpression
    scope: Scope
    index: Optional[int] = None
    # `for x in loader` binds x to an element of loader; `with X as y` binds y to X's result.
    how: str = "assign"  # "assign" | "for" | "with" | "param-default"
    stmt: Optional[cst.CSTNode] = None


@dataclass(eq=False)
class Scope:
    """A function body, or a module's top-level code."""

    name: str  # "main", "Trainer.fit", "<module>"
    node: Union[cst.FunctionDef, cst.Module]
    module: ModuleFacts
    cls: Optional[ClassFacts] = None
    params: List[str] = field(default_factory=list)
    param_nodes: List[cst.Param] = field(default_factory=list)
    bindings: Dict[str, List[Binding]] = field(default_factory=dict)
    local_defs: Dict[str, cst.FunctionDef] = field(default_factory=dict)
    calls: List[cst.Call] = field(default_factory=list)
    # `outs[t] = o`: values stored into an element of a name (a preallocated buffer).
    stores: Dict[str, List[Binding]] = field(default_factory=dict)
    # `obj.attr = value` for any receiver (`self.x` included): (target, value, statement).
    attr_assigns: List[Tuple[cst.Attribute, cst.BaseExpression, cst.CSTNode]] = field(default_factory=list)
    decorators: List[str] = field(default_factory=list)
    parent: Optional[Scope] = None

    @property
    def body(self) -> Sequence[cst.BaseStatement]:
        if isinstance(self.node, cst.Module):
            return self.node.body
        body = self.node.body
        if isinstance(body, cst.IndentedBlock):
            return body.body
        return [body]  # type: ignore[list-item]

    @property
    def simple_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(eq=False)
class ClassFacts:
    name: str
    node: cst.ClassDef
    module: ModuleFacts
    bases: List[cst.BaseExpression] = field(default_factory=list)
    methods: Dict[str, Scope] = field(default_factory=dict)
    # "self.x" assignments from every method of the class.
    attrs: Dict[str, List[Binding]] = field(default_factory=dict)

    def init_params_of(self, key: str) -> Optional[List[str]]:
        """The `__init__` parameters that each assignment of the attribute `key` ("self.x")
        stores (`self.flag = flag`), one per assignment; None unless every assignment is such."""
        init = self.methods.get("__init__")
        bindings = self.attrs.get(key, [])
        if init is None or not bindings:
            return None
        params = [b.value.value for b in bindings if b.scope is init and isinstance(b.value, cst.Name)]
        return params if len(params) == len(bindings) and all(p in init.params for p in params) else None


@dataclass(eq=False)
class ModuleFacts:
    path: str
    module_name: str
    text: str
    tree: cst.Module
    imports: ImportTable
    toplevel: Scope = field(init=False)
    functions: Dict[str, Scope] = field(default_factory=dict)  # module-level functions
    classes: Dict[str, ClassFacts] = field(default_factory=dict)
    scopes: List[Scope] = field(default_factory=list)  # every scope, module first
    # Facts of this module's own code, built once (`memo`), keyed by the function that asks.
    _memo: Dict[Callable[..., object], object] = field(default_factory=dict, repr=False)
    # The project this module is analysed in (set by `Project`; weak, so no reference cycle).
    _project: Optional[Callable[[], Any]] = field(default=None, repr=False)
    # id(expression) -> (expression, qualified name): rules ask about the same calls many
    # times. The entry holds the expression, so its id cannot be reused by another node.
    _qualified: Dict[int, Tuple[cst.BaseExpression, Optional[str]]] = field(default_factory=dict, repr=False)

    @property
    def project(self) -> Any:
        return self._project() if self._project is not None else None

    def memo(self, key: Callable[..., object], build: Callable[[], T]) -> T:
        """`build()` once for this module. Only facts of the module's own code belong here;
        what depends on other files lives with the run's project (`Project.memo`)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[return-value]

    def forget(self, key: Optional[Callable[..., object]] = None) -> None:
        """Drop the facts `key` built, or all of them (after an edit, or to save memory)."""
        if key is None:
            self._memo.clear()
        else:
            self._memo.pop(key, None)

    def qualify(self, expr: cst.BaseExpression) -> Optional[str]:
        hit = self._qualified.get(id(expr))
        if hit is not None and hit[0] is expr:
            return hit[1]
        qual = self.imports.qualify(expr)
        if qual is None and self.imports.stars:
            # `torch` brought in by `from utils import *`, where the project's `utils` imports it.
            project = self.project
            if project is None:
                return None  # (not kept: once in a project, the star's module can tell)
            qual = project.star_qualify(self, expr)
        self._qualified[id(expr)] = (expr, qual)
        return qual


def _target_keys(target: cst.BaseExpression) -> Optional[str]:
    if isinstance(target, cst.Name):
        return target.value
    d = dotted(target)
    if d is not None and d.startswith("self."):
        return d
    return None


class _Builder:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.scope_stack: List[Scope] = [facts.toplevel]
        # Innermost enclosing class or function: a def is a method only directly in a class.
        self.containers: List[Union[Scope, ClassFacts]] = [facts.toplevel]

    @property
    def scope(self) -> Scope:
        return self.scope_stack[-1]

    # imports
    def visit_Import(self, node: cst.Import) -> None:
        self.facts.imports.add_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.facts.imports.add_import_from(node)

    # classes and functions
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        cls = ClassFacts(
            name=node.name.value, node=node, module=self.facts, bases=[a.value for a in node.bases if a.keyword is None]
        )
        if self.containers[-1] is self.facts.toplevel:
            self.facts.classes[cls.name] = cls
        self.containers.append(cls)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.containers.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = self.scope
        container = self.containers[-1]
        cls = container if isinstance(container, ClassFacts) else None
        if cls is not None:
            name = f"{cls.name}.{node.name.value}"
        elif parent is self.facts.toplevel:
            name = node.name.value
        else:
            name = f"{parent.name}.<locals>.{node.name.value}"
        params = [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]
        decorators = []
        for dec in node.decorators:
            d = dotted(dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator)
            if d:
                decorators.append(d)
        scope = Scope(
            name=name,
            node=node,
            module=self.facts,
            cls=cls,
            params=[p.name.value for p in params],
            param_nodes=list(params),
            decorators=decorators,
            parent=parent,
        )
        if cls is not None:
            cls.methods[node.name.value] = scope
        elif container is self.facts.toplevel:
            self.facts.functions[node.name.value] = scope
        else:
            parent.local_defs[node.name.value] = node
        self.facts.scopes.append(scope)
        self.scope_stack.append(scope)
        self.containers.append(scope)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scope_stack.pop()
        self.containers.pop()

    # bindings
    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression, how: str, stmt: cst.CSTNode) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for i, el in enumerate(target.elements):
                inner = el.value
                if isinstance(inner, cst.StarredElement):
                    continue
                key = _target_keys(inner)
                if key:
                    self._record(key, Binding(value, self.scope, index=i, how=how, stmt=stmt))
            return
        key = _target_keys(target) or self._param_attr_key(target)
        if key:
            self._record(key, Binding(value, self.scope, how=how, stmt=stmt))

    def _param_attr_key(self, target: cst.BaseExpression) -> Optional[str]:
        """`pl_module.probe = ...` on a method's parameter (not `self`): kept, since the other
        methods of the class that are handed the same object may read it."""
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and self.scope.cls is not None
            and target.value.value in self.scope.params[1:]
        ):
            return f"{target.value.value}.{target.attr.value}"
        return None

    def _record(self, key: str, binding: Binding) -> None:
        container = self.containers[-1]
        if isinstance(container, ClassFacts) and "." not in key:
            # A class-body assignment (`criterion = nn.CrossEntropyLoss()`) is read as
            # `self.criterion` by the methods; it binds nothing in the enclosing scope.
            container.attrs.setdefault(f"self.{key}", []).append(binding)
            return
        if key.startswith("self.") and self.scope.cls is not None:
            self.scope.cls.attrs.setdefault(key, []).append(binding)
        self.scope.bindings.setdefault(key, []).append(binding)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            target = t.target
            if type(target) is cst.Attribute:
                self.scope.attr_assigns.append((target, node.value, node))
            if type(target) is cst.Subscript and type(target.value) is cst.Name:
                self.scope.stores.setdefault(target.value.value, []).append(Binding(node.value, self.scope, stmt=node))
                continue
            self._bind(target, node.value, "assign", node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            if type(node.target) is cst.Attribute:
                self.scope.attr_assigns.append((node.target, node.value, node))  # type: ignore[arg-type]
            self._bind(node.target, node.value, "assign", node)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, node.iter, "for", node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, node.item, "with", node)

    def visit_Call(self, node: cst.Call) -> None:
        self.scope.calls.append(node)
        # self.add_module("name", layer) declares a submodule like an assignment does.
        if dotted(node.func) == "self.add_module" and len(node.args) >= 2:
            first = node.args[0].value
            if isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
                self._record(f"self.{first.evaluated_value}", Binding(node.args[1].value, self.scope, stmt=node))
            else:  # a name computed at run time (`self.add_module(f"stage{i}", Block(...))`)
                self._record(DYNAMIC_SUBMODULE, Binding(node.args[1].value, self.scope, stmt=node))


def build_facts(path: str, module_name: str, text: str, tree: cst.Module) -> ModuleFacts:
    # A package's `__init__.py` is named for the package and is its own package for relative
    # imports (`from .model import Net` there means `pkg.model`).
    if os.path.basename(path) == "__init__.py":
        package = module_name
    else:
        package = module_name.rsplit(".", 1)[0] if "." in module_name else ""
    facts = ModuleFacts(path=path, module_name=module_name, text=text, tree=tree, imports=ImportTable(package))
    facts.toplevel = Scope(name="<module>", node=tree, module=facts)
    facts.scopes.append(facts.toplevel)
    builder = _Builder(facts)
    handlers: Dict[type, Callable[[Any], None]] = {
        cst.Import: builder.visit_Import,
        cst.ImportFrom: builder.visit_ImportFrom,
        cst.Assign: builder.visit_Assign,
        cst.AnnAssign: builder.visit_AnnAssign,
        cst.For: builder.visit_For,
        cst.WithItem: builder.visit_WithItem,
        cst.Call: builder.visit_Call,
    }
    leave = object()
    # Iterative pre-order walk; a marker after a def/class's children pops its scope.
    stack: List[object] = [tree]
    while stack:
        item = stack.pop()
        if item is leave:
            node = stack.pop()
            if isinstance(node, cst.FunctionDef):
                builder.leave_FunctionDef(node)
            else:
                builder.leave_ClassDef(node)  # type: ignore[arg-type]
            continue
        node = item  # type: ignore[assignment]
        t = type(node)
        if t is cst.FunctionDef:
            builder.visit_FunctionDef(node)  # type: ignore[arg-type]
            stack += [node, leave]
        elif t is cst.ClassDef:
            builder.visit_ClassDef(node)  # type: ignore[arg-type]
            stack += [node, leave]
        else:
            handler = handlers.get(t)
            if handler is not None:
                handler(node)  # type: ignore[operator]
        kids = children(node)  # type: ignore[arg-type]
        if kids:
            kids.reverse()
            stack.extend(kids)
    return facts


def module_calls(
    module: ModuleFacts, key: Callable[..., object], pick: Callable[[cst.Call, Scope], Optional[T]]
) -> List[T]:
    """What `pick` makes of each call of the module, in scope order (the calls it answers None
    for are left out); computed once per module and `key` (the function asking)."""
    return module.memo(
        key, lambda: [x for scope in module.scopes for call in scope.calls if (x := pick(call, scope)) is not None]
    )
