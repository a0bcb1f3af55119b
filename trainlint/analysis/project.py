"""The linted tree as one project: which file defines `models.Net`, who calls `train_one_epoch`."""

from __future__ import annotations

import os
import weakref
from typing import Callable, Dict, Hashable, List, Optional, Set, Tuple, TypeVar, Union

import libcst as cst

from trainlint.analysis import kinds as K
from trainlint.analysis.facts import ClassFacts, ModuleFacts, Scope
from trainlint.analysis.names import dotted

Symbol = Union[ClassFacts, Scope]


def module_name_for(path: str) -> str:
    """Dotted name from a path: `src/pkg/models.py` -> `src.pkg.models` (suffixes are matched later)."""
    norm = os.path.normpath(path)
    if norm.endswith(".py"):
        norm = norm[:-3]
    elif norm.endswith(".ipynb"):
        norm = norm[:-6]
    parts = [p for p in norm.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


T = TypeVar("T")

# Methods of `nn.Module` and tensors that classes override and code calls everywhere.
_MODULE_API = K.MOVE_METHODS | frozenset(
    {
        "forward",
        "type",
        "train",
        "eval",
        "parameters",
        "named_parameters",
        "buffers",
        "named_buffers",
        "children",
        "named_children",
        "modules",
        "named_modules",
        "state_dict",
        "load_state_dict",
        "zero_grad",
        "requires_grad_",
        "register_buffer",
        "register_parameter",
        "extra_repr",
        "reset_parameters",
        "size",
        "view",
        "reshape",
        "item",
        "tolist",
        "numpy",
        "detach",
        "clone",
        "sum",
        "mean",
        "add_",
        "mul_",
    }
)


class Project:
    """Index of every linted module, built once per run (linear in the number of files)."""

    def __init__(self, modules: List[ModuleFacts]) -> None:
        self.modules = modules
        me = weakref.ref(self)
        for m in modules:
            m._project = me
        # Every dotted suffix of a module's name points at it: "src.pkg.models", "pkg.models", "models".
        self._by_suffix: Dict[str, List[ModuleFacts]] = {}
        for m in modules:
            parts = m.module_name.split(".")
            for i in range(len(parts)):
                self._by_suffix.setdefault(".".join(parts[i:]), []).append(m)
        self._callers: Optional[Dict[int, List[Tuple[Scope, cst.Call]]]] = None
        self._resolved: Optional[List[Tuple[Scope, cst.Call, Symbol]]] = None
        self._callee_memo: Dict[Tuple[int, int], Tuple[cst.BaseExpression, Optional[Symbol]]] = {}
        # How many times typing a receiver was given up (nested typing): answers that saw it
        # happen depend on the order of the questions and are not memoised.
        self.cut_short = 0
        # Set by the resolver: the project class of the object an expression holds, so that
        # `runner.apply()` reaches `Runner.apply`.
        self.instance_class: Optional[Callable[[cst.BaseExpression, Scope], Optional[ClassFacts]]] = None
        # ... and the classes it may be of, one per arm of a choice between classes.
        self.instance_classes: Optional[Callable[[cst.BaseExpression, Scope], List[ClassFacts]]] = None
        self._method_names: Optional[Set[str]] = None
        self._call_classes: Optional[Set[str]] = None
        self._call_attrs: Optional[Set[str]] = None
        # Per-run memoised facts (`memo`, `once`): they live and die with the project, where a
        # module-level dictionary would keep them alive.
        self._memo: Dict[Hashable, object] = {}
        # `obj.method()` calls by method name, and those already typed (callee id -> sites).
        self._typed: Dict[str, List[Tuple[Scope, cst.Call]]] = {}
        self._typed_done: Dict[str, Dict[int, List[Tuple[Scope, cst.Call]]]] = {}
        self._instantiations: Optional[Dict[int, List[Tuple[Scope, cst.Call]]]] = None

    def memo(self, key: Callable[..., object], module: ModuleFacts, build: Callable[[], T]) -> T:
        """`build()` once per run for `module`. Facts that depend on the whole project (what a
        name resolves to across files) live here, with the run's project, never on the module,
        which another project (an editor's next run) may share. `key` is the function that
        computes them."""
        k = (key, id(module))
        if k not in self._memo:
            self._memo[k] = build()
        return self._memo[k]  # type: ignore[return-value]

    def once(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()` once per run, for facts about the whole project. `key` is the function that
        computes them, in a tuple with its arguments where they vary."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[return-value]

    def find_module(self, dotted_name: str, near: Optional[ModuleFacts] = None) -> Optional[ModuleFacts]:
        cands = self._by_suffix.get(dotted_name)
        if cands and near is not None and len(cands) > 1:
            # (`from model import Net` in `utils/model.py` names the package `model/`, not itself)
            cands = [c for c in cands if c is not near]
        if not cands:
            return None
        if len(cands) == 1:
            return cands[0]
        if near is not None:
            here = os.path.dirname(near.path)
            same_dir = [c for c in cands if os.path.dirname(c.path) == here]
            if len(same_dir) == 1:
                return same_dir[0]
        return None  # ambiguous: know less rather than guess

    def lookup(self, qual: str, near: Optional[ModuleFacts] = None, depth: int = 0) -> Optional[Symbol]:
        """A class or function of the project for a qualified name like `models.Net`, also
        through a module that re-exports it (`from .unet import UNet` in a package's
        `__init__.py`, or a `from parts import *`)."""
        parts = qual.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            mod = self.find_module(".".join(parts[:cut]), near)
            if mod is None:
                continue
            rest = parts[cut:]
            found = self._member(mod, rest)
            if found is None and depth < 4:
                found = self._reexported(mod, rest, depth)
            return found
        return None

    def _reexported(self, mod: ModuleFacts, rest: List[str], depth: int) -> Optional[Symbol]:
        if rest[0] in mod.classes or rest[0] in mod.functions:
            return None  # defined here (a method we do not know): not an import
        target = mod.imports.alias.get(rest[0])
        if target is not None:
            return self.lookup(".".join([target, *rest[1:]]), mod, depth + 1)
        for star in mod.imports.stars:
            found = self.lookup(".".join([star, *rest]), mod, depth + 1)
            if found is not None:
                return found
        return None

    def star_qualify(self, mod: ModuleFacts, expr: cst.BaseExpression) -> Optional[str]:
        """`nn.Module` in a module that has `nn` from `from .parts import *`, where the project
        module `parts` imports `torch.nn as nn`: the name as that module qualifies it."""
        d = dotted(expr)
        if d is None or not mod.imports.stars:
            return None
        q = self._through_stars(mod, d, {id(mod)})
        if q is not None:
            return q
        # (`torch.no_grad()` with no `import torch` in the module: a star import out of sight,
        # or one that re-exports what it imported itself, is the only way it can be there)
        return d if d.split(".", 1)[0] == "torch" and "." in d else None

    def _through_stars(self, mod: ModuleFacts, d: str, seen: Set[int]) -> Optional[str]:
        """`d` as a module that `mod` star-imports qualifies it, also through that module's own
        star imports (`from util import *` where `util` has `from models.resnet import *`)."""
        for star in mod.imports.stars:
            src = self.find_module(star, mod)
            if src is None or id(src) in seen or len(seen) > 8:
                continue
            seen.add(id(src))
            q = src.imports.qualify_dotted(d)
            if q is None and src.imports.stars:
                q = self._through_stars(src, d, seen)
            if q is not None:
                return q
        return None

    def from_star_import(self, name: str, mod: ModuleFacts) -> Optional[Symbol]:
        """A class or function that `from x import *` brings into `mod` as `name`."""
        for star in mod.imports.stars:
            found = self.lookup(f"{star}.{name}", mod, 1)
            if found is not None:
                return found
        return None

    @staticmethod
    def _member(mod: ModuleFacts, rest: List[str]) -> Optional[Symbol]:
        if len(rest) == 1:
            return mod.classes.get(rest[0]) or mod.functions.get(rest[0])
        if len(rest) == 2 and rest[0] in mod.classes:
            return mod.classes[rest[0]].methods.get(rest[1])
        return None

    def resolve_callee(self, func: cst.BaseExpression, scope: Scope) -> Optional[Symbol]:
        """The project class or function a call's `func` names, if any."""
        key = (id(func), id(scope))
        hit = self._callee_memo.get(key)
        if hit is not None and hit[0] is func:
            return hit[1]
        self._callee_memo[key] = (func, None)  # re-entered while typing the receiver: unknown
        before = self.cut_short
        found = self._resolve_callee(func, scope)
        if self.cut_short != before and found is None:
            # Unknown only because typing a receiver was cut short (nested in another typing):
            # asked again from elsewhere, it may resolve, so the answer is not kept.
            del self._callee_memo[key]
            return None
        # The entry keeps `func` alive, so its id cannot be reused by another node.
        self._callee_memo[key] = (func, found)
        return found

    def _resolve_callee(self, func: cst.BaseExpression, scope: Scope) -> Optional[Symbol]:
        mod = scope.module
        if isinstance(func, cst.Name):
            name = func.value
            s: Optional[Scope] = scope
            while s is not None:
                if name in s.local_defs:
                    for cand in mod.scopes:
                        if cand.node is s.local_defs[name]:
                            return cand
                s = s.parent
            if name in mod.functions:
                return mod.functions[name]
            if name in mod.classes:
                return mod.classes[name]
            if mod.imports.stars and mod.imports.qualify_dotted(name) is None and not _bound_in(scope, name):
                return self.from_star_import(name, mod)
        d = dotted(func)
        if d is None:
            return None
        if d.startswith("self.") and d.count(".") == 1:
            cls = enclosing_class(scope)
            if cls is not None:
                return self.method_of(cls, d[5:])
            return None
        qual = mod.qualify(func)
        if qual is not None:
            return self.lookup(qual, mod)
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            owner = self.resolve_callee(func.value, scope)
            if isinstance(owner, ClassFacts):
                return self.method_of(owner, func.attr.value)  # `EqualLR.apply(module, name)`: a static method
        if (
            isinstance(func, cst.Attribute)
            and self.instance_class is not None
            and func.attr.value in self.method_names()
        ):
            cls = self.instance_class(func.value, scope)
            if cls is not None and not (func.attr.value in _MODULE_API and self.is_torch_module(cls)):
                return self.method_of(cls, func.attr.value)
        return self._called_instance(func, scope)

    def _called_instance(self, func: cst.BaseExpression, scope: Scope) -> Optional[Symbol]:
        """`loss_scaler(loss, optimizer)`: an instance of a project class that is not a module
        (a module's call is its forward), called through its `__call__`."""
        if self.instance_class is None or not self._callable_classes():
            return None
        if isinstance(func, cst.Attribute) and func.attr.value not in self._callable_attrs():
            return None  # (`x.dim()`: no attribute of that name is built from a callable class)
        cls = self.instance_class(func, scope)
        if cls is None or cls.name not in self._callable_classes() or self.is_torch_module(cls):
            return None
        return self.method_of(cls, "__call__")

    def _callable_classes(self) -> Set[str]:
        """Names of the project classes that define `__call__` (a cheap filter)."""
        if self._call_classes is None:
            self._call_classes = {c.name for m in self.modules for c in m.classes.values() if "__call__" in c.methods}
        return self._call_classes

    def _callable_attrs(self) -> Set[str]:
        """Names of the attributes that some class of the project sets to an instance of a
        class with `__call__` (`self.scaler = NativeScaler()`): the only attributes whose call
        (`trainer.scaler(loss, opt)`) can run such an instance."""
        if self._call_attrs is None:
            names = self._callable_classes()
            self._call_attrs = {
                key.rsplit(".", 1)[-1]
                for m in self.modules
                for c in m.classes.values()
                for key, bindings in c.attrs.items()
                if any(
                    isinstance(b.value, cst.Call) and (dotted(b.value.func) or "").rsplit(".", 1)[-1] in names
                    for b in bindings
                )
            }
        return self._call_attrs

    def is_torch_module(self, cls: ClassFacts) -> bool:
        """A subclass of `nn.Module` (or of a Lightning module): its `train()` is the mode switch."""
        return any(q.startswith(("torch.nn.", "pytorch_lightning.", "lightning.")) for q in self.base_quals(cls))

    def method_names(self) -> Set[str]:
        """Every method name defined by a project class (a cheap filter before typing a
        receiver), less private names and the `nn.Module`/tensor API that module classes
        override (`forward`, `to`, `state_dict`...): calls of those are read as what they are.
        A class that is not a module (a trainer, a solver) keeps its `train`/`eval` methods."""
        if self._method_names is None:
            names: Set[str] = set()
            for m in self.modules:
                for c in m.classes.values():
                    # (a runner's own `train(loader)` is a method to follow, a module's is not)
                    public = [n for n in c.methods if not n.startswith("_")]
                    if any(n in _MODULE_API for n in public) and self.is_torch_module(c):
                        public = [n for n in public if n not in _MODULE_API]
                    names.update(public)
            self._method_names = names
        return self._method_names

    def method_of(self, cls: ClassFacts, name: str, depth: int = 0) -> Optional[Scope]:
        if name in cls.methods:
            return cls.methods[name]
        if depth > 5:
            return None
        for base in self.base_classes(cls):
            found = self.method_of(base, name, depth + 1)
            if found is not None:
                return found
        return None

    def base_classes(self, cls: ClassFacts) -> List[ClassFacts]:
        out = []
        for b in cls.bases:
            sym = self.resolve_callee(b, cls.module.toplevel)
            if isinstance(sym, ClassFacts) and sym is not cls:
                out.append(sym)
        return out

    def class_family(self, cls: ClassFacts) -> List[ClassFacts]:
        """The class and its first project bases, nearest first (`FPS_YOLO(YOLO)` uses the
        `self.net` that `YOLO` builds), at most six."""
        family = [cls]
        while len(family) < 6:
            bases = self.base_classes(family[-1])
            if not bases or any(b is c for b in bases for c in family):
                break
            family.append(bases[0])
        return family

    def base_quals(self, cls: ClassFacts, depth: int = 0) -> List[str]:
        """Qualified names of the external bases of a class and of its project ancestors."""
        out: List[str] = []
        for b in cls.bases:
            q = cls.module.qualify(b) or self.star_qualify(cls.module, b)
            if q:
                out.append(q)
        if depth < 5:
            for base in self.base_classes(cls):
                out.extend(self.base_quals(base, depth + 1))
        return out

    def callers(self, fn: Scope) -> List[Tuple[Scope, cst.Call]]:
        """Every call site in the project whose callee resolves to `fn` (for a method, also the
        `obj.method()` calls whose receiver is typed to its class)."""
        if self._callers is None:
            index: Dict[int, List[Tuple[Scope, cst.Call]]] = {}
            for s, call, callee in self.resolved_calls():
                if isinstance(callee, Scope):
                    index.setdefault(id(callee), []).append((s, call))
            self._callers = index
        found = self._callers.get(id(fn), [])
        if fn.cls is not None and fn.simple_name in self._typed:
            found = found + self._typed_callers(fn)
        if fn.cls is not None:
            found = found + self._template_callers(fn)
        return found

    def _template_callers(self, fn: Scope) -> List[Tuple[Scope, cst.Call]]:
        """`self.m()` calls in the methods of a base class that does not define `m` itself:
        the base's algorithm calls the subclass's step (a trainer's `fit` calling
        `self._valid_epoch()` that each subclass implements, or that the base declares with a
        stub body such as `raise NotImplementedError`)."""
        cls, name = fn.cls, fn.simple_name
        assert cls is not None
        out: List[Tuple[Scope, cst.Call]] = []
        seen: Set[int] = {id(cls)}
        todo = self.base_classes(cls)
        while todo and len(seen) < 8:
            base = todo.pop()
            if id(base) in seen:
                continue
            seen.add(id(base))
            if name in base.methods and not _stub(base.methods[name]):
                continue  # the base's own `m`: calls there resolve to it (unless it only marks the slot)
            for m in base.methods.values():
                out += [(m, c) for c in m.calls if dotted(c.func) == f"self.{name}"]
            todo += self.base_classes(base)
        return out

    def _typed_callers(self, fn: Scope) -> List[Tuple[Scope, cst.Call]]:
        """`obj.method()` calls that reach `fn`, typed only when a method of that name is asked
        about (typing a receiver costs a value resolution)."""
        name = fn.simple_name
        done = self._typed_done.get(name)
        if done is None:
            self._typed_done[name] = {}  # asked again while typing: the static callers only
            resolved: Dict[int, List[Tuple[Scope, cst.Call]]] = {}
            before = self.cut_short
            for s, call in self._typed[name]:
                callee = self.resolve_callee(call.func, s)
                if isinstance(callee, Scope):
                    resolved.setdefault(id(callee), []).append((s, call))
                elif callee is None:
                    for method in self._methods_of_a_choice(call, s, name):
                        resolved.setdefault(id(method), []).append((s, call))
            done = resolved
            if self.cut_short == before:
                self._typed_done[name] = resolved
            else:
                # A receiver's typing was cut short (asked while typing another): some calls
                # may be missing, so the index is built again when asked from elsewhere.
                del self._typed_done[name]
        return done.get(id(fn), [])

    def _methods_of_a_choice(self, call: cst.Call, scope: Scope, name: str) -> List[Scope]:
        """`trainer.sample(x)` where `trainer` is one of several project classes (built in the
        arms of an `if`): the method `name` of each."""
        if self.instance_classes is None or not isinstance(call.func, cst.Attribute):
            return []
        classes = self.instance_classes(call.func.value, scope)
        if len(classes) < 2:
            return []
        found = [self.method_of(cls, name) for cls in classes]
        return [m for i, m in enumerate(found) if m is not None and all(m is not o for o in found[:i])]

    def instantiation_sites(self, cls: ClassFacts) -> List[Tuple[Scope, cst.Call]]:
        """Every `Cls(...)` call of the project (indexed once per run)."""
        if self._instantiations is None:
            index: Dict[int, List[Tuple[Scope, cst.Call]]] = {}
            for m in self.modules:
                for s in m.scopes:
                    for call in s.calls:
                        callee = self.resolve_callee(call.func, s)
                        if isinstance(callee, ClassFacts):
                            index.setdefault(id(callee), []).append((s, call))
            self._instantiations = index
        return self._instantiations.get(id(cls), [])

    def resolved_calls(self) -> List[Tuple[Scope, cst.Call, Symbol]]:
        """Every call site of the project whose callee is a project class or function, with
        that callee (each call resolved once per run, for all the indexes built from it).
        `obj.method()` calls are set aside by method name for `callers`."""
        if self._resolved is None:
            out: List[Tuple[Scope, cst.Call, Symbol]] = []
            methods = self.method_names()
            for m in self.modules:
                for s in m.scopes:
                    for call in s.calls:
                        f = call.func
                        if (
                            isinstance(f, cst.Attribute)
                            and f.attr.value in methods
                            and m.qualify(f) is None
                            and dotted(f.value) != "self"
                        ):
                            self._typed.setdefault(f.attr.value, []).append((s, call))
                            continue
                        callee = self.resolve_callee(f, s)
                        if callee is not None:
                            out.append((s, call, callee))
            self._resolved = out
        return self._resolved


def enclosing_class(scope: Scope) -> Optional[ClassFacts]:
    s: Optional[Scope] = scope
    while s is not None:
        if s.cls is not None:
            return s.cls
        s = s.parent
    return None


def _bound_in(scope: Scope, name: str) -> bool:
    """`name` is assigned or a parameter in `scope` or a scope around it (then a star import
    does not give it)."""
    s: Optional[Scope] = scope
    while s is not None:
        if name in s.bindings or name in s.params:
            return True
        s = s.parent
    return False


def _stub(fn: Scope) -> bool:
    """A method whose body only marks a slot for subclasses: `pass`, `...`, a docstring, or a
    `raise`/`return` of `NotImplementedError`."""
    node = fn.node
    if not isinstance(node, cst.FunctionDef) or not isinstance(node.body, cst.IndentedBlock):
        return False
    for stmt in node.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            return False
        for small in stmt.body:
            if isinstance(small, (cst.Pass, cst.Raise, cst.Return)):
                if isinstance(small, cst.Pass):
                    continue
                value = small.exc if isinstance(small, cst.Raise) else small.value
                if value is None or "NotImplemented" not in (
                    dotted(value.func if isinstance(value, cst.Call) else value) or ""
                ):
                    return False
            elif isinstance(small, cst.Expr) and isinstance(
                small.value, (cst.SimpleString, cst.ConcatenatedString, cst.Ellipsis)
            ):
                continue
            else:
                return False
    return True
